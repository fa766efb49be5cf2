"""The store: the one place Python code opens the DuckDB file (the warehouse), and what its failures mean.

DuckDB lets one process open a file read-write, or any number of processes open it read-only, never both:
a notebook's read-only connection blocks the job's writes as surely as another writer does. Every open goes
through `open_store` / `connected`, and every failure of the file becomes one of three outcomes:

- busy: another handle holds the file (any mode). `open_store` polls up to `wait_seconds`, then raises
  `StoreBusyError` (exit 12) naming the holder: DuckDB reports its PID, the OS its command line.
- unusable: missing (read-only open), unreadable, read-only, garbage, truncated or corrupt. `StoreUnusableError`
  (exit 13) names the path and what to do.
- anything else (a constraint, a conversion, a bug in SQL) is DuckDB's own error with its own text.

dbt opens the file itself in a subprocess, so commands run `ensure_store_usable` (wait for other holders,
check the file, its directory and the dataset it belongs to) before dbt starts, and `minutes_live.pipeline.dbt_runner`
classifies dbt's failure output with `store_error` too.

Each store holds one dataset (foundation.settings: `data/<dataset>/minutes_live.duckdb`). The first ingest
records it in `raw.store_meta` (`StoreDataset`: name and resolved directory); ingesting or building another
dataset through that store is refused with StoreDatasetMismatchError (exit 13) naming both.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from foundation import settings
from foundation.guardrails import (
    GuardrailError,
    StoreBusyError,
    StoreDatasetMismatchError,
    StoreUnusableError,
)

POLL_SECONDS = 0.25
READERS_DOC = 'docs/operations.md "Reading the data without blocking the job"'

_LOCK = re.compile(r"Could not set lock on file|Conflicting lock is held")
_PID = re.compile(r"\(PID (\d+)\)")
_SAME_PROCESS = "different configuration than existing connections"
# DuckDB messages that mean the file itself is bad, whatever the statement was
_DAMAGED = ("not a valid DuckDB database file", "Could not read enough bytes", "Corrupt database file",
            "database has been invalidated")
# file-system refusals: about the store only when the message names its file (or its .wal)
_NOT_WRITABLE = ("Operation not permitted", "Permission denied", "Read-only file system", "Not a directory",
                 "Is a directory")

_HEADER_SIZE = 4096  # DuckDB: one main header, then two alternating database headers, then blocks


def rebuild_hint() -> str:
    return (f"restore it from a copy or move it aside, then rebuild it from its sources (`minutes-live ingest "
            f"--backfill ...` for a replay or synthetic dataset; live runs keep their raw extracts under "
            f"{settings.snapshots_root()})")


# ------------------------------------------------------------------------------------------ classification

def describe_holder(pid: int) -> str:
    """'PID 1234 (python notebook.py ...)': the command line where the OS tells (Linux /proc)."""
    if pid == 0:
        return "a process outside this PID namespace (PID 0)"
    if pid == os.getpid():
        return f"this process (PID {pid}), through another connection"
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        cmdline = ""
    if len(cmdline) > 240:
        cmdline = cmdline[:237] + "..."
    return f"PID {pid} ({cmdline})" if cmdline else f"PID {pid}"


def _first_line(text: str, needle: str) -> str:
    for line in text.splitlines():
        if needle in line:
            return line.strip()
    return text.strip().splitlines()[0] if text.strip() else text


def _mentions(text: str, path: Path | None) -> bool:
    return path is None or str(path) in text or str(Path(path).absolute()) in text


def busy_error(path: Path | str | None, detail: str, waited: float) -> StoreBusyError:
    where = f"store {path}" if path else "the store"
    pid = _PID.search(detail)
    if _SAME_PROCESS in detail:
        holder = f"this process (PID {os.getpid()}), through a connection opened in another mode"
    else:
        holder = describe_holder(int(pid.group(1))) if pid else f"another process ({detail.strip()})"
    return StoreBusyError(
        f"{where} is held by {holder}; waited {waited:.0f}s. DuckDB allows one writer, and a read-only "
        f"connection blocks writers too: close that connection (readers use the published parquet files, "
        f"{READERS_DOC}), then retry or raise --lock-timeout"
    )


def unusable_error(path: Path | str | None, detail: str) -> StoreUnusableError:
    where = f"store {path}" if path else "the store"
    return StoreUnusableError(f"{where} is not usable ({detail}): {rebuild_hint()}")


def not_writable_error(path: Path | str, detail: str) -> StoreUnusableError:
    return StoreUnusableError(
        f"store {path} is not writable ({detail}): the job writes the store, and DuckDB writes "
        f"{Path(path).name}.wal beside it. Give it a writable directory (MINUTES_LIVE_DATA_ROOT or "
        f"MINUTES_LIVE_DUCKDB), or {rebuild_hint()}"
    )


def store_error(error: BaseException | str, path: Path | str | None, *, waited: float = 0.0) -> GuardrailError | None:
    """The guardrail error a DuckDB failure on the store means, or None when it is not about the file.

    `error` is a DuckDB exception raised on a connection to the store, or the text of a process that opened
    it (dbt's output). `path` is the store file (None when unknown: messages then say "the store")."""
    if isinstance(error, GuardrailError):
        return error
    if not isinstance(error, (str, duckdb.Error)):
        return None
    text = str(error)
    path = Path(path) if path is not None else None
    if _LOCK.search(text) and _mentions(text, path) or _SAME_PROCESS in text:
        return busy_error(path, _first_line(text, "lock" if _LOCK.search(text) else _SAME_PROCESS), waited)
    for needle in _DAMAGED:
        if needle in text:
            detail = _first_line(text, needle)
            if "Could not read enough bytes" in detail:
                # the file is shorter than the blocks its headers reference: a cut copy or partial restore,
                # found when DuckDB reached the missing part (at open, wherever its metadata sits, or later)
                detail = f"truncated: {detail}"
            return unusable_error(path, detail)
    for needle in _NOT_WRITABLE:
        if needle in text and _mentions(text, path):
            return not_writable_error(path, _first_line(text, needle))
    return None


# ------------------------------------------------------------------------------------------------- files

def check_file(path: Path) -> None:
    """Refuse a DuckDB file cut in the middle of a block (a truncated copy, a partial restore).

    A DuckDB file is 3 x 4 KiB of headers followed by whole blocks of `block_alloc_size` bytes (in the database
    headers); DuckDB only ever writes whole blocks. The size is not compared with the header's `block_count`:
    DuckDB truncates free blocks at the end of the file after writing the header, so a healthy file can be
    shorter than that. A file cut exactly at a block boundary passes here and fails when DuckDB reads a
    missing block ("Could not read enough bytes"), which `store_error` maps wherever it happens.
    Called while holding a connection (no writer can be mid-way). Other layouts are left to DuckDB."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(3 * _HEADER_SIZE)
        size = os.path.getsize(path)
    except OSError:
        return
    if head[8:12] != b"DUCK":
        return
    if len(head) < 3 * _HEADER_SIZE:
        raise unusable_error(path, f"truncated: {size} bytes on disk, shorter than DuckDB's headers")
    headers = [struct.unpack_from("<QQQQQ", head, off + 8) for off in (_HEADER_SIZE, 2 * _HEADER_SIZE)]
    _iteration, _meta, _free, _block_count, block_size = max(headers)
    if not (4096 <= block_size <= 1 << 30 and block_size & (block_size - 1) == 0):
        return  # not the layout this check knows
    partial = (size - 3 * _HEADER_SIZE) % block_size
    if partial:
        raise unusable_error(path, f"truncated: {size} bytes on disk end {partial} bytes into a {block_size}-byte "
                                   "block; DuckDB writes whole blocks")


def _ensure_directory(path: Path) -> None:
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in (parent, *parent.parents) if p.exists() and not p.is_dir()), None)
        detail = f"{blocker} is not a directory" if blocker else (exc.strerror or str(exc))
        raise not_writable_error(path, detail) from None


def _probe_directory(path: Path) -> None:
    """DuckDB creates `<store>.wal` beside the store on the first write: the directory must take new files."""
    try:
        fd, probe = tempfile.mkstemp(dir=path.parent, prefix=".store-write-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise not_writable_error(path, f"its directory {path.parent} is not writable: {exc.strerror or exc}") from None


# ----------------------------------------------------------------------------------------------- opening

def open_store(path: Path | str, *, read_only: bool = False, wait_seconds: float = 0.0) -> duckdb.DuckDBPyConnection:
    """Open the store (session time zone UTC). Waits up to `wait_seconds` for other holders.

    Raises StoreBusyError (exit 12), StoreUnusableError (exit 13), or DuckDB's own error."""
    path = Path(path).absolute()
    if read_only and not path.exists():
        raise StoreUnusableError(
            f"store {path} does not exist: ingest snapshots into it first (`minutes-live ingest ...`), or check "
            "MINUTES_LIVE_DUCKDB / --dataset-dir (each dataset has its own store, docs/operations.md)"
        )
    if not read_only:
        _ensure_directory(path)
    started = time.monotonic()
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.Error as exc:
            waited = time.monotonic() - started
            failure = store_error(exc, path, waited=waited)
            if isinstance(failure, StoreBusyError) and waited < wait_seconds:
                time.sleep(min(POLL_SECONDS, wait_seconds - waited))
                continue
            if failure is not None:
                raise failure from exc
            raise
    try:
        check_file(path)
        con.execute("set TimeZone = 'UTC'")
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def errors_mapped(path: Path | str | None) -> Iterator[None]:
    """DuckDB errors raised in the block that are about the store file become its guardrail errors."""
    try:
        yield
    except duckdb.Error as exc:
        failure = store_error(exc, Path(path).absolute() if path is not None else None)
        if failure is not None:
            raise failure from exc
        raise


@contextmanager
def connected(path: Path | str, *, read_only: bool = False, wait_seconds: float = 0.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """`open_store` as a context manager; DuckDB errors in the block that are about the file are mapped too."""
    con = open_store(path, read_only=read_only, wait_seconds=wait_seconds)
    try:
        with errors_mapped(path):
            yield con
    finally:
        con.close()


def connection_path(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The file behind a connection (None for an in-memory database)."""
    try:
        row = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()
    except duckdb.Error:
        return None
    return Path(row[0]) if row and row[0] else None


def ensure_store_usable(path: Path | str, wait_seconds: float = 0.0, *, dataset: StoreDataset | None = None) -> None:
    """Preflight before dbt or an ingest: the store can be opened read-write now (waiting up to `wait_seconds`
    for another holder), is not damaged, its directory takes new files, and it holds `dataset` (or none yet).

    Creates an empty store when there is none (the ingest that follows fills it)."""
    path = Path(path).absolute()
    _ensure_directory(path)
    _probe_directory(path)
    with connected(path, wait_seconds=wait_seconds) as con:
        con.execute("select count(*) from duckdb_tables()").fetchall()  # the catalog reads back
        if dataset is not None:
            check_dataset(con, dataset, path=path)


# -------------------------------------------------------------------------------------- statement helpers

def rollback_quietly(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back after a failed statement without ever replacing that statement's error."""
    with contextlib.suppress(duckdb.Error):
        con.execute("rollback")


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> Iterator[None]:
    """`frame` visible to SQL as `name` for the block. If the block fails, unregistering happens after the
    caller's rollback would, so it never replaces the block's error ("Current transaction is aborted")."""
    con.register(name, frame)
    try:
        yield
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # aborted transaction: the next register replaces it
            con.unregister(name)
        raise
    con.unregister(name)


# ------------------------------------------------------------------------------------------ dataset identity

STORE_META_DDL = """
create table if not exists raw.store_meta (
    dataset varchar not null,        -- foundation.settings.dataset_name: live | nba | synthetic_league | ...
    dataset_path varchar,            -- the resolved dataset directory (NULL for live)
    claimed_at timestamptz not null,
    claimed_by varchar               -- the command line that first ingested into the store
)"""


@dataclass(frozen=True)
class StoreDataset:
    """Which data a store holds: a dataset name and, for replay/synthetic, its resolved directory."""

    name: str
    path: str | None = None

    @classmethod
    def for_source(cls, source: str, dataset_dir: Path | str | None) -> StoreDataset | None:
        """The dataset a command reads (None: `--source none` without `--dataset-dir`, the store as is)."""
        if source == "none" and dataset_dir is None:
            return None
        name = settings.dataset_name(source, dataset_dir)
        if source == settings.LIVE_DATASET:
            return cls(name)
        dataset_dir = dataset_dir if dataset_dir is not None else settings.default_dataset_dir(source)
        return cls(name, str(Path(dataset_dir).resolve()))

    def describe(self) -> str:
        return f"'{self.name}' ({self.path})" if self.path else f"'{self.name}'"


def store_dataset(con: duckdb.DuckDBPyConnection) -> StoreDataset | None:
    """The dataset recorded in the store, or None when nothing has claimed it yet."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = 'store_meta'"
    ).fetchone()[0]
    if not exists:
        return None
    row = con.execute("select dataset, dataset_path from raw.store_meta order by claimed_at limit 1").fetchone()
    return StoreDataset(row[0], row[1]) if row else None


def check_dataset(con: duckdb.DuckDBPyConnection, dataset: StoreDataset, *, path: Path | None = None,
                  claim: bool = False) -> None:
    """Refuse reading or writing `dataset` through a store that holds another one; with `claim`, record
    `dataset` in a store that holds none yet (the first ingest)."""
    held = store_dataset(con)
    if held is None:
        if claim:
            con.execute("create schema if not exists raw")
            con.execute(STORE_META_DDL)
            con.execute("insert into raw.store_meta values (?, ?, ?, ?)",
                        [dataset.name, dataset.path, datetime.now(UTC), " ".join(sys.argv)[:500]])
        return
    if held != dataset:
        where = path or connection_path(con) or "the store"
        if held.name == dataset.name:
            remedy = (f"two dataset directories named '{dataset.name}' map to the same store: rename one of them "
                      "(its name names its store), or point MINUTES_LIVE_DUCKDB at another file")
        else:
            remedy = ("each dataset has its own store (data/<dataset>/minutes_live.duckdb): unset "
                      "MINUTES_LIVE_DUCKDB or point it at another file")
        raise StoreDatasetMismatchError(
            f"store {where} holds dataset {held.describe()}, not {dataset.describe()}: datasets never share a "
            f"store; {remedy}"
        )


@dataclass(frozen=True)
class WriterSession:
    """What a writer holds while it owns the store: the store file and its data root (lock held)."""

    db_path: Path
    data_root: Path


@contextmanager
def writer_session(db_path: Path | str, *, data_root: Path | str, dataset: StoreDataset | None,
                   lock_timeout: float, what: str) -> Iterator[WriterSession]:
    """The one way to write the store: take the data root's lock (foundation/locks.py; busy -> exit 12), then
    check the store before anything writes it or dbt opens it (ensure_store_usable: another holder of the
    DuckDB file -> wait then 12; damaged, read-only or another dataset's -> 13)."""
    from foundation.locks import store_lock

    with store_lock(Path(data_root), timeout=lock_timeout, what=what):
        ensure_store_usable(db_path, lock_timeout, dataset=dataset)
        yield WriterSession(Path(db_path), Path(data_root))


# The raw store's "last copy wins" order, the same as dbt's `latest_row` macro (macros/latest_row.sql) uses in
# staging: the newest snapshot, then the newest ingest, then the content hash as a stable tie-break.
LATEST_ORDER = "snapshot_ts desc, ingested_at desc, content_hash"


def latest_row(select: str, partition_by: list[str] | tuple[str, ...], order_by: str = LATEST_ORDER) -> str:
    """`select` (one SELECT over a raw table, with its WHERE) keeping one row per `partition_by`: the newest copy.
    The Python readers of the raw store (schedule, pre-dbt guardrails, next-day validation) all use this."""
    return (f"{select.rstrip()}\nqualify row_number() over (partition by {', '.join(partition_by)} "
            f"order by {order_by}) = 1")
