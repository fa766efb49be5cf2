"""Injury-listing role / state and the game-time-decision worlds, on real dbt builds of the synthetic league
(the `world` fixture: one season, its store, the gold mart built at a 30-minute lead).

- status_role / status_state of both marts against a pandas recomputation of their definitions
  (models/marts/_features_minutes_v1__columns.md) from the store's deduplicated box scores, games and injury rows;
- features_minutes_v1_live_scenarios: the live mart's columns plus the scenario keys, the worlds of every
  team-game with QUESTIONABLE / DOUBTFUL players, rows equal to the as-reported ones except where a teammate's
  status enters, and a world with GTD player g OUT equal to the live mart built on a store whose report says so.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from minutes_live.pipeline import history
from minutes_live.pipeline.live_build import GOLD_MART, LIVE_MART, SCENARIOS_MART
from minutes_live.pipeline.live_gold_parity import values_equal

pytestmark = pytest.mark.slow

KEYS = ["game_id", "player_id", "team_id"]
SCENARIO_COLUMNS = ["scenario_id", "scenario_gtd_player_ids", "scenario_out_player_ids"]
# columns that read the teammates' statuses (int_features team_counts / assembled)
TEAMMATE_COLUMNS = ["available_B", "available_G", "available_W", "depth_same_pos_active", "same_archetype_overlap",
                    "vac_min_szn", "vac_min_guard_szn", "vac_min_wing_szn", "vac_min_big_szn"]
# columns that read the row's own status
OWN_STATUS_COLUMNS = ["status", "prior_play_prob", "is_out", "is_q", "is_prob"]
GTD = ("QUESTIONABLE", "DOUBTFUL")


def _params(world) -> dict:
    return {"target_date": world["day"].isoformat(), "run_as_of_ts": world["as_of"].isoformat(), "build_gold": False,
            "allow_missing_odds": True, "allow_missing_injuries": True}


def _read(db: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("set time zone 'UTC'")
        return con.execute(sql).df()
    finally:
        con.close()


@pytest.fixture(scope="module")
def store(world, tmp_path_factory) -> Path:
    """A copy of the world's store (gold mart built) with the live slate built on it."""
    db = tmp_path_factory.mktemp("scenarios") / "store.duckdb"
    shutil.copyfile(world["env"]["MINUTES_LIVE_DUCKDB"], db)
    history.build("live", _params(world), db_path=db)
    return db


# --- part 1: status_role / status_state -----------------------------------------------------------------


def _expected_listing(db: Path, rows: pd.DataFrame, lead_minutes: int, history_days: int = 365,
                      max_age_hours: float = 36) -> pd.DataFrame:
    """status_role / status_state of `rows` (keys, cutoff_ts, status) recomputed in pandas."""
    box = _read(db, "select game_id, player_id, team_id, minutes, available_ts, tip_ts, is_rotation_eligible "
                    "from int_box_scores_deduped")
    games = _read(db, "select game_id, tip_ts from int_games")
    injuries = _read(db, "select game_id, player_id, team_id, status, snapshot_ts, ingested_at, content_hash "
                         "from stg_raw__injuries where player_id is not null and is_player_status")
    assert injuries["game_id"].notna().all()  # the synthetic report always names its game

    # role: the mean clipped minutes (DNP-CD = 0) of the player's last <= 15 eligible games known at the cutoff
    eligible = box[box["is_rotation_eligible"]].sort_values(["player_id", "available_ts", "game_id", "team_id"])
    by_player = {p: g for p, g in eligible.groupby("player_id")}
    roles = []
    for r in rows.itertuples():
        g = by_player.get(r.player_id)
        mean = np.nan
        if g is not None:
            known = g[g["available_ts"] <= r.cutoff_ts].tail(15)
            known = known[known["tip_ts"] >= r.cutoff_ts - timedelta(days=history_days)]
            if len(known):
                mean = known["minutes"].clip(0, 48).fillna(0).mean()
        roles.append("rotation" if mean >= 20 else "bench")

    # the team's previous game: its latest game whose box score is known at the cutoff
    team_games = (box.groupby(["game_id", "team_id"], as_index=False)["available_ts"].min()
                  .sort_values(["team_id", "available_ts", "game_id"]))
    by_team = {t: g for t, g in team_games.groupby("team_id")}
    prev = []
    for r in rows.itertuples():
        g = by_team[r.team_id]
        known = g[g["available_ts"] <= r.cutoff_ts]
        prev.append(known["game_id"].iloc[-1] if len(known) else None)

    # listed on the previous game's report at its own cutoff tip - lead (newest row per player within the max
    # age; a row older than the team's newest selected report is superseded; status UNK is not a listing)
    tips = games.set_index("game_id")["tip_ts"]
    listed: set[tuple[int, int]] = set()
    for game_id in {p for p in prev if p is not None}:
        cutoff = tips[game_id] - timedelta(minutes=lead_minutes)
        q = injuries[(injuries["game_id"] == game_id) & (injuries["snapshot_ts"] <= cutoff)
                     & (injuries["snapshot_ts"] >= cutoff - timedelta(hours=max_age_hours))]
        q = q.sort_values(["snapshot_ts", "ingested_at", "content_hash"], ascending=[False, False, True])
        q = q.drop_duplicates("player_id")
        newest = q.groupby("team_id")["snapshot_ts"].transform("max")
        q = q[(q["snapshot_ts"] >= newest) & (q["status"] != "UNK")]
        listed |= {(game_id, p) for p in q["player_id"]}
    played = {(g, p, t) for g, p, t, m in box[["game_id", "player_id", "team_id", "minutes"]].itertuples(index=False)
              if m > 0}
    states = []
    for r, pg in zip(rows.itertuples(), prev, strict=True):
        if r.status != "UNK" and (pg is None or (pg, r.player_id) not in listed):
            states.append("first")
        elif pg is not None and (pg, r.player_id, r.team_id) in played:
            states.append("played")
        else:
            states.append("missed")
    return rows.assign(expected_role=roles, expected_state=states)


def _check_listing(db: Path, mart: str, lead_minutes: int, where: str = "") -> pd.DataFrame:
    rows = _read(db, f"select game_id, player_id, team_id, cutoff_ts, status, status_role, status_state "
                     f"from {mart} {where}")
    assert len(rows)
    got = _expected_listing(db, rows, lead_minutes)
    wrong_role = got[got["status_role"] != got["expected_role"]]
    wrong_state = got[got["status_state"] != got["expected_state"]]
    assert wrong_role.empty, wrong_role.head()
    assert wrong_state.empty, wrong_state.head()
    return got


def test_live_status_role_and_state_match_a_pandas_recomputation(store):
    got = _check_listing(store, LIVE_MART, lead_minutes=60)
    assert set(got["status_role"]) == {"rotation", "bench"}
    assert {"first", "played", "missed"} <= set(got["status_state"])
    assert (got.loc[got["status"] == "UNK", "status_state"] != "first").all()


def test_gold_status_role_and_state_match_a_pandas_recomputation(store):
    # the world's gold mart was built at a 30-minute lead; its last 20 dates (every state occurs)
    got = _check_listing(store, GOLD_MART, lead_minutes=30,
                         where=f"where game_date >= (select max(game_date) - 20 from {GOLD_MART})")
    assert {"first", "played", "missed"} <= set(got["status_state"])
    assert {"rotation", "bench"} <= set(got["status_role"])


# --- part 2: the game-time-decision worlds --------------------------------------------------------------


def _marts(db: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    live = _read(db, f"select * from {LIVE_MART} order by game_id, team_id, player_id")
    worlds = _read(db, f"select * from {SCENARIOS_MART} order by scenario_id, game_id, team_id, player_id")
    return live, worlds


def _gtd_ranked(team_rows: pd.DataFrame) -> list[int]:
    gtd = team_rows[team_rows["status"].isin(GTD)].copy()
    gtd["no_history"] = gtd["roll_mean_10"].isna()
    gtd = gtd.sort_values(["no_history", "roll_mean_10", "player_id"], ascending=[True, False, True])
    return [int(p) for p in gtd["player_id"].head(3)]


def test_scenario_mart_has_the_live_columns_and_every_world(store):
    live, worlds = _marts(store)
    assert list(worlds.columns) == [*live.columns, *SCENARIO_COLUMNS]
    for col in live.columns:
        assert str(worlds[col].dtype) == str(live[col].dtype), col
    assert str(worlds["scenario_id"].dtype) == "int64"
    assert len(worlds) > 0
    assert not worlds.duplicated(["scenario_id", "game_id", "player_id"]).any()

    team_games = live.groupby(["game_id", "team_id"])
    with_gtd = {key for key, rows in team_games if rows["status"].isin(GTD).any()}
    assert set(map(tuple, worlds[["game_id", "team_id"]].drop_duplicates().itertuples(index=False))) == with_gtd
    for (game_id, team_id), rows in worlds.groupby(["game_id", "team_id"]):
        base = team_games.get_group((game_id, team_id))
        ranked = _gtd_ranked(base)
        k = len(ranked)
        assert 1 <= k <= 3
        assert set(rows["scenario_id"]) == set(range(2 ** k))
        assert set(rows["scenario_gtd_player_ids"]) == {",".join(map(str, ranked))}
        for scenario_id, world in rows.groupby("scenario_id"):
            out = [p for r, p in enumerate(ranked) if scenario_id >> r & 1]
            assert set(world["scenario_out_player_ids"]) == {",".join(map(str, out))}
            assert sorted(world["player_id"]) == sorted(base["player_id"])  # the whole team, nobody else
            merged = base.merge(world, on=KEYS, suffixes=("_base", "_world"))
            assert len(merged) == len(base)
            gtd_rows = merged["player_id"].isin(ranked)
            own = merged.loc[gtd_rows].set_index("player_id")["status_world"]
            assert own.to_dict() == {p: ("OUT" if p in out else "AVAILABLE") for p in ranked}
            # every column that does not read a teammate's status equals the as-reported row; the own-status
            # columns too, except for the GTD players themselves
            for col in live.columns:
                if col in KEYS or col in TEAMMATE_COLUMNS:
                    continue
                rows_checked = ~gtd_rows if col in OWN_STATUS_COLUMNS else slice(None)
                eq = values_equal(merged.loc[rows_checked, f"{col}_base"], merged.loc[rows_checked, f"{col}_world"])
                assert eq.all(), (col, scenario_id, game_id, team_id)
            if scenario_id == 0:
                # everybody cleared: QUESTIONABLE and DOUBTFUL players both count as available as reported
                for col in ("available_B", "available_G", "available_W", "depth_same_pos_active"):
                    assert (merged[f"{col}_base"] == merged[f"{col}_world"]).all(), col


def test_a_world_with_g_out_equals_the_report_saying_g_is_out(store, world, tmp_path):
    """In the world where only the rank-1 GTD player g is OUT (scenario 1), the team's rows equal the live
    mart built on a store whose injury report lists g OUT and the other GTD players AVAILABLE (cleared)."""
    live, worlds = _marts(store)
    counts = worlds.groupby(["game_id", "team_id"])["scenario_id"].max()
    game_id, team_id = counts.sort_values(ascending=False).index[0]  # the team-game with the most GTD players
    ranked = _gtd_ranked(live[(live["game_id"] == game_id) & (live["team_id"] == team_id)])
    g, cleared = ranked[0], ranked[1:]
    scenario = worlds[(worlds["game_id"] == game_id) & (worlds["team_id"] == team_id) & (worlds["scenario_id"] == 1)]
    assert scenario["scenario_out_player_ids"].iloc[0] == str(g)

    db = tmp_path / "g_out.duckdb"
    shutil.copyfile(store, db)
    con = duckdb.connect(str(db))
    try:
        changed = con.execute("update raw.injuries set status_raw = 'Out' where game_id = ? and player_id = ?",
                              [int(game_id), g]).fetchone()[0]
        for p in cleared:
            con.execute("update raw.injuries set status_raw = 'Available' where game_id = ? and player_id = ?",
                        [int(game_id), p])
    finally:
        con.close()
    assert changed > 0
    history.build("live", _params(world), db_path=db)
    rebuilt, rebuilt_worlds = _marts(db)
    reported = rebuilt[(rebuilt["game_id"] == game_id) & (rebuilt["team_id"] == team_id)].reset_index(drop=True)
    assert reported.loc[reported["player_id"] == g, "status"].tolist() == ["OUT"]
    assert not ((rebuilt_worlds["game_id"] == game_id) & (rebuilt_worlds["team_id"] == team_id)).any()

    merged = reported.merge(scenario, on=KEYS, suffixes=("_report", "_world"))
    assert len(merged) == len(reported) == len(scenario)
    for col in live.columns:
        if col in KEYS:
            continue
        eq = values_equal(merged[f"{col}_report"], merged[f"{col}_world"])
        assert eq.all(), (col, merged.loc[~eq, ["player_id", f"{col}_report", f"{col}_world"]])
    # g's absence reached his teammates: somebody's availability or vacated minutes moved from the base rows
    base = live[(live["game_id"] == game_id) & (live["team_id"] == team_id)].merge(scenario, on=KEYS,
                                                                                    suffixes=("_base", "_world"))
    teammates = base["player_id"] != g
    moved = pd.Series(False, index=base.index)
    for col in TEAMMATE_COLUMNS:
        moved |= ~values_equal(base[f"{col}_base"], base[f"{col}_world"])
    assert moved[teammates].any()


# --- the worlds scored and published (scoring/worlds.py) -----------------------------------------------------


@pytest.fixture(scope="module")
def published(world, store, tmp_path_factory):
    """The scheduled job on a copy of the world's store, in roots of its own: features, scores with
    scenarios.parquet, reports, registry."""
    from minutes_live.pipeline.job import run_job
    from minutes_live.pipeline.live_build import LiveBuildConfig

    root = tmp_path_factory.mktemp("worlds_job")
    db = root / "data" / "wh.duckdb"
    db.parent.mkdir(parents=True)
    shutil.copyfile(world["env"]["MINUTES_LIVE_DUCKDB"], db)
    env = {"MINUTES_LIVE_DATA_ROOT": str(root / "data"), "MINUTES_LIVE_DUCKDB": str(db),
           "MINUTES_LIVE_ARTIFACTS": str(root / "artifacts"), "MINUTES_LIVE_REPORTS": str(root / "reports")}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        cfg = LiveBuildConfig(day=world["day"], run_as_of_ts=world["as_of"], source="synthetic",
                              dataset_dir=world["league"], allow_missing_odds=True)
        result = run_job(cfg, job="worlds", bundle_config=world["config"])
        yield {"result": result, "env": env, "day": world["day"]}


def test_published_worlds_are_consistent_and_sum_to_the_target(published, world) -> None:
    from scoring.active_bundle import resolve_bundle_dir
    from scoring.bundle import load_bundle

    result = published["result"]
    bundle = load_bundle(resolve_bundle_dir(world["config"]))
    target = bundle.reconcile["target_minutes"]
    minutes = pd.read_parquet(result.scores_dir / "minutes.parquet")
    worlds = pd.read_parquet(result.scores_dir / "scenarios.parquet")
    features = pd.read_parquet(result.features_dir / "features.parquet")
    listed = features[features["status"].isin(GTD)]
    assert len(listed) > 0 and len(worlds) > 0
    # the as-reported GTD players (up to 3 per team) each have both worlds for every teammate
    assert set(worlds["gtd_player_id"]) <= set(listed["player_id"])
    assert set(worlds["world"]) == {"sits", "plays"}
    # every team-game's expected minutes sum to the bundle's target, worlds or not; p50 never above if-plays p50
    sums = minutes[minutes["status"] != "OUT"].groupby(["game_id", "team_id"])["minutes_mean"].sum()
    assert (sums - target).abs().max() < 0.05
    assert (minutes["minutes_p50"] <= minutes["minutes_if_play_p50"] + 1e-9).all()
    # two-world consistency: what the teammates gain when he sits is what he plays when he plays
    for g, part in worlds.groupby("gtd_player_id"):
        sits = part[part["world"] == "sits"].set_index("player_id")["minutes_mean"]
        plays = part[part["world"] == "plays"].set_index("player_id")["minutes_mean"]
        gained = (sits.drop(index=g) - plays.drop(index=g)).sum()
        assert gained == pytest.approx(plays[g], abs=0.5), g
        assert sits[g] == 0.0
    # a doubtful player plays rarely (measured rates), a questionable one in between
    gtd_rows = minutes.merge(listed[["game_id", "player_id"]], on=["game_id", "player_id"])
    doubtful = gtd_rows[gtd_rows["status"] == "DOUBTFUL"]
    assert (doubtful["play_prob"] <= 0.15).all()
    summary = json.loads((result.scores_dir / "summary.json").read_text())
    assert summary["game_time_decisions"]["players"] == worlds["gtd_player_id"].nunique()
    assert all(t["raw_mean_sum"] is not None and t["adjustment"] is not None
               for t in summary["team_minutes"]["teams"])


def test_runs_show_and_export_surface_the_worlds(published, monkeypatch) -> None:
    from typer.testing import CliRunner

    from minutes_live.cli.app import app

    for k, v in published["env"].items():
        monkeypatch.setenv(k, v)
    worlds = pd.read_parquet(published["result"].scores_dir / "scenarios.parquet")
    g = int(worlds["gtd_player_id"].iloc[0])
    day = published["day"].isoformat()
    runner = CliRunner()
    shown = runner.invoke(app, ["runs", "show", "latest", "--date", day])
    assert shown.exit_code == 0, shown.output
    assert "game-time decisions" in shown.output and str(g) in shown.output
    one = runner.invoke(app, ["runs", "show", "latest", "--date", day, "--gtd", str(g)])
    assert one.exit_code == 0, one.output
    assert "if he sits" in one.output and "teammates gain" in one.output
    bad = runner.invoke(app, ["runs", "show", "latest", "--date", day, "--gtd", "12345"])
    assert bad.exit_code == 2 and "not a game-time decision" in bad.output
    exported = runner.invoke(app, ["runs", "export", "latest", "--date", day, "--scenarios", "--format", "csv"])
    assert exported.exit_code == 0, exported.output
    lines = [ln for ln in exported.output.splitlines() if ln.strip()]
    assert lines[0].startswith("game_id,team_id,team_tricode,gtd_player_id")
    assert len(lines) == len(worlds) + 1
