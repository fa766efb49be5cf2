"""Why did a projection move: the players whose p50 moved between two runs of a date, with the reason read
from the two runs' features.

    diff_runs(day, "20220115T210000Z", "latest", min_delta=3.0) -> DataFrame, one row per player that
        moved by more than `min_delta` minutes, changed status, or is on one run's roster only

Read-only and pure apart from reading the published files (scores `minutes.parquet` and features
`features.parquet` of each run, through minutes_live.runs.catalog): `minutes-live runs diff` prints it and
the dashboard imports it. `diff_frames` is the same on frames already loaded.

Reasons, in the order they are listed (the first is `primary_reason`):

| kind | when |
| --- | --- |
| roster | the player is on one run's roster only |
| status | the injury-report status changed (e.g. UNK -> OUT) |
| lineup | his own lineup role or starter flags changed (bench -> confirmed_starter) |
| teammate_out | teammates of his team-game projected >= 0.5 min in run A turned OUT (status OUT or lineup role `out`) or left the roster: named, with their p50 in A (the vacated minutes) |
| teammate_back | teammates who were OUT in run A and are projected >= 0.5 min in B |
| team_lineup | teammates' starter flags changed (the team's lineup was confirmed) while his own did not |
| line | a new, moved or withdrawn line (spread / total) for his game; only when none of the kinds above applies |
| bundle | the runs were scored by different model bundles |
| drift | none of the above: the model input that changed most (standardised by its spread over run A's slate) |
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from foundation.guardrails import InvalidInput
from foundation.publication import Roots
from minutes_live.runs import catalog as catalog

KEYS = ["game_id", "player_id", "team_id"]
REASON_KINDS = ("roster", "status", "lineup", "teammate_out", "teammate_back", "team_lineup", "line", "bundle",
                "drift")
DIFF_COLUMNS = ["player_id", "player_name", "team_tricode", "game_id", "team_id", "p50_a", "p50_b", "delta",
                "status_a", "status_b", "lineup_a", "lineup_b", "play_prob_a", "play_prob_b", "primary_reason",
                "reason_kinds", "reasons", "reason"]
_PROJ = ["player_name", "team_tricode", "status", "minutes_p50", "play_prob", "model_bundle_id"]
_FEAT = ["status", "lineup_role", "is_confirmed_starter", "is_projected_starter", "spread_home", "total",
         "injury_as_of_ts"]
NAMES_SHOWN = 3  # teammates named per reason; the rest are counted
MIN_VACATED = 0.5  # minutes: a teammate projected below this leaves no minutes when he turns OUT
STRONG_KINDS = ("roster", "status", "lineup", "teammate_out", "teammate_back")


class DiffError(InvalidInput, LookupError):
    """A run cannot be diffed (no scores); the message says which and why."""


def _scores(day: date, run_id: str, roots: Roots | None) -> pd.DataFrame:
    path = catalog.publication(day, roots).run_dir("scores", run_id) / "minutes.parquet"
    if not path.is_file():
        raise DiffError(f"run {run_id} of {day} has no scores ({path} is missing); diff needs two scored runs")
    return catalog.read_table(path)  # a damaged file: DamagedStateError (exit 16) naming it


def diff_runs(day: date, a: str, b: str, min_delta: float = 3.0, *, roots: Roots | None = None,
              data_root: Path | None = None) -> pd.DataFrame:
    """The players who moved between runs `a` and `b` of `day` (run ids or `latest`), with reasons.

    `df.attrs` carries day, run_a, run_b, min_delta and `compared` (players in either run)."""
    run_a = catalog.resolve(day, a, roots, data_root)
    run_b = catalog.resolve(day, b, roots, data_root)
    out = diff_frames(_scores(day, run_a, roots), catalog.load_features(day, run_a, roots),
                      _scores(day, run_b, roots), catalog.load_features(day, run_b, roots), min_delta)
    out.attrs.update(day=day.isoformat(), run_a=run_a, run_b=run_b)
    return out


# ------------------------------------------------------------------------------------------ the frames

def _side(proj: pd.DataFrame, feat: pd.DataFrame | None, suffix: str) -> pd.DataFrame:
    p = proj[KEYS + [c for c in _PROJ if c in proj.columns]].drop_duplicates(KEYS)
    if feat is not None and len(feat):
        f = feat[KEYS + [c for c in _FEAT if c in feat.columns]].copy()
        if {"is_confirmed_starter", "is_projected_starter"} <= set(feat.columns):
            from scoring.features import starter_signal

            f["starter"] = starter_signal(feat).to_numpy()  # the model's view: confirmed lineup, else projected
        f = f.drop_duplicates(KEYS).rename(columns={"status": "feature_status"})
        p = p.merge(f, on=KEYS, how="outer")
    for col in ("lineup_role", "is_confirmed_starter", "is_projected_starter", "spread_home", "total",
                "injury_as_of_ts", "feature_status", "model_bundle_id", "starter"):
        if col not in p.columns:
            p[col] = np.nan
    p["status"] = p["status"].fillna(p["feature_status"]) if "status" in p else p["feature_status"]
    p["present"] = True
    return p.drop(columns=["feature_status"]).add_suffix(suffix).rename(columns={f"{k}{suffix}": k for k in KEYS})


def _is_out(status: pd.Series, role: pd.Series) -> pd.Series:
    return status.astype("string").str.upper().eq("OUT").fillna(False) | role.astype("string").eq("out").fillna(False)


def _fmt(x) -> str:
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) or pd.isna(x) else f"{float(x):g}"


def _names(rows: pd.DataFrame, col: str, what: str) -> str:
    rows = rows.sort_values(col, ascending=False, na_position="last")
    shown = [f"{r.player_name} ({what} {getattr(r, col):.1f})" if pd.notna(getattr(r, col)) else r.player_name
             for r in rows.head(NAMES_SHOWN).itertuples()]
    more = len(rows) - NAMES_SHOWN
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _matrix(feat: pd.DataFrame | None) -> pd.DataFrame | None:
    """The model's inputs (contract columns + team-context features) of a run's features, keyed."""
    if feat is None or not len(feat):
        return None
    from scoring.features import build_matrix, feature_spec

    try:
        X = build_matrix(feat, feature_spec())
    except (KeyError, ValueError):  # features of another contract: no drift attribution
        return None
    X.index = pd.MultiIndex.from_frame(feat[KEYS].reset_index(drop=True))
    return X.astype(float)


def _drift(X_a: pd.DataFrame | None, X_b: pd.DataFrame | None, scale: pd.Series | None, key: tuple) -> str | None:
    if X_a is None or X_b is None or key not in X_a.index or key not in X_b.index:
        return None
    xa, xb = X_a.loc[key], X_b.loc[key]
    if isinstance(xa, pd.DataFrame):  # a duplicated key: take the first
        xa = xa.iloc[0]
    if isinstance(xb, pd.DataFrame):
        xb = xb.iloc[0]
    changed = ~((xa == xb) | (xa.isna() & xb.isna()))
    if not changed.any():
        return None
    score = ((xb - xa).abs() / scale)[changed].fillna(np.inf)  # appeared or vanished: ranks first
    top = score.idxmax()
    others = int(changed.sum()) - 1
    tail = f" (and {others} more input{'s' if others != 1 else ''})" if others else ""
    return f"model inputs drifted: {top} {_fmt(round(xa[top], 2))} -> {_fmt(round(xb[top], 2))}{tail}"


def diff_frames(proj_a: pd.DataFrame, feat_a: pd.DataFrame | None, proj_b: pd.DataFrame,
                feat_b: pd.DataFrame | None, min_delta: float = 3.0) -> pd.DataFrame:
    """`diff_runs` on loaded frames: scores (minutes.parquet) and features (features.parquet) of runs A, B."""
    m = _side(proj_a, feat_a, "_a").merge(_side(proj_b, feat_b, "_b"), on=KEYS, how="outer")
    for s in ("_a", "_b"):
        m[f"present{s}"] = m[f"present{s}"].eq(True)
        m[f"out{s}"] = _is_out(m[f"status{s}"], m[f"lineup_role{s}"]) & m[f"present{s}"]
        m[f"starter{s}"] = m[f"starter{s}"].astype("boolean").fillna(False).astype(bool)
    m["player_name"] = m["player_name_b"].fillna(m["player_name_a"])
    m["team_tricode"] = m["team_tricode_b"].fillna(m["team_tricode_a"])
    m["delta"] = m["minutes_p50_b"] - m["minutes_p50_a"]
    both = m["present_a"] & m["present_b"]
    status_changed = both & (m["status_a"].astype("string") != m["status_b"].astype("string")).fillna(False)
    moved = m["delta"].abs() > min_delta
    selected = m[moved | status_changed | ~both].copy()

    X_a, X_b = (_matrix(feat_a), _matrix(feat_b)) if len(selected) else (None, None)
    scale = X_a.std(ddof=0).replace(0, np.nan).fillna(1.0) if X_a is not None else None
    team_groups = {k: g for k, g in m.groupby(["game_id", "team_id"], sort=False)}
    game_lines = m.groupby("game_id", sort=False).first()
    kinds_col, reasons_col = [], []
    for r in selected.itertuples(index=False):
        row = pd.Series(r._asdict())
        reasons: list[tuple[str, str]] = []
        if not row["present_a"]:
            reasons.append(("roster", "new on the roster (not in run A)"))
        elif not row["present_b"]:
            reasons.append(("roster", "not on run B's roster"))
        if row["present_a"] and row["present_b"]:
            if str(row["status_a"]) != str(row["status_b"]):
                when = row["injury_as_of_ts_b"]
                seen = f" (injury report of {pd.Timestamp(when).strftime('%Y-%m-%d %H:%MZ')})" if pd.notna(when) else ""
                reasons.append(("status", f"status {row['status_a']} -> {row['status_b']}{seen}"))
            role_a, role_b = row["lineup_role_a"], row["lineup_role_b"]
            if str(role_a) != str(role_b):
                reasons.append(("lineup", f"lineup {role_a if pd.notna(role_a) else '-'} -> "
                                          f"{role_b if pd.notna(role_b) else '-'}"))
            elif row["starter_a"] != row["starter_b"]:
                reasons.append(("lineup", f"starter flag {'yes' if row['starter_a'] else 'no'} -> "
                                          f"{'yes' if row['starter_b'] else 'no'}"))
        team = team_groups[(row["game_id"], row["team_id"])]
        mates = team[team["player_id"] != row["player_id"]]
        if not row["out_b"] and row["present_b"]:
            gone = mates[mates["present_a"] & ~mates["out_a"] & (mates["out_b"] | ~mates["present_b"])
                         & (mates["minutes_p50_a"].fillna(0) >= MIN_VACATED)]  # deep bench at 0 vacates nothing
            if len(gone):
                vacated = gone["minutes_p50_a"].sum()
                reasons.append(("teammate_out", f"teammates OUT: {_names(gone, 'minutes_p50_a', 'p50 was')}; "
                                                f"{vacated:.1f} min vacated"))
            back = mates[mates["present_b"] & ~mates["out_b"] & mates["out_a"] & (mates["minutes_p50_b"].fillna(0) >= MIN_VACATED)]
            if len(back):
                reasons.append(("teammate_back", f"teammates back from OUT: {_names(back, 'minutes_p50_b', 'p50 now')}"))
            if row["starter_a"] == row["starter_b"]:
                flipped = mates[mates["present_a"] & mates["present_b"] & (mates["starter_a"] != mates["starter_b"])
                                & ~mates["out_b"]]
                if len(flipped):
                    up = flipped[flipped["starter_b"]]["player_name"].tolist()
                    down = flipped[~flipped["starter_b"]]["player_name"].tolist()
                    parts = ([f"{', '.join(up)} now starting"] if up else []) + (
                        [f"{', '.join(down)} no longer starting"] if down else [])
                    reasons.append(("team_lineup", "team lineup changed: " + "; ".join(parts)))
        # a line is game-level context: named only when nothing about the player or his teammates changed
        strong = any(k in STRONG_KINDS for k, _ in reasons)
        line = None if strong else _line_reason(game_lines.loc[row["game_id"]])
        if line:
            reasons.append(("line", line))
        bundles = {str(row["model_bundle_id_a"]), str(row["model_bundle_id_b"])} - {"nan", "None"}
        if row["present_a"] and row["present_b"] and len(bundles) > 1:
            reasons.append(("bundle", f"model bundle {row['model_bundle_id_a']} -> {row['model_bundle_id_b']}"))
        if not reasons:
            drift = _drift(X_a, X_b, scale, (row["game_id"], row["player_id"], row["team_id"]))
            reasons.append(("drift", drift or "no model input changed (team totals were re-balanced)"))
        kinds_col.append([k for k, _ in reasons])
        reasons_col.append([t for _, t in reasons])

    out = selected.rename(columns={"minutes_p50_a": "p50_a", "minutes_p50_b": "p50_b", "lineup_role_a": "lineup_a",
                                   "lineup_role_b": "lineup_b"})
    out["reason_kinds"] = kinds_col
    out["reasons"] = reasons_col
    out["primary_reason"] = [k[0] if k else None for k in kinds_col]
    out["reason"] = ["; ".join(t) for t in reasons_col]
    size = out["delta"].abs().fillna(out["p50_a"].fillna(out["p50_b"]).abs())
    out = out.assign(_size=size).sort_values(["_size", "team_tricode", "player_name"], ascending=[False, True, True])
    out = out[DIFF_COLUMNS].reset_index(drop=True)
    out.attrs.update(min_delta=float(min_delta), compared=int(len(m)))
    return out


def _line_reason(g: pd.Series) -> str | None:
    """A game's line between the runs: new (no line in A), withdrawn (none in B) or moved."""
    before, after, moved = [], [], []
    for col, label in (("spread_home", "spread (home)"), ("total", "total")):
        a, b = g.get(f"{col}_a"), g.get(f"{col}_b")
        if pd.notna(a):
            before.append(f"{label} {_fmt(a)}")
        if pd.notna(b):
            after.append(f"{label} {_fmt(b)}")
        if (pd.isna(a) != pd.isna(b)) or (pd.notna(a) and float(a) != float(b)):
            moved.append(f"{label} {_fmt(a)} -> {_fmt(b)}")
    if not moved:
        return None
    if not before:
        return "new line: " + ", ".join(after)
    if not after:
        return "line withdrawn: " + ", ".join(before)
    return "line moved: " + ", ".join(moved)


def reason_counts(diff: pd.DataFrame) -> dict[str, int]:
    """How many rows carry each primary reason, in REASON_KINDS order."""
    counts = diff["primary_reason"].value_counts()
    return {k: int(counts[k]) for k in REASON_KINDS if k in counts}
