"""A raw extract: the bytes a source delivered, plus how to parse them into raw-store rows.

Every source (replay, synthetic league, live HTTP/PDF) yields `Extract`s. The ingest engine writes
`payload` to disk *before* calling `parse`, so nothing received is ever lost: an accepted extract ends up
under `data/live/snapshots/<kind>/<date>/run=<run_id>/<filename>`, a rejected one under that folder's
`rejected/` (see snapshots_ingest/ingest.py).

A parser that can tell its extract does not cover the slate (an injury report for another date, or one
with a header and no rows) says so in `frame.attrs[SLATE_COVERAGE_ATTR]` (one line naming the file and
what was found); the engine turns it into an error, or a warning when the run allows the kind missing.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd

SLATE_COVERAGE_ATTR = "slate_coverage_problem"


@dataclass(frozen=True)
class Extract:
    kind: str  # one of raw_store.KINDS
    slate_date: date  # the date folder the extract is filed under
    filename: str  # file name inside the run folder, e.g. "schedule.json", "Injury-Report_...pdf"
    payload: bytes  # exactly as received / emitted
    parse: Callable[[bytes], pd.DataFrame]  # -> business columns + snapshot_ts + source
    origin: str = ""  # URL or dataset path, for error messages


def frame_to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def parquet_bytes_to_frame(payload: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(payload))
