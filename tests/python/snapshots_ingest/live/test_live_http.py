"""Live sources against a real HTTP server on localhost: faults end in success or a clear error."""

from __future__ import annotations

import json
import time
from datetime import date, datetime
from pathlib import Path

import pytest
from werkzeug import Request, Response

from foundation.clock import LEAGUE_TZ
from snapshots_ingest.live.http_client import USER_AGENT, HttpClient, SourceError
from snapshots_ingest.live.injury_report_pdf import InjuryReportParseError
from snapshots_ingest.live.sources import UNMATCHED_ATTR, live_extracts
from snapshots_ingest.raw_store import validate_frame

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
PDF = (FIXTURES / "injury_pdfs" / "Injury-Report_2026-02-08_03_30PM.pdf").read_bytes()
SLATE = date(2026, 2, 8)
AS_OF = datetime(2026, 2, 8, 15, 40, tzinfo=LEAGUE_TZ)
SCHEDULE_PATH = "/static/json/staticData/scheduleLeagueV2.json"
TEAM_IDS = {"MIA": 1610612748, "WAS": 1610612764, "IND": 1610612754, "TOR": 1610612761}


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / "nba_json" / name).read_bytes()


def serve_schedule(httpserver) -> None:
    httpserver.expect_request(SCHEDULE_PATH).respond_with_data(
        fixture_bytes("scheduleLeagueV2.json"), content_type="application/json"
    )


def serve_rosters(httpserver) -> None:
    empty = json.loads(fixture_bytes("roster_MIA.json"))
    empty["resultSets"][0]["rowSet"] = []
    for code, team_id in TEAM_IDS.items():
        body = fixture_bytes(f"roster_{code}.json") if code in ("MIA", "WAS") else json.dumps(empty).encode()
        httpserver.expect_request(
            "/stats/commonteamroster",
            query_string={"LeagueID": "00", "Season": "2025-26", "TeamID": str(team_id)},
        ).respond_with_data(body, content_type="application/json")


def slot_path(name: str) -> str:
    return f"/referee/injury/{name}"


def test_schedule_extract_parses_into_raw_rows(httpserver, fast_config):
    httpserver.expect_request(
        SCHEDULE_PATH, headers={"User-Agent": f"{USER_AGENT} ops@example.org"}
    ).respond_with_data(fixture_bytes("scheduleLeagueV2.json"))
    [extract] = live_extracts("schedule", SLATE, AS_OF, fast_config)
    frame = extract.parse(extract.payload)
    validate_frame("schedule", frame)
    assert (extract.kind, extract.filename, len(frame)) == ("schedule", "schedule.json", 2)
    assert extract.origin.endswith(SCHEDULE_PATH)


def test_5xx_then_success_is_retried(httpserver, fast_config):
    httpserver.expect_oneshot_request(SCHEDULE_PATH).respond_with_data("busy", status=503)
    httpserver.expect_oneshot_request(SCHEDULE_PATH).respond_with_data("oops", status=502)
    serve_schedule(httpserver)
    [extract] = live_extracts("schedule", SLATE, AS_OF, fast_config)
    assert len(extract.parse(extract.payload)) == 2
    assert len(httpserver.log) == 3


def test_persistent_5xx_names_source_and_url(httpserver, fast_config):
    httpserver.expect_request(SCHEDULE_PATH).respond_with_data("down", status=500)
    with pytest.raises(SourceError, match=r"nba_schedule: .*500.*scheduleLeagueV2\.json") as err:
        live_extracts("schedule", SLATE, AS_OF, fast_config)
    assert err.value.url.endswith(SCHEDULE_PATH)
    assert len(httpserver.log) == fast_config.retries + 1


def test_timeout_is_retried_then_reported(httpserver, fast_config):
    def slow(_: Request) -> Response:
        time.sleep(fast_config.read_timeout_s + 0.3)
        return Response("late")

    httpserver.expect_request(SCHEDULE_PATH).respond_with_handler(slow)
    with pytest.raises(SourceError, match=r"nba_schedule: timed out.*scheduleLeagueV2\.json"):
        live_extracts("schedule", SLATE, AS_OF, fast_config)


def test_connection_refused_names_the_url(fast_config):
    config = fast_config.model_copy(update={"schedule_url": "http://127.0.0.1:9/schedule.json"})
    with pytest.raises(SourceError, match=r"nba_schedule: connection failed.*127\.0\.0\.1:9/schedule\.json"):
        live_extracts("schedule", SLATE, AS_OF, config)


def test_truncated_json_is_a_clear_parse_error(httpserver, fast_config):
    body = fixture_bytes("scheduleLeagueV2.json")
    httpserver.expect_request(SCHEDULE_PATH).respond_with_data(body[: len(body) // 2])
    [extract] = live_extracts("schedule", SLATE, AS_OF, fast_config)
    with pytest.raises(SourceError, match=r"nba_schedule: body is not valid JSON.*scheduleLeagueV2\.json"):
        extract.parse(extract.payload)


def test_roster_with_renamed_field_fails_naming_it(httpserver, fast_config):
    serve_schedule(httpserver)
    renamed = fixture_bytes("roster_MIA.json").replace(b'"PLAYER"', b'"PLAYER_NAME"')
    httpserver.expect_request("/stats/commonteamroster").respond_with_data(renamed)
    extracts = live_extracts("roster", SLATE, AS_OF, fast_config)
    assert len(extracts) == 4  # two games, two teams each
    with pytest.raises(SourceError, match=r"nba_roster: .*\['PLAYER'\].*commonteamroster\?"):
        extracts[0].parse(extracts[0].payload)


def test_injuries_skip_403_and_404_slots_and_match_names(httpserver, fast_config):
    httpserver.expect_request(slot_path("Injury-Report_2026-02-08_03_30PM.pdf")).respond_with_data(
        "denied", status=403
    )
    httpserver.expect_request(slot_path("Injury-Report_2026-02-08_03_15PM.pdf")).respond_with_data(
        PDF, content_type="application/pdf"
    )
    serve_schedule(httpserver)
    serve_rosters(httpserver)
    [extract] = live_extracts("injuries", SLATE, AS_OF, fast_config)
    assert extract.filename == "Injury-Report_2026-02-08_03_15PM.pdf" and extract.payload == PDF
    frame = extract.parse(extract.payload)
    validate_frame("injuries", frame)
    assert set(frame["game_date"]) == {SLATE}  # the slate's games only
    assert set(frame.loc[frame["matchup"] == "MIA@WAS", "game_id"]) == {22500765}
    named = frame[frame["player_name"].notna()].set_index("player_name")
    assert named.loc["Jaquez Jr., Jaime", "source_player_id"] == "9900005"
    assert named.loc["Jakucionis, Kasparas", "source_player_id"] == "9900004"  # roster spells Jakučionis
    unmatched = frame.attrs[UNMATCHED_ATTR]
    assert int(named["player_id"].isna().sum()) == len(unmatched) > 0  # every miss is reported
    assert any(u.startswith("Zubac, Ivica (IND") for u in unmatched)


def test_no_report_in_the_window_gives_no_extract(httpserver, fast_config, monkeypatch):
    monkeypatch.setattr(
        httpserver, "no_handler_status_code", 404
    )  # every other slot: 404 like the league's host
    httpserver.expect_request(slot_path("Injury-Report_2026-02-08_03_30PM.pdf")).respond_with_data(
        "", status=403
    )
    assert live_extracts("injuries", SLATE, AS_OF, fast_config) == []
    # 14:45, 15:00, 15:15, 15:30: each slot asked once (absent slots are not retried)
    assert len(httpserver.log) == 4


def test_html_error_page_served_as_pdf_is_an_error(httpserver, fast_config):
    httpserver.expect_request(slot_path("Injury-Report_2026-02-08_03_30PM.pdf")).respond_with_data(
        "<html><body>Service unavailable</body></html>", content_type="application/pdf"
    )
    with pytest.raises(
        SourceError, match=r"injury_report: body is not a PDF.*Injury-Report_2026-02-08_03_30PM\.pdf"
    ):
        live_extracts("injuries", SLATE, AS_OF, fast_config)


def test_truncated_pdf_fails_at_parse_naming_the_url(httpserver, fast_config):
    httpserver.expect_request(slot_path("Injury-Report_2026-02-08_03_30PM.pdf")).respond_with_data(
        PDF[:20000]
    )
    serve_schedule(httpserver)
    serve_rosters(httpserver)
    [extract] = live_extracts("injuries", SLATE, AS_OF, fast_config)
    with pytest.raises(InjuryReportParseError, match=r"Injury-Report_2026-02-08_03_30PM\.pdf"):
        extract.parse(extract.payload)


def test_box_scores_one_extract_per_game(httpserver, fast_config):
    serve_schedule(httpserver)
    httpserver.expect_request("/static/json/liveData/boxscore/boxscore_0022500765.json").respond_with_data(
        fixture_bytes("boxscore_0022500765.json")
    )
    in_progress = json.loads(fixture_bytes("boxscore_0022500765.json"))
    in_progress["game"].update(gameId="0022500766", gameStatus=2)
    httpserver.expect_request("/static/json/liveData/boxscore/boxscore_0022500766.json").respond_with_json(
        in_progress
    )
    final, live = live_extracts("box_scores", SLATE, AS_OF, fast_config)
    frame = final.parse(final.payload)
    validate_frame("box_scores", frame)
    assert len(frame) == 7 and live.parse(live.payload).empty


def test_odds_from_the_configured_feed(httpserver, fast_config):
    httpserver.expect_request("/odds/2026-02-08.json").respond_with_data(
        fixture_bytes("odds_2026-02-08.json")
    )
    [extract] = live_extracts("odds", SLATE, AS_OF, fast_config)
    frame = extract.parse(extract.payload)
    validate_frame("odds", frame)
    assert len(frame) == 2
    assert live_extracts("odds", SLATE, AS_OF, fast_config.model_copy(update={"odds_url": None})) == []


def test_rate_limit_spaces_requests(httpserver, fast_config):
    httpserver.expect_request("/ping").respond_with_data("pong")
    client = HttpClient(fast_config.model_copy(update={"min_interval_s": 0.2}))
    start = time.monotonic()
    for _ in range(3):
        client.get("ping", httpserver.url_for("/ping"))
    assert time.monotonic() - start >= 0.4
