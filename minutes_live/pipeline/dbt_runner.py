"""Run dbt as its own subprocess (DuckDB allows one writer per file; dbt must exit before we read).

Outcomes are the invocation's own (each call gets a fresh `--target-path`, so a stale file of an earlier
run is never read): every node that errored or failed becomes a `DbtNodeFailure` (unique_id, resource type,
name, the test's name for data tests, status, first line of dbt's message). A build, run, test, seed or
snapshot in its own target path runs with `--no-write-json` (writing manifest.json twice and
run_results.json cost about 0.5 s a run) and `--log-format json` on the console: its outcomes are then dbt's
structured events (each node's result event with its final status, RunResultError with the message; the
log file, logs/dbt.log, stays dbt's usual text), and the data tests' names and tested models come from the
invocation's partial-parse file, read only when a node failed. The events' text is what the heartbeat and
the returned output read, as with dbt's text console. With `--target-path` given by the caller, dbt writes
run_results.json and manifest.json as usual, and they are read instead.
Only when dbt stopped before running any node (a compile error, e.g. an invalid var) is its text output
used: the last error lines, as one line.
dbt opens the store itself: when it fails because of the file (another holder, a damaged or read-only
store), the error is foundation.store's (exit 12 / 13), not a dbt build failure."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from foundation import atomic
from foundation.guardrails import DbtBuildError
from foundation.logs import heartbeat_seconds
from foundation.settings import PROJECT_ROOT, duckdb_path
from foundation.store import connected, store_error

log = logging.getLogger(__name__)

FAILED_STATUSES = ("error", "fail", "runtime error")
_TIMESTAMP = re.compile(r"^(?:\x1b\[[0-9;]*m)*\d{2}:\d{2}:\d{2}\s+")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class DbtNodeFailure:
    """One node dbt reported as failed in run_results.json."""

    unique_id: str  # e.g. test.minutes_live.assert_live_slate_has_odds, model.minutes_live.stg_raw__odds
    resource_type: str  # model | test | seed | snapshot | operation (hooks) | unit_test
    name: str  # the node's name (a generic test's full name, e.g. min_available_per_team_features_...)
    status: str  # error | fail
    message: str  # first non-empty line of dbt's message
    test_name: str | None = None  # data tests: the singular test's name or the generic test's macro name
    attached_node: str | None = None  # generic tests: the model they test

    def describe(self) -> str:
        """'test assert_live_slate_has_odds' / 'test min_available_per_team on features_minutes_v1_live' / 'model x'."""
        if self.resource_type == "test" and self.test_name:
            on = f" on {self.attached_node.rsplit('.', 1)[-1]}" if self.attached_node and self.test_name != self.name else ""
            return f"test {self.test_name}{on}"
        return f"{self.resource_type} {self.name}"


class DbtError(DbtBuildError):
    """dbt exited non-zero. `failures` lists the failed nodes (from run_results.json or dbt's JSON log);
    `detail` is the last error lines of dbt's output when it stopped before running any node. str() is one
    line."""

    def __init__(self, args: list[str], returncode: int, failures: list[DbtNodeFailure], detail: str = ""):
        self.dbt_args = list(args)
        self.returncode = returncode
        self.failures = failures
        self.detail = detail
        super().__init__(self._summary())

    def _summary(self) -> str:
        head = f"dbt {' '.join(self.dbt_args[:1])} failed (exit {self.returncode})"
        if self.failures:
            first = self.failures[0]
            more = f" (+{len(self.failures) - 1} more failed node(s): " + ", ".join(
                f.name for f in self.failures[1:4]) + (", ..." if len(self.failures) > 4 else "") + ")"
            return f"{head}: {first.describe()} {first.status}: {first.message}" + (more if len(self.failures) > 1 else "")
        return f"{head} before running any node: {self.detail or 'no error text (see logs/dbt.log)'}"


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def _first_line(text: str | None) -> str:
    """The first non-empty line; when it is only dbt's header ("Runtime Error in model x (path)"), the cause
    on the next line is added ("...: Catalog Error: Table with name odds does not exist!")."""
    lines = [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return ""
    if len(lines) > 1 and re.match(r"^[\w ]*Error in \w+ \S+ \(.*\)$", lines[0]):
        return f"{lines[0]}: {lines[1]}"
    return lines[0]


def read_failures(target_path: Path) -> list[DbtNodeFailure] | None:
    """Failed nodes of the invocation whose target path this is; None when run_results.json is absent."""
    results_file = Path(target_path) / "run_results.json"
    if not results_file.is_file():
        return None
    results = json.loads(results_file.read_text()).get("results", [])
    failed = [r for r in results if str(r.get("status", "")).lower() in FAILED_STATUSES]
    if not failed:
        return []
    nodes: dict = {}
    manifest_file = Path(target_path) / "manifest.json"
    if manifest_file.is_file():
        manifest = json.loads(manifest_file.read_text())
        nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    out = []
    for r in failed:
        uid = r["unique_id"]
        node = nodes.get(uid, {})
        resource_type = node.get("resource_type") or uid.split(".", 1)[0]
        name = node.get("name") or uid.split(".")[2 if uid.count(".") >= 2 else -1]
        test_name = None
        if resource_type == "test":
            test_name = (node.get("test_metadata") or {}).get("name") or name
        out.append(DbtNodeFailure(
            unique_id=uid, resource_type=resource_type, name=name, status=str(r["status"]).lower(),
            message=_first_line(r.get("message")) or "(no message)", test_name=test_name,
            attached_node=node.get("attached_node"),
        ))
    return out


def _parsed_nodes(partial_parse: Path) -> dict:
    """unique_id -> node (name, resource_type, test_metadata, attached_node) from the invocation's partial-parse
    file (the manifest it ran); {} when unreadable (names then come from dbt's events alone)."""
    try:
        import msgpack

        state = msgpack.unpackb(partial_parse.read_bytes(), strict_map_key=False)
        return {**state.get("nodes", {}), **state.get("unit_tests", {})}
    except Exception:  # noqa: BLE001 - only a source of names: the failures are reported without them
        return {}


def read_failures_from_events(events: list[dict], partial_parse: Path | None = None) -> list[DbtNodeFailure] | None:
    """Failed nodes from dbt's structured console events (`--log-format json`): a node's final status is the
    node_status of its result event (LogModelResult, LogTestResult, ...), its message dbt's RunResultError
    for it. None when no event reports a node's result (dbt stopped before running any node)."""
    status: dict[str, str] = {}
    messages: dict[str, str] = {}
    names: dict[str, dict] = {}
    for event in events:
        data = event.get("data") or {}
        info = data.get("node_info") or {}
        uid = info.get("unique_id")
        if not uid:
            continue
        names.setdefault(uid, info)
        if (event.get("info") or {}).get("name") == "RunResultError":
            messages.setdefault(uid, str(data.get("msg", "")))
        node_status = str(info.get("node_status") or "").lower()
        if node_status and node_status not in ("none", "started", "compiling", "executing"):  # 'None': no status
            status[uid] = node_status
    if not status:
        return None
    failed = [uid for uid, st in status.items() if st in FAILED_STATUSES]
    if not failed:
        return []
    nodes = _parsed_nodes(partial_parse) if partial_parse is not None else {}
    out = []
    for uid in failed:
        node, info = nodes.get(uid, {}), names.get(uid, {})
        resource_type = node.get("resource_type") or info.get("resource_type") or uid.split(".", 1)[0]
        name = node.get("name") or info.get("node_name") or uid.split(".")[2 if uid.count(".") >= 2 else -1]
        test_name = None
        if resource_type == "test":
            test_name = (node.get("test_metadata") or {}).get("name") or name
        out.append(DbtNodeFailure(
            unique_id=uid, resource_type=resource_type, name=name, status=status[uid],
            message=_first_line(messages.get(uid)) or "(no message)", test_name=test_name,
            attached_node=node.get("attached_node"),
        ))
    return out


RULES_TEST = "column_rules"  # macros/tests/column_rules.sql: every column rule of a model in one test node


def describe_rule_failures(sql: str, db_path: Path, limit: int = 4) -> str | None:
    """The violated rules of a failed `column_rules` test, as one line ("minutes value_between(max_value=68,
    min_value=0) on 3 row(s); ..."): the test's compiled SQL run again on the store, once dbt has let go of
    it (only when the test failed). None when it cannot be read (the failure then keeps dbt's message)."""
    try:
        with connected(db_path, read_only=True) as con:
            rows = con.execute(f"select * from ({sql.strip().rstrip(';')}) as violated limit {limit + 1}").fetchall()
    except Exception:  # noqa: BLE001 - only a better message: dbt's stays
        return None
    if not rows:
        return None
    text = "; ".join(f"{column} {rule} on {failing} row(s)" for column, rule, failing in rows[:limit])
    return text + ("; ..." if len(rows) > limit else "")


def with_rules_named(failure: DbtNodeFailure, sql: str | None, db_path: Path) -> DbtNodeFailure:
    """A failed `column_rules` test's failure with its violated columns and rules in the message."""
    if failure.test_name != RULES_TEST or failure.status != "fail" or not sql:
        return failure
    described = describe_rule_failures(sql, db_path)
    return failure if described is None else replace(failure, message=f"{failure.message}: {described}")


def _compiled_test_sql(target: Path, name: str) -> str | None:
    """A test's compiled SQL as dbt wrote it under the invocation's target path (compiled/<package>/<file>/)."""
    for path in (target / "compiled").glob(f"**/{name}.sql"):
        return path.read_text()
    return None


def error_lines(stdout: str, stderr: str, limit: int = 6) -> str:
    """The last error block of dbt's text output (from its last '... Error' header), as one line."""
    lines = [_ANSI.sub("", _TIMESTAMP.sub("", ln)).strip() for ln in (stdout + "\n" + stderr).splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith(">")]  # '> in macro ...' call stacks
    starts = [i for i, ln in enumerate(lines) if re.search(r"\b(Error|ERROR|error)\b", ln)]
    if not starts:
        return " ".join(lines[-limit:])
    block = [ln for ln in lines[starts[-1]:] if not ln.startswith("Encountered an error")]
    if len(block) <= 1 and len(starts) > 1:  # the header alone: take the block before it too
        block = lines[starts[-2]:]
    return " ".join(block[:limit])


PARTIAL_PARSE = "partial_parse.msgpack"


def partial_parse_cache(dbt_target: str, store: Path, project_root: Path = PROJECT_ROOT) -> Path:
    """The shared partial-parse file for one dbt target and the store as the profile names it. dbt discards a
    partial parse whose rendered profile differs ("profile has changed"). On DuckDB the profile holds only the
    store's file name (`store_invocation`), so every store of that name (each dataset's minutes_live.duckdb,
    a copy elsewhere) shares one parse; two names keep two files, so stores built in turn do not make each
    other parse everything. Elsewhere the store's absolute path: one file per store."""
    import hashlib

    key = hashlib.sha256(store_invocation(dbt_target, store)[0].encode()).hexdigest()[:16]
    return Path(project_root) / "target" / "partial_parse" / f"{dbt_target}-{key}.msgpack"


def store_invocation(dbt_target: str, store: Path) -> tuple[str, Path]:
    """(MINUTES_LIVE_DUCKDB, working directory) of a dbt call on `store`: on DuckDB the file name, in the
    store's directory, so the rendered profile (and so dbt's partial parse) is the same for every store of
    that name; DuckDB still reports the store by its absolute path. Elsewhere (Spark, the warm worker's own
    parse, or a directory that does not exist yet), the absolute path from the project directory."""
    store = Path(store).absolute()
    if dbt_target == "embedded" and store.parent.is_dir():
        return store.name, store.parent
    return str(store), PROJECT_ROOT


def _share_partial_parse(src: Path, dst: Path) -> None:
    """Copy dbt's partial-parse state between the project target and an invocation's target (atomic)."""
    if not src.is_file():
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic.replacing(dst) as tmp:
            shutil.copyfile(src, tmp)
    except OSError:
        pass  # only a cache: parsing from scratch is slower, not wrong


# Named selections (selectors.yml): the Python jobs run exactly what a dbt user can run by the same name.
# Per kind of build: (history stale - the full lineage, also what a plain dbt user runs; history fresh -
# only what depends on the run, on the stored history). minutes_live/pipeline/history.py picks one.
BUILD_SELECTORS = {
    "live": ("live_slate", "live_slate_on_history"),  # the scheduled job / build_minutes_live
    "gold": ("gold_features", "gold_on_history"),  # train / backtest: the gold mart, no unit tests
    "overnight": ("overnight_gold", "overnight_gold"),  # the gold mart, its lineage and the unit tests
    "parity": ("parity", "parity"),  # both marts in one build
}
SELECTOR_HISTORY = "history"  # the history models alone (dbt users, the benchmark)
SELECTORS = tuple(sorted({name for pair in BUILD_SELECTORS.values() for name in pair} | {SELECTOR_HISTORY}))

# "12 of 82 OK created sql table model main.int_games ..." (hooks have their own "1 of 1" count: ignored)
_NODE_LINE = re.compile(r"^(\d+) of (\d+) (START|OK|PASS|WARN|ERROR|FAIL|SKIP|NO-OP|RUNTIME ERROR)\b\s*(.*)$")
_NODE_NAME = re.compile(r"(?:model|test|seed file|snapshot|unit_test|unit test)\s+(\S+)")


class DbtProgress:
    """What dbt has done so far, read from its console lines (for heartbeats; outcomes come from
    run_results.json)."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.done = 0
        self.failed = 0
        self.parsed = False
        self.running: dict[int, str] = {}

    def feed(self, line: str) -> None:
        clean = _ANSI.sub("", _TIMESTAMP.sub("", line)).strip()
        if clean.startswith("Found ") and " models" in clean:
            self.parsed = True
        if " hook: " in clean:
            return
        m = _NODE_LINE.match(clean)
        if not m:
            return
        index, total, status, rest = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
        self.total = total
        if status == "START":
            name = _NODE_NAME.search(rest)
            self.running[index] = (name.group(1) if name else rest.split(" ", 1)[0]).rstrip(".").split(".")[-1]
            return
        self.running.pop(index, None)
        self.done += 1
        if status in ("ERROR", "FAIL", "RUNTIME ERROR"):
            self.failed += 1

    def describe(self) -> str:
        if self.total is None:
            return "running hooks" if self.parsed else "parsing the project"
        text = f"{self.done}/{self.total} nodes"
        if self.failed:
            text += f" ({self.failed} failed)"
        if self.running:
            names = [n if len(n) <= 48 else n[:45] + "..." for n in list(self.running.values())[:2]]
            text += ", running " + ", ".join(names)
        return text


def _describe_selection(args: list[str]) -> str:
    if "--selector" in args:
        return f"--selector {args[args.index('--selector') + 1]}"
    if "--select" in args:
        return "--select " + args[args.index("--select") + 1]
    return ""


def _event_text(line: str, events: list[dict] | None) -> str:
    """A console line as text: a JSON event (`--log-format json`) is kept in `events` and rendered as dbt's
    text console prints it ('HH:MM:SS  msg'); any other line as is."""
    if events is None or not line.startswith("{"):
        return line
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return line
    events.append(event)
    info = event.get("info") or {}
    return f"{str(info.get('ts', ''))[11:19]}  {info.get('msg', '')}\n"


def _stream(pipe, sink: list[str], progress: DbtProgress | None, events: list[dict] | None = None) -> None:
    for line in iter(pipe.readline, ""):
        line = _event_text(line, events)
        sink.append(line)
        if progress is not None:
            progress.feed(line)
        log.debug("dbt| %s", _ANSI.sub("", line.rstrip("\n")))
    pipe.close()


def _run_streaming(cmd: list[str], env: dict, what: str, events: list[dict] | None = None,
                   cwd: Path = PROJECT_ROOT) -> tuple[int, str, str]:
    """Run dbt, reading its output as it comes: a heartbeat line every heartbeat_seconds() (elapsed time
    and nodes done), one line when it ends. With `events`, console lines that are JSON events are collected
    there (and read as their text)."""
    progress = DbtProgress()
    out: list[str] = []
    err: list[str] = []
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, bufsize=1)
    readers = [threading.Thread(target=_stream, args=(proc.stdout, out, progress, events), daemon=True),
               threading.Thread(target=_stream, args=(proc.stderr, err, None), daemon=True)]
    for r in readers:
        r.start()
    interval = heartbeat_seconds()
    next_beat = t0 + interval
    try:
        while True:
            try:
                proc.wait(timeout=min(1.0, interval))
                break
            except subprocess.TimeoutExpired:
                now = time.monotonic()
                if now >= next_beat:
                    log.info("%s: %.0f s, %s", what, now - t0, progress.describe())
                    next_beat = now + interval
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        for r in readers:
            r.join(timeout=10)
    elapsed = time.monotonic() - t0
    done = f"{progress.done}/{progress.total} nodes" if progress.total is not None else "no nodes run"
    outcome = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
    log.info("%s: %s, %s in %.1f s", what, outcome, done, elapsed)
    return proc.returncode, "".join(out), "".join(err)


TIMINGS_ENV = "MINUTES_LIVE_DBT_TIMINGS"  # a JSONL file: one line per dbt call, its nodes' execution times


def node_timings(events: list[dict]) -> dict[str, float]:
    """unique_id -> execution seconds, from the result events of dbt's structured console (the same numbers
    as run_results.json's execution_time), for the hooks and every node that ran."""
    out: dict[str, float] = {}
    for event in events:
        data = event.get("data") or {}
        uid = (data.get("node_info") or {}).get("unique_id")
        if uid and isinstance(data.get("execution_time"), int | float):
            out[uid] = round(float(data["execution_time"]), 3)
    return out


def _record_timings(what: str, events: list[dict], seconds: float) -> None:
    """With $MINUTES_LIVE_DBT_TIMINGS set (the engine benchmark): append this call's node timings there."""
    path = os.environ.get(TIMINGS_ENV)
    if not path:
        return
    line = json.dumps({"call": what, "wall_seconds": round(seconds, 2), "nodes": node_timings(events)})
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


RUN_PARAMS_ENV = "MINUTES_LIVE_RUN_PARAMS"
# commands whose outcomes are read from dbt's structured console events (--no-write-json --log-format json)
# when the invocation owns its target path
STRUCTURED_COMMANDS = ("build", "run", "test", "seed", "snapshot")


# A long-lived process's dbt (minutes_live/watch/warm_dbt.py: parsed once, nodes executed per build) takes
# the embedded builds while it is set; same arguments, same DbtError.
WARM_RUNNER = None


def run_dbt(args: list[str], *, vars: dict | None = None, params: dict | None = None, db_path: Path | None = None,
            quiet: bool = False) -> str:
    """Run `dbt <args>` in the project with the embedded profile; return stdout or raise DbtError.

    Run parameters go in `params` (env var MINUTES_LIVE_RUN_PARAMS, read by models/run/run_context.sql
    only, when dbt executes, never while it parses): a new run then re-parses nothing, where `--vars` (`vars`,
    kept for plain-dbt parity tests) would make it re-parse the whole project (dbt-core #6323). Never both.

    Without `--target-path` in args the invocation gets its own temporary target path (removed afterwards;
    the partial-parse cache is shared with the project's target/ so unchanged projects parse fast).
    dbt's output is read as it comes: a heartbeat log line every $MINUTES_LIVE_HEARTBEAT_SECONDS (15) with
    the nodes done so far, one line at the end, and (at DEBUG, `--verbose`) every line dbt prints."""
    from minutes_live.pipeline import spark_engine

    dbt_target = args[args.index("--target") + 1] if "--target" in args else spark_engine.dbt_target()
    if WARM_RUNNER is not None and dbt_target == "embedded" and args and args[0] == "build" and not vars \
            and "--target-path" not in args:
        return WARM_RUNNER(args, params=params, db_path=Path(db_path or duckdb_path()).absolute())
    # absolute: dbt runs in the project directory, the caller may not
    store = Path(db_path or duckdb_path()).absolute()
    # one partial-parse cache per dbt target and store (either change makes dbt parse everything again)
    shared_cache = partial_parse_cache(dbt_target, store)
    own_target = "--target-path" not in args
    target = Path(tempfile.mkdtemp(prefix="dbt-target-")) if own_target else Path(args[args.index("--target-path") + 1])
    if own_target:
        _share_partial_parse(shared_cache, target / PARTIAL_PARSE)
    cmd = [dbt_executable(), *args, "--profiles-dir", str(PROJECT_ROOT / "profiles"), "--project-dir", str(PROJECT_ROOT)]
    if "--target" not in args and dbt_target != "embedded":
        cmd += ["--target", dbt_target]
    if own_target:
        cmd += ["--target-path", str(target)]
    structured = own_target and bool(args) and args[0] in STRUCTURED_COMMANDS and not (
        {"--log-format", "--log-format-file", "--write-json", "--no-write-json"} & set(args))
    if structured:  # JSON on the console only: --log-format alone would make logs/dbt.log JSON too
        cmd += ["--no-write-json", "--log-format", "json", "--log-format-file", "debug"]
    if args and args[0] == "build" and "--select" in args and "--indirect-selection" not in args:
        # a test that touches a model outside the selection (e.g. one comparing live and gold) runs only
        # when all of its parents are selected (the named selectors say the same in selectors.yml)
        cmd += ["--indirect-selection", "cautious"]
    if vars and params is not None:
        raise ValueError("run_dbt: pass run parameters as params or as vars, not both")
    if vars:
        cmd += ["--vars", json.dumps(vars, default=str)]
    # unbuffered: dbt's lines reach the heartbeat as they are printed, not in 8 kB blocks
    store_setting, cwd = store_invocation(dbt_target, store)
    env = {**os.environ, "MINUTES_LIVE_DUCKDB": store_setting, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "PYTHONUNBUFFERED": "1"}
    env.pop(RUN_PARAMS_ENV, None)  # only this call's parameters, never an inherited one
    if dbt_target != "embedded":
        env.update(spark_engine.dbt_env(store))
    if params is not None:
        env[RUN_PARAMS_ENV] = json.dumps(params, default=str, sort_keys=True)
    what = f"dbt {args[0] if args else ''} {_describe_selection(args)}".strip()
    try:
        events: list[dict] = []
        t0 = time.monotonic()
        returncode, stdout, stderr = _run_streaming(cmd, env, what, events if structured else None, cwd=cwd)
        _record_timings(what, events, time.monotonic() - t0)
        if returncode != 0:
            failure = store_error(stdout + "\n" + stderr, store)
            if failure is not None:  # the store file itself (busy, damaged): exit 12 / 13, not a dbt failure
                raise failure
            failures = read_failures_from_events(events, target / PARTIAL_PARSE) if structured else read_failures(target)
            if dbt_target == "embedded":  # a failed column_rules test: name its columns and rules
                failures = [with_rules_named(f, _compiled_test_sql(target, f.name), store) for f in failures or []]
            detail = "" if failures else error_lines(stdout, stderr)
            raise DbtError(args, returncode, failures or [], detail)
    finally:
        if own_target:
            _share_partial_parse(target / PARTIAL_PARSE, shared_cache)
            shutil.rmtree(target, ignore_errors=True)
    if not quiet:
        log.info("dbt output (last lines):\n%s", stdout[-2000:].rstrip())
    return stdout
