"""Snapshot freshness per kind: the age of the selected snapshot at run_as_of_ts against two thresholds.

- warn: minutes_live.pipeline.live_build.WARN_AGE_MINUTES (injuries and odds 6 h, roster 18 h); an older snapshot
  is used and listed in summary.json `warnings`;
- fail: the kind's max age (`<kind>_max_age_hours`: the run's dbt vars, else dbt_project.yml's defaults,
  injuries 36 h, odds 24 h, roster 18 h); an older snapshot does not qualify, so the game has no snapshot
  of that kind (allowed only with --allow-missing-injuries / --allow-missing-odds).

The colour rule, per game and kind: green = age <= warn; amber = warn < age <= fail; red = no qualifying
snapshot (none, or older than fail). A kind's badge takes its worst game. When warn >= fail (roster by
default) a kind is green or red, never amber.
"""

from __future__ import annotations

import math
from functools import lru_cache

import pandas as pd

from foundation import settings

KINDS = ("injuries", "odds", "roster")
COLOURS = ("green", "amber", "red")
_DEFAULT_FAIL_HOURS = {"injuries": 36.0, "odds": 24.0, "roster": 18.0}


def warn_minutes() -> dict[str, float]:
    from minutes_live.pipeline.live_build import WARN_AGE_MINUTES

    return {k: float(v) for k, v in WARN_AGE_MINUTES.items()}


@lru_cache(maxsize=1)
def _project_max_age_hours() -> dict[str, float]:
    import yaml

    try:
        vars_ = yaml.safe_load((settings.PROJECT_ROOT / "dbt_project.yml").read_text()).get("vars", {})
    except (OSError, AttributeError, yaml.YAMLError):
        vars_ = {}
    return {k: float(vars_.get(f"{k}_max_age_hours", d)) for k, d in _DEFAULT_FAIL_HOURS.items()}


def fail_minutes(run_vars: dict | None = None) -> dict[str, float]:
    """The max age per kind in minutes: the run's own dbt vars when it set them, else the project defaults."""
    defaults = _project_max_age_hours()
    run_vars = run_vars or {}
    return {k: 60.0 * float(run_vars.get(f"{k}_max_age_hours", defaults[k])) for k in KINDS}


def thresholds(run_vars: dict | None = None) -> dict[str, dict[str, float]]:
    warn, fail = warn_minutes(), fail_minutes(run_vars)
    return {k: {"warn_minutes": warn[k], "fail_minutes": fail[k]} for k in KINDS}


def colour(age_minutes: float | None, covered: bool, warn: float, fail: float) -> str:
    if not covered or age_minutes is None or (isinstance(age_minutes, float) and math.isnan(age_minutes)):
        return "red"
    if age_minutes > fail:
        return "red"
    if age_minutes > warn:
        return "amber"
    return "green"


def worst(colours: list[str]) -> str | None:
    return max(colours, key=COLOURS.index) if colours else None


def _num(value) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def _covered(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value) if value is not None and not (isinstance(value, float) and math.isnan(value)) else False


def freshness(coverage: pd.DataFrame | None, run_vars: dict | None = None) -> dict:
    """Badges per kind (colour, worst age, thresholds) and a row per game (age and colour per kind), from a
    features run's coverage.csv."""
    limits = thresholds(run_vars)
    games: list[dict] = []
    if coverage is not None:
        for r in coverage.to_dict("records"):
            row = {"game_id": int(r["game_id"]), "matchup": r.get("matchup"), "tip_ts": r.get("tip_ts"), "kinds": {}}
            for kind in KINDS:
                age = _num(r.get(f"{kind}_as_of_age_minutes"))
                covered = _covered(r.get(f"{kind}_covered"))
                row["kinds"][kind] = {
                    "age_minutes": age, "covered": covered,
                    "snapshot_ts": r.get(f"{kind}_snapshot_ts") if covered else None,
                    "snapshot_to_tip_minutes": _num(r.get(f"{kind}_snapshot_to_tip_minutes")),
                    "colour": colour(age, covered, limits[kind]["warn_minutes"], limits[kind]["fail_minutes"]),
                }
            games.append(row)
    badges = {}
    for kind in KINDS:
        per_game = [g["kinds"][kind] for g in games]
        ages = [p["age_minutes"] for p in per_game if p["age_minutes"] is not None]
        badges[kind] = {
            **limits[kind],
            "colour": worst([p["colour"] for p in per_game]) or "unknown",
            "worst_age_minutes": max(ages) if ages else None,
            "games_missing": [g["game_id"] for g in games if not g["kinds"][kind]["covered"]],
            "games_over_warn": [g["game_id"] for g in games if g["kinds"][kind]["colour"] == "amber"],
        }
    return {"badges": badges, "games": games}


def badge_text(badge: dict, games: int) -> str:
    """What a badge says. Its colour is its worst game's; when that is a game without a qualifying snapshot (red),
    the text says so ("none for 4 of 10 games; others <= 2.5 h") instead of the oldest age of the other games."""
    missing = len(badge.get("games_missing") or [])
    if missing:
        worst_age = badge.get("worst_age_minutes")
        others = f"; others \u2264 {format_age(worst_age)}" if worst_age is not None and missing < games else ""
        return f"none for {missing} of {games} game{'s' if games != 1 else ''}{others}"
    return format_age(badge.get("worst_age_minutes"))


def format_age(minutes: float | None) -> str:
    if minutes is None:
        return "none"
    if minutes < 90:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"
