"""`minutes-live runs list / show / diff / export` through the real CLI, on real runs of the synthetic league.

One module world (conftest `world`: a synthetic league, its store, a small bundle), then real jobs of one
date: a morning run, an afternoon run, an attempt that fails (no bundle: exit 14) and a refused rerun of the
afternoon run (exit 9). The tests read what an operator would: the `latest` marker, a pin, statuses, the
export's row count and its refusal to overwrite a file.
"""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pandas as pd
import pytest
from typer.testing import CliRunner

from foundation import run_directory as rd
from foundation.guardrails import RunExistsError, ScoringInputError
from minutes_live.cli.app import app
from minutes_live.pipeline.live_build import LiveBuildConfig

pytestmark = pytest.mark.slow

runner = CliRunner()


@pytest.fixture(scope="module")
def runs(world):
    """Two published runs of one date, a failed attempt between them, and a refused rerun of the second."""
    from minutes_live.pipeline.job import run_job

    with pytest.MonkeyPatch.context() as mp:
        for k, v in world["env"].items():
            mp.setenv(k, v)

        def cfg(as_of):
            return LiveBuildConfig(day=world["day"], run_as_of_ts=as_of, source="none", allow_missing_odds=True)

        morning_at, failed_at, afternoon_at = (world["as_of"] - timedelta(hours=6), world["as_of"] - timedelta(hours=3),
                                               world["as_of"])
        morning = run_job(cfg(morning_at), job="morning", bundle_config=world["config"])
        with pytest.raises(ScoringInputError):
            run_job(cfg(failed_at), job="afternoon", bundle_config=world["root"] / "no_such_bundle.json")
        afternoon = run_job(cfg(afternoon_at), job="afternoon", bundle_config=world["config"])
        with pytest.raises(RunExistsError):
            run_job(cfg(afternoon_at), job="afternoon", bundle_config=world["config"])
    return {**world, "morning": rd.run_id_for(morning_at), "failed": rd.run_id_for(failed_at),
            "afternoon": rd.run_id_for(afternoon_at), "morning_result": morning, "afternoon_result": afternoon}


def _cli(runs, *args: str):
    result = runner.invoke(app, ["runs", *args], env=runs["env"])
    return result


def _ok(runs, *args: str) -> str:
    result = _cli(runs, *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def _row(text: str, run_id: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(run_id))


def test_list_marks_latest_the_failed_attempt_and_freshness(runs):
    out = _ok(runs, "list")  # default date: the newest date with runs
    lines = out.splitlines()
    assert lines[0].startswith(f"runs of {runs['day']} in dataset live: 3 (latest {runs['afternoon']})")
    assert lines[1].split()[:4] == ["RUN", "STATUS", "RUN_AS_OF_TS", "JOB"]
    assert [ln.split()[0] for ln in lines[2:]] == [runs["afternoon"], runs["failed"], runs["morning"]]  # newest first
    afternoon, failed, morning = (_row(out, runs[k]) for k in ("afternoon", "failed", "morning"))
    assert afternoon.split()[1] == "succeeded" and " latest " in afternoon
    assert "a later afternoon attempt failed (exit 9)" in afternoon  # the refused rerun did not unpublish it
    assert failed.split()[1] == "failed" and "exit 14" in failed and "latest" not in failed
    assert morning.split()[1] == "succeeded" and "latest" not in morning
    rows = len(runs["afternoon_result"].minutes)
    assert f" {rows} " in afternoon

    listing = json.loads(_ok(runs, "list", "--json", "--date", runs["day"].isoformat()))
    by_id = {r["run_id"]: r for r in listing["runs"]}
    assert listing["date"] == runs["day"].isoformat() and set(by_id) == {runs["afternoon"], runs["failed"], runs["morning"]}
    assert by_id[runs["afternoon"]]["latest"] == ["features", "scores", "reports"]
    assert by_id[runs["afternoon"]]["attempts"] == 2 and by_id[runs["afternoon"]]["rows"] == rows
    assert by_id[runs["failed"]]["status"] == "failed" and by_id[runs["failed"]]["exit_code"] == 14
    assert by_id[runs["failed"]]["kinds"] == [] and by_id[runs["morning"]]["latest"] == []
    coverage = pd.read_csv(runs["afternoon_result"].features_dir / "coverage.csv")
    for kind in ("injuries", "odds", "roster"):
        worst = by_id[runs["afternoon"]]["worst_age_minutes"][kind]
        ages = coverage[f"{kind}_as_of_age_minutes"].dropna()
        assert worst == (float(ages.max()) if len(ages) else None)


def test_a_pin_moves_the_latest_marker_and_unpin_moves_it_back(runs):
    pinned = runner.invoke(app, ["pin", "--date", runs["day"].isoformat(), "--run-id", runs["morning"],
                                 "--reason", "odds glitch"], env=runs["env"])
    assert pinned.exit_code == 0, pinned.output
    try:
        out = _ok(runs, "list")
        assert "latest pinned" in _row(out, runs["morning"])
        assert "latest" not in _row(out, runs["afternoon"]).split("a later")[0]
        show = _ok(runs, "show", "latest")
        assert show.startswith(f"run {runs['morning']} of {runs['day']} in dataset live: succeeded (morning)")
        assert "served       : latest pinned (reason: odds glitch)" in show
    finally:
        assert runner.invoke(app, ["unpin", "--date", runs["day"].isoformat()], env=runs["env"]).exit_code == 0
    assert " latest " in _row(_ok(runs, "list"), runs["afternoon"])


def test_show_a_run_and_a_failed_attempt(runs):
    out = _ok(runs, "show")  # latest of the newest date
    result = runs["afternoon_result"]
    summary = json.loads((result.features_dir / "summary.json").read_text())
    team = pd.read_csv(result.report_dir / "team_minutes.csv")
    assert out.startswith(f"run {runs['afternoon']} of {runs['day']} in dataset live: succeeded (afternoon), 2 attempts")
    assert f"features sha : {summary['features_sha256']}" in out
    assert f"{summary['rows']} players in {len(summary['games'])} games" in out
    games = out.split("games (age of the selected snapshot")[1].split("\n\n")[0].splitlines()[2:]
    assert sorted(int(g.split()[0]) for g in games) == sorted(summary["games"])
    for t in team.itertuples():  # every team's p50 sum is on its game's line, flagged when outside the band
        line = next(g for g in games if g.startswith(str(t.game_id)))
        assert f"{t.p50_sum:.1f}{'!' if t.outside_230_260 else ''}" in line.split()
    assert str(result.scores_dir) in out

    failed = _ok(runs, "show", runs["failed"])
    assert failed.startswith(f"run {runs['failed']} of {runs['day']} in dataset live: failed (afternoon)")
    assert "exit 14" in failed and "files: none" in failed
    payload = json.loads(_ok(runs, "show", runs["morning"], "--json"))
    assert payload["run"]["run_id"] == runs["morning"] and len(payload["coverage"]) == len(summary["games"])


def test_export_csv_json_jsonl_and_refuse_to_overwrite(runs, tmp_path):
    minutes = pd.read_parquet(runs["morning_result"].scores_dir / "minutes.parquet")
    scores_summary = json.loads((runs["morning_result"].scores_dir / "summary.json").read_text())


    csv = pd.read_csv(StringIO(_ok(runs, "export", runs["morning"], "--format", "csv")))
    assert len(csv) == len(minutes) and set(minutes.columns) <= set(csv.columns)
    assert set(csv["run_id"]) == {runs["morning"]} and set(csv["features_sha256"]) == {scores_summary["features_sha256"]}
    assert set(csv["run_as_of_ts"]) == {(runs["as_of"] - timedelta(hours=6)).isoformat()}
    assert set(csv["generated_at"]) == {scores_summary["generated_at"]}

    out = tmp_path / "slate.json"
    result = _cli(runs, "export", "latest", "--format", "json", "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["run_id"] == runs["afternoon"] and doc["rows"] == len(doc["projections"]) == len(runs["afternoon_result"].minutes)
    assert doc["bundle_id"] == "test_bundle" and doc["projections"][0]["model_bundle_id"] == "test_bundle"
    before = out.read_bytes()

    again = _cli(runs, "export", runs["morning"], "--format", "json", "--out", str(out))
    assert again.exit_code == 2 and "already exists (pass --force" in again.stderr
    assert out.read_bytes() == before  # untouched
    forced = _cli(runs, "export", runs["morning"], "--format", "jsonl", "--out", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    lines = out.read_text().splitlines()
    assert len(lines) == len(minutes) and {json.loads(ln)["run_id"] for ln in lines} == {runs["morning"]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["slate.json"]  # no temp file left behind


def test_diff_two_runs_names_movers_with_reasons(runs):
    from minutes_live.runs.diff import DIFF_COLUMNS, REASON_KINDS, diff_runs

    with pytest.MonkeyPatch.context() as mp:
        for k, v in runs["env"].items():
            mp.setenv(k, v)
        diff = diff_runs(runs["day"], runs["morning"], "latest", min_delta=3.0)
    assert list(diff.columns) == DIFF_COLUMNS and diff.attrs["run_b"] == runs["afternoon"]
    assert len(diff), "six hours of reports and lineups moved nobody by more than 3 minutes"
    moved = diff["delta"].abs() > 3.0
    changed = diff["status_a"].astype(str) != diff["status_b"].astype(str)
    assert (moved | changed).all()
    assert all(r and set(r) <= set(REASON_KINDS) for r in diff["reason_kinds"])
    assert all("status" in k for k in diff.loc[changed, "reason_kinds"])

    out = _ok(runs, "diff", runs["morning"], "latest")
    head, header = out.splitlines()[:2]
    assert head.startswith(f"diff {runs['day']}: {runs['morning']} (") and f"-> {runs['afternoon']} (" in head
    assert f"{len(diff)} moved by more than 3 min or changed status" in head
    assert header.split() == ["TEAM", "PLAYER", "P50_A", "P50_B", "DELTA", "STATUS", "WHY"]
    top = diff.iloc[0]
    assert any(top["player_name"] in line and top["reasons"][0] in line for line in out.splitlines())
    as_json = json.loads(_ok(runs, "diff", runs["morning"], runs["afternoon"], "--json", "--min-delta", "0"))
    assert as_json["run_a"] == runs["morning"] and len(as_json["rows"]) >= len(diff)


@pytest.mark.parametrize(
    "args, flag",
    [
        (["list", "--date", "2022-1-15"], "--date"),
        (["list", "--date", "1999-01-01"], "dates with runs:"),
        (["show", "2022011T000000Z"], "RUN"),
        (["show", "20000101T000000Z"], "no such run"),
        (["diff", "latest", "latest", "--min-delta", "-1"], "--min-delta"),
        (["diff", "latest", "latest", "--min-delta", "nan"], "--min-delta"),
        (["diff", "{failed}", "latest"], "has no scores"),
        (["export", "--format", "xml"], "--format"),
        (["export", "--out", "{tmp}/missing/x.csv"], "--out"),
        (["export", "--out", "{tmp}"], "--out"),
        (["export", "{failed}"], "no scores to export"),
    ],
)
def test_bad_values_exit_2_with_one_line(runs, tmp_path, args, flag):
    result = _cli(runs, *[a.format(failed=runs["failed"], tmp=tmp_path) for a in args])
    assert result.exit_code == 2, (result.output, result.exception)
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1 and flag in err, err
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_an_unknown_run_lists_the_runs_of_the_date(runs):
    result = _cli(runs, "diff", "20000101T000000Z", "latest")
    assert result.exit_code == 2
    assert f"(runs: {runs['morning']}, {runs['failed']}, {runs['afternoon']})" in result.stderr


def test_help_shows_defaults(runs):
    out = runner.invoke(app, ["runs", "diff", "--help"], terminal_width=200).stdout
    assert "[default: 3.0]" in out and "[default: latest]" in out
    out = runner.invoke(app, ["runs", "export", "--help"], terminal_width=200).stdout
    assert "[default: csv]" in out and "csv | json" in out
