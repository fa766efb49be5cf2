"""Injury-report PDFs and local input files are bounded: a PDF is parsed in a child process with a wall-clock
deadline, an address-space limit, a page cap and a cap on any inflated stream; a local input file has a size
cap and may not be a symlink. Each refusal is one IngestError line (exit 13 at the CLI) naming the file and
the cap, within seconds, and nothing oversized is copied into rejected/.

The hostile PDFs are built on the fly (pdf_bombs.py): `text_bomb(n)` is a one-page PDF of a few KB whose
content stream inflates to n bytes of text operators. Unbounded, a 4 MB one parsed for ~54 s with ~350 MB RSS
here (a 200 MB one: the issue's ~800 s and ~15 GB); the caps below are small so the tests stay fast."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pdf_bombs import pdf_with_streams, text_bomb  # beside this file

from snapshots_ingest.ingest import IngestError, ingest_file
from snapshots_ingest.live.injury_report_pdf import InjuryReportParseError
from snapshots_ingest.live.pdf_sandbox import read_injury_report_bounded

PDFS = Path(__file__).resolve().parents[3] / "fixtures" / "injury_pdfs"
REPORT = PDFS / "Injury-Report_2026-02-08_06_15PM.pdf"
SLATE = date(2026, 2, 8)
RUN_AS_OF = datetime(2026, 2, 8, 23, 30, tzinfo=UTC)
MIB = 1024 * 1024


def _rejected(data: Path) -> list[Path]:
    return [p for p in data.rglob("rejected/*") if p.is_file()]


def _ingest(path: Path, tmp_path: Path):
    return ingest_file("injuries", path, SLATE, RUN_AS_OF, db_path=tmp_path / "wh.duckdb", data_root=tmp_path / "data")


def test_real_report_parses_the_same_in_the_sandbox():
    from snapshots_ingest.live.injury_report_pdf import read_injury_report

    bounded = read_injury_report_bounded(REPORT.read_bytes(), name=REPORT.name)
    assert bounded == read_injury_report(REPORT.read_bytes(), name=REPORT.name)
    assert len(bounded.rows) > 100


def test_inflating_stream_is_stopped_by_the_stream_cap(tmp_path, monkeypatch):
    monkeypatch.setenv("MINUTES_LIVE_PDF_MAX_STREAM_BYTES", str(1 * MIB))
    bomb = tmp_path / "Injury-Report_2026-02-08_06_30PM.pdf"
    bomb.write_bytes(text_bomb(3 * MIB))
    t0 = time.monotonic()
    with pytest.raises(IngestError, match=r"Injury-Report_2026-02-08_06_30PM\.pdf.*inflates past 1\.0 MiB"):
        _ingest(bomb, tmp_path)
    assert time.monotonic() - t0 < 15
    [kept] = _rejected(tmp_path / "data")  # a small file: kept like any rejected extract
    assert kept.read_bytes() == bomb.read_bytes()


def test_slow_pdf_is_stopped_at_the_parse_deadline(monkeypatch):
    monkeypatch.setenv("MINUTES_LIVE_PDF_PARSE_SECONDS", "2")
    t0 = time.monotonic()
    with pytest.raises(InjuryReportParseError, match=r"bomb\.pdf: parsing did not finish within 2 s"):
        read_injury_report_bounded(text_bomb(3 * MIB), name="bomb.pdf")  # unbounded: ~40 s
    assert time.monotonic() - t0 < 8


def test_pdf_needing_too_much_memory_is_stopped(monkeypatch):
    monkeypatch.setenv("MINUTES_LIVE_PDF_MEMORY_MB", "200")
    monkeypatch.setenv("MINUTES_LIVE_PDF_MAX_STREAM_BYTES", str(2048 * MIB))
    zeros = pdf_with_streams([b"\0" * (256 * MIB)], level=1)  # ~1 MB on disk, 256 MB inflated in one piece
    assert len(zeros) < 2 * MIB
    t0 = time.monotonic()
    with pytest.raises(InjuryReportParseError, match=r"zeros\.pdf: parsing needed more than 200 MB"):
        read_injury_report_bounded(zeros, name="zeros.pdf")
    assert time.monotonic() - t0 < 15


def test_page_cap(monkeypatch):
    monkeypatch.setenv("MINUTES_LIVE_PDF_MAX_PAGES", "3")
    with pytest.raises(InjuryReportParseError, match=r"7 pages, over the cap of 3"):
        read_injury_report_bounded(REPORT.read_bytes(), name=REPORT.name)


def test_oversized_pdf_is_refused_unread_and_not_copied(tmp_path, monkeypatch):
    monkeypatch.setenv("MINUTES_LIVE_PDF_MAX_BYTES", str(1 * MIB))
    junk = tmp_path / "Injury-Report_2026-02-08_06_30PM.pdf"
    junk.write_bytes(b"%PDF-1.4\n" + b"junk " * (600 * 1024))  # 2.9 MiB
    t0 = time.monotonic()
    with pytest.raises(IngestError, match=r"Injury-Report_2026-02-08_06_30PM\.pdf is 2\.9 MiB, over the 1\.0 MiB cap"):
        _ingest(junk, tmp_path)
    assert time.monotonic() - t0 < 5
    assert _rejected(tmp_path / "data") == []


def test_oversized_local_input_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("MINUTES_LIVE_MAX_INPUT_BYTES", str(1 * MIB))
    big = tmp_path / "odds.csv"
    big.write_bytes(b"x\n" * MIB)
    with pytest.raises(IngestError, match=r"odds\.csv is 2\.0 MiB, over the 1\.0 MiB cap.*MINUTES_LIVE_MAX_INPUT_BYTES"):
        ingest_file("odds", big, SLATE, RUN_AS_OF, db_path=tmp_path / "wh.duckdb", data_root=tmp_path / "data")
    assert _rejected(tmp_path / "data") == []


def test_symlinked_input_path_is_refused_and_its_target_not_copied(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the data folder\n")
    link = tmp_path / "Injury-Report_2026-02-08_06_30PM.pdf"
    link.symlink_to(secret)
    with pytest.raises(IngestError, match=r"Injury-Report_2026-02-08_06_30PM\.pdf is a symlink"):
        _ingest(link, tmp_path)
    assert _rejected(tmp_path / "data") == []
    assert not any(p.is_file() and p.read_bytes() == secret.read_bytes() for p in (tmp_path / "data").rglob("*"))


def test_bad_limit_value_is_refused():
    from foundation.guardrails import InvalidInput
    from snapshots_ingest.limits import InputLimits

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MINUTES_LIVE_PDF_PARSE_SECONDS", "-1")
        with pytest.raises(InvalidInput, match="MINUTES_LIVE_PDF_PARSE_SECONDS"):
            InputLimits.from_env()
