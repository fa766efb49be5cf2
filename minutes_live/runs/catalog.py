"""The runs of a date as an operator sees them: what the registry says of every attempt, joined to what is
on disk and to what `latest` serves. Read-only: it never touches the store or moves a pointer, so the
dashboard and `minutes-live runs` can read while a job runs.

    list_runs(day)            every run of the date, newest run_as_of_ts first (RunInfo)
    resolve(day, "latest")    the served run id (or a given id, checked)
    load_run(day, run_id)     summaries, coverage, team minutes and projections of one run (RunView)
    dates()                   the dates that have runs (run directories, or attempts in the registry)
    freshness_flag(kind, age) "warn" past the warning threshold of build_live (injuries/odds 6 h, roster 18 h)

Every run belongs to one dataset (foundation.settings: live under data/live/, a replay or synthetic dataset
under its own name), with its own roots and registry. The functions read the dataset of `dataset_scope`
(default live) unless given explicit roots; `choose_dataset` picks one when the operator names none.

Damaged files: every run file is read through `read_table` / foundation.state (the defensive readers). In
`list_runs` a run with an unreadable summary.json, coverage.csv, team_minutes.csv, minutes.parquet or
scenarios.parquet is listed with status `damaged` and a note naming the file (a warning is logged); the other
runs and dates are unaffected. `load_run` / `load_features` of a damaged run raise DamagedStateError (exit 16)
naming the file, so `runs show/export/diff` print one line and the dashboard shows the message on its page.
A registry attempt whose process is gone is shown as `killed` (without writing: the next command records it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from foundation import freshness, registry, settings, state
from foundation import run_directory as rd
from foundation.guardrails import DamagedStateError, InvalidInput
from foundation.publication import KINDS, Publication, Roots, run_as_of_from_id

FRESHNESS_KINDS = ("injuries", "odds", "roster")


@dataclass
class RunInfo:
    day: date
    run_id: str
    run_as_of_ts: str
    status: str  # succeeded | failed | killed | started | damaged | archived (by gc) | unrecorded (no registry entry)
    job: str | None = None
    exit_code: int | None = None
    error: str | None = None
    kinds: tuple[str, ...] = ()  # the run directories on disk
    latest: tuple[str, ...] = ()  # the roots whose `latest` names this run
    pinned: bool = False
    rows: int | None = None
    games: int | None = None
    worst_age_minutes: dict[str, float | None] = field(default_factory=dict)  # per kind, over the slate's games
    warnings: int = 0
    missing_games: dict[str, int] = field(default_factory=dict)  # per kind: games with no qualifying snapshot
    attempts: int = 0  # registry attempts of this run id
    note: str | None = None  # e.g. a later attempt that failed while the published run stayed

    def as_dict(self) -> dict:
        out = dict(self.__dict__)
        out["day"] = self.day.isoformat()
        out["kinds"], out["latest"] = list(self.kinds), list(self.latest)
        return out


@dataclass
class RunView:
    info: RunInfo
    paths: dict[str, Path]
    features_summary: dict | None
    scores_summary: dict | None
    coverage: pd.DataFrame | None
    team_minutes: pd.DataFrame | None
    projections: pd.DataFrame | None


class CatalogError(InvalidInput, LookupError):
    """No such date or run; the message lists what exists."""


RUN_FILES = {"features": ("summary.json", "coverage.csv", "features.parquet"),
             "scores": ("summary.json", "minutes.parquet", "scenarios.parquet"),
             "reports": ("team_minutes.csv",)}


def read_table(path: Path, *, metadata_only: bool = False, **kw) -> pd.DataFrame | None:
    """A run's csv or parquet file (foundation.state.read_table): None when missing, DamagedStateError
    (exit 16, naming the file) when it cannot be read."""
    return state.read_table(path, metadata_only=metadata_only, **kw)


def _read_csv(path: Path) -> pd.DataFrame | None:
    return read_table(path)


def _summary(path: Path) -> dict | None:
    return state.read_object(path)


def damage(pub: Publication, run_id: str, kinds: tuple[str, ...]) -> list[str]:
    """The run's damaged files, one `<path>: <reason>` each (empty when every file it has reads)."""
    found = []
    for kind in kinds:
        for name in RUN_FILES[kind]:
            path = pub.run_dir(kind, run_id) / name
            try:
                if name.endswith(".json"):
                    _summary(path)
                elif name.endswith(".parquet"):
                    read_table(path, metadata_only=True)
                else:
                    read_table(path, nrows=5)
            except DamagedStateError as exc:
                found.append(str(exc).removesuffix("; repair or remove it"))
    return found


_DATASET: ContextVar[str] = ContextVar("minutes_live_dataset", default=settings.LIVE_DATASET)


def current_dataset() -> str:
    return _DATASET.get()


@contextmanager
def dataset_scope(dataset: str) -> Iterator[str]:
    """Read `dataset`'s runs inside the block (this thread: the dashboard sets it per request)."""
    token = _DATASET.set(settings.check_dataset_name(dataset))
    try:
        yield dataset
    finally:
        _DATASET.reset(token)


def select_dataset(dataset: str) -> str:
    """Read `dataset`'s runs from now on in this thread (a CLI command, once its flags are checked)."""
    _DATASET.set(settings.check_dataset_name(dataset))
    return dataset


def default_roots() -> Roots:
    return Roots.default(dataset=current_dataset())


def registry_root(data_root: Path | None = None) -> Path:
    """The folder holding the current dataset's `registry/` (an explicit `data_root` wins)."""
    return Path(data_root) if data_root is not None else settings.registry_root(current_dataset())


def choose_dataset(dataset: str | None, day: date | None = None) -> tuple[str, list[str]]:
    """The dataset a reader opens, and every dataset with runs (of `day`, when given). Named: it must have runs
    (CatalogError listing those that do). Not named: the only one with runs; with several, the one whose newest
    successful attempt is the most recent (so a failed live attempt does not hide a replay's published runs);
    none at all: live (whose "no runs yet" message follows)."""
    known = settings.known_datasets()
    if day is not None:
        known = [d for d in known if day in _dates_of(d)]
    if dataset is not None:
        try:
            settings.check_dataset_name(dataset)
        except ValueError as exc:
            raise CatalogError(str(exc)) from None
        if dataset not in known:
            on = f" on {day}" if day is not None else ""
            raise CatalogError(f"--dataset {dataset}: no runs{on} (datasets with runs{on}: {', '.join(known) or 'none'})")
        return dataset, known
    if not known:
        return settings.LIVE_DATASET, known

    def newest(name: str) -> tuple[str, str]:
        found = [a for a in registry.attempts(settings.registry_root(name))
                 if day is None or a.get("date") == day.isoformat()]
        ok = [a.get("recorded_at") or "" for a in found if a.get("status") == "succeeded"]
        return (max(ok) if ok else "", max((a.get("recorded_at") or "" for a in found), default=""))

    return max(known, key=newest), known


def _dates_of(dataset: str) -> list[date]:
    with dataset_scope(dataset):
        return dates()


def default_day(roots: Roots | None = None, data_root: Path | None = None) -> date | None:
    """The date a reader opens without --date: the newest date with a published run, else the newest with runs."""
    known = dates(roots, data_root)
    served = [d for d in known if any(publication(d, roots, data_root).current().values())]
    return (served or known or [None])[-1]


def publication(day: date, roots: Roots | None = None, data_root: Path | None = None) -> Publication:
    return Publication(roots or default_roots(), day, registry_root(data_root))


def dates(roots: Roots | None = None, data_root: Path | None = None) -> list[date]:
    """Dates with a run directory in any root, or with a run attempt in the registry (a date whose only
    attempts failed has runs too: the operator wants to see them)."""
    roots = roots or default_roots()
    found: set[date] = set()

    for a in registry.attempts(registry_root(data_root)):
        if isinstance(a.get("run_id"), str) and isinstance(a.get("date"), str):
            try:
                found.add(date.fromisoformat(a["date"]))
            except ValueError:
                continue
    for kind in roots.kinds:
        base = roots.root(kind)
        if not base.is_dir():
            continue
        for p in base.iterdir():
            try:
                day = date.fromisoformat(p.name)
            except ValueError:
                continue
            if p.is_dir() and any(p.glob("run=*")):
                found.add(day)
    return sorted(found)


def worst_ages(coverage: pd.DataFrame | None) -> dict[str, float | None]:
    """The oldest selected snapshot per kind across the slate's games (minutes before run_as_of_ts)."""
    out: dict[str, float | None] = {}
    for kind in FRESHNESS_KINDS:
        col = f"{kind}_as_of_age_minutes"
        if coverage is None or col not in coverage or coverage[col].isna().all():
            out[kind] = None
        else:
            out[kind] = float(coverage[col].max())
    return out


def missing_games(coverage: pd.DataFrame | None) -> dict[str, int]:
    """Games of the slate without a qualifying snapshot, per kind (0 when the run has no coverage file)."""
    out: dict[str, int] = {}
    for kind in FRESHNESS_KINDS:
        col = f"{kind}_covered"
        out[kind] = 0 if coverage is None or col not in coverage else int((~coverage[col].astype(bool)).sum())
    return out


def freshness_flag(kind: str, age_minutes: float | None) -> str:
    """foundation/freshness.py's flag: "none", "ok" or "warn"."""
    return freshness.flag(kind, age_minutes)


def list_runs(day: date, roots: Roots | None = None, data_root: Path | None = None) -> list[RunInfo]:
    pub = publication(day, roots, data_root)
    served = pub.current()
    pin = pub.pinned()
    attempts = [a for a in registry.attempts(pub.data_root, settle=True)
                if a.get("date") == day.isoformat() and a.get("run_id")]
    last_attempt = {a["run_id"]: a for a in attempts}  # attempts are in start order: the last one wins
    by_run: dict[str, list[dict]] = {}
    for a in attempts:
        by_run.setdefault(a["run_id"], []).append(a)
    retention = _retention_events(pub.data_root, day)
    archived = {r for r, e in retention.items() if e.get("status") == "archived"}
    run_ids = sorted({*last_attempt, *archived, *(r for k in pub.roots.kinds for r in pub.runs(k))}, reverse=True)
    infos = []
    for run_id in run_ids:
        a = last_attempt.get(run_id, {})
        kinds = tuple(k for k in pub.roots.kinds if pub.run_dir(k, run_id).is_dir())
        damaged = damage(pub, run_id, kinds)
        for problem in damaged:
            state.warn(problem.split(": ", 1)[0], problem.split(": ", 1)[-1] + f" (run {run_id} listed as damaged)")
        fsum = rd.read_json(pub.run_dir("features", run_id) / "summary.json") if "features" in kinds else None
        ssum = rd.read_json(pub.run_dir("scores", run_id) / "summary.json") if "scores" in kinds else None
        coverage = None
        if "features" in kinds:
            try:
                coverage = _read_csv(pub.run_dir("features", run_id) / "coverage.csv")
            except DamagedStateError:
                coverage = None
        warnings = len(_as_list((fsum or {}).get("warnings"))) + len(_as_list((ssum or {}).get("warnings")))
        status, note = a.get("status", "unrecorded"), None
        earlier = [e for e in by_run.get(run_id, [])[:-1] if e.get("status") == "succeeded"]
        if status in ("failed", "killed") and earlier and kinds:
            # a refused rerun (exit 9) or a failed --replace leaves the published run as it was
            code = f" (exit {a['exit_code']})" if a.get("exit_code") is not None else ""
            note = f"a later {a.get('job') or 'command'} attempt {status}{code}: {a.get('error') or 'no cause recorded'}"
            status, a = "succeeded", earlier[-1]
        if not kinds and run_id in archived:  # moved into the date's archive by `minutes-live gc`
            e = retention[run_id]
            status = "archived"
            note = (f"archived by gc at {str(e.get('recorded_at') or '?')[:16]}Z into {Path(str(e.get('archive'))).name}; "
                    f"restore: minutes-live runs restore {run_id} --date {day}")
        broken = pub.broken(run_id)
        if damaged or broken:
            note = "damaged: " + "; ".join(damaged + ([broken] if broken else []))
            status = "damaged"
        infos.append(RunInfo(
            day=day, run_id=run_id, run_as_of_ts=a.get("run_as_of_ts") or run_as_of_from_id(run_id),
            status=status, job=a.get("job"), exit_code=a.get("exit_code"), error=a.get("error"),
            kinds=kinds, latest=tuple(k for k, v in served.items() if v == run_id),
            pinned=bool(pin and pin.get("run_id") == run_id),
            rows=_int((fsum or {}).get("rows")) or _int(_as_dict((ssum or {}).get("counts")).get("rows")),
            games=len(_as_list((fsum or {}).get("games"))) or _int(_as_dict((ssum or {}).get("counts")).get("games")),
            worst_age_minutes=worst_ages(coverage), warnings=warnings, missing_games=missing_games(coverage),
            attempts=len(by_run.get(run_id, [])), note=note,
        ))
    return infos


def _retention_events(data_root: Path, day: date) -> dict[str, dict]:
    """run id -> its newest retention event of the date (`archived` by gc, `restored`), from the registry."""
    out: dict[str, dict] = {}
    for e in registry.events(data_root, day=day.isoformat()):
        ids = e.get("run_ids") if e["status"] == "archived" else [e.get("run_id")]
        for run_id in ids if isinstance(ids, list) else []:
            if isinstance(run_id, str):
                out[run_id] = e
    return out


def _as_list(value) -> list:
    return value if isinstance(value, list) else []


def _as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def resolve(day: date, ref: str, roots: Roots | None = None, data_root: Path | None = None) -> str:
    """`latest` -> the run the scores `latest` serves (else the features'); a run id -> itself, if it exists."""
    pub = publication(day, roots, data_root)
    if ref == "latest":
        served = pub.current()
        run_id = served.get("scores") or served.get("features")
        if run_id is None:
            raise CatalogError(f"nothing is published for {day} (runs: {', '.join(pub.runs('features')) or 'none'})")
        return run_id
    rd.validate_run_id(ref)
    if not any(pub.run_dir(k, ref).is_dir() for k in pub.roots.kinds):
        raise CatalogError(f"no run {ref} for {day} (runs: {', '.join(pub.runs('features')) or 'none'})")
    return ref


def load_run(day: date, run_id: str, roots: Roots | None = None, data_root: Path | None = None) -> RunView:
    """One run's files; DamagedStateError (exit 16) naming the first file of the run that cannot be read."""
    pub = publication(day, roots, data_root)
    infos = {i.run_id: i for i in list_runs(day, roots, data_root)}
    if run_id not in infos:
        raise CatalogError(f"no run {run_id} for {day} (runs: {', '.join(infos) or 'none'})")
    paths = {k: pub.run_dir(k, run_id) for k in KINDS if k in pub.roots.kinds}
    problems = damage(pub, run_id, tuple(k for k in paths if paths[k].is_dir()))
    if problems:
        raise DamagedStateError(f"run {run_id} of {day} is damaged: {problems[0]}"
                                + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
                                + "; repair or remove it, or view another run")
    minutes = paths.get("scores") and paths["scores"] / "minutes.parquet"
    return RunView(
        info=infos[run_id],
        paths=paths,
        features_summary=_summary(paths["features"] / "summary.json") if "features" in paths else None,
        scores_summary=_summary(paths["scores"] / "summary.json") if "scores" in paths else None,
        coverage=read_table(paths["features"] / "coverage.csv") if "features" in paths else None,
        team_minutes=read_table(paths["reports"] / "team_minutes.csv") if "reports" in paths else None,
        projections=read_table(minutes) if minutes else None,
    )


def load_features(day: date, run_id: str, roots: Roots | None = None) -> pd.DataFrame | None:
    return read_table(publication(day, roots).run_dir("features", run_id) / "features.parquet")
