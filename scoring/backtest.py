"""Season backtest: train on the seasons before it, score every game of it, report next to baselines.

Writes `reports/backtest/<season>_lead<N>/`: report.md, metrics.json (with the breakdowns of
scoring.metrics.breakdowns and the seconds of each stage), predictions.parquet (one row per evaluated
player-game: `PREDICTION_COLUMNS`), and PNG plots (interval calibration, error by actual-minutes bucket, error
by starter/bench). It takes a gold features frame; `minutes-live backtest` (minutes_live/cli/model.py)
builds one from a replay dataset with dbt, or reads `--features-path`.
"""

from __future__ import annotations

import json
import resource
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from foundation.guardrails import InvalidInput
from scoring.bundle import lgb_threads, lgb_workers, load_bundle
from scoring.metrics import (
    BUCKETS,
    ROLE_COLUMN,
    add_baselines,
    distribution_checks,
    evaluate,
    evaluation_rows,
    missed_team_games,
    play_reliability,
    role_bucket,
    with_breakdown_inputs,
)
from scoring.recalibrate import fit_shift, outcome_histogram, recent_dates, shifted
from scoring.train import train_bundle

BASELINES = ("baseline_last5_played", "baseline_season_avg")
# Minutes V1.2 targets (issue 18; dev season 2021-22 trained on 2017-18..2020-21 at lead 30): MAE of non-OUT rows
# and played-only, coverage of [p10, p90] on all non-OUT rows (overall, per pre-game role bucket, starters and
# bench), coverage of the minutes-if-he-plays interval on played rows per role bucket, play_prob reliability
# per decile, p50 never above the conditional median, team expected-minutes sums and their adjustment, April
TARGETS = {"mae": {30: 4.40}, "mae_played": 4.68, "coverage": (0.77, 0.83), "coverage_groups": (0.76, 0.84),
           "if_play_coverage": (0.77, 0.83), "reliability_gap": 0.03, "target_band": 0.5,
           "median_adjustment": 3.0, "p95_adjustment": 8.0, "april_gap": 0.35}
ROLE_LABELS = ("<10", "10-20", "20-30", "30+")


def target_checks(m: dict, lead: int) -> list[tuple[str, str, str, bool]]:
    """(measure, value, target, met) for every target of TARGETS, from a backtest's metrics dict."""
    d = m["distribution"]
    mae_target = TARGETS["mae"].get(lead, TARGETS["mae"][30])
    lo, hi = TARGETS["coverage"]
    glo, ghi = TARGETS["coverage_groups"]
    ilo, ihi = TARGETS["if_play_coverage"]
    roles = m["breakdowns"]["pregame_role"]
    cov = [roles[r]["coverage"] for r in ROLE_LABELS]
    st = m["breakdowns"].get("starter", {})
    cov_st = [st.get(k, {}).get("coverage") for k in ("starter", "bench")]
    ip = [d.get("if_play_coverage_played_by_role", {}).get(r) for r in ROLE_LABELS]
    gaps = [r["gap"] for r in d["reliability"]]
    team = d["team_expected_minutes"]

    def within(values: list, a: float, b: float) -> bool:
        return all(v is not None and a <= v <= b for v in values)

    return [
        ("[p10, p90] coverage, all non-OUT rows", _f(m["coverage_p10_p90"], 3), f"in [{lo}, {hi}]",
         lo <= m["coverage_p10_p90"] <= hi),
        ("same, by pre-game role (" + " / ".join(ROLE_LABELS) + ")", " / ".join(_f(v, 3) for v in cov),
         f"each in [{glo}, {ghi}]", within(cov, glo, ghi)),
        ("same, starters / bench", " / ".join(_f(v, 3) for v in cov_st), f"each in [{glo}, {ghi}]",
         within(cov_st, glo, ghi)),
        ("minutes_if_play coverage on played rows, by role", " / ".join(_f(v, 3) for v in ip),
         f"each in [{ilo}, {ihi}]", within(ip, ilo, ihi)),
        ("play_prob reliability: observed minus mean play_prob per decile", f"{min(gaps):+.3f} .. {max(gaps):+.3f}",
         f"within +-{TARGETS['reliability_gap']}", all(abs(g) <= TARGETS["reliability_gap"] for g in gaps)),
        ("rows whose minutes_p50 exceeds minutes_if_play_p50", str(d["p50_above_if_play_p50"]), "0",
         d["p50_above_if_play_p50"] == 0),
        ("team-games whose minutes_mean sum is within 0.5 of the target", _f(team["share_within_0_5_of_target"], 3),
         "1.000 (all)", team["share_within_0_5_of_target"] == 1.0),
        ("median / 95th pct absolute adjustment per team-game", f"{_f(team['median_abs_adjustment'])} / "
         f"{_f(team['p95_abs_adjustment'])}", f"<= {TARGETS['median_adjustment']} / <= {TARGETS['p95_adjustment']}",
         team["median_abs_adjustment"] <= TARGETS["median_adjustment"]
         and team["p95_abs_adjustment"] <= TARGETS["p95_adjustment"]),
        ("p50 MAE, non-OUT rows / played-only", f"{_f(m['mae'], 3)} / {_f(m['mae_played'], 3)}",
         f"<= {mae_target} / <= {TARGETS['mae_played']}",
         m["mae"] <= mae_target and m["mae_played"] <= TARGETS["mae_played"]),
        ("April p50 MAE minus the October-March MAE", _f(d["april_minus_oct_mar"], 3),
         f"<= {TARGETS['april_gap']}", d["april_minus_oct_mar"] is not None
         and d["april_minus_oct_mar"] <= TARGETS["april_gap"]),
    ]
# predictions.parquet: one row per evaluated player-game (scoring.metrics.evaluation_rows), in this order
PREDICTION_COLUMNS = (
    "game_date", "game_id", "team_id", "team_tricode", "player_id", "player_name", "status", "play_prob",
    "minutes_mean", "minutes_p10", "minutes_p50", "minutes_p90", "minutes_if_play_p10", "minutes_if_play_p50",
    "minutes_if_play_p90", "minutes_mean_raw", "actual_minutes", "is_starter", "is_confirmed_starter",
    "is_projected_starter", ROLE_COLUMN, "pregame_role", "missed_team_games", *BASELINES,
)
SPLIT_TITLES = {
    "actual_minutes": "By actual minutes",
    "pregame_role": "By pre-game role (mean minutes of the last 10 games before tip)",
    "first_game_back": "First game back after an absence (team games missed right before it)",
    "starter": "By pre-tip role (confirmed / projected starter)",
    "month": "By month",
}


@dataclass
class BacktestResult:
    report_dir: Path
    metrics: dict


def run_backtest(features: pd.DataFrame, season: str, lead: int, out_root: Path, bundle_root: Path,
                 seed: int = 7, source: str = "", gold_stages: dict | None = None) -> BacktestResult:
    """`gold_stages`: seconds and actions of the steps that made `features` (minutes_live.pipeline.gold), reported
    with this function's own stages (train, score, report)."""
    started = time.time()
    if "game_type" in features.columns:
        features = features[features["game_type"].astype("string").fillna("regular").eq("regular")]
    features = add_baselines(features.reset_index(drop=True))
    train_part = features[features["season"] < season]
    test_part = features[features["season"] == season].reset_index(drop=True)
    if train_part.empty or test_part.empty:
        raise InvalidInput(f"season {season}: need earlier seasons to train on and rows to score "
                         f"(train rows {len(train_part)}, test rows {len(test_part)})")
    prepare_seconds = time.time() - started
    t0 = time.time()
    bundle_id = f"backtest_{season}_lead{lead}_seed{seed}"
    # a backtest bundle is reproducible from (features, season, lead, seed): re-running replaces it
    shutil.rmtree(Path(bundle_root) / bundle_id, ignore_errors=True)
    bundle_dir = train_bundle(train_part, bundle_root, seed=seed, bundle_id=bundle_id)
    train_seconds = time.time() - t0
    bundle = load_bundle(bundle_dir)
    t0 = time.time()
    scored, shifts = predict_with_recent_shift(bundle, test_part)
    score_seconds = time.time() - t0
    raw, _ = predict_with_recent_shift(bundle, test_part, reconcile=False)
    for b in BASELINES:
        scored[b] = test_part[b].to_numpy()
    scored = with_breakdown_inputs(scored, test_part)
    # per-slate timing on a few dates (the production unit of work)
    dates = sorted(test_part["game_date"].unique())
    slate_times = []
    for d in dates[:: max(len(dates) // 5, 1)][:5]:
        t1 = time.perf_counter()
        bundle.predict(test_part[test_part["game_date"] == d])
        slate_times.append(time.perf_counter() - t1)
    metrics = evaluate(scored, baselines=BASELINES)
    metrics["distribution"] = distribution_checks(scored, bundle.reconcile.get("target_minutes"))
    fitted = [v["shift"] for v in shifts.values() if v["reason"] == "fitted"]
    metrics["distribution"]["play_recalibration"] = {
        "recent_days": next(iter(shifts.values()))["recent_days"] if shifts else None, "dates": len(shifts),
        "dates_shifted": len(fitted), "shift_median": float(np.median(fitted)) if fitted else None,
        "shift_min": min(fitted) if fitted else None, "shift_max": max(fitted) if fitted else None}
    # the model's own play probability before calibration and the status table: Minutes V1.1's play_prob on
    # these rows (the real seasons list no QUESTIONABLE / DOUBTFUL / PROBABLE players)
    uncalibrated = bundle.components(test_part, calibrate=False)
    rows = evaluation_rows(scored).to_numpy()
    played = scored["minutes"].fillna(0).to_numpy(float)[rows] > 0
    metrics["distribution"]["brier_uncalibrated"] = float(np.mean((uncalibrated.model_play[rows] - played) ** 2))
    metrics["distribution"]["reliability_uncalibrated"] = play_reliability(uncalibrated.model_play[rows], played)
    no_rec = evaluate(raw)
    metrics["without_reconciliation"] = {k: no_rec[k] for k in ("mae", "mae_played", "coverage_p10_p90")}
    metrics["without_reconciliation"]["team_share_in_band"] = no_rec["team_sanity"]["share_in_band"]
    scoring_seconds = time.time() - t0
    t0 = time.time()
    report_dir = Path(out_root) / f"{season}_lead{lead}"
    report_dir.mkdir(parents=True, exist_ok=True)
    predictions = prediction_rows(scored)
    predictions.to_parquet(report_dir / "predictions.parquet", index=False)
    plot_all(scored, metrics, report_dir)
    stages = {**(gold_stages or {}), "prepare": {"seconds": round(prepare_seconds, 2)},
              "train": {"seconds": round(train_seconds, 2), "workers": lgb_workers()},
              "score": {"seconds": round(scoring_seconds, 2)}}
    metrics["run"] = {"season": season, "lead_minutes": lead, "features_source": source, "bundle_dir": str(bundle_dir),
                      "bundle_windows": bundle.meta["windows"], "train_seconds": round(train_seconds, 1),
                      "score_season_seconds": round(score_seconds, 2),
                      "seconds_per_slate": round(float(np.mean(slate_times)), 3) if slate_times else None,
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "lightgbm_threads": lgb_threads(), "lightgbm_workers": lgb_workers(),
                      "predictions_rows": len(predictions), "stages": stages}
    stages["report"] = {"seconds": round(time.time() - t0, 2)}  # up to here; writing the two files is the rest
    metrics["run"]["total_seconds"] = round(time.time() - started, 1)
    metrics["targets"] = [{"metric": n, "value": v, "target": t, "met": bool(ok)} for n, v, t, ok in target_checks(metrics, lead)]
    (report_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    (report_dir / "report.md").write_text(render_report(metrics))
    return BacktestResult(report_dir=report_dir, metrics=metrics)


def predict_with_recent_shift(bundle, frame: pd.DataFrame, reconcile: bool = True) -> tuple[pd.DataFrame, dict]:
    """Score a season as production would day by day: each date's play probability moved by the shift fitted on
    the outcomes of the RECENT_DAYS dates before it (scoring/recalibrate.py; in production the overnight job
    records those outcomes in the drift log). Returns the scored frame (rows in `frame`'s order) and the shift
    of every date.

    One pass: the models run once on the whole season. The shift moves only the play probability, and the
    team reconciliation works within a team-game (one date), so applying each date's shift to its rows and
    reconciling the season at once publishes what scoring each date with `bundle.play_shift` set would
    (tests/python/scoring/test_recalibrate.py checks it row for row); the previous loop re-ran every model for
    each of ~160 dates."""
    frame = frame.reset_index(drop=True)
    bundle.play_shift = 0.0
    if frame.empty:
        return bundle.predict(frame, reconcile=reconcile), {}
    comps = bundle.components(frame)
    day = pd.to_datetime(frame["game_date"]).dt.date.to_numpy()
    status = frame["status"].astype("string").str.upper().fillna("UNK")
    evidence = (evaluation_rows(frame) & status.isin(["UNK", "AVAILABLE", ""])).to_numpy() & ~comps.out_mask
    played = frame["minutes"].fillna(0).to_numpy(float) > 0
    unshifted = comps.model_play_unshifted
    histograms = {d: outcome_histogram(unshifted[evidence & (day == d)], played[evidence & (day == d)])
                  for d in sorted(set(day))}
    shifts, per_row = {}, np.zeros(len(frame))
    for d in sorted(set(day)):
        first, last = recent_dates(d)
        window = [x for x in sorted(histograms) if first <= x <= last]
        shift = fit_shift([histograms[x] for x in window], [x.isoformat() for x in window])
        shifts[d.isoformat()] = shift.describe()
        per_row[day == d] = shift.shift
    comps.model_play = shifted(unshifted, per_row)
    groups = comps.out.groupby(["game_id", "team_id"], sort=False).ngroup().to_numpy()
    return bundle.publish(comps, bundle.reconciled(comps, groups, reconcile)).infer_objects(), shifts


def prediction_rows(scored: pd.DataFrame) -> pd.DataFrame:
    """The evaluated rows of a scored backtest frame, as written to predictions.parquet (PREDICTION_COLUMNS)."""
    rows = scored[evaluation_rows(scored)]
    out = rows.rename(columns={"minutes": "actual_minutes"})
    out["pregame_role"] = role_bucket(rows[ROLE_COLUMN]).to_numpy()
    out["missed_team_games"] = missed_team_games(scored)[rows.index].to_numpy()
    out["game_date"] = pd.to_datetime(out["game_date"]).dt.date
    return out[[c for c in PREDICTION_COLUMNS if c in out.columns]].reset_index(drop=True)


def plot_all(scored: pd.DataFrame, metrics: dict, report_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = scored[evaluation_rows(scored)]
    y = rows["minutes"].to_numpy(float)
    # 1. interval calibration: empirical P(y <= q) vs nominal, overall and by role; coverage by p50 bin
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    ax = axes[0]
    nominal = [0.1, 0.5, 0.9]
    for label, sel in (("all", np.ones(len(rows), bool)), ("starters", rows["is_starter"].to_numpy(bool)),
                       ("bench", ~rows["is_starter"].to_numpy(bool))):
        emp = [np.mean(y[sel] <= rows[c].to_numpy(float)[sel]) for c in ("minutes_p10", "minutes_p50", "minutes_p90")]
        ax.plot(nominal, emp, marker="o", label=label)
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1)
    ax.set(xlabel="nominal quantile level", ylabel="share of actuals <= quantile", title="Quantile calibration")
    ax.legend()
    ax = axes[1]
    bins = [-0.01, 2, 10, 20, 30, 48]
    cat = pd.cut(rows["minutes_p50"], bins)
    inside = (y >= rows["minutes_p10"].to_numpy()) & (y <= rows["minutes_p90"].to_numpy())
    cov = pd.Series(inside).groupby(cat.to_numpy(), observed=True).mean()
    ax.bar([str(i) for i in cov.index], cov.to_numpy(), color="tab:blue")
    ax.axhline(0.8, color="red", ls="--", lw=1)
    ax.set(ylim=(0, 1), xlabel="p50 bin (minutes)", ylabel="[p10, p90] coverage", title="Coverage by projection")
    fig.tight_layout()
    fig.savefig(report_dir / "interval_calibration.png", dpi=110)
    plt.close(fig)
    # 2. play_prob reliability: observed play share against mean play_prob per decile, calibrated and not
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    for label, key in (("published play_prob", "reliability"), ("model before calibration", "reliability_uncalibrated")):
        rel = metrics["distribution"].get(key) or []
        ax.plot([r["mean_play_prob"] for r in rel], [r["observed"] for r in rel], marker="o", label=label)
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1)
    ax.set(xlabel="mean play_prob (decile)", ylabel="observed share who played", title="play_prob reliability")
    ax.legend()
    fig.tight_layout()
    fig.savefig(report_dir / "play_prob_reliability.png", dpi=110)
    plt.close(fig)
    # 3. MAE by actual bucket, model vs baselines
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    labels = [b[2] for b in BUCKETS]
    width = 0.27
    series = [("Minutes V1.2", [metrics["mae_by_bucket"][lb]["mae"] for lb in labels])]
    for b in BASELINES:
        series.append((b.removeprefix("baseline_"), [metrics["baselines"][b]["mae_by_bucket"][lb] for lb in labels]))
    for i, (name, vals) in enumerate(series):
        ax.bar(np.arange(len(labels)) + (i - 1) * width, vals, width, label=name)
    ax.set_xticks(np.arange(len(labels)), labels)
    ax.set(xlabel="actual minutes", ylabel="MAE (minutes)", title="Error by actual-minutes bucket")
    ax.legend()
    fig.tight_layout()
    fig.savefig(report_dir / "error_by_bucket.png", dpi=110)
    plt.close(fig)
    # 4. MAE by starter / bench
    fig, ax = plt.subplots(figsize=(6, 4.2))
    st = rows["is_starter"].to_numpy(bool)
    groups = (("starter", st), ("bench", ~st))
    for i, (name, col) in enumerate((("Minutes V1.2", "minutes_p50"), *((b.removeprefix("baseline_"), b) for b in BASELINES))):
        vals = [np.mean(np.abs(rows[col].to_numpy(float)[sel] - y[sel])) for _, sel in groups]
        ax.bar(np.arange(2) + (i - 1) * width, vals, width, label=name)
    ax.set_xticks(np.arange(2), [g[0] for g in groups])
    ax.set(ylabel="MAE (minutes)", title="Error by pre-tip role")
    ax.legend()
    fig.tight_layout()
    fig.savefig(report_dir / "error_by_role.png", dpi=110)
    plt.close(fig)


def _f(x: float | None, nd: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{nd}f}"


def _stage_note(stage: dict) -> str:
    parts = [stage[k] for k in ("action", "reason") if stage.get(k)]
    if "workers" in stage:
        parts.append(f"{stage['workers']} model(s) at once")
    return "; ".join(str(p) for p in parts).replace("|", "/")


def breakdown_tables(breakdowns: dict, baselines: tuple[tuple[str, str], ...]) -> list[str]:
    """Markdown: one table per split of scoring.metrics.breakdowns (model and baseline MAE, coverage)."""
    lines: list[str] = []
    for split, groups in breakdowns.items():
        lines += ["", f"## {SPLIT_TITLES.get(split, split)}", "",
                  "| group | rows | played | MAE | " + " | ".join(f"{n} MAE" for n, _ in baselines)
                  + " | played MAE | coverage | coverage (played) |",
                  "|" + " --- |" * (7 + len(baselines))]
        for label, g in groups.items():
            base = " | ".join(_f(g["baselines"].get(col)) for _, col in baselines)
            lines.append(f"| {label} | {g['rows']:,} | {g['played_rows']:,} | {_f(g['mae'])} | {base} | "
                         f"{_f(g['mae_played'])} | {_f(g['coverage'], 3)} | {_f(g['coverage_played'], 3)} |")
    return lines


def render_report(m: dict) -> str:
    r = m["run"]
    b5, bs = m["baselines"]["baseline_last5_played"], m["baselines"]["baseline_season_avg"]
    lines = [
        f"# Backtest {r['season']}, features {r['lead_minutes']} min before tip",
        "",
        f"Bundle trained on earlier seasons (windows {r['bundle_windows']}), scored every regular-season game of "
        f"{r['season']}. Features: `{r['features_source']}`. Rows: {m['rows']:,} non-OUT player-games "
        f"({m['dnp_rows']:,} coach's-decision DNPs with actual 0). Definitions: docs/architecture.md / scoring/metrics.py.",
        "",
        "| metric | model | last-5-played avg | season-to-date avg |",
        "| --- | --- | --- | --- |",
        f"| MAE p50 (all rows) | {_f(m['mae'])} | {_f(b5['mae'])} | {_f(bs['mae'])} |",
        f"| MAE p50 (played only) | {_f(m['mae_played'])} | {_f(b5['mae_played'])} | {_f(bs['mae_played'])} |",
        f"| [p10, p90] coverage | {_f(m['coverage_p10_p90'], 3)} | | |",
        f"| team-games p50 sum in [230, 260] | {_f(m['team_sanity']['share_in_band'], 3)} | | |",
        "",
        "| Minutes V1.2 target (issue 18) | value | target | met |",
        "| --- | --- | --- | --- |",
        *(f"| {name} | {value} | {target} | {'yes' if met else '**no**'} |"
          for name, value, target, met in target_checks(m, int(r["lead_minutes"]))),
        "",
        f"Below p10: {_f(m['share_below_p10'], 3)}, above p90: {_f(m['share_above_p90'], 3)}, mean width "
        f"{_f(m['mean_interval_width'])} min; coverage on played rows {_f(m['coverage_played'], 3)}. "
        f"Per-row predictions: predictions.parquet ({r['predictions_rows']:,} rows).",
        "",
    ]
    lines += breakdown_tables(m["breakdowns"], (("last-5-played", "baseline_last5_played"),
                                                ("season-to-date", "baseline_season_avg")))
    d = m["distribution"]
    team = d["team_expected_minutes"]
    lines += [
        "", "## The distribution (Minutes V1.2)", "",
        f"Brier score of play_prob {_f(d['brier'], 4)} (the model before calibration, i.e. Minutes V1.1's play_prob "
        f"on these rows: {_f(d['brier_uncalibrated'], 4)}). Reliability per decile of play_prob:", "",
        "| decile | rows | mean play_prob | observed | gap | before calibration: mean / observed |",
        "| --- | --- | --- | --- | --- | --- |",
        *(f"| {r['decile']} | {r['rows']:,} | {r['mean_play_prob']:.3f} | {r['observed']:.3f} | {r['gap']:+.3f} | "
          f"{u['mean_play_prob']:.3f} / {u['observed']:.3f} |"
          for r, u in zip(d["reliability"], d["reliability_uncalibrated"], strict=False)),
        "",
        f"Team expected minutes: target {_f(team['target_minutes'])} (240 + expected overtime of the training "
        f"seasons); before reconciliation the sums average {_f(team['raw_sum_mean'])} (sd {_f(team['raw_sum_std'])}); "
        f"absolute adjustment per team-game: median {_f(team['median_abs_adjustment'])}, 95th percentile "
        f"{_f(team['p95_abs_adjustment'])}; {_f(team['share_within_0_5_of_target'], 3)} of {team['team_games']:,} "
        f"team-games end within 0.5 of the target. minutes_if_play [p10, p90] coverage on played rows: "
        f"{_f(d.get('if_play_coverage_played'), 3)}. April MAE {_f(d['mae_april'], 3)} against October-March "
        f"{_f(d['mae_oct_mar'], 3)}.", "",
        "![play_prob reliability](play_prob_reliability.png)",
    ]
    w = m["without_reconciliation"]
    lines += [
        "", "## Effect of team-minutes reconciliation", "",
        "| | MAE | played MAE | coverage | team share in band |", "| --- | --- | --- | --- | --- |",
        f"| without | {_f(w['mae'])} | {_f(w['mae_played'])} | {_f(w['coverage_p10_p90'], 3)} | {_f(w['team_share_in_band'], 3)} |",
        f"| with (published) | {_f(m['mae'])} | {_f(m['mae_played'])} | {_f(m['coverage_p10_p90'], 3)} | {_f(m['team_sanity']['share_in_band'], 3)} |",
        "", "(The mixture levels were fitted on reconciled distributions, so the 'without' coverage is indicative only.)",
        "", "## Cost", "",
        f"Training {r['train_seconds']} s ({r.get('lightgbm_workers', 1)} model(s) at once), scoring the season "
        f"{r['score_season_seconds']} s, {r['seconds_per_slate']} s per slate, peak RSS {r['peak_rss_mb']} MB "
        f"({r['lightgbm_threads']} LightGBM thread(s) per model).",
        "", "| stage | seconds | what happened |", "| --- | --- | --- |",
        *(f"| {name} | {st.get('seconds', '')} | {_stage_note(st)} |" for name, st in r.get("stages", {}).items()),
        "", "![interval calibration](interval_calibration.png)", "",
        "![error by bucket](error_by_bucket.png)", "", "![error by role](error_by_role.png)", "",
    ]
    return "\n".join(lines)
