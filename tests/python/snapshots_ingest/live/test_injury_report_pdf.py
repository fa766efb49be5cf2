from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from snapshots_ingest.live.injury_report_pdf import (
    InjuryReportParseError,
    InjuryReportRow,
    parse_injury_report,
    read_game_time,
)
from snapshots_ingest.live.injury_rows import to_raw_injuries
from snapshots_ingest.raw_store import validate_frame

PDF_DIR = Path(__file__).resolve().parents[3] / "fixtures" / "injury_pdfs"

REPORTS = sorted(p.name.removesuffix(".pdf") for p in PDF_DIR.glob("*.pdf"))


def as_csv_fields(row: InjuryReportRow) -> dict[str, str]:
    return {
        "report_ts_et": row.report_ts_et.strftime("%Y-%m-%d %H:%M"),
        "page": str(row.page),
        "game_date": row.game_date.isoformat(),
        "game_time_et": row.game_time_et,
        "matchup": row.matchup,
        "team": row.team,
        "player_name": row.player_name or "",
        "current_status": row.current_status or "",
        "reason": row.reason or "",
        "not_yet_submitted": "true" if row.not_yet_submitted else "false",
    }


def test_all_three_real_reports_are_fixtures():
    assert len(REPORTS) == 3


@pytest.mark.parametrize("report", REPORTS)
def test_every_field_matches_expected_csv(report: str):
    with open(PDF_DIR / f"{report}.expected.csv", newline="", encoding="utf-8") as fh:
        expected = list(csv.DictReader(fh))
    got = [as_csv_fields(r) for r in parse_injury_report(PDF_DIR / f"{report}.pdf")]
    assert len(got) == len(expected)
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert g == e, f"row {i + 2} of {report}.expected.csv"


def test_page_break_continuation_joins_reason_and_keeps_player_page():
    rows = parse_injury_report(PDF_DIR / "Injury-Report_2026-02-08_03_30PM.pdf")
    toppin = next(r for r in rows if r.player_name == "Toppin, Obi")
    assert toppin.reason == "Injury/Illness - Right Foot; Stress Fracture"
    assert toppin.page == 2


def test_report_stamp_is_converted_from_eastern_to_utc():
    rows = parse_injury_report(PDF_DIR / "Injury-Report_2023-05-09_12AM__MehakKambo.pdf")
    assert rows[0].report_ts_utc == datetime.fromisoformat("2023-05-09T04:30:00+00:00")  # EDT
    rows = parse_injury_report(PDF_DIR / "Injury-Report_2026-02-08_03_30PM.pdf")
    assert rows[0].report_ts_utc == datetime.fromisoformat("2026-02-08T20:30:00+00:00")  # EST


@pytest.mark.parametrize(
    ("printed", "expected"),
    [("12:30 (ET)", "12:30"), ("02:00 (ET)", "14:00"), ("07:30 (ET)", "19:30"), ("10:00 (ET)", "22:00")],
)
def test_game_time_am_pm_rule(printed: str, expected: str):
    assert read_game_time(printed) == expected


def test_html_body_is_not_a_report():
    with pytest.raises(InjuryReportParseError, match="error.pdf: not a readable PDF"):
        parse_injury_report(b"<html><body>Access Denied</body></html>", name="error.pdf")


def test_truncated_pdf_is_a_clear_error():
    payload = (PDF_DIR / "Injury-Report_2026-02-08_03_30PM.pdf").read_bytes()
    with pytest.raises(InjuryReportParseError, match="cut.pdf"):
        parse_injury_report(payload[: len(payload) // 3], name="cut.pdf")


def test_raw_injuries_rows_fit_the_contract_and_fill_game_ids():
    rows = parse_injury_report(PDF_DIR / "Injury-Report_2026-02-08_03_30PM.pdf")
    schedule = pd.DataFrame(
        {
            "game_id": [22500765],
            "game_date": [date(2026, 2, 8)],
            "away_tricode": ["MIA"],
            "home_tricode": ["WAS"],
        }
    )
    frame, unmatched = to_raw_injuries(rows, schedule=schedule)
    validate_frame("injuries", frame)
    assert unmatched == []
    mia = frame[frame["matchup"] == "MIA@WAS"]
    assert set(mia["game_id"]) == {22500765}
    assert frame.loc[frame["matchup"] != "MIA@WAS", "game_id"].isna().all()
    assert mia.iloc[0]["game_time_et"] == "02:00 PM"
    nys = frame[frame["status_raw"] == "NOT YET SUBMITTED"]
    assert len(nys) == 18 and nys["player_name"].isna().all() and nys["team_id"].notna().all()
    assert frame["snapshot_ts"].iloc[0] == pd.Timestamp("2026-02-08T20:30:00Z")
    clippers = frame[frame["team_tricode"] == "LAC"]
    assert not clippers.empty and set(clippers["team_id"]) == {1610612746}
