"""Snapshot freshness per kind: the age of the selected snapshot at run_as_of_ts against two thresholds.

The thresholds are foundation/freshness.py's (the one freshness rule): warn (injuries and odds 6 h, roster
18 h) and fail (the kind's max age, from the run's dbt vars or dbt_project.yml).

The colour rule, per game and kind: green = age <= warn; amber = warn < age <= fail; red = no qualifying
snapshot (none, or older than fail). A kind's badge takes its worst game. When warn >= fail (roster by
default) a kind is green or red, never amber.
"""

from __future__ import annotations

import math

import pandas as pd

from foundation.freshness import KINDS, colour, format_age, thresholds  # noqa: F401 - format_age: used by render

COLOURS = ("green", "amber", "red")


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

