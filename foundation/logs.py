"""One logging setup for every command.

Modules log through `logging.getLogger(__name__)` (packages minutes_live, snapshots_ingest, scoring,
foundation); commands print their results (tables, paths, one-line errors) on stdout / stderr with
typer.echo as before. Progress, heartbeats and one line per finished stage are log records on stderr.

Level: `minutes-live --verbose` (DEBUG: also every line dbt prints) / `--quiet` (WARNING: warnings and
errors only), else env MINUTES_LIVE_LOG_LEVEL (DEBUG | INFO | WARNING | ERROR), else INFO.
Format: on a terminal the message alone; otherwise (cron, systemd, a pipe to a log file) each line starts
with the UTC time and the level, so a log read later says when each stage ended.

Progress bars (tqdm) are drawn only when stderr is a terminal (`progress_enabled`); a log gets the
stage's one line instead.
"""

from __future__ import annotations

import logging
import os
import sys
import time

ENV_LEVEL = "MINUTES_LIVE_LOG_LEVEL"
ENV_HEARTBEAT = "MINUTES_LIVE_HEARTBEAT_SECONDS"
PACKAGES = ("minutes_live", "snapshots_ingest", "scoring", "foundation")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_HEARTBEAT_SECONDS = 15.0

_HANDLER_NAME = "minutes_live_stderr"


class InvalidLogLevel(ValueError):
    pass


def _tty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class _Formatter(logging.Formatter):
    """`message` on a terminal; `2026-01-15T23:00:05Z INFO message` elsewhere (decided per line, so a
    handler set up once follows the stream it writes to). Warnings and errors say so on a terminal too."""

    def __init__(self, handler: logging.StreamHandler):
        super().__init__()
        self.handler = handler

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        if not _tty(self.handler.stream):
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
            return f"{stamp} {record.levelname} {message}"
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {message}"
        return message


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record is emitted (a test runner may swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler.__init__ assigns it
        pass


def resolve_level(level: str | int | None = None) -> int:
    """The level to use: `level` if given, else $MINUTES_LIVE_LOG_LEVEL, else INFO."""
    if isinstance(level, int):
        return level
    text = level if level is not None else os.environ.get(ENV_LEVEL) or "INFO"
    name = str(text).strip().upper()
    if name not in LEVELS:
        source = "log level" if level is not None else f"{ENV_LEVEL}"
        raise InvalidLogLevel(f"{source} {text!r} is not one of {', '.join(LEVELS)}")
    return getattr(logging, name)


def setup(level: str | int | None = None, *, stream=None) -> int:
    """Configure the project's loggers (idempotent: a second call replaces the handler and level).
    Returns the level used. Third-party loggers are left alone; records still propagate (pytest's caplog)."""
    resolved = resolve_level(level)
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(_Formatter(handler))
    for name in PACKAGES:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(resolved)
    return resolved


def ensure_setup() -> None:
    """Set up once with the environment's level unless a command already did (library entry points)."""
    if not any(h.get_name() == _HANDLER_NAME for h in logging.getLogger(PACKAGES[0]).handlers):
        try:
            setup()
        except InvalidLogLevel:
            setup("INFO")


def progress_enabled(requested: bool = True, stream=None) -> bool:
    """Draw a progress bar only when asked and stderr is a terminal."""
    return bool(requested) and _tty(stream if stream is not None else sys.stderr)


def heartbeat_seconds() -> float:
    """Seconds between heartbeat lines of long stages ($MINUTES_LIVE_HEARTBEAT_SECONDS, default 15)."""
    try:
        value = float(os.environ.get(ENV_HEARTBEAT, DEFAULT_HEARTBEAT_SECONDS))
    except ValueError:
        return DEFAULT_HEARTBEAT_SECONDS
    return value if value > 0 else DEFAULT_HEARTBEAT_SECONDS
