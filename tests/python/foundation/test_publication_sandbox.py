"""A sandbox features build (`build_minutes_live --out-root X`) of a date already published in the default
roots: it writes and serves its own features root and leaves the production pointers alone. It was refused
(`latest ... is served by another publication`): the recovery step before the first publish looked at every
default root, scores included, before the roots were narrowed to the kinds the command writes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from foundation import run_directory as rd
from foundation.lifecycle import run_attempt
from foundation.publication import KINDS, Publication, Roots, sha256_file

DAY = date(2022, 1, 15)


def _run(pub: Publication, run_id: str, kinds=KINDS) -> None:
    as_of = datetime.strptime(run_id, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    with run_attempt(pub, job="test", run_as_of_ts=as_of, kinds=kinds) as run:
        d = run.stage("features")
        (d / "features.parquet").write_text(run_id)
        sha = sha256_file(d / "features.parquet")
        (d / "summary.json").write_text(json.dumps({"run_id": run.run_id, "features_sha256": sha}))
        if "scores" in kinds:
            s = run.stage("scores")
            (s / "minutes.parquet").write_text(run_id)
            (s / "summary.json").write_text(json.dumps({"run_id": run.run_id, "features_sha256": sha}))
        if "reports" in kinds:
            (run.stage("reports") / "team_minutes.csv").write_text(run_id)
        run.publish()


def _latest(roots: Roots) -> dict:
    return {k: rd.latest_run_id(roots.root(k), DAY) for k in KINDS}


def test_sandbox_build_after_production_publication(tmp_path: Path):
    data = tmp_path / "data"
    production = Roots(tmp_path / "features", tmp_path / "scores", tmp_path / "reports")
    _run(Publication(production, DAY, data), "20220115T220000Z")
    before = {k: (production.root(k) / DAY.isoformat() / "latest").resolve() for k in KINDS}

    # what build_live does with --out-root: the default roots with the features root replaced
    sandbox = Roots(tmp_path / "sandbox", production.scores, production.reports)
    _run(Publication(sandbox, DAY, data), "20220115T230000Z", kinds=("features",))

    assert rd.latest_run_id(sandbox.features, DAY) == "20220115T230000Z"
    assert _latest(production) == dict.fromkeys(KINDS, "20220115T220000Z")
    assert {k: (production.root(k) / DAY.isoformat() / "latest").resolve() for k in KINDS} == before
    # the same sandbox build again (the rerun of a date there) is fine too
    _run(Publication(sandbox, DAY, data), "20220115T233000Z", kinds=("features",))
    assert rd.latest_run_id(sandbox.features, DAY) == "20220115T233000Z"
    assert _latest(production) == dict.fromkeys(KINDS, "20220115T220000Z")
