"""One gold build per lead: the gold mart is kept as parquet, keyed by what it was built from.

A gold mart is a function of (lead, dbt vars, the raw rows in the store, the dbt project's files, dbt and
DuckDB versions). `GoldKey` hashes all of them; after a `dbt build` the mart is exported to
`<store dir>/<store name>.gold_features/lead<N>-<key>.parquet` (the key is in the file name, so a file is valid
exactly when its name matches: no side file to get out of step), and the next build with the same key reads
that file instead of calling dbt. New raw rows, a changed model / macro / seed / test / selector, another var
or another version give another key, hence a rebuild. Older files of the lead are removed after a new one is
written. Both paths return the frame read from the parquet file, so a reused mart equals a rebuilt one.

The raw rows are fingerprinted in DuckDB (row count and an order-independent hash of every row of each raw
table dbt reads); the bookkeeping tables (ingest_log, store_meta, backfill_log) are not inputs of any model.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import duckdb
import pandas as pd

from foundation import atomic
from foundation.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

# What a dbt build of the project reads besides the store (the runner's flags are in dbt_runner.py).
PROJECT_DIRS = ("models", "macros", "seeds", "tests/dbt")
PROJECT_FILES = ("dbt_project.yml", "selectors.yml", "packages.yml", "profiles/profiles.yml", "minutes_live/pipeline/dbt_runner.py")
VERSIONED = ("dbt-core", "dbt-duckdb", "duckdb")
NOT_MODEL_INPUTS = ("ingest_log", "store_meta", "backfill_log")


@dataclass(frozen=True)
class GoldKey:
    mart: str
    lead: int
    vars: dict
    raw_state: dict  # {table: [rows, row-hash xor]}
    project_sha256: str

    @property
    def digest(self) -> str:
        payload = json.dumps({"mart": self.mart, "lead": self.lead, "vars": self.vars, "raw": self.raw_state,
                              "project": self.project_sha256}, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()[:20]


def project_sha256(root: Path = PROJECT_ROOT) -> str:
    """sha256 over the dbt project's files (path + bytes) and the versions of dbt and DuckDB."""
    digest = hashlib.sha256()
    paths = [p for d in PROJECT_DIRS for p in (root / d).rglob("*") if p.is_file()]
    paths += [root / f for f in PROJECT_FILES if (root / f).is_file()]
    for path in sorted(paths):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    for package in VERSIONED:
        try:
            digest.update(f"{package}=={metadata.version(package)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package}==none\0".encode())
    return digest.hexdigest()


def raw_state(con: duckdb.DuckDBPyConnection) -> dict:
    """{raw table: [row count, xor of every row's hash]}: equal exactly when the tables hold the same rows."""
    tables = [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where schema_name = 'raw' order by table_name").fetchall()]
    state = {}
    for table in tables:
        if table in NOT_MODEL_INPUTS:
            continue
        count, xor = con.execute(f'select count(*), bit_xor(hash(t)) from raw."{table}" t').fetchone()
        state[table] = [int(count), str(xor)]
    return state


def cache_dir(db_path: Path) -> Path:
    db_path = Path(db_path)
    return db_path.with_name(f"{db_path.stem}.gold_features")


def cache_path(db_path: Path, key: GoldKey) -> Path:
    return cache_dir(db_path) / f"lead{key.lead}-{key.digest}.parquet"


def lookup(db_path: Path, key: GoldKey) -> Path | None:
    path = cache_path(db_path, key)
    return path if path.is_file() else None


def save(con: duckdb.DuckDBPyConnection, db_path: Path, key: GoldKey, order_by: str, relation: str) -> Path:
    """Export the mart just built for `key` (`relation`: where the build left it, spark_engine.mart_relation)
    to its cache file; drop the lead's older files."""
    path = cache_path(db_path, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic.replacing(path) as tmp:
        con.execute(f"copy (select * from {relation} order by {order_by}) to '{tmp}' (format parquet)")
    for old in path.parent.glob(f"lead{key.lead}-*.parquet"):
        if old != path:
            old.unlink(missing_ok=True)
    return path


def read(path: Path, order_by: str, seasons: list[str] | None = None) -> pd.DataFrame:
    """The cached mart as the store would return it (DuckDB's own conversion, session time zone UTC)."""
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        where, params = "", [str(path)]
        if seasons:
            where = "where season in (" + ",".join("?" for _ in seasons) + ")"
            params += list(seasons)
        return con.execute(f"select * from read_parquet(?) {where} order by {order_by}", params).df()
    finally:
        con.close()
