from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from snapshots_ingest.live.player_matching import NameMatch, RosterPlayer, match_injury_rows, match_name

ROSTER = [
    RosterPlayer(1, "1", "Jaime Jaquez Jr."),
    RosterPlayer(2, "2", "Nikola Jović"),
    RosterPlayer(3, "3", "D'Angelo Russell"),
    RosterPlayer(4, "4", "Robert Williams III"),
    RosterPlayer(5, "5", "E.J. Liddell"),
    RosterPlayer(6, "6", "Kelly Oubre Jr."),
    RosterPlayer(7, "7", "Cameron Johnson"),
    RosterPlayer(8, "8", "Keldon Johnson"),
    RosterPlayer(9, "9", "Nicolas Claxton"),
]


@pytest.mark.parametrize(
    ("report_name", "player_id", "method"),
    [
        ("Jaquez Jr., Jaime", 1, "exact"),
        ("Jovic, Nikola", 2, "exact"),  # accent folded
        ("Russell, D'Angelo", 3, "exact"),  # apostrophe
        ("Williams, Robert", 4, "suffix"),  # roster has III, report none
        ("Oubre, Kelly", 6, "suffix"),
        ("Williams III, Robert", 4, "exact"),
        ("Liddell, EJ", 5, "exact"),
        ("Liddell, E. J.", 5, "compact"),
        ("Claxton, Nic", 9, "last_initial"),  # nickname: unique last name + initial
    ],
)
def test_report_names_match_the_roster_player(report_name: str, player_id: int, method: str):
    result = match_name(report_name, ROSTER)
    assert isinstance(result, NameMatch)
    assert (result.player.player_id, result.method) == (player_id, method)


def test_two_players_fitting_the_fallback_are_not_guessed():
    result = match_name("Johnson, K.", ROSTER + [RosterPlayer(10, "10", "Kevin Johnson")])
    assert isinstance(result, str) and "ambiguous" in result


def test_unknown_name_says_why():
    assert match_name("Nobody, Some", ROSTER) == "no roster player of this team has this name"


def test_match_injury_rows_fills_ids_and_reports_every_miss():
    injuries = pd.DataFrame(
        {
            "game_date": [date(2026, 2, 8)] * 4,
            "team_tricode": ["MIA", "MIA", "MIA", "WAS"],
            "player_name": ["Jaquez Jr., Jaime", "Ghost, Casper", None, "Exum, Dante"],
            "player_id": [None] * 4,
            "source_player_id": [None] * 4,
        }
    )
    roster = pd.DataFrame(
        {
            "game_date": [date(2026, 2, 7), date(2026, 2, 9)],  # only the earlier date may be used
            "team_tricode": ["MIA", "WAS"],
            "player_id": [1, 2],
            "source_player_id": ["1", "2"],
            "player_name": ["Jaime Jaquez Jr.", "Dante Exum"],
        }
    )
    out, unmatched = match_injury_rows(injuries, roster)
    assert out["player_id"].tolist()[0] == 1
    assert out["player_id"].isna().tolist()[1:] == [True, True, True]
    assert [(u.report_name, u.team_tricode) for u in unmatched] == [
        ("Ghost, Casper", "MIA"),
        ("Exum, Dante", "WAS"),
    ]
    assert unmatched[1].why == "no roster players for this team and date"
