"""The CLI spine: every command of `minutes-live`, `build_minutes_live` and `score_minutes_v1` is registered
through `App` (or wrapped by `guarded`), so they share

- one error boundary (foundation/errors.py): a known failure is one line `<command>: error: ...` on stderr and
  its documented exit code (foundation/guardrails.py EXIT_CODES); anything else is a `bug:` line with exit 1
  and the traceback in the log, never a raw traceback;
- one help format: plain text wrapped at the terminal width, so no flag name is ever cut (rich tables cut
  `--injuries-max-age-hours` at 80 columns and ate `[spark]` as markup);
- the shared option declarations below (one wording of --date, --source, --lock-timeout, ...).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import click
import typer

from foundation import errors, logs
from foundation.settings import SOURCES
from minutes_live.cli.options import DATASET_DIR_DEFAULT, bounded, choices

HELP_SETTINGS: dict[str, Any] = {"max_content_width": 100, "help_option_names": ["--help", "-h"]}


def fail(what: str, exc: BaseException) -> typer.Exit:
    """Print one line for `exc` and return the Exit carrying its code (the one error-to-exit-code mapping)."""
    code, line = errors.describe(exc)
    typer.echo(f"{what}: {line}", err=True)
    return typer.Exit(code)


def guarded(fn: Callable, what: str) -> Callable:
    """`fn` behind the error boundary: typer/click exits pass through, everything else becomes one line + code."""

    @functools.wraps(fn)
    def command(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, click.exceptions.Exit, click.exceptions.ClickException, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            typer.echo(f"{what}: interrupted", err=True)
            raise typer.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - the boundary: every failure becomes one line and a code
            raise fail(what, exc) from None

    return command


class App(typer.Typer):
    """A typer app whose commands are all behind the error boundary and share the plain help format."""

    def __init__(self, *, name: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("add_completion", False)
        kwargs.setdefault("no_args_is_help", True)
        kwargs.setdefault("pretty_exceptions_enable", False)
        kwargs.setdefault("rich_markup_mode", None)
        kwargs.setdefault("context_settings", HELP_SETTINGS)
        super().__init__(name=name, **kwargs)
        self.label = name or ""

    def command(self, name: str | None = None, *args: Any, **kwargs: Any) -> Callable:
        register = super().command(name, *args, **kwargs)

        def decorator(fn: Callable) -> Callable:
            label = " ".join(p for p in (self.label, name or fn.__name__.replace("_", "-")) if p)
            register(guarded(fn, label))
            return fn

        return decorator


def run_single(fn: Callable, prog: str) -> None:
    """A one-command console script (`build_minutes_live`, `score_minutes_v1`) behind the same boundary."""
    logs.ensure_setup()  # level from $MINUTES_LIVE_LOG_LEVEL (default INFO)
    app = App(name=None, no_args_is_help=False)
    app.command(prog)(fn)
    command = typer.main.get_command(app)
    # one registered command: typer exposes it directly; its errors are labelled with the script's name
    sys.exit(command.main(prog_name=prog, standalone_mode=True))


# ------------------------------------------------------------------------------- shared option declarations
DATE = Annotated[str | None, typer.Option(help="Slate date YYYY-MM-DD (default: today in US/Eastern).")]
RUN_AS_OF = Annotated[str | None, typer.Option(
    help="ISO-8601 instant with an offset (default: now, UTC, taken after a live fetch).")]
SOURCE = Annotated[str, typer.Option(
    metavar=choices(SOURCES), help="Where the snapshots come from; none = use the store as it is.")]
DATASET_DIR = Annotated[Path | None, typer.Option(help=f"Replay / synthetic dataset directory ({DATASET_DIR_DEFAULT}).")]
LOCK_TIMEOUT = Annotated[float, typer.Option(help=bounded(
    "--lock-timeout", "Seconds to wait for another job or process holding the store."))]
ALLOW_MISSING_INJURIES = Annotated[bool, typer.Option(
    "--allow-missing-injuries", help="Run without a qualifying injury report (a warning, not exit 4).")]
ALLOW_MISSING_ODDS = Annotated[bool, typer.Option(
    "--allow-missing-odds", help="Run without a qualifying odds quote (a warning, not exit 5).")]
REPLACE = Annotated[bool, typer.Option("--replace", help="Redo an existing run id deliberately (not exit 9).")]
SHOW = Annotated[int, typer.Option(help=bounded(
    "--show", "Players per team in the slate table, top by p50; 0 = all."))]
TARGET = Annotated[str | None, typer.Option(
    metavar="embedded|spark|spark_cluster",
    help="dbt target of every build (profiles/profiles.yml; default $MINUTES_LIVE_DBT_TARGET or embedded DuckDB). "
         "spark needs pip install -e '.[spark]' and Java 17: docs/scale_out.md.")]
