"""Helpers of the ingest tests: build a small dataset directory in tmp_path from a few rows of the real data (never committed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

SEASON = "2021_22"
FIRST_DATES = 3  # game dates of the season kept in the small copy


def build_small_dataset(real_dir: Path, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    sched = pd.read_parquet(real_dir / f"schedule_bref_{SEASON}.parquet")
    keep_dates = sorted(sched["game_date"].unique())[:FIRST_DATES]
    sched = sched[sched["game_date"].isin(keep_dates)]
    games = set(sched["game_id"])
    box = pd.read_parquet(real_dir / f"box_scores_{SEASON}.parquet")
    box = box[box["game_id"].isin(games)]
    lines = pd.read_parquet(real_dir / f"lines_{SEASON}.parquet")
    lines = lines[lines["game_id"].isin(games)]
    rosters = pd.read_parquet(real_dir / f"rosters_derived_{SEASON}.parquet")
    rosters = rosters[rosters["player_id"].isin(set(box["player_id"]))]
    for name, frame in (("schedule_bref", sched), ("box_scores", box), ("lines", lines), ("rosters_derived", rosters)):
        frame.to_parquet(out / f"{name}_{SEASON}.parquet", index=False)
    shutil.copy(real_dir / "teams_crosswalk.parquet", out / "teams_crosswalk.parquet")
    return out


def rewrite(path: Path, change) -> None:
    frame = pd.read_parquet(path)
    change(frame).to_parquet(path, index=False)
