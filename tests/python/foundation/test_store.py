"""The store (the DuckDB file): another holder, an unusable file, and DuckDB errors inside the ingest.

Everything here is real: a synthetic league ingested into a real DuckDB file, a second Python process
holding a connection to it (as a notebook would), the real CLIs as subprocesses, and files damaged on disk.

Read-only storage is simulated in ways that fail for root too (the tests run as root, which ignores
permission bits): the store path's parent is a regular FILE (ENOTDIR), and `chattr +i` on the store file or
on its directory (EPERM; skipped where the filesystem or container does not allow chattr).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[3]
BUILD = [sys.executable, "-c", "from minutes_live.cli.build import main; main()"]
CLI = [sys.executable, "-m", "minutes_live.cli.app"]

HOLDER_SCRIPT = """\
import sys, time
import duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
print("holding", flush=True)
time.sleep(float(sys.argv[3]))
con.close()
"""
RESTORE_HINT = "restore it from a copy or move it aside"
BLOCK = 262144  # DuckDB's block size; a file is 3 x 4096 bytes of headers then whole blocks


def _truncate(db: Path, *, at_block_boundary: bool = False) -> None:
    """Cut a real store short: to about half, in the middle of a block (a copy stopped short), or after its
    first block exactly at the boundary. A boundary cut that only drops free blocks loses nothing (DuckDB
    truncates free tail blocks itself), so this one keeps a single block: DuckDB fails when it reads a
    missing one, at open or inside a statement."""
    blocks = (db.stat().st_size - 3 * 4096) // BLOCK
    cut = 3 * 4096 + (BLOCK if at_block_boundary else BLOCK * (blocks // 2) + 100_000)
    with open(db, "r+b") as fh:
        fh.truncate(cut)


@pytest.fixture(scope="module")
def world(tmp_path_factory, synthetic_league) -> dict:
    """A one-season synthetic league and a store holding 60 days of it before the slate."""
    from minutes_live.demo import pick_slate
    from snapshots_ingest.ingest import ingest_replay

    root = tmp_path_factory.mktemp("store")
    league = root / "league"
    synthetic_league(league, seed=3, seasons=1)
    day, as_of = pick_slate(league)
    db = root / "data" / "wh.duckdb"
    ingest_replay(league, as_of.date(), as_of, history_days=60, db_path=db, data_root=root / "data")
    holder = root / "notebook_holder.py"
    holder.write_text(HOLDER_SCRIPT)
    return {"root": root, "league": league, "day": day, "as_of": as_of.isoformat(), "db": db, "holder": holder}


def _env(world: dict, db: Path | None = None, data_root: Path | None = None, **extra: str) -> dict[str, str]:
    root = world["root"]
    return {**os.environ, "MINUTES_LIVE_DATA_ROOT": str(data_root or root / "data"),
            "MINUTES_LIVE_DUCKDB": str(db or world["db"]),
            "MINUTES_LIVE_ARTIFACTS": str(root / "artifacts"), "MINUTES_LIVE_REPORTS": str(root / "reports"), **extra}


def _run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)


def _build_args(world: dict, out_root: Path, *extra: str) -> list[str]:
    return [*BUILD, "--date", world["day"], "--run-as-of-ts", world["as_of"], "--source", "synthetic",
            "--dataset-dir", str(world["league"]), "--allow-missing-odds", "--history-days", "60",
            "--out-root", str(out_root), *extra]


def _job_args(world: dict, *extra: str) -> list[str]:
    return [*CLI, "job", "afternoon", "--date", world["day"], "--run-as-of-ts", world["as_of"], "--source", "synthetic",
            "--dataset-dir", str(world["league"]), "--allow-missing-odds", *extra]


def _ingest_args(world: dict, *extra: str) -> list[str]:
    return [*CLI, "ingest", "--source", "synthetic", "--dataset-dir", str(world["league"]), "--date", world["day"],
            "--run-as-of-ts", world["as_of"], "--kind", "schedule", "--no-progress", *extra]


def _overnight_args(world: dict, *extra: str) -> list[str]:
    return [*CLI, "job", "overnight", "--date", world["day"], "--run-as-of-ts", world["as_of"], "--source", "synthetic",
            "--dataset-dir", str(world["league"]), *extra]


@contextmanager
def holding(world: dict, db: Path, mode: str = "ro", seconds: float = 120) -> Iterator[subprocess.Popen]:
    """Another process with a DuckDB connection open on `db` (read-only like a notebook, or read-write)."""
    proc = subprocess.Popen([sys.executable, str(world["holder"]), str(db), mode, str(seconds)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line == "holding", proc.stderr.read()
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr[-3000:]
    return lines[0]


# ----------------------------------------------------------------------------------------- another holder

def test_job_with_a_notebook_reading_the_store_exits_12_naming_it(world):
    with holding(world, world["db"], "ro") as holder:
        t0 = time.monotonic()
        proc = _run(_job_args(world, "--lock-timeout", "1"), _env(world))
        waited = time.monotonic() - t0
    assert proc.returncode == 12, proc.stderr[-3000:]
    message = _one_line_error(proc)
    assert f"PID {holder.pid}" in message and "notebook_holder.py" in message, message
    assert str(world["db"]) in message
    assert waited >= 1.0  # it waited --lock-timeout before giving up
    # a synthetic job records its attempts in its dataset's registry (data/league/registry/)
    entries = [json.loads(ln) for ln in (world["root"] / "data" / "league" / "registry" / "minutes_live_runs.jsonl").read_text().splitlines()]
    assert entries[-1]["exit_code"] == 12 and entries[-1]["status"] == "failed"


def test_build_with_a_writer_holding_the_store_exits_12(world, tmp_path):
    with holding(world, world["db"], "rw") as holder:
        proc = _run(_build_args(world, tmp_path / "features", "--lock-timeout", "0.5"), _env(world))
    assert proc.returncode == 12, proc.stderr[-3000:]
    assert f"PID {holder.pid}" in _one_line_error(proc)
    assert not (tmp_path / "features").exists()


def test_ingest_with_a_notebook_reading_the_store_exits_12(world):
    with holding(world, world["db"], "ro") as holder:
        proc = _run(_ingest_args(world, "--lock-timeout", "0.5"), _env(world))
    assert proc.returncode == 12, proc.stderr[-3000:]
    assert f"PID {holder.pid}" in _one_line_error(proc)


def test_build_waits_for_the_holder_to_go_away(world, tmp_path):
    with holding(world, world["db"], "ro", seconds=2.5):
        t0 = time.monotonic()
        proc = _run(_build_args(world, tmp_path / "features", "--lock-timeout", "10"), _env(world))
        elapsed = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert elapsed >= 2.0  # the holder kept the store ~2.5 s: the build waited for it, then ran
    run_dirs = list((tmp_path / "features" / world["day"]).glob("run=*"))
    assert len(run_dirs) == 1 and (run_dirs[0] / "features.parquet").exists()


def test_dbt_refused_by_a_holder_is_store_busy(world):
    from foundation.guardrails import StoreBusyError
    from minutes_live.pipeline.dbt_runner import run_dbt

    with holding(world, world["db"], "ro") as holder:
        with pytest.raises(StoreBusyError, match=f"PID {holder.pid}"):
            run_dbt(["run", "--select", "stg_raw__schedules"], db_path=world["db"], quiet=True)


# --------------------------------------------------------------------------------------- unusable stores

def _chattr(flag: str, path: Path) -> None:
    proc = subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"chattr {flag} not possible here: {proc.stderr.strip()}")


def _damaged_store(world: dict, tmp_path: Path, damage: str, request) -> tuple[Path, str]:
    """A store path damaged as named; returns it and a phrase the error must contain."""
    db = tmp_path / "store" / "wh.duckdb"
    db.parent.mkdir()
    if damage == "garbage":
        db.write_bytes(b"this is not a database\n" * 500)
        return db, RESTORE_HINT
    if damage == "truncated":
        shutil.copy(world["db"], db)
        _truncate(db)
        return db, "truncated"
    if damage == "truncated_at_a_block":
        shutil.copy(world["db"], db)
        _truncate(db, at_block_boundary=True)
        return db, "not usable"
    if damage == "parent_is_a_file":
        (tmp_path / "mount").write_text("a regular file where the store's directory should be\n")
        return tmp_path / "mount" / "wh.duckdb", "not a directory"
    if damage == "immutable_file":
        shutil.copy(world["db"], db)
        _chattr("+i", db)
        request.addfinalizer(lambda: subprocess.run(["chattr", "-i", str(db)]))
        return db, "Operation not permitted"
    if damage == "immutable_dir":
        shutil.copy(world["db"], db)
        _chattr("+i", db.parent)
        request.addfinalizer(lambda: subprocess.run(["chattr", "-i", str(db.parent)]))
        return db, "not writable"
    raise AssertionError(damage)


@pytest.mark.parametrize(
    "damage, command",
    [
        ("garbage", "build"), ("garbage", "ingest"), ("garbage", "job"), ("garbage", "overnight"),
        ("truncated", "build"), ("truncated", "ingest"), ("truncated", "job"),
        ("truncated_at_a_block", "build"), ("truncated_at_a_block", "ingest"),
        ("parent_is_a_file", "build"), ("parent_is_a_file", "ingest"),
        ("immutable_file", "ingest"), ("immutable_dir", "build"),
    ],
)
def test_unusable_store_exits_13_naming_the_path(world, tmp_path, request, damage, command):
    db, phrase = _damaged_store(world, tmp_path, damage, request)
    args = {"build": lambda: _build_args(world, tmp_path / "features", "--lock-timeout", "1"),
            "ingest": lambda: _ingest_args(world, "--lock-timeout", "1"),
            "job": lambda: _job_args(world, "--lock-timeout", "1"),
            "overnight": lambda: _overnight_args(world, "--lock-timeout", "1")}[command]()
    proc = _run(args, _env(world, db, data_root=tmp_path / "data"))
    assert proc.returncode == 13, proc.stderr[-3000:]
    message = _one_line_error(proc)
    assert str(db) in message and phrase.lower() in message.lower(), message
    assert not (tmp_path / "features").exists()


def test_open_store_read_only_of_a_missing_store_says_ingest_first(tmp_path):
    from foundation.guardrails import StoreUnusableError
    from foundation.store import open_store

    with pytest.raises(StoreUnusableError, match=r"does not exist.*minutes-live ingest"):
        open_store(tmp_path / "nothing.duckdb", read_only=True)
    assert not (tmp_path / "nothing.duckdb").exists()


def test_corrupt_block_found_while_reading_is_store_unusable(tmp_path):
    from foundation.guardrails import StoreUnusableError
    from foundation.store import connected

    db = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(db))
    for i in range(5):
        con.execute(f"create table t{i} as select range as i, md5(range::varchar) as s from range(300000)")
    con.close()
    size = db.stat().st_size
    with open(db, "r+b") as fh:  # zero a stretch of data blocks: the header and catalog stay readable
        fh.seek(size // 3)
        fh.write(b"\x00" * 300_000)
    with pytest.raises(StoreUnusableError, match=r"Corrupt database file.*" + RESTORE_HINT):
        with connected(db, read_only=True) as con:
            for i in range(5):
                con.execute(f"select count(*), max(s) from t{i}").fetchall()


# ------------------------------------------------------------------------------- errors inside the ingest

def _bad_schedule_csv(path: Path) -> Path:
    row = {"game_id": "abc", "source_game_id": "202201150MIL", "season": "2021-22", "game_date": "2022-01-15",
           "tip_ts": "2022-01-16T01:00:00Z", "game_type": "regular", "game_status": "scheduled",
           "home_team_id": 1610612749, "away_team_id": 1610612761, "home_tricode": "MIL", "away_tricode": "TOR",
           "home_team_name": "Milwaukee Bucks", "away_team_name": "Toronto Raptors",
           "snapshot_ts": "2022-01-15T12:00:00Z", "source": "ops_override"}
    pd.DataFrame([row]).to_csv(path, index=False)
    return path


def test_append_failing_inside_the_ingest_transaction_surfaces_the_duckdb_error(tmp_path):
    from snapshots_ingest.ingest import IngestError, ingest_file

    csv = _bad_schedule_csv(tmp_path / "schedule_override.csv")
    db = tmp_path / "wh.duckdb"
    with pytest.raises(IngestError) as info:
        ingest_file("schedule", csv, datetime(2022, 1, 15).date(), datetime(2022, 1, 15, 20, tzinfo=UTC),
                    db_path=db, data_root=tmp_path / "data")
    text = str(info.value)
    assert "Could not convert string 'abc' to INT64" in text, text
    assert "transaction is aborted" not in text.lower()
    con = duckdb.connect(str(db), read_only=True)
    try:  # the transaction was rolled back: nothing stored, nothing logged
        assert con.execute("select count(*) from raw.schedule").fetchone()[0] == 0
        assert con.execute("select count(*) from raw.ingest_log").fetchone()[0] == 0
    finally:
        con.close()


def test_build_cli_reports_the_duckdb_error_of_a_bad_override(world, tmp_path):
    csv = _bad_schedule_csv(tmp_path / "schedule_override.csv")
    args = [*BUILD, "--date", "2022-01-15", "--run-as-of-ts", "2022-01-15T20:00:00Z", "--source", "none",
            "--schedule-path", str(csv), "--out-root", str(tmp_path / "features")]
    proc = _run(args, _env(world, tmp_path / "wh.duckdb", data_root=tmp_path / "data"))
    assert proc.returncode == 13, proc.stderr[-3000:]
    message = _one_line_error(proc)
    assert "Could not convert string 'abc' to INT64" in message and "aborted" not in message, message


def test_store_cut_at_a_block_boundary_is_not_blamed_on_the_extract(world, tmp_path):
    """A store whose used blocks are gone but whose size is whole blocks: nothing but DuckDB's reads tell."""
    from foundation.guardrails import StoreUnusableError
    from snapshots_ingest.ingest import ingest_replay

    db = tmp_path / "wh.duckdb"
    shutil.copy(world["db"], db)
    _truncate(db, at_block_boundary=True)
    with pytest.raises(StoreUnusableError) as info:
        ingest_replay(world["league"], datetime.fromisoformat(world["as_of"]).date(),
                      datetime.fromisoformat(world["as_of"]), kinds=["schedule"], db_path=db,
                      data_root=tmp_path / "data")
    assert str(db) in str(info.value) and RESTORE_HINT in str(info.value)


def test_damage_anywhere_in_the_store_is_never_blamed_on_the_extract(world, tmp_path):
    """Zero the start of each block of a real store in turn (its checksum no longer matches), then ingest:
    damage DuckDB finds while opening or inside the ingest transaction is the store's error, never the
    extract's, and the message names the store."""
    from foundation.guardrails import StoreUnusableError
    from snapshots_ingest.ingest import IngestError, ingest_replay

    as_of = datetime.fromisoformat(world["as_of"])
    size = world["db"].stat().st_size
    block = 262144
    outcomes: dict[str, list[int]] = {"ok": [], "store": [], "extract": []}
    for i, offset in enumerate(range(3 * 4096, size, block)):
        db = tmp_path / f"wh_{i}.duckdb"
        shutil.copy(world["db"], db)
        with open(db, "r+b") as fh:
            fh.seek(offset)
            fh.write(b"\x00" * 4096)
        try:
            ingest_replay(world["league"], as_of.date(), as_of, kinds=["schedule", "roster"], history_days=60,
                          db_path=db, data_root=tmp_path / "data")
            outcomes["ok"].append(i)
        except StoreUnusableError as exc:
            assert str(db) in str(exc) and RESTORE_HINT in str(exc), str(exc)
            outcomes["store"].append(i)
        except IngestError as exc:
            outcomes["extract"].append(i)
            print(f"block {i}: {exc}")
    assert outcomes["extract"] == [], outcomes
    assert outcomes["store"], outcomes  # some damage was found
