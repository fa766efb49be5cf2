"""Immutable, versioned run directories with an atomically replaced `latest` pointer and pins.

Layout under a root (features, scores, reports):
    <root>/<date>/run=<run_id>/...        one immutable directory per run
    <root>/<date>/latest                  JSON pointer {"run_id", "run_as_of_ts", "published_at"}
    <root>/<date>/pinned                  JSON {"run_id", "pinned_at", "reason"} while a pin is set

A run is written into `<root>/<date>/.tmp-run=<run_id>-<pid>` and renamed into place only when complete,
so a crash leaves no half-written `run=` directory and `latest` on the previous complete run.
`latest` is written to a temp file and `os.replace`d (atomic on POSIX). While a pin is set, publishing a
newer run does not move `latest`; unpinning moves it to the newest complete run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

RUN_ID_RE = re.compile(r"\A[0-9]{8}T[0-9]{6}Z\Z", re.ASCII)  # ASCII only; no trailing newline


class RunDirectoryError(RuntimeError):
    """A run directory operation was refused; the message says why and how to proceed."""


def run_id_for(run_as_of_ts: datetime) -> str:
    if run_as_of_ts.tzinfo is None:
        raise RunDirectoryError("run_as_of_ts must be timezone-aware")
    return run_as_of_ts.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def validate_run_id(run_id: str) -> str:
    if not isinstance(run_id, str) or not RUN_ID_RE.match(run_id):
        raise RunDirectoryError(f"invalid run id {run_id!r}: expected YYYYMMDDTHHMMSSZ")
    return run_id


@dataclass(frozen=True)
class RunDirectory:
    root: Path
    day: date
    run_id: str

    @property
    def date_dir(self) -> Path:
        return self.root / self.day.isoformat()

    @property
    def path(self) -> Path:
        return self.date_dir / f"run={self.run_id}"

    def exists(self) -> bool:
        return self.path.is_dir()


def _write_json_atomic(path: Path, payload: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


@contextmanager
def staged_run(run: RunDirectory, *, replace: bool = False) -> Iterator[Path]:
    """Yield a temp directory to write the run into; on success rename it to `run=<id>`.

    Refuses an existing run id unless `replace=True` (the old directory is then moved aside
    and removed only after the new one is in place).
    """
    validate_run_id(run.run_id)
    if run.exists() and not replace:
        raise RunDirectoryError(
            f"run {run.run_id} for {run.day} already exists at {run.path}; runs are immutable "
            "(pass --replace to overwrite it deliberately, or use another --run-as-of-ts)"
        )
    run.date_dir.mkdir(parents=True, exist_ok=True)
    tmp = run.date_dir / f".tmp-run={run.run_id}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if run.exists():
        old = run.date_dir / f".old-run={run.run_id}-{os.getpid()}"
        os.rename(run.path, old)
    os.rename(tmp, run.path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def complete_runs(root: Path, day: date) -> list[str]:
    date_dir = Path(root) / day.isoformat()
    if not date_dir.is_dir():
        return []
    return sorted(p.name.removeprefix("run=") for p in date_dir.glob("run=*") if p.is_dir())


def latest_run_id(root: Path, day: date) -> str | None:
    pointer = read_json(Path(root) / day.isoformat() / "latest")
    return pointer["run_id"] if pointer else None


def pinned_run_id(root: Path, day: date) -> str | None:
    pin = read_json(Path(root) / day.isoformat() / "pinned")
    return pin["run_id"] if pin else None


def publish_latest(run: RunDirectory, run_as_of_ts: datetime | None = None) -> bool:
    """Point `latest` at this run unless a pin holds it elsewhere. Returns True when it moved."""
    if not run.exists():
        raise RunDirectoryError(f"cannot publish {run.path}: the run directory does not exist")
    pin = pinned_run_id(run.root, run.day)
    if pin is not None and pin != run.run_id:
        return False
    _write_json_atomic(
        run.date_dir / "latest",
        {
            "run_id": run.run_id,
            "run_as_of_ts": run_as_of_ts.isoformat() if run_as_of_ts else None,
            "published_at": datetime.now(UTC).isoformat(),
        },
    )
    return True


def pin(root: Path, day: date, run_id: str, reason: str = "") -> None:
    run = RunDirectory(Path(root), day, validate_run_id(run_id))
    if not run.exists():
        raise RunDirectoryError(f"cannot pin {run_id} for {day}: no such run under {run.date_dir}")
    _write_json_atomic(run.date_dir / "pinned", {"run_id": run_id, "pinned_at": datetime.now(UTC).isoformat(), "reason": reason})
    publish_latest(run)


def unpin(root: Path, day: date) -> str | None:
    """Remove the pin and move `latest` to the newest complete run. Returns that run id."""
    date_dir = Path(root) / day.isoformat()
    (date_dir / "pinned").unlink(missing_ok=True)
    runs = complete_runs(root, day)
    if not runs:
        return None
    publish_latest(RunDirectory(Path(root), day, runs[-1]))
    return runs[-1]


def resolve_latest(root: Path, day: date) -> Path | None:
    run_id = latest_run_id(root, day)
    return Path(root) / day.isoformat() / f"run={run_id}" if run_id else None
