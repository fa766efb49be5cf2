"""One writer at a time: a file lock around everything that writes the store or publishes a run.

DuckDB allows one writer per file, and two jobs publishing the same date could race on `latest`.
The second job waits up to `timeout` seconds, then exits with LockBusyError (exit code 12) naming
the lock file and the holder recorded in it. The holder file is written atomically (foundation/atomic.py) and
read defensively: a damaged one reads as an unknown holder. A lock or holder path that is not a regular file is
DamagedStateError (exit 16) naming it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from foundation import atomic, state
from foundation.guardrails import LockBusyError


def _holder(path: Path) -> str:
    try:
        holder = state.read_object(path)
    except state.DamagedStateError:
        return "unknown (its holder file is damaged)"
    return atomic.dumps(holder, indent=None) if holder else "unknown"


@contextmanager
def store_lock(data_root: Path, *, timeout: float = 600.0, what: str = "job") -> Iterator[None]:
    lock_dir = Path(data_root) / ".locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    lock_path = lock_dir / "store.lock"
    holder_path = lock_dir / "store.holder.json"
    for path in (lock_path, holder_path):
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise state.damaged(path, "is not a regular file (the store lock)")
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        holder = _holder(holder_path)
        raise LockBusyError(
            f"another job holds {lock_path} (holder: {holder}); waited {timeout:.0f}s. "
            "Retry later or raise --lock-timeout."
        ) from None
    try:
        atomic.write_json(holder_path, {"pid": os.getpid(), "host": socket.gethostname(), "what": what,
                                        "since": datetime.now(UTC).isoformat()})
        yield
    finally:
        holder_path.unlink(missing_ok=True)
        lock.release()
