"""Next-day validation across dates: the drift log (`<data root>/registry/drift.jsonl`, one record per
overnight run: date, mae_p50, mae_p50_played, coverage_p10_p90) and the drift alert.

The drift alert rule (docs/operations.md, "Dashboard"), per date:
- MAE: mae_p50 above the mean + 2 sd of the trailing window (the previous 14 dates with a record; needs
  at least 5 of them; sd floored at 0.1 minutes so a flat history does not alert on noise);
- coverage: the share of actuals inside [p10, p90] outside 0.80 +- 0.05.
A date is in alert when either fires; the chart marks it and the page shows a banner when the newest date
is in alert (and lists earlier alert dates).
"""

from __future__ import annotations

import html
import math
import statistics
from datetime import date
from pathlib import Path

from foundation import settings, state

WINDOW = 14
MIN_HISTORY = 5
SD_K = 2.0
SD_FLOOR = 0.1
COVERAGE_TARGET = 0.80
COVERAGE_TOLERANCE = 0.05

RULE = (f"MAE alert: mae_p50 > mean + {SD_K:g} sd of the previous {WINDOW} dates (at least {MIN_HISTORY}; "
        f"sd >= {SD_FLOOR:g} min). Coverage alert: [p10, p90] coverage outside "
        f"{COVERAGE_TARGET:.2f} +- {COVERAGE_TOLERANCE:.2f}.")


def drift_path(data_root: Path) -> Path:
    return settings.drift_log_path(data_root)


def _number(value, *, optional: bool = False) -> float | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    return float(value)


def _check(rec: dict) -> str | None:
    """Why a drift line cannot be charted (None when it can)."""
    try:
        date.fromisoformat(rec.get("date") if isinstance(rec.get("date"), str) else "")
        _number(rec.get("mae_p50"))
        _number(rec.get("coverage_p10_p90"))
        _number(rec.get("mae_p50_played"), optional=True)
        if rec.get("rows") is not None and not isinstance(rec.get("rows"), int):
            raise ValueError("rows is not an integer")
    except (ValueError, TypeError) as exc:
        return f"is not a drift record ({exc})"
    return None


def read_drift(data_root: Path) -> list[dict]:
    """One record per date (the last one written wins: a rerun of the overnight job replaces its date),
    oldest date first. Torn, foreign or non-finite lines are skipped with a warning naming the file
    (foundation/state.py reads it: NaN and Infinity are refused)."""
    by_date: dict[str, dict] = {}
    for rec in state.iter_lines(drift_path(data_root), check=_check):
        by_date[rec["date"]] = {
            "date": rec["date"], "rows": rec.get("rows"),
            "mae_p50": _number(rec["mae_p50"]),
            "mae_p50_played": _number(rec.get("mae_p50_played"), optional=True),
            "coverage_p10_p90": _number(rec["coverage_p10_p90"]),
        }
    return [by_date[d] for d in sorted(by_date)]


def with_alerts(records: list[dict]) -> list[dict]:
    out = []
    for i, rec in enumerate(records):
        prior = [r["mae_p50"] for r in records[max(0, i - WINDOW):i]]
        alerts: list[str] = []
        limit = None
        if len(prior) >= MIN_HISTORY:
            limit = statistics.fmean(prior) + SD_K * max(statistics.stdev(prior), SD_FLOOR)
            if rec["mae_p50"] > limit:
                alerts.append(f"MAE {rec['mae_p50']:.2f} > {limit:.2f} (trailing mean + {SD_K:g} sd)")
        cov = rec["coverage_p10_p90"]
        if abs(cov - COVERAGE_TARGET) > COVERAGE_TOLERANCE:
            alerts.append(f"coverage {cov:.3f} outside {COVERAGE_TARGET:.2f} +- {COVERAGE_TOLERANCE:.2f}")
        out.append({**rec, "mae_limit": None if limit is None else round(limit, 4), "alerts": alerts})
    return out


def summary(data_root: Path) -> dict:
    records = with_alerts(read_drift(data_root))
    alert_dates = [r["date"] for r in records if r["alerts"]]
    newest = records[-1] if records else None
    return {"path": str(drift_path(data_root)), "rule": RULE, "records": records, "alert_dates": alert_dates,
            "newest_in_alert": bool(newest and newest["alerts"]), "newest": newest}


# ------------------------------------------------------------------------------------------ the chart
def _scale(lo: float, hi: float, a: float, b: float):
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def _poly(points: list[tuple[float, float]], cls: str) -> str:
    if len(points) < 2:
        return ""
    return f'<polyline class="{cls}" points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}"/>'


def chart_svg(records: list[dict], width: int = 760, height: int = 170) -> str:
    """Two stacked panels on one date axis: MAE (p50, played-only, the alert limit) and coverage with its
    0.80 +- 0.05 band. Alert dates are red dots with a tooltip; every dot has one."""
    if not records:
        return ""
    left, right, top, gap, panel = 46, 12, 14, 30, (height - 14 - 30 - 26) / 2
    n = len(records)
    xs = [left + (i + 0.5) * (width - left - right) / n for i in range(n)]
    maes = [r["mae_p50"] for r in records] + [r["mae_p50_played"] for r in records if r["mae_p50_played"] is not None]
    maes += [r["mae_limit"] for r in records if r.get("mae_limit") is not None]
    mae_lo, mae_hi = math.floor(min(maes) - 0.25), math.ceil(max(maes) + 0.25)
    y_mae = _scale(mae_lo, mae_hi, top + panel, top)
    cov_top = top + panel + gap
    covs = [r["coverage_p10_p90"] for r in records]
    cov_lo = min(0.7, math.floor(min(covs) * 20) / 20)
    cov_hi = max(0.9, math.ceil(max(covs) * 20) / 20)
    y_cov = _scale(cov_lo, cov_hi, cov_top + panel, cov_top)
    parts = [f'<svg class="drift-chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="next-day validation: MAE and coverage per date">']
    # axes and labels
    for label, lo, hi, y in (("MAE min", mae_lo, mae_hi, y_mae), ("coverage", cov_lo, cov_hi, y_cov)):
        parts.append(f'<line class="axis" x1="{left}" x2="{width - right}" y1="{y(lo):.1f}" y2="{y(lo):.1f}"/>')
        parts.append(f'<text class="tick" x="{left - 4}" y="{y(hi) + 4:.1f}" text-anchor="end">{hi:g}</text>')
        parts.append(f'<text class="tick" x="{left - 4}" y="{y(lo):.1f}" text-anchor="end">{lo:g}</text>')
        parts.append(f'<text class="panel-label" x="{left + 4}" y="{y(hi) + 10:.1f}">{label}</text>')
    band_hi, band_lo = y_cov(COVERAGE_TARGET + COVERAGE_TOLERANCE), y_cov(COVERAGE_TARGET - COVERAGE_TOLERANCE)
    parts.append(f'<rect class="band" x="{left}" width="{width - left - right}" y="{band_hi:.1f}" '
                 f'height="{band_lo - band_hi:.1f}"><title>target {COVERAGE_TARGET:.2f} +- {COVERAGE_TOLERANCE:.2f}'
                 '</title></rect>')
    parts.append(f'<line class="target" x1="{left}" x2="{width - right}" y1="{y_cov(COVERAGE_TARGET):.1f}" '
                 f'y2="{y_cov(COVERAGE_TARGET):.1f}"/>')
    parts.append(_poly([(x, y_mae(r["mae_limit"])) for x, r in zip(xs, records, strict=True)
                        if r.get("mae_limit") is not None], "limit"))
    parts.append(_poly([(x, y_mae(r["mae_p50_played"])) for x, r in zip(xs, records, strict=True)
                        if r["mae_p50_played"] is not None], "played"))
    parts.append(_poly([(x, y_mae(r["mae_p50"])) for x, r in zip(xs, records, strict=True)], "mae"))
    parts.append(_poly([(x, y_cov(r["coverage_p10_p90"])) for x, r in zip(xs, records, strict=True)], "cov"))
    step = max(1, n // 8)
    for i, (x, r) in enumerate(zip(xs, records, strict=True)):
        alert = bool(r["alerts"])
        tip = html.escape(f"{r['date']}: MAE {r['mae_p50']:.2f} (played {r['mae_p50_played'] or float('nan'):.2f}), "
                          f"coverage {r['coverage_p10_p90']:.3f}" + ("; ALERT: " + "; ".join(r["alerts"]) if alert else ""))
        cls = "dot alert" if alert else "dot"
        parts.append(f'<circle class="{cls} mae-dot" data-date="{r["date"]}" cx="{x:.1f}" cy="{y_mae(r["mae_p50"]):.1f}" '
                     f'r="{4 if alert else 2.5}"><title>{tip}</title></circle>')
        parts.append(f'<circle class="{cls} cov-dot" data-date="{r["date"]}" cx="{x:.1f}" '
                     f'cy="{y_cov(r["coverage_p10_p90"]):.1f}" r="{4 if alert else 2.5}"><title>{tip}</title></circle>')
        if i % step == 0 or i == n - 1:
            parts.append(f'<text class="tick" x="{x:.1f}" y="{height - 6}" text-anchor="middle">{r["date"][5:]}</text>')
    parts.append("</svg>")
    return "".join(parts)
