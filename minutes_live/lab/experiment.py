"""Evaluation lab: what-if by lead time, and the rolling-window history length (`minutes-live experiment`).

Both experiments train ONE bundle on the seasons before the scored season and score that season's gold
features (minutes_live.pipeline.gold, the dbt mart) several ways, so every difference between two rows of a report comes
from the features alone. Metrics are scoring.metrics `evaluate` / `breakdowns` (the backtest's definitions).

- `run_what_if`: gold features at each lead (cutoff tip - lead); the bundle is trained at `train_lead`.
  Reports accuracy and calibration by lead, the p50 deltas between leads (consecutive leads and tip-120 ->
  tip-30), which snapshot changes drive them (`delta_drivers`), the players and teams that move most, and the
  live-path check (`live_path_check`): the real live builder at `first tip - lead` scored by the real scorer,
  against the gold-path predictions of the same rows.
- `run_history_window`: gold features built with each `history_days` (rolling windows look back at most that
  many days; "full" = the bound's maximum, longer than the dataset), live build time of one slate, gold build
  time, feature drift against full history, and the same bundle's accuracy on each.
Rendering (markdown + PNG) is minutes_live/lab/report.py.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from foundation import settings
from foundation.cli_values import FLAG_BOUNDS
from foundation.guardrails import InvalidInput
from scoring.bundle import MinutesBundle, load_bundle
from scoring.metrics import add_baselines, evaluate, with_breakdown_inputs

log = logging.getLogger(__name__)

KEYS = ["game_id", "team_id", "player_id"]
BASELINES = ("baseline_last5_played", "baseline_season_avg")
FULL_HISTORY_DAYS = FLAG_BOUNDS["--history-days"][1]  # "full": the largest history_days the project accepts
DEFAULT_HISTORY_DAYS = 365  # dbt_project.yml vars.history_days
# snapshot changes between two cutoffs, in the order a row's delta is attributed to them (`delta_drivers`)
STATUS_COLUMNS = ("status",)
LINEUP_COLUMNS = ("lineup_role", "is_confirmed_starter", "is_projected_starter")
ODDS_COLUMNS = ("spread_home", "total")
DRIVERS = ("status changed", "pre-tip starter flipped", "lineup role / starter flags changed, starter not",
           "odds changed", "other own input changed", "a teammate's inputs changed", "nothing changed")
# model inputs read from injury reports, rosters / lineups or odds, or derived from them: the only inputs two
# cutoffs of a not-yet-played slate can disagree on (no box score is published in between); every other input
# (rolling minutes, rest, pace, ratings, season phase) comes from history
SNAPSHOT_INPUTS = frozenset({
    "restriction_flag", "ramp_flag", "is_q", "is_prob", "injury_snapshot_missing", "spread_home", "total",
    "blowout_index", "blowout_risk_score", "close_game_score", "available_B", "available_G", "available_W",
    "depth_same_pos_active", "is_projected_starter", "is_confirmed_starter", "same_archetype_overlap",
    "arch_delta_sum", "arch_delta_same_pos", "arch_delta_max_role", "arch_delta_min_role",
    "arch_missing_same_pos_count", "arch_missing_total_count", "vac_min_szn", "vac_min_guard_szn",
    "vac_min_wing_szn", "vac_min_big_szn",
})
# inputs read from other teams' results known at the cutoff (docs/features.md, "End-of-season context"): a
# later game's gold cutoff (tip - lead) can know the results of the same day's earlier games, which the slate's
# live cutoff (first tip - lead) cannot; the team's own record and its opponent's come from earlier days
LEAGUE_RESULT_INPUTS = frozenset({"games_behind_6th", "games_behind_10th", "clinched_playoff", "eliminated",
                                  "seed_locked"})
PRED_COLUMNS = ("minutes_p10", "minutes_p50", "minutes_p90", "play_prob", "is_starter")


@dataclass
class ExperimentResult:
    report_dir: Path
    metrics: dict


def model_inputs() -> list[str]:
    """The contract columns the model reads (scoring.features; read-only use)."""
    from scoring.features import feature_spec

    return [c["name"] for c in feature_spec()["input_columns"]]


def regular(frame: pd.DataFrame) -> pd.DataFrame:
    if "game_type" not in frame.columns:
        return frame
    return frame[frame["game_type"].astype("string").fillna("regular").eq("regular")]


def utc(ts) -> pd.Timestamp:
    ts = pd.Timestamp(ts)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def changed(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Row-wise 'the value differs' with NULL == NULL (exact: both sides come from the same dbt models)."""
    a_na, b_na = a.isna().to_numpy(), b.isna().to_numpy()
    both = ~a_na & ~b_na
    av, bv = a.to_numpy(object), b.to_numpy(object)
    eq = np.zeros(len(a), bool)
    eq[both] = av[both] == bv[both]
    return ~(eq | (a_na & b_na))


def abs_change(a: pd.Series, b: pd.Series) -> float | None:
    """Largest |a - b| over rows where both are numbers (None for non-numeric columns)."""
    x, y = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
    if x.isna().all() and a.notna().any():
        return None
    d = (x.astype(float) - y.astype(float)).abs().dropna()
    return float(d.max()) if len(d) else 0.0


# ------------------------------------------------------------------------------------------------- training

def train_once(frame: pd.DataFrame, season: str, bundle_root: Path, bundle_id: str, seed: int,
               rounds: int | None = None, train_seasons: int | None = None) -> tuple[MinutesBundle, dict]:
    """One bundle on the regular-season rows of the seasons before `season` (the last `train_seasons` of them
    when given); its default windows (scoring.train.default_windows). Re-running replaces it."""
    from scoring.train import train_bundle

    frame = regular(frame)
    seasons = sorted(s for s in frame["season"].unique() if s < season)
    if train_seasons:
        seasons = seasons[-train_seasons:]
    if not seasons:
        raise InvalidInput(f"no season before {season} in the features to train on")
    if season not in set(frame["season"]):
        raise InvalidInput(f"season {season} is not in the features (have {sorted(frame['season'].unique())})")
    shutil.rmtree(Path(bundle_root) / bundle_id, ignore_errors=True)
    t0 = time.perf_counter()
    kw = {"quantile_rounds": rounds, "play_rounds": rounds} if rounds else {}
    path = train_bundle(frame[frame["season"].isin(seasons)], bundle_root, seed=seed, bundle_id=bundle_id, **kw)
    bundle = load_bundle(path)
    return bundle, {"bundle_dir": str(path), "seasons": seasons, "windows": bundle.meta["windows"],
                    "rounds": bundle.meta["params"]["quantile_rounds"], "seconds": round(time.perf_counter() - t0, 1)}


def score_season(bundle: MinutesBundle, frame: pd.DataFrame, season: str, baselines: pd.DataFrame) -> pd.DataFrame:
    """The bundle's predictions for every regular-season row of `season`, with the features the breakdowns
    and the delta drivers read, and the baselines (`baselines`: KEYS + BASELINES)."""
    test = regular(frame)
    test = test[test["season"] == season].reset_index(drop=True)
    scored = with_breakdown_inputs(bundle.predict(test), test)
    for col in ("tip_ts", "team_tricode", "player_name", *STATUS_COLUMNS, *LINEUP_COLUMNS, *ODDS_COLUMNS):
        if col in test.columns:
            scored[col] = test[col].to_numpy()
    scored = scored.merge(baselines, on=KEYS, how="left", validate="one_to_one")
    return scored


def baseline_columns(frame: pd.DataFrame, season: str) -> pd.DataFrame:
    """KEYS + the two label baselines of scoring.metrics.add_baselines, for the rows of `season` (labels do
    not depend on the lead or the window, so one computation serves every variant)."""
    f = add_baselines(regular(frame).reset_index(drop=True))
    return f.loc[f["season"] == season, [*KEYS, *BASELINES]].reset_index(drop=True)


def summary_metrics(scored: pd.DataFrame) -> dict:
    m = evaluate(scored, baselines=BASELINES)
    return {k: m[k] for k in ("rows", "played_rows", "dnp_rows", "mae", "mae_played", "coverage_p10_p90",
                               "coverage_played", "share_below_p10", "share_above_p90", "mean_interval_width")} | {
        "team_share_in_band": m["team_sanity"]["share_in_band"],
        "baselines": {b: {"mae": v["mae"], "mae_played": v["mae_played"]} for b, v in m["baselines"].items()},
        "calibration": quantile_calibration(scored),
        "breakdowns": m["breakdowns"],
    }


def quantile_calibration(scored: pd.DataFrame) -> dict:
    """Share of actuals <= p10 / p50 / p90 and strictly below p10 (evaluation rows)."""
    from scoring.metrics import evaluation_rows

    rows = scored[evaluation_rows(scored)]
    y = rows["minutes"].astype(float).to_numpy()
    out = {f"le_{c[-3:]}": float(np.mean(y <= rows[c].to_numpy(float))) for c in ("minutes_p10", "minutes_p50", "minutes_p90")}
    out["lt_p10"] = float(np.mean(y < rows["minutes_p10"].to_numpy(float)))
    return out


# ------------------------------------------------------------------------------------------------- what-if

def lead_pairs(leads: list[int]) -> list[tuple[int, int]]:
    """(earlier, later) lead pairs: consecutive leads from the earliest, plus (120, 30) when both are given."""
    desc = sorted(leads, reverse=True)
    pairs = list(zip(desc[:-1], desc[1:], strict=True))
    if 120 in leads and 30 in leads and (120, 30) not in pairs:
        pairs.append((120, 30))
    return pairs


def headline_pair(leads: list[int]) -> tuple[int, int] | None:
    if 120 in leads and 30 in leads:
        return (120, 30)
    return (max(leads), min(leads)) if len(leads) > 1 else None


def delta_drivers(early: pd.DataFrame, late: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """One row per player-game not OUT at one of the two cutoffs at least: p50 at both, `delta` (late - early),
    and `driver`: the first of DRIVERS that holds when the row's inputs at the two cutoffs are compared: its
    injury status; its pre-tip starter signal (`is_starter`: confirmed lineup, else projected starters); its
    lineup role / confirmed or projected starter flags with the starter signal unchanged; the game's odds; any
    other model input of its own; an input of a teammate in the same game (team context, vacancy and the
    team-minutes reconciliation then move the row); nothing (the delta is then 0)."""
    cols = [c for c in dict.fromkeys([*STATUS_COLUMNS, *LINEUP_COLUMNS, *ODDS_COLUMNS, *features]) if c in early.columns
            and c in late.columns]
    keep = [*KEYS, "player_name", "team_tricode", "minutes", *PRED_COLUMNS]
    a = early[[c for c in dict.fromkeys(keep + cols) if c in early.columns]]
    b = late[[c for c in dict.fromkeys([*KEYS, *PRED_COLUMNS, *cols]) if c in late.columns]]
    m = a.merge(b, on=KEYS, suffixes=("_early", "_late"), validate="one_to_one")

    def any_changed(names) -> np.ndarray:
        out = np.zeros(len(m), bool)
        for c in names:
            if f"{c}_early" in m.columns:
                out |= changed(m[f"{c}_early"], m[f"{c}_late"])
        return out

    status = any_changed(STATUS_COLUMNS)
    starter = any_changed(["is_starter"])
    lineup = any_changed(LINEUP_COLUMNS)
    odds = any_changed(ODDS_COLUMNS)
    other = any_changed(c for c in cols if c not in (*STATUS_COLUMNS, *LINEUP_COLUMNS, *ODDS_COLUMNS))
    own = status | starter | lineup | odds | other
    team = pd.Series(own).groupby([m["game_id"].to_numpy(), m["team_id"].to_numpy()]).transform("sum").to_numpy()
    teammate = (team - own.astype(int)) > 0
    driver = np.select([status, starter, lineup, odds, other, teammate], DRIVERS[:6], default=DRIVERS[6])
    out_early = m["status_early"].astype("string").str.upper().fillna("").eq("OUT")
    out_late = m["status_late"].astype("string").str.upper().fillna("").eq("OUT")
    res = pd.DataFrame({c: m[c] for c in [*KEYS, "player_name", "team_tricode", "minutes"] if c in m.columns})
    res["p50_early"] = m["minutes_p50_early"].to_numpy(float)
    res["p50_late"] = m["minutes_p50_late"].to_numpy(float)
    res["delta"] = res["p50_late"] - res["p50_early"]
    res["driver"] = driver
    return res[~(out_early & out_late).to_numpy()].reset_index(drop=True)


def delta_stats(d: pd.DataFrame) -> dict:
    a = d["delta"].abs().to_numpy()
    return {"rows": int(len(a)), "median_abs": float(np.median(a)) if len(a) else None,
            "p90_abs": float(np.quantile(a, 0.9)) if len(a) else None, "mean_abs": float(a.mean()) if len(a) else None,
            "max_abs": float(a.max()) if len(a) else None, "share_over_1": float((a > 1).mean()) if len(a) else None,
            "share_over_3": float((a > 3).mean()) if len(a) else None}


def driver_table(d: pd.DataFrame) -> list[dict]:
    a = d["delta"].abs()
    total = float(a.sum()) or 1.0
    rows = []
    for name in DRIVERS:
        sel = d["driver"] == name
        rows.append({"driver": name, "rows": int(sel.sum()), "share_rows": float(sel.mean()) if len(d) else 0.0,
                     "mean_abs_delta": float(a[sel].mean()) if sel.any() else None,
                     "share_of_total_abs_delta": float(a[sel].sum() / total)})
    return rows


def movers(d: pd.DataFrame, top: int = 10, min_games: int = 10) -> dict:
    a = d.assign(abs_delta=d["delta"].abs())
    players = (a.groupby(["player_id", "player_name"], dropna=False)
               .agg(games=("delta", "size"), mean_abs_delta=("abs_delta", "mean"), mean_delta=("delta", "mean"),
                    max_abs_delta=("abs_delta", "max")).reset_index())
    players = players[players["games"] >= min_games].sort_values("mean_abs_delta", ascending=False).head(top)
    teams = (a.groupby("team_tricode").agg(rows=("delta", "size"), mean_abs_delta=("abs_delta", "mean"),
                                            share_over_3=("abs_delta", lambda s: float((s > 3).mean())))
             .reset_index().sort_values("mean_abs_delta", ascending=False))
    return {"min_games": min_games, "players": players.to_dict("records"), "teams": teams.to_dict("records")}


def sample_dates(dates: list, n: int) -> list:
    """`n` dates spread evenly over `dates` (sorted, first and last included), deterministic."""
    dates = sorted(dates)
    if n <= 0 or not dates:
        return []
    if n >= len(dates):
        return dates
    idx = np.unique(np.round(np.linspace(0, len(dates) - 1, n)).astype(int))
    return [dates[i] for i in idx]


def live_build(dataset_dir: Path, day: date, as_of: datetime, *, db_path: Path, data_root: Path,
               history_days: int | None = None, source: str = "replay"):
    """The live builder's computation (build_live.compute_live: replay ingest of the slate, schedule checks,
    the live dbt build, coverage checks) without publishing a run. Missing injuries / odds are allowed: the
    gold path has no such guardrail, and a comparison needs every date. `source="none"` builds from what the
    store holds (no ingest)."""
    from minutes_live.pipeline.live_build import LiveBuildConfig, compute_live

    cfg = LiveBuildConfig(day=day, run_as_of_ts=as_of, source=source, dataset_dir=Path(dataset_dir),
                          history_days=history_days, allow_missing_injuries=True, allow_missing_odds=True,
                          db_path=db_path, data_root=data_root)
    t0 = time.perf_counter()
    result = compute_live(cfg, db_path=db_path, data_root=data_root)
    return result, time.perf_counter() - t0


def score_live(features: pd.DataFrame, day: date, as_of: datetime, bundle: MinutesBundle, run_dir: Path) -> pd.DataFrame:
    """Score a live slate the way score_minutes_v1 does (scoring.score: read the features parquet, score it,
    write minutes.parquet + summary.json), into `run_dir` instead of a published run."""
    from foundation.run_directory import run_id_for
    from scoring.score import ScoreRequest, ScoreSource, read_slate, score_into

    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "features.parquet"
    features.to_parquet(path, index=False)
    req = ScoreRequest(day=day, mode="live", features_path=path, artifact_root=run_dir)
    source = ScoreSource(path, run_id_for(as_of), as_of, None)
    return score_into(run_dir, req, source, read_slate(path, day), bundle).scored


def live_path_check(dataset_dir: Path, gold: dict[int, pd.DataFrame], scored: dict[int, pd.DataFrame],
                    bundle: MinutesBundle, dates: list[date], leads: list[int], *, db_path: Path, data_root: Path,
                    out_dir: Path) -> dict:
    """For each date and lead: the live build at `first tip of the slate - lead`, scored with `bundle`,
    against the gold-path predictions (`scored[lead]`) of the same (game, team, player) rows. Rows of games
    tipping at the first tip have the same cutoff on both paths; the other games' live cutoff is earlier."""
    features = model_inputs()
    runs = []
    for day in dates:
        for lead in leads:
            g = scored[lead]
            slate = g[pd.to_datetime(g["game_date"]).dt.date == day]
            if slate.empty:
                continue
            first_tip = utc(slate["tip_ts"].min())
            as_of = (first_tip - pd.Timedelta(minutes=lead)).to_pydatetime().astimezone(UTC)
            result, seconds = live_build(dataset_dir, day, as_of, db_path=db_path, data_root=data_root)
            live = score_live(result.features, day, as_of, bundle, out_dir / f"{day}_tip-{lead}")
            live_f = result.features
            gold_f = regular(gold[lead])
            gold_f = gold_f[pd.to_datetime(gold_f["game_date"]).dt.date == day]
            m = live.merge(slate[[*KEYS, "minutes_p50", "tip_ts"]], on=KEYS, suffixes=("_live", "_gold"),
                           validate="one_to_one")
            diff = (m["minutes_p50_live"] - m["minutes_p50_gold"]).abs()
            first = (pd.to_datetime(m["tip_ts_gold"], utc=True) == first_tip).to_numpy()
            fm = live_f.merge(gold_f[[*KEYS, *features]], on=KEYS, suffixes=("_live", "_gold"))
            f_first = (pd.to_datetime(fm["tip_ts"], utc=True) == first_tip).to_numpy()
            col_diff_first, col_diff_other = {}, {}
            for c in features:
                ch = changed(fm[f"{c}_live"], fm[f"{c}_gold"])
                if ch[f_first].any():
                    col_diff_first[c] = int(ch[f_first].sum())
                if ch[~f_first].any():
                    col_diff_other[c] = int(ch[~f_first].sum())
            runs.append({
                "date": day.isoformat(), "lead": lead, "run_as_of_ts": as_of.isoformat(),
                "games": int(slate["game_id"].nunique()),
                "first_tip_games": int(slate.loc[pd.to_datetime(slate["tip_ts"], utc=True) == first_tip, "game_id"].nunique()),
                "live_rows": int(len(live)), "gold_rows": int(len(slate)), "matched_rows": int(len(m)),
                "first_tip_rows": int(first.sum()), "other_rows": int((~first).sum()),
                "max_abs_diff_first_tip": float(diff[first].max()) if first.any() else None,
                "max_abs_diff_other": float(diff[~first].max()) if (~first).any() else None,
                "rows_differing_other": int((diff[~first] > 0).sum()),
                "feature_columns_differing_first_tip": col_diff_first,
                "feature_columns_differing_other": col_diff_other,
                "live_build_seconds": round(seconds, 1),
            })
            log.info("live-path check %s tip-%d: %d live / %d gold rows, max |p50 diff| first-tip games %s, "
                     "other games %s (%.0f s)", day, lead, len(live), len(slate),
                     runs[-1]["max_abs_diff_first_tip"], runs[-1]["max_abs_diff_other"], seconds)
    return summarize_live_check(runs)


def summarize_live_check(runs: list[dict]) -> dict:
    def mx(key: str) -> float | None:
        vals = [r[key] for r in runs if r[key] is not None]
        return max(vals) if vals else None

    def col_counts(key: str) -> dict:
        out: dict[str, int] = {}
        for r in runs:
            for c, n in r[key].items():
                out[c] = out.get(c, 0) + n
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    first, other = col_counts("feature_columns_differing_first_tip"), col_counts("feature_columns_differing_other")
    return {"dates": sorted({r["date"] for r in runs}), "runs": runs,
            "max_abs_diff_first_tip": mx("max_abs_diff_first_tip"), "max_abs_diff_other": mx("max_abs_diff_other"),
            "first_tip_rows": sum(r["first_tip_rows"] for r in runs), "other_rows": sum(r["other_rows"] for r in runs),
            "rows_differing_other": sum(r["rows_differing_other"] for r in runs),
            "unmatched_rows": sum(r["live_rows"] + r["gold_rows"] - 2 * r["matched_rows"] for r in runs),
            "feature_columns_differing_first_tip": first, "feature_columns_differing_other": other,
            "history_inputs_differing": sorted((set(first) | set(other)) - SNAPSHOT_INPUTS - LEAGUE_RESULT_INPUTS),
            "live_build_seconds_mean": round(float(np.mean([r["live_build_seconds"] for r in runs])), 1) if runs else None}


def _paths(dataset_dir: Path, db_path: Path | None, data_root: Path | None) -> tuple[Path, Path]:
    data_root = Path(data_root or settings.data_root())
    return data_root, Path(db_path or settings.store_path_for("replay", dataset_dir, data_root))


def run_what_if(dataset_dir: Path, season: str, leads: list[int], *, train_lead: int, out_root: Path,
                bundle_root: Path, live_dates: int = 20, live_leads: tuple[int, ...] = (120, 30), seed: int = 7,
                rounds: int | None = None, train_seasons: int | None = None, db_path: Path | None = None,
                data_root: Path | None = None, ingest: bool = True, lock_timeout: float = 600.0) -> ExperimentResult:
    """The what-if experiment (module docstring); writes `<out_root>/what_if_<season>/`."""
    from minutes_live.lab import report as experiment_report
    from minutes_live.pipeline.gold import gold_features

    started = time.perf_counter()
    data_root, db_path = _paths(dataset_dir, db_path, data_root)
    live_leads = tuple(live_leads) if live_dates else ()
    needed = list(dict.fromkeys([train_lead, *leads, *live_leads]))
    gold, stages = {}, {}
    for i, lead in enumerate(needed):
        g = gold_features(Path(dataset_dir), lead, db_path, data_root=data_root, ingest=ingest and i == 0,
                          wait_seconds=lock_timeout)
        gold[lead], stages[f"gold lead {lead}"] = g.frame, g.stages
    t0 = time.perf_counter()
    bundle, train_info = train_once(gold[train_lead], season, bundle_root, f"what_if_{season}_lead{train_lead}_seed{seed}",
                                    seed, rounds, train_seasons)
    stages["train"] = {"seconds": round(time.perf_counter() - t0, 1)}
    t0 = time.perf_counter()
    baselines = baseline_columns(gold[train_lead], season)
    scored = {lead: score_season(bundle, gold[lead], season, baselines) for lead in needed}
    by_lead = {lead: summary_metrics(scored[lead]) for lead in leads}
    features = model_inputs()
    pairs = {}
    for early, late in lead_pairs(leads):
        d = delta_drivers(scored[early].merge(regular(gold[early])[[*KEYS, *features]], on=KEYS, suffixes=("", "_f")),
                          scored[late].merge(regular(gold[late])[[*KEYS, *features]], on=KEYS, suffixes=("", "_f")),
                          features)
        pairs[f"{early}->{late}"] = {"early": early, "late": late, "stats": delta_stats(d), "drivers": driver_table(d),
                                     "_deltas": d}
    head = headline_pair(leads)
    head_key = f"{head[0]}->{head[1]}" if head else None
    mover = movers(pairs[head_key]["_deltas"]) if head_key in pairs else None
    stages["score and compare"] = {"seconds": round(time.perf_counter() - t0, 1)}
    report_dir = Path(out_root) / f"what_if_{season}"
    report_dir.mkdir(parents=True, exist_ok=True)
    check = None
    if live_dates:
        t0 = time.perf_counter()
        days = sample_dates(sorted(pd.to_datetime(scored[live_leads[0]]["game_date"]).dt.date.unique()), live_dates)
        shutil.rmtree(report_dir / "live_check", ignore_errors=True)
        check = live_path_check(Path(dataset_dir), gold, scored, bundle, days, list(live_leads), db_path=db_path,
                                data_root=data_root, out_dir=report_dir / "live_check")
        stages["live-path check"] = {"seconds": round(time.perf_counter() - t0, 1)}
    metrics = {
        "season": season, "leads": leads, "train_lead": train_lead, "bundle": train_info, "by_lead": by_lead,
        "pairs": {k: {kk: vv for kk, vv in v.items() if kk != "_deltas"} for k, v in pairs.items()},
        "headline_pair": head_key, "movers": mover, "live_check": check,
        "live_leads": list(live_leads), "stages": stages,
        "dataset_dir": str(dataset_dir), "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    t0 = time.perf_counter()
    experiment_report.write_what_if(metrics, {k: v["_deltas"] for k, v in pairs.items()}, scored, report_dir)
    stages["report"] = {"seconds": round(time.perf_counter() - t0, 1)}
    metrics["wall_seconds"] = round(time.perf_counter() - started, 1)
    (report_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    (report_dir / "report.md").write_text(experiment_report.render_what_if(metrics))
    return ExperimentResult(report_dir, metrics)


# ------------------------------------------------------------------------------------------- history window

def window_label(days: int) -> str:
    return "full" if days == FULL_HISTORY_DAYS else str(days)


def busiest_date(frame: pd.DataFrame, season: str) -> date:
    """The season's regular-season date with the most games (the earliest of ties): the sample live slate."""
    f = regular(frame)
    f = f[f["season"] == season]
    games = f.groupby(pd.to_datetime(f["game_date"]).dt.date)["game_id"].nunique()
    return games[games == games.max()].index.min()


def feature_drift(window: pd.DataFrame, full: pd.DataFrame, features: list[str]) -> dict:
    """Per model input column: share of rows whose value differs from the reference (full history) and the
    largest absolute change, over the rows of both frames (matched on KEYS)."""
    m = window[[*KEYS, *features]].merge(full[[*KEYS, *features]], on=KEYS, suffixes=("_w", "_f"), validate="one_to_one")
    cols, any_row = {}, np.zeros(len(m), bool)
    for c in features:
        ch = changed(m[f"{c}_w"], m[f"{c}_f"])
        any_row |= ch
        if ch.any():
            cols[c] = {"share_changed": float(ch.mean()), "rows_changed": int(ch.sum()),
                       "max_abs_change": abs_change(m[f"{c}_w"], m[f"{c}_f"]),
                       "null_changed": int((m[f"{c}_w"].isna() != m[f"{c}_f"].isna()).sum())}
    return {"rows": int(len(m)), "share_rows_any_change": float(any_row.mean()) if len(m) else 0.0,
            "columns_changed": len(cols), "columns": dict(sorted(cols.items(), key=lambda kv: -kv[1]["share_changed"]))}


def recommend(windows: list[dict], tolerance: float = 0.01) -> dict:
    """The default to keep or set: windows whose MAE and played MAE are within `tolerance` minutes of the best
    qualify; the current default (365) stays when it qualifies (a change must be earned), else the qualifying
    window with the fastest live build."""
    best = min(w["mae"] for w in windows)
    best_played = min(w["mae_played"] for w in windows)
    ok = [w for w in windows if w["mae"] <= best + tolerance and w["mae_played"] <= best_played + tolerance]
    current = next((w for w in ok if w["days"] == DEFAULT_HISTORY_DAYS), None)
    pick = current or min(ok, key=lambda w: w["live_build_seconds"])
    return {"days": pick["days"], "label": pick["label"], "change": pick["days"] != DEFAULT_HISTORY_DAYS,
            "tolerance_minutes": tolerance, "qualifying": [w["label"] for w in ok], "best_mae": best,
            "rule": f"windows within {tolerance} min of the best MAE and played MAE qualify; the current default "
                    f"({DEFAULT_HISTORY_DAYS}) is kept when it qualifies, else the qualifying window with the "
                    "fastest live build"}


def run_history_window(dataset_dir: Path, season: str, windows: list[int], *, lead: int, out_root: Path,
                       bundle_root: Path, slate_date: date | None = None, seed: int = 7, rounds: int | None = None,
                       train_seasons: int | None = None, db_path: Path | None = None, data_root: Path | None = None,
                       ingest: bool = True, lock_timeout: float = 600.0) -> ExperimentResult:
    """The history-window experiment (module docstring); writes `<out_root>/history_window_<season>/`."""
    from foundation.store import StoreDataset, ensure_store_usable
    from minutes_live.lab import report as experiment_report
    from minutes_live.pipeline.dbt_runner import DbtError
    from minutes_live.pipeline.gold import backfill_unless_current, gold_features
    from snapshots_ingest.dataset import load_dataset

    started = time.perf_counter()
    data_root, db_path = _paths(dataset_dir, db_path, data_root)
    ensure_store_usable(db_path, lock_timeout, dataset=StoreDataset.for_source("replay", dataset_dir))
    tips = pd.to_datetime(load_dataset(Path(dataset_dir)).games["tip_ts"], utc=True)
    span_days = int((tips.max() - tips.min()).days) + 1
    if span_days >= FULL_HISTORY_DAYS:
        raise InvalidInput(f"the dataset spans {span_days} days: history_days {FULL_HISTORY_DAYS} (the largest allowed) "
                         "would truncate it, so 'full' is not full history here")
    stages = {"ingest": backfill_unless_current(Path(dataset_dir), db_path=db_path, data_root=data_root)
              if ingest else {"action": "not asked"}}
    order = sorted(windows, reverse=True)  # longest first: the bundle trains on the longest window that builds
    if FULL_HISTORY_DAYS not in order:
        order.insert(0, FULL_HISTORY_DAYS)  # drift is measured against full history
    gold, gold_seconds, failed = {}, {}, []
    for w in order:
        # reuse=False: the dbt build runs even when a mart of these inputs is cached, so its time is measured
        t0 = time.perf_counter()
        try:
            g = gold_features(Path(dataset_dir), lead, db_path, data_root=data_root, ingest=False,
                              extra_vars={"history_days": w}, wait_seconds=lock_timeout, reuse=False)
        except DbtError as exc:
            # a window the project's own dbt tests refuse (e.g. days_since_last <= 400 with a longer window) is a
            # result, not a crash: reported, left out of the comparison
            failed.append({"days": w, "label": window_label(w), "stage": "gold dbt build",
                           "seconds": round(time.perf_counter() - t0, 1), "error": str(exc).splitlines()[0][:400]})
            log.warning("history window %s: gold build failed: %s", window_label(w), failed[-1]["error"])
            continue
        gold[w], gold_seconds[w] = g.frame, g.stages["dbt"]["seconds"]
        log.info("history window %s: gold build %.1f s", window_label(w), gold_seconds[w])
    if not gold:
        raise InvalidInput(f"no history window could be built: {failed}")
    reference = max(gold)  # full history when it builds, else the longest window that does
    t0 = time.perf_counter()
    bundle, train_info = train_once(gold[reference], season, bundle_root,
                                    f"history_window_{season}_lead{lead}_seed{seed}", seed, rounds, train_seasons)
    stages["train"] = {"seconds": round(time.perf_counter() - t0, 1)}
    day = slate_date or busiest_date(gold[reference], season)
    slate = regular(gold[reference])
    slate = slate[pd.to_datetime(slate["game_date"]).dt.date == day]
    if slate.empty:
        raise InvalidInput(f"--slate-date {day} has no regular-season games in the features")
    as_of = (utc(slate["tip_ts"].min()) - pd.Timedelta(minutes=lead)).to_pydatetime().astimezone(UTC)
    # one untimed build first: it ingests the slate's snapshots (replay) and warms dbt up, so the timed builds
    # below (source none: what the store holds) differ only in history_days. A replay ingest per window would
    # also re-extract history_days of box scores under the same run id, which immutable extracts refuse.
    live_build(Path(dataset_dir), day, as_of, db_path=db_path, data_root=data_root)
    baselines = baseline_columns(gold[reference], season)
    features = model_inputs()
    full_season = regular(gold[reference])
    full_season = full_season[full_season["season"] == season]
    rows, scored = [], {}
    for w in [w for w in windows if w in gold]:
        result, seconds = live_build(Path(dataset_dir), day, as_of, db_path=db_path, data_root=data_root,
                                     history_days=w, source="none")
        season_rows = regular(gold[w])
        season_rows = season_rows[season_rows["season"] == season]
        scored[w] = score_season(bundle, gold[w], season, baselines)
        m = summary_metrics(scored[w])
        drift = feature_drift(season_rows, full_season, features)
        rows.append({"days": w, "label": window_label(w), "live_build_seconds": round(seconds, 1),
                     "live_dbt_seconds": round(result.summary["durations_seconds"]["dbt_build"], 1),
                     "live_rows": int(len(result.features)), "gold_build_seconds": gold_seconds[w],
                     "drift": drift, **{k: m[k] for k in ("rows", "mae", "mae_played", "coverage_p10_p90",
                                                          "coverage_played", "team_share_in_band", "calibration",
                                                          "breakdowns")}})
        log.info("history window %s: live build %.1f s, gold build %.1f s, %.1f%% of rows drift, MAE %.3f, played "
                 "%.3f, coverage %.3f", window_label(w), seconds, gold_seconds[w], 100 * drift["share_rows_any_change"],
                 m["mae"], m["mae_played"], m["coverage_p10_p90"])
    metrics = {"season": season, "lead": lead, "windows": rows, "recommendation": recommend(rows),
               "asked_windows": [window_label(w) for w in windows], "failed_windows": failed, "reference": {"days": reference, "label": window_label(reference)},
               "full_history_days": FULL_HISTORY_DAYS, "dataset_span_days": span_days,
               "slate": {"date": day.isoformat(), "run_as_of_ts": as_of.isoformat(), "games": int(slate["game_id"].nunique())},
               "bundle": train_info, "stages": stages, "dataset_dir": str(dataset_dir),
               "generated_at": datetime.now(UTC).isoformat(timespec="seconds")}
    report_dir = Path(out_root) / f"history_window_{season}"
    report_dir.mkdir(parents=True, exist_ok=True)
    experiment_report.write_history_window(metrics, report_dir)
    metrics["wall_seconds"] = round(time.perf_counter() - started, 1)
    (report_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, default=str) + "\n")
    (report_dir / "report.md").write_text(experiment_report.render_history_window(metrics))
    return ExperimentResult(report_dir, metrics)

