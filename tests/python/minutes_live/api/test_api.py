"""The read API on a real uvicorn server and real sockets, with runs published through the real lifecycle
(foundation.lifecycle.run_attempt, foundation.publication) from small files: which run each question names
(latest, as_of between two runs, served_at across a pin and an unpin), the provenance of each row, the
filters, the errors a consumer sees, the event stream, the offline docs, and the write routes' token."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
import requests

from foundation.guardrails import InvalidInput
from foundation.lifecycle import run_attempt
from foundation.publication import KINDS, Publication, Roots, sha256_file

DAY = date(2022, 1, 15)
RUNS = ("20220115T220000Z", "20220115T230000Z")
GAME, PLAYERS = 2022011501, ((10, 1, "BOS", "Al"), (11, 1, "BOS", "Bo"), (20, 2, "MIA", "Cy"))


@pytest.fixture
def env(tmp_path, monkeypatch):
    values = {"MINUTES_LIVE_DATA_ROOT": str(tmp_path / "data"), "MINUTES_LIVE_ARTIFACTS": str(tmp_path / "artifacts"),
              "MINUTES_LIVE_REPORTS": str(tmp_path / "reports"), "MINUTES_LIVE_DUCKDB": str(tmp_path / "wh.duckdb")}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


def _ts(run_id: str, minutes_before: int = 0) -> pd.Timestamp:
    return pd.Timestamp(datetime.strptime(run_id, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)) - timedelta(minutes=minutes_before)


def _publish(run_id: str, *, inputs: bool = True, p50: float = 20.0) -> None:
    """A complete run of DAY: features (each player's snapshot per kind; Cy is on no injury report, so his
    injuries snapshot is his game's), coverage, scores with minutes and two worlds of a decision, reports."""
    as_of = datetime.strptime(run_id, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    inj, odds, roster = _ts(run_id, 30), _ts(run_id, 60), _ts(run_id, 600)
    with run_attempt(Publication(Roots.default(), DAY), job="test", run_as_of_ts=as_of, kinds=KINDS) as run:
        d = run.stage("features")
        feats = pd.DataFrame({"game_id": GAME, "player_id": [p[0] for p in PLAYERS], "team_id": [p[1] for p in PLAYERS],
                              "injury_as_of_ts": [inj, inj, pd.NaT], "odds_as_of_ts": odds, "roster_as_of_ts": roster})
        feats.to_parquet(d / "features.parquet", index=False)
        pd.DataFrame({"game_id": [GAME], "injuries_snapshot_ts": [inj], "odds_snapshot_ts": [odds],
                      "roster_snapshot_ts": [roster]}).to_csv(d / "coverage.csv", index=False)
        sha = sha256_file(d / "features.parquet")
        recorded = {kind: [{"snapshot_ts": ts.isoformat(), "extract": f"{kind}/2022-01-15/run=x/{kind}.json",
                            "sha256": f"{kind[:3]}{run_id}", "ingest_run_id": run_id}]
                    for kind, ts in (("injuries", inj), ("odds", odds), ("roster", roster))}
        summary = {"run_id": run_id, "features_sha256": sha, "run_as_of_ts": as_of.isoformat(),
                   "code_version": "git:abc", "dataset": "live"}
        if inputs:
            summary["inputs"] = recorded
        (d / "summary.json").write_text(json.dumps(summary))
        s = run.stage("scores")
        pd.DataFrame({"game_id": GAME, "player_id": [p[0] for p in PLAYERS], "team_id": [p[1] for p in PLAYERS],
                      "team_tricode": [p[2] for p in PLAYERS], "player_name": [p[3] for p in PLAYERS],
                      "status": "AVAILABLE", "play_prob": 1.0, "minutes_p50": p50, "minutes_mean": p50,
                      "run_id": run_id}
                     ).to_parquet(s / "minutes.parquet", index=False)
        pd.DataFrame({"game_id": GAME, "team_id": 1, "team_tricode": "BOS", "gtd_player_id": 10, "gtd_player_name": "Al",
                      "gtd_status": "QUESTIONABLE", "world": ["sits", "sits", "plays", "plays"],
                      "world_prob": [0.4, 0.4, 0.6, 0.6], "player_id": [10, 11, 10, 11], "player_name": ["Al", "Bo"] * 2,
                      "minutes_mean": [0.0, 30.0, 25.0, 22.0], "minutes_p50": [0.0, 30.0, 25.0, 22.0]}
                     ).to_parquet(s / "scenarios.parquet", index=False)
        (s / "summary.json").write_text(json.dumps({"run_id": run_id, "features_sha256": sha,
                                                    "bundle": {"bundle_id": "b1", "git_commit": "abc"}}))
        (run.stage("reports") / "team_minutes.csv").write_text("x\n")
        run.publish()


@pytest.fixture
def api(env):
    from minutes_live.api.server import make_server

    srv = make_server("127.0.0.1", 0, quiet=True, timeout=5.0).start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def _get(srv, path: str, **kw) -> requests.Response:
    return requests.get(srv.url().rstrip("/") + path, timeout=10, **kw)


def _ok(srv, path: str) -> dict:
    r = _get(srv, path)
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r.json()


def _utc(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _after_a_second() -> datetime:
    """An instant strictly after now at the API's one-second resolution, then wait for it to pass."""
    at = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0)
    time.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()) + 0.05)
    return at


def _pin(srv, path: str, body: dict, headers: dict | None = None) -> requests.Response:
    return requests.post(srv.url().rstrip("/") + path, data=json.dumps(body), timeout=10,
                         headers={"Content-Type": "application/json", **(headers or {})})


# ---------------------------------------------------------------------------------------- which run


def test_latest_and_as_of_between_two_runs(api):
    for run_id, p50 in zip(RUNS, (20.0, 24.0), strict=True):
        _publish(run_id, p50=p50)
    latest = _ok(api, "/v1/slates/2022-01-15/projections")
    assert latest["selected"]["run_id"] == RUNS[1] and latest["selected"]["selected_by"] == "latest"
    assert {r["minutes_p50"] for r in latest["rows"]} == {24.0}
    # between the two runs' instants: the information state at T is the older run
    between = _ok(api, "/v1/slates/2022-01-15/projections?as_of=2022-01-15T22:30:00Z")
    assert between["selected"]["run_id"] == RUNS[0] and {r["minutes_p50"] for r in between["rows"]} == {20.0}
    assert _ok(api, "/v1/slates/2022-01-15/projections?as_of=2022-01-15T23:00:00Z")["selected"]["run_id"] == RUNS[1]
    assert _ok(api, "/v1/slates/2022-01-15/projections?as_of=2022-01-15T18:30:00-05:00")["selected"]["run_id"] == RUNS[1]
    before = _get(api, "/v1/slates/2022-01-15/projections?as_of=2022-01-15T21:59:59Z")
    assert before.status_code == 404 and "run_as_of_ts <=" in before.json()["error"]
    # a pin does not change the information state at T
    assert _pin(api, "/v1/slates/2022-01-15/pin", {"run_id": RUNS[0]},
                {"X-Minutes-Live-Token": api.token}).status_code == 200
    assert _ok(api, "/v1/slates/2022-01-15/projections?as_of=2022-01-15T23:30:00Z")["selected"]["run_id"] == RUNS[1]


def test_served_at_across_a_pin_and_an_unpin(api):
    token = {"X-Minutes-Live-Token": api.token}
    _publish(RUNS[0])
    t_first = _after_a_second()
    _publish(RUNS[1])
    t_second = _after_a_second()
    assert _pin(api, "/v1/slates/2022-01-15/pin", {"run_id": RUNS[0], "reason": "bad odds"}, token).status_code == 200
    t_pinned = _after_a_second()
    assert _pin(api, "/v1/slates/2022-01-15/unpin", {}, token).status_code == 200
    t_unpinned = _after_a_second()

    def served(at: datetime) -> dict:
        return _ok(api, f"/v1/slates/2022-01-15/projections?served_at={_utc(at)}")["selected"]

    assert served(t_first)["run_id"] == RUNS[0]
    assert served(t_second)["run_id"] == RUNS[1]
    pinned = served(t_pinned)
    assert pinned["run_id"] == RUNS[0] and pinned["pinned"] is True and pinned["selected_by"] == "served_at"
    assert served(t_unpinned)["run_id"] == RUNS[1] and served(t_unpinned)["pinned"] is False
    early = _get(api, f"/v1/slates/2022-01-15/projections?served_at={_utc(t_first - timedelta(days=1))}")
    assert early.status_code == 404 and "nothing was served" in early.json()["error"]
    # the runs route shows the same history: four moves of `latest`
    history = _ok(api, "/v1/slates/2022-01-15/runs")["history"]
    assert [h["served"]["scores"] for h in history] == [RUNS[0], RUNS[1], RUNS[0], RUNS[1]]
    assert [h["pinned"] for h in history] == [None, None, RUNS[0], None]


# ------------------------------------------------------------------------------- rows and filters


def test_each_row_carries_its_provenance(api):
    _publish(RUNS[0])
    out = _ok(api, "/v1/slates/2022-01-15/projections")
    assert out["count"] == 3 and out["provenance_note"] is None
    by_player = {r["player_id"]: r["provenance"] for r in out["rows"]}
    al, cy = by_player[10], by_player[20]
    assert al["run_id"] == RUNS[0] and al["bundle_id"] == "b1" and al["code_version"] == "git:abc"
    assert al["inputs"]["injuries"] == {"snapshot_ts": _ts(RUNS[0], 30).isoformat(),
                                        "extract": "injuries/2022-01-15/run=x/injuries.json",
                                        "extract_sha256": f"inj{RUNS[0]}"}
    # Cy is on no injury report: his row names the report his game was covered by
    assert cy["inputs"]["injuries"]["snapshot_ts"] == _ts(RUNS[0], 30).isoformat()
    assert cy["inputs"]["roster"]["extract_sha256"] == f"ros{RUNS[0]}"


def test_a_run_without_recorded_inputs_says_so(api):
    _publish(RUNS[0], inputs=False)
    out = _ok(api, "/v1/slates/2022-01-15/projections")
    assert "not recorded" in out["provenance_note"]
    row = out["rows"][0]["provenance"]["inputs"]["odds"]
    assert row["snapshot_ts"] == _ts(RUNS[0], 60).isoformat() and row["extract_sha256"] is None


def test_team_filter_scenarios_and_diff(api):
    _publish(RUNS[0], p50=20.0)
    _publish(RUNS[1], p50=24.0)
    bos = _ok(api, "/v1/slates/2022-01-15/projections?team=BOS")
    assert bos["count"] == 2 and {r["team_tricode"] for r in bos["rows"]} == {"BOS"}
    assert _ok(api, "/v1/slates/2022-01-15/projections?team=2")["count"] == 1
    worlds = _ok(api, f"/v1/slates/2022-01-15/scenarios?run={RUNS[0]}")
    assert worlds["count"] == 1
    decision = worlds["decisions"][0]
    assert decision["player_name"] == "Al" and {w["world"]: w["world_prob"] for w in decision["worlds"]} == {
        "sits": 0.4, "plays": 0.6}
    assert _ok(api, "/v1/slates/2022-01-15/scenarios?team=MIA")["count"] == 0
    diff = _ok(api, f"/v1/slates/2022-01-15/diff?from={RUNS[0]}&to=latest&min_delta=3")
    assert diff["from"] == RUNS[0] and diff["to"] == RUNS[1] and diff["count"] == 3
    assert all(r["delta"] == 4.0 for r in diff["rows"])


# -------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("path, status, needle", [
    ("/v1/slates/2022-13-45/projections", 400, "date"),
    ("/v1/slates/2022-01-15/projections?as_of=2022-01-15T22:00:00", 400, "no UTC offset"),
    ("/v1/slates/2022-01-15/projections?as_of=2022-01-15T22:00:00Z&served_at=2022-01-15T22:00:00Z", 400, "exclude"),
    ("/v1/slates/2022-01-15/projections?run=../../etc", 400, "run id"),
    ("/v1/slates/2022-01-15/projections?team=bos;drop", 400, "team"),
    ("/v1/slates/2022-01-15/projections?dataset=../live", 400, "dataset"),
    ("/v1/slates/2022-01-15/diff?from=latest&to=latest&min_delta=nan", 400, "min_delta"),
    ("/v1/slates/2022-01-15/diff?from=latest", 400, "to"),
    ("/v1/slates/2022-01-15/projections?run=20220115T100000Z", 404, "no run"),
    ("/v1/nothing", 404, "no route"),
])
def test_errors_are_json_one_liners_with_the_cli_messages(api, path, status, needle):
    _publish(RUNS[0])
    r = _get(api, path)
    assert r.status_code == status, r.text
    body = r.json()
    assert needle in body["error"] and "\n" not in body["error"] and body["exit_code"] == 2, body


def test_slate_filter_without_slates_is_501(api, monkeypatch):
    import sys

    _publish(RUNS[0])
    import minutes_live.runs

    monkeypatch.setitem(sys.modules, "minutes_live.runs.slates", None)  # the import fails, as before slates land
    monkeypatch.delattr(minutes_live.runs, "slates", raising=False)
    r = _get(api, "/v1/slates/2022-01-15/projections?slate=main")
    assert r.status_code == 501 and "slates are not available" in r.json()["error"]
    assert _get(api, "/v1/slates/2022-01-15/projections?slate=Main!").status_code == 400


def _has_slates() -> bool:
    import importlib

    try:
        importlib.import_module("minutes_live.runs.slates")
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _has_slates(), reason="minutes_live.runs.slates is not there yet (slates land separately)")
def test_slate_filter_keeps_the_slates_games(api):
    from minutes_live.runs import slates

    _publish(RUNS[0])
    names = slates.slate_names(DAY)
    assert names, "every date has default slates"
    for name in names:
        try:
            games = {str(g) for g in slates.slate_game_ids(DAY, name, "live")}
        except InvalidInput as exc:  # the module cannot place this date's games: the API says the same
            r = _get(api, f"/v1/slates/2022-01-15/projections?slate={name}")
            assert r.status_code in (400, 404) and str(exc)[:40] in r.json()["error"], r.text
            continue
        out = _ok(api, f"/v1/slates/2022-01-15/projections?slate={name}")
        assert {str(r["game_id"]) for r in out["rows"]} <= games
    unknown = _get(api, "/v1/slates/2022-01-15/projections?slate=no-such-slate")
    assert unknown.status_code in (400, 404) and "no-such-slate" in unknown.json()["error"]


# -------------------------------------------------------------------------------------- security


def test_writes_need_the_token_and_the_same_origin_reads_need_the_host(api):
    _publish(RUNS[0])
    _publish(RUNS[1])
    path = "/v1/slates/2022-01-15/pin"
    assert _pin(api, path, {"run_id": RUNS[0]}).status_code == 403
    assert _pin(api, path, {"run_id": RUNS[0]}, {"X-Minutes-Live-Token": "guess"}).status_code == 403
    assert _pin(api, path, {"run_id": RUNS[0]}, {"X-Minutes-Live-Token": api.token,
                                                  "Origin": "http://evil.example"}).status_code == 403
    r = requests.post(api.url() + "v1/slates/2022-01-15/pin", data="run_id=x", timeout=10,
                      headers={"X-Minutes-Live-Token": api.token, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    assert _ok(api, "/v1/slates/2022-01-15/runs")["served"]["scores"] == RUNS[1]
    port = api.server_address[1]
    r = _get(api, "/v1/slates/2022-01-15/runs", headers={"Host": f"rebind.example:{port}"})
    assert r.status_code == 403 and "Host" in r.json()["error"]
    ok = _pin(api, path, {"run_id": RUNS[0]}, {"X-Minutes-Live-Token": api.token})
    assert ok.status_code == 200 and ok.json()["served"]["scores"] == RUNS[0]


def test_openapi_and_the_docs_page_work_offline(api):
    spec = _ok(api, "/openapi.json")
    for path in ("/v1/slates/{date}/projections", "/v1/slates/{date}/runs", "/v1/slates/{date}/diff",
                 "/v1/slates/{date}/scenarios", "/v1/slates/{date}/events"):
        assert path in spec["paths"], path
    names = {p["name"] for p in spec["paths"]["/v1/slates/{date}/projections"]["get"]["parameters"]}
    assert {"as_of", "served_at", "dataset", "slate", "team"} <= names
    page = _get(api, "/docs")
    assert page.status_code == 200 and "/v1/slates/{date}/projections" in page.text
    lowered = page.text.lower()
    for needle in ("http://", "https://", "<script src", "<link", "url("):
        assert needle not in lowered, needle


# ------------------------------------------------------------------------------ response schemas


READ_ROUTES = {"/v1/health": "Health", "/v1/slates/{date}/projections": "Projections",
               "/v1/slates/{date}/runs": "Runs", "/v1/slates/{date}/diff": "Diff",
               "/v1/slates/{date}/scenarios": "Scenarios"}


def _valid(model, r: requests.Response):
    """A real answer against its model, strictly (JSON types as sent: no "1" for 1, no 1.0 for an int)."""
    return model.model_validate(r.json(), strict=True)


def test_openapi_names_the_body_of_every_read_route(api):
    spec = _ok(api, "/openapi.json")
    schemas = spec["components"]["schemas"]
    for path, name in READ_ROUTES.items():
        responses = spec["paths"][path]["get"]["responses"]
        assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{name}"}
        assert "422" not in responses, path  # a request validation error is answered as a 400
        for status, entry in responses.items():
            if status != "200":
                assert entry["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        assert name in schemas, name
    assert {"400", "404", "409", "default"} <= set(spec["paths"]["/v1/slates/{date}/diff"]["get"]["responses"])
    assert "501" in spec["paths"]["/v1/slates/{date}/projections"]["get"]["responses"]  # slate=
    # nullable where the view writes null, required where it always writes the field
    sha = schemas["InputProvenance"]["properties"]["extract_sha256"]
    assert {"type": "null"} in sha["anyOf"] and "extract_sha256" in schemas["InputProvenance"]["required"]
    assert schemas["Diff"]["required"][:4] == ["date", "dataset", "from", "to"]
    assert set(schemas["Error"]["required"]) == {"error", "exit_code"}
    # the offline docs page shows each answer's body and every schema's fields
    page = _get(api, "/docs").text
    assert '<a href="#schema-Projections">Projections</a>' in page and 'id="schema-InputProvenance"' in page
    assert "<code>extract_sha256</code></td><td>string | null</td>" in page


def test_the_schemas_name_every_column_the_views_copy():
    """Rows copy the columns their parquet has (views.ROW_COLUMNS, SCENARIO_COLUMNS); the fixtures' runs lack
    some, so the models are held to the views' lists here as well."""
    from dataclasses import fields

    from minutes_live.api import schemas, views
    from minutes_live.runs.catalog import RunInfo

    assert set(schemas.ProjectionRow.model_fields) == set(views.ROW_COLUMNS) | {"provenance"}
    assert set(schemas.WorldPlayer.model_fields) == set(views.SCENARIO_COLUMNS)
    assert set(schemas.Inputs.model_fields) == set(views.INPUT_KINDS)
    assert set(schemas.RunEntry.model_fields) == {f.name for f in fields(RunInfo)}


def test_real_answers_validate_against_the_schemas(api):
    from pydantic import ValidationError

    from minutes_live.api import schemas

    _publish(RUNS[0], inputs=False, p50=20.0)  # built before inputs were recorded: extract_sha256 null
    _publish(RUNS[1], p50=24.0)
    assert _pin(api, "/v1/slates/2022-01-15/pin", {"run_id": RUNS[0], "reason": "bad odds"},
                {"X-Minutes-Live-Token": api.token}).status_code == 200
    base = "/v1/slates/2022-01-15"
    _valid(schemas.Health, _get(api, "/v1/health"))
    for query in ("", "?team=BOS", f"?run={RUNS[1]}", "?as_of=2022-01-15T22:30:00Z"):
        out = _valid(schemas.Projections, _get(api, f"{base}/projections{query}"))
        assert out.count == len(out.rows) > 0
    old = _valid(schemas.Projections, _get(api, f"{base}/projections"))  # latest: the pinned old run
    assert old.selected.pinned and old.provenance_note and old.rows[0].provenance.inputs.odds.extract_sha256 is None
    runs = _valid(schemas.Runs, _get(api, f"{base}/runs"))
    assert runs.pinned.run_id == RUNS[0] and len(runs.runs) == 2 and runs.history[-1].pinned == RUNS[0]
    empty = _valid(schemas.Runs, _get(api, "/v1/slates/2022-02-01/runs"))  # a date without runs
    assert empty.runs == [] and empty.pinned is None and set(empty.served.values()) == {None}
    diff = _valid(schemas.Diff, _get(api, f"{base}/diff?from={RUNS[0]}&to={RUNS[1]}&min_delta=3"))
    assert diff.from_ == RUNS[0] and diff.count == 3
    worlds = _valid(schemas.Scenarios, _get(api, f"{base}/scenarios?run={RUNS[1]}"))
    assert {w.world for w in worlds.decisions[0].worlds} == {"sits", "plays"}
    for path, status in ((f"{base}/projections?as_of=noon", 400), (f"{base}/diff?from=latest", 400),
                         (f"{base}/projections?run=20220115T100000Z", 404), ("/v1/slates/2022-02-01/projections", 404)):
        r = _get(api, path)
        assert r.status_code == status and _valid(schemas.Error, r).exit_code == 2, (path, r.text)
    # a field the view adds or renames, or a type it changes, fails the model
    answer = _get(api, f"{base}/projections").json()
    answer["rows"][0]["provenance"]["inputs"]["odds"]["sha256"] = answer["rows"][0]["provenance"]["inputs"]["odds"].pop(
        "extract_sha256")
    with pytest.raises(ValidationError):
        schemas.Projections.model_validate(answer, strict=True)
    with pytest.raises(ValidationError):
        schemas.Scenarios.model_validate({**worlds.model_dump(by_alias=True), "count": "1"}, strict=True)


# -------------------------------------------------------------------------------------- events


def _events(srv, path: str, want: int, timeout: float = 10.0, **kw):
    """The first `want` events (name, data) of a stream."""
    out: list[tuple[str, dict]] = []
    with requests.get(srv.url().rstrip("/") + path, stream=True, timeout=timeout, **kw) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in r.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name:
                out.append((name, json.loads(line[6:])))
                name = None
                if len(out) >= want:
                    return out
    return out


def test_events_announce_publications_and_alerts(api, env):
    import threading

    from foundation import settings

    _publish(RUNS[0])
    alerts = settings.dataset_data_dir("live") / "watch" / "2022-01-15" / "alerts.jsonl"  # the watcher's stream"
    alerts.parent.mkdir(parents=True)
    alerts.write_text(json.dumps({"kind": "old", "message": "before the stream"}) + "\n")
    got: list = []
    reader = threading.Thread(target=lambda: got.extend(_events(api, "/v1/slates/2022-01-15/events", 4)))
    reader.start()
    time.sleep(1.0)
    t0 = time.monotonic()
    _publish(RUNS[1])
    with alerts.open("a") as fh:
        fh.write(json.dumps({"kind": "status_change", "message": "Al: QUESTIONABLE -> OUT"}) + "\n")
    reader.join(timeout=15)
    names = [n for n, _ in got]
    assert names[0] == "hello" and got[0][1]["run_id"] == RUNS[0]
    assert "publication" in names and "alert" in names, got
    assert next(d for n, d in got if n == "publication")["run_id"] == RUNS[1]
    assert [d["kind"] for n, d in got if n == "alert"] == ["status_change"]  # from now on, not the old one
    assert time.monotonic() - t0 < 5
    replay = _events(api, "/v1/slates/2022-01-15/events?alerts=all", 3)
    assert [d.get("kind") for n, d in replay if n == "alert"] == ["old", "status_change"]


def test_the_serve_command_answers_and_stops_on_sigterm(env):
    import os
    import re
    import socket
    import subprocess
    import sys

    from foundation import settings

    _publish(RUNS[0])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-c", "from minutes_live.cli.app import app; app()", "serve",
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=settings.PROJECT_ROOT, env={**os.environ, **env})
    try:
        line = proc.stdout.readline()
        m = re.search(r"serve: serving (http://127\.0\.0\.1:\d+/)\?token=(\S+)", line)
        assert m, line
        assert requests.get(m[1] + "v1/health", timeout=10).json()["ok"] is True
        runs = requests.get(m[1] + "v1/slates/2022-01-15/runs", timeout=10).json()
        assert runs["served"]["scores"] == RUNS[0]
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "serve: stopped" in out


def test_event_streams_are_bounded(api):
    _publish(RUNS[0])
    api.app.state.streams.limit = 1
    path = api.url() + "v1/slates/2022-01-15/events"
    with requests.get(path, stream=True, timeout=10) as first:
        assert first.status_code == 200
        lines = first.iter_lines(chunk_size=1)  # kept: a discarded iterator closes the connection
        assert next(lines) == b"retry: 1000"  # the stream is open
        second = requests.get(path, timeout=10)
        assert second.status_code == 503 and "too many event streams" in second.json()["error"]
    deadline = time.monotonic() + 5  # the slot is given back when the client goes away
    while api.app.state.streams.open and time.monotonic() < deadline:
        time.sleep(0.1)
    assert api.app.state.streams.open == 0
