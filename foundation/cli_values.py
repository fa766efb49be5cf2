"""Validation of CLI values before they reach SQL or a path (one place for every command)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from foundation.guardrails import InvalidInput

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(value: str, flag: str = "--date") -> date:
    if not isinstance(value, str) or not _DATE_RE.match(value.strip()):
        raise InvalidInput(f"{flag} {value!r} is not a date in YYYY-MM-DD form")
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInput(f"{flag} {value!r} is not a valid calendar date ({exc})") from None


def parse_ts(value: str | None, flag: str = "--run-as-of-ts", *, default_now: bool = True) -> datetime:
    """ISO-8601 with an explicit offset or 'Z'; naive timestamps are refused (ambiguous across DST)."""
    if value is None:
        if default_now:
            return datetime.now(UTC).replace(microsecond=0)
        raise InvalidInput(f"{flag} is required")
    text = value.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{flag} {value!r} is not an ISO-8601 timestamp (e.g. 2022-01-15T23:00:00Z)") from None
    if ts.tzinfo is None:
        raise InvalidInput(f"{flag} {value!r} has no UTC offset; add 'Z' or '+00:00' (naive times are ambiguous across DST)")
    if not (2000 <= ts.year <= 2100):
        raise InvalidInput(f"{flag} {value!r} is outside the supported years 2000-2100")
    return ts.astimezone(UTC).replace(microsecond=0)


def non_negative(value: float | int | None, flag: str) -> float | int | None:
    if value is None:
        return None
    if value < 0:
        raise InvalidInput(f"{flag} must be >= 0, got {value}")
    return value
