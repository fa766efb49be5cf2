"""The run registry: every attempt of every command that writes a run, append-only JSON lines.

Path: <data_root>/registry/minutes_live_runs.jsonl, readable with pandas or DuckDB. An attempt writes two
lines with the same `attempt_id`: `status: started` when it begins, then `succeeded` or `failed` (with
`exit_code` and a one-line `error`) when it ends. A process killed mid-way writes no end line; the next
command that touches the same date finds the attempt (its process is gone) and appends `killed` for it
(`mark_killed`). `attempts()` folds the lines into one row per attempt. Each line is one `write` + fsync.

Reading is defensive (foundation/state.py): a line that is not a JSON object, or whose `attempt_id`, `status`,
`date`, `run_id` or `pid` has the wrong shape, is skipped with a warning naming the file and line, so one bad
line never breaks a command or another date. Every line starts with `attempt_id` and `status`: an end line
torn by a crash mid-write still says which attempt ended and how, and appending ends a torn last line first.
A registry path that is not a file is a warning for readers and DamagedStateError (exit 16) for writers.

Events: besides the attempts, the retention commands record one line per archived date (`status: archived`,
`minutes-live gc`) and per restored run (`status: restored`, `minutes-live runs restore`), each with its own
`attempt_id` and an `event` field. `attempts()` leaves them out (they are not attempts: they never make a
dataset the default one, nor a run `killed`); `events()` returns them, in order.
"""

from __future__ import annotations

import os
import re
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from foundation import state
from foundation.atomic import dumps
from foundation.run_directory import RUN_ID_RE

STATES = ("started", "succeeded", "failed", "killed")
_TORN_RE = re.compile(r'\A\{"attempt_id": "(?P<attempt_id>[A-Za-z0-9_-]{1,64})", "status": "(?P<status>[a-z]+)"')
FINAL_STATES = ("succeeded", "failed", "killed")
EVENTS = ("archived", "restored")  # retention events (minutes_live/runs/retention.py), not attempts


def registry_path(data_root: Path) -> Path:
    return Path(data_root) / "registry" / "minutes_live_runs.jsonl"


def append_entry(data_root: Path, entry: dict) -> Path:
    line = dumps({"recorded_at": datetime.now(UTC).isoformat(), **entry}, indent=None, first=("attempt_id", "status"))
    return state.append_line(registry_path(data_root), line)


def _check(line: dict) -> str | None:
    """Why a registry line cannot be used (None when it can)."""
    attempt_id = line.get("attempt_id")
    if not isinstance(attempt_id, str) or not attempt_id:
        return "has no attempt_id string"
    if line.get("status") not in STATES + EVENTS:
        return f"has an unknown status {line.get('status')!r}"
    day = line.get("date")
    if day is not None:
        try:
            date_ok = isinstance(day, str) and bool(datetime.strptime(day, "%Y-%m-%d"))
        except ValueError:
            date_ok = False
        if not date_ok:
            return f"has a date that is not YYYY-MM-DD ({day!r})"
    run_id = line.get("run_id")
    if run_id is not None and not (isinstance(run_id, str) and RUN_ID_RE.match(run_id)):
        return f"has a run_id that is not an instant YYYYMMDDTHHMMSSZ ({run_id!r})"
    if line["status"] == "started":
        pid = line.get("pid")
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            return "is a started line without a pid"
        if line.get("proc_start") is not None and not isinstance(line.get("proc_start"), int):
            return "has a proc_start that is not an integer"
    return None


def _salvage(raw: str) -> dict | None:
    """What a torn line still says: its attempt and outcome (lines start with them)."""
    m = _TORN_RE.match(raw)
    if m is None or m["status"] not in FINAL_STATES:
        return None
    return {"attempt_id": m["attempt_id"], "status": m["status"], "torn": True}


def _lines(data_root: Path) -> list[dict]:
    out = []
    for line in state.iter_lines(registry_path(data_root), check=_check, salvage=_salvage):
        # an older writer's torn line followed by an appended one on the same line: both are kept
        out.append(line)
    return out


def attempts(data_root: Path, *, settle: bool = False) -> list[dict]:
    """One dict per attempt: the started line updated by its end line (status = the final state, or
    `started` while it runs or until the next command marks it killed). `settle=True` (readers) shows an
    attempt of this host whose process is gone as `killed` without writing anything."""
    folded: dict[str, dict] = {}
    for line in _lines(data_root):
        if line["status"] in EVENTS:
            continue
        row = folded.setdefault(line["attempt_id"], {})
        if row.get("status") in FINAL_STATES and line["status"] == "started":
            continue  # a started line after the end (a copied log): the end stands
        row.update(line)
    rows = [r for r in folded.values() if "date" in r or "run_id" in r or r.get("status") != "started"]
    if settle:
        for r in rows:
            if _dead(r):
                r["status"], r["error"] = "killed", "the process ended without recording an outcome (not yet marked)"
    return rows


def events(data_root: Path, *, day: str | None = None) -> list[dict]:
    """The retention events (archived, restored), in the order they were recorded; of one date when given."""
    return [line for line in _lines(data_root)
            if line["status"] in EVENTS and (day is None or line.get("date") == day)]


def append_event(data_root: Path, status: str, **fields) -> dict:
    """Record a retention event (`archived` or `restored`): one strict JSON line, fsynced."""
    if status not in EVENTS:
        raise ValueError(f"unknown registry event {status!r}")
    entry = {"attempt_id": uuid.uuid4().hex[:12], "status": status, "pid": os.getpid(),
             "host": socket.gethostname(), **fields}
    append_entry(data_root, entry)
    return entry


def _dead(a: dict) -> bool:
    """A started attempt of this host whose process is gone."""
    if a.get("status") != "started" or a.get("host") != socket.gethostname():
        return False
    pid = a.get("pid")
    if not isinstance(pid, int):
        return False
    return not process_alive(pid, a.get("proc_start") if isinstance(a.get("proc_start"), int) else None)


def process_start_ticks(pid: int) -> int | None:
    """The kernel's start time of a process (clock ticks since boot), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    try:
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def process_alive(pid: int, start_ticks: int | None = None) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError, ValueError):
        return False
    except PermissionError:
        return True
    if start_ticks is not None:
        now = process_start_ticks(pid)
        return now is None or now == start_ticks
    return True


@dataclass
class Attempt:
    """One attempt of a command for (date, run_id); `finish` writes its end line."""

    data_root: Path
    job: str
    date: str
    run_id: str
    run_as_of_ts: str
    attempt_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    finished: bool = False

    def start(self, **fields) -> Attempt:
        append_entry(self.data_root, {
            "attempt_id": self.attempt_id, "status": "started", "job": self.job, "date": self.date,
            "run_id": self.run_id, "run_as_of_ts": self.run_as_of_ts, "pid": os.getpid(),
            "proc_start": process_start_ticks(os.getpid()), "host": socket.gethostname(), **fields,
        })
        return self

    def finish(self, status: str, *, exit_code: int = 0, error: str | None = None, **fields) -> None:
        if self.finished:
            return
        entry = {"attempt_id": self.attempt_id, "status": status, "job": self.job, "date": self.date,
                 "run_id": self.run_id, "run_as_of_ts": self.run_as_of_ts, "exit_code": exit_code, **fields}
        if error is not None:
            entry["error"] = one_line(error)
        append_entry(self.data_root, entry)
        self.finished = True


def one_line(text: str, limit: int = 400) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def mark_killed(data_root: Path, day: str, note_for=None) -> list[dict]:
    """Append `killed` for every attempt of `day` on this host that started, never ended, and whose
    process is gone. `note_for(attempt)` may add a cause (e.g. what the recovery did with its files)."""
    host = socket.gethostname()
    killed = []
    for a in attempts(data_root):
        if a.get("date") != day or a.get("host") != host or not _dead(a):
            continue
        cause = "the process ended without recording an outcome (killed)"
        if note_for is not None:
            cause += f"; {note_for(a)}"
        entry = {"attempt_id": a["attempt_id"], "status": "killed", "job": a.get("job"), "date": day,
                 "run_id": a.get("run_id"), "run_as_of_ts": a.get("run_as_of_ts"), "exit_code": None,
                 "error": cause}
        append_entry(data_root, entry)
        killed.append(entry)
    return killed
