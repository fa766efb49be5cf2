"""The diff of a run against the previous run of its date, for the dashboard.

Adapter: `minutes_live.run_diff.diff_runs(day, a, b, min_delta=3.0)` (the `minutes-live runs diff` logic,
with reasons read from the two runs' features) when that module is present; otherwise a plain diff of the
two runs' scores (p50 moved by more than min_delta, or status changed), with no feature-level reasons.
Both give rows of player_id, player_name, team_tricode, p50_a, p50_b, delta, status_a, status_b, reasons.
"""

from __future__ import annotations

import inspect
import math
from datetime import date
from pathlib import Path

import pandas as pd

from foundation.publication import Publication, Roots

MIN_DELTA = 3.0
COLUMNS = ["player_id", "player_name", "team_tricode", "p50_a", "p50_b", "delta", "status_a", "status_b", "reasons"]


def _scores(day: date, run_id: str, roots: Roots | None) -> pd.DataFrame:
    path = Publication(roots or Roots.default(), day).run_dir("scores", run_id) / "minutes.parquet"
    if not Path(path).is_file():
        raise FileNotFoundError(f"run {run_id} of {day} has no scores ({path})")
    return pd.read_parquet(path)


def plain_diff(day: date, a: str, b: str, min_delta: float = MIN_DELTA, roots: Roots | None = None) -> pd.DataFrame:
    key = ["game_id", "player_id", "team_id"]
    keep = key + ["player_name", "team_tricode", "status", "minutes_p50"]
    old, new = _scores(day, a, roots)[keep], _scores(day, b, roots)[keep]
    m = old.merge(new, on=key, how="outer", suffixes=("_a", "_b"), indicator="presence")
    m["player_name"] = m["player_name_b"].fillna(m["player_name_a"])
    m["team_tricode"] = m["team_tricode_b"].fillna(m["team_tricode_a"])
    m = m.rename(columns={"minutes_p50_a": "p50_a", "minutes_p50_b": "p50_b"})
    m["delta"] = m["p50_b"].fillna(0.0) - m["p50_a"].fillna(0.0)
    status_a, status_b = m["status_a"].fillna("-").astype(str), m["status_b"].fillna("-").astype(str)
    moved = (m["delta"].abs() > min_delta) | (status_a != status_b) | (m["presence"] != "both")
    rows = m[moved].copy()
    reasons = []
    for r in rows.itertuples():
        why = []
        if r.presence == "left_only":
            why.append(f"not in run {b}")
        elif r.presence == "right_only":
            why.append(f"new in run {b}")
        if str(r.status_a) != str(r.status_b):
            why.append(f"status {r.status_a if isinstance(r.status_a, str) else '-'} -> "
                       f"{r.status_b if isinstance(r.status_b, str) else '-'}")
        if abs(r.delta) > min_delta and not why:
            why.append("p50 moved (feature-level reasons need minutes_live.run_diff)")
        reasons.append(why)
    rows["reasons"] = reasons
    return rows.sort_values("delta", key=lambda s: -s.abs())[COLUMNS].reset_index(drop=True)


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
    """{"source": "run_diff" | "plain", "note": str | None, "rows": [...]} for runs a (older) -> b."""
    note = None
    try:
        from minutes_live.run_diff import diff_runs
    except ImportError:
        diff_runs = None
        note = "minutes_live.run_diff is not installed: plain p50 / status diff of the two runs' scores"
    frame, source = None, "plain"
    if diff_runs is not None:
        try:
            extra = {"roots": roots} if roots is not None and "roots" in inspect.signature(diff_runs).parameters else {}
            frame, source = diff_runs(day, a, b, min_delta=min_delta, **extra), "run_diff"
        except Exception as exc:  # the page still shows a diff; the note says why it is the plain one
            note = f"minutes_live.run_diff failed ({type(exc).__name__}: {exc}); plain p50 / status diff shown"
    if frame is None:
        frame = plain_diff(day, a, b, min_delta, roots)
    rows = []
    for r in frame.to_dict("records"):
        rows.append({
            "player_id": None if pd.isna(r.get("player_id")) else int(r["player_id"]),
            "player_name": r.get("player_name"), "team_tricode": r.get("team_tricode"),
            "p50_a": _f(r.get("p50_a")), "p50_b": _f(r.get("p50_b")), "delta": _f(r.get("delta")),
            "status_a": _s(r.get("status_a")), "status_b": _s(r.get("status_b")), "reasons": _reasons(r.get("reasons")),
            "primary_reason": _s(r.get("primary_reason")),
        })
    return {"source": source, "note": note, "a": a, "b": b, "min_delta": min_delta, "rows": rows}


def _f(value) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else round(out, 2)


def _s(value) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
