"""Console script `score_minutes_v1` (architecture.md "CLI contracts"). Exit codes: 0 ok; 1 missing or
unusable input (features, bundle, config, schema mismatch); 2 bad CLI value; 9 run id exists (use --replace)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from foundation.cli_values import parse_date, parse_ts
from foundation.guardrails import InvalidInput, RunExistsError
from foundation.run_directory import RunDirectoryError
from scoring.bundle import BundleError
from scoring.features import SchemaMismatchError
from scoring.score import ScoreInputError, ScoreRequest, score_slate

PROG = "score_minutes_v1"


def _fail(message: str, code: int) -> None:
    typer.echo(f"{PROG}: error: {message}", err=True)
    raise typer.Exit(code)


def command(
    date: Annotated[str | None, typer.Option(help="Slate date (US/Eastern), YYYY-MM-DD.")] = None,
    mode: Annotated[str, typer.Option(help="historical (gold features) | live (--features-path required).")] = "historical",
    features_path: Annotated[Path | None, typer.Option(help="One features parquet (required in live mode).")] = None,
    features_root: Annotated[Path | None, typer.Option(help="Historical: <root>/season=<YYYY-YY>/features.parquet or one parquet file.")] = None,
    artifact_root: Annotated[Path | None, typer.Option(help="Where run directories go (default artifacts/minutes_v1/daily).")] = None,
    bundle_config: Annotated[Path | None, typer.Option(help="JSON naming the active bundle (default artifacts/minutes_v1/current_run.json).")] = None,
    run_as_of_ts: Annotated[str | None, typer.Option(help="ISO-8601 with offset; default now (UTC). Defines the run id.")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite an existing run id deliberately.")] = False,
    no_publish: Annotated[bool, typer.Option("--no-publish", help="Write the run but leave `latest` alone (the job publishes last).")] = False,
) -> None:
    """Score one slate with the active Minutes V1 bundle into an immutable run directory."""
    try:
        if date is None:
            raise InvalidInput("--date is required (YYYY-MM-DD)")
        day = parse_date(date)
        ts = parse_ts(run_as_of_ts)
        if mode not in ("historical", "live"):
            raise InvalidInput(f"--mode {mode!r} is not one of: historical, live")
    except InvalidInput as exc:
        _fail(str(exc), exc.exit_code)
    optional = {k: v for k, v in (("artifact_root", artifact_root), ("bundle_config", bundle_config)) if v is not None}
    req = ScoreRequest(day=day, mode=mode, features_path=features_path, features_root=features_root,
                       run_as_of_ts=ts, replace=replace, publish=not no_publish, **optional)
    try:
        result = score_slate(req)
    except (ScoreInputError, BundleError, SchemaMismatchError) as exc:
        _fail(str(exc), 1)
    except RunDirectoryError as exc:
        _fail(str(exc), RunExistsError.exit_code)
    s = result.summary
    typer.echo(f"scored {s['counts']['rows']} rows, {s['counts']['games']} games ({s['mode']}) -> {result.run_dir}")
    for w in s["warnings"]:
        typer.echo(f"warning: {w}")


def main() -> None:
    typer.run(command)


if __name__ == "__main__":
    main()
