"""The one way this project writes a file another process may read: a temp file beside the target, fsync,
`os.replace`, fsync of the folder. A reader sees the old bytes or the new ones, never a half-written file.

`refuse_symlink=True` (used by every writer whose target a user names, e.g. `--static DIR`, `runs export`)
refuses a target that is a symlink instead of writing through it. `overwrite=False` refuses an existing target.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from foundation.guardrails import InvalidInput


class TargetExistsError(InvalidInput, FileExistsError):
    """The target exists (or is a symlink) and overwriting was not asked for (`--force`): exit 2."""


def fsync_dir(folder: Path) -> None:
    """fsync a folder (its renames are durable); best effort."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes(path: Path | str, data: bytes, *, overwrite: bool = True, refuse_symlink: bool = False,
                mode: int = 0o666) -> Path:
    """Write `data` to `path` atomically; returns the path. `mode` is the new file's permissions from its
    creation (before the umask), e.g. 0o600 for a secret that must never be readable by others."""
    path = Path(path)
    if refuse_symlink and path.is_symlink():
        raise TargetExistsError(f"{path} is a symlink: refusing to write through it")
    if not overwrite and (path.exists() or path.is_symlink()):
        raise TargetExistsError(f"{path} exists (pass --force to replace it)")
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{os.urandom(4).hex()}")
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:  # a hard link fails if the target appeared meanwhile: an existing file is never replaced
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise TargetExistsError(f"{path} exists (pass --force to replace it)") from None
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)
    return path


def write_text(path: Path | str, text: str, **kw: Any) -> Path:
    return write_bytes(path, text.encode("utf-8"), **kw)


def _finite(value: Any) -> Any:
    """JSON has no NaN or Infinity: a non-finite float is written as null (readers of strict JSON keep working)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def dumps(payload: Any, *, indent: int | None = 2, first: tuple[str, ...] = ()) -> str:
    """Strict JSON (non-finite floats become null), keys sorted; the one encoder for state files.
    `first`: top-level keys written ahead of the sorted rest (a log line whose end is torn still says them)."""
    payload = _finite(payload)
    if first and isinstance(payload, dict):
        head = {k: payload[k] for k in first if k in payload}
        tail = {k: payload[k] for k in sorted(payload, key=str) if k not in head}
        ordered = {**head, **{k: _sorted(v) for k, v in tail.items()}}
        return json.dumps(ordered, indent=indent, default=str, allow_nan=False)
    return json.dumps(payload, indent=indent, sort_keys=True, default=str, allow_nan=False)


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def write_json(path: Path | str, payload: Any, **kw: Any) -> Path:
    return write_text(path, dumps(payload) + "\n", **kw)


def symlink(target: str, link: Path | str) -> Path:
    """Point `link` at `target` atomically (a reader sees the old target or the new one)."""
    link = Path(link)
    tmp = link.with_name(f".{link.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    try:
        os.replace(tmp, link)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(link.parent)
    return link


@contextmanager
def replacing(path: Path | str) -> Iterator[Path]:
    """For a writer that is not Python's (DuckDB's COPY, shutil): a temp path beside `path` to write, moved into
    place when the block ends without an error, removed otherwise."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{os.urandom(4).hex()}")
    try:
        yield tmp
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
