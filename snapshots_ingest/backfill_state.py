"""Is a dataset's backfill already in its store? The fingerprint of what a replay backfill reads.

A backfill replays a whole dataset directory into its store (minutes_live.pipeline.gold). Its rows depend only on the
files the dataset reader reads (every top-level `*.parquet` and `dataset.json`, snapshots_ingest.dataset) and
on the replay code, so after a successful backfill `record` appends their fingerprint to `raw.backfill_log`,
and `compare` tells whether the directory still matches the last one recorded. Content hashes, not mtimes: a
copied or touched file with the same bytes is the same data, any changed byte is a new backfill. The raw
store is append-only, so rows recorded once stay there; a new store file has no log and backfills.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from foundation.publication import sha256_file

# The code a backfill's rows depend on: a change here re-ingests (new rows are appended, equal rows deduped).
REPLAY_MODULES = ("dataset.py", "replay.py", "ingest.py", "raw_store.py", "extract.py", "ids.py")
_PACKAGE_DIR = Path(__file__).resolve().parent

BACKFILL_LOG_DDL = """
create table if not exists raw.backfill_log (
    dataset varchar not null,         -- foundation.settings.dataset_name of the replayed directory
    fingerprint varchar not null,     -- sha256 over `files` and `code_sha256`
    files varchar not null,           -- JSON list of {name, bytes, sha256} of the files the reader reads
    code_sha256 varchar not null,     -- sha256 of the replay modules (REPLAY_MODULES)
    run_id varchar not null,          -- the backfill's ingest run
    run_as_of_ts timestamptz not null,
    rows_inserted bigint not null,
    recorded_at timestamptz not null
)"""


@dataclass(frozen=True)
class DatasetFingerprint:
    files: tuple[tuple[str, int, str], ...]  # (name, bytes, sha256), sorted by name
    code_sha256: str

    @property
    def digest(self) -> str:
        payload = json.dumps({"files": self.files, "code": self.code_sha256}, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()

    def files_json(self) -> str:
        return json.dumps([{"name": n, "bytes": b, "sha256": h} for n, b, h in self.files], separators=(",", ":"))


@dataclass(frozen=True)
class RecordedBackfill:
    fingerprint: str
    files: dict[str, str]  # name -> sha256
    code_sha256: str
    run_as_of_ts: datetime
    recorded_at: datetime


@dataclass(frozen=True)
class BackfillCheck:
    current: bool  # True: the store already holds this exact backfill
    reason: str  # one line for the log: why it is (not) current


def replay_code_sha256() -> str:
    digest = hashlib.sha256()
    for name in REPLAY_MODULES:
        digest.update(name.encode() + b"\0" + (_PACKAGE_DIR / name).read_bytes() + b"\0")
    return digest.hexdigest()


def fingerprint(dataset_dir: Path) -> DatasetFingerprint:
    """Name, size and sha256 of every file the dataset reader can read, plus the replay code's hash."""
    root = Path(dataset_dir)
    paths = sorted([*root.glob("*.parquet"), *([root / "dataset.json"] if (root / "dataset.json").exists() else [])])
    files = tuple((p.name, p.stat().st_size, sha256_file(p)) for p in paths if p.is_file())
    return DatasetFingerprint(files=files, code_sha256=replay_code_sha256())


def _has_log(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("select count(*) from duckdb_tables() where schema_name = 'raw' "
                            "and table_name = 'backfill_log'").fetchone()[0])


def last_backfill(con: duckdb.DuckDBPyConnection, dataset: str) -> RecordedBackfill | None:
    """The latest backfill of `dataset` recorded in the store (None: none yet, or a store from before the log)."""
    if not _has_log(con):
        return None
    row = con.execute("select fingerprint, files, code_sha256, run_as_of_ts, recorded_at from raw.backfill_log "
                      "where dataset = ? order by recorded_at desc limit 1", [dataset]).fetchone()
    if row is None:
        return None
    files = {f["name"]: f["sha256"] for f in json.loads(row[1])}
    return RecordedBackfill(row[0], files, row[2], row[3].astimezone(UTC), row[4].astimezone(UTC))


def compare(dataset: str, recorded: RecordedBackfill | None, now: DatasetFingerprint) -> BackfillCheck:
    """Does the directory's fingerprint `now` match the last backfill of `dataset` recorded in the store?"""
    if recorded is None:
        return BackfillCheck(False, f"no backfill of dataset '{dataset}' recorded in this store yet")
    when = recorded.recorded_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if recorded.fingerprint == now.digest:
        return BackfillCheck(True, f"dataset '{dataset}' unchanged since the backfill of {when} "
                                   f"({len(now.files)} files, fingerprint {now.digest[:12]})")
    before, after = recorded.files, {name: sha for name, _, sha in now.files}
    changes = ([f"{n} changed" for n in sorted(before.keys() & after.keys()) if before[n] != after[n]]
               + [f"{n} added" for n in sorted(after.keys() - before.keys())]
               + [f"{n} removed" for n in sorted(before.keys() - after.keys())])
    if recorded.code_sha256 != now.code_sha256:
        changes.append("replay code changed")
    shown = ", ".join(changes[:4]) + (f" (+{len(changes) - 4} more)" if len(changes) > 4 else "")
    return BackfillCheck(False, f"dataset '{dataset}' differs from the backfill of {when}: {shown or 'fingerprint changed'}")


def backfill_instant(recorded: RecordedBackfill | None, now: DatasetFingerprint, dataset_end: datetime,
                     clock: datetime | None = None) -> datetime:
    """run_as_of_ts of a backfill: the dataset's end for the first one; the recorded instant again for the same
    files (their extracts are already filed there, byte for byte); for changed files the later of the dataset's
    end and now, because new content is a new instant (another run, so no conflict with the first extracts)."""
    if recorded is None:
        return dataset_end
    if recorded.fingerprint == now.digest:
        return recorded.run_as_of_ts
    return max(dataset_end, (clock or datetime.now(UTC)).replace(microsecond=0))


def record(con: duckdb.DuckDBPyConnection, dataset: str, fp: DatasetFingerprint, *, run_id: str,
           run_as_of_ts: datetime, rows_inserted: int) -> None:
    """Append a successful backfill's fingerprint (called after the backfill's rows are committed)."""
    con.execute("create schema if not exists raw")
    con.execute(BACKFILL_LOG_DDL)
    con.execute("insert into raw.backfill_log values (?, ?, ?, ?, ?, ?, ?, ?)",
                [dataset, fp.digest, fp.files_json(), fp.code_sha256, run_id, run_as_of_ts, int(rows_inserted),
                 datetime.now(UTC)])
