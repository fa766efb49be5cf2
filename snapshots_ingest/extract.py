"""A raw extract: the bytes a source delivered, plus how to parse them into raw-store rows.

Every source (replay, synthetic league, live HTTP/PDF) yields `Extract`s. The ingest engine persists
`payload` under `data/live/snapshots/<kind>/<date>/run=<run_id>/<filename>` *before* calling `parse`,
so a parse failure never loses what was received.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pandas as pd


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
