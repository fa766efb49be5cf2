"""The Spark target (profiles/profiles.yml `spark`, dbt-spark): how raw snapshots reach it and how the scorer
reads its marts back. docs/scale_out.md.

The ingestors write only the DuckDB raw store. Before a Spark build, `export_raw` writes each raw table as
one parquet file under `<spark dir>/raw/<table>/` (the same rows, content hashes included: DuckDB's COPY,
no transformation), and the on-run-start hook `register_raw_sources` (macros/spark_engine.sql) registers
those directories as the tables of Spark database `raw`, which the dbt sources name. The marts' post-hook
`export_mart` writes each built mart to `<spark dir>/export/<mart>/` as parquet, which the runner reads
through `mart_relation` (build_live.read_mart, the gold cache).

The Spark directory belongs to one DuckDB store: `<store's directory>/spark` (MINUTES_LIVE_SPARK_DIR
overrides it). It holds the raw export and the mart exports, and on the `spark` (session) target the
Derby metastore and the warehouse too.

The exchange with a cluster (`spark_cluster`) is explicit: the runner writes the raw export and reads the
mart exports in the Spark directory, a path on this machine; the cluster reads and writes the same
directories under the URIs `exchange_uris` gives its hooks: `file://<Spark directory>/raw` and `/export` by
default (a scheme, so a cluster whose default file system is HDFS does not resolve them there, and an
absolute path, so the cluster's own working directory does not matter). An operator whose cluster sees the
directory elsewhere (an object store mounted here, e.g. s3://bucket/minutes_live at /mnt/minutes_live) sets
MINUTES_LIVE_SPARK_DIR to the mount and MINUTES_LIVE_SPARK_RAW_URI / MINUTES_LIVE_SPARK_EXPORT_URI to the
cluster's URIs of its `raw` and `export` directories.

History on Spark (minutes_live/pipeline/history.py): `history_state` reads int_history_state and the list of
stored tables from the engine that holds them (the cluster through its Thrift server; the session target's
warehouse directory, which only this machine writes), and `drop_history_state` removes it before a rebuild.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
from pathlib import Path

from foundation.guardrails import DbtBuildError, InvalidInput
from foundation.store import connected
from snapshots_ingest.raw_store import KINDS

log = logging.getLogger(__name__)

SPARK_DIR_ENV = "MINUTES_LIVE_SPARK_DIR"
RAW_URI_ENV = "MINUTES_LIVE_SPARK_RAW_URI"  # the cluster's URI of <Spark dir>/raw (macros/spark_engine.sql)
EXPORT_URI_ENV = "MINUTES_LIVE_SPARK_EXPORT_URI"  # the cluster's URI of <Spark dir>/export
SCHEMA_ENV = "MINUTES_LIVE_SPARK_SCHEMA"  # the profile's schema (profiles/profiles.yml)
TARGET_ENV = "MINUTES_LIVE_DBT_TARGET"
TARGETS = ("embedded", "spark", "spark_cluster")
RAW_TABLES = KINDS  # the raw tables, which the dbt sources name (schema raw)
EXPORT_STATE = "_export.json"
RAW_REGISTER_ENV = "MINUTES_LIVE_SPARK_RAW_REGISTER"  # {table: export tag} the hook (re-)registers (JSON)
TAG_PROPERTY = "minutes_live.export_tag"  # the table property that carries a registration's export tag
# The session target's driver JVM lives for one dbt call: the quick JIT tier and one GC thread cost it less
# CPU than the top tier and a parallel collector would save (docs/scale_out.md, "The session JVM").
JAVA_OPTS_ENV = "MINUTES_LIVE_SPARK_JAVA_OPTS"  # appended to the driver's Java options (profiles/profiles.yml)
SESSION_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"


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


def check_installed(target: str | None = None) -> None:
    """A clear error when the Spark extra or Java is missing (before dbt prints a stack trace); the
    `spark_cluster` target also needs the Thrift client (PyHive, in the extra)."""
    try:
        import dbt.adapters.spark  # noqa: F401
        import pyspark  # noqa: F401
        if (target or dbt_target()) == "spark_cluster":
            import pyhive.hive  # noqa: F401
            import thrift_sasl  # noqa: F401
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


def exchange_uris(db_path: Path) -> dict[str, str]:
    """Where the cluster reads the raw export and writes the mart exports: MINUTES_LIVE_SPARK_RAW_URI and
    MINUTES_LIVE_SPARK_EXPORT_URI when the operator set them, else file:// URIs of the Spark directory's
    `raw` and `export` (absolute). A relative URI is refused: the cluster would resolve it against its own
    working directory, not this process's."""
    base = spark_dir(db_path)
    uris = {}
    for env, sub in ((RAW_URI_ENV, "raw"), (EXPORT_URI_ENV, "export")):
        given = os.environ.get(env, "").strip().rstrip("/")
        if given and "://" not in given and not given.startswith("/"):
            raise InvalidInput(f"{env}={given!r} is relative: the cluster would resolve it against its own working "
                               "directory; give an absolute path or a URI (file:///..., s3a://..., dbfs:/...)")
        uris[env] = given or (base / sub).as_uri()
    return uris


def dbt_env(db_path: Path) -> dict[str, str]:
    """What a dbt call on the Spark target needs in its environment: the Spark directory, the URIs under
    which the engine reads the raw export and writes the mart exports, (when the raw export exists) which
    raw tables the on-run-start hook must (re-)register, with each one's export tag, and on the session
    target the driver JVM's options."""
    env = {SPARK_DIR_ENV: str(spark_dir(db_path)), **exchange_uris(db_path)}
    if dbt_target() == "spark":  # a new, short-lived driver JVM per dbt call
        env[JAVA_OPTS_ENV] = os.environ.get(JAVA_OPTS_ENV, SESSION_JAVA_OPTIONS)
    register = raw_registration(db_path, env[RAW_URI_ENV])
    if register is not None:
        env[RAW_REGISTER_ENV] = json.dumps(register, sort_keys=True)
    return env


def export_tag(db_path: Path, table: str) -> str | None:
    """The identity of `table`'s exported file (size, mtime, inode): a rewritten export has another tag, so
    the cluster never reads it through the file listing it cached for the previous file."""
    try:
        st = (spark_dir(db_path) / "raw" / table / "part-0.parquet").stat()
    except OSError:
        return None
    return hashlib.sha256(f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}".encode()).hexdigest()[:16]


def raw_registration(db_path: Path, raw_uri: str) -> dict[str, str] | None:
    """{table: export tag} of the raw tables the hook `register_raw_sources` must (re-)register, or None when
    there is no complete export (the hook then registers every table, untagged). On the cluster a table
    registered at the same location for the same export tag is kept: asking costs two small statements, where
    registering the five tables costs eleven on the build's critical path. The session target starts a new
    engine in every dbt call, so it registers all."""
    tags = {t: export_tag(db_path, t) for t in RAW_TABLES}
    if any(tag is None for tag in tags.values()):
        return None
    if dbt_target() != "spark_cluster":
        return tags
    try:
        held = registered_raw_tables()
    except Exception as exc:  # noqa: BLE001 - any failure to ask means: register them all
        log.info("spark: raw tables re-registered (cannot list them: %s)", str(exc).splitlines()[0] if str(exc) else exc)
        return tags
    need = {t: tag for t, tag in tags.items() if held.get(t) != (_location(f"{raw_uri}/{t}"), tag)}
    log.info("spark: raw tables %s", f"re-registered: {', '.join(sorted(need))}" if need
             else "registered on the cluster for this export: kept")
    return need


def _location(uri: str) -> str:
    """A table location as Spark shows it: file:///a/b is shown as file:/a/b."""
    uri = uri.rstrip("/")
    return "file:/" + uri[len("file:"):].lstrip("/") if uri.startswith("file:") else uri


def registered_raw_tables() -> dict[str, tuple[str, str | None]]:
    """{table: (location, export tag)} of database `raw` on the cluster (SHOW DATABASES, SHOW TABLE EXTENDED)."""
    con = thrift_connection()
    try:
        cur = con.cursor()
        cur.execute("show databases like 'raw'")
        if not cur.fetchall():
            return {}
        cur.execute("show table extended in raw like '*'")
        held = {}
        for row in cur.fetchall():
            info = str(row[-1])
            location = re.search(r"^Location: (.+)$", info, re.M)
            tag = re.search(rf"{re.escape(TAG_PROPERTY)}=([0-9a-f]+)", info)
            held[str(row[1])] = (location.group(1).strip() if location else "", tag.group(1) if tag else None)
        return held
    finally:
        con.close()


def schema() -> str:
    return os.environ.get(SCHEMA_ENV, "minutes_live").strip() or "minutes_live"


def thrift_connection():
    """A PyHive connection to the `spark_cluster` target's Thrift server (the profile's env vars), UTC."""
    from pyhive import hive

    return hive.connect(host=os.environ.get("MINUTES_LIVE_SPARK_HOST", "localhost"),
                        port=int(os.environ.get("MINUTES_LIVE_SPARK_PORT", "10000")),
                        username=os.environ.get("MINUTES_LIVE_SPARK_USER", "minutes_live"),
                        configuration={"spark.sql.session.timeZone": "UTC"})


STATE_COLUMNS = ("history_cap_ts", "project_sha", "box_score_rows", "box_scores_max_ingested_at",
                 "played_schedule_rows", "played_schedules_max_ingested_at")


def history_state(db_path: Path, table: str = "int_history_state") -> tuple[set[str], list[tuple]]:
    """(tables stored in the target's schema, the rows of `table` as STATE_COLUMNS) as the Spark engine holds
    them: the cluster answers through its Thrift server (two small queries); the session target's warehouse
    is a directory of this machine, read with DuckDB (a session JVM would cost 10-15 s). Raises
    SparkTargetError when the engine cannot be asked (history.py then rebuilds)."""
    columns = ", ".join(STATE_COLUMNS)
    if dbt_target() == "spark_cluster":
        try:
            con = thrift_connection()
            try:
                cur = con.cursor()
                cur.execute(f"show databases like '{schema()}'")
                if not cur.fetchall():
                    return set(), []
                cur.execute(f"show tables in {schema()}")
                tables = {str(r[1]) for r in cur.fetchall()}
                if table not in tables:
                    return tables, []
                cur.execute(f"select {columns} from {schema()}.{table}")
                return tables, [tuple(r) for r in cur.fetchall()]
            finally:
                con.close()
        except Exception as exc:  # noqa: BLE001 - any failure to ask means: do not reuse
            raise SparkTargetError(f"cannot read {schema()}.{table} from the Thrift server: "
                                   f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    import duckdb

    root = spark_dir(db_path) / "warehouse" / f"{schema()}.db"
    tables = {d.name for d in root.iterdir() if d.is_dir() and any(d.glob("*.parquet"))} if root.is_dir() else set()
    if table not in tables:
        return tables, []
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        rows = con.execute(f"select {columns} from read_parquet('{root / table}/*.parquet')").fetchall()
    except duckdb.Error as exc:
        raise SparkTargetError(f"cannot read {root / table}: {exc}") from None
    finally:
        con.close()
    return tables, rows


def drop_history_state(db_path: Path, table: str = "int_history_state") -> None:
    """Before a Spark build that rebuilds history (and after one that failed): no state of history is left,
    so an unfinished build is never reused."""
    if dbt_target() == "spark_cluster":
        try:
            con = thrift_connection()
            try:
                con.cursor().execute(f"drop table if exists {schema()}.{table}")
            finally:
                con.close()
        except Exception as exc:  # noqa: BLE001
            log.warning("spark: could not drop %s.%s (%s): the next build rebuilds history if it cannot read it",
                        schema(), table, exc)
        return
    # the session target's managed table: without its files it reads as empty, which history.py rebuilds
    shutil.rmtree(spark_dir(db_path) / "warehouse" / f"{schema()}.db" / table, ignore_errors=True)
