"""A dbt that stays loaded for the day: one process parses the project once, then executes nodes per build.

`minutes-live watch` re-runs the slate many times a day; a cold `dbt build` process pays for importing dbt
and loading the project on every run. `WarmDbt` starts one worker process (multiprocessing, spawn) that
imports dbt, parses the project once (`dbt parse`, the shared partial-parse cache), and then runs each
`dbt build --selector ...` with `dbtRunner(manifest=...)`: no parse, nodes only. The pipeline keeps calling
`minutes_live.pipeline.dbt_runner.run_dbt`; while `WarmDbt.installed()` is active, embedded builds go to
the worker (dbt_runner.WARM_RUNNER), with the same run parameters and the same `DbtError` on a failure.

Why a worker and not dbtRunner in the watcher itself, and what keeps the data fresh:
- DuckDB allows one writer per file. dbt-duckdb keeps its DuckDB environment in a class attribute
  (`DuckDBConnectionManager._ENV`) across invocations of one process; the worker closes that connection
  and drops the environment after every build, so between builds the file is free for the watcher's ingest
  and reads, and the next build opens the file again and sees every row stored since (no stale snapshot of
  the store). tests/python/minutes_live/watch/test_warm_dbt.py proves it on a real store.
- dbt compiles nodes into the manifest it runs, and a node whose ephemeral CTEs were injected once keeps that
  build's SQL; before each build the compiled state of every node is reset (`_fresh_compile_state`), so no
  SQL of an earlier build (another run's parameters) is ever reused.
- dbt's log file gets warnings and errors only from the worker (`--log-level-file warn`): a debug line per
  event of every refresh cost about a tenth of a build.
- The run parameters travel as the environment variable dbt reads when it executes (run_dbt's `params`),
  set in the worker for each build: never `--vars`, which would need a re-parse.
The worker's stdout is its stderr (dbt's console never mixes with the watcher's results); it ignores SIGINT
and SIGTERM (the watcher stops it between steps) and exits when the watcher's end of the pipe closes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from foundation.guardrails import DbtBuildError
from foundation.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 600.0


def _release_duckdb() -> None:
    """Close dbt-duckdb's cached DuckDB connection: the store file is free until the next build opens it."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter: nothing cached here
        return
    env = DuckDBConnectionManager._ENV
    conn = getattr(env, "conn", None)
    if conn is not None:
        with contextlib.suppress(Exception):
            conn.close()
        env.conn = None
    DuckDBConnectionManager.close_all_connections()


def _failures(result) -> list[dict]:
    """Failed nodes of a dbtRunner build result, as minutes_live.pipeline.dbt_runner.DbtNodeFailure fields."""
    from minutes_live.pipeline.dbt_runner import FAILED_STATUSES, _first_line

    out = []
    for r in getattr(result, "results", None) or []:
        status = str(getattr(r.status, "value", r.status)).lower()
        if status not in FAILED_STATUSES:
            continue
        node = r.node
        resource_type = str(getattr(node.resource_type, "value", node.resource_type))
        test_meta = getattr(node, "test_metadata", None)
        out.append({
            "unique_id": node.unique_id, "resource_type": resource_type, "name": node.name, "status": status,
            "message": _first_line(r.message) or "(no message)",
            "test_name": (test_meta.name if test_meta else node.name) if resource_type == "test" else None,
            "attached_node": getattr(node, "attached_node", None),
            "sql": getattr(node, "compiled_code", None) if resource_type == "test" else None,
        })
    return out


def _rules_named(failures: list[dict], db_path: Path) -> list[dict]:
    """The failures without their SQL, a failed column_rules test's message naming its columns and rules
    (dbt_runner.with_rules_named; run once the store is free again)."""
    from minutes_live.pipeline.dbt_runner import DbtNodeFailure, with_rules_named

    out = []
    for f in failures:
        sql = f.pop("sql", None)
        out.append(with_rules_named(DbtNodeFailure(**f), sql, db_path).__dict__.copy())
    return out


def _node_seconds(result) -> dict[str, float]:
    """unique_id -> execution seconds of every node of a dbtRunner build result (run_results.json's
    execution_time): what a refresh spends per node, for `WarmDbt.timings`."""
    return {r.node.unique_id: round(float(getattr(r, "execution_time", 0.0) or 0.0), 3)
            for r in getattr(result, "results", None) or []}


def _fresh_compile_state(manifest) -> None:
    """Forget what the last build compiled into the manifest. dbt renders a node's SQL again on every build,
    but a node whose ephemeral CTEs were injected once (`extra_ctes_injected`) keeps the injected SQL of that
    build: with the run parameters of another run, or without the CTEs at all. Resetting the five fields
    costs microseconds (a deep copy of the manifest costs seconds)."""
    for node in [*manifest.nodes.values(), *getattr(manifest, "unit_tests", {}).values()]:
        if not hasattr(node, "_pre_injected_sql"):  # seeds and snapshots: nothing compiled into them
            continue
        node.compiled = False
        node.compiled_code = None
        node.extra_ctes_injected = False
        node.extra_ctes = []
        node._pre_injected_sql = None


def _serve(conn, project_dir: str, profiles_dir: str) -> None:
    """The worker process: parse once, then one build per request until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.dup2(2, 1)  # dbt's console goes to stderr, never into the watcher's stdout
    from dbt.cli.main import dbtRunner

    from foundation.settings import duckdb_path
    from minutes_live.pipeline.dbt_runner import (
        PARTIAL_PARSE,
        RUN_PARAMS_ENV,
        _share_partial_parse,
        partial_parse_cache,
    )

    common = ["--profiles-dir", profiles_dir, "--project-dir", project_dir, "--quiet"]
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    os.chdir(project_dir)
    t0 = time.perf_counter()
    parse_target = Path(tempfile.mkdtemp(prefix="dbt-warm-parse-"))
    # its own file: this worker runs in the project directory, so its profile names the store by its absolute
    # path (dbt_runner's subprocesses by its name)
    shared = partial_parse_cache("embedded-warm", duckdb_path(), Path(project_dir))
    _share_partial_parse(shared, parse_target / PARTIAL_PARSE)
    parsed = dbtRunner().invoke(["parse", *common, "--target-path", str(parse_target)])
    _share_partial_parse(parse_target / PARTIAL_PARSE, shared)
    shutil.rmtree(parse_target, ignore_errors=True)
    if not parsed.success or parsed.result is None:
        conn.send({"ready": False, "error": f"dbt parse failed: {parsed.exception or 'see logs/dbt.log'}"})
        return
    manifest = parsed.result
    conn.send({"ready": True, "parse_seconds": round(time.perf_counter() - t0, 3)})
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        os.environ["MINUTES_LIVE_DUCKDB"] = request["db_path"]
        os.environ.pop(RUN_PARAMS_ENV, None)
        if request.get("params") is not None:
            os.environ[RUN_PARAMS_ENV] = json.dumps(request["params"], default=str, sort_keys=True)
        target = tempfile.mkdtemp(prefix="dbt-warm-target-")
        t0 = time.perf_counter()
        reply: dict
        try:
            _fresh_compile_state(manifest)
            res = dbtRunner(manifest=manifest).invoke(
                [*request["args"], *common, "--target-path", target, "--no-write-json", "--log-level-file", "warn"])
            reply = {"success": bool(res.success), "failures": _failures(res.result),
                     "exception": None if res.exception is None else str(res.exception),
                     "nodes": _node_seconds(res.result)}
        except BaseException as exc:  # noqa: BLE001 - reported to the watcher, which decides
            reply = {"success": False, "failures": [], "exception": f"{type(exc).__name__}: {exc}"}
        finally:
            _release_duckdb()
            shutil.rmtree(target, ignore_errors=True)
        reply["failures"] = _rules_named(reply["failures"], Path(request["db_path"]))
        reply["seconds"] = round(time.perf_counter() - t0, 3)
        conn.send(reply)


class WarmDbt:
    """The watcher's side of the worker (module docstring). `with WarmDbt().installed(): ...`"""

    def __init__(self, project_dir: Path = PROJECT_ROOT) -> None:
        self.project_dir = Path(project_dir)
        self.process = None
        self.conn = None
        self.parse_seconds: float | None = None
        self.builds = 0
        self.timings: list[dict] = []  # per build: its wall seconds in the worker and each node's seconds

    def start(self) -> WarmDbt:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, name="minutes-live-warm-dbt", daemon=True,
                                   args=(child, str(self.project_dir), str(self.project_dir / "profiles")))
        self.process.start()
        child.close()
        ready = self._receive(START_TIMEOUT_SECONDS, "parse the project")
        if not ready.get("ready"):
            self.close()
            raise DbtBuildError(f"the warm dbt worker could not start: {ready.get('error')}")
        self.parse_seconds = ready.get("parse_seconds")
        log.info("warm dbt: project parsed once in %.1f s (worker pid %s)", self.parse_seconds or 0, self.process.pid)
        return self

    def _receive(self, timeout: float | None, what: str) -> dict:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.conn.poll(0.2):
            if not self.process.is_alive():
                raise DbtBuildError(f"the warm dbt worker exited (code {self.process.exitcode}) during: {what}")
            if deadline is not None and time.monotonic() > deadline:
                raise DbtBuildError(f"the warm dbt worker did not {what} within {timeout:.0f} s")
        return self.conn.recv()

    def __call__(self, args: list[str], *, params: dict | None, db_path: Path) -> str:
        """One build (dbt_runner.run_dbt's contract): '' on success, DbtError (or the store's error) if not."""
        from foundation.store import store_error
        from minutes_live.pipeline.dbt_runner import DbtError, DbtNodeFailure

        if self.process is None or not self.process.is_alive():
            log.warning("warm dbt: the worker is gone; starting a new one")
            self.start()
        self.conn.send({"args": list(args), "params": params, "db_path": str(db_path)})
        reply = self._receive(None, " ".join(args[:3]))
        self.builds += 1
        self.timings.append({"seconds": reply["seconds"], "nodes": reply.get("nodes") or {}})
        log.info("warm dbt: %s in %.2f s (build %d of this worker)", " ".join(args[:3]), reply["seconds"], self.builds)
        if reply["success"]:
            return ""
        text = reply.get("exception") or ""
        failure = store_error(text, db_path)
        if failure is not None:
            raise failure
        failures = [DbtNodeFailure(**f) for f in reply["failures"]]
        raise DbtError(list(args), 1, failures, " ".join(text.split())[:400] if not failures else "")

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError, BrokenPipeError):
                self.conn.send(None)
        if self.process is not None:
            self.process.join(timeout=10)
            if self.process.is_alive():
                self.process.terminate()
                self.process.join(timeout=5)
        self.process = None

    @contextlib.contextmanager
    def installed(self) -> Iterator[WarmDbt]:
        """Route the pipeline's embedded dbt builds to this worker (started if needed) until the block ends."""
        from minutes_live.pipeline import dbt_runner

        if self.process is None:
            self.start()
        previous = dbt_runner.WARM_RUNNER
        dbt_runner.WARM_RUNNER = self
        try:
            yield self
        finally:
            dbt_runner.WARM_RUNNER = previous
            self.close()
