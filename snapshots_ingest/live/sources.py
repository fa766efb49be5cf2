"""Live extracts per snapshot kind: fetch over HTTP, return `Extract`s the ingest engine persists and parses.

Fetching happens here (I/O); each Extract's `parse` is a pure function of the bytes received, so a
persisted extract can be re-parsed later. Requests made only to find what to fetch (the schedule, to
know a date's games and teams) are not extracts of their own kind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial

import pandas as pd

from snapshots_ingest.extract import SLATE_COVERAGE_ATTR, Extract
from snapshots_ingest.live import nba_boxscore, nba_roster, nba_schedule, report_discovery
from snapshots_ingest.live.http_client import HttpClient, LiveSourceConfig, SourceError
from snapshots_ingest.live.injury_report_pdf import InjuryReport
from snapshots_ingest.live.injury_rows import to_raw_injuries
from snapshots_ingest.live.odds_provider import JsonOddsProvider
from snapshots_ingest.live.pdf_sandbox import read_injury_report_bounded
from snapshots_ingest.raw_store import KINDS

log = logging.getLogger(__name__)
LIVE_KINDS = ("schedule", "roster", "injuries", "odds", "box_scores")
assert set(LIVE_KINDS) <= set(KINDS), "every live kind must be a raw_store kind"
UNMATCHED_ATTR = "unmatched_names"  # frame.attrs key: names the run summary must list


def _slate_schedule(client: HttpClient, config: LiveSourceConfig, slate: date) -> pd.DataFrame:
    fetched = client.get(nba_schedule.SOURCE, config.schedule_url)
    assert fetched is not None
    return nba_schedule.parse_schedule(
        fetched.content, url=fetched.url, fetched_at=fetched.fetched_at, game_dates={slate}
    )


def _schedule_extracts(client: HttpClient, config: LiveSourceConfig, slate: date) -> list[Extract]:
    fetched = client.get(nba_schedule.SOURCE, config.schedule_url)
    assert fetched is not None
    parse = partial(
        nba_schedule.parse_schedule, url=fetched.url, fetched_at=fetched.fetched_at, game_dates={slate}
    )
    return [Extract("schedule", slate, "schedule.json", fetched.content, parse, origin=fetched.url)]


def _team_games(schedule: pd.DataFrame) -> list[tuple[str, int, str]]:
    """(tricode, game_id, season) for every team playing in the schedule frame."""
    out = []
    for g in schedule.itertuples(index=False):
        out.append((g.home_tricode, int(g.game_id), g.season))
        out.append((g.away_tricode, int(g.game_id), g.season))
    return out


def _roster_extracts(client: HttpClient, config: LiveSourceConfig, slate: date) -> list[Extract]:
    extracts = []
    for tricode, game_id, season in _team_games(_slate_schedule(client, config, slate)):
        params = {"LeagueID": "00", "Season": season, "TeamID": str(nba_roster.ids.team_id(tricode))}
        fetched = client.get(nba_roster.SOURCE, config.roster_url, params=params)
        assert fetched is not None
        parse = partial(
            nba_roster.parse_roster,
            url=fetched.url,
            fetched_at=fetched.fetched_at,
            game_date=slate,
            game_id=game_id,
        )
        extracts.append(
            Extract("roster", slate, f"roster_{tricode}.json", fetched.content, parse, origin=fetched.url)
        )
    return extracts


def slate_coverage_problem(report: InjuryReport, slate: date, name: str) -> str | None:
    """Why a parsed report does not cover the slate (one line naming the file), or None when it does.

    Covered = at least one row (player or NOT YET SUBMITTED) of a game dated the slate date: the league's
    evening report lists the next day's games too, so a report's banner date may precede the slate."""
    if not report.rows:
        return f"{name}: header found, 0 player rows (banner date {report.report_date})"
    dates = report.game_dates
    if slate in dates:
        return None
    span = dates[0].isoformat() if len(dates) == 1 else f"{dates[0]}..{dates[-1]}"
    return (f"{name}: banner date {report.report_date}, game dates {span}, slate {slate}: "
            "the report does not cover the slate")


def parse_injuries_for_slate(
    payload: bytes, *, url: str, slate: date, schedule: pd.DataFrame, roster: pd.DataFrame | None
) -> pd.DataFrame:
    """Raw injuries rows of the slate's games; unmatched names are in frame.attrs[UNMATCHED_ATTR], and a
    report that does not cover the slate says why in frame.attrs[SLATE_COVERAGE_ATTR]."""
    report = read_injury_report_bounded(payload, name=url)  # a child process with time and memory limits
    return injuries_frame(report, url=url, slate=slate, schedule=schedule, roster=roster)


def parsed_ahead(payload: bytes, parse: Callable[[bytes], pd.DataFrame]) -> Callable[[bytes], pd.DataFrame]:
    """Run `parse(payload)` now (at fetch time, before the store lock) and return a parser that replays its
    outcome, rows or error, for those bytes (other bytes are parsed afresh). The ingest engine still writes
    the payload to disk before it calls the parser, so a rejected report is kept as before."""
    try:
        outcome: pd.DataFrame | BaseException = parse(payload)
    except Exception as exc:
        outcome = exc

    def replay(data: bytes) -> pd.DataFrame:
        if data != payload:
            return parse(data)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome.copy()

    return replay


def injuries_frame(
    report: InjuryReport, *, url: str, slate: date, schedule: pd.DataFrame, roster: pd.DataFrame | None
) -> pd.DataFrame:
    rows = [r for r in report.rows if r.game_date == slate]
    frame, unmatched = to_raw_injuries(rows, schedule=schedule, roster=roster)
    for miss in unmatched:
        log.warning("injury report %s: unmatched name %s", url, miss)
    frame.attrs[UNMATCHED_ATTR] = [str(m) for m in unmatched]
    problem = slate_coverage_problem(report, slate, url)
    if problem:
        frame.attrs[SLATE_COVERAGE_ATTR] = problem
    return frame


def _injury_extracts(
    client: HttpClient, config: LiveSourceConfig, slate: date, as_of: datetime
) -> list[Extract]:
    found = report_discovery.latest_report(
        client, as_of, timedelta(hours=config.injury_lookback_hours), config.injury_report_base_url
    )
    if found is None:
        log.warning("no injury report in the %s h before %s", config.injury_lookback_hours, as_of.isoformat())
        return []
    slot, fetched = found
    schedule = _slate_schedule(client, config, slate)
    roster_frames = [e.parse(e.payload) for e in _roster_extracts(client, config, slate)]
    roster = pd.concat(roster_frames, ignore_index=True) if roster_frames else None
    parse = partial(parse_injuries_for_slate, url=fetched.url, slate=slate, schedule=schedule, roster=roster)
    return [Extract("injuries", slate, slot.filename, fetched.content, parsed_ahead(fetched.content, parse),
                    origin=fetched.url)]


def _odds_extracts(client: HttpClient, config: LiveSourceConfig, slate: date) -> list[Extract]:
    if not config.odds_url:
        log.warning("no odds feed configured (LiveSourceConfig.odds_url); odds skipped")
        return []
    provider = JsonOddsProvider(config.odds_url)
    fetched = provider.fetch(client, slate)
    parse = partial(provider.parse, url=fetched.url, fetched_at=fetched.fetched_at)
    return [Extract("odds", slate, "odds.json", fetched.content, parse, origin=fetched.url)]


def _box_score_extracts(
    client: HttpClient, config: LiveSourceConfig, slate: date, as_of: datetime
) -> list[Extract]:
    extracts = []
    for g in _slate_schedule(client, config, slate).itertuples(index=False):
        # a game that has not tipped has no box score yet (the host answers 403/404): not an error
        if pd.notna(g.tip_ts) and g.tip_ts > as_of:
            continue
        url = f"{config.boxscore_base_url.rstrip('/')}/boxscore_{g.source_game_id}.json"
        fetched = client.get(nba_boxscore.SOURCE, url)
        assert fetched is not None
        parse = partial(nba_boxscore.parse_boxscore, url=fetched.url, fetched_at=fetched.fetched_at)
        extracts.append(
            Extract(
                "box_scores",
                slate,
                f"boxscore_{g.source_game_id}.json",
                fetched.content,
                parse,
                origin=fetched.url,
            )
        )
    return extracts


def live_extracts(kind: str, date: date, run_as_of_ts: datetime, config: LiveSourceConfig) -> list[Extract]:
    """Fetch one kind for a slate date. Raises SourceError (naming source and URL) when a source fails."""
    if kind not in LIVE_KINDS:
        raise SourceError("live", "-", f"unknown kind {kind!r}; live sources serve {', '.join(LIVE_KINDS)}")
    if run_as_of_ts.tzinfo is None:
        raise ValueError("run_as_of_ts must be time-zone aware")
    with HttpClient(config) as client:
        if kind == "schedule":
            return _schedule_extracts(client, config, date)
        if kind == "roster":
            return _roster_extracts(client, config, date)
        if kind == "injuries":
            return _injury_extracts(client, config, date, run_as_of_ts)
        if kind == "odds":
            return _odds_extracts(client, config, date)
        return _box_score_extracts(client, config, date, run_as_of_ts)
