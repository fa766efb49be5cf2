"""Validation of CLI values before they reach SQL, a path or a lock (one set of checkers for every command).

Every command checks all of its values before any work starts (no lock taken, no store opened, nothing
written) and refuses a bad one with `InvalidInput` (exit 2) whose one-line message names the flag:
- dates, timestamps, run ids and seasons are ASCII-only and anchored (`\\A...\\Z`): full-width digits,
  surrounding blanks and trailing newlines are refused;
- integers lie within `FLAG_BOUNDS` (docs/operations.md lists them; the dbt vars carry the same bounds in
  macros/run_vars.sql);
- numbers are finite (nan and inf are refused) and within bounds, negative zero (`-0.0`) included; max-age hours may be fractional if they
  are a whole number of minutes (1.5 = 90 min), which dbt applies exactly in minutes;
- output roots are writable directories: created if missing, probed by creating and removing a file;
  a path that is a file is refused.
Typer's own type errors (`--history-days abc`) exit 2 before any of this runs.
"""

from __future__ import annotations

import math
import os
import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from foundation.guardrails import InvalidInput
from foundation.run_directory import RUN_ID_RE

_DATE_RE = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z", re.ASCII)
# ISO-8601 as the CLI accepts it: date, 'T' or space, hh:mm[:ss[.ffffff]], optional offset (refused later
# with a specific message when absent)
_TS_RE = re.compile(
    r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})?\Z",
    re.ASCII,
)
_SEASON_RE = re.compile(r"\A([0-9]{4})-([0-9]{2})\Z", re.ASCII)

# Inclusive bounds of every numeric flag (rendered in docs/operations.md, "Value bounds").
FLAG_BOUNDS: dict[str, tuple[int, int]] = {
    "--history-days": (0, 3650),
    "--roster-fallback-days": (0, 365),
    "--roster-max-age-hours": (0, 8760),
    "--injuries-max-age-hours": (0, 8760),
    "--odds-max-age-hours": (0, 8760),
    "--lead": (0, 1440),
    "--seed": (0, 2**31 - 1),
    "--show": (0, 10000),
    "--lock-timeout": (0, 86400),
    "--min-delta": (0, 48),
    "--live-dates": (0, 366),
    "--rounds": (1, 5000),
    "--clock-speed": (0, 100000),
    "--alert-min-delta": (0, 48),
}
# dbt vars that carry a flag's value (macros/run_vars.sql declares the same bounds)
DBT_VAR_FLAGS: dict[str, str] = {
    "history_days": "--history-days",
    "roster_fallback_days": "--roster-fallback-days",
    "roster_max_age_hours": "--roster-max-age-hours",
    "injuries_max_age_hours": "--injuries-max-age-hours",
    "odds_max_age_hours": "--odds-max-age-hours",
    "gold_lead_minutes": "--lead",
}


def parse_date(value: str, flag: str = "--date") -> date:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        raise InvalidInput(f"{flag} {value!r} is not a date in YYYY-MM-DD form (ASCII digits)")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{flag} {value!r} is not a valid calendar date ({exc})") from None


def optional_date(value: str | None, flag: str) -> date | None:
    return None if value is None else parse_date(value, flag)


def parse_ts(value: str | None, flag: str = "--run-as-of-ts", *, default_now: bool = True) -> datetime:
    """ISO-8601 with an explicit offset or 'Z'; naive timestamps are refused (ambiguous across DST)."""
    if value is None:
        if default_now:
            return datetime.now(UTC).replace(microsecond=0)
        raise InvalidInput(f"{flag} is required")
    if not isinstance(value, str) or not _TS_RE.match(value):
        raise InvalidInput(f"{flag} {value!r} is not an ISO-8601 timestamp (e.g. 2022-01-15T23:00:00Z)")
    text = value[:-1] + "+00:00" if value[-1] in "Zz" else value
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{flag} {value!r} is not an ISO-8601 timestamp (e.g. 2022-01-15T23:00:00Z)") from None
    if ts.tzinfo is None:
        raise InvalidInput(f"{flag} {value!r} has no UTC offset; add 'Z' or '+00:00' (naive times are ambiguous across DST)")
    if not (2000 <= ts.year <= 2100):
        raise InvalidInput(f"{flag} {value!r} is outside the supported years 2000-2100")
    return ts.astimezone(UTC).replace(microsecond=0)


def parse_run_id(value: str, flag: str = "--run-id") -> str:
    """A run id as foundation.run_directory.RUN_ID_RE defines it (ASCII, anchored), and a real instant."""
    if not isinstance(value, str) or not RUN_ID_RE.match(value):
        raise InvalidInput(f"{flag} {value!r} is not a run id YYYYMMDDTHHMMSSZ (ASCII digits)")
    try:
        datetime.strptime(value, "%Y%m%dT%H%M%SZ")
    except ValueError:
        raise InvalidInput(f"{flag} {value!r} is not a real instant (YYYYMMDDTHHMMSSZ)") from None
    return value


def parse_season(value: str, flag: str = "--season") -> str:
    """'2021-22': ASCII, the second year is the first plus one."""
    m = _SEASON_RE.match(value) if isinstance(value, str) else None
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        raise InvalidInput(f"{flag} {value!r} is not a season YYYY-YY (e.g. 2021-22)")
    return value


def parse_seasons(value: str | None, flag: str = "--seasons") -> list[str] | None:
    """Comma-separated seasons; None when not given."""
    if value is None:
        return None
    seasons = [s.strip() for s in value.split(",") if s.strip()]
    if not seasons:
        raise InvalidInput(f"{flag} {value!r} names no season (e.g. 2017-18,2018-19)")
    return [parse_season(s, flag) for s in seasons]


def int_list(value: str | None, flag: str, bounds_flag: str | None = None, *,
             words: dict[str, int] | None = None) -> list[int]:
    """Comma-separated integers, each within the bounds of `bounds_flag` (FLAG_BOUNDS; default `flag`), in the
    order given; no duplicates, at least one. `words` maps allowed names to values (e.g. full -> 3650)."""
    lo, hi = _bounds(bounds_flag or flag, None)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{flag} {value!r} names no value (e.g. {flag} 30,60,120)")
    out: list[int] = []
    for item in value.split(","):
        text = item.strip()
        if words and text in words:
            number = words[text]
        elif re.fullmatch(r"[0-9]+", text, re.ASCII):
            number = int(text)
        else:
            named = f" or {', '.join(words)}" if words else ""
            raise InvalidInput(f"{flag} {value!r}: {text!r} is not a whole number in {lo}..{hi}{named}")
        if not lo <= number <= hi:
            raise InvalidInput(f"{flag} {value!r}: {number} is out of range: expected {lo}..{hi}")
        if number in out:
            raise InvalidInput(f"{flag} {value!r}: {text!r} is given twice (as {number})")
        out.append(number)
    return out


def _bounds(flag: str, bounds: tuple[int, int] | None) -> tuple[int, int]:
    if bounds is not None:
        return bounds
    if flag not in FLAG_BOUNDS:
        raise KeyError(f"no bounds declared for {flag} (foundation.cli_values.FLAG_BOUNDS)")
    return FLAG_BOUNDS[flag]


def int_in_bounds(value: int | None, flag: str, bounds: tuple[int, int] | None = None) -> int | None:
    """An integer flag within its bounds (FLAG_BOUNDS unless given); None passes (flag not given)."""
    if value is None:
        return None
    lo, hi = _bounds(flag, bounds)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{flag} must be an integer >= {lo} and <= {hi}, got {value!r}")
    if not lo <= value <= hi:
        raise InvalidInput(f"{flag} must be >= {lo} and <= {hi}, got {value}")
    return value


def number_in_bounds(value: float | None, flag: str, bounds: tuple[int, int] | None = None) -> float | None:
    """A finite number within its bounds; nan and inf are refused; None passes."""
    if value is None:
        return None
    lo, hi = _bounds(flag, bounds)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{flag} must be a finite number >= {lo} and <= {hi}, got {value!r}")
    if not lo <= value <= hi:
        raise InvalidInput(f"{flag} must be >= {lo} and <= {hi}, got {value:g}")
    if value == 0 and math.copysign(1.0, value) < 0:  # -0.0 compares equal to 0 but is rendered "-0.0" downstream
        raise InvalidInput(f"{flag} must be >= {lo} and <= {hi}, got -0.0 (a negative zero; write 0)")
    return value


def max_age_minutes(hours: float | int) -> int | None:
    """Hours as whole minutes, exactly (on the shortest decimal form: 0.1 h = 6 min); None if not whole."""
    try:
        minutes = Decimal(repr(hours)) * 60
    except InvalidOperation:
        return None
    return int(minutes) if minutes == minutes.to_integral_value() else None


def max_age_hours(value: float | None, flag: str) -> float | None:
    """A max-age flag: finite, within bounds, and a whole number of minutes (dbt applies it in minutes)."""
    if number_in_bounds(value, flag) is None:
        return None
    if max_age_minutes(value) is None:
        raise InvalidInput(f"{flag} {value!r} is not a whole number of minutes (e.g. 1.5 = 90 min, 0.25 = 15 min)")
    return value


def lock_timeout(value: float, flag: str = "--lock-timeout") -> float:
    """Seconds to wait for the store lock: finite, >= 0 (0 = do not wait)."""
    return float(number_in_bounds(value, flag))


def non_negative(value: float | int | None, flag: str) -> float | int | None:
    """A finite number >= 0 (kept for callers without declared bounds)."""
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(f"{flag} must be a finite number >= 0, got {value!r}")
    if value < 0:
        raise InvalidInput(f"{flag} must be >= 0, got {value}")
    return value


def writable_dir(path: str | Path | None, flag: str) -> Path | None:
    """An output root: refused if it is a file or cannot be written. Probed by creating it (if missing) and a
    file in it, then removing both, so a command that stops later has written nothing there."""
    if path is None:
        return None
    root = Path(path)
    if root.exists() and not root.is_dir():
        raise InvalidInput(f"{flag} {root} is not a directory (it is a file)")
    missing = [p for p in (root, *root.parents) if not p.exists()]
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"{flag} {root} cannot be created ({exc.strerror or type(exc).__name__})") from None
    probe = root / f".write-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        with open(probe, "x"):
            pass
        probe.unlink()
    except OSError as exc:
        raise InvalidInput(f"{flag} {root} is not writable ({exc.strerror or type(exc).__name__})") from None
    finally:
        for created in missing:  # deepest first
            try:
                created.rmdir()
            except OSError:
                break
    return root
