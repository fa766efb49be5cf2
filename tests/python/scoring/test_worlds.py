"""Game-time decisions as worlds (scoring/worlds.py), scored by a trained bundle: the published teammates are
the mixture of the worlds, the team still sums to its target, and what a GTD player's teammates gain when he
sits is what he plays when he plays."""

from __future__ import annotations

from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.bundle import load_bundle
from scoring.status import clearance_probability
from scoring.worlds import GTD_IDS, OUT_IDS, WorldsError, score_slate


def with_worlds(slate: pd.DataFrame, gtds: dict[int, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The slate with `gtds` (player -> QUESTIONABLE / DOUBTFUL) listed, and their team's 2^K worlds, built as
    dbt's scenario mart builds them (each GTD OUT or AVAILABLE; here only the status changes)."""
    base = slate.copy()
    for pid, status in gtds.items():
        base.loc[base["player_id"] == pid, "status"] = status
        base.loc[base["player_id"] == pid, "status_role"] = "rotation"
        base.loc[base["player_id"] == pid, "status_state"] = "played"
    team = base.loc[base["player_id"] == next(iter(gtds)), ["game_id", "team_id"]].iloc[0]
    rows = base[(base["game_id"] == team["game_id"]) & (base["team_id"] == team["team_id"])]
    ids = list(gtds)
    worlds = []
    for scenario_id, bits in enumerate(product((False, True), repeat=len(ids))):
        w = rows.copy()
        out = [pid for pid, is_out in zip(ids, bits, strict=True) if is_out]
        for pid, is_out in zip(ids, bits, strict=True):
            w.loc[w["player_id"] == pid, "status"] = "OUT" if is_out else "AVAILABLE"
            w.loc[w["player_id"] == pid, "is_out"] = int(is_out)
        w["scenario_id"] = scenario_id
        w[GTD_IDS] = ",".join(map(str, ids))
        w[OUT_IDS] = ",".join(map(str, out))
        worlds.append(w)
    return base, pd.concat(worlds, ignore_index=True)


@pytest.fixture(scope="module")
def slate(features: pd.DataFrame) -> pd.DataFrame:
    last = sorted(features["game_date"].unique())[-1]
    frame = features[features["game_date"] == last].reset_index(drop=True)
    frame.loc[frame["status"] != "OUT", "status"] = "UNK"
    return frame


def starters(slate: pd.DataFrame, k: int) -> list[int]:
    first = slate[(slate["game_id"] == slate["game_id"].min()) & (slate["status"] != "OUT")]
    first = first[first["team_id"] == first["team_id"].min()]
    return first.sort_values("roll_mean_10", ascending=False)["player_id"].head(k).astype(int).tolist()


def test_one_gtd_two_worlds_are_consistent(bundle_dir: Path, slate: pd.DataFrame) -> None:
    bundle = load_bundle(bundle_dir)
    g = starters(slate, 1)[0]
    base, worlds = with_worlds(slate, {g: "QUESTIONABLE"})
    published, table = score_slate(bundle, base, worlds)
    assert list(published[["game_id", "player_id"]].itertuples(index=False)) == \
        list(base[["game_id", "player_id"]].itertuples(index=False))
    team = published["team_id"] == published.loc[published["player_id"] == g, "team_id"].iloc[0]
    team &= published["game_id"] == published.loc[published["player_id"] == g, "game_id"].iloc[0]
    target = bundle.reconcile["target_minutes"]
    assert published.loc[team, "minutes_mean"].sum() == pytest.approx(target, abs=0.05)

    sits = table[(table["gtd_player_id"] == g) & (table["world"] == "sits")].set_index("player_id")
    plays = table[(table["gtd_player_id"] == g) & (table["world"] == "plays")].set_index("player_id")
    mates = [p for p in sits.index if p != g]
    gained = sits.loc[mates, "minutes_mean"].sum() - plays.loc[mates, "minutes_mean"].sum()
    assert gained > 1.0
    assert gained == pytest.approx(plays.loc[g, "minutes_mean"], abs=0.5)
    assert sits.loc[g, "minutes_mean"] == 0 and sits.loc[g, "play_prob"] == 0

    # the published teammate is the mixture of the two worlds with the GTD's P(cleared)
    r = float(clearance_probability(base[base["player_id"] == g])[0])
    assert plays["world_prob"].iloc[0] == pytest.approx(r) and sits["world_prob"].iloc[0] == pytest.approx(1 - r)
    pub = published.set_index("player_id")
    for p in mates:
        mixed = r * plays.loc[p, "minutes_mean"] + (1 - r) * sits.loc[p, "minutes_mean"]
        assert pub.loc[p, "minutes_mean"] == pytest.approx(mixed, abs=1e-9)
        lo, hi = sorted((plays.loc[p, "minutes_p50"], sits.loc[p, "minutes_p50"]))
        assert lo - 1e-6 <= pub.loc[p, "minutes_p50"] <= hi + 1e-6
        assert pub.loc[p, "minutes_p50"] <= pub.loc[p, "minutes_if_play_p50"] + 1e-6
    assert pub.loc[g, "status"] == "QUESTIONABLE"
    assert pub.loc[g, "play_prob"] == pytest.approx(r * plays.loc[g, "play_prob"], rel=1e-9)


def test_two_gtds_four_worlds_and_other_teams_untouched(bundle_dir: Path, slate: pd.DataFrame) -> None:
    bundle = load_bundle(bundle_dir)
    g1, g2 = starters(slate, 2)
    base, worlds = with_worlds(slate, {g1: "QUESTIONABLE", g2: "DOUBTFUL"})
    assert worlds["scenario_id"].nunique() == 4
    published, table = score_slate(bundle, base, worlds)
    alone = bundle.predict(base)
    team = (base["team_id"] == base.loc[base["player_id"] == g1, "team_id"].iloc[0]).to_numpy()
    team = team & (base["game_id"] == base.loc[base["player_id"] == g1, "game_id"].iloc[0]).to_numpy()
    for col in ("play_prob", "minutes_mean", "minutes_p10", "minutes_p50", "minutes_p90"):
        assert np.allclose(published.loc[~team, col], alone.loc[~team, col])
    assert set(table["gtd_player_id"]) == {g1, g2} and set(table["world"]) == {"sits", "plays"}
    assert published.loc[team, "minutes_mean"].sum() == pytest.approx(bundle.reconcile["target_minutes"], abs=0.05)
    doubtful = published.set_index("player_id").loc[g2]
    assert doubtful["play_prob"] <= 0.15  # 0.12 / 0.99 x the model's probability


def test_worlds_that_do_not_match_the_slate_are_refused(bundle_dir: Path, slate: pd.DataFrame) -> None:
    g = starters(slate, 1)[0]
    base, worlds = with_worlds(slate, {g: "QUESTIONABLE"})
    with pytest.raises(WorldsError, match="does not hold the team's players"):
        score_slate(load_bundle(bundle_dir), base, worlds.iloc[1:])
