"""Publication of runs: one pointer per date, the `latest` rule, pins, and recovery after a SIGKILL at each
publish step (real processes, real renames; the job-level kills are in test_run_lifecycle.py)."""

from __future__ import annotations

import json
import os
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from foundation import registry
from foundation import run_directory as rd
from foundation.guardrails import RunExistsError
from foundation.lifecycle import run_attempt
from foundation.publication import (
    KINDS,
    Publication,
    PublicationError,
    Roots,
    RootsMismatchError,
    sha256_file,
)

DAY = date(2022, 1, 15)
ROOT = Path(__file__).resolve().parents[3]


def _pub(tmp_path: Path) -> Publication:
    roots = Roots(tmp_path / "features", tmp_path / "scores", tmp_path / "reports")
    return Publication(roots, DAY, tmp_path / "data")


def _as_of(run_id: str) -> datetime:
    return datetime.strptime(run_id, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def _write(run, kinds=KINDS, content: str = "x") -> None:
    if "features" in kinds:
        d = run.stage("features")
        (d / "features.parquet").write_text(content)
        (d / "summary.json").write_text(json.dumps({"run_id": run.run_id, "features_sha256": sha256_file(d / "features.parquet")}))
    if "scores" in kinds:
        d = run.stage("scores")
        (d / "minutes.parquet").write_text(content)
        sha = sha256_file(run.staged["features"] / "features.parquet") if "features" in run.staged else "unknown"
        (d / "summary.json").write_text(json.dumps({"run_id": run.run_id, "features_sha256": sha}))
    if "reports" in kinds:
        (run.stage("reports") / "team_minutes.csv").write_text(content)


def _run(pub: Publication, run_id: str, kinds=KINDS, content: str = "x", replace: bool = False):
    with run_attempt(pub, job="test", run_as_of_ts=_as_of(run_id), kinds=kinds, replace=replace) as run:
        _write(run, kinds, content)
        outcome = run.publish()
    return outcome


def _latest(pub: Publication) -> dict:
    return {k: rd.latest_run_id(pub.roots.root(k), DAY) for k in KINDS}


def test_publish_moves_every_latest_at_once(tmp_path):
    pub = _pub(tmp_path)
    outcome = _run(pub, "20220115T220000Z")
    assert outcome.moved_latest
    assert _latest(pub) == dict.fromkeys(KINDS, "20220115T220000Z")
    # every root's `latest` resolves through the same pointer: one rename moved them all
    targets = {os.path.realpath(pub.roots.root(k) / DAY.isoformat() / "latest") for k in KINDS}
    assert {Path(t).parent for t in targets} == {(pub.dir / "current").resolve()}
    entries = registry.attempts(pub.data_root)
    assert [e["status"] for e in entries] == ["succeeded"]


def test_older_instant_is_published_but_latest_stays_on_the_newest(tmp_path):
    pub = _pub(tmp_path)
    _run(pub, "20220115T224500Z")
    outcome = _run(pub, "20220115T224000Z")
    assert not outcome.moved_latest and "latest stays on 20220115T224500Z" in outcome.describe(DAY)
    assert _latest(pub) == dict.fromkeys(KINDS, "20220115T224500Z")
    assert pub.run_dir("scores", "20220115T224000Z").is_dir()


def test_a_features_only_run_never_becomes_the_scores_latest(tmp_path):
    pub = _pub(tmp_path)
    _run(pub, "20220115T220000Z")
    _run(pub, "20220115T230000Z", kinds=("features",))  # a standalone build: nobody scored it
    assert _latest(pub) == {"features": "20220115T230000Z", "scores": "20220115T220000Z", "reports": "20220115T220000Z"}
    pub.pin("20220115T220000Z")
    pub.unpin()  # the same rule after unpin: scores stay on the newest *scored* run
    assert _latest(pub)["scores"] == "20220115T220000Z"


def test_scores_of_replaced_features_are_not_served(tmp_path):
    pub = _pub(tmp_path)
    _run(pub, "20220115T200000Z")
    _run(pub, "20220115T220000Z")
    _run(pub, "20220115T220000Z", kinds=("features",), content="rebuilt differently", replace=True)
    # the 22:00 scores were scored from other bytes: scores `latest` falls back to a consistent run
    assert _latest(pub)["features"] == "20220115T220000Z"
    assert _latest(pub)["scores"] == "20220115T200000Z"


def test_pin_holds_and_unpin_takes_the_newest_complete_run(tmp_path):
    pub = _pub(tmp_path)
    _run(pub, "20220115T150000Z")
    _run(pub, "20220115T220000Z")
    pub.pin("20220115T150000Z", reason="bad odds feed")
    outcome = _run(pub, "20220115T230000Z")
    assert not outcome.moved_latest
    assert _latest(pub) == dict.fromkeys(KINDS, "20220115T150000Z")
    assert pub.unpin() == dict.fromkeys(KINDS, "20220115T230000Z")
    with pytest.raises(PublicationError, match="no complete"):
        pub.pin("20220115T170000Z")
    with pytest.raises(rd.RunDirectoryError, match="invalid run id"):
        pub.pin("../../etc")


def test_existing_run_is_refused_unless_replace_and_failure_leaves_nothing(tmp_path):
    pub = _pub(tmp_path)
    _run(pub, "20220115T220000Z", content="first")
    for _ in range(2):  # a refused rerun does not make the next one a silent replace
        with pytest.raises(RunExistsError, match="already exists"):
            _run(pub, "20220115T220000Z", content="second")
    _run(pub, "20220115T220000Z", content="second", replace=True)
    assert (pub.run_dir("scores", "20220115T220000Z") / "minutes.parquet").read_text() == "second"
    with pytest.raises(RuntimeError, match="boom"):
        with run_attempt(pub, job="test", run_as_of_ts=_as_of("20220115T230000Z"), kinds=KINDS) as run:
            _write(run)
            raise RuntimeError("boom")
    assert not any(pub.run_dir(k, "20220115T230000Z").exists() for k in KINDS)
    assert not [p for k in KINDS for p in pub.date_dir(k).iterdir() if p.name.startswith(".tmp-run=")]
    # the failed attempt does not block its rerun, and the registry says what happened
    _run(pub, "20220115T230000Z")
    statuses = [(a["run_id"], a["status"], a.get("exit_code")) for a in registry.attempts(pub.data_root)]
    assert statuses[-3:] == [("20220115T220000Z", "succeeded", 0), ("20220115T230000Z", "failed", 1),
                             ("20220115T230000Z", "succeeded", 0)]
    failed = registry.attempts(pub.data_root)[-2]
    assert failed["error"] == "RuntimeError: boom"


def _kill_at(sigkill_at, tmp_path: Path, boundary: str, run_id: str, replace: bool = False) -> None:
    """Run a real publishing process that pauses at `boundary`, then SIGKILL it there."""
    marker = tmp_path / f"paused-{boundary.replace(':', '_')}"
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from pathlib import Path
        from test_publication import _pub, _run
        _run(_pub(Path({str(tmp_path)!r})), {run_id!r}, content="new", replace={replace})
    """)
    sigkill_at(script, boundary, marker)


@pytest.mark.parametrize("boundary", ["publish:features", "publish:scores", "publish:reports", "publish:pointer"])
def test_sigkill_between_publish_steps(tmp_path, boundary, sigkill_at):
    pub = _pub(tmp_path)
    _run(pub, "20220115T220000Z", content="old")
    _kill_at(sigkill_at, tmp_path, boundary, "20220115T230000Z")
    # right after the kill, before anyone recovers: both pointers name one complete run
    latest = _latest(pub)
    assert len(set(latest.values())) == 1
    (served,) = set(latest.values())
    assert all(pub.is_complete(k, served) for k in KINDS)
    # the next command touching the date recovers: journal resolved, temp folders gone, attempt killed
    notes = pub.recover()
    assert not (pub.dir / "journal.json").exists()
    assert not [p for k in KINDS for p in pub.date_dir(k).iterdir() if p.name.startswith((".tmp-run=", ".old-run="))]
    latest = _latest(pub)
    assert len(set(latest.values())) == 1
    killed = [a for a in registry.attempts(pub.data_root) if a["status"] == "killed"]
    assert len(killed) == 1 and killed[0]["run_id"] == "20220115T230000Z" and "killed" in killed[0]["error"]
    assert any("marked killed" in n for n in notes)
    if boundary in ("publish:reports", "publish:pointer"):  # every directory was in place: completed
        assert latest["scores"] == "20220115T230000Z"
    else:  # rolled back: the new run's directories are gone
        assert latest["scores"] == "20220115T220000Z"
        assert not any(pub.run_dir(k, "20220115T230000Z").exists() for k in KINDS)
    # the rerun succeeds without --replace (a killed attempt never blocks its own rerun)
    _run(pub, "20220115T230000Z", content="rerun")
    assert _latest(pub) == dict.fromkeys(KINDS, "20220115T230000Z")
    assert (pub.run_dir("scores", "20220115T230000Z") / "minutes.parquet").read_text() == "rerun"


def test_sigkill_during_replace_restores_the_old_run(tmp_path, sigkill_at):
    pub = _pub(tmp_path)
    _run(pub, "20220115T220000Z", content="old")
    _kill_at(sigkill_at, tmp_path, "publish:scores", "20220115T220000Z", replace=True)
    pub.recover()
    assert _latest(pub) == dict.fromkeys(KINDS, "20220115T220000Z")
    for kind, name in (("features", "features.parquet"), ("scores", "minutes.parquet"), ("reports", "team_minutes.csv")):
        assert (pub.run_dir(kind, "20220115T220000Z") / name).read_text() == "old"


def test_a_date_publishes_one_set_of_roots(tmp_path):
    pub = _pub(tmp_path)
    _run(pub, "20220115T220000Z")
    elsewhere = Publication(Roots(pub.roots.features, tmp_path / "other_scores", pub.roots.reports), DAY, pub.data_root)
    with pytest.raises(RootsMismatchError, match="other_scores"):
        _run(elsewhere, "20220115T230000Z", kinds=("scores",))
    assert _latest(pub) == dict.fromkeys(KINDS, "20220115T220000Z")


def test_a_features_only_build_does_not_claim_the_scores_root(tmp_path):
    """A standalone build under its own --out-root must not take over the scores root's `latest` of that date."""
    scores = tmp_path / "scores"
    sandbox = Publication(Roots(tmp_path / "sandbox_features", scores, tmp_path / "reports"), DAY, tmp_path / "data")
    _run(sandbox, "20220115T220000Z", kinds=("features",))
    assert rd.latest_run_id(sandbox.roots.features, DAY) == "20220115T220000Z"
    assert not (scores / DAY.isoformat() / "latest").is_symlink()
    production = _pub(tmp_path)  # same scores root, its own features root: publishes normally
    _run(production, "20220115T230000Z")
    assert _latest(production) == dict.fromkeys(KINDS, "20220115T230000Z")
