"""How many threads LightGBM uses (one setting for training, scoring and model loading)."""

from __future__ import annotations

import os


def lgb_threads() -> int:
    """LightGBM threads (env MINUTES_LIVE_LGB_THREADS, max 2; default 1: on a shared machine OpenMP spinning
    makes 2 threads slower than 1)."""
    return min(2, max(1, int(os.environ.get("MINUTES_LIVE_LGB_THREADS", "1"))))
