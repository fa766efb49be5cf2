"""One writer at a time: a file lock around everything that writes the store or publishes a run.

DuckDB allows one writer per file, and two jobs publishing the same date could race on `latest`.
The second job waits up to `timeout` seconds, then exits with LockBusyError (exit code 12) naming
the lock file and the holder recorded in it.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from foundation.guardrails import LockBusyError


@contextmanager
def store_lock(data_root: Path, *, timeout: float = 600.0, what: str = "job") -> Iterator[None]:
    lock_dir = Path(data_root) / ".locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    lock_path = lock_dir / "store.lock"
    holder_path = lock_dir / "store.holder.json"
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        holder = holder_path.read_text().strip() if holder_path.exists() else "unknown"
        raise LockBusyError(
            f"another job holds {lock_path} (holder: {holder}); waited {timeout:.0f}s. "
            "Retry later or raise --lock-timeout."
        ) from None
    try:
        holder_path.write_text(
            json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "what": what,
                        "since": datetime.now(UTC).isoformat()})
        )
        yield
    finally:
        holder_path.unlink(missing_ok=True)
        lock.release()
