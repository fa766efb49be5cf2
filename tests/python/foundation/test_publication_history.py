"""The publication history (foundation/publication.py, `history.jsonl`): one line per move of `latest`, none for
a publish that does not move it; a bad line is skipped; a date whose log is missing still has its current
generation (what `minutes-live serve` answers `served_at` from)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from foundation.lifecycle import run_attempt
from foundation.publication import HISTORY, KINDS, Publication, Roots, sha256_file

DAY = date(2022, 1, 15)


@pytest.fixture
def pub(tmp_path, monkeypatch):
    for var, sub in (("MINUTES_LIVE_DATA_ROOT", "data"), ("MINUTES_LIVE_ARTIFACTS", "artifacts"),
                     ("MINUTES_LIVE_REPORTS", "reports")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    return Publication(Roots.default(), DAY)


def _publish(run_id: str) -> None:
    as_of = datetime.strptime(run_id, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    with run_attempt(Publication(Roots.default(), DAY), job="test", run_as_of_ts=as_of, kinds=KINDS) as run:
        d = run.stage("features")
        (d / "features.parquet").write_text(run_id)
        sha = sha256_file(d / "features.parquet")
        (d / "summary.json").write_text(json.dumps({"run_id": run_id, "features_sha256": sha}))
        (run.stage("scores") / "summary.json").write_text(json.dumps({"run_id": run_id, "features_sha256": sha}))
        (run.stage("reports") / "team_minutes.csv").write_text("x\n")
        run.publish()


def test_every_move_of_latest_is_one_line(pub):
    _publish("20220115T230000Z")
    _publish("20220115T220000Z")  # an older instant: latest does not move, no line
    pub.pin("20220115T220000Z", "odds glitch")
    pub.unpin()
    history = pub.history()
    assert [h["served"]["scores"] for h in history] == ["20220115T230000Z", "20220115T220000Z", "20220115T230000Z"]
    assert [h["pinned"] for h in history] == [None, "20220115T220000Z", None]
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)
    assert all(set(h["served"]) == set(KINDS) for h in history)


def test_a_bad_line_is_skipped_and_a_missing_log_keeps_the_current_generation(pub):
    _publish("20220115T230000Z")
    log = pub.dir / HISTORY
    with log.open("a") as fh:
        fh.write('{"at": "yesterday", "served": {}}\n{"torn\n')
    assert [h["served"]["scores"] for h in pub.history()] == ["20220115T230000Z"]
    log.unlink()  # a date published before the log existed
    (only,) = pub.history()
    assert only["served"]["scores"] == "20220115T230000Z" and only["pinned"] is None
    current = json.loads((pub.dir / "current" / "scores.json").read_text())
    assert only["at"] == datetime.fromisoformat(current["published_at"])
