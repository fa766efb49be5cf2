"""Injury-report status layer: what QUESTIONABLE / DOUBTFUL / PROBABLE do to a projection, after the model.

The real training seasons replay only OUT (every other player is UNK), so the models cannot learn what a
status means. This layer owns it (docs/model.md, "Status layer"), the same way for live and gold rows:

- play probability: the model's play probability (a player not ruled out) times the status's play rate
  (`STATUS_PLAY_RATE`), i.e. the chance that the listed issue still lets him play, taken as independent of
  the coach's choice the model predicts;
- interval: the published quantiles are the mixture with that lower play probability (so p10, and for Q / D
  also p50, fall to 0: he may sit), and p90 is kept at least at the unlisted player's p90: if he is cleared he
  plays his usual minutes, so the interval spans both outcomes.

The rates are the conventional meaning of the NBA report's designations (Doubtful ~25%, Questionable ~50%,
Probable ~75% chance of playing) as published by communitynba.com/blog/how-to-read-the-nba-injury-report and
other guides; they are the labels' stated meaning, not frequencies measured on real reports. OUT is handled
before this layer (play probability 0); AVAILABLE, UNK and any other status keep the model's values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STATUS_PLAY_RATE = {"QUESTIONABLE": 0.50, "DOUBTFUL": 0.25, "PROBABLE": 0.75}
# spellings of the same statuses in feature frames (the contract stores the canonical word; the Minutes V1
# reference's enum and some fixtures use the short forms)
STATUS_ALIASES = {"Q": "QUESTIONABLE", "GTD": "QUESTIONABLE", "D": "DOUBTFUL", "PROB": "PROBABLE", "P": "PROBABLE"}
SOURCE = {
    "url": "https://communitynba.com/blog/how-to-read-the-nba-injury-report",
    "measures": "the stated meaning of each NBA injury-report designation (approximate chance of playing), "
                "not a measured frequency",
}


def canonical_status(status: pd.Series) -> pd.Series:
    s = status.astype("string").str.upper().str.strip().fillna("UNK")
    return s.replace(STATUS_ALIASES)


def status_play_rate(status: pd.Series, rates: dict[str, float] | None = None) -> np.ndarray:
    """Multiplier of the model's play probability for each row (1.0 for statuses without a rate)."""
    rates = STATUS_PLAY_RATE if rates is None else rates
    return canonical_status(status).map(rates).fillna(1.0).astype(float).to_numpy()


def layer_meta() -> dict:
    """What a bundle records about the layer it applies (meta.json)."""
    return {"play_rate": dict(STATUS_PLAY_RATE), "aliases": dict(STATUS_ALIASES), "source": dict(SOURCE),
            "interval": "mixture with the adjusted play probability; p90 at least the unlisted p90"}
