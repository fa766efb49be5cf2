"""Find the league's injury-report PDFs: which slots exist for a time window, and fetch one safely.

The league publishes one PDF per slot under a name that encodes the slot's US/Eastern wall time:
- before 2025-12-22, hourly:          Injury-Report_2023-05-09_05PM.pdf
- from 2025-12-22 on, every 15 min:   Injury-Report_2026-02-08_05_30PM.pdf
A slot without a report answers 403 or 404 (that is normal: not every slot is used). A body that is not
a PDF (an HTML error page with status 200) is an error naming the URL, never a report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from foundation.clock import LEAGUE_TZ as EASTERN
from snapshots_ingest.live.http_client import FetchResult, HttpClient, SourceError

SOURCE = "injury_report"
QUARTER_HOUR_SCHEME_FROM = date(2025, 12, 22)
ABSENT_STATUSES = (403, 404)
PDF_MAGIC = b"%PDF-"

_NAME = re.compile(r"Injury-Report_(\d{4}-\d{2}-\d{2})_(\d{2})(?:_(\d{2}))?([AP]M)")


@dataclass(frozen=True)
class ReportSlot:
    slot_et: datetime  # aware, America/New_York
    filename: str
    url: str


def slot_step(day: date) -> timedelta:
    return timedelta(minutes=15) if day >= QUARTER_HOUR_SCHEME_FROM else timedelta(hours=1)


def report_filename(slot_et: datetime) -> str:
    """ET wall time of a slot -> the league's file name under the scheme in force that day."""
    stamp = (
        slot_et.strftime("%Y-%m-%d_%I_%M%p")
        if slot_et.date() >= QUARTER_HOUR_SCHEME_FROM
        else slot_et.strftime("%Y-%m-%d_%I%p")
    )
    return f"Injury-Report_{stamp}.pdf"


def slot_from_filename(name: str) -> datetime:
    """'Injury-Report_2026-02-08_03_30PM.pdf' -> 2026-02-08 15:30 ET (aware). Both schemes."""
    m = _NAME.search(name)
    if not m:
        raise ValueError(
            f"{name!r} is not an injury-report file name (Injury-Report_YYYY-MM-DD_HH[_MM]AM.pdf)"
        )
    day, hour, minute, ampm = m.group(1), m.group(2), m.group(3) or "00", m.group(4)
    naive = datetime.strptime(f"{day} {hour}:{minute} {ampm}", "%Y-%m-%d %I:%M %p")
    return naive.replace(tzinfo=EASTERN)


def candidate_slots(start: datetime, end: datetime, base_url: str) -> list[ReportSlot]:
    """Every slot whose ET time lies in [start, end] (aware datetimes), oldest first."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("candidate_slots needs time-zone-aware datetimes")
    cursor = start.astimezone(EASTERN).replace(second=0, microsecond=0)
    # Round up to the first slot boundary of the scheme in force that day.
    step_min = int(slot_step(cursor.date()).total_seconds() // 60)
    cursor += timedelta(minutes=(-cursor.minute) % step_min)
    slots: list[ReportSlot] = []
    end_et = end.astimezone(EASTERN)
    seen: set[str] = set()
    while cursor <= end_et:
        name = report_filename(cursor)
        if name not in seen:  # the repeated 01:xx hour when DST ends maps to one file name
            seen.add(name)
            slots.append(ReportSlot(cursor, name, f"{base_url.rstrip('/')}/{name}"))
        # Step in UTC so the DST switch neither repeats nor skips an instant; read the ET wall time after.
        cursor = (cursor.astimezone(UTC) + slot_step(cursor.date())).astimezone(EASTERN)
    return slots


def slots_for_day(day: date, base_url: str) -> list[ReportSlot]:
    start = datetime.combine(day, datetime.min.time(), EASTERN)
    end = datetime.combine(day, datetime.max.time(), EASTERN)
    return candidate_slots(start, end, base_url)


def fetch_report(client: HttpClient, slot: ReportSlot) -> FetchResult | None:
    """The PDF at a slot, None when the slot has no report (403/404). SourceError for a non-PDF body."""
    from snapshots_ingest.limits import InputLimits

    # the PDF cap at the fetch: an oversized "report" is dropped while streaming, never stored
    result = client.get(SOURCE, slot.url, absent_statuses=ABSENT_STATUSES,
                        max_bytes=InputLimits.from_env().pdf_max_bytes)
    if result is None:
        return None
    if not result.content.lstrip()[:1024].startswith(PDF_MAGIC):
        head = result.content[:40]
        raise SourceError(
            SOURCE,
            result.url,
            f"body is not a PDF (no %PDF- header; content-type {result.content_type!r}, starts with {head!r})",
        )
    return result


def latest_report(
    client: HttpClient, as_of: datetime, lookback: timedelta, base_url: str
) -> tuple[ReportSlot, FetchResult] | None:
    """The newest report whose slot is at or before `as_of`, looking back at most `lookback`."""
    for slot in reversed(candidate_slots(as_of - lookback, as_of, base_url)):
        result = fetch_report(client, slot)
        if result is not None:
            return slot, result
    return None
