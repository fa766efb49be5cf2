"""One damaged run file never breaks the readers (issue 20, defect 9): two real jobs of one date, then the
newer run's coverage.csv turned to garbage and its minutes.parquet truncated, as a disk or a hand might do.
The damaged run is listed as `damaged` naming the file; showing, exporting or diffing it is one line with
exit 16; the other run, the dashboard page and `minutes-live schedule` (so `deploy/due pretip`) keep working."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from foundation import run_directory as rd
from foundation.publication import Publication, Roots
from minutes_live.cli.app import app
from minutes_live.pipeline.live_build import LiveBuildConfig

pytestmark = pytest.mark.slow

runner = CliRunner()


@pytest.fixture(scope="module")
def damaged(world):
    from minutes_live.pipeline.job import run_job

    with pytest.MonkeyPatch.context() as mp:
        for k, v in world["env"].items():
            mp.setenv(k, v)
        ids = []
        for as_of in (world["as_of"] - timedelta(hours=4), world["as_of"]):
            run_job(LiveBuildConfig(day=world["day"], run_as_of_ts=as_of, source="none", allow_missing_odds=True),
                    job="afternoon", bundle_config=world["config"])
            ids.append(rd.run_id_for(as_of))
        pub = Publication(Roots.default(), world["day"])
        coverage = pub.run_dir("features", ids[1]) / "coverage.csv"
        coverage.write_bytes(b"\x00\xff garbage \" unterminated\n\x01")
        minutes = pub.run_dir("scores", ids[1]) / "minutes.parquet"
        minutes.write_bytes(minutes.read_bytes()[: minutes.stat().st_size // 2])
    return {**world, "good": ids[0], "bad": ids[1], "coverage": coverage, "minutes": minutes}


def _cli(env, *args):
    return runner.invoke(app, list(args), env=env["env"])


def _one_line_16(result, name: str) -> None:
    assert result.exit_code == 16, (result.output, result.exception)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    lines = [ln for ln in result.output.strip().splitlines() if ln.strip()]
    assert name in lines[-1] and "Traceback" not in result.output, result.output


def test_list_marks_the_damaged_run_and_keeps_the_other(damaged):
    day = damaged["day"].isoformat()
    result = _cli(damaged, "runs", "list", "--date", day)
    assert result.exit_code == 0, (result.output, result.exception)
    bad = next(ln for ln in result.output.splitlines() if ln.startswith(damaged["bad"]))
    good = next(ln for ln in result.output.splitlines() if ln.startswith(damaged["good"]))
    assert "damaged" in bad and "succeeded" in good


def test_show_export_diff_of_the_damaged_run_exit_16_naming_the_file(damaged):
    day = damaged["day"].isoformat()
    _one_line_16(_cli(damaged, "runs", "show", damaged["bad"], "--date", day), "run=" + damaged["bad"])
    _one_line_16(_cli(damaged, "runs", "export", damaged["bad"], "--date", day, "--format", "csv"), damaged["bad"])
    _one_line_16(_cli(damaged, "runs", "diff", damaged["good"], damaged["bad"], "--date", day), "minutes.parquet")
    ok = _cli(damaged, "runs", "show", damaged["good"], "--date", day)
    assert ok.exit_code == 0, (ok.output, ok.exception)
    ok = _cli(damaged, "runs", "export", damaged["good"], "--date", day, "--format", "csv")
    assert ok.exit_code == 0 and len(ok.output.splitlines()) > 10


def test_the_dashboard_page_of_the_date_names_the_file_instead_of_failing(damaged, monkeypatch):
    from minutes_live.dashboard.model import build_page

    for k, v in damaged["env"].items():
        monkeypatch.setenv(k, v)
    page = build_page(damaged["day"])  # `latest` is the damaged run
    assert page["error"] and ("coverage.csv" in page["error"] or "minutes.parquet" in page["error"])
    statuses = {r["run_id"]: r["status"] for r in page["runs"]}
    assert statuses == {damaged["bad"]: "damaged", damaged["good"]: "succeeded"}
    good = build_page(damaged["day"], damaged["good"])
    assert good["error"] is None and good["run"]["projections"]


def test_schedule_and_the_pretip_due_check_still_answer(damaged):
    day = damaged["day"].isoformat()
    result = _cli(damaged, "schedule", "--date", day)
    assert result.exit_code == 0, (result.output, result.exception)
    assert f"published run {damaged['good']}" in result.output
    due = _cli(damaged, "schedule", "--date", day, "--due", "pretip", "--now", f"{day}T12:00:00+00:00")
    assert due.exit_code in (0, 75), (due.output, due.exception)
