"""The run registry: every attempt of every command that writes a run, append-only JSON lines.

Path: <data_root>/registry/minutes_live_runs.jsonl, readable with pandas or DuckDB. An attempt writes two
lines with the same `attempt_id`: `status: started` when it begins, then `succeeded` or `failed` (with
`exit_code` and a one-line `error`) when it ends. A process killed mid-way writes no end line; the next
command that touches the same date finds the attempt (its process is gone) and appends `killed` for it
(`mark_killed`). `attempts()` folds the lines into one row per attempt. Each line is one `write` + fsync.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

FINAL_STATES = ("succeeded", "failed", "killed")


def registry_path(data_root: Path) -> Path:
    return Path(data_root) / "registry" / "minutes_live_runs.jsonl"


def append_entry(data_root: Path, entry: dict) -> Path:
    path = registry_path(data_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"recorded_at": datetime.now(UTC).isoformat(), **entry}, default=str, sort_keys=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def _lines(data_root: Path) -> list[dict]:
    path = registry_path(data_root)
    if not path.exists():
        return []
    out = []
    for raw in path.read_text().splitlines():
        try:
            out.append(json.loads(raw))
        except json.JSONDecodeError:  # a line torn by a crash mid-write is skipped, never fatal
            continue
    return out


def attempts(data_root: Path) -> list[dict]:
    """One dict per attempt: the started line updated by its end line (status = the final state, or
    `started` while it runs or until the next command marks it killed)."""
    folded: dict[str, dict] = {}
    for line in _lines(data_root):
        key = line.get("attempt_id")
        if key is None:
            continue
        folded.setdefault(key, {}).update(line)
    return list(folded.values())


def process_start_ticks(pid: int) -> int | None:
    """The kernel's start time of a process (clock ticks since boot), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def process_alive(pid: int, start_ticks: int | None = None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
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
        if a.get("date") != day or a.get("status") != "started" or a.get("host") != host:
            continue
        if process_alive(int(a["pid"]), a.get("proc_start")):
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
