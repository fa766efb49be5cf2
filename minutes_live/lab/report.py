"""Markdown and PNG plots of the evaluation lab (minutes_live/lab/experiment.py); numbers come from its metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scoring.backtest import SPLIT_TITLES

DELTAS_PNG = "p50_deltas_by_lead.png"
ACCURACY_PNG = "accuracy_and_coverage_by_lead.png"
CALIBRATION_PNG = "calibration_by_lead.png"
WINDOW_PNG = "history_window.png"


def _f(x, nd: int = 2) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.{nd}f}"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def variant_breakdowns(by_variant: dict[str, dict]) -> list[str]:
    """One table per split of scoring.metrics.breakdowns: rows per group, then MAE and coverage per variant."""
    names = list(by_variant)
    first = next(iter(by_variant.values()))
    lines: list[str] = []
    for split, groups in first.items():
        lines += ["", f"### {SPLIT_TITLES.get(split, split)}", "",
                  "| group | rows | " + " | ".join(f"MAE {n}" for n in names) + " | "
                  + " | ".join(f"coverage {n}" for n in names) + " |",
                  "|" + " --- |" * (2 + 2 * len(names))]
        for label in groups:
            cells = [by_variant[n][split].get(label, {}) for n in names]
            lines.append(f"| {label} | {groups[label]['rows']:,} | " + " | ".join(_f(c.get("mae")) for c in cells)
                         + " | " + " | ".join(_f(c.get("coverage"), 3) for c in cells) + " |")
    return lines


# ------------------------------------------------------------------------------------------------- what-if

def write_what_if(m: dict, deltas: dict[str, pd.DataFrame], scored: dict[int, pd.DataFrame], out: Path) -> None:
    from scoring.metrics import evaluation_rows

    plt = _plt()
    leads = sorted(m["leads"], reverse=True)
    by = m["by_lead"]
    x = np.arange(len(leads))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    ax = axes[0]
    ax.plot(x, [by[lead]["mae"] for lead in leads], marker="o", label="MAE (non-OUT rows)")
    ax.plot(x, [by[lead]["mae_played"] for lead in leads], marker="o", label="MAE (played rows)")
    ax.set_xticks(x, [f"tip-{lead}" for lead in leads])
    ax.set(xlabel="feature cutoff", ylabel="p50 MAE (minutes)", title=f"Accuracy by lead, {m['season']}")
    ax.legend()
    ax = axes[1]
    ax.bar(x, [by[lead]["coverage_p10_p90"] for lead in leads], color="tab:blue", label="[p10, p90] coverage")
    ax.axhline(0.8, color="red", ls="--", lw=1, label="nominal 0.80")
    ax.set_xticks(x, [f"tip-{lead}" for lead in leads])
    ax.set(ylim=(0.6, 0.9), xlabel="feature cutoff", ylabel="share of actuals inside [p10, p90]", title="Coverage by lead")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out / ACCURACY_PNG, dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    ax = axes[0]
    bins = np.concatenate([[0, 0.01], np.linspace(0.5, 15, 30)])
    for key, d in deltas.items():
        a = np.clip(d["delta"].abs().to_numpy(), 0, 15)
        ax.hist(a[a > 0], bins=bins[1:], histtype="step", lw=1.5,
                label=f"tip-{key.replace('->', ' -> tip-')} ({(a > 0).mean():.0%} moved)")
    ax.set_yscale("log")
    ax.set(xlabel="|p50 change| between the two cutoffs (minutes, clipped at 15)", ylabel="player-games (moved only)",
           title="How much p50 moves between leads")
    if deltas:  # one lead: nothing to compare
        ax.legend(fontsize=8)
    ax = axes[1]
    key = m["headline_pair"]
    if key:
        drivers = m["pairs"][key]["drivers"]
        names = [r["driver"] for r in drivers]
        ax.barh(names[::-1], [r["share_of_total_abs_delta"] for r in drivers][::-1], color="tab:orange")
        for i, r in enumerate(drivers[::-1]):
            ax.text(r["share_of_total_abs_delta"], i, f" {r['rows']:,} rows, mean |d| {_f(r['mean_abs_delta'])}",
                    va="center", fontsize=8)
        ax.set(xlim=(0, 1.15), xlabel="share of total |p50 change|",
               title=f"What drives tip-{key.replace('->', ' -> tip-')}")
    fig.tight_layout()
    fig.savefig(out / DELTAS_PNG, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4.4))
    for lead in leads:
        rows = scored[lead][evaluation_rows(scored[lead])]
        y = rows["minutes"].to_numpy(float)
        emp = [np.mean(y <= rows[c].to_numpy(float)) for c in ("minutes_p10", "minutes_p50", "minutes_p90")]
        ax.plot([0.1, 0.5, 0.9], emp, marker="o", label=f"tip-{lead}")
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1)
    ax.set(xlabel="nominal quantile level", ylabel="share of actuals <= quantile",
           title="Quantile calibration by lead (an actual 0 counts as <= a p10 of 0)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / CALIBRATION_PNG, dpi=110)
    plt.close(fig)


def _live_check_lines(c: dict | None, m: dict) -> list[str]:
    if not c:
        return ["", "## Live-path check", "", "Not run (`--live-dates 0`)."]
    leads = ", ".join(f"tip-{lead}" for lead in m["live_leads"])
    lines = [
        "", "## Live-path check", "",
        f"{len(c['dates'])} dates of the season (spread evenly), at {leads} of each slate's first tip: the live "
        "builder (`build_live.compute_live`: replay ingest of the slate, the live dbt build on the dataset's "
        "store, coverage checks; missing injuries / odds allowed as on the gold path) and the scorer "
        "(`scoring.score.score_into`, what `score_minutes_v1` writes) with the same bundle, against the "
        "gold-path predictions of the same (game, team, player) rows. Gold cutoff = tip - lead per game; live "
        "cutoff = min(run_as_of_ts, tip), equal only for games tipping at the first tip.", "",
        "| | rows compared | max abs p50 difference |", "| --- | --- | --- |",
        f"| games at the slate's first tip (same cutoff) | {c['first_tip_rows']:,} | **{_f(c['max_abs_diff_first_tip'], 4)}** |",
        f"| later games (live cutoff earlier than gold) | {c['other_rows']:,} | {_f(c['max_abs_diff_other'], 2)} "
        f"({c['rows_differing_other']:,} rows differ) |", "",
        f"Rows present on one path only: {c['unmatched_rows']:,}. Mean live build {c['live_build_seconds_mean']} s.",
        "", "Model inputs that differ between live and gold on matched rows (row counts summed over the runs):", "",
        f"- first-tip games: {_cols(c['feature_columns_differing_first_tip']) or 'none'}",
        f"- later games: {_cols(c['feature_columns_differing_other']) or 'none'}", "",
        "Why later games differ: their live cutoff is the run's instant (first tip - lead), up to several hours "
        "before their own tip - lead, so the live build has not yet seen what is published in between: the "
        "newer injury report, the tip-30 lineup confirmation (confirmed / projected starter, availability and "
        "vacancy counts that follow from it) and the tip-3h odds line of late games. Inputs outside those "
        "snapshot-driven ones (experiment.SNAPSHOT_INPUTS) and the standings moved by the same day's earlier "
        "results (experiment.LEAGUE_RESULT_INPUTS) that differ anywhere: "
        f"{', '.join(c['history_inputs_differing']) or 'none'} (history cannot differ: no box score is published "
        "between the two cutoffs of a slate that has not started).", "",
        "| date | lead | run_as_of_ts | games (first tip) | live rows | gold rows | max diff first-tip | max diff later | build s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in c["runs"]:
        lines.append(f"| {r['date']} | {r['lead']} | {r['run_as_of_ts']} | {r['games']} ({r['first_tip_games']}) | "
                     f"{r['live_rows']} | {r['gold_rows']} | {_f(r['max_abs_diff_first_tip'], 4)} | "
                     f"{_f(r['max_abs_diff_other'], 2)} | {r['live_build_seconds']} |")
    return lines


def _cols(counts: dict, top: int = 12) -> str:
    items = list(counts.items())
    more = f", ... ({len(items) - top} more)" if len(items) > top else ""
    return ", ".join(f"`{c}` ({n:,})" for c, n in items[:top]) + more


def render_what_if(m: dict) -> str:
    leads = sorted(m["leads"], reverse=True)
    by = m["by_lead"]
    b = m["bundle"]
    lines = [
        f"# What-if by lead time, {m['season']}", "",
        f"One bundle, trained at lead {m['train_lead']} (gold features tip - {m['train_lead']} min, the dbt default "
        f"gold_lead_minutes) on {', '.join(b['seasons'])} (windows {b['windows']}, {b['rounds']} rounds), scores the "
        f"season's gold features built at each lead. Rows: regular-season player-games not OUT at that cutoff "
        "(scoring/metrics.py). Reproduce: `minutes-live experiment what-if --season "
        f"{m['season']} --leads {','.join(str(x) for x in m['leads'])}`. Wall time {m.get('wall_seconds', 'n/a')} s.", "",
        "| lead | rows | MAE | played MAE | [p10, p90] coverage | coverage (played) | below p10 | above p90 | mean width | team share in band |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for lead in leads:
        r = by[lead]
        lines.append(f"| tip-{lead} | {r['rows']:,} | {_f(r['mae'])} | {_f(r['mae_played'])} | {_f(r['coverage_p10_p90'], 3)} | "
                     f"{_f(r['coverage_played'], 3)} | {_f(r['share_below_p10'], 3)} | {_f(r['share_above_p90'], 3)} | "
                     f"{_f(r['mean_interval_width'])} | {_f(r['team_share_in_band'], 3)} |")
    lines += ["", f"![accuracy and coverage]({ACCURACY_PNG})", "",
              "## How much p50 moves between leads", "",
              "Rows: player-games not OUT at one of the two cutoffs at least; delta = p50 at the later cutoff - p50 at "
              "the earlier one.", "",
              "| from -> to | rows | median abs delta | p90 abs delta | mean abs delta | max abs delta | share > 1 min | share > 3 min |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for p in m["pairs"].values():
        s = p["stats"]
        lines.append(f"| tip-{p['early']} -> tip-{p['late']} | {s['rows']:,} | {_f(s['median_abs'])} | {_f(s['p90_abs'])} | "
                     f"{_f(s['mean_abs'])} | {_f(s['max_abs'])} | {_f(s['share_over_1'], 3)} | {_f(s['share_over_3'], 3)} |")
    lines += ["", f"![p50 deltas]({DELTAS_PNG})", "", "## What drives the deltas", "",
              "Each row's inputs at the two cutoffs are compared and the row is attributed to the first change "
              "that holds: its own injury status; its pre-tip starter signal (confirmed lineup, else projected "
              "starters) flipped; its lineup role / confirmed-starter flags changed with the starter signal "
              "unchanged (a projected starter confirmed, or the nightly roster's lineup role appearing); the game's "
              "odds (spread, total); any other model input of "
              "its own; an input of a teammate in the same game (team context, vacancy and the team-minutes "
              "reconciliation move the row); nothing (the delta is then 0: a check on the attribution).", ""]
    for p in m["pairs"].values():
        lines += [f"**tip-{p['early']} -> tip-{p['late']}**", "",
                  "| driver | rows | share of rows | mean abs delta | share of total abs delta |", "| --- | --- | --- | --- | --- |"]
        for r in p["drivers"]:
            lines.append(f"| {r['driver']} | {r['rows']:,} | {_f(r['share_rows'], 3)} | {_f(r['mean_abs_delta'])} | "
                         f"{_f(r['share_of_total_abs_delta'], 3)} |")
        lines.append("")
    mv = m.get("movers")
    if mv:
        key = m["headline_pair"]
        lines += [f"## Who moves most (tip-{key.replace('->', ' -> tip-')})", "",
                  f"Players with at least {mv['min_games']} rows, by mean abs delta:", "",
                  "| player | rows | mean abs delta | mean delta | max abs delta |", "| --- | --- | --- | --- | --- |"]
        for r in mv["players"]:
            lines.append(f"| {r['player_name']} | {r['games']} | {_f(r['mean_abs_delta'])} | {_f(r['mean_delta'])} | "
                         f"{_f(r['max_abs_delta'])} |")
        lines += ["", "Teams, by mean abs delta (top 10 of 30):", "",
                  "| team | rows | mean abs delta | share > 3 min |", "| --- | --- | --- | --- |"]
        for r in mv["teams"][:10]:
            lines.append(f"| {r['team_tricode']} | {r['rows']:,} | {_f(r['mean_abs_delta'])} | {_f(r['share_over_3'], 3)} |")
    lines += ["", "## Calibration by lead", "",
              "| lead | share <= p10 | share < p10 | share <= p50 | share <= p90 |", "| --- | --- | --- | --- | --- |"]
    for lead in leads:
        c = by[lead]["calibration"]
        lines.append(f"| tip-{lead} | {_f(c['le_p10'], 3)} | {_f(c['lt_p10'], 3)} | {_f(c['le_p50'], 3)} | {_f(c['le_p90'], 3)} |")
    lines += ["", f"![calibration by lead]({CALIBRATION_PNG})"]
    lines += _live_check_lines(m.get("live_check"), m)
    lines += ["", "## Breakdowns by lead (scoring.metrics.breakdowns)"]
    lines += variant_breakdowns({f"tip-{lead}": by[lead]["breakdowns"] for lead in leads})
    lines += ["", "## Cost", "", "| stage | seconds | what happened |", "| --- | --- | --- |"]
    for name, st in m["stages"].items():
        if name.startswith("gold"):
            what = "; ".join(f"{k} {v.get('action', '')} {v.get('seconds', '')} s" for k, v in st.items())
            lines.append(f"| {name} | {round(sum(v.get('seconds', 0) for v in st.values()), 1)} | {what} |")
        else:
            lines.append(f"| {name} | {st.get('seconds', '')} | |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------- history window

def write_history_window(m: dict, out: Path) -> None:
    plt = _plt()
    rows = m["windows"]
    labels = [r["label"] for r in rows]
    x = np.arange(len(rows))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    ax.plot(x, [r["mae"] for r in rows], marker="o", label="MAE (non-OUT rows)")
    ax.plot(x, [r["mae_played"] for r in rows], marker="o", label="MAE (played rows)")
    ax.set_xticks(x, labels)
    ax.set(xlabel="history_days", ylabel="p50 MAE (minutes)", title=f"Accuracy by history window, {m['season']}")
    ax2 = ax.twinx()
    ax2.plot(x, [r["coverage_p10_p90"] for r in rows], marker="s", color="tab:green", ls=":", label="coverage")
    ax2.set(ylabel="[p10, p90] coverage", ylim=(0.6, 0.9))
    ax.legend(loc="upper right", fontsize=8)
    ax2.legend(loc="lower right", fontsize=8)
    ax = axes[1]
    ax.bar(x, [100 * r["drift"]["share_rows_any_change"] for r in rows], color="tab:purple")
    ax.set_xticks(x, labels)
    ref = m["reference"]["label"]
    ax.set(xlabel="history_days", ylabel=f"% of rows with any input != {ref}", title=f"Feature drift vs {ref}")
    ax = axes[2]
    w = 0.38
    ax.bar(x - w / 2, [r["live_build_seconds"] for r in rows], w, label="live build (one slate)")
    ax.bar(x + w / 2, [r["gold_build_seconds"] for r in rows], w, label="gold dbt build (five seasons)")
    ax.set_xticks(x, labels)
    ax.set(xlabel="history_days", ylabel="seconds", title="Build time")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / WINDOW_PNG, dpi=110)
    plt.close(fig)


def render_history_window(m: dict) -> str:
    rows = m["windows"]
    rec = m["recommendation"]
    b = m["bundle"]
    ref = m["reference"]["label"]
    days = ",".join(str(x) for x in m["asked_windows"])
    lines = [
        f"# Rolling-window history length (history_days), {m['season']}", "",
        f"history_days bounds how far back the rolling windows (last 1/3/5/10 games, 7-day sums, start share, "
        f"rest) look from each cutoff (models/intermediate/asof/int_player_minutes_rolling.sql). \"full\" = "
        f"{m['full_history_days']} days, the largest value the project accepts (foundation/cli_values.py "
        f"FLAG_BOUNDS, macros/run_vars.sql), longer than the dataset ({m['dataset_span_days']} days), so nothing "
        f"is cut. One bundle trained on the gold features of the longest window that builds ({ref}; lead "
        f"{m['lead']}, {', '.join(b['seasons'])}, "
        f"{b['rounds']} rounds) scores the season's gold features built with each window. Live build: one real "
        f"build of the {m['slate']['date']} slate ({m['slate']['games']} games) at {m['slate']['run_as_of_ts']} "
        f"(first tip - {m['lead']} min) on the dataset's store: one untimed build ingests the slate (replay) and "
        "warms dbt up, then one timed build per window from the stored snapshots (`--source none`: schedule "
        "checks, the live dbt build, coverage checks). Gold build: the "
        "dbt build of the gold mart (five seasons), forced even when cached. Reproduce: "
        f"`minutes-live experiment history-window --season {m['season']} --days {days}`. "
        f"Wall time {m.get('wall_seconds', 'n/a')} s.", "",
        f"| history_days | live build s (dbt) | gold build s | rows with any input != {ref} | inputs changed | MAE | played MAE | coverage | coverage (played) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(f"| {r['label']} | {r['live_build_seconds']} ({r['live_dbt_seconds']}) | {r['gold_build_seconds']} | "
                     f"{_f(100 * r['drift']['share_rows_any_change'], 1)}% | {r['drift']['columns_changed']} | {_f(r['mae'], 3)} | "
                     f"{_f(r['mae_played'], 3)} | {_f(r['coverage_p10_p90'], 3)} | {_f(r['coverage_played'], 3)} |")
    for f in m["failed_windows"]:
        lines.append(f"| {f['label']} | | failed after {f['seconds']} s | | | | | | |")
    for f in m["failed_windows"]:
        lines += ["", f"**{f['label']} ({f['days']} days) does not build**: {f['stage']}: `{f['error']}`. The marts' "
                  "contract tests bound `days_since_last` to 0..400 (models/intermediate/asof/_asof__models.yml, "
                  "models/marts/_marts__models.yml), which holds for any history_days <= 400 but not for a longer "
                  "window when a player comes back after more than 400 days, so the largest window the project "
                  "builds on every dataset is 400 days, not the 3650 that history_days accepts."]
    verdict = (f"change the default to {rec['label']}" if rec["change"] else f"keep the default {rec['label']}")
    lines += ["", f"**Recommendation: {verdict}.** Rule: {rec['rule']}. Qualifying: {', '.join(rec['qualifying'])}.",
              "", f"![history window]({WINDOW_PNG})", "", f"## Feature drift vs {ref} (per model input)", "",
              f"Share of the season's rows whose value differs from the {ref}-day build, and the largest absolute "
              "change (NULL <-> value counts as a change; rows where a value became NULL in parentheses).", ""]
    names = {c for r in rows for c in r["drift"]["columns"]}
    order = sorted(names, key=lambda c: -max(r["drift"]["columns"].get(c, {}).get("share_changed", 0) for r in rows))
    if order:
        lines += ["| input | " + " | ".join(r["label"] for r in rows) + " |", "|" + " --- |" * (1 + len(rows))]
        for c in order:
            cells = []
            for r in rows:
                d = r["drift"]["columns"].get(c)
                cells.append("0" if d is None else
                             f"{100 * d['share_changed']:.1f}%, max {_f(d['max_abs_change'])} ({d['null_changed']:,})")
            lines.append(f"| `{c}` | " + " | ".join(cells) + " |")
    else:
        lines.append(f"No input differs from {ref} in any window.")
    lines += ["", "## Breakdowns by window (scoring.metrics.breakdowns)"]
    lines += variant_breakdowns({r["label"]: r["breakdowns"] for r in rows})
    lines += ["", "## Cost", "", "| stage | seconds | what happened |", "| --- | --- | --- |"]
    for name, st in m["stages"].items():
        lines.append(f"| {name} | {st.get('seconds', '')} | {st.get('action', '')} {st.get('reason', '')} |")
    return "\n".join(lines) + "\n"
