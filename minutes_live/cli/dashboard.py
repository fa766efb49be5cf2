"""`minutes-live dashboard [--port 8765] [--host 127.0.0.1] [--date D]` and `--static DIR` (registered in
minutes_live.cli.app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from foundation import cli_values
from foundation.guardrails import GuardrailError, InvalidInput


def dashboard_command(
    port: Annotated[int, typer.Option(help="TCP port to serve on (1-65535).")] = 8765,
    host: Annotated[str, typer.Option(help="Address to bind; keep 127.0.0.1 (pin/unpin have no login).")] = "127.0.0.1",
    date: Annotated[str | None, typer.Option(
        help="Date to open, YYYY-MM-DD (default: the dataset's newest date with a published run).")] = None,
    dataset: Annotated[str | None, typer.Option(
        help="Dataset to open: live, or a replay / synthetic dataset's name (nba, synthetic_league). Default: the only "
             "one with runs (of --date), else the one with the most recent successful run.")] = None,
    static: Annotated[Path | None, typer.Option(
        "--static", help="Write the page as self-contained HTML files into this directory instead of serving (default: serve).")] = None,
) -> None:
    """Operator dashboard of a date's runs: freshness, fallbacks, team minutes, projections, diff, pins, drift."""
    from minutes_live.dashboard.server import make_server, url_of, write_static
    from minutes_live.runs import catalog as run_catalog

    try:
        day = cli_values.parse_date(date) if date is not None else None
        try:
            chosen, _ = run_catalog.choose_dataset(dataset, day)
        except run_catalog.CatalogError as exc:
            raise InvalidInput(str(exc)) from None
        run_catalog.select_dataset(chosen)
        if static is not None:
            out = cli_values.writable_dir(static, "--static")
            files = write_static(out, day)
            size = sum(f.stat().st_size for f in files)
            typer.echo(f"dashboard: dataset {chosen}, {len(files)} page(s), {size:,} bytes -> {out / 'index.html'}")
            return
        cli_values.int_in_bounds(port, "--port", (1, 65535))
        if not host or any(c.isspace() for c in host):
            raise InvalidInput(f"--host {host!r} is not an address")
        try:
            server = make_server(host, port, day, dataset=chosen)
        except OSError as exc:
            raise InvalidInput(f"--port {port} on {host}: cannot listen ({exc.strerror or exc})") from None
    except GuardrailError as exc:
        typer.echo(f"dashboard: error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    typer.echo(f"dashboard: serving {url_of(server)} (dataset {chosen}; Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        typer.echo("dashboard: stopped")
    finally:
        server.server_close()
