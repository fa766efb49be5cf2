"""Injury-report status: how QUESTIONABLE / DOUBTFUL / PROBABLE change a player's chance to play (Minutes V1.2).

The real training seasons replay only OUT (every other player is UNK), so the models cannot learn what a status
means. The rates come from a measured table instead: the dbt seed `seeds/injury_status_play_rates.csv` (copied
from ../shared/reference/injury_status_play_rates.csv; source and definitions in seeds/_seeds.yml and
docs/model.md): the share of listed players who played, by status, role (`rotation`: >= 20 minutes per game
over his previous 15 games; else `bench`) and state (`first` day listed, `played` / `missed` his team's
previous game).

Those rates include coach's decisions (an AVAILABLE bench player plays 70% of the time), which the model's play
probability already predicts. So the status enters as the ratio against AVAILABLE of the same role and state:

    P(cleared) = rate(status, role, state) / rate(AVAILABLE, role, state)      (at most 1)
    play_prob  = P(cleared) * model play probability (a player not ruled out)

A DOUBTFUL rotation player on his first listed day: 0.013 / 0.955 = 0.014. Missing role / state (older feature
frames) fall back to the row `all` of the same status and role. OUT is handled before this layer (0);
AVAILABLE, UNK and anything else get 1. P(cleared) is also the weight of the "he plays" world of a game-time
decision (scoring/worlds.py).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from scoring.contract import PROJECT_ROOT

SEED_PATH = PROJECT_ROOT / "seeds" / "injury_status_play_rates.csv"
LISTED = ("QUESTIONABLE", "DOUBTFUL", "PROBABLE")
GAME_TIME_DECISIONS = ("QUESTIONABLE", "DOUBTFUL")
ROTATION_MINUTES = 20.0
# spellings of the same statuses in feature frames (the contract stores the canonical word; the Minutes V1
# reference's enum and some fixtures use the short forms)
STATUS_ALIASES = {"Q": "QUESTIONABLE", "GTD": "QUESTIONABLE", "D": "DOUBTFUL", "PROB": "PROBABLE", "P": "PROBABLE"}
SOURCE = {
    "table": "seeds/injury_status_play_rates.csv (= ../shared/reference/injury_status_play_rates.csv)",
    "measures": "share of players listed on the official 5:30 PM ET NBA injury report who played (minutes > 0), "
                "2021-22 to 2025-26, by status, role and state (public repository pitchafwa/delegation-hub, "
                "ingest/research/availability_table.json, commit d49cb9c8; figures only)",
    "combined_as": "rate(status, role, state) / rate(AVAILABLE, role, state), at most 1, times the model's "
                   "play probability",
}


def read_rate_table(path: Path = SEED_PATH) -> dict[str, float]:
    """{"STATUS|role|state": p_play} from the seed file."""
    with open(path, newline="") as fh:
        return {f"{r['status']}|{r['role']}|{r['state']}": float(r["p_play"]) for r in csv.DictReader(fh)}


def canonical_status(status: pd.Series) -> pd.Series:
    s = status.astype("string").str.upper().str.strip().fillna("UNK")
    return s.replace(STATUS_ALIASES)


def status_role(features: pd.DataFrame) -> pd.Series:
    """`status_role` from the features (dbt); where it is missing or not a known role, an approximation from the
    last-10 average (>= 20: rotation)."""
    r10 = pd.to_numeric(features.get("roll_mean_10", pd.Series(np.nan, index=features.index)), errors="coerce")
    approx = pd.Series(np.where(r10.fillna(0) >= ROTATION_MINUTES, "rotation", "bench"), index=features.index,
                       dtype=object)
    if "status_role" not in features.columns:
        return approx
    role = features["status_role"].astype("string").str.lower()
    return role.where(role.isin(["rotation", "bench"]), approx).astype(object)


def status_state(features: pd.DataFrame) -> pd.Series:
    """`status_state` (first / played / missed) from the features (dbt); `all` where missing or unknown."""
    if "status_state" not in features.columns:
        return pd.Series("all", index=features.index, dtype=object)
    state = features["status_state"].astype("string").str.lower()
    return state.where(state.isin(["first", "played", "missed"]), "all").astype(object)


def clearance_probability(features: pd.DataFrame, rates: dict[str, float] | None = None) -> np.ndarray:
    """P(cleared) per row: the status's rate over AVAILABLE's for the same role and state (1 when not listed)."""
    rates = read_rate_table() if rates is None else rates
    status = canonical_status(features["status"]).to_numpy()
    role = status_role(features).to_numpy()
    state = status_state(features).to_numpy()
    out = np.ones(len(features))
    for i in np.flatnonzero(np.isin(status, LISTED)):
        st = state[i] if f"{status[i]}|{role[i]}|{state[i]}" in rates else "all"
        listed = rates.get(f"{status[i]}|{role[i]}|{st}")
        available = rates.get(f"AVAILABLE|{role[i]}|{st}")
        if listed is not None and available:
            out[i] = min(listed / available, 1.0)
    return out


def is_game_time_decision(features: pd.DataFrame) -> np.ndarray:
    return canonical_status(features["status"]).isin(GAME_TIME_DECISIONS).to_numpy()


def layer_meta(rates: dict[str, float] | None = None) -> dict:
    """What a bundle records about the status layer it applies (meta.json `status_layer`)."""
    return {"play_rate_table": dict(read_rate_table() if rates is None else rates), "aliases": dict(STATUS_ALIASES),
            "source": dict(SOURCE), "rotation_minutes": ROTATION_MINUTES}
