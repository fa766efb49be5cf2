"""Run dbt as its own subprocess (DuckDB allows one writer per file; dbt must exit before we read).

dbt opens the store itself: when it fails because of the file (another holder, a damaged or read-only
store), the error is foundation.store's (exit 12 / 13), not a dbt build failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from foundation.settings import PROJECT_ROOT, duckdb_path
from foundation.store import store_error


class DbtError(RuntimeError):
    """dbt exited non-zero; the message carries the failing nodes from dbt's output."""


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(args: list[str], *, vars: dict | None = None, db_path: Path | None = None, quiet: bool = False) -> str:
    """Run `dbt <args>` in the project with the embedded profile; return stdout or raise DbtError."""
    cmd = [dbt_executable(), *args, "--profiles-dir", str(PROJECT_ROOT / "profiles"), "--project-dir", str(PROJECT_ROOT)]
    if args and args[0] == "build" and "--indirect-selection" not in args:
        # a test that touches a model outside the selection (e.g. one comparing live and gold) runs only
        # when all of its parents are selected
        cmd += ["--indirect-selection", "cautious"]
    if vars:
        cmd += ["--vars", json.dumps(vars, default=str)]
    # absolute: dbt runs in the project directory, the caller may not
    store = Path(db_path or duckdb_path()).absolute()
    env = {**os.environ, "MINUTES_LIVE_DUCKDB": str(store), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.run(cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        failure = store_error(proc.stdout + "\n" + proc.stderr, store)
        if failure is not None:
            raise failure
        lines = [ln for ln in proc.stdout.splitlines() if any(k in ln for k in ("ERROR", "FAIL", "Error", "error"))]
        detail = "\n".join(lines[-25:]) or proc.stdout[-3000:] + proc.stderr[-2000:]
        raise DbtError(f"dbt {' '.join(args)} failed (exit {proc.returncode}):\n{detail}")
    if not quiet:
        print(proc.stdout[-2000:])
    return proc.stdout
