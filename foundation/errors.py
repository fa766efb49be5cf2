"""The one error boundary: any exception -> (exit code, one line). Used by every command (minutes_live/cli/spine.py)
and by the dashboard server (a JSON error instead of a 500 page).

Known failures are `GuardrailError`s (exit code and label in foundation/guardrails.py). File-system refusals
(ENOSPC, EROFS, EACCES, EPERM, ENAMETOOLONG, ...) become `StorageError` (exit 15). Anything else is a bug: exit 1
with one line pointing at the log, which holds the traceback.
"""

from __future__ import annotations

import errno
import logging

from foundation.guardrails import GuardrailError, StorageError

log = logging.getLogger("minutes_live.errors")

STORAGE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENAMETOOLONG, errno.EDQUOT,
                  errno.EISDIR, errno.ENOTDIR, errno.EEXIST, errno.ENOENT, errno.EIO}
BUG_EXIT = 1


def as_guardrail(exc: BaseException) -> GuardrailError | None:
    """The known failure `exc` stands for, or None when it is a bug."""
    if isinstance(exc, GuardrailError):
        return exc
    if isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:
        where = exc.filename or ""
        reason = exc.strerror or str(exc)
        return StorageError(f"{where}: {reason} (errno {errno.errorcode.get(exc.errno, exc.errno)})" if where
                            else f"{reason} (errno {errno.errorcode.get(exc.errno, exc.errno)})")
    if isinstance(exc, RecursionError):
        from foundation.guardrails import InvalidInput

        return InvalidInput("input nested too deeply to read")
    return None


def one_line(text: str, limit: int = 600) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def describe(exc: BaseException, log_path: str | None = None) -> tuple[int, str]:
    """(exit code, one-line message) for any exception; a bug is logged with its traceback."""
    known = as_guardrail(exc)
    if known is not None:
        return known.exit_code, one_line(f"error: {known}")
    log.debug("unexpected error (a bug): the traceback", exc_info=exc)
    where = f"; traceback in {log_path}" if log_path else "; rerun with --verbose for the traceback"
    return BUG_EXIT, one_line(f"bug: {type(exc).__name__}: {exc}") + where
