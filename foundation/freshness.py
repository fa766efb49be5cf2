"""The freshness rule, defined once: how old a selected snapshot may be, per kind.

- warn (`WARN_AGE_MINUTES`: injuries and odds 6 h, roster 18 h): an older snapshot is used and listed in the
  run's summary.json `warnings`;
- fail (`<kind>_max_age_hours`: the run's dbt vars, else dbt_project.yml's defaults, injuries 36 h, odds 24 h,
  roster 18 h): an older snapshot does not qualify, so the game has no snapshot of that kind (exit 4/5/6 unless
  allowed with --allow-missing-injuries / --allow-missing-odds).

Readers (runs, the dashboard, the terminal) and the builder all use these functions.
"""

from __future__ import annotations

import math
from functools import lru_cache

from foundation import settings

KINDS = ("injuries", "odds", "roster")
WARN_AGE_MINUTES = {"injuries": 6 * 60, "odds": 6 * 60, "roster": 18 * 60}
DEFAULT_FAIL_HOURS = {"injuries": 36.0, "odds": 24.0, "roster": 18.0}


def warn_minutes() -> dict[str, float]:
    return {k: float(v) for k, v in WARN_AGE_MINUTES.items()}


@lru_cache(maxsize=1)
def project_max_age_hours() -> dict[str, float]:
    """dbt_project.yml's `<kind>_max_age_hours` vars (the fail thresholds a run uses unless it sets its own)."""
    import yaml

    try:
        vars_ = yaml.safe_load((settings.PROJECT_ROOT / "dbt_project.yml").read_text()).get("vars", {})
    except (OSError, AttributeError, yaml.YAMLError):
        vars_ = {}
    return {k: float(vars_.get(f"{k}_max_age_hours", d)) for k, d in DEFAULT_FAIL_HOURS.items()}


def fail_minutes(run_vars: dict | None = None) -> dict[str, float]:
    """The max age per kind in minutes: the run's own dbt vars when it set them, else the project defaults."""
    defaults = project_max_age_hours()
    run_vars = run_vars or {}
    return {k: 60.0 * float(run_vars.get(f"{k}_max_age_hours", defaults[k])) for k in KINDS}


def thresholds(run_vars: dict | None = None) -> dict[str, dict[str, float]]:
    warn, fail = warn_minutes(), fail_minutes(run_vars)
    return {k: {"warn_minutes": warn[k], "fail_minutes": fail[k]} for k in KINDS}


def _missing(age_minutes: float | None) -> bool:
    return age_minutes is None or (isinstance(age_minutes, float) and math.isnan(age_minutes))


def flag(kind: str, age_minutes: float | None) -> str:
    """"none" without a selected snapshot, "warn" when it is older than the kind's warning age, else "ok".
    (Older than the max age is never selected: the game then counts as missing that kind.)"""
    if _missing(age_minutes):
        return "none"
    return "warn" if float(age_minutes) > WARN_AGE_MINUTES[kind] else "ok"


def colour(age_minutes: float | None, covered: bool, warn: float, fail: float) -> str:
    """green = age <= warn; amber = warn < age <= fail; red = no qualifying snapshot (none, or older than fail)."""
    if not covered or _missing(age_minutes):
        return "red"
    if age_minutes > fail:
        return "red"
    if age_minutes > warn:
        return "amber"
    return "green"


def format_age(minutes: float | None) -> str:
    """One way to print an age: '45 min' under 90 minutes, else '24.5 h'; 'none' without one."""
    if _missing(minutes):
        return "none"
    return f"{minutes:.0f} min" if minutes < 90 else f"{minutes / 60:.1f} h"
