"""`minutes-live gc` and `minutes-live runs restore` (minutes_live/runs/retention.py) through the CLI, on runs
published by the real publication (conftest `publish_run`): what is archived and what is never touched
(`latest`, the pin, recent dates), byte-identical restores, the registry's events, a real gc SIGKILLed at every
step losing nothing, and the refusals (values, lock, unknown or present runs)."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from datetime import date
from pathlib import Path

import pytest
from filelock import FileLock
from typer.testing import CliRunner

from foundation import registry, settings
from foundation.publication import Publication, Roots
from minutes_live.cli.app import app
from minutes_live.runs import catalog, retention

runner = CliRunner()
OLD, PINNED_DAY, RECENT = date(2022, 1, 10), date(2022, 1, 11), date(2022, 1, 14)
TODAY = "2022-01-15"
TIPS = {"1": "19:00", "2": "22:00"}


def tree() -> dict[str, str]:
    """sha256 of every file under the data, artifacts and reports roots (the control files of `.publication`
    and the archive left out), keyed by path relative to its root."""
    out = {}
    for var in ("MINUTES_LIVE_DATA_ROOT", "MINUTES_LIVE_ARTIFACTS", "MINUTES_LIVE_REPORTS"):
        base = Path(os.environ[var])
        for p in sorted(base.rglob("*")):
            rel = p.relative_to(base).as_posix()
            if p.is_file() and not p.is_symlink() and ".publication" not in rel and "/archive/" not in f"/{rel}" \
                    and "/registry/" not in f"/{rel}" and ".locks" not in rel:
                out[f"{var}/{rel}"] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def latest(day: date) -> dict:
    pub = Publication(Roots.default(), day, settings.registry_root())
    return pub.current()


@pytest.fixture
def days(publish_run):
    """Three dates: OLD (3 runs, none pinned), PINNED_DAY (3 runs, the first pinned), RECENT (2 runs)."""
    for run in ("20220110T153000Z", "20220110T200000Z", "20220110T230000Z"):
        publish_run(OLD, run, TIPS)
    for run in ("20220111T153000Z", "20220111T200000Z", "20220111T230000Z"):
        publish_run(PINNED_DAY, run, TIPS)
    Publication(Roots.default(), PINNED_DAY, settings.registry_root()).pin("20220111T153000Z", "odds glitch")
    for run in ("20220114T153000Z", "20220114T200000Z"):
        publish_run(RECENT, run, TIPS)
    return {"archived": {OLD: ["20220110T153000Z", "20220110T200000Z"], PINNED_DAY: ["20220111T200000Z"]}}


def _gc(*args: str):
    return runner.invoke(app, ["gc", "--keep-days", "3", "--today", TODAY, *args])


def test_gc_archives_old_runs_keeps_latest_and_pinned_and_restore_is_byte_identical(days):
    before = tree()
    served = {d: latest(d) for d in (OLD, PINNED_DAY, RECENT)}
    result = _gc()
    assert result.exit_code == 0, result.output
    assert "gc dataset live, dates before 2022-01-12: 2 dates archived, 3 runs and 3 extract runs" in result.stdout
    assert "freed" in result.stdout and "ratio" in result.stdout
    assert "gc 2022-01-10: 2 runs and 2 extract runs" in result.stderr  # progress on stderr

    after = tree()
    gone = {k for k in before if k not in after}
    for day, runs in days["archived"].items():
        for run in runs:
            assert any(f"{day}/run={run}/" in k for k in gone)
            for root in (settings.features_root(), settings.scores_root(), settings.live_reports_root()):
                assert not (root / day.isoformat() / f"run={run}").exists()
            assert not (settings.snapshots_root() / "odds" / day.isoformat() / f"run={run}").exists()
    # everything else is untouched, byte for byte: the served runs, the pinned run and the rule's run of the
    # pinned date, their raw extracts, and the recent date
    assert all(after[k] == before[k] for k in after)
    assert {k.split("run=")[1][:16] for k in gone} == {r for runs in days["archived"].values() for r in runs}
    assert {d: latest(d) for d in (OLD, PINNED_DAY, RECENT)} == served
    pub = Publication(Roots.default(), PINNED_DAY, settings.registry_root())
    assert pub.pinned()["run_id"] == "20220111T153000Z" and (pub.date_dir("features") / "run=20220111T230000Z").is_dir()

    # the archive: one per date, a manifest of sha256 inside and beside it
    archive = retention.archive_path("live", OLD)
    manifest = retention.verify_archive(archive)
    assert set(manifest["runs"]) == {"20220110T153000Z", "20220110T200000Z"}
    side = json.loads((archive.parent / "2022-01-10.manifest.json").read_text())
    assert side["entries"] == manifest["entries"] and side["archive_sha256"] == retention.sha256_file(archive)
    for name, meta in manifest["entries"].items():
        origin = name.split("/", 1)[1]
        assert meta["sha256"] in before.values(), origin
    assert not list(archive.parent.glob(".*tmp*"))

    # the registry records it; readers tolerate the new lines (no warning, same attempts)
    events = registry.events(settings.registry_root(), day=OLD.isoformat())
    assert [e["status"] for e in events] == ["archived"] and events[0]["run_ids"] == days["archived"][OLD]
    assert events[0]["bytes_freed"] > 0 and events[0]["archive_sha256"] == retention.sha256_file(archive)
    assert all(a["status"] == "succeeded" for a in registry.attempts(settings.registry_root()))
    infos = {i.run_id: i for i in catalog.list_runs(OLD)}
    assert infos["20220110T153000Z"].status == "archived" and infos["20220110T230000Z"].status == "succeeded"
    assert "minutes-live runs restore 20220110T153000Z --date 2022-01-10" in infos["20220110T153000Z"].note
    listed = runner.invoke(app, ["runs", "list", "--date", "2022-01-10"])
    assert listed.exit_code == 0 and "archived" in listed.stdout
    shown = runner.invoke(app, ["runs", "show", "20220110T153000Z", "--date", "2022-01-10"])
    assert shown.exit_code == 0, shown.output
    assert "files: none on disk (archived by gc at" in shown.stdout

    # a second gc finds nothing more to do
    again = _gc()
    assert again.exit_code == 0 and "0 dates archived" in again.stdout and tree() == after

    # restore every archived run: byte-identical, and `latest` stays where it was
    for day, runs in days["archived"].items():
        for run in runs:
            restored = runner.invoke(app, ["runs", "restore", run, "--date", day.isoformat()])
            assert restored.exit_code == 0, restored.output
            assert f"restored run {run} of {day} (dataset live): features, reports, scores, snapshots/" in restored.stdout
    assert tree() == before
    assert {d: latest(d) for d in (OLD, PINNED_DAY, RECENT)} == served
    assert [e["status"] for e in registry.events(settings.registry_root(), day=OLD.isoformat())] == \
        ["archived", "restored", "restored"]
    assert all(i.status == "succeeded" for i in catalog.list_runs(OLD))

    # archived again after the restore: the date's archive is rewritten with the same members, still verified
    third = _gc()
    assert third.exit_code == 0 and "2 dates archived, 3 runs" in third.stdout
    assert set(retention.verify_archive(archive)["entries"]) == set(manifest["entries"])


def test_restoring_an_archived_newer_run_moves_latest_by_the_rule(days):
    """Unpinning after gc serves what unpinning before gc would have: the rule's run is never archived."""
    assert _gc().exit_code == 0
    pub = Publication(Roots.default(), PINNED_DAY, settings.registry_root())
    pub.unpin()
    assert set(latest(PINNED_DAY).values()) == {"20220111T230000Z"}


def test_dry_run_writes_nothing(days):
    before = tree()
    result = _gc("--dry-run")
    assert result.exit_code == 0, result.output
    assert "2022-01-10: would archive 2 runs and 2 extract runs" in result.stdout
    assert "keeps 20220110T230000Z (latest)" in result.stdout
    assert "20220111T153000Z (pinned)" in result.stdout and "20220111T230000Z (served by the rule when unpinned)" \
        in result.stdout
    assert "gc dry run, dataset live, dates before 2022-01-12: 2 dates, 3 runs, 3 extract runs" in result.stdout
    assert tree() == before and not retention.archive_dir("live").exists()


@pytest.mark.parametrize("args, message", [
    (["gc", "--keep-days", "-1"], "--keep-days must be >= 0 and <= 3650, got -1"),
    (["gc", "--keep-days", "3651"], "--keep-days must be >= 0 and <= 3650, got 3651"),
    (["gc", "--keep-days", "3", "--today", "2022-13-01"], "--today '2022-13-01' is not a valid calendar date"),
    (["gc", "--keep-days", "3", "--dataset", "NBA"], "--dataset: invalid dataset name 'NBA'"),
    (["gc", "--keep-days", "3", "--dataset", "nba"], "--dataset nba: no runs or registry for that dataset"),
    (["gc", "--keep-days", "3", "--lock-timeout", "nan"], "--lock-timeout"),
    (["runs", "restore", "2022011015", "--date", "2022-01-10"], "RUN '2022011015' is not a run id"),
    (["runs", "restore", "20220110T153000Z", "--date", "2022-01-10"], "no archive for that date"),
])
def test_bad_values_exit_2_with_one_line(days, args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_restore_refuses_an_unknown_or_present_run(days):
    assert _gc().exit_code == 0
    unknown = runner.invoke(app, ["runs", "restore", "20220110T230000Z", "--date", "2022-01-10"])
    assert unknown.exit_code == 2
    assert ("run 20220110T230000Z is not in the archive of 2022-01-10" in unknown.stderr
            and "archived runs: 20220110T153000Z, 20220110T200000Z" in unknown.stderr)
    assert runner.invoke(app, ["runs", "restore", "20220110T153000Z", "--date", "2022-01-10"]).exit_code == 0
    twice = runner.invoke(app, ["runs", "restore", "20220110T153000Z", "--date", "2022-01-10"])
    assert twice.exit_code == 9 and "is on disk already" in twice.stderr


def test_gc_waits_for_the_store_lock_then_exits_12(days):
    before = tree()
    lock = FileLock(str(settings.data_root() / ".locks" / "store.lock"))
    (settings.data_root() / ".locks").mkdir(parents=True, exist_ok=True)
    with lock:
        result = _gc("--lock-timeout", "0")
    assert result.exit_code == 12 and "another job holds" in result.stderr
    assert tree() == before


def test_a_damaged_archive_is_exit_16_and_nothing_is_deleted(days):
    assert _gc().exit_code == 0
    archive = retention.archive_path("live", OLD)
    archive.write_bytes(archive.read_bytes()[:200])
    result = runner.invoke(app, ["runs", "restore", "20220110T153000Z", "--date", "2022-01-10"])
    assert result.exit_code == 16 and f"{archive}: the archive cannot be read" in result.stderr


SCRIPT = ("import sys; from minutes_live.cli.app import app; "
          "sys.argv = ['minutes-live', 'gc', '--keep-days', '3', '--today', '2022-01-15']; app()")


@pytest.mark.parametrize("boundary", retention.GC_BOUNDARIES)
def test_a_gc_killed_at_any_step_loses_nothing(days, boundary, sigkill_at, tmp_path):
    before = tree()
    sigkill_at(SCRIPT, boundary, tmp_path / "marker")
    # nothing is lost: every file is on disk (in place or set aside) or in the date's verified archive
    present = set(tree().values())
    for day in (OLD, PINNED_DAY):
        for folder in (settings.features_root(), settings.scores_root(), settings.live_reports_root()):
            for aside in (folder / day.isoformat()).glob(".gc-run=*"):
                present |= {hashlib.sha256(p.read_bytes()).hexdigest() for p in aside.rglob("*") if p.is_file()}
        for kind_dir in settings.snapshots_root().iterdir():
            for aside in (kind_dir / day.isoformat()).glob(".gc-run=*"):
                present |= {hashlib.sha256(p.read_bytes()).hexdigest() for p in aside.rglob("*") if p.is_file()}
        archive = retention.archive_path("live", day)
        if archive.exists():
            present |= {m["sha256"] for m in retention.verify_archive(archive)["entries"].values()}
    assert set(before.values()) <= present
    # `latest` and the pin never moved, and readers never see a broken run
    assert set(latest(OLD).values()) == {"20220110T230000Z"}
    assert all(i.status in ("succeeded", "archived") for d in (OLD, PINNED_DAY) for i in catalog.list_runs(d))
    # the next gc finishes the job; every archived run comes back byte-identical
    result = _gc()
    assert result.exit_code == 0, result.output
    assert not list(settings.features_root().rglob(".gc-run=*")) and not list(settings.snapshots_root().rglob(".gc-run=*"))
    assert not list(retention.archive_dir("live").glob(".*tmp*"))
    for day, runs in days["archived"].items():
        for run in runs:
            assert runner.invoke(app, ["runs", "restore", run, "--date", day.isoformat()]).exit_code == 0
    assert tree() == before
    archived = [e for e in registry.events(settings.registry_root()) if e["status"] == "archived"]
    assert {r for e in archived for r in e["run_ids"]} == {r for runs in days["archived"].values() for r in runs}


def test_archive_members_are_confined_to_their_date(days):
    assert _gc().exit_code == 0
    with tarfile.open(retention.archive_path("live", OLD), "r:gz") as tar:
        names = tar.getnames()
        links = {m.name: m.linkname for m in tar.getmembers() if m.islnk()}
    # the same bytes in two runs (here the rejected report) are stored once: the second is a hard link
    pdf = "snapshots/injuries/run={}/rejected/report.0123456789ab.pdf"
    assert links[f"2022-01-10/{pdf.format('20220110T200000Z')}"] == f"2022-01-10/{pdf.format('20220110T153000Z')}"
    assert not any("/snapshots/odds/" in name for name in links)  # random bytes: never the same twice
    assert names[-1] == "2022-01-10/MANIFEST.json"
    assert all(n.startswith("2022-01-10/") and ".." not in n for n in names)
    assert any(n.startswith("2022-01-10/snapshots/injuries/run=20220110T153000Z/rejected/") for n in names)


def test_registry_events_are_not_attempts(days, publish_run, caplog):
    """An `archived` line is no attempt: it never makes its dataset the default one, never marks a run killed,
    and readers read it without a warning."""
    publish_run(date(2022, 1, 12), "20220112T153000Z", TIPS, dataset="nba")  # the newest successful attempt
    assert catalog.choose_dataset(None)[0] == "nba"
    with caplog.at_level("WARNING"):
        assert _gc().exit_code == 0
        assert catalog.choose_dataset(None)[0] == "nba"
        assert registry.mark_killed(settings.registry_root(), OLD.isoformat()) == []
        assert {a["status"] for a in registry.attempts(settings.registry_root())} == {"succeeded"}
        assert len(catalog.list_runs(OLD)) == 3
    assert "minutes_live_runs.jsonl" not in caplog.text


def test_the_dashboard_lists_archived_runs(days):
    from minutes_live.dashboard.model import build_page
    from minutes_live.dashboard.render import render_page

    assert _gc().exit_code == 0
    page = build_page(OLD)
    runs = {r["run_id"]: r for r in page["runs"]}
    assert runs["20220110T153000Z"]["status"] == "archived" and not runs["20220110T153000Z"]["viewable"]
    assert page["served"]["run_id"] == "20220110T230000Z" and page["error"] is None
    assert 'class="st-archived"' in render_page(page) or ">archived<" in render_page(page)


def test_gc_of_a_fresh_live_dataset_has_nothing_to_do():
    result = runner.invoke(app, ["gc", "--keep-days", "14"])
    assert result.exit_code == 0, result.output
    assert "gc dataset live" in result.stdout and "0 dates archived" in result.stdout
