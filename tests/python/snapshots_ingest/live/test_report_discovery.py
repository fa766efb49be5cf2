from __future__ import annotations

from datetime import date, datetime

import pytest

from snapshots_ingest.live.report_discovery import (
    EASTERN,
    candidate_slots,
    report_filename,
    slot_from_filename,
    slots_for_day,
)


def et(*args: int) -> datetime:
    return datetime(*args, tzinfo=EASTERN)


@pytest.mark.parametrize(
    ("slot", "name"),
    [
        (et(2023, 5, 9, 0, 0), "Injury-Report_2023-05-09_12AM.pdf"),
        (et(2025, 12, 21, 17, 0), "Injury-Report_2025-12-21_05PM.pdf"),
        (et(2025, 12, 22, 17, 0), "Injury-Report_2025-12-22_05_00PM.pdf"),
        (et(2026, 2, 8, 15, 30), "Injury-Report_2026-02-08_03_30PM.pdf"),
    ],
)
def test_file_names_follow_the_scheme_of_the_day(slot: datetime, name: str):
    assert report_filename(slot) == name
    assert slot_from_filename(name) == slot


def test_real_fixture_names_parse_in_both_eras():
    assert slot_from_filename("Injury-Report_2023-05-09_12AM__MehakKambo.pdf") == et(2023, 5, 9, 0, 0)
    assert slot_from_filename("Injury-Report_2026-02-08_06_15PM.pdf") == et(2026, 2, 8, 18, 15)


def test_slot_counts_per_day_hourly_then_quarter_hourly():
    assert len(slots_for_day(date(2025, 12, 21), "http://h")) == 24
    assert len(slots_for_day(date(2025, 12, 22), "http://h")) == 96


def test_window_crossing_the_scheme_change():
    slots = candidate_slots(et(2025, 12, 21, 23, 0), et(2025, 12, 22, 0, 30), "http://h/injury/")
    assert [s.filename for s in slots] == [
        "Injury-Report_2025-12-21_11PM.pdf",
        "Injury-Report_2025-12-22_12_00AM.pdf",
        "Injury-Report_2025-12-22_12_15AM.pdf",
        "Injury-Report_2025-12-22_12_30AM.pdf",
    ]
    assert slots[0].url == "http://h/injury/Injury-Report_2025-12-21_11PM.pdf"


def test_window_start_is_rounded_up_to_a_slot():
    slots = candidate_slots(et(2026, 2, 8, 15, 20), et(2026, 2, 8, 15, 59), "http://h")
    assert [s.slot_et.minute for s in slots] == [30, 45]


def test_dst_days_have_no_missing_or_repeated_names():
    spring = slots_for_day(date(2023, 3, 12), "http://h")  # 02:00 does not exist
    fall = slots_for_day(date(2023, 11, 5), "http://h")  # 01:00 happens twice
    assert len(spring) == 23 and len({s.filename for s in spring}) == 23
    assert len(fall) == 24 and len({s.filename for s in fall}) == 24
