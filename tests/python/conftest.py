"""Shared fixtures. Real-data tests (`@pytest.mark.real_data`) read settings.real_dataset_dir():
they skip with a reason when it is missing, except in CI (env CI set) where a missing dataset fails.

`--fast` (`./dev test --fast`): the fast tier, every test without a slow / real_data / spark / browser /
full_run marker plus the synthetic end to end (FAST_END_TO_END); the whole suite stays `./dev test`.
Expensive setups (the synthetic world, synthetic leagues) are built once per session and each module or
test gets its own writable copy (`private_copy`)."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from foundation import settings

# the tier's end to end: the scheduled job on the synthetic league (marked slow, run by --fast all the same)
FAST_END_TO_END = ("tests/python/minutes_live/pipeline/test_job_synthetic.py",)
NOT_FAST = ("slow", "real_data", "spark", "browser", "full_run")
# unmarked but not unit tests: each costs tens of CPU seconds (a build through the CLI per holder, an ingest
# per damaged block); CI and `./dev test` run them, the fast tier does not
NOT_IN_FAST_TIER = (
    "tests/python/foundation/test_store.py::test_build_waits_for_the_holder_to_go_away",
    "tests/python/foundation/test_store.py::test_damage_anywhere_in_the_store_is_never_blamed_on_the_extract",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fast", action="store_true", default=False,
                     help="the fast tier: unit tests and the synthetic end to end (no slow/real_data/spark/browser)")


def pytest_configure(config: pytest.Config) -> None:
    # the fast tier: xdist hands out files in the order collected below (longest first), not by their number
    # of tests
    if config.getoption("--fast") and hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--fast"):
        keep, drop = [], []
        for item in items:
            in_tier = item.nodeid.split("::")[0] in FAST_END_TO_END or not (
                any(item.get_closest_marker(m) for m in NOT_FAST) or item.nodeid in NOT_IN_FAST_TIER)
            (keep if in_tier else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
        items[:] = longest_files_first(items)


# seconds per test of the last whole-suite run (tests/tools/record_test_seconds.py refreshes it); a test it
# does not know counts this much
TEST_SECONDS = Path(__file__).with_name("test_seconds.json")
UNKNOWN_SECONDS = 5.0


def longest_files_first(items: list[pytest.Item]) -> list[pytest.Item]:
    """The items grouped by file, files in descending order of their selected tests' measured seconds, each
    file's tests in their own order. With `-n N --dist loadfile` a long file then starts early instead of
    last, where it would leave the other workers idle (the same order on every worker: xdist checks).

    The fast tier only (4:19 -> 3:53 on 2 cores). The whole suite keeps xdist's order (files with the most
    tests first): longest first started the Spark cluster, the Spark session and the README block together,
    each wanting more than its core, and the suite took 46:39 against 42:36."""
    seconds = json.loads(TEST_SECONDS.read_text()) if TEST_SECONDS.is_file() else {}
    files: dict[str, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)
    cost = {f: sum(seconds.get(i.nodeid, UNKNOWN_SECONDS) for i in group) for f, group in files.items()}
    order = sorted(files, key=lambda f: -cost[f])  # stable: equal costs keep the collection order
    return [item for f in order for item in files[f]]


def require_real_dataset() -> Path:
    """The real dataset directory, or skip (fail under CI) when it is not there."""
    path = settings.real_dataset_dir()
    if (path / "box_scores_2021_22.parquet").exists():
        return path
    message = f"real NBA dataset not found at {path} (set MINUTES_LIVE_NBA_DIR or mount ../shared/data/nba)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; real-data tests must run in CI")
    pytest.skip(message)


def require_spark() -> None:
    """The Spark target's extra and Java, or skip (fail under CI, which installs both)."""
    from minutes_live.pipeline import spark_engine

    try:
        spark_engine.check_installed()
    except spark_engine.SparkTargetError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc}; Spark tests must run in CI (.ci/run installs the extra and Java)")
        pytest.skip(str(exc))


@pytest.fixture(autouse=True)
def _require_real_data(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("real_data") is not None:
        require_real_dataset()
    if request.node.get_closest_marker("spark") is not None:
        require_spark()
    if request.node.get_closest_marker("full_run") is not None and os.environ.get("MINUTES_LIVE_FULL_RUN") != "1":
        pytest.skip("a full-run test: MINUTES_LIVE_FULL_RUN=1 ./dev test -m full_run")


@pytest.fixture(scope="session")
def real_dataset_dir() -> Path:
    # session-scoped fixtures run before the autouse check, so they check too
    return require_real_dataset()


@pytest.fixture(autouse=True)
def _runtime_outside_the_project(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """No test writes into the project's data/, artifacts/ or reports/: each test gets its own roots (a test
    that needs particular roots, e.g. a module's shared store, sets these variables itself)."""
    base = tmp_path_factory.mktemp("runtime")
    # commands log progress and stage lines on stderr at INFO (foundation/logs.py); tests read stderr for the
    # one-line errors, so they run at WARNING unless a test asks for more (tests of the log lines set INFO)
    monkeypatch.setenv("MINUTES_LIVE_LOG_LEVEL", "WARNING")
    for var, sub in (("MINUTES_LIVE_DATA_ROOT", "data"), ("MINUTES_LIVE_ARTIFACTS", "artifacts"),
                     ("MINUTES_LIVE_REPORTS", "reports")):
        monkeypatch.setenv(var, str(base / sub))


@pytest.fixture(scope="session", autouse=True)
def _session_runtime_outside_the_project(tmp_path_factory: pytest.TempPathFactory):
    """The same for module- and session-scoped fixtures, which run before the per-test roots are set. dbt's
    log file too: tests never append to the project's logs/dbt.log (parallel test processes would share it)."""
    base = tmp_path_factory.mktemp("session_runtime")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DBT_LOG_PATH", str(base / "dbt_logs"))
        for var, sub in (("MINUTES_LIVE_DATA_ROOT", "data"), ("MINUTES_LIVE_ARTIFACTS", "artifacts"),
                         ("MINUTES_LIVE_REPORTS", "reports")):
            mp.setenv(var, str(base / sub))
        yield


@pytest.fixture()
def sigkill_at():
    """`sigkill_at(script, boundary, marker, env=None)`: see `_sigkill_at`."""
    return _sigkill_at


def _sigkill_at(script: str, boundary: str, marker: Path, env: dict | None = None, timeout: float = 180) -> None:
    """Run `python -c script` until it pauses at a named step boundary (foundation/faults.py), then SIGKILL
    its process group there: the real process, killed exactly at that boundary."""
    import signal
    import subprocess
    import sys
    import time

    marker.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **(env or {}), "MINUTES_LIVE_PAUSE_AT": boundary, "MINUTES_LIVE_PAUSE_FILE": str(marker)}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=settings.PROJECT_ROOT, start_new_session=True)
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert proc.poll() is None, f"the process exited ({proc.returncode}) before reaching {boundary}"
        assert time.monotonic() < deadline, f"the process never reached {boundary}"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def private_copy(src: Path, dest: Path) -> Path:
    """A writable copy of a directory built once per session (`dest` may exist, empty, e.g. from mktemp)."""
    shutil.copytree(src, dest, symlinks=True, dirs_exist_ok=True)
    return dest


@pytest.fixture(scope="session")
def synthetic_league(tmp_path_factory: pytest.TempPathFactory):
    """`synthetic_league(dest, seed=, seasons=)`: a private copy of `generate_league(dest, seed, seasons)`.

    Each (seed, seasons) league is generated once per session and copied (the generator is deterministic and
    its files do not depend on where they are written), so every caller still gets its own writable files."""
    from snapshots_ingest.synthetic_league import generate_league

    built: dict[tuple[int, int], Path] = {}

    def make(dest: Path, *, seed: int, seasons: int) -> Path:
        if (seed, seasons) not in built:
            src = tmp_path_factory.mktemp(f"league_seed{seed}_s{seasons}") / "league"
            generate_league(src, seed=seed, seasons=seasons)
            built[(seed, seasons)] = src
        return private_copy(built[(seed, seasons)], Path(dest))

    return make


@pytest.fixture(scope="session")
def _world_built(tmp_path_factory, synthetic_league) -> dict:
    """The `world` below, built once per session: modules get copies of it, never this directory."""
    from minutes_live.demo import pick_slate
    from minutes_live.pipeline.gold import build_gold_features
    from scoring.train import promote, train_bundle
    from snapshots_ingest.ingest import ingest_replay

    root = tmp_path_factory.mktemp("world_built")
    with pytest.MonkeyPatch.context() as mp:
        for k, v in _world_env(root).items():
            mp.setenv(k, v)
        league = synthetic_league(root / "league", seed=3, seasons=1)
        day, first_as_of = pick_slate(league)
        ingest_replay(league, first_as_of.date(), first_as_of, backfill=True)
        gold = build_gold_features(league, 30, ingest=False)
        gold = gold[pd.to_datetime(gold["game_date"]) < pd.Timestamp(day)]
        bundle = train_bundle(gold, root / "artifacts" / "bundles", seed=3, bundle_id="test_bundle",
                              quantile_rounds=40, play_rounds=40)
        promote(bundle, root / "minutes_current_run.json")
    return {"root": root, "day": date.fromisoformat(day), "as_of": first_as_of,
            "bundle": Path(bundle).resolve().relative_to(root.resolve())}


def _world_env(root: Path) -> dict[str, str]:
    return {
        "MINUTES_LIVE_DATA_ROOT": str(root / "data"),
        "MINUTES_LIVE_DUCKDB": str(root / "data" / "wh.duckdb"),
        "MINUTES_LIVE_ARTIFACTS": str(root / "artifacts"),
        "MINUTES_LIVE_REPORTS": str(root / "reports"),
    }


def _reclaim_store(db: Path, built_league: Path, league: Path) -> None:
    """A copied store records the dataset directory it was built from (raw.store_meta): name the copy's."""
    import duckdb

    con = duckdb.connect(str(db))
    try:
        con.execute("update raw.store_meta set dataset_path = ? where dataset_path = ?",
                    [str(league.resolve()), str(built_league.resolve())])
        held = con.execute("select dataset_path from raw.store_meta").fetchall()
    finally:
        con.close()
    assert held == [(str(league.resolve()),)], held


@pytest.fixture(scope="module")
def world(_world_built, tmp_path_factory):
    """A one-season synthetic league, its raw store, and a small bundle trained on gold features: the module's
    own copy of the session's build (league, store with the gold mart, bundle, pointer), env set to it."""
    root = private_copy(_world_built["root"], tmp_path_factory.mktemp("job_syn"))
    config = root / "minutes_current_run.json"
    pointer = json.loads(config.read_text())
    pointer["bundle_dir"] = str(root.resolve() / _world_built["bundle"])  # the copy's bundle, not the session's
    config.write_text(json.dumps(pointer, indent=2) + "\n")
    env = _world_env(root)
    _reclaim_store(Path(env["MINUTES_LIVE_DUCKDB"]), _world_built["root"] / "league", root / "league")
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        yield {"root": root, "league": root / "league", "day": _world_built["day"], "as_of": _world_built["as_of"],
               "config": config, "env": env}


@pytest.fixture(autouse=True)
def _each_test_reads_the_live_dataset_first():
    """A CLI command selects its dataset for the rest of its thread (minutes_live.runs.catalog.select_dataset);
    commands invoked in-process by one test must not choose the dataset another test reads."""
    from minutes_live.runs import catalog

    catalog.select_dataset(settings.LIVE_DATASET)
    yield
    catalog.select_dataset(settings.LIVE_DATASET)
