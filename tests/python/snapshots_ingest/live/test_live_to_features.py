"""Live sources end to end: a local HTTP server -> `ingest_live` -> raw tables -> `dbt build` -> live features.

The server plays the league's hosts with the REAL injury report stamped 18:15 ET (23:15 UTC) on
2026-02-08 and small JSON payloads in the real shapes (tests/fixtures/live_e2e/): a schedule with two
games of that report on 2026-02-08 (MIA@WAS, IND@TOR; tip times moved after the stamp, the real games
were afternoon games) and one on 2026-02-09 (CHI@BKN, where the report's questionable players are),
CommonTeamRoster payloads naming some of the report's players plus fictional depth, and an odds feed.
There is no box-score history: the live models must cope with a slate without prior games.
The run is at 23:30 UTC and the fetch clock is pinned just before it: a fetch time after run_as_of_ts
would hide the rosters from the build's as-of rule.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from minutes_live.pipeline.live_build import LiveBuildConfig, build_live
from snapshots_ingest import raw_store
from snapshots_ingest.ingest import IngestError, ingest_live
from snapshots_ingest.live import http_client
from snapshots_ingest.live.http_client import LiveSourceConfig

pytestmark = [pytest.mark.slow]

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
WORLD = FIXTURES / "live_e2e"
REPORT_NAME = "Injury-Report_2026-02-08_06_15PM.pdf"
REPORT = (FIXTURES / "injury_pdfs" / REPORT_NAME).read_bytes()
SLATE = date(2026, 2, 8)
NEXT_DAY = date(2026, 2, 9)
REPORT_TS = datetime(2026, 2, 8, 23, 15, tzinfo=UTC)  # the banner stamp, 18:15 ET
FETCHED_AT = datetime(2026, 2, 8, 23, 25, tzinfo=UTC)
RUN_AS_OF = datetime(2026, 2, 8, 23, 30, tzinfo=UTC)  # first tip 00:30 UTC
TEAM_IDS = {
    "MIA": 1610612748,
    "WAS": 1610612764,
    "IND": 1610612754,
    "TOR": 1610612761,
    "CHI": 1610612741,
    "BKN": 1610612751,
}
SCHEDULE_PATH = "/static/json/staticData/scheduleLeagueV2.json"
INJURY_PATH = "/referee/injury"


class _RunClock(datetime):
    """`datetime` whose now() is the run's fetch time (what the league's hosts would have answered then)."""

    @classmethod
    def now(cls, tz=None):
        return FETCHED_AT if tz is None else FETCHED_AT.astimezone(tz)


def _serve_world(server: HTTPServer, report: bytes | str = REPORT) -> None:
    server.no_handler_status_code = 404  # every other report slot and box score: absent, as on the real hosts
    server.expect_request(f"{INJURY_PATH}/{REPORT_NAME}").respond_with_data(
        report, content_type="application/pdf"
    )
    server.expect_request(SCHEDULE_PATH).respond_with_data(
        (WORLD / "scheduleLeagueV2.json").read_bytes(), content_type="application/json"
    )
    for code, team_id in TEAM_IDS.items():
        server.expect_request(
            "/stats/commonteamroster",
            query_string={"LeagueID": "00", "Season": "2025-26", "TeamID": str(team_id)},
        ).respond_with_data((WORLD / f"roster_{code}.json").read_bytes(), content_type="application/json")
    for day in ("2026-02-08", "2026-02-09"):
        server.expect_request(f"/odds/{day}.json").respond_with_data(
            (WORLD / f"odds_{day}.json").read_bytes(), content_type="application/json"
        )


def _config(server: HTTPServer) -> LiveSourceConfig:
    return LiveSourceConfig(
        injury_report_base_url=server.url_for(INJURY_PATH),
        schedule_url=server.url_for(SCHEDULE_PATH),
        roster_url=server.url_for("/stats/commonteamroster"),
        boxscore_base_url=server.url_for("/static/json/liveData/boxscore"),
        odds_url=server.url_for("/odds/{date}.json"),
        injury_lookback_hours=1.0,
        connect_timeout_s=2.0,
        read_timeout_s=5.0,
        retries=1,
        backoff_factor_s=0.01,
        min_interval_s=0.0,
    )


def _build(paths: dict, day: date):
    cfg = LiveBuildConfig(
        day=day,
        run_as_of_ts=RUN_AS_OF,
        source="none",
        db_path=paths["db"],
        data_root=paths["data"],
        out_root=paths["out"],
    )
    return build_live(cfg)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The 23:30 UTC run, shared by the tests of this module: live ingest and live build of 2026-02-08,
    and of 2026-02-09 (the report's questionable players play that day; the run is the day before)."""
    root = tmp_path_factory.mktemp("live_e2e")
    paths = {"root": root, "db": root / "wh.duckdb", "data": root / "data", "out": root / "features"}
    server = HTTPServer()
    server.start()
    try:
        _serve_world(server)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(http_client, "datetime", _RunClock)
            kw = {"db_path": paths["db"], "data_root": paths["data"], "config": _config(server)}
            summary = ingest_live(SLATE, RUN_AS_OF, **kw)
            requests = [req.path for req, _ in server.log]
            ingest_live(NEXT_DAY, RUN_AS_OF, **kw)
    finally:
        server.clear()
        server.stop()
    con = duckdb.connect(str(paths["db"]), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        injuries = con.execute("select * from raw.injuries where game_date = ?", [SLATE]).df()
    finally:
        con.close()
    return {
        **paths,
        "summary": summary,
        "requests": requests,
        "injuries": injuries,
        "build": _build(paths, SLATE),
        "next_day": _build(paths, NEXT_DAY),
    }


def _player(features: pd.DataFrame, name: str) -> pd.Series:
    rows = features[features["player_name"] == name]
    assert len(rows) == 1, f"{name}: {len(rows)} feature rows"
    return rows.iloc[0]


def test_raw_extracts_are_kept_per_kind_and_run(world):
    summary = world["summary"]
    base = world["data"] / "live" / "snapshots"
    run_dir = f"run={summary.run_id}"
    assert summary.run_id == "20260208T233000Z"
    assert (base / "injuries" / "2026-02-08" / run_dir / REPORT_NAME).read_bytes() == REPORT
    assert (base / "schedule" / "2026-02-08" / run_dir / "schedule.json").is_file()
    assert {p.name for p in (base / "roster" / "2026-02-08" / run_dir).iterdir()} == {
        f"roster_{code}.json" for code in ("MIA", "WAS", "IND", "TOR")
    }
    assert (base / "odds" / "2026-02-08" / run_dir / "odds.json").is_file()
    # the games had not tipped: no box score was asked for (the host has none before the tip)
    assert not any("boxscore" in path for path in world["requests"])
    assert summary["injuries"].rows_inserted == summary["injuries"].rows_received > 0


def test_report_rows_land_in_raw_injuries_matched_or_reported(world):
    injuries = world["injuries"]
    assert set(injuries["game_date"].astype(str)) == {"2026-02-08"}  # not the report's 2026-02-09 games
    game_ids = injuries.groupby("matchup")["game_id"].unique().map(lambda ids: sorted(pd.unique(ids)))
    assert game_ids["MIA@WAS"] == [22500765] and game_ids["IND@TOR"] == [22500766]
    # the report's other games of the day are not in this schedule: kept, without a game id
    assert injuries.loc[injuries["matchup"] == "NYK@BOS", "game_id"].isna().all()
    assert (pd.to_datetime(injuries["snapshot_ts"], utc=True) == pd.Timestamp(REPORT_TS)).all()
    named = injuries.set_index("player_name")
    # matched through accents ("Jakučionis") and suffixes ("Jaquez Jr.")
    for name in ("Herro, Tyler", "Jaquez Jr., Jaime", "Jakucionis, Kasparas", "Young, Trae", "Poeltl, Jakob"):
        assert pd.notna(named.loc[name, "player_id"]), name
    # names without a roster player stay in the table (player_id null) and are listed in the run summary
    unmatched = ("Goldin, Vladislav", "Zubac, Ivica", "Hepburn, Chucky")
    for name in unmatched:
        assert pd.isna(named.loc[name, "player_id"]), name
    reported = world["summary"]["injuries"].unmatched_names
    assert len(reported) == int(injuries["player_id"].isna().sum())
    assert all(any(r.startswith(name) for r in reported) for name in unmatched)


def test_report_statuses_reach_the_live_features(world):
    features = world["build"].features
    assert set(features["game_id"]) == {22500765, 22500766}
    assert set(features["team_tricode"]) == {"MIA", "WAS", "IND", "TOR"}
    out = _player(features, "Tyler Herro")  # Out on the 18:15 ET report
    assert (out["status"], out["is_out"], out["is_q"]) == ("OUT", 1, 0)
    assert pd.Timestamp(out["injury_as_of_ts"]) == pd.Timestamp(REPORT_TS)
    available = _player(features, "Jaime Jaquez Jr.")
    assert (available["status"], available["is_out"]) == ("AVAILABLE", 0)
    assert available["injury_snapshot_missing"] == 0
    absent = _player(features, "Marco Vallier")  # on the roster, not on the report
    assert (absent["status"], absent["injury_snapshot_missing"]) == ("UNK", 1)
    assert pd.isna(absent["injury_as_of_ts"])
    assert world["build"].summary["fallbacks"]["games_without_odds"] == []


def test_html_page_instead_of_the_report_fails_naming_the_url(httpserver, tmp_path, monkeypatch):
    _serve_world(httpserver, report="<html><body>Access Denied</body></html>")
    monkeypatch.setattr(http_client, "datetime", _RunClock)
    db = tmp_path / "wh.duckdb"
    with pytest.raises(IngestError, match=rf"body is not a PDF.*{INJURY_PATH}/{REPORT_NAME}"):
        ingest_live(SLATE, RUN_AS_OF, db_path=db, data_root=tmp_path / "data", config=_config(httpserver))
    con = raw_store.connect(db)  # the schema may not exist yet: nothing was ingested
    try:
        assert con.execute("select count(*) from raw.injuries").fetchone() == (0,)
    finally:
        con.close()


def test_questionable_and_doubtful_reach_the_next_days_features(world):
    features = world["next_day"].features
    assert set(features["team_tricode"]) == {"CHI", "BKN"}
    questionable = _player(features, "Jalen Smith")
    assert (questionable["status"], questionable["is_q"], questionable["is_out"]) == ("QUESTIONABLE", 1, 0)
    assert pd.Timestamp(questionable["injury_as_of_ts"]) == pd.Timestamp(REPORT_TS)
    doubtful = _player(features, "Josh Giddey")
    assert (doubtful["status"], doubtful["is_q"]) == ("DOUBTFUL", 0)
    assert _player(features, "Michael Porter Jr.")["is_out"] == 1  # "Porter Jr., Michael" on the report
