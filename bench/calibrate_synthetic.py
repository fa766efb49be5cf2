"""Compare the synthetic league with a real season; prints the markdown table of docs/synthetic_league.md.

    python bench/calibrate_synthetic.py [--real-dir ../shared/data/nba] [--real-season 2021_22 ...]
                                        [--synthetic-dir DIR | --seed 7]

Without --synthetic-dir the league is generated into a temporary directory. Regular-season games only.
The real column is skipped when the real directory is missing.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))  # runnable as a plain script, without installing the package

from snapshots_ingest.synthetic_league import generate_league  # noqa: E402

DEFAULT_REAL_DIR = PROJECT_ROOT.parent / "shared" / "data" / "nba"


def season_metrics(data_dir: Path, suffix: str) -> dict[str, str]:
    box = pd.read_parquet(data_dir / f"box_scores_{suffix}.parquet")
    sched = pd.read_parquet(data_dir / f"schedule_bref_{suffix}.parquet")
    lines = pd.read_parquet(data_dir / f"lines_{suffix}.parquet")
    rosters = pd.read_parquet(data_dir / f"rosters_derived_{suffix}.parquet")
    box = box[box["game_type"] == "regular"]
    sched = sched[sched["game_type"] == "regular"]
    lines = lines[(lines["game_type"] == "regular") & ~lines["suspect_line_nulled"]]

    played = box[box["status"] == "played"]
    starters = played[played["starter"]]["minutes"]
    bench = played[~played["starter"]]["minutes"]
    team_games = box.groupby(["game_id", "team"])
    team_seconds = team_games["seconds_played"].sum()
    n_ot = sched.set_index("game_id")["overtimes"].str.extract(r"^(\d*)OT$")[0]
    n_ot = n_ot.replace("", "1").astype(float).fillna(0).astype(int)
    expected = (240 + 25 * n_ot.reindex(team_seconds.index.get_level_values("game_id")).to_numpy()) * 60
    exact = team_seconds.to_numpy() == expected
    within5 = np.abs(team_seconds.to_numpy() - expected) <= 5
    regulation = n_ot.reindex(team_seconds.index.get_level_values("game_id")).to_numpy() == 0

    team_dates = (
        pd.concat([sched[["game_date", "home_team"]].rename(columns={"home_team": "team"}),
                   sched[["game_date", "away_team"]].rename(columns={"away_team": "team"})])
        .assign(game_date=lambda d: pd.to_datetime(d["game_date"]))
        .sort_values(["team", "game_date"])
    )
    gap = team_dates.groupby("team")["game_date"].diff().dt.days
    roster_size = rosters.groupby("team").size()
    listed = team_games.size()
    played_per_team_game = played.groupby(["game_id", "team"]).size()

    def q(s: pd.Series) -> str:
        p5, p50, p95 = np.nanpercentile(s.astype(float), [5, 50, 95])
        return f"{p5:.1f} / {p50:.1f} / {p95:.1f}"

    def corr(a: pd.Series, b: pd.Series) -> float:
        ok = a.notna() & b.notna()
        return float(np.corrcoef(a[ok].astype(float), b[ok].astype(float))[0, 1])

    return {
        "regular-season games": f"{len(sched)}",
        "rows per team-game (listed players)": f"{listed.mean():.1f}",
        "players who played per team-game": f"{played_per_team_game.mean():.1f}",
        "starter minutes mean / sd": f"{starters.mean():.1f} / {starters.std():.1f}",
        "bench minutes (played) mean / sd": f"{bench.mean():.1f} / {bench.std():.1f}",
        "DNP rate (dnp rows / all rows)": f"{(box['status'] == 'dnp').mean():.3f}",
        "inactive rate (inactive rows / all rows)": f"{(box['status'] == 'inactive').mean():.3f}",
        "team-games summing to exactly 240 + 25*OT min": f"{exact.mean():.3f}",
        "team-games within 5 s of 240 + 25*OT min": f"{within5.mean():.3f}",
        "regulation team-games exactly 240 min": f"{exact[regulation].mean():.3f}",
        "overtime share of games": f"{(n_ot > 0).mean():.3f}",
        "2OT+ share of OT games": f"{(n_ot > 1).sum() / max(1, (n_ot > 0).sum()):.2f}",
        "home_favored_by p5 / p50 / p95": q(lines["home_favored_by"]),
        "total p5 / p50 / p95": q(lines["total"]),
        "corr(home_favored_by, final margin)": f"{corr(lines['home_favored_by'], lines['final_home_margin']):.2f}",
        "home win share": f"{(sched['home_pts'] > sched['away_pts']).mean():.3f}",
        "back-to-back share of team-games": f"{(gap == 1).mean():.3f}",
        "roster size per team-season (rosters_derived rows) mean / min / max":
            f"{roster_size.mean():.1f} / {roster_size.min()} / {roster_size.max()}",
        "points per team-game mean": f"{played['pts'].astype(float).groupby([played['game_id'], played['team']]).sum().mean():.1f}",
        "fga per 36 min (played)": f"{36 * played['fga'].sum() / played['minutes'].sum():.1f}",
        "trb per 36 min (played)": f"{36 * played['trb'].sum() / played['minutes'].sum():.1f}",
        "ast per 36 min (played)": f"{36 * played['ast'].sum() / played['minutes'].sum():.1f}",
    }


def main(
    real_dir: Annotated[Path, typer.Option(help="Directory with the real tables.")] = DEFAULT_REAL_DIR,
    real_season: Annotated[list[str], typer.Option(help="Real season suffix(es), e.g. 2021_22.")] = None,  # noqa: B006
    synthetic_dir: Annotated[Path | None, typer.Option(help="Existing synthetic dataset (else generated).")] = None,
    synthetic_season: Annotated[list[str], typer.Option(help="Synthetic season suffix(es).")] = None,  # noqa: B006
    seed: Annotated[int, typer.Option(help="Seed used when generating.")] = 7,
) -> None:
    real_seasons = real_season or ["2021_22", "2018_19"]
    synthetic_seasons = synthetic_season or ["2023_24", "2024_25"]
    with tempfile.TemporaryDirectory() as tmp:
        syn_dir = synthetic_dir
        if syn_dir is None:
            syn_dir = Path(tmp)
            summary = generate_league(syn_dir, seed=seed)
            print(f"generated seed {seed} in {summary.elapsed_seconds:.1f} s ({summary.total_bytes() / 1e6:.2f} MB)\n")
        columns = {}
        for real in real_seasons:
            if (real_dir / f"box_scores_{real}.parquet").exists():
                columns[f"real {real.replace('_', '-')}"] = season_metrics(real_dir, real)
        for syn in synthetic_seasons:
            columns[f"synthetic {syn.replace('_', '-')} (seed {seed})"] = season_metrics(syn_dir, syn)
    names = list(columns)
    print("| metric | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for metric in next(iter(columns.values())):
        print(f"| {metric} | " + " | ".join(columns[n][metric] for n in names) + " |")


if __name__ == "__main__":
    typer.run(main)
