"""The one defensive way to read and append the project's state files (registry and drift logs, the publication
journal, pins, roots, run summaries).

Rules, the same for every family:
- a missing file is "nothing recorded" (None / no lines);
- a damaged file (a folder where a file belongs, unreadable bytes, not JSON, not a JSON object, a field of the
  wrong type) is never a traceback: a reader that can go on skips it with one warning naming the file
  (`warn`), a command that cannot go on raises `DamagedStateError` (exit 16) naming the file;
- a JSON-lines log is read line by line: a bad line is skipped with a warning (file and line number), and one
  bad line never hides another;
- appending to a JSON-lines log first ends a torn last line (a crash mid-write), so the torn bytes never
  swallow the next line;
- a control file that is damaged and in the way (journal.json) is quarantined, renamed to
  `<name>.damaged-<UTC stamp>` beside it, never deleted.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from foundation.guardrails import DamagedStateError

__all__ = ["DamagedStateError", "append_line", "damaged", "iter_lines", "loads", "quarantine", "read_object",
           "read_object_or_warn", "read_table", "warn"]

log = logging.getLogger("minutes_live.state")
_warned: set[tuple[str, str]] = set()


def warn(path: Path | str, reason: str) -> None:
    """One warning per (file, reason) per process: `<path>: <reason>`."""
    key = (str(path), reason)
    if key in _warned:
        return
    _warned.add(key)
    log.warning("%s: %s", path, reason)


def damaged(path: Path | str, reason: str) -> DamagedStateError:
    return DamagedStateError(f"{path}: {reason}; repair or remove it")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number {name}")


def loads(text: str) -> Any:
    """Strict JSON: NaN, Infinity and numbers too large for a float are refused (ValueError)."""
    value = json.loads(text, parse_constant=_reject_constant)
    _check_finite(value)
    return value


def _check_finite(value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("non-finite number")
    if isinstance(value, dict):
        for v in value.values():
            _check_finite(v)
    elif isinstance(value, list):
        for v in value:
            _check_finite(v)


def read_object(path: Path | str, *, check: Callable[[dict], str | None] | None = None) -> dict | None:
    """A JSON object file: None when missing; DamagedStateError (naming the file and what is wrong) when it is
    a folder, unreadable, not strict JSON, not an object, or `check(obj)` returns a reason."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_dir():
        raise damaged(path, "is a folder, expected a JSON file")
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:  # a dangling symlink or removed meanwhile
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise damaged(path, f"unreadable ({exc.__class__.__name__})") from None
    try:
        obj = loads(text)
    except (ValueError, RecursionError) as exc:
        raise damaged(path, f"not valid JSON ({one_reason(exc)})") from None
    if not isinstance(obj, dict):
        raise damaged(path, f"holds a JSON {type(obj).__name__}, expected an object")
    reason = check(obj) if check is not None else None
    if reason:
        raise damaged(path, reason)
    return obj


def read_object_or_warn(path: Path | str, **kw: Any) -> dict | None:
    """`read_object` for readers that can go on: a damaged file is a warning and None."""
    try:
        return read_object(path, **kw)
    except DamagedStateError as exc:
        warn(path, str(exc).removeprefix(f"{path}: "))
        return None


def quarantine(path: Path, reason: str) -> Path | None:
    """Rename a damaged control file aside (`<name>.damaged-<stamp>`) with a warning; the bytes are kept."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    try:
        os.replace(path, target)
    except FileNotFoundError:
        return None
    log.warning("%s: %s; moved aside to %s", path, reason, target.name)
    return target


def one_reason(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:160]


# -------------------------------------------------------------------------------------- JSON-lines logs
def iter_lines(path: Path, *, check: Callable[[dict], str | None] | None = None,
               salvage: Callable[[str], dict | None] | None = None) -> Iterator[dict]:
    """The objects of a JSON-lines log, oldest first. A missing log has none; a log that is a folder or
    unreadable is one warning and none; a line that is not a strict JSON object, or that `check` rejects, is
    skipped with a warning naming the file and line (`salvage(raw)` may still recover what a torn line says)."""
    path = Path(path)
    if not path.exists():
        return
    if path.is_dir():
        warn(path, "is a folder, expected a JSON-lines file; nothing read from it")
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        warn(path, f"unreadable ({exc.__class__.__name__}); nothing read from it")
        return
    for number, raw_bytes in enumerate(data.split(b"\n"), start=1):
        if not raw_bytes.strip():
            continue
        raw = raw_bytes.decode("utf-8", errors="replace")
        try:
            obj = loads(raw)
        except (ValueError, RecursionError):
            rescued = salvage(raw) if salvage is not None else None
            if rescued is None:
                warn(path, f"line {number} is not valid JSON (torn or foreign); skipped")
                continue
            warn(path, f"line {number} is torn; kept what it says: {sorted(rescued)}")
            obj = rescued
        if not isinstance(obj, dict):
            warn(path, f"line {number} holds a JSON {type(obj).__name__}, expected an object; skipped")
            continue
        reason = check(obj) if check is not None else None
        if reason:
            warn(path, f"line {number} {reason}; skipped")
            continue
        yield obj


def append_line(path: Path, line: str) -> Path:
    """Append one line (one write + fsync). A torn last line (no trailing newline: a crash mid-write) is ended
    first, so it never swallows this one. A log path that is not a regular file is DamagedStateError."""
    path = Path(path)
    if "\n" in line:
        raise ValueError("a log line must not contain a newline")
    if path.exists() and not path.is_file():
        raise damaged(path, "is not a regular file (a folder?), cannot append to it")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    except IsADirectoryError:
        raise damaged(path, "is a folder, cannot append to it") from None
    try:
        size = os.fstat(fd).st_size
        prefix = b""
        if size and os.pread(fd, 1, size - 1) != b"\n":
            prefix = b"\n"
        os.write(fd, prefix + line.encode("utf-8") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


# ----------------------------------------------------------------------------------------- run tables
def read_table(path: Path | str, *, metadata_only: bool = False, **kw: Any):
    """A run's csv or parquet file as a DataFrame: None when missing, DamagedStateError naming the file when it
    cannot be read (garbage, truncated, empty, a folder, a column asked for in `usecols` missing).
    `metadata_only` checks a parquet footer without reading the data (cheap enough for a listing)."""
    import pandas as pd

    path = Path(path)
    if not path.exists():
        return None
    if not path.is_file():
        raise damaged(path, "is not a file")
    kind = path.suffix.lstrip(".") or "file"
    try:
        if path.suffix == ".parquet":
            if metadata_only:
                import pyarrow.parquet as pq

                pq.read_metadata(path)
                return None
            return pd.read_parquet(path, **kw)
        return pd.read_csv(path, **kw)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise damaged(path, f"unreadable {kind} ({one_reason(exc)})") from None
    except Exception as exc:  # pyarrow's own errors that are not ValueErrors
        raise damaged(path, f"unreadable {kind} ({type(exc).__name__}: {one_reason(exc)})") from None
