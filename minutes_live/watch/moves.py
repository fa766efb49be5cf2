"""The moves between the served run and a new one that are worth an alert: a player's status change, and a
`minutes_mean` or `minutes_p50` move of at least `min_delta` minutes, each with the reason `runs diff` gives
(minutes_live/runs/diff.py: one definition of why a projection moved)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from foundation.publication import Roots
from minutes_live.runs import catalog
from minutes_live.runs.diff import KEYS, diff_frames

COLUMNS = ("minutes_mean", "minutes_p50")


def _run(day: date, run_id: str, roots: Roots) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    pub = catalog.publication(day, roots)
    path = pub.run_dir("scores", run_id) / "minutes.parquet"
    scores = catalog.read_table(path)
    if scores is None:  # not a published run (or removed by retention): nothing to compare with
        raise FileNotFoundError(f"run {run_id} of {day} has no scores ({path})")
    return scores, catalog.load_features(day, run_id, roots)


def moves(day: date, run_a: str, run_b: str, dataset: str, min_delta: float) -> list[tuple[str, str, dict]]:
    """[(alert kind, message, fields)] for the players who changed status or moved >= min_delta."""
    roots = Roots.default(dataset=dataset)
    proj_a, feat_a = _run(day, run_a, roots)
    proj_b, feat_b = _run(day, run_b, roots)
    diff = diff_frames(proj_a, feat_a, proj_b, feat_b, min_delta=0.0)  # every change, with its reason
    reasons = {tuple(r[k] for k in KEYS): r for r in diff.to_dict("records")}
    both = proj_a.merge(proj_b, on=KEYS, suffixes=("_a", "_b"))
    out: list[tuple[str, str, dict]] = []
    for r in both.to_dict("records"):
        key = tuple(r[k] for k in KEYS)
        why = reasons.get(key, {}).get("reason") or "no model input changed (team totals were re-balanced)"
        who = {"player_id": int(r["player_id"]), "player_name": r.get("player_name_b"),
               "team": r.get("team_tricode_b"), "game_id": int(r["game_id"]), "run_from": run_a, "run_to": run_b}
        if str(r.get("status_a")) != str(r.get("status_b")):
            out.append(("status_change", f"{who['player_name']} ({who['team']}): status {r['status_a']} -> "
                        f"{r['status_b']}; {why}", {**who, "status_from": r["status_a"], "status_to": r["status_b"],
                                                   "reason": why}))
        for col in COLUMNS:
            if f"{col}_a" not in r:
                continue
            a, b = r[f"{col}_a"], r[f"{col}_b"]
            if pd.isna(a) or pd.isna(b) or abs(b - a) < min_delta:
                continue
            out.append(("minutes_move", f"{who['player_name']} ({who['team']}): {col} {a:.1f} -> {b:.1f} "
                        f"({b - a:+.1f}); {why}", {**who, "column": col, "from": round(float(a), 2),
                                                   "to": round(float(b), 2), "delta": round(float(b - a), 2),
                                                   "reason": why}))
    return out
