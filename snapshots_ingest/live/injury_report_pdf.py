"""Parse the NBA's official injury-report PDF into rows, using page geometry rather than text guessing.

Layout facts this parser relies on (checked on real reports from 2023 and 2026):
- The grey header row on page 1 gives the seven column cells (Game Date, Game Time, Matchup, Team,
  Player Name, Current Status, Reason). Later pages have no header; the same columns apply.
- The PDFs contain no space glyphs: characters inside a word touch (gap 0 pt), words are ~2.3 pt apart
  (a Calibri 10 pt space). Spaces are therefore recovered from x-gaps between glyphs.
- Each player row is the vertical band between two horizontal rules drawn across the Player column.
  A wrapped reason prints lines above and below the player's line, all inside the band.
- Game Date, Game Time, Matchup and Team print only when they change, also across page breaks: carried.
- A band at the top of a page holding only reason text continues the previous page's last row.
- A team that has not submitted prints "NOT YET SUBMITTED" in the Reason column and no player.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import pdfplumber

from foundation.clock import LEAGUE_TZ as EASTERN

COLUMNS: tuple[str, ...] = (
    "game_date",
    "game_time",
    "matchup",
    "team",
    "player_name",
    "current_status",
    "reason",
)
GROUP_COLUMNS: tuple[str, ...] = ("game_date", "game_time", "matchup", "team")
# Header labels as printed, in column order (the header text has no spaces either; compared squashed).
HEADER_LABELS: tuple[str, ...] = (
    "GameDate",
    "GameTime",
    "Matchup",
    "Team",
    "PlayerName",
    "CurrentStatus",
    "Reason",
)
NOT_YET_SUBMITTED = "NOT YET SUBMITTED"

# Word gaps are ~2.3 pt and in-word gaps 0 pt; anything above 1 pt is a space.
WORD_GAP_PT = 1.0
# Header labels start 4 pt right of their cell edge; used only when the header cells are not drawn.
HEADER_TEXT_INSET_PT = 4.0
_BANNER = re.compile(r"Injury\s*Report:\s*(\d{2}/\d{2}/\d{2})\s*(\d{1,2}:\d{2})\s*([AP]M)", re.I)
_GAME_TIME = re.compile(r"^(\d{1,2}):(\d{2})\s*\(ET\)$")


class InjuryReportParseError(ValueError):
    """The PDF does not have the injury-report layout; the message names the file and page."""


@dataclass(frozen=True)
class InjuryReportRow:
    report_ts_et: datetime  # naive America/New_York wall time from the banner
    page: int  # 1-based page holding the player's line (the team's line for NOT YET SUBMITTED)
    game_date: date
    game_time_et: str  # "19:30", 24-hour (see read_game_time for the AM/PM rule)
    matchup: str  # "MIA@BOS" as printed
    team: str  # "Miami Heat" as printed
    player_name: str | None  # "Jaquez Jr., Jaime" as printed; None for NOT YET SUBMITTED
    current_status: str | None
    reason: str | None
    not_yet_submitted: bool

    @property
    def report_ts_utc(self) -> datetime:
        return self.report_ts_et.replace(tzinfo=EASTERN).astimezone(UTC)


@dataclass(frozen=True)
class InjuryReport:
    """One parsed report: its banner stamp and its rows. A report that parses has its banner and the column
    header on page 1 (both are required), so `rows == []` means "header found, 0 player rows"."""

    report_ts_et: datetime  # naive America/New_York wall time from the banner
    pages: int
    rows: list[InjuryReportRow]

    @property
    def report_date(self) -> date:
        """The banner's (US/Eastern) date."""
        return self.report_ts_et.date()

    @property
    def game_dates(self) -> list[date]:
        return sorted({r.game_date for r in self.rows})


@dataclass(frozen=True)
class _Line:
    column: str
    top: float
    bottom: float
    text: str

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


def read_game_time(printed: str) -> str:
    """'07:30 (ET)' -> '19:30'. The report has no AM/PM: 12:xx stays (noon hour), 01-11 are PM.

    A real morning tip (11:00 AM) would be mis-read; the PDF cannot tell the two apart.
    """
    m = _GAME_TIME.match(printed.strip())
    if not m:
        raise InjuryReportParseError(f"game time {printed!r} is not in the 'HH:MM (ET)' form")
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour != 12:
        hour += 12
    return f"{hour:02d}:{minute:02d}"


def read_report_ts(banner_text: str) -> datetime:
    """'Injury Report: 05/09/23 12:30 AM' -> naive ET datetime 2023-05-09 00:30."""
    m = _BANNER.search(banner_text)
    if not m:
        raise InjuryReportParseError(f"no 'Injury Report: MM/DD/YY HH:MM AM' banner in {banner_text[:80]!r}")
    return datetime.strptime(f"{m.group(1)} {m.group(2)} {m.group(3).upper()}", "%m/%d/%y %I:%M %p")


def _text_from_chars(chars: list[dict]) -> str:
    chars = sorted(chars, key=lambda c: c["x0"])
    parts: list[str] = []
    prev_x1: float | None = None
    for c in chars:
        if prev_x1 is not None and c["x0"] - prev_x1 > WORD_GAP_PT:
            parts.append(" ")
        parts.append(c["text"])
        prev_x1 = c["x1"]
    return "".join(parts)


def _column_edges(page: pdfplumber.page.Page) -> tuple[list[float], float] | None:
    """The 8 cell edges of the header row (7 columns) and the header's bottom; None without a header."""
    header_chars = [c for c in page.chars if c["text"].strip()]
    by_top: dict[float, list[dict]] = {}
    for c in header_chars:
        by_top.setdefault(round(c["top"], 1), []).append(c)
    for _, chars in sorted(by_top.items()):
        squashed = "".join(c["text"] for c in sorted(chars, key=lambda c: c["x0"]))
        if not squashed.startswith("GameDateGameTimeMatchupTeam"):
            continue
        # x0 of each label: walk the squashed text label by label.
        ordered = sorted(chars, key=lambda c: c["x0"])
        starts: list[dict] = []
        pos = 0
        for label in HEADER_LABELS:
            if squashed[pos : pos + len(label)] != label:
                raise InjuryReportParseError(f"page {page.page_number}: unexpected header {squashed!r}")
            starts.append(ordered[pos])
            pos += len(label)
        middle = (starts[0]["top"] + starts[0]["bottom"]) / 2
        cells = sorted(
            (r for r in page.rects if r["top"] <= middle <= r["bottom"] and r["x1"] - r["x0"] > 10),
            key=lambda r: r["x0"],
        )
        edges: list[float] = []
        for start in starts:
            cell = next((r for r in cells if r["x0"] <= start["x0"] < r["x1"]), None)
            edges.append(cell["x0"] if cell else start["x0"] - HEADER_TEXT_INSET_PT)
        last_cell = next((r for r in cells if r["x0"] <= starts[-1]["x0"] < r["x1"]), None)
        edges.append(last_cell["x1"] if last_cell else page.width)
        return edges, max(c["bottom"] for c in chars)
    return None


def _banner(page: pdfplumber.page.Page) -> tuple[str, float]:
    """The banner text and its bottom edge (the table starts below it on pages without a header)."""
    words = [w for w in page.extract_words() if w["top"] < page.height / 4]
    for first in words:
        line = [w for w in words if abs(w["top"] - first["top"]) < 2]
        text = " ".join(w["text"] for w in sorted(line, key=lambda w: w["x0"]))
        m = _BANNER.search(text)
        if m:
            return m.group(0), max(w["bottom"] for w in line)
    raise InjuryReportParseError(f"page {page.page_number}: no 'Injury Report: MM/DD/YY HH:MM AM' banner")


def _page_lines(
    page: pdfplumber.page.Page, edges: list[float], table_top: float
) -> tuple[list[_Line], list[float]]:
    """Text lines per column inside the table area, and the row rules (tops) below table_top."""
    player_left, player_right = edges[4], edges[5]
    rules = sorted(
        e["top"]
        for e in page.horizontal_edges
        if e["x0"] <= player_left + 1 and e["x1"] >= player_right - 1 and e["top"] > table_top + 0.5
    )
    table_bottom = rules[-1] if rules else page.height
    grouped: dict[tuple[str, float], list[dict]] = {}
    for c in page.chars:
        if not c["text"].strip():
            continue
        if not (table_top <= c["top"] and c["bottom"] <= table_bottom):
            continue
        col = next((COLUMNS[i] for i in range(7) if edges[i] <= c["x0"] < edges[i + 1]), None)
        if col is None:
            continue
        grouped.setdefault((col, round(c["top"], 1)), []).append(c)
    lines = [
        _Line(col, min(c["top"] for c in cs), max(c["bottom"] for c in cs), _text_from_chars(cs))
        for (col, _), cs in grouped.items()
    ]
    lines.sort(key=lambda ln: (ln.top, COLUMNS.index(ln.column)))
    return lines, rules


def _bands(table_top: float, rules: list[float]) -> list[tuple[float, float]]:
    bounds: list[float] = [table_top]
    for r in rules:
        if r - bounds[-1] > 0.5:
            bounds.append(r)
    return list(zip(bounds, bounds[1:], strict=False))


def parse_injury_report(source: bytes | str | Path, *, name: str = "") -> list[InjuryReportRow]:
    """All rows of one report, in printed order. Raises InjuryReportParseError naming file and page."""
    return read_injury_report(source, name=name).rows


def read_injury_report(source: bytes | str | Path, *, name: str = "", max_pages: int | None = None) -> InjuryReport:
    """The report's banner stamp, page count and rows. Raises InjuryReportParseError naming file and page.

    In-process and unbounded in time and memory: input from elsewhere goes through
    snapshots_ingest.live.pdf_sandbox.read_injury_report_bounded, which runs this in a limited child."""
    label = name or (str(source) if not isinstance(source, bytes) else "<pdf bytes>")
    opened = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        pdf = pdfplumber.open(opened)
    except (InjuryReportParseError, MemoryError):
        raise
    except Exception as exc:  # pdfminer raises several unrelated types for broken files
        raise InjuryReportParseError(f"{label}: not a readable PDF ({type(exc).__name__}: {exc})") from exc
    try:
        if max_pages is not None and len(pdf.pages) > max_pages:
            raise InjuryReportParseError(
                f"{label}: the PDF has {len(pdf.pages)} pages, over the cap of {max_pages} "
                "($MINUTES_LIVE_PDF_MAX_PAGES; real injury reports have 2-15)")
        return _parse_pages(pdf.pages, label)
    except (InjuryReportParseError, MemoryError):
        raise
    except Exception as exc:
        raise InjuryReportParseError(
            f"{label}: unreadable PDF content ({type(exc).__name__}: {exc})"
        ) from exc
    finally:
        pdf.close()


def _parse_pages(pages: Iterable[pdfplumber.page.Page], label: str) -> InjuryReport:
    rows: list[InjuryReportRow] = []
    n_pages = 0
    edges: list[float] | None = None
    carried: dict[str, str] = {}
    report_ts: datetime | None = None
    for page in pages:
        n_pages += 1
        where = f"{label} page {page.page_number}"
        banner_text, banner_bottom = _banner(page)
        page_ts = read_report_ts(banner_text)
        if report_ts is None:
            report_ts = page_ts
        elif page_ts != report_ts:
            raise InjuryReportParseError(f"{where}: banner says {page_ts}, page 1 says {report_ts}")
        header = _column_edges(page)
        if header is not None:
            edges, table_top = header
        elif edges is None:
            raise InjuryReportParseError(f"{where}: no column header (Game Date ... Reason) found")
        else:
            table_top = banner_bottom
        lines, rules = _page_lines(page, edges, table_top)
        for band_top, band_bottom in _bands(table_top, rules):
            in_band = [ln for ln in lines if band_top <= ln.middle < band_bottom]
            if not in_band:
                continue
            by_col: dict[str, list[_Line]] = {c: [ln for ln in in_band if ln.column == c] for c in COLUMNS}
            for col in GROUP_COLUMNS:
                if by_col[col]:
                    carried[col] = " ".join(ln.text for ln in by_col[col])
            players, reasons = by_col["player_name"], by_col["reason"]
            reason_text = " ".join(ln.text for ln in reasons)
            if players:
                rows.extend(
                    _player_rows(players, by_col["current_status"], reasons, carried, report_ts, page, where)
                )
            elif reason_text == NOT_YET_SUBMITTED:
                rows.append(_row(carried, report_ts, page.page_number, None, None, None, True, where))
            elif reasons and not any(by_col[c] for c in GROUP_COLUMNS + ("current_status",)):
                if not rows or rows[-1].not_yet_submitted:
                    raise InjuryReportParseError(f"{where}: reason text {reason_text!r} belongs to no player")
                prev = rows[-1]
                rows[-1] = replace(
                    prev, reason=f"{prev.reason} {reason_text}" if prev.reason else reason_text
                )
            else:
                texts = [ln.text for ln in in_band]
                raise InjuryReportParseError(f"{where}: cannot read row band at y={band_top:.1f}: {texts}")
    if report_ts is None:
        raise InjuryReportParseError(f"{label}: the PDF has no pages")
    return InjuryReport(report_ts, n_pages, rows)


def _player_rows(
    players: list[_Line],
    statuses: list[_Line],
    reasons: list[_Line],
    carried: dict[str, str],
    report_ts: datetime,
    page: pdfplumber.page.Page,
    where: str,
) -> list[InjuryReportRow]:
    # Normally one player per band; if rules are missing, each reason line goes to the nearest player.
    out = []
    for player in players:
        status = min(statuses, key=lambda s: abs(s.middle - player.middle), default=None)
        mine = [r for r in reasons if min(players, key=lambda p: abs(p.middle - r.middle)) is player]
        reason = " ".join(r.text for r in mine) or None
        out.append(
            _row(
                carried,
                report_ts,
                page.page_number,
                player.text,
                status.text if status else None,
                reason,
                False,
                where,
            )
        )
    return out


def _row(
    carried: dict[str, str],
    report_ts: datetime,
    page: int,
    player: str | None,
    status: str | None,
    reason: str | None,
    nys: bool,
    where: str,
) -> InjuryReportRow:
    missing = [c for c in GROUP_COLUMNS if c not in carried]
    if missing:
        raise InjuryReportParseError(
            f"{where}: row {player or NOT_YET_SUBMITTED!r} has no {missing} printed above it"
        )
    try:
        game_date = datetime.strptime(carried["game_date"], "%m/%d/%Y").date()
    except ValueError as exc:
        raise InjuryReportParseError(
            f"{where}: game date {carried['game_date']!r} is not MM/DD/YYYY"
        ) from exc
    try:
        game_time = read_game_time(carried["game_time"])
    except InjuryReportParseError as exc:
        raise InjuryReportParseError(f"{where}: {exc}") from exc
    return InjuryReportRow(
        report_ts_et=report_ts,
        page=page,
        game_date=game_date,
        game_time_et=game_time,
        matchup=carried["matchup"],
        team=carried["team"],
        player_name=player,
        current_status=status,
        reason=reason,
        not_yet_submitted=nys,
    )
