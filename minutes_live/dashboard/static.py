"""`minutes-live dashboard --static DIR`: the dashboard page written as self-contained HTML files (index.html for
the served run of the date, one page per viewable run, each run's explanations embedded), atomically, never
through a symlink and never over a file without --force. The served dashboard is on the API app
(minutes_live.api.pages, `minutes-live serve`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from foundation import atomic
from foundation.publication import Roots
from minutes_live.dashboard.explain import ExplainError, compact, explain_run
from minutes_live.dashboard.model import build_page
from minutes_live.dashboard.render import render_page
from minutes_live.runs import catalog as run_catalog


def static_name(day: str, run_id: str) -> str:
    return f"run-{day}-{run_id}.html"


def write_static(out_dir: Path, day: date | None = None, *, roots: Roots | None = None,
                 data_root: Path | None = None, force: bool = False) -> list[Path]:
    """index.html (the served run of the date) and one page per viewable run, all in `out_dir`; the
    explanations of each run's slate are computed here and embedded. Returns the files written.

    Every page is rendered first, then each file is written atomically (foundation.atomic: temp file, fsync,
    rename). A target that is a symlink is refused (never written through, --force included), and an existing
    file is refused unless `force`; both are checked for every target before anything is written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data_root = run_catalog.registry_root(data_root)
    first = build_page(day, "latest", static=True, roots=roots, data_root=data_root)
    day_s = first.get("day")

    def link(d: str | None, run_id: str | None) -> str:
        if d is None or run_id is None or d != day_s:
            return "index.html"
        return static_name(d, run_id)

    date_links = {day_s: "index.html"} if day_s else {}

    def render(page: dict) -> str:
        run = page.get("run")
        explanations = None
        if run and run["has_scores"]:
            run_day = date.fromisoformat(day_s)
            try:
                explanations = compact(explain_run(
                    run_catalog.load_features(run_day, run["run_id"], roots),
                    run_catalog.load_run(run_day, run["run_id"], roots, data_root).scores_summary))
            except ExplainError as exc:
                explanations = {"rows": {}, "error": str(exc)}
        return render_page(page, link, explanations=explanations, date_links=date_links)

    pages = {"index.html": first}
    for r in first["runs"]:
        if r["viewable"]:
            pages[static_name(day_s, r["run_id"])] = build_page(date.fromisoformat(day_s), r["run_id"], static=True,
                                                                roots=roots, data_root=data_root)
    for name in pages:
        target = out_dir / name
        if target.is_symlink():
            raise atomic.TargetExistsError(f"{target} is a symlink: refusing to write through it (remove it)")
        if target.exists() and not force:
            raise atomic.TargetExistsError(f"{target} exists (pass --force to replace it)")
    written = []
    for name, page in pages.items():
        written.append(atomic.write_text(out_dir / name, render(page), overwrite=force, refuse_symlink=True))
    return written
