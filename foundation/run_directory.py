"""Run ids and the immutable run directories consumers read.

Layout under a root (features, scores, reports):
    <root>/<date>/run=<run_id>/...        one immutable directory per run
    <root>/<date>/latest                  the run to serve: JSON {"run_id", "run_as_of_ts", "published_at"}

Runs are written into a temp sibling and renamed into place, and `latest` is moved for every root of a
date in one step: both live in foundation.publication. This module only names and reads runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from foundation.guardrails import InvalidInput

RUN_ID_RE = re.compile(r"\A[0-9]{8}T[0-9]{6}Z\Z", re.ASCII)  # ASCII only; no trailing newline


class RunDirectoryError(InvalidInput):
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


def read_json(path: Path) -> dict | None:
    """A pointer or summary file, or None when it is missing or damaged (not a JSON object: a warning names
    the file; a torn write is never fatal). foundation/state.py is the one defensive reader."""
    from foundation import state

    try:
        return state.read_object_or_warn(path)
    except NotADirectoryError:
        return None


def latest_run_id(root: Path, day: date) -> str | None:
    pointer = read_json(Path(root) / day.isoformat() / "latest")
    run_id = (pointer or {}).get("run_id")
    return run_id if isinstance(run_id, str) and RUN_ID_RE.match(run_id) else None


def resolve_latest(root: Path, day: date) -> Path | None:
    run_id = latest_run_id(root, day)
    return Path(root) / day.isoformat() / f"run={run_id}" if run_id else None
