"""Time concepts defined once: the league's time zone and the season a date belongs to."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

# Schedules, tip times and the job calendar are in the league's local time.
LEAGUE_TZ = ZoneInfo("America/New_York")


def season_start_year(day: date) -> int:
    """NBA seasons start in October: a date from August on belongs to the season starting that year."""
    return day.year if day.month >= 8 else day.year - 1


def season_label(day: date) -> str:
    """'2021-22' for any date of the 2021-22 season."""
    start = season_start_year(day)
    return f"{start}-{(start + 1) % 100:02d}"
