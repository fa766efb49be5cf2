"""Where things live. One place for default paths and the environment variables that override them."""

from __future__ import annotations

import os
import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    return Path(os.environ.get("MINUTES_LIVE_DATA_ROOT", PROJECT_ROOT / "data"))


LIVE_DATASET = "live"
# where a run's snapshots come from; none = the store as it is
SOURCES = ("replay", "synthetic", "live", "none")
# Names under data/, artifacts/ and reports/ that are not a dataset's directory (the live dataset's own roots, the
# registry, bundles, backtest and experiment reports): a dataset directory with such a name gets a suffix.
_RESERVED_NAMES = frozenset({LIVE_DATASET, "registry", "logs", "locks", "minutes_v1", "minutes_live", "backtest",
                             "experiments", "dashboard", "bench"})


def default_dataset_dir(source: str) -> Path | None:
    """The dataset directory a source reads when none is given (None for live data)."""
    return {"replay": real_dataset_dir(), "synthetic": synthetic_dataset_dir()}.get(source)


def dataset_name(source: str, dataset_dir: Path | str | None = None) -> str:
    """Which dataset a command reads, which names its store (`duckdb_path`).

    `live` for `--source live` and for `--source none` without a dataset directory (the store as is: the
    production store). Replay and synthetic datasets: their directory's name as a lower-case slug
    (`../shared/data/nba` -> `nba`, `data/synthetic_league` -> `synthetic_league`); a name reserved under
    data/, artifacts/ or reports/ (live, registry, logs, locks, minutes_v1, minutes_live, backtest, experiments,
    dashboard, bench) gets `_dataset` appended, so a replay never lands in the live store or the live roots.
    Two directories with the same name share the name: the store's own record (foundation.store) then
    refuses the second one."""
    if source == LIVE_DATASET or (source == "none" and dataset_dir is None):
        return LIVE_DATASET
    dataset_dir = dataset_dir if dataset_dir is not None else default_dataset_dir(source)
    if dataset_dir is None:
        raise ValueError(f"no dataset directory for source {source!r}")
    slug = re.sub(r"[^a-z0-9]+", "_", Path(dataset_dir).resolve().name.lower()).strip("_") or "dataset"
    return f"{slug}_dataset" if slug in _RESERVED_NAMES else slug


def duckdb_path(dataset: str | None = None, root: Path | str | None = None) -> Path:
    """The store (embedded DuckDB warehouse) of a dataset: `<data root>/<dataset>/minutes_live.duckdb`, dataset
    `live` by default. MINUTES_LIVE_DUCKDB, when set, names one explicit file for every dataset (tests, bench);
    the store then refuses a second dataset (foundation.store.check_dataset). dbt's profile reads the same
    variable (profiles/profiles.yml); minutes_live.pipeline.dbt_runner always sets it to the store of the command."""
    explicit = os.environ.get("MINUTES_LIVE_DUCKDB")
    if explicit:
        return Path(explicit)
    return Path(root if root is not None else data_root()) / (dataset or LIVE_DATASET) / "minutes_live.duckdb"


def store_path_for(source: str, dataset_dir: Path | str | None = None, root: Path | str | None = None) -> Path:
    """`duckdb_path` of the dataset a command with these flags reads."""
    return duckdb_path(dataset_name(source, dataset_dir), root)


def check_dataset_name(dataset: str) -> str:
    """A dataset name as `dataset_name` makes them (a lower-case slug); anything else is a ValueError."""
    if not re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", dataset or ""):
        raise ValueError(f"invalid dataset name {dataset!r}: expected a lower-case slug such as live, nba, synthetic_league")
    return dataset


def dataset_data_dir(dataset: str = LIVE_DATASET, root: Path | str | None = None) -> Path:
    """`<data root>/<dataset>/`: the dataset's store, raw extracts and features runs (live: data/live/)."""
    return Path(root if root is not None else data_root()) / check_dataset_name(dataset)


def snapshots_root(dataset: str = LIVE_DATASET, root: Path | str | None = None) -> Path:
    """Accepted raw extracts: <data root>/<dataset>/snapshots/<kind>/<date>/run=<id>/ (live: data/live/snapshots)."""
    return dataset_data_dir(dataset, root) / "snapshots"


def features_root(dataset: str = LIVE_DATASET, root: Path | str | None = None) -> Path:
    """Features runs: <data root>/<dataset>/features_minutes_v1/<date>/run=<id>/ (live: data/live/...)."""
    return dataset_data_dir(dataset, root) / "features_minutes_v1"


def registry_root(dataset: str = LIVE_DATASET, root: Path | str | None = None) -> Path:
    """The folder whose `registry/` holds a dataset's run registry and drift log: the data root itself for
    live (data/registry/minutes_live_runs.jsonl, as always), `<data root>/<dataset>/` for any other dataset."""
    base = Path(root if root is not None else data_root())
    return base if dataset == LIVE_DATASET else dataset_data_dir(dataset, base)


def artifacts_root() -> Path:
    return Path(os.environ.get("MINUTES_LIVE_ARTIFACTS", PROJECT_ROOT / "artifacts"))


def reports_root() -> Path:
    return Path(os.environ.get("MINUTES_LIVE_REPORTS", PROJECT_ROOT / "reports"))


def scores_root(dataset: str = LIVE_DATASET) -> Path:
    """Scored runs of score_minutes_v1 and the job: <root>/<date>/run=<id>/minutes.parquet; live:
    artifacts/minutes_v1/daily, any other dataset: artifacts/<dataset>/minutes_v1/daily."""
    base = artifacts_root() if dataset == LIVE_DATASET else artifacts_root() / check_dataset_name(dataset)
    return base / "minutes_v1" / "daily"


def live_reports_root(dataset: str = LIVE_DATASET) -> Path:
    """The job's per-run reports: <root>/<date>/run=<id>/; live: reports/minutes_live, any other dataset:
    reports/<dataset>/minutes_live."""
    base = reports_root() if dataset == LIVE_DATASET else reports_root() / check_dataset_name(dataset)
    return base / "minutes_live"


def known_datasets(root: Path | str | None = None) -> list[str]:
    """Datasets with runs or attempts on disk: live first, then the others by name. A dataset counts when its
    registry or its features root exists (a store alone, with no run, does not)."""
    base = Path(root if root is not None else data_root())
    others = sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    found = []
    for name in [LIVE_DATASET] + [n for n in others if n not in _RESERVED_NAMES
                                  and re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", n)]:
        if (registry_root(name, base) / "registry" / "minutes_live_runs.jsonl").exists() or features_root(name, base).is_dir():
            found.append(name)
    return found


def bundle_config_path() -> Path:
    """The active Minutes V1 bundle pointer: runtime state beside the bundles (git-ignored), written by
    `promote` (`minutes-live train --promote`, `minutes-live promote`), read by `score_minutes_v1`."""
    return artifacts_root() / "minutes_v1" / "current_run.json"


def real_dataset_dir() -> Path:
    """The real NBA replay dataset (read-only, never copied into the project)."""
    return Path(os.environ.get("MINUTES_LIVE_NBA_DIR", PROJECT_ROOT.parent / "shared" / "data" / "nba"))


def synthetic_dataset_dir() -> Path:
    return data_root() / "synthetic_league"


def drift_log_path(root: Path | str | None = None) -> Path:
    """The next-day validation log (one JSON record per validated date), written by the overnight job."""
    return Path(root or data_root()) / "registry" / "drift.jsonl"
