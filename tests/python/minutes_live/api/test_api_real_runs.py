"""The read API over two real jobs of the synthetic league (dbt, scoring, reports, publication): every row's
provenance names extracts that exist, with their real sha256; as_of between the two runs names the first;
the diff is `minutes-live runs diff`'s; the worlds are the run's scenarios.parquet; every answer is what its
response schema says."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pandas as pd
import pytest
import requests

from foundation import run_directory as rd
from foundation import settings
from foundation.publication import Roots
from minutes_live.pipeline.live_build import LiveBuildConfig

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_jobs(world):
    from minutes_live.pipeline.job import run_job

    ids = []
    for as_of in (world["as_of"] - timedelta(hours=3), world["as_of"]):
        cfg = LiveBuildConfig(day=world["day"], run_as_of_ts=as_of, source="none", allow_missing_odds=True)
        run_job(cfg, job="afternoon", bundle_config=world["config"])
        ids.append(rd.run_id_for(as_of))
    return {**world, "runs": ids}


@pytest.fixture
def api(two_jobs, monkeypatch):
    from minutes_live.api.server import make_server

    for k, v in two_jobs["env"].items():
        monkeypatch.setenv(k, v)
    srv = make_server("127.0.0.1", 0, quiet=True, timeout=5.0).start()
    try:
        yield {**two_jobs, "url": srv.url().rstrip("/")}
    finally:
        srv.shutdown()
        srv.server_close()


def _ok(api, path: str) -> dict:
    r = requests.get(api["url"] + path, timeout=60)
    assert r.status_code == 200, (path, r.text)
    return r.json()


def test_rows_name_real_extracts_with_their_sha256(api):
    day = api["day"].isoformat()
    out = _ok(api, f"/v1/slates/{day}/projections")
    assert out["selected"]["run_id"] == api["runs"][1] and out["provenance_note"] is None
    data_root = settings.data_root()
    seen: dict[str, set] = {}
    for row in out["rows"]:
        prov = row["provenance"]
        assert prov["run_id"] == api["runs"][1] and prov["bundle_id"] == "test_bundle"
        assert prov["code_version"]
        for kind in ("injuries", "roster"):
            entry = prov["inputs"][kind]
            assert entry["snapshot_ts"] and entry["extract_sha256"], (kind, row["player_name"], entry)
            seen.setdefault(kind, set()).add((entry["extract"], entry["extract_sha256"]))
    for files in seen.values():
        for extract, sha in files:
            path = data_root / extract
            assert path.is_file(), path
            assert hashlib.sha256(path.read_bytes()).hexdigest() == sha, path
    # the snapshot a row names is no later than the run's instant (the one time rule)
    as_of = pd.Timestamp(out["selected"]["run_as_of_ts"])
    assert all(pd.Timestamp(r["provenance"]["inputs"]["roster"]["snapshot_ts"]) <= as_of for r in out["rows"])


def test_as_of_diff_and_worlds_on_real_runs(api):
    from minutes_live.runs.diff import diff_runs

    day, (older, newer) = api["day"], api["runs"]
    between = pd.to_datetime(older, format="%Y%m%dT%H%M%SZ", utc=True) + pd.Timedelta(hours=1)  # runs are 3 h apart
    picked = _ok(api, f"/v1/slates/{day}/projections?as_of={between.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    assert picked["selected"]["run_id"] == older
    diff = _ok(api, f"/v1/slates/{day}/diff?from={older}&to={newer}&min_delta=0.5")
    expected = diff_runs(day, older, newer, min_delta=0.5)
    assert [r["player_id"] for r in diff["rows"]] == [int(p) for p in expected["player_id"]]
    worlds = _ok(api, f"/v1/slates/{day}/scenarios")
    frame = pd.read_parquet(Roots.default().scores / day.isoformat() / f"run={newer}" / "scenarios.parquet")
    assert worlds["count"] == frame.groupby(["game_id", "team_id", "gtd_player_id"]).ngroups > 0
    team = worlds["decisions"][0]["team_tricode"]
    rows = _ok(api, f"/v1/slates/{day}/projections?team={team}")["rows"]
    assert rows and {r["team_tricode"] for r in rows} == {team}


def test_real_answers_validate_against_the_schemas(api):
    """The full scores of a real job (every column of views.ROW_COLUMNS, real worlds, real reasons) against the
    models /openapi.json publishes (minutes_live.api.schemas), strictly."""
    from minutes_live.api import schemas

    day, (older, newer) = api["day"], api["runs"]
    for path, model in ((f"/v1/slates/{day}/projections", schemas.Projections),
                        (f"/v1/slates/{day}/projections?run={older}", schemas.Projections),
                        (f"/v1/slates/{day}/runs", schemas.Runs),
                        (f"/v1/slates/{day}/diff?from={older}&to={newer}&min_delta=0.5", schemas.Diff),
                        (f"/v1/slates/{day}/scenarios", schemas.Scenarios)):
        model.model_validate(_ok(api, path), strict=True)
    row = schemas.Projections.model_validate(_ok(api, f"/v1/slates/{day}/projections"), strict=True).rows[0]
    assert row.minutes_p90 is not None and row.tip_ts is not None and row.is_starter is not None
