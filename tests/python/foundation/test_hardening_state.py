"""State files under damage (issue 20): the registry, the publication journal, pins, roots, drift. Each test
damages a real file (or raises a real exception at a real publish step) and then runs the next command as an
operator would: nothing is lost, bad state is a warning or one DamagedStateError (exit 16) naming the file."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from foundation import publication as publication_module
from foundation import registry
from foundation import run_directory as rd
from foundation.errors import describe
from foundation.guardrails import DamagedStateError
from foundation.publication import KINDS, Publication, PublicationError

sys.path.insert(0, str(Path(__file__).parent))
from test_publication import _as_of, _kill_at, _latest, _pub, _run  # noqa: E402

DAY = date(2022, 1, 15)
OLD, NEW = "20220115T220000Z", "20220115T230000Z"


def _served_consistently(pub: Publication, run_id: str) -> None:
    assert _latest(pub) == dict.fromkeys(KINDS, run_id)
    assert all(pub.is_complete(k, run_id) for k in KINDS)


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


# ------------------------------------------------------------------------------ 1: an exception mid-publish
@pytest.mark.parametrize("step", ["publish:features", "publish:scores", "publish:reports"])
@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_an_exception_between_the_renames_of_a_replace_loses_nothing(tmp_path, monkeypatch, step, exc):
    pub = _pub(tmp_path)
    _run(pub, OLD, content="old")
    real_boundary = publication_module.boundary

    def interrupted(name: str) -> None:
        real_boundary(name)
        if name == step:
            raise exc(f"interrupted at {name}")

    monkeypatch.setattr(publication_module, "boundary", interrupted)
    with pytest.raises(exc):
        _run(pub, OLD, content="new", replace=True)
    monkeypatch.setattr(publication_module, "boundary", real_boundary)
    # the next command touching the date: the previous run is still whole and served
    pub.recover()
    _served_consistently(pub, OLD)
    for kind, name in (("features", "features.parquet"), ("scores", "minutes.parquet"), ("reports", "team_minutes.csv")):
        assert (pub.run_dir(kind, OLD) / name).read_text() == "old"
    assert not (pub.dir / "journal.json").exists()
    # the rerun (replace mode by itself after a failed attempt) publishes the new bytes
    _run(pub, OLD, content="new")
    _served_consistently(pub, OLD)
    assert (pub.run_dir("scores", OLD) / "minutes.parquet").read_text() == "new"


def test_an_exception_during_a_new_publication_keeps_the_previous_run(tmp_path, monkeypatch):
    pub = _pub(tmp_path)
    _run(pub, OLD, content="old")
    real_boundary = publication_module.boundary

    def interrupted(name: str) -> None:
        if name == "publish:scores":
            raise KeyboardInterrupt
        real_boundary(name)

    monkeypatch.setattr(publication_module, "boundary", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _run(pub, NEW, content="new")
    monkeypatch.setattr(publication_module, "boundary", real_boundary)
    pub.recover()
    _served_consistently(pub, OLD)
    assert not any(pub.run_dir(k, NEW).exists() for k in KINDS)


# --------------------------------------------------------------------------------------- 4: the registry
@pytest.mark.parametrize("line", ["[]", "42", "null", '"x"', '{"attempt_id": "a1", "date": 20220115, "status": "started"}',
                                  '{"attempt_id": "a2", "date": "2022-01-15", "run_id": "../x", "status": "started"}',
                                  '{"attempt_id": "a3", "date": "2022-01-15", "run_id": "20220115T100000Z", '
                                  '"status": "started", "host": "HOST"}',
                                  '{"attempt_id": ["no"], "status": "failed"}'])
def test_a_foreign_registry_line_is_skipped_with_a_warning(tmp_path, caplog, line):
    from minutes_live.runs import catalog

    pub = _pub(tmp_path)
    _run(pub, OLD)
    path = registry.registry_path(pub.data_root)
    with open(path, "a") as fh:
        fh.write(line.replace("HOST", registry.socket.gethostname()) + "\n")
    with caplog.at_level(logging.WARNING):
        assert [a["status"] for a in registry.attempts(pub.data_root) if a["run_id"] == OLD] == ["succeeded"]
        assert {i.run_id for i in catalog.list_runs(DAY, pub.roots, pub.data_root)} == {OLD}
        assert catalog.dates(pub.roots, pub.data_root) == [DAY]
        registry.mark_killed(pub.data_root, DAY.isoformat())
        pub.pin(OLD)
        pub.unpin()
        _run(pub, NEW)
    assert str(path) in caplog.text
    _served_consistently(pub, NEW)


def test_a_registry_path_that_is_a_folder_is_named(tmp_path, caplog):
    pub = _pub(tmp_path)
    registry.registry_path(pub.data_root).mkdir(parents=True)
    with caplog.at_level(logging.WARNING):
        assert registry.attempts(pub.data_root) == []
    assert "minutes_live_runs.jsonl" in caplog.text
    with pytest.raises(DamagedStateError, match="minutes_live_runs.jsonl") as err:
        _run(pub, OLD)
    assert describe(err.value)[0] == 16


def test_a_torn_last_line_swallows_nothing_and_a_published_attempt_is_not_marked_killed(tmp_path):
    tmp = tmp_path
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from pathlib import Path
        from test_publication import _pub, _run
        _run(_pub(Path({str(tmp)!r})), {OLD!r})
    """)
    subprocess.run([sys.executable, "-c", script], check=True, cwd=Path(__file__).resolve().parents[3])
    pub = _pub(tmp_path)
    path = registry.registry_path(pub.data_root)
    raw = path.read_bytes()
    path.write_bytes(raw[: raw.rstrip(b"\n").rfind(b"\n") + 60])  # the end line torn 60 bytes in, no newline
    registry.append_entry(pub.data_root, {"attempt_id": "zzz", "status": "failed", "date": DAY.isoformat(),
                                          "run_id": NEW, "exit_code": 2})
    rows = {a["attempt_id"]: a for a in registry.attempts(pub.data_root)}
    assert rows["zzz"]["status"] == "failed"
    assert registry.mark_killed(pub.data_root, DAY.isoformat()) == []
    mine = [a for a in registry.attempts(pub.data_root) if a.get("run_id") == OLD]
    assert [a["status"] for a in mine] == ["succeeded"]


def test_readers_show_a_dead_started_attempt_as_killed_without_writing(tmp_path):
    from minutes_live.runs import catalog

    pub = _pub(tmp_path)
    _run(pub, OLD)
    registry.append_entry(pub.data_root, {"attempt_id": "dead1", "status": "started", "job": "afternoon",
                                          "date": DAY.isoformat(), "run_id": NEW, "pid": _dead_pid(),
                                          "host": registry.socket.gethostname()})
    before = registry.registry_path(pub.data_root).read_bytes()
    info = {i.run_id: i for i in catalog.list_runs(DAY, pub.roots, pub.data_root)}
    assert info[NEW].status == "killed"
    assert registry.registry_path(pub.data_root).read_bytes() == before


# ------------------------------------------------------------------------------------ 7: journal paths
def test_a_planted_journal_never_touches_anything_outside_the_roots(tmp_path, caplog):
    pub = _pub(tmp_path)
    _run(pub, OLD)
    victim = tmp_path / "elsewhere" / "precious"
    victim.mkdir(parents=True)
    (victim / "keep.txt").write_text("mine")
    journal = {"run_id": NEW, "pid": _dead_pid(), "moves": [
        {"kind": "features", "staged": str(tmp_path / "elsewhere" / "gone"), "final": str(victim), "old": None}]}
    (pub.dir / "journal.json").write_text(json.dumps(journal))
    with caplog.at_level(logging.WARNING):
        pub.recover()
    assert (victim / "keep.txt").read_text() == "mine"
    assert not (pub.dir / "journal.json").exists()
    assert list(pub.dir.glob("journal.json.damaged-*"))
    assert "journal.json" in caplog.text
    _served_consistently(pub, OLD)


def test_a_data_tree_moved_with_a_pending_journal_is_rolled_back_where_it_now_is(tmp_path, sigkill_at):
    first = tmp_path / "first"
    pub = _pub(first)
    _run(pub, OLD, content="old")
    _kill_at(sigkill_at, first, "publish:scores", OLD, replace=True)
    journal = json.loads((pub.dir / "journal.json").read_text())
    assert not any(os.path.isabs(str(m[k])) for m in journal["moves"] for k in ("staged", "final", "old") if m[k])
    moved = tmp_path / "restored"
    shutil.move(first, moved)
    pub = _pub(moved)
    pub.recover()
    _served_consistently(pub, OLD)
    for kind, name in (("features", "features.parquet"), ("scores", "minutes.parquet"), ("reports", "team_minutes.csv")):
        assert (pub.run_dir(kind, OLD) / name).read_text() == "old"


# ---------------------------------------------------------------------------------- 14: control files
@pytest.mark.parametrize("content", ['{"run_id": "20220115T230000Z", "pid": "abc", "moves": []}', "garbage{", "[1]",
                                     '{"run_id": "20220115T230000Z", "pid": 1, "moves": "x"}'])
def test_a_damaged_journal_is_quarantined_with_a_warning(tmp_path, caplog, content):
    pub = _pub(tmp_path)
    _run(pub, OLD)
    (pub.dir / "journal.json").write_text(content)
    with caplog.at_level(logging.WARNING):
        _run(pub, NEW)
    assert not (pub.dir / "journal.json").exists()
    (kept,) = pub.dir.glob("journal.json.damaged-*")
    assert kept.read_text() == content
    assert "journal.json" in caplog.text
    _served_consistently(pub, NEW)


def test_a_pin_without_run_id_is_named_and_unpin_repairs_it(tmp_path, caplog):
    from minutes_live.runs import catalog

    pub = _pub(tmp_path)
    _run(pub, OLD)
    (pub.dir / "pinned.json").write_text('{"reason": "no id"}')
    with caplog.at_level(logging.WARNING):
        assert [i.run_id for i in catalog.list_runs(DAY, pub.roots, pub.data_root)] == [OLD]
    assert "pinned.json" in caplog.text
    with pytest.raises(DamagedStateError, match="pinned.json") as err:
        _run(pub, NEW)
    assert describe(err.value)[0] == 16
    assert _latest(pub) == dict.fromkeys(KINDS, OLD)
    pub.unpin()  # the operator's repair
    _run(pub, "20220115T233000Z")
    _served_consistently(pub, "20220115T233000Z")


def test_a_lock_path_that_is_a_folder_is_named(tmp_path):
    pub = _pub(tmp_path)
    _run(pub, OLD)
    (pub.dir / "lock").unlink(missing_ok=True)
    (pub.dir / "lock").mkdir()
    with pytest.raises(DamagedStateError, match="lock") as err:
        pub.unpin()
    assert describe(err.value)[0] == 16
    assert "\n" not in str(err.value)


# ----------------------------------------------------------------------------------------- 18: roots
@pytest.mark.parametrize("content", ['{"features": "../../../outside", "scores": "x"}', "[]", "{broken",
                                     '{"features": 3}'])
def test_a_corrupted_roots_file_refuses_and_creates_nothing_outside(tmp_path, monkeypatch, content):
    pub = _pub(tmp_path / "tree")
    _run(pub, OLD)
    (pub.dir / "roots.json").write_text(content)
    monkeypatch.chdir(tmp_path)
    before = sorted(p for p in tmp_path.rglob("*"))
    with pytest.raises(DamagedStateError, match="roots.json") as err:
        pub.unpin()
    assert describe(err.value)[0] == 16
    assert sorted(p for p in tmp_path.rglob("*") if not p.name.startswith(".") and p.name != "lock") == \
        [p for p in before if not p.name.startswith(".") and p.name != "lock"]
    assert not (tmp_path / "outside").exists() and not (tmp_path / "x").exists()


# -------------------------------------------------------------------------------- 13: pin on nothing
def test_pin_and_unpin_of_a_date_never_published_are_refused_and_write_nothing(tmp_path):
    pub = _pub(tmp_path)
    with pytest.raises(PublicationError, match="nothing is published"):
        pub.pin(OLD)
    with pytest.raises(PublicationError, match="nothing is published"):
        pub.unpin()
    assert not (tmp_path / "features").exists() and not (tmp_path / "scores").exists()


# ------------------------------------------------------------------------- 11: a run folder deleted by hand
@pytest.mark.parametrize("kind", KINDS)
def test_a_served_run_deleted_by_hand_moves_every_pointer_to_one_run(tmp_path, kind):
    pub = _pub(tmp_path)
    _run(pub, OLD)
    _run(pub, NEW)
    shutil.rmtree(pub.run_dir(kind, NEW))
    pub.recover()  # the next command touching the date
    latest = _latest(pub)
    if kind == "reports":  # features and scores of NEW are whole: reports of the one complete run
        assert latest["features"] == latest["scores"] == NEW
    else:
        _served_consistently(pub, OLD)


@pytest.mark.parametrize("kind", KINDS)
def test_a_pinned_run_deleted_by_hand_leaves_no_dangling_latest(tmp_path, kind, caplog):
    pub = _pub(tmp_path)
    _run(pub, OLD)
    _run(pub, NEW)
    pub.pin(OLD, reason="check")
    shutil.rmtree(pub.run_dir(kind, OLD))
    with caplog.at_level(logging.WARNING):
        pub.recover()
    latest = _latest(pub)
    assert all(latest.values()), latest  # no dangling `latest`
    for k in KINDS:
        assert (pub.roots.root(k) / DAY.isoformat() / "latest").resolve().is_file()
    if kind != "reports":
        _served_consistently(pub, NEW)
        assert "pinned" in caplog.text


# ----------------------------------------------------------------------------------------- 12: drift
def test_a_non_finite_drift_record_is_never_written_and_never_breaks_a_reader(tmp_path, caplog):
    from minutes_live.dashboard import drift
    from minutes_live.pipeline.job import append_drift

    data = tmp_path / "data"
    append_drift(data, {"date": "2022-01-14", "rows": 10, "mae_p50": 4.0, "mae_p50_played": 5.0, "coverage_p10_p90": 0.8})
    append_drift(data, {"date": "2022-01-15", "rows": 10, "mae_p50": float("nan"), "mae_p50_played": 5.0,
                        "coverage_p10_p90": 0.8})
    text = drift.drift_path(data).read_text()
    assert "NaN" not in text and len(text.splitlines()) == 2
    with open(drift.drift_path(data), "a") as fh:  # an older writer's line
        fh.write('{"date": "2022-01-16", "mae_p50": NaN, "coverage_p10_p90": Infinity}\n')
        fh.write('{"date": "2022-01-17", "mae_p50": 1e999, "coverage_p10_p90": 0.8}\n')
        fh.write("[]\n")
    with caplog.at_level(logging.WARNING):
        summary = drift.summary(data)
    assert [r["date"] for r in summary["records"]] == ["2022-01-14"]
    assert "drift.jsonl" in caplog.text
    json.dumps(summary, allow_nan=False)
    drift.chart_svg(summary["records"])


def test_a_dashboard_page_survives_a_non_finite_drift_line(tmp_path):
    from minutes_live.dashboard.model import build_page

    pub = _pub(tmp_path)
    _run(pub, OLD)
    path = pub.data_root / "registry" / "drift.jsonl"
    path.write_text('{"date": "2022-01-14", "mae_p50": NaN, "mae_p50_played": 1.0, "coverage_p10_p90": 0.8}\n')
    page = build_page(DAY, roots=pub.roots, data_root=pub.data_root)
    json.dumps(page["drift"], allow_nan=False)


def test_attempts_of_other_dates_survive_a_bad_run_id_type(tmp_path):
    pub = _pub(tmp_path)
    registry.append_entry(pub.data_root, {"attempt_id": "bad", "status": "failed", "date": "2022-01-14",
                                          "run_id": 12345})
    _run(pub, OLD)
    assert [a["run_id"] for a in registry.attempts(pub.data_root)] == [OLD]
    assert rd.latest_run_id(pub.roots.features, DAY) == OLD
    assert _as_of(OLD)


# ----------------------------------------------------------------------------------- the store lock
@pytest.mark.parametrize("which", ["store.lock", "store.holder.json"])
def test_a_store_lock_path_that_is_a_folder_is_named(tmp_path, which):
    from foundation.locks import store_lock

    (tmp_path / ".locks" / which).mkdir(parents=True)
    with pytest.raises(DamagedStateError, match=which) as err:
        with store_lock(tmp_path, timeout=0):
            pass
    assert describe(err.value)[0] == 16


def test_a_garbage_lock_holder_is_reported_as_unknown(tmp_path):
    from foundation.guardrails import LockBusyError
    from foundation.locks import store_lock

    root = str(Path(__file__).resolve().parents[3])
    holder = (f"import sys, time; sys.path.insert(0, {root!r}); from pathlib import Path; "
              "from foundation.locks import store_lock\n"
              f"with store_lock(Path({str(tmp_path)!r}), timeout=0):\n    print('held', flush=True); time.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        (tmp_path / ".locks" / "store.holder.json").write_bytes(b"\xff\xfe garbage")
        with pytest.raises(LockBusyError, match="store.lock"):
            with store_lock(tmp_path, timeout=0):
                pass
    finally:
        proc.kill()
        proc.wait()


def test_pin_and_unpin_of_a_date_never_published_map_to_exit_2(tmp_path):
    """The refusal is an InvalidInput (exit 2 through foundation.errors), so a command boundary prints one line."""
    pub = _pub(tmp_path)
    for call in (pub.unpin, lambda: pub.pin(OLD)):
        with pytest.raises(PublicationError) as err:
            call()
        code, line = describe(err.value)
        assert code == 2 and "nothing is published" in line and "\n" not in line


def test_an_older_journal_with_absolute_paths_inside_the_date_still_recovers(tmp_path, sigkill_at):
    pub = _pub(tmp_path)
    _run(pub, OLD, content="old")
    _kill_at(sigkill_at, tmp_path, "publish:scores", OLD, replace=True)
    journal = json.loads((pub.dir / "journal.json").read_text())
    for m in journal["moves"]:  # as the previous code wrote it
        for key in ("staged", "final", "old"):
            if m[key]:
                m[key] = str(pub.date_dir(m["kind"]) / m[key])
    (pub.dir / "journal.json").write_text(json.dumps(journal))
    pub.recover()
    _served_consistently(pub, OLD)
    assert (pub.run_dir("scores", OLD) / "minutes.parquet").read_text() == "old"
