"""Which raw extracts a features run read: for each input kind, every snapshot the run selected (its
`snapshot_ts`) and the extract file that brought that snapshot's rows into the store, with the file's sha256.

Recorded once, at build time, as `inputs` in the features run's summary.json, so a reader (the API's
provenance columns, `minutes-live serve`) never has to open the store: a read-only handle on the DuckDB file
would block the next job's writes (foundation/store.py).

    {"injuries": [{"snapshot_ts", "extract", "sha256", "ingest_run_id"}, ...], "odds": [...], "roster": [...]}

`extract` is the file's path under the data root (`<dataset>/snapshots/<kind>/<date>/run=<ingest id>/<file>`;
the extracts of a replay or synthetic dataset are under that dataset's name even when a live run read them).
A snapshot whose rows several extracts carried names the one that stored them first (the raw store keeps a
row once, by content hash, with the extract it came from). Accepted extracts are immutable, so the hash
identifies the bytes anyone can re-ingest to re-run the run.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import pandas as pd

from foundation.store import connected

# input kind -> the features column holding the snapshot_ts each row selected
FEATURE_COLUMNS = {"injuries": "injury_as_of_ts", "odds": "odds_as_of_ts", "roster": "roster_as_of_ts"}


@lru_cache(maxsize=4096)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_sha256(path: Path) -> str | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return _sha256(str(path), st.st_size, st.st_mtime_ns)


def selected_snapshots(features: pd.DataFrame, coverage: pd.DataFrame | None) -> dict[str, list[pd.Timestamp]]:
    """The distinct snapshot_ts values the run used per kind (the rows' own, and the per-game ones of coverage)."""
    out: dict[str, list[pd.Timestamp]] = {}
    for kind, col in FEATURE_COLUMNS.items():
        values = pd.to_datetime(features[col], utc=True) if col in features else pd.Series(dtype="datetime64[ns, UTC]")
        if coverage is not None and f"{kind}_snapshot_ts" in coverage:
            values = pd.concat([values, pd.to_datetime(coverage[f"{kind}_snapshot_ts"], utc=True)])
        out[kind] = sorted(values.dropna().unique())
    return out


def under_data_root(path: Path | None) -> str | None:
    """`<dataset>/snapshots/<kind>/<date>/run=<id>/<file>`: the extract's path under the data root (where a
    moved or restored data tree still has it), cut at its `snapshots` folder."""
    if path is None:
        return None
    parts = path.parts
    at = max((i for i, p in enumerate(parts) if p == "snapshots"), default=None)
    if at is None or at == 0:
        return path.name
    return "/".join(parts[at - 1:])


def input_provenance(db_path: Path, features: pd.DataFrame, coverage: pd.DataFrame | None) -> dict:
    """{kind: [{snapshot_ts, extract, sha256, ingest_run_id}]} for the snapshots the run selected (module doc)."""
    wanted = selected_snapshots(features, coverage)
    out: dict[str, list[dict]] = {}
    with connected(db_path, read_only=True) as con:
        for kind, stamps in wanted.items():
            if not stamps:
                out[kind] = []
                continue
            frame = con.execute(
                f"select snapshot_ts, arg_min(extract_path, ingested_at) as extract_path, "
                f"arg_min(run_id, ingested_at) as ingest_run_id from raw.{kind} "
                f"where snapshot_ts in (select unnest(?::timestamptz[])) group by snapshot_ts order by snapshot_ts",
                [[pd.Timestamp(t).to_pydatetime() for t in stamps]]).df()
            rows = []
            for r in frame.itertuples(index=False):
                path = Path(r.extract_path) if isinstance(r.extract_path, str) else None
                rows.append({"snapshot_ts": pd.Timestamp(r.snapshot_ts).tz_convert("UTC").isoformat(),
                             "extract": under_data_root(path), "sha256": file_sha256(path) if path else None,
                             "ingest_run_id": r.ingest_run_id})
            out[kind] = rows
    return out


def recorded_inputs(db_path: Path, features: pd.DataFrame, coverage: pd.DataFrame | None) -> dict:
    """`input_provenance`, or {"error": one line} when it cannot be read: provenance never fails a run."""
    try:
        return input_provenance(db_path, features, coverage)
    except Exception as exc:  # noqa: BLE001 - a missing table (a store without a kind) or a Spark-only store
        return {"error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"}


@lru_cache(maxsize=1)
def code_version() -> str:
    """The code that built the run: `git describe --always --dirty --abbrev=40` of the project checkout, else
    the installed package's version (a deployment without .git)."""
    import subprocess
    from importlib import metadata

    from foundation import settings

    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=40"], cwd=settings.PROJECT_ROOT,
                             capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            return "git:" + out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return "minutes-live " + metadata.version("minutes-live")
    except metadata.PackageNotFoundError:
        return "unknown"
