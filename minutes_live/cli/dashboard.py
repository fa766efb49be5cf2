"""`minutes-live dashboard [--port 8765] [--host 127.0.0.1] [--date D]` and `--static DIR [--force]`
(registered in minutes_live.cli.app). Serving is `minutes-live serve` (minutes_live.cli.serve: the dashboard
lives on the API app); it prints the URL with the per-start token (also written to
`<data root>/dashboard/token`, mode 0600) and warns when the address is not a loopback one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from foundation import cli_values


def dashboard_command(
    port: Annotated[int, typer.Option(help="TCP port to serve on (1-65535).")] = 8765,
    host: Annotated[str, typer.Option(
        help="Address to bind; keep 127.0.0.1 (another address is served with a warning: reads are open to the network).")] = "127.0.0.1",
    date: Annotated[str | None, typer.Option(
        help="Date to open, YYYY-MM-DD (default: the dataset's newest date with a published run).")] = None,
    dataset: Annotated[str | None, typer.Option(
        help="Dataset to open: live, or a replay / synthetic dataset's name (nba, synthetic_league). Default: the only "
             "one with runs (of --date), else the one with the most recent successful run.")] = None,
    static: Annotated[Path | None, typer.Option(
        "--static", help="Write the page as self-contained HTML files into this directory instead of serving (default: serve).")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="With --static: replace existing files (a symlink is never written through).")] = False,
) -> None:
    """Operator dashboard of a date's runs (served by `minutes-live serve`, with the API), or --static DIR."""
    from minutes_live.cli.serve import serve
    from minutes_live.dashboard.static import write_static
    from minutes_live.runs import catalog as run_catalog

    day = cli_values.parse_date(date) if date is not None else None
    chosen, _ = run_catalog.choose_dataset(dataset, day)  # an unknown dataset: exit 2 naming those with runs
    run_catalog.select_dataset(chosen)
    if static is not None:
        out = cli_values.writable_dir(static, "--static")
        files = write_static(out, day, force=force)  # an existing file without --force, or a symlink: exit 2
        size = sum(f.stat().st_size for f in files)
        typer.echo(f"dashboard: dataset {chosen}, {len(files)} page(s), {size:,} bytes -> {out / 'index.html'}")
        return
    serve(port, host, day, chosen, None, "dashboard")
