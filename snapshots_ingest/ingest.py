"""The ingest engine: persist each raw extract, parse it, and append its rows to the raw store.

For every `Extract` (from replay, the synthetic league or a live fetcher), in its run folder
`<data_root>/<dataset>/snapshots/<kind>/<date>/run=<run_id>/` (live: data/live/snapshots):
1. the payload is written to a hidden staging file *before* parsing (nothing received is ever lost);
2. it is parsed and validated against the raw table contract (and, for sources that can tell, checked to
   cover the slate: an injury report for another date, or with a header and 0 rows);
3. accepted: the staged file is hard-linked to `<filename>` (never overwriting), and in ONE DuckDB
   transaction the rows are appended (content-hash dedupe: re-ingesting adds nothing), new ids are written
   to `raw.id_crosswalk`, and a `raw.ingest_log` row records the extract;
   rejected: the staged file moves to `rejected/<stem>.<sha256[:12]><suffix>` (quarantine) and
   `IngestError` names kind, source, file, the reason and where the payload was kept. The raw tables are
   unchanged and nothing blocks a retry with a corrected file of the same name at the same instant.
An ACCEPTED extract is immutable: the same bytes again are a no-op; different bytes under its name raise
`ExtractConflictError` (exit 9), `--replace` included (a run is defined by its inputs on disk; new content
is a new instant: another --run-as-of-ts). Those bytes are quarantined in `rejected/` as well.
A coverage problem of a kind listed in `allow_missing` (e.g. `--allow-missing-injuries`) is not an error:
the extract is accepted and the problem is a warning in the kind's summary (`KindSummary.warnings`).

`ingest_replay` is the Python API behind `minutes-live ingest --source replay|synthetic`.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import duckdb
import pandas as pd
from tqdm import tqdm

from foundation import settings, store
from foundation.guardrails import DatasetInputError, InvalidInput, RunExistsError, SourceUnreachableError
from foundation.logs import progress_enabled
from foundation.run_directory import run_id_for
from snapshots_ingest import raw_store
from snapshots_ingest.dataset import Dataset, load_dataset
from snapshots_ingest.extract import (
    SLATE_COVERAGE_ATTR,
    Extract,
    frame_to_parquet_bytes,
    parquet_bytes_to_frame,
)
from snapshots_ingest.limits import ENV_MAX_INPUT_BYTES, ENV_PDF_MAX_BYTES, InputLimits, human_bytes
from snapshots_ingest.replay import replay_kind, source_label

log = logging.getLogger(__name__)

# frame.attrs key under which a parser lists names it could not match to an id (live.sources.UNMATCHED_ATTR)
UNMATCHED_NAMES_ATTR = "unmatched_names"
# Label history shipped with a daily (non-backfill) replay run: a season-to-date window at most.
DEFAULT_HISTORY_DAYS = 365


class IngestError(DatasetInputError):
    """An extract could not be stored; the message names kind, source and file."""


class ExtractConflictError(RunExistsError, IngestError):
    """A raw extract with the same run id and file name but different bytes is already on disk."""


@dataclass
class KindSummary:
    kind: str
    source: str
    rows_received: int = 0
    rows_inserted: int = 0
    new_ids: int = 0
    extract_paths: list[Path] = field(default_factory=list)
    unmatched_names: list[str] = field(default_factory=list)  # kept with player_id NULL, listed here
    warnings: list[str] = field(default_factory=list)  # allowed input problems (run summary `warnings`)

    def reused(self) -> KindSummary:
        """The same extract again (an unchanged file a long-lived caller ingested before): nothing inserted now;
        its rows are already stored with the extract that brought them, and its warnings still hold."""
        return replace(self, rows_inserted=0, new_ids=0, extract_paths=list(self.extract_paths),
                       unmatched_names=list(self.unmatched_names), warnings=list(self.warnings))

    def line(self) -> str:
        where = _display_path(self.extract_paths[0].parent) if self.extract_paths else "-"
        files = f" ({len(self.extract_paths)} files)" if len(self.extract_paths) > 1 else ""
        unmatched = f", {len(self.unmatched_names)} unmatched name(s)" if self.unmatched_names else ""
        warned = f", {len(self.warnings)} warning(s)" if self.warnings else ""
        return (
            f"{self.kind}: {self.rows_received:,} received, {self.rows_inserted:,} new{unmatched}{warned}, "
            f"extract {where}{files}"
        )


@dataclass
class IngestSummary:
    run_id: str
    run_as_of_ts: datetime
    slate_date: date
    source: str
    kinds: dict[str, KindSummary] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [k.line() for k in self.kinds.values()]

    # Mapping-style access (kind -> KindSummary), so callers can `results.update(summary)`.
    def keys(self):
        return self.kinds.keys()

    def __getitem__(self, kind: str) -> KindSummary:
        return self.kinds[kind]

    def __iter__(self):
        return iter(self.kinds)

    @property
    def rows_inserted(self) -> int:
        return sum(k.rows_inserted for k in self.kinds.values())

    @property
    def warnings(self) -> list[str]:
        return [w for k in self.kinds.values() for w in k.warnings]


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def extract_path(data_root: Path, run_id: str, extract: Extract, dataset: str = settings.LIVE_DATASET) -> Path:
    """`<data root>/<dataset>/snapshots/<kind>/<date>/run=<id>/<file>` (foundation.settings.snapshots_root)."""
    name = Path(extract.filename).name
    if not name or name != extract.filename or name.startswith("."):
        raise IngestError(f"{extract.kind}: invalid extract file name {extract.filename!r}")
    return (
        settings.snapshots_root(dataset, data_root) / extract.kind / extract.slate_date.isoformat()
        / f"run={run_id}" / name
    )


def quarantine_path(path: Path, payload: bytes) -> Path:
    """Where a rejected payload is kept: `<run folder>/rejected/<stem>.<sha256[:12]><suffix>`."""
    digest = hashlib.sha256(payload).hexdigest()[:12]
    return path.parent / "rejected" / f"{path.stem}.{digest}{path.suffix}"


def _write_new(path: Path, payload: bytes) -> Path:
    """Write a hidden staging file next to `path` (fsynced); the caller links or moves it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.incoming-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())
    return tmp


def quarantine(path: Path, payload: bytes, staged: Path | None = None) -> Path:
    """Keep a rejected payload under `rejected/` (the same bytes rejected twice are one file)."""
    kept = quarantine_path(path, payload)
    kept.parent.mkdir(parents=True, exist_ok=True)
    staged = staged if staged is not None else _write_new(kept, payload)
    if kept.exists():
        staged.unlink(missing_ok=True)
    else:
        os.replace(staged, kept)
    return kept


def _conflict(extract: Extract, path: Path, run_id: str, what: str) -> ExtractConflictError:
    kept = quarantine(path, extract.payload)
    return ExtractConflictError(
        f"{extract.kind}: extract {path} {what} for run {run_id}; accepted raw extracts are immutable, "
        f"--replace included (the new payload was kept at {kept}; ingest it with another --run-as-of-ts)"
    )


def _accept(staged: Path, path: Path, extract: Extract, run_id: str) -> bool:
    """Link the staged payload to its final name; True if this call created it, False if the same bytes
    were already there. Different bytes there (a concurrent writer) are a conflict."""
    try:
        os.link(staged, path)  # atomic, and never replaces an existing file
        return True
    except FileExistsError:
        if path.read_bytes() != extract.payload:
            raise _conflict(extract, path, run_id, "was written concurrently with different content") from None
        return False
    finally:
        staged.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- ids

def _id_rows(kind: str, frame: pd.DataFrame, namespace: str) -> pd.DataFrame:
    """(entity, namespace, source_id, int_id, name) for every id the frame mentions."""
    parts = []
    if "source_game_id" in frame.columns:
        g = frame[["source_game_id", "game_id"]].dropna()
        parts.append(pd.DataFrame({"entity": "game", "namespace": namespace, "source_id": g["source_game_id"],
                                   "int_id": g["game_id"], "name": None}))
    if "source_player_id" in frame.columns:
        p = frame[["source_player_id", "player_id", "player_name"]].dropna(subset=["source_player_id", "player_id"])
        parts.append(pd.DataFrame({"entity": "player", "namespace": namespace, "source_id": p["source_player_id"],
                                   "int_id": p["player_id"], "name": p["player_name"]}))
    for code_col, id_col, name_col in (
        ("team_tricode", "team_id", None),
        ("home_tricode", "home_team_id", "home_team_name"),
        ("away_tricode", "away_team_id", "away_team_name"),
    ):
        if code_col in frame.columns:
            cols = [code_col, id_col] + ([name_col] if name_col else [])
            t = frame[cols].dropna(subset=[code_col, id_col])
            parts.append(pd.DataFrame({"entity": "team", "namespace": "nba", "source_id": t[code_col],
                                       "int_id": t[id_col], "name": t[name_col] if name_col else None}))
    if not parts:
        return pd.DataFrame(columns=["entity", "namespace", "source_id", "int_id", "name"])
    out = pd.concat(parts, ignore_index=True)
    out["source_id"] = out["source_id"].astype(str)
    out["int_id"] = out["int_id"].astype("int64")
    return out.drop_duplicates(["entity", "namespace", "source_id"])


def _write_crosswalk(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, now: datetime) -> int:
    if rows.empty:
        return 0
    rows = rows.assign(first_seen_at=pd.Timestamp(now))
    with store.registered(con, "incoming_ids", rows):
        before = con.execute("select count(*) from raw.id_crosswalk").fetchall()[0][0]
        con.execute(
            "insert into raw.id_crosswalk "
            "select entity, namespace, source_id, int_id, name, first_seen_at from incoming_ids i "
            "where not exists (select 1 from raw.id_crosswalk c where c.entity = i.entity "
            "and c.namespace = i.namespace and c.source_id = i.source_id)"
        )
        after = con.execute("select count(*) from raw.id_crosswalk").fetchall()[0][0]
    return int(after - before)


# ------------------------------------------------------------------------------------------- engine

def ingest_extracts(
    con: duckdb.DuckDBPyConnection,
    extracts: Iterable[Extract],
    *,
    run_id: str,
    run_as_of_ts: datetime,
    data_root: Path,
    source: str,
    namespace: str,
    slate_date: date,
    reject_future_snapshots: bool = True,
    progress: bool = True,
    echo: Callable[[str], None] | None = print,
    total: int | None = None,
    allow_missing: Collection[str] = (),
    dataset: str = settings.LIVE_DATASET,
) -> IngestSummary:
    """Stage, parse, check and append every extract (module docstring); returns per-kind counts.

    `allow_missing`: kinds whose slate-coverage problems are warnings instead of errors.
    A failure of the store itself (damaged, read-only, busy) raises foundation.store's guardrail error, not
    an IngestError: the extract is not to blame. Any other DuckDB error keeps its own text."""
    summary = IngestSummary(run_id, run_as_of_ts, slate_date, source)
    store_path = store.connection_path(con)
    as_of = pd.Timestamp(run_as_of_ts).tz_convert("UTC")
    # a bar on a terminal only; a log gets one line when the stage ends
    bar = tqdm(extracts, total=total, desc=f"ingest {source}", unit="extract", disable=not progress_enabled(progress),
               leave=False)
    t0 = time.perf_counter()
    for extract in bar:
        bar.set_postfix_str(extract.kind)
        path = extract_path(data_root, run_id, extract, dataset)
        where = f"{extract.kind} from {source} ({extract.filename})"
        stored = path.exists()
        if stored and path.read_bytes() != extract.payload:
            raise _conflict(extract, path, run_id, "already exists with different content")
        staged = None if stored else _write_new(path, extract.payload)
        warnings: list[str] = []
        try:
            try:
                frame = extract.parse(extract.payload)
                raw_store.validate_frame(extract.kind, frame)
            except Exception as exc:
                raise IngestError(f"{where}: could not parse the extract: {exc}") from exc
            problem = frame.attrs.get(SLATE_COVERAGE_ATTR)
            if problem and extract.kind not in allow_missing:
                raise IngestError(f"{where}: {problem} (pass --allow-missing-{extract.kind} to run without it)")
            if problem:
                warnings.append(f"{extract.kind}: {problem}; ran without it (--allow-missing-{extract.kind})")
            if reject_future_snapshots and not frame.empty:
                late = pd.to_datetime(frame["snapshot_ts"], utc=True) > as_of
                if late.any():
                    raise IngestError(
                        f"{where}: {int(late.sum())} row(s) have snapshot_ts after run_as_of_ts {as_of.isoformat()}"
                    )
        except IngestError as exc:
            if stored:  # an accepted extract that no longer passes (e.g. a stricter parser): keep it, refuse
                raise
            kept = quarantine(path, extract.payload, staged)
            raise IngestError(f"{exc}; the extract was rejected and kept at {kept}") from (exc.__cause__ or exc)
        created = False if stored else _accept(staged, path, extract, run_id)
        now = datetime.now(UTC)
        try:
            con.execute("begin transaction")
            result = raw_store.append(
                con, extract.kind, frame, run_id=run_id, extract_path=str(path), ingested_at=now, transaction=False
            )
            new_ids = _write_crosswalk(con, _id_rows(extract.kind, frame, namespace), now)
            con.execute(
                "insert into raw.ingest_log values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, extract.kind, source, extract.slate_date, as_of.to_pydatetime(),
                 result.rows_received, result.rows_inserted, str(path), now],
            )
            con.execute("commit")
        except Exception as exc:
            store.rollback_quietly(con)
            failure = store.store_error(exc, store_path)
            if failure is not None:
                raise failure from exc
            kept = ""
            if created:  # its rows are not stored: not accepted, so it must not block a retry
                kept_path = quarantine_path(path, extract.payload)
                kept_path.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, kept_path)
                kept = f"; the extract was rejected and kept at {kept_path}"
            raise IngestError(f"{where}: rows were not stored (raw tables unchanged): {exc}{kept}") from exc
        ks = summary.kinds.setdefault(extract.kind, KindSummary(extract.kind, source))
        ks.rows_received += result.rows_received
        ks.rows_inserted += result.rows_inserted
        ks.new_ids += new_ids
        ks.extract_paths.append(path)
        ks.unmatched_names.extend(frame.attrs.get(UNMATCHED_NAMES_ATTR, []))
        ks.warnings.extend(warnings)
    bar.close()
    log.info("ingest %s: %d extract(s), %s new rows of %s received (%s) in %.1f s", source,
             sum(len(ks.extract_paths) for ks in summary.kinds.values()),
             f"{sum(ks.rows_inserted for ks in summary.kinds.values()):,}",
             f"{sum(ks.rows_received for ks in summary.kinds.values()):,}",
             ", ".join(summary.kinds) or "nothing", time.perf_counter() - t0)
    if echo:
        for ks in summary.kinds.values():
            echo(ks.line())
            for name in ks.unmatched_names:
                echo(f"  unmatched: {name}")
            for warning in ks.warnings:
                echo(f"  warning: {warning}")
    return summary


# ------------------------------------------------------------------------------------------- replay

def _season_of(ds: Dataset, frame: pd.DataFrame) -> pd.Series:
    seasons = dict(zip(ds.games["game_id"], ds.games["season"], strict=True))
    return frame["game_id"].map(seasons).fillna("unknown")


def replay_extracts(
    ds: Dataset,
    slate_date: date,
    run_as_of_ts: datetime,
    kinds: Iterable[str] = raw_store.KINDS,
    history_days: int = DEFAULT_HISTORY_DAYS,
    backfill: bool = False,
) -> list[Extract]:
    """One parquet extract per kind (per kind and season with `backfill`) of the rows known at run_as_of_ts.

    Daily run: box scores and schedule of games dated [date - history_days, date], roster, injuries and
    odds of the target date. Backfill: every replayed row with snapshot_ts <= run_as_of_ts, all dates.
    """
    origin = str(ds.path)
    extracts = []
    for kind in kinds:
        if backfill:
            frame = replay_kind(ds, kind, run_as_of_ts)
            season = _season_of(ds, frame)
            for label in sorted(season.unique()):
                part = frame[season == label].reset_index(drop=True)
                extracts.append(_replay_extract(kind, slate_date, part, f"replay_{kind}_{label.replace('-', '_')}.parquet", origin))
            continue
        lo = slate_date - timedelta(days=history_days) if kind in ("box_scores", "schedule") else slate_date
        frame = replay_kind(ds, kind, run_as_of_ts, date_from=lo, date_to=slate_date)
        extracts.append(_replay_extract(kind, slate_date, frame, f"replay_{kind}.parquet", origin))
    return extracts


def _replay_extract(kind: str, slate_date: date, frame: pd.DataFrame, filename: str, origin: str) -> Extract:
    return Extract(
        kind=kind,
        slate_date=slate_date,
        filename=filename,
        payload=frame_to_parquet_bytes(frame),
        parse=parquet_bytes_to_frame,
        origin=f"{origin} ({kind})",
    )


def ingest_replay(
    dataset_dir: str | Path,
    date: date,
    run_as_of_ts: datetime,
    kinds: Iterable[str] | None = None,
    history_days: int | None = DEFAULT_HISTORY_DAYS,
    backfill: bool = False,
    db_path: str | Path | None = None,
    data_root: str | Path | None = None,
    *,
    seasons: list[str] | None = None,
    progress: bool = False,
    echo: Callable[[str], None] | None = None,
    allow_missing: Collection[str] = (),
) -> IngestSummary:
    """Replay a dataset directory as of `run_as_of_ts` into the raw store (see module docstring)."""
    if run_as_of_ts.tzinfo is None:
        raise IngestError("run_as_of_ts must be timezone-aware (UTC)")
    kinds = list(kinds or raw_store.KINDS)
    history_days = DEFAULT_HISTORY_DAYS if history_days is None else int(history_days)
    unknown = [k for k in kinds if k not in raw_store.KINDS]
    if unknown:
        raise IngestError(f"unknown kind(s) {unknown}; expected some of {', '.join(raw_store.KINDS)}")
    if history_days < 0:
        raise IngestError(f"history_days must be >= 0, got {history_days}")
    ds = load_dataset(dataset_dir, seasons=seasons)
    run_as_of_ts = run_as_of_ts.astimezone(UTC)
    extracts = replay_extracts(ds, date, run_as_of_ts, kinds, history_days, backfill)
    dataset = store.StoreDataset.for_source(source_label(ds), dataset_dir)
    return _run_extracts(
        extracts, date, run_as_of_ts, source=source_label(ds), namespace=ds.namespace, db_path=db_path,
        data_root=data_root, reject_future_snapshots=True, progress=progress, echo=echo, allow_missing=allow_missing,
        dataset=dataset,
    )

def _run_extracts(
    extracts: list[Extract],
    slate_date: date,
    run_as_of_ts: datetime,
    *,
    source: str,
    namespace: str,
    db_path: str | Path | None,
    data_root: str | Path | None,
    reject_future_snapshots: bool,
    progress: bool,
    echo: Callable[[str], None] | None,
    allow_missing: Collection[str] = (),
    dataset: store.StoreDataset | None = None,
    dataset_name: str = settings.LIVE_DATASET,
) -> IngestSummary:
    """Open the store (default: the store of `dataset`, foundation.settings.duckdb_path) and ingest. The store
    must hold `dataset` or none yet (then it is recorded as the store's dataset): never two datasets."""
    data_root = Path(data_root) if data_root is not None else settings.data_root()
    if db_path is None:
        db_path = settings.duckdb_path(dataset.name if dataset else None, data_root)
    con = raw_store.connect(db_path)
    try:
        with store.errors_mapped(db_path):  # a damaged store is the store's error, wherever DuckDB finds it
            if dataset is not None:
                store.check_dataset(con, dataset, path=Path(db_path).absolute(), claim=True)
            return ingest_extracts(
                con, extracts, run_id=run_id_for(run_as_of_ts), run_as_of_ts=run_as_of_ts, data_root=data_root,
                source=source, namespace=namespace, slate_date=slate_date,
                reject_future_snapshots=reject_future_snapshots, progress=progress, echo=echo, total=len(extracts),
                allow_missing=allow_missing, dataset=dataset.name if dataset is not None else dataset_name,
            )
    finally:
        con.close()


_FILE_PARSERS: dict[str, Callable[[bytes], pd.DataFrame]] = {
    ".parquet": parquet_bytes_to_frame,
    ".csv": lambda payload: pd.read_csv(io.BytesIO(payload)),
    ".json": lambda payload: pd.read_json(io.BytesIO(payload), orient="records"),
}


def _injury_pdf_parser(path: Path, slate: date, run_as_of_ts: datetime, db_path) -> Callable[[bytes], pd.DataFrame]:
    """An official injury-report PDF given by path: parsed with the live parser; game ids and player ids are
    matched against the schedule and rosters already in the store for that date (known at run_as_of_ts)."""
    from snapshots_ingest.live.sources import parse_injuries_for_slate

    con = raw_store.connect(db_path)
    try:
        with store.errors_mapped(db_path):
            known = [slate, pd.Timestamp(run_as_of_ts)]
            schedule = con.execute("select * from raw.schedule where game_date = ? and snapshot_ts <= ?", known).df()
            roster = con.execute("select * from raw.roster where game_date = ? and snapshot_ts <= ?", known).df()
    finally:
        con.close()
    return partial(parse_injuries_for_slate, url=str(path), slate=slate, schedule=schedule,
                   roster=roster if len(roster) else None)


def ingest_file(
    kind: str,
    path: str | Path,
    date: date,
    run_as_of_ts: datetime,
    *,
    db_path: str | Path | None = None,
    data_root: str | Path | None = None,
    namespace: str = "nba",
    progress: bool = False,
    echo: Callable[[str], None] | None = None,
    allow_missing: Collection[str] = (),
    dataset: str = settings.LIVE_DATASET,
) -> KindSummary:
    """Ingest one local file already in raw-store format (business columns + snapshot_ts [+ source]), or an
    official injury-report PDF; `allow_missing` as in `ingest_extracts`. A file has no dataset of its own:
    `dataset` (live unless the caller names one) picks the store and the raw extracts' folder."""
    path = Path(path)
    if db_path is None:
        db_path = settings.duckdb_path(dataset, data_root)
    if kind not in raw_store.KINDS:
        raise IngestError(f"unknown kind {kind!r}; expected one of {', '.join(raw_store.KINDS)}")
    if path.is_symlink():
        raise IngestError(f"{kind}: input file {path} is a symlink; pass the file itself "
                          "(a link's target is not copied into the data folder)")
    if not path.is_file():
        raise IngestError(f"{kind}: input file {path} does not exist")
    is_report = kind == "injuries" and path.suffix.lower() == ".pdf"
    parser = _FILE_PARSERS.get(path.suffix.lower())
    if parser is None and not is_report:
        raise IngestError(f"{kind}: input file {path} must be .parquet, .csv or .json (or an injury-report .pdf)")
    payload = read_input_file(kind, path)  # size cap and O_NOFOLLOW, before the store is opened
    if is_report:
        parser = _injury_pdf_parser(path, date, run_as_of_ts, db_path)

    def parse(payload: bytes) -> pd.DataFrame:
        frame = parser(payload)
        if "source" not in frame.columns:
            frame["source"] = "file"
        return frame

    extract = Extract(kind, date, path.name, payload, parse, origin=str(path))
    summary = _run_extracts(
        [extract], date, run_as_of_ts.astimezone(UTC), source="file", namespace=namespace, db_path=db_path,
        data_root=data_root, reject_future_snapshots=True, progress=progress, echo=echo, allow_missing=allow_missing,
        dataset_name=dataset,
    )
    return summary[kind]


def read_input_file(kind: str, path: Path, limits: InputLimits | None = None) -> bytes:
    """A local input file's bytes, refused unread when over its cap (an injury-report PDF: the PDF cap,
    anything else: MINUTES_LIVE_MAX_INPUT_BYTES) and never through a symlink (O_NOFOLLOW). A refused file is
    the operator's own: it is not copied into rejected/."""
    limits = limits or InputLimits.from_env()
    is_pdf = path.suffix.lower() == ".pdf"
    cap, env = ((limits.pdf_max_bytes, ENV_PDF_MAX_BYTES) if is_pdf
                else (limits.max_input_bytes, ENV_MAX_INPUT_BYTES))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise IngestError(f"{kind}: input file {path} cannot be read ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        data = fh.read(cap + 1) if size <= cap else b""
    if size > cap or len(data) > cap:
        raise IngestError(f"{kind}: input file {path} is {human_bytes(max(size, len(data)))}, over the "
                          f"{human_bytes(cap)} cap (${env}): not read")
    return data



# what snapshots_ingest.live.http_client says when the host never answered usefully (after its retries)
_UNREACHABLE = re.compile(r"\A(connection failed|timed out|gave up)\b|\AHTTP 5\d\d\b")
_OS_REASON = re.compile(r"\[Errno -?\d+\] [^'\"()\]]+")


def source_unreachable(kind: str, day: date, exc: Exception) -> SourceUnreachableError | None:
    """A live fetch that failed because the host could not be reached (connection refused, DNS, timeout, 5xx
    after the retries): one line with the kind, the host, what failed and what to do (exit 17), instead of the
    HTTP library's internals. None for any other source failure (a malformed answer stays exit 13)."""
    from urllib.parse import urlsplit

    problem = str(getattr(exc, "problem", ""))
    if not _UNREACHABLE.match(problem):
        return None
    url = str(getattr(exc, "url", ""))
    host = urlsplit(url).netloc or url or "?"
    what = problem.split(":", 1)[0].strip()
    reason = _OS_REASON.search(problem)
    detail = f" ({reason.group(0).strip()})" if reason else ""
    return SourceUnreachableError(
        f"live source unreachable: {kind} for {day} from {host}: {what}{detail}; nothing ingested. Check the network "
        f"and the URL in the live source config ($MINUTES_LIVE_SOURCES_CONFIG or config/live_sources.json), then "
        "rerun; --source replay or synthetic needs no network")


class LiveSourcesMissing(InvalidInput, IngestError):
    """snapshots_ingest.live.sources is not installed (the live fetchers ship separately)."""


def fetch_live(date: date, run_as_of_ts: datetime, kinds: Iterable[str] | None = None, *, config=None) -> list[Extract]:
    """Fetch every kind from the live sources, without touching the store: call it before taking the store
    lock, so a slow or hostile upstream (bounded by the HTTP client's deadline and body cap) and the injury
    PDF's parse (done here, in its limited child process) never hold the lock. Pass the result to
    `ingest_live(..., extracts=...)`. Raises IngestError naming the kind when a source fails."""
    try:
        from snapshots_ingest.live import sources
    except ModuleNotFoundError as exc:
        if exc.name in ("snapshots_ingest.live.sources", "snapshots_ingest.live"):
            raise LiveSourcesMissing(
                "live sources not installed yet (snapshots_ingest/live/sources.py is missing); "
                "use --source replay or --source synthetic"
            ) from exc
        raise
    if config is None:
        from snapshots_ingest.live.http_client import load_live_config

        config = load_live_config()
    run_as_of_ts = run_as_of_ts.astimezone(UTC)
    extracts: list[Extract] = []
    for kind in list(kinds or raw_store.KINDS):
        try:
            extracts.extend(sources.live_extracts(kind, date, run_as_of_ts, config))
        except sources.SourceError as exc:  # nothing is stored: every kind is fetched before ingesting
            unreachable = source_unreachable(kind, date, exc)
            if unreachable is not None:
                raise unreachable from exc
            raise IngestError(f"{kind} for {date}: live source failed, nothing ingested: {exc}") from exc
    return extracts


def ingest_live(
    date: date,
    run_as_of_ts: datetime,
    kinds: Iterable[str] | None = None,
    *,
    db_path: str | Path | None = None,
    data_root: str | Path | None = None,
    config=None,
    progress: bool = False,
    echo: Callable[[str], None] | None = None,
    allow_missing: Collection[str] = (),
    extracts: list[Extract] | None = None,
) -> IngestSummary:
    """Fetch each kind from the live sources (or take `extracts` from an earlier `fetch_live`) and ingest it
    (snapshot_ts = publication or fetch time); `allow_missing` as in `ingest_extracts`."""
    if extracts is None:
        extracts = fetch_live(date, run_as_of_ts, kinds, config=config)
    run_as_of_ts = run_as_of_ts.astimezone(UTC)
    # live fetch times may trail a defaulted run_as_of_ts by seconds: do not reject them
    return _run_extracts(
        extracts, date, run_as_of_ts, source="live", namespace="nba", db_path=db_path, data_root=data_root,
        reject_future_snapshots=False, progress=progress, echo=echo, allow_missing=allow_missing,
        dataset=store.StoreDataset.for_source("live", None),
    )
