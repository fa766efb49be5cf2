"""Ingest engine and `minutes-live ingest`: extracts on disk, idempotence, transactional failures, CLI errors."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from minutes_live.cli.app import app
from snapshots_ingest import raw_store
from snapshots_ingest.extract import Extract, frame_to_parquet_bytes, parquet_bytes_to_frame
from snapshots_ingest.ingest import ExtractConflictError, IngestError, ingest_extracts, ingest_replay

DAY = date(2021, 10, 21)
AS_OF = datetime(2021, 10, 21, 23, 0, tzinfo=UTC)


def _counts(db_path: Path) -> dict[str, int]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        tables = [*raw_store.KINDS, "id_crosswalk", "ingest_log"]
        return {t: con.execute(f"select count(*) from raw.{t}").fetchall()[0][0] for t in tables}
    finally:
        con.close()


@pytest.mark.real_data
def test_second_ingest_adds_nothing_and_extracts_are_kept(small_dataset_dir, store) -> None:
    first = ingest_replay(small_dataset_dir, DAY, AS_OF, **store)
    assert all(first[k].rows_inserted > 0 for k in ("schedule", "roster", "injuries", "odds", "box_scores"))
    after_first = _counts(store["db_path"])
    second = ingest_replay(small_dataset_dir, DAY, AS_OF, **store)
    assert second.rows_inserted == 0
    after_second = _counts(store["db_path"])
    assert {k: v for k, v in after_second.items() if k != "ingest_log"} == {
        k: v for k, v in after_first.items() if k != "ingest_log"
    }
    assert after_second["ingest_log"] == 2 * after_first["ingest_log"]
    for kind in raw_store.KINDS:
        path = store["data_root"] / small_dataset_dir.name / "snapshots" / kind / DAY.isoformat() / "run=20211021T230000Z" / f"replay_{kind}.parquet"
        assert path.is_file(), path
        assert len(parquet_bytes_to_frame(path.read_bytes())) == first[kind].rows_received
    con = duckdb.connect(str(store["db_path"]), read_only=True)
    try:
        latest = con.execute("select max(snapshot_ts) from raw.roster").fetchall()[0][0]
        players = con.execute("select count(*) from raw.id_crosswalk where entity = 'player' and namespace = 'bref'").fetchall()[0][0]
    finally:
        con.close()
    assert latest <= AS_OF
    assert players > 0


@pytest.mark.real_data
def test_later_instant_adds_only_new_snapshots(small_dataset_dir, store) -> None:
    ingest_replay(small_dataset_dir, DAY, AS_OF, **store)
    later = ingest_replay(small_dataset_dir, DAY, datetime(2021, 10, 22, 12, 0, tzinfo=UTC), **store)
    assert later["box_scores"].rows_inserted > 0  # the 2021-10-21 games have finished
    assert later["schedule"].rows_inserted == 0


def _extract(payload: bytes, parse=parquet_bytes_to_frame, filename: str = "x.parquet") -> Extract:
    return Extract("odds", DAY, filename, payload, parse, origin="test")


def _odds_rows(snapshot_ts: str = "2021-10-21T20:00:00Z") -> pd.DataFrame:
    return pd.DataFrame(
        {"game_id": [2021102138], "home_team_id": [1610612738], "away_team_id": [1610612752], "book": ["b"],
         "spread_home": [-3.5], "total": [220.5], "snapshot_ts": [pd.Timestamp(snapshot_ts)], "source": ["test"]}
    )


def _ingest(store, extracts, as_of=AS_OF):
    con = raw_store.connect(store["db_path"])
    try:
        return ingest_extracts(con, extracts, run_id="20211021T230000Z", run_as_of_ts=as_of, data_root=store["data_root"],
                               source="test", namespace="nba", slate_date=DAY, progress=False, echo=None)
    finally:
        con.close()


def test_parse_error_keeps_the_raw_payload_and_changes_nothing(store) -> None:
    _ingest(store, [_extract(frame_to_parquet_bytes(_odds_rows()), filename="good.parquet")])
    before = _counts(store["db_path"])
    with pytest.raises(IngestError, match=r"odds from test .*bad\.json.*could not parse"):
        _ingest(store, [_extract(b"{not parquet", filename="bad.json")])
    run_dir = store["data_root"] / "live/snapshots/odds/2021-10-21/run=20211021T230000Z"
    # kept, but set aside: a corrected bad.json at the same instant is not blocked by it
    assert not (run_dir / "bad.json").exists()
    assert [p.read_bytes() for p in (run_dir / "rejected").glob("bad.*.json")] == [b"{not parquet"]
    assert _counts(store["db_path"]) == before


def test_invalid_rows_are_refused_as_a_whole(store) -> None:
    rows = pd.concat([_odds_rows(), _odds_rows().assign(book=None)], ignore_index=True)
    with pytest.raises(IngestError, match="'book'"):
        _ingest(store, [_extract(frame_to_parquet_bytes(rows))])
    future = _odds_rows("2021-10-22T00:00:00Z")
    with pytest.raises(IngestError, match="after run_as_of_ts"):
        _ingest(store, [_extract(frame_to_parquet_bytes(future), filename="future.parquet")])
    assert _counts(store["db_path"])["odds"] == 0


def test_extract_files_are_never_silently_replaced(store) -> None:
    _ingest(store, [_extract(frame_to_parquet_bytes(_odds_rows()))])
    _ingest(store, [_extract(frame_to_parquet_bytes(_odds_rows()))])  # same bytes: fine
    with pytest.raises(ExtractConflictError, match="already exists with different content"):
        _ingest(store, [_extract(frame_to_parquet_bytes(_odds_rows().assign(total=999.0)))])
    assert _counts(store["db_path"])["odds"] == 1


runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "2021-02-30"], "not a valid calendar date"),
        (["--date", "21-10-2021"], "YYYY-MM-DD"),
        (["--date", "2021-10-21", "--run-as-of-ts", "2021-10-21T23:00:00"], "no UTC offset"),
        (["--date", "2021-10-21", "--run-as-of-ts", "yesterday"], "not an ISO-8601"),
        (["--date", "2021-10-21", "--kind", "schedule,lineups"], "--kind 'lineups'"),
        (["--date", "2021-10-21", "--source", "ftp"], "--source 'ftp'"),
        (["--date", "2021-10-21", "--history-days", "-1"], "--history-days must be >= 0"),
        (["--date", "2021-10-21", "--dataset-dir", "/no/such/dir"], "/no/such/dir does not exist"),
    ],
)
def test_cli_rejects_bad_values_with_one_line_and_exit_2(args, message, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MINUTES_LIVE_DATA_ROOT", str(tmp_path / "data"))
    result = runner.invoke(app, ["ingest", *args])
    assert result.exit_code == 2, result.output
    err = result.stderr.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "data" / "minutes_live.duckdb").exists()


def test_cli_live_source_unreachable_is_a_clear_error(tmp_path, monkeypatch) -> None:
    """--source live reads its URLs from $MINUTES_LIVE_SOURCES_CONFIG; a dead host ends in exit 17 (source unreachable,
    not 13 "malformed input") naming the kind and the host."""
    config = tmp_path / "live_sources.json"
    config.write_text(json.dumps({"schedule_url": "http://127.0.0.1:9/schedule.json", "retries": 0,
                                  "connect_timeout_s": 1, "min_interval_s": 0}))
    monkeypatch.setenv("MINUTES_LIVE_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.setenv("MINUTES_LIVE_SOURCES_CONFIG", str(config))
    result = runner.invoke(app, ["ingest", "--source", "live", "--kind", "schedule", "--date", "2025-11-13",
                                 "--run-as-of-ts", "2025-11-13T15:00:00Z", "--no-progress"])
    assert result.exit_code == 17, result.output
    assert "schedule for 2025-11-13 from 127.0.0.1:9: connection failed" in result.stderr


@pytest.mark.real_data
def test_cli_ingest_and_bad_dataset_exit_codes(small_dataset_dir, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MINUTES_LIVE_DATA_ROOT", str(tmp_path / "data"))
    args = ["ingest", "--date", "2021-10-21", "--run-as-of-ts", "2021-10-21T23:00:00Z", "--dataset-dir", str(small_dataset_dir), "--no-progress"]
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0, ok.output
    assert "box_scores: " in ok.stdout and " new, extract " in ok.stdout
    (small_dataset_dir / "lines_2021_22.parquet").unlink()
    bad = runner.invoke(app, args)
    assert bad.exit_code == 13
    assert "lines_2021_22.parquet: required file is missing" in bad.stderr
