"""`minutes-live serve [--host 127.0.0.1] [--port 8765] [--date D] [--dataset S] [--alerts-dir P]`: the read
API (/v1), its event stream, the operator dashboard (/) and the API docs (/docs, /openapi.json) on one
uvicorn server (minutes_live.api; docs/api.md). Prints the URL with the per-start token of pin / unpin (also
written to `<data root>/dashboard/token`, mode 0600) and warns when the address is not a loopback one.
`minutes-live dashboard` starts the same server (and keeps `--static DIR`)."""

from __future__ import annotations

import logging
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from foundation import cli_values
from foundation.guardrails import InvalidInput

PORT = Annotated[int, typer.Option(help="TCP port to serve on (1-65535).")]
HOST = Annotated[str, typer.Option(
    help="Address to bind; keep 127.0.0.1 (another address is served with a warning: reads are open to the network, "
         "pin and unpin still need the token).")]
DATE = Annotated[str | None, typer.Option(
    help="Date the dashboard opens, YYYY-MM-DD (default: the dataset's newest date with a published run).")]
DATASET = Annotated[str | None, typer.Option(
    help="Dataset read by default: live, or a replay / synthetic dataset's name (nba, synthetic_league). Default: the "
         "only one with runs (of --date), else the one with the most recent successful run; ?dataset= overrides it.")]
ALERTS_DIR = Annotated[Path | None, typer.Option(
    help="Folder of the watcher's alert streams <date>/alerts.jsonl (default: <data root>/<dataset>/watch).")]


def serve(port: int, host: str, day: date | None, chosen: str | None, alerts_dir: Path | None, what: str) -> None:
    """Serve until Ctrl-C / SIGTERM; `chosen`: the dataset already checked by the caller (None: per request)."""
    from minutes_live.api.security import is_loopback, write_token_file
    from minutes_live.api.server import ApiServer

    cli_values.int_in_bounds(port, "--port", (1, 65535))
    if not host or any(c.isspace() for c in host):
        raise InvalidInput(f"--host {host!r} is not an address")
    if alerts_dir is not None and alerts_dir.exists() and not alerts_dir.is_dir():
        raise InvalidInput(f"--alerts-dir {alerts_dir} is not a folder")
    try:
        quiet = not logging.getLogger("minutes_live").isEnabledFor(logging.INFO)  # --quiet: no access log
        server = ApiServer(host, port, day, dataset=chosen, alerts_dir=alerts_dir, quiet=quiet)
    except OSError as exc:
        raise InvalidInput(f"--port {port} on {host}: cannot listen ({exc.strerror or exc})") from None
    token_file = write_token_file(server.token)
    if not is_loopback(host):
        typer.echo(f"{what}: warning: --host {host} is not a loopback address: the pages, /v1 and /api/* reads are "
                   "open to the network (pin and unpin still need the token)", err=True)
    typer.echo(f"{what}: serving {server.url(token=True)} (dataset {chosen or 'per request'}; API docs "
               f"{server.url()}docs; token also in {token_file}; Ctrl-C to stop)", nl=True)
    sys.stdout.flush()
    try:
        server.serve_forever()  # uvicorn handles SIGINT / SIGTERM: a graceful stop
    finally:
        server.server_close()
    typer.echo(f"{what}: stopped")


def serve_command(port: PORT = 8765, host: HOST = "127.0.0.1", date: DATE = None, dataset: DATASET = None,
                  alerts_dir: ALERTS_DIR = None) -> None:
    """Read API (/v1: projections with as_of / served_at and provenance, runs, diff, scenarios, events), the
    dashboard (/) and the API docs (/docs) on one server."""
    from minutes_live.runs import catalog as run_catalog

    day = cli_values.parse_date(date) if date is not None else None
    chosen = None
    if dataset is not None or day is not None:
        chosen, _ = run_catalog.choose_dataset(dataset, day)  # an unknown dataset: exit 2 naming those with runs
    serve(port, host, day, chosen, alerts_dir, "serve")
