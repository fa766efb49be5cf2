"""The Spark target (profiles/profiles.yml `spark`, dbt-spark): how raw snapshots reach it and how the scorer
reads its marts back. docs/scale_out.md.

The ingestors write only the DuckDB raw store. Before a Spark build, `export_raw` writes each raw table as
one parquet file under `<spark dir>/raw/<table>/` (the same rows, content hashes included: DuckDB's COPY,
no transformation), and the on-run-start hook `register_raw_sources` (macros/spark_engine.sql) registers
those directories as the tables of Spark database `raw`, which the dbt sources name. The marts' post-hook
`export_mart` writes each built mart to `<spark dir>/export/<mart>/` as parquet, which the runner reads
through `mart_relation` (build_live.read_mart, the gold cache).

The Spark directory belongs to one DuckDB store: `<store's directory>/spark` (MINUTES_LIVE_SPARK_DIR
overrides it). It holds the Derby metastore, the warehouse, the raw export and the mart exports.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

from foundation.guardrails import DbtBuildError, InvalidInput
from foundation.store import connected
from snapshots_ingest.raw_store import KINDS

log = logging.getLogger(__name__)

SPARK_DIR_ENV = "MINUTES_LIVE_SPARK_DIR"
TARGET_ENV = "MINUTES_LIVE_DBT_TARGET"
TARGETS = ("embedded", "spark", "spark_cluster")
RAW_TABLES = KINDS  # the raw tables, which the dbt sources name (schema raw)
EXPORT_STATE = "_export.json"


class SparkTargetError(DbtBuildError):
    """The Spark target cannot build here (extra not installed, no Java) or left no export of a mart:
    exit 10, as a dbt build that could not run."""


def dbt_target() -> str:
    """The dbt target of this process: MINUTES_LIVE_DBT_TARGET (embedded | spark | spark_cluster)."""
    target = os.environ.get(TARGET_ENV, "embedded").strip() or "embedded"
    if target not in TARGETS:
        raise InvalidInput(f"{TARGET_ENV}={target!r} is not one of {', '.join(TARGETS)}")
    return target


def select_target(target: str | None) -> str:
    """Validate a `--target` flag (None: MINUTES_LIVE_DBT_TARGET, else embedded) and make it this process's
    dbt target (every dbt call, every mart read). Before any work: an unknown name exits 2, a Spark target
    without the Spark extra or Java exits 10 naming what to install."""
    if target is not None and target not in TARGETS:
        raise InvalidInput(f"--target {target!r} is not one of {', '.join(TARGETS)}")
    if target is not None:
        os.environ[TARGET_ENV] = target
    chosen = dbt_target()
    if is_spark(chosen):
        check_installed()
    return chosen


def is_spark(target: str | None = None) -> bool:
    return (target or dbt_target()) != "embedded"


def spark_dir(db_path: Path) -> Path:
    """The Spark directory of the store `db_path` (absolute)."""
    explicit = os.environ.get(SPARK_DIR_ENV)
    return Path(explicit).absolute() if explicit else Path(db_path).absolute().parent / "spark"


def check_installed() -> None:
    """A clear error when the Spark extra or Java is missing (before dbt prints a stack trace)."""
    try:
        import dbt.adapters.spark  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise SparkTargetError(
            f"the spark target needs the Spark extra: pip install -e '.[spark]' (-r requirements-spark.lock); {exc}"
        ) from None
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        raise SparkTargetError("the spark target needs Java 17: apt-get install openjdk-17-jre-headless (or set JAVA_HOME)")


def _table_state(con, table: str) -> list:
    row = con.execute(f"select count(*), max(ingested_at)::varchar from raw.{table}").fetchone()
    return [int(row[0]), row[1]]


def export_raw(db_path: Path, target_dir: Path | None = None) -> dict:
    """Write the raw tables of the DuckDB store as parquet for Spark, skipping tables whose rows did not
    change (raw tables are append-only: row count and newest ingested_at identify their content).
    Each table is written to a temporary directory and swapped in, so Spark never reads half a file.
    Returns {table: rows}."""
    out_dir = (target_dir or spark_dir(db_path)) / "raw"
    out_dir.mkdir(parents=True, exist_ok=True)
    state_file = out_dir / EXPORT_STATE
    previous = json.loads(state_file.read_text()) if state_file.is_file() else {}
    state: dict = {}
    t0 = time.perf_counter()
    written = []
    with connected(db_path, read_only=True) as con:
        for table in RAW_TABLES:
            state[table] = _table_state(con, table)
            final = out_dir / table
            if previous.get(table) == state[table] and (final / "part-0.parquet").is_file():
                continue
            tmp = out_dir / f".{table}.{os.getpid()}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            con.execute(f"copy (select * from raw.{table}) to '{tmp / 'part-0.parquet'}' (format parquet)")
            old = out_dir / f".{table}.{os.getpid()}.old"
            if final.exists():
                final.rename(old)
            tmp.rename(final)
            shutil.rmtree(old, ignore_errors=True)
            written.append(table)
    state_file.write_text(json.dumps(state, indent=1) + "\n")
    log.info("spark: raw export %s (%s) in %.1f s", ", ".join(written) if written else "unchanged",
             ", ".join(f"{t} {state[t][0]}" for t in RAW_TABLES), time.perf_counter() - t0)
    return {t: state[t][0] for t in RAW_TABLES}


def export_path(db_path: Path, mart: str) -> Path:
    return spark_dir(db_path) / "export" / mart


def mart_relation(db_path: Path, mart: str) -> str:
    """Where the runner reads `mart` after a build of this process's dbt target, as SQL for a connection to
    the store: the store's table, or on Spark read_parquet over the export the post-hook wrote."""
    if not is_spark():
        return f"main.{mart}"
    path = export_path(db_path, mart)
    files = sorted(str(f) for f in path.glob("*.parquet"))
    if not files:
        raise SparkTargetError(f"no parquet export of {mart} under {path}: did the Spark build of it run?")
    return "read_parquet([" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "])"


def clear_exports(db_path: Path) -> None:
    """Before a Spark build: no mart export of an earlier build can be read as this one's."""
    shutil.rmtree(spark_dir(db_path) / "export", ignore_errors=True)


def dbt_env(db_path: Path) -> dict[str, str]:
    """What a dbt call on the Spark target needs in its environment."""
    return {SPARK_DIR_ENV: str(spark_dir(db_path))}
