"""Console script `score_minutes_v1` (docs/architecture.md "CLI contracts"). Exit codes (foundation/guardrails.py):
0 ok; 2 bad CLI value, or --run-as-of-ts before the features' newest feature_as_of_ts; 9 run id exists (use
--replace); 14 missing or unusable input (features, bundle, config, schema mismatch)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from foundation.cli_values import parse_date, parse_ts, writable_dir
from foundation.guardrails import InvalidInput
from minutes_live.cli.spine import guarded, run_single
from scoring.threads import lgb_threads

PROG = "score_minutes_v1"


def command(
    date: Annotated[str | None, typer.Option(help="Slate date (US/Eastern), YYYY-MM-DD (required).")] = None,
    mode: Annotated[str, typer.Option(
        metavar="[historical|live]", help="historical: gold features; live: one slate (--features-path required).")] = "historical",
    features_path: Annotated[Path | None, typer.Option(
        help="One features parquet (required in live mode; default: none).")] = None,
    features_root: Annotated[Path | None, typer.Option(
        help="Historical: <root>/season=<YYYY-YY>/features.parquet or one parquet file (default: none).")] = None,
    artifact_root: Annotated[Path | None, typer.Option(help="Where run directories go (default: the scores root of the features run's dataset, "
                                       "artifacts/minutes_v1/daily for live, artifacts/<dataset>/minutes_v1/daily otherwise).")] = None,
    bundle_config: Annotated[Path | None, typer.Option(help="JSON naming the active bundle (default artifacts/minutes_v1/current_run.json).")] = None,
    run_as_of_ts: Annotated[str | None, typer.Option(help="ISO-8601 with offset. Default: the features run's instant (a score run takes the id of the features run it scores); for other files the newest feature_as_of_ts.")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite an existing run id deliberately.")] = False,
) -> None:
    """Score one slate with the active Minutes V1 bundle into an immutable run directory."""
    if date is None:
        raise InvalidInput("--date is required (YYYY-MM-DD)")
    day = parse_date(date)
    ts = parse_ts(run_as_of_ts, default_now=False) if run_as_of_ts is not None else None
    if mode not in ("historical", "live"):
        raise InvalidInput(f"--mode {mode!r} is not one of: historical, live")
    artifact_root = writable_dir(artifact_root, "--artifact-root")
    from scoring.score import ScoreRequest, score_slate  # pandas and lightgbm: only once the values are good

    optional = {k: v for k, v in (("artifact_root", artifact_root), ("bundle_config", bundle_config)) if v is not None}
    req = ScoreRequest(day=day, mode=mode, features_path=features_path, features_root=features_root,
                       run_as_of_ts=ts, replace=replace, **optional)
    result = score_slate(req)
    s = result.summary
    typer.echo(f"scored {s['counts']['rows']} rows, {s['counts']['games']} games ({s['mode']}) -> {result.run_dir}")
    typer.echo(s["publication"])
    for w in s["warnings"]:
        typer.echo(f"warning: {w}")


def lean_process() -> None:
    """Settings of the `score_minutes_v1` process, made before pandas and lightgbm are imported.

    - scikit-learn is made unimportable: it is not a dependency of this project (nothing here uses it), but
      when an environment has it, lightgbm's compat layer imports it (and scipy.stats with it, about 0.6 s)
      only to offer sklearn-style estimators; scoring loads text models into `lgb.Booster` and needs none of
      that. A None entry in sys.modules makes `import sklearn` raise ImportError, which lightgbm treats as
      "not installed".
    - pyarrow.dataset (and its query engine, acero) likewise: pandas reads the one features file through
      `pyarrow.parquet.read_table`, which falls back on `ParquetFile` when pyarrow.dataset is unavailable
      (the same table, without loading the dataset machinery that a single local file does not need).
    - OpenMP starts `lgb_threads()` threads (unless OMP_NUM_THREADS is set): predictions already use that
      many, and parsing the bundle's text models with more threads than that only spins on a shared machine
      (numpy's OpenBLAS reads the same variable; the scorer does no linear algebra worth threads).
    Only this console script does this."""
    sys.modules.setdefault("sklearn", None)
    sys.modules.setdefault("pyarrow.dataset", None)
    os.environ.setdefault("OMP_NUM_THREADS", str(lgb_threads()))


command = guarded(command, PROG)  # the error boundary, however the command is registered


def main() -> None:
    lean_process()
    run_single(command, PROG)


if __name__ == "__main__":
    main()
