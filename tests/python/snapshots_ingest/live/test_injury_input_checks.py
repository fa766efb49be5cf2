"""An injury report that does not cover the slate is an input error (exit 13) unless --allow-missing-injuries
(then a warning in the run's summary.json); a rejected extract is set aside, so a corrected file of the same
name at the same instant stores normally; an accepted extract stays immutable.

Real PDFs only: the 2023-05-09 report is a valid report for another date; a report "with a header and no
rows" is the real 2026-02-08 18:15 ET report's first page with its row text removed (pypdfium2 edits the
real page: banner, header and row rules stay); a corrupted download is the real report cut in half. The
live path runs against a local HTTP server (the fixtures of test_live_to_features.py).
"""

from __future__ import annotations

import io
import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pdfplumber
import pypdfium2 as pdfium
import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from minutes_live.cli.app import app
from snapshots_ingest import raw_store
from snapshots_ingest.ingest import IngestError, ingest_file, ingest_live
from snapshots_ingest.live import http_client
from snapshots_ingest.live import injury_report_pdf as pdf_parser
from snapshots_ingest.live.http_client import LiveSourceConfig

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
WORLD = FIXTURES / "live_e2e"
PDFS = FIXTURES / "injury_pdfs"
REPORT_NAME = "Injury-Report_2026-02-08_06_15PM.pdf"
REPORT = (PDFS / REPORT_NAME).read_bytes()
OTHER_DATE = PDFS / "Injury-Report_2023-05-09_12AM__MehakKambo.pdf"  # a valid report for 2023-05-09/10
SLATE = date(2026, 2, 8)
FETCHED_AT = datetime(2026, 2, 8, 23, 25, tzinfo=UTC)
RUN_AS_OF = datetime(2026, 2, 8, 23, 30, tzinfo=UTC)
TEAM_IDS = {"MIA": 1610612748, "WAS": 1610612764, "IND": 1610612754, "TOR": 1610612761, "CHI": 1610612741,
            "BKN": 1610612751}
SCHEDULE_PATH = "/static/json/staticData/scheduleLeagueV2.json"
INJURY_PATH = "/referee/injury"
runner = CliRunner()


class _RunClock(datetime):
    @classmethod
    def now(cls, tz=None):
        return FETCHED_AT if tz is None else FETCHED_AT.astimezone(tz)


def _serve_world(server: HTTPServer, report: bytes) -> None:
    server.no_handler_status_code = 404
    server.expect_request(f"{INJURY_PATH}/{REPORT_NAME}").respond_with_data(report, content_type="application/pdf")
    server.expect_request(SCHEDULE_PATH).respond_with_data((WORLD / "scheduleLeagueV2.json").read_bytes(),
                                                           content_type="application/json")
    for code, team_id in TEAM_IDS.items():
        server.expect_request("/stats/commonteamroster",
                              query_string={"LeagueID": "00", "Season": "2025-26", "TeamID": str(team_id)},
                              ).respond_with_data((WORLD / f"roster_{code}.json").read_bytes(),
                                                  content_type="application/json")
    for day in ("2026-02-08", "2026-02-09"):
        server.expect_request(f"/odds/{day}.json").respond_with_data((WORLD / f"odds_{day}.json").read_bytes(),
                                                                     content_type="application/json")


def _config(server: HTTPServer) -> LiveSourceConfig:
    return LiveSourceConfig(
        injury_report_base_url=server.url_for(INJURY_PATH), schedule_url=server.url_for(SCHEDULE_PATH),
        roster_url=server.url_for("/stats/commonteamroster"),
        boxscore_base_url=server.url_for("/static/json/liveData/boxscore"), odds_url=server.url_for("/odds/{date}.json"),
        injury_lookback_hours=1.0, connect_timeout_s=2.0, read_timeout_s=5.0, retries=1, backoff_factor_s=0.01,
        min_interval_s=0.0,
    )


def header_only_report(source: Path = PDFS / REPORT_NAME) -> bytes:
    """The real report's first page, every text object below the column header removed (rules kept)."""
    with pdfplumber.open(source) as plumb:
        header = next(w for w in plumb.pages[0].extract_words() if w["text"] == "GameDate")
        header_bottom = header["bottom"]
    doc = pdfium.PdfDocument(source)
    while len(doc) > 1:
        doc.del_page(len(doc) - 1)
    page = doc[0]
    height = page.get_size()[1]
    for obj in list(page.get_objects()):
        # pdfium bounds are (left, bottom, right, top) from the page's bottom edge
        if obj.type == pdfium.raw.FPDF_PAGEOBJ_TEXT and obj.get_bounds()[3] < height - header_bottom - 1:
            page.remove_obj(obj)
    page.gen_content()
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _injury_rows(db: Path) -> int:
    con = raw_store.connect(db)
    try:
        return con.execute("select count(*) from raw.injuries").fetchone()[0]
    finally:
        con.close()


def _rejected(data: Path) -> list[Path]:
    return sorted((data / "live" / "snapshots" / "injuries").rglob("rejected/*"))


# ------------------------------------------------------------------------------- the report itself

def test_header_only_report_is_a_real_report_without_rows():
    payload = header_only_report()
    report = pdf_parser.read_injury_report(payload, name="header_only.pdf")
    assert report.rows == [] and report.report_date == date(2026, 2, 8)
    assert pdf_parser.parse_injury_report(payload) == []


def test_wrong_date_report_is_refused_naming_file_banner_and_slate(tmp_path):
    db, data = tmp_path / "wh.duckdb", tmp_path / "data"
    with pytest.raises(IngestError) as caught:
        ingest_file("injuries", OTHER_DATE, SLATE, RUN_AS_OF, db_path=db, data_root=data)
    message = str(caught.value)
    assert OTHER_DATE.name in message
    assert "banner date 2023-05-09" in message and "slate 2026-02-08" in message, message
    assert "game dates 2023-05-09..2023-05-10" in message, message
    assert _injury_rows(db) == 0
    run_dir = data / "live" / "snapshots" / "injuries" / "2026-02-08" / "run=20260208T233000Z"
    assert not (run_dir / OTHER_DATE.name).exists()  # not accepted ...
    [kept] = _rejected(data)  # ... but not lost either
    assert kept.read_bytes() == OTHER_DATE.read_bytes() and kept.parent == run_dir / "rejected"


def test_wrong_date_report_with_allow_missing_is_a_warning(tmp_path):
    summary = ingest_file("injuries", OTHER_DATE, SLATE, RUN_AS_OF, db_path=tmp_path / "wh.duckdb",
                          data_root=tmp_path / "data", allow_missing=("injuries",))
    assert summary.rows_inserted == 0
    [warning] = summary.warnings
    assert "banner date 2023-05-09" in warning and "slate 2026-02-08" in warning


def test_cli_wrong_date_and_header_only_reports_exit_13(tmp_path, monkeypatch):
    monkeypatch.setenv("MINUTES_LIVE_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.setenv("MINUTES_LIVE_DUCKDB", str(tmp_path / "data" / "wh.duckdb"))
    header_only = tmp_path / "Injury-Report_2026-02-08_06_30PM.pdf"
    header_only.write_bytes(header_only_report())
    base = ["build", "--date", "2026-02-08", "--run-as-of-ts", RUN_AS_OF.isoformat(), "--source", "none"]
    for path, expected in ((OTHER_DATE, "banner date 2023-05-09, game dates 2023-05-09..2023-05-10, slate 2026-02-08"),
                           (header_only, "header found, 0 player rows (banner date 2026-02-08)")):
        result = runner.invoke(app, [*base, "--injuries-path", str(path)])
        assert result.exit_code == 13, (result.output, result.exception)
        err = result.stderr.strip()
        assert len(err.splitlines()) == 1 and path.name in err and expected in err, err
        assert "--allow-missing-injuries" in err
    assert not list((tmp_path / "data").rglob("features.parquet"))


# ------------------------------------------------------------------------------- the live source

def test_live_report_for_another_date_is_refused_then_a_corrected_one_stores(httpserver, tmp_path, monkeypatch):
    """The league's slot serves a report for another date: refused and set aside. The retry at the same
    instant gets the right report under the same name and stores normally (it used to conflict)."""
    monkeypatch.setattr(http_client, "datetime", _RunClock)
    kw = {"db_path": tmp_path / "wh.duckdb", "data_root": tmp_path / "data", "config": _config(httpserver)}
    _serve_world(httpserver, OTHER_DATE.read_bytes())
    with pytest.raises(IngestError) as caught:
        ingest_live(SLATE, RUN_AS_OF, ["injuries"], **kw)
    assert f"{INJURY_PATH}/{REPORT_NAME}" in str(caught.value) and "banner date 2023-05-09" in str(caught.value)
    assert _injury_rows(kw["db_path"]) == 0
    httpserver.clear()
    _serve_world(httpserver, REPORT)
    summary = ingest_live(SLATE, RUN_AS_OF, ["injuries"], **kw)
    assert summary["injuries"].rows_inserted > 0 and summary["injuries"].warnings == []
    accepted = tmp_path / "data" / "live" / "snapshots" / "injuries" / "2026-02-08" / "run=20260208T233000Z" / REPORT_NAME
    assert accepted.read_bytes() == REPORT
    assert [p.read_bytes() for p in _rejected(tmp_path / "data")] == [OTHER_DATE.read_bytes()]


def test_live_header_only_report_with_allow_missing_warns(httpserver, tmp_path, monkeypatch):
    monkeypatch.setattr(http_client, "datetime", _RunClock)
    _serve_world(httpserver, header_only_report())
    summary = ingest_live(SLATE, RUN_AS_OF, ["injuries"], db_path=tmp_path / "wh.duckdb",
                          data_root=tmp_path / "data", config=_config(httpserver), allow_missing=("injuries",))
    [warning] = summary["injuries"].warnings
    assert "header found, 0 player rows" in warning and REPORT_NAME in warning


def test_ingest_cli_live_wrong_date_report_exit_13_or_warning(httpserver, tmp_path, monkeypatch):
    """`minutes-live ingest --source live`: the same rule, and --allow-missing-injuries prints the warning."""
    _serve_world(httpserver, OTHER_DATE.read_bytes())
    config = tmp_path / "live_sources.json"
    config.write_text(_config(httpserver).model_dump_json())
    monkeypatch.setenv("MINUTES_LIVE_SOURCES_CONFIG", str(config))
    monkeypatch.setenv("MINUTES_LIVE_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.setenv("MINUTES_LIVE_DUCKDB", str(tmp_path / "data" / "wh.duckdb"))
    args = ["ingest", "--source", "live", "--kind", "injuries", "--date", "2026-02-08",
            "--run-as-of-ts", RUN_AS_OF.isoformat(), "--no-progress"]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 13, (refused.output, refused.exception)
    assert len(refused.stderr.strip().splitlines()) == 1 and "banner date 2023-05-09" in refused.stderr
    allowed = runner.invoke(app, [*args, "--allow-missing-injuries"])
    assert allowed.exit_code == 0, (allowed.output, allowed.exception)
    assert "1 warning(s)" in allowed.stdout and "warning: injuries: " in allowed.stdout
    assert "slate 2026-02-08" in allowed.stdout


# ------------------------------------------------------------------------------- whole runs

@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Schedule, rosters, odds and the real 18:15 ET report of 2026-02-08, ingested live at 23:30 UTC."""
    root = tmp_path_factory.mktemp("injury_inputs")
    server = HTTPServer()
    server.start()
    try:
        _serve_world(server, REPORT)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(http_client, "datetime", _RunClock)
            ingest_live(SLATE, RUN_AS_OF, db_path=root / "data" / "wh.duckdb", data_root=root / "data",
                        config=_config(server))
    finally:
        server.clear()
        server.stop()
    return root


def _build(store: Path, monkeypatch, as_of: str, *extra: str):
    monkeypatch.setenv("MINUTES_LIVE_DATA_ROOT", str(store / "data"))
    monkeypatch.setenv("MINUTES_LIVE_DUCKDB", str(store / "data" / "wh.duckdb"))
    monkeypatch.setenv("MINUTES_LIVE_ARTIFACTS", str(store / "artifacts"))
    monkeypatch.setenv("MINUTES_LIVE_REPORTS", str(store / "reports"))
    return runner.invoke(app, ["build", "--date", "2026-02-08", "--run-as-of-ts", as_of, "--source", "none", *extra])


@pytest.mark.slow
def test_run_with_a_wrong_date_report_and_allow_missing_records_the_warning(store, monkeypatch):
    """It used to exit 0 silently, the run using the older (23:15 UTC) report."""
    result = _build(store, monkeypatch, "2026-02-08T23:40:00Z", "--injuries-path", str(OTHER_DATE),
                    "--allow-missing-injuries")
    assert result.exit_code == 0, (result.output, result.exception)
    run_dir = store / "data" / "live" / "features_minutes_v1" / "2026-02-08" / "run=20260208T234000Z"
    summary = json.loads((run_dir / "summary.json").read_text())
    expected = "banner date 2023-05-09, game dates 2023-05-09..2023-05-10, slate 2026-02-08"
    assert any(expected in w and OTHER_DATE.name in w for w in summary["warnings"]), summary["warnings"]
    assert any(expected in line for line in result.stdout.splitlines() if line.startswith("warning: "))


@pytest.mark.slow
def test_rejected_extract_does_not_block_the_corrected_retry(store, monkeypatch, tmp_path):
    """A corrupted download is rejected (exit 13); the corrected file of the same name at the same instant
    stores normally (it used to conflict, exit 9). The accepted extract then stays immutable."""
    as_of = "2026-02-08T23:50:00Z"
    bad, good, other = tmp_path / "bad", tmp_path / "good", tmp_path / "other"
    for d in (bad, good, other):
        d.mkdir()
    (bad / REPORT_NAME).write_bytes(REPORT[: len(REPORT) // 2])
    shutil.copy(PDFS / REPORT_NAME, good / REPORT_NAME)
    shutil.copy(OTHER_DATE, other / REPORT_NAME)
    first = _build(store, monkeypatch, as_of, "--injuries-path", str(bad / REPORT_NAME))
    assert first.exit_code == 13, (first.output, first.exception)
    assert REPORT_NAME in first.stderr and "rejected" in first.stderr
    retry = _build(store, monkeypatch, as_of, "--injuries-path", str(good / REPORT_NAME))
    assert retry.exit_code == 0, (retry.output, retry.exception)
    snapshots = store / "data" / "live" / "snapshots" / "injuries" / "2026-02-08" / "run=20260208T235000Z"
    assert (snapshots / REPORT_NAME).read_bytes() == REPORT
    assert [p.read_bytes() for p in (snapshots / "rejected").iterdir()] == [REPORT[: len(REPORT) // 2]]
    # an accepted extract is immutable, --replace included: the different payload is refused and kept aside
    again = _build(store, monkeypatch, as_of, "--injuries-path", str(other / REPORT_NAME), "--replace")
    assert again.exit_code == 9, (again.output, again.exception)
    assert "immutable" in again.stderr and "--run-as-of-ts" in again.stderr
    assert (snapshots / REPORT_NAME).read_bytes() == REPORT
    assert len(list((snapshots / "rejected").iterdir())) == 2
    con = duckdb.connect(str(store / "data" / "wh.duckdb"), read_only=True)
    try:
        stamps = con.execute("select count(distinct snapshot_ts) from raw.injuries").fetchone()[0]
    finally:
        con.close()
    assert stamps == 1  # nothing of the 2023 report reached the store
