"""One store per dataset: live data, each replay dataset and the synthetic league never share a DuckDB file.

The rule (foundation/settings.py): `data/<dataset>/minutes_live.duckdb`, dataset `live` for `--source live`
(and `--source none` without `--dataset-dir`), else a slug of the dataset directory's name. An explicit
MINUTES_LIVE_DUCKDB names one file for everything; the store then records the dataset it holds
(`raw.store_meta`) and refuses another one (exit 13).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[3]
CLI = [sys.executable, "-m", "minutes_live.cli.app"]
BUILD = [sys.executable, "-c", "from minutes_live.cli.build import main; main()"]
REAL_SEASON = "2021-22"


@pytest.fixture()
def layout(tmp_path, monkeypatch) -> Path:
    """The default layout under a scratch data root (no explicit MINUTES_LIVE_DUCKDB)."""
    monkeypatch.delenv("MINUTES_LIVE_DUCKDB", raising=False)
    monkeypatch.setenv("MINUTES_LIVE_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.setenv("MINUTES_LIVE_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("MINUTES_LIVE_REPORTS", str(tmp_path / "reports"))
    return tmp_path / "data"


def test_store_path_follows_the_dataset(layout, tmp_path, monkeypatch):
    from foundation import settings
    from minutes_live.pipeline.live_build import live_config

    assert settings.dataset_name("live", None) == "live"
    assert settings.dataset_name("none", None) == "live"
    assert settings.dataset_name("replay", Path("../shared/data/nba")) == "nba"
    assert settings.dataset_name("synthetic", layout / "synthetic_league") == "synthetic_league"
    assert settings.dataset_name("replay", tmp_path / "NBA Replay 2021-22") == "nba_replay_2021_22"
    assert settings.dataset_name("replay", tmp_path / "live") != "live"  # a replay never lands in the live store
    assert settings.duckdb_path() == layout / "live" / "minutes_live.duckdb"
    assert settings.duckdb_path("nba") == layout / "nba" / "minutes_live.duckdb"

    def db_of(source, dataset_dir):
        return live_config(date="2022-01-15", run_as_of_ts="2022-01-15T23:00:00Z", source=source,
                           dataset_dir=dataset_dir).db_path

    league = tmp_path / "synthetic_league"
    league.mkdir()
    assert db_of("live", None) == layout / "live" / "minutes_live.duckdb"
    assert db_of("none", None) == layout / "live" / "minutes_live.duckdb"
    assert db_of("none", league) == layout / "synthetic_league" / "minutes_live.duckdb"
    assert db_of("synthetic", league) == layout / "synthetic_league" / "minutes_live.duckdb"

    monkeypatch.setenv("MINUTES_LIVE_DUCKDB", str(tmp_path / "one.duckdb"))  # explicit: one file for all
    assert settings.duckdb_path("nba") == tmp_path / "one.duckdb"
    assert db_of("synthetic", league) == tmp_path / "one.duckdb"


@pytest.fixture(scope="module")
def leagues(tmp_path_factory, synthetic_league) -> dict[str, Path]:
    """Two small synthetic leagues, and one more whose directory has the same name as the first."""
    root = tmp_path_factory.mktemp("leagues")
    out = {"a": root / "league_a", "b": root / "league_b", "a_twin": root / "elsewhere" / "league_a"}
    synthetic_league(out["a"], seed=3, seasons=1)
    synthetic_league(out["b"], seed=4, seasons=1)
    synthetic_league(out["a_twin"], seed=5, seasons=1)
    return out


def _ingest(league: Path, env: dict[str, str], as_of: str = "2024-01-05T20:00:00Z") -> subprocess.CompletedProcess:
    args = [*CLI, "ingest", "--source", "synthetic", "--dataset-dir", str(league), "--date", "2024-01-05",
            "--run-as-of-ts", as_of, "--kind", "schedule", "--no-progress", "--lock-timeout", "1"]
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)


def _env(tmp_path: Path, db: Path | None) -> dict[str, str]:
    env = {**os.environ, "MINUTES_LIVE_DATA_ROOT": str(tmp_path / "data"),
           "MINUTES_LIVE_ARTIFACTS": str(tmp_path / "artifacts"), "MINUTES_LIVE_REPORTS": str(tmp_path / "reports")}
    env.pop("MINUTES_LIVE_DUCKDB", None)
    if db is not None:
        env["MINUTES_LIVE_DUCKDB"] = str(db)
    return env


def test_default_layout_gives_each_dataset_its_own_store(leagues, tmp_path):
    env = _env(tmp_path, None)
    # the same instant: each dataset files its raw extracts under its own data/<dataset>/snapshots/, so two
    # datasets ingested at one instant no longer collide (they did under a shared data/live/snapshots: exit 9)
    for key in ("a", "b"):
        proc = _ingest(leagues[key], env, "2024-01-05T20:00:00Z")
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert f"in store {tmp_path / 'data' / f'league_{key}' / 'minutes_live.duckdb'} (dataset league_{key})" in proc.stdout
    data = tmp_path / "data"
    for key in ("a", "b"):
        assert list((data / f"league_{key}" / "snapshots" / "schedule" / "2024-01-05").glob("run=20240105T200000Z/*"))
    assert not (data / "live").exists()  # nothing of a replay lands in the live dataset's folder
    assert (data / "league_a" / "minutes_live.duckdb").exists() and (data / "league_b" / "minutes_live.duckdb").exists()
    assert not (data / "minutes_live.duckdb").exists()
    con = duckdb.connect(str(data / "league_a" / "minutes_live.duckdb"), read_only=True)
    try:
        assert con.execute("select dataset, dataset_path from raw.store_meta").fetchall() == [
            ("league_a", str(leagues["a"].resolve()))]
    finally:
        con.close()


@pytest.mark.parametrize("explicit", [True, False], ids=["explicit_MINUTES_LIVE_DUCKDB", "same_directory_name"])
def test_a_second_dataset_is_refused_naming_both(leagues, tmp_path, explicit):
    if explicit:  # one explicit file for everything: the store's record refuses the second dataset
        env, first, second = _env(tmp_path, tmp_path / "one.duckdb"), leagues["a"], leagues["b"]
        db = tmp_path / "one.duckdb"
    else:  # two directories named league_a map to the same default store
        env, first, second = _env(tmp_path, None), leagues["a"], leagues["a_twin"]
        db = tmp_path / "data" / "league_a" / "minutes_live.duckdb"
    assert _ingest(first, env).returncode == 0
    proc = _ingest(second, env, "2024-01-05T20:05:00Z")  # another instant: only the store can refuse it
    assert proc.returncode == 13, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    message = proc.stderr.strip()
    assert str(db) in message and str(first.resolve()) in message and str(second.resolve()) in message, message
    # building from the other dataset through that store is refused too, before any work
    build = [*BUILD, "--date", "2024-01-05", "--run-as-of-ts", "2024-01-05T20:00:00Z", "--source", "none",
             "--dataset-dir", str(second), "--out-root", str(tmp_path / "features"), "--lock-timeout", "1"]
    if not explicit:
        build += ["--data-root", str(tmp_path / "data")]
    proc = subprocess.run(build, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert proc.returncode == 13, proc.stderr[-3000:]
    assert str(second.resolve()) in proc.stderr and not (tmp_path / "features").exists()
    con = duckdb.connect(str(db), read_only=True)
    try:  # nothing of the second dataset got in: one ingest logged, the store still records the first
        assert con.execute("select count(*) from raw.ingest_log").fetchone()[0] == 1
        assert con.execute("select dataset_path from raw.store_meta").fetchall() == [(str(first.resolve()),)]
    finally:
        con.close()


def _one_real_season(real: Path, where: Path) -> Path:
    """The real dataset's files of one season (+ the later schedule-only seasons and the team crosswalk),
    linked, not copied, into a directory named like the real one. Keeps the gold build to one season."""
    where.mkdir(parents=True)
    for f in real.iterdir():
        later_schedule = f.name.startswith("schedule_") and f.stem[-7:] >= "2022_23"
        if REAL_SEASON.replace("-", "_") in f.name or later_schedule or f.name == "teams_crosswalk.parquet":
            (where / f.name).symlink_to(f)
    return where


@pytest.mark.real_data
@pytest.mark.slow
def test_gold_of_a_real_dataset_reads_only_that_dataset(layout, tmp_path, real_dataset_dir, synthetic_league):
    """The demo's synthetic league in the default layout, then gold features of real data: only real rows."""
    from minutes_live.demo import pick_slate
    from minutes_live.pipeline.gold import build_gold_features
    from snapshots_ingest.ingest import ingest_replay

    league = layout / "synthetic_league"
    synthetic_league(league, seed=3, seasons=1)  # 2023-24: on the dates of the real 2023-24 schedule
    _, as_of = pick_slate(league)
    ingest_replay(league, as_of.date(), as_of, backfill=True)  # what the demo does: default store
    real = _one_real_season(real_dataset_dir, tmp_path / "real" / "nba")

    gold = build_gold_features(real, 30)

    assert len(gold) > 0
    assert set(gold["season"]) == {REAL_SEASON}, sorted(gold["season"].unique())
    assert pd.to_datetime(gold["game_date"]).max() < pd.Timestamp("2022-07-01")
    store = layout / "nba" / "minutes_live.duckdb"
    con = duckdb.connect(str(store), read_only=True)
    try:
        namespaces = {r[0] for r in con.execute("select distinct namespace from raw.id_crosswalk where entity = 'player'").fetchall()}
        assert namespaces == {"bref"}
        assert con.execute("select dataset from raw.store_meta").fetchall() == [("nba",)]
    finally:
        con.close()
    assert (layout / "synthetic_league" / "minutes_live.duckdb").exists()


def test_every_output_root_follows_the_dataset_and_live_keeps_its_paths(layout, tmp_path):
    from foundation import settings
    from foundation.publication import Roots

    art, rep = tmp_path / "artifacts", tmp_path / "reports"
    assert settings.snapshots_root() == layout / "live" / "snapshots"  # live: today's paths
    assert settings.features_root() == layout / "live" / "features_minutes_v1"
    assert settings.scores_root() == art / "minutes_v1" / "daily"
    assert settings.live_reports_root() == rep / "minutes_live"
    assert settings.registry_root() == layout  # data/registry/minutes_live_runs.jsonl
    assert settings.snapshots_root("nba") == layout / "nba" / "snapshots"
    assert settings.features_root("nba") == layout / "nba" / "features_minutes_v1"
    assert settings.scores_root("nba") == art / "nba" / "minutes_v1" / "daily"
    assert settings.live_reports_root("nba") == rep / "nba" / "minutes_live"
    assert settings.registry_root("nba") == layout / "nba"
    assert Roots.default(dataset="nba") == Roots(layout / "nba" / "features_minutes_v1", art / "nba" / "minutes_v1" / "daily",
                                                 rep / "nba" / "minutes_live")
    # names the layout itself uses never become a dataset's directory
    for reserved in ("minutes_v1", "minutes_live", "registry", "backtest", "experiments"):
        assert settings.dataset_name("replay", tmp_path / reserved) == f"{reserved}_dataset"
    with pytest.raises(ValueError, match="invalid dataset name"):
        settings.features_root("../elsewhere")


def test_a_cli_backfill_is_recorded_so_train_does_not_backfill_again(leagues, tmp_path):
    """`minutes-live ingest --backfill` left no fingerprint: right after it, train said "no backfill of dataset
    ... recorded in this store yet" and ingested everything again."""
    from minutes_live.pipeline.gold import backfill_unless_current, dataset_end

    env = _env(tmp_path, None)
    end = dataset_end(leagues["b"])
    args = [*CLI, "ingest", "--source", "synthetic", "--dataset-dir", str(leagues["b"]), "--backfill",
            "--date", end.date().isoformat(), "--run-as-of-ts", end.isoformat(), "--no-progress"]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    store = tmp_path / "data" / "league_b" / "minutes_live.duckdb"
    assert f"new rows in store {store} (dataset league_b)" in proc.stdout
    assert "backfill of dataset 'league_b' recorded" in proc.stdout
    check = backfill_unless_current(leagues["b"], db_path=store, data_root=tmp_path / "data")
    assert check["action"] == "skipped" and "unchanged since the backfill" in check["reason"]
    # a backfill that stops before the dataset's end is not recorded as complete, and says so
    early = [*args[:-5], "--date", "2024-01-05", "--run-as-of-ts", "2024-01-05T20:00:00Z", "--no-progress"]
    other = _env(tmp_path / "other", None)
    proc = subprocess.run(early, capture_output=True, text=True, cwd=ROOT, env=other, timeout=600)
    assert proc.returncode == 0 and "not recorded as complete" in proc.stdout, proc.stdout + proc.stderr[-2000:]
