"""The diff of a run against the previous run of its date, for the dashboard: the rows of
`minutes_live.runs.diff.diff_runs` (the `minutes-live runs diff` logic, reasons read from the two runs'
features), as JSON-ready dicts."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd

from foundation.publication import Roots
from minutes_live.runs.diff import diff_runs

MIN_DELTA = 3.0


def _reasons(value) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, str):
        return [p.strip() for p in value.split(";") if p.strip()]
    try:
        return [str(v) for v in value]
    except TypeError:
        return [str(value)]


def diff_against(day: date, a: str, b: str, min_delta: float = MIN_DELTA, roots: Roots | None = None) -> dict:
    """{"a", "b", "min_delta", "rows": [...]} for runs a (older) -> b."""
    frame = diff_runs(day, a, b, min_delta=min_delta, roots=roots)
    rows = []
    for r in frame.to_dict("records"):
        rows.append({
            "player_id": None if pd.isna(r.get("player_id")) else int(r["player_id"]),
            "player_name": r.get("player_name"), "team_tricode": r.get("team_tricode"),
            "p50_a": _f(r.get("p50_a")), "p50_b": _f(r.get("p50_b")), "delta": _f(r.get("delta")),
            "status_a": _s(r.get("status_a")), "status_b": _s(r.get("status_b")), "reasons": _reasons(r.get("reasons")),
            "primary_reason": _s(r.get("primary_reason")),
        })
    return {"a": a, "b": b, "min_delta": min_delta, "rows": rows}


def _f(value) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else round(out, 2)


def _s(value) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
