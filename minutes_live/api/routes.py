"""The read routes of /v1 (docs/api.md has examples). Each parses and checks its values like the CLI's flags
(foundation.cli_values: a bad one is 400 with the same one-line message and exit code 2), reads the dataset
it names in its own thread (minutes_live.api.app.reading), and returns what minutes_live.api.views builds.
No route reads a path built from a request: dates, run ids and dataset names are checked against their
patterns and only ever name folders through foundation.settings and foundation.publication.
"""

from __future__ import annotations

import gzip
import json
import re
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from foundation import cli_values
from foundation.guardrails import InvalidInput
from minutes_live.api import selection, views
from minutes_live.api.app import API_VERSION, SlatesUnavailable, reading

router = APIRouter(prefix="/v1", tags=["read"])

TEAM_RE = re.compile(r"\A(?:[A-Z]{2,4}|[0-9]{1,12})\Z")
SLATE_RE = re.compile(r"\A[a-z0-9][a-z0-9_-]{0,39}\Z")
MIN_DELTA_BOUNDS = (0, 48)

DATE = Annotated[str, Path(description="Slate date YYYY-MM-DD (US/Eastern calendar date of the tips).",
                           examples=["2022-01-15"])]
DATASET = Annotated[str | None, Query(description="live, or a replay / synthetic dataset's name (nba, "
                                      "synthetic_league). Default: the server's, else the one with runs of the date.")]
AS_OF = Annotated[str | None, Query(description="ISO-8601 instant with an offset: the newest complete run with "
                                    "run_as_of_ts <= as_of (the information state at that instant).",
                                    examples=["2022-01-15T23:00:00Z"])]
SERVED_AT = Annotated[str | None, Query(description="ISO-8601 instant with an offset: the run `latest` named at "
                                        "that wall-clock instant (the publication history; pins count).")]
RUN = Annotated[str | None, Query(description="A run id YYYYMMDDTHHMMSSZ (instead of as_of / served_at).")]
TEAM = Annotated[str | None, Query(description="A team tricode (BOS) or team id.")]
SLATE = Annotated[str | None, Query(description="A named slate of the date (early, main, late, or a configured "
                                    "one): only its games.")]


def parse_day(value: str) -> date:
    return cli_values.parse_date(value, "date")


def parse_ts(value: str | None, name: str) -> datetime | None:
    return None if value is None else cli_values.parse_ts(value, name, default_now=False)


def parse_team(value: str | None) -> str | None:
    if value is None:
        return None
    if not TEAM_RE.match(value):
        raise InvalidInput(f"team {value!r} is not a tricode (2-4 capital letters) or a team id")
    return value


def slate_games(day: date, slate: str | None, dataset: str) -> set[str] | None:
    """The game ids of a named slate (minutes_live.runs.slates, when installed); None without `slate`."""
    if slate is None:
        return None
    if not SLATE_RE.match(slate):
        raise InvalidInput(f"slate {slate!r} is not a slate name (lower-case letters, digits, - and _)")
    try:
        from minutes_live.runs import slates
    except ImportError:
        raise SlatesUnavailable("slate: slates are not available on this server (minutes_live.runs.slates is "
                                "not installed); ask without slate=") from None
    return {str(g) for g in slates.slate_game_ids(day, slate, dataset)}


class Encoded:
    """JSON answers as bytes, plain and gzip-compressed, cached by what they are computed from (a run's folders,
    the selection and the filters): a busy slate is encoded once, not once per client."""

    def __init__(self, keep: int = 256):
        self.cache = views.RunCache(keep)

    def response(self, request: Request, key: tuple, make) -> Response:
        def encode():
            raw = json.dumps(make(), separators=(",", ":"), default=str, allow_nan=False).encode()
            return raw, gzip.compress(raw, compresslevel=6) if len(raw) > 1024 else None

        raw, packed = self.cache.get(key, encode)
        if packed is not None and "gzip" in request.headers.get("accept-encoding", ""):
            return Response(packed, media_type="application/json",
                            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
        return Response(raw, media_type="application/json")


encoded = Encoded()


def _select(day: date, as_of: str | None, served_at: str | None, run: str | None) -> selection.Selected:
    return selection.select(day, as_of_ts=parse_ts(as_of, "as_of"), served_at_ts=parse_ts(served_at, "served_at"),
                            run_id=None if run is None else cli_values.parse_run_id(run, "run"))


@router.get("/health", summary="The server answers")
def health() -> dict:
    return {"ok": True, "version": API_VERSION}


@router.get("/slates/{date}/projections", summary="Player projections of a date, with provenance")
def get_projections(request: Request, date: DATE, as_of: AS_OF = None, served_at: SERVED_AT = None,
                    run: RUN = None, dataset: DATASET = None, slate: SLATE = None, team: TEAM = None):
    """One row per player of the chosen run (`latest`, `as_of`, `served_at` or `run`), filtered by `team` and
    `slate`. Each row's `provenance`: run id, bundle id, code version, and per input kind (injuries, odds,
    roster) the snapshot_ts it selected with the raw extract and its sha256."""
    day = parse_day(date)
    team = parse_team(team)
    with reading(request, dataset, day) as name:
        games = slate_games(day, slate, name)
        picked = _select(day, as_of, served_at, run)
        key = (views.run_key("projections", day, picked.run_id), tuple(sorted(picked.as_dict().items())), team,
               None if games is None else tuple(sorted(games)))
        return encoded.response(request, key, lambda: views.projections(day, picked, team=team, games=games))


@router.get("/slates/{date}/runs", summary="The runs of a date")
def get_runs(request: Request, date: DATE, dataset: DATASET = None) -> dict:
    """Every run of the date (newest first) with its status, kinds on disk, `latest` / pin, freshness; what
    `latest` names now, the pin, and the publication history (every move of `latest`)."""
    day = parse_day(date)
    with reading(request, dataset, day):
        return views.runs(day)


@router.get("/slates/{date}/diff", summary="Who moved between two runs, and why")
def get_diff(request: Request, date: DATE,
             from_: Annotated[str, Query(alias="from", description="Run id, or latest.")],
             to: Annotated[str, Query(description="Run id, or latest.")],
             min_delta: Annotated[float, Query(description="Minutes of p50 move that count (0-48).")] = 3.0,
             dataset: DATASET = None) -> dict:
    """`minutes-live runs diff`: players whose p50 moved by more than min_delta, changed status or joined /
    left the roster, with the reasons read from the two runs' features."""
    day = parse_day(date)
    refs = [r if r == "latest" else cli_values.parse_run_id(r, name) for r, name in ((from_, "from"), (to, "to"))]
    cli_values.number_in_bounds(min_delta, "min_delta", MIN_DELTA_BOUNDS)
    with reading(request, dataset, day):
        return views.diff(day, refs[0], refs[1], min_delta)


@router.get("/slates/{date}/scenarios", summary="Game-time-decision worlds")
def get_scenarios(request: Request, date: DATE, as_of: AS_OF = None, served_at: SERVED_AT = None,
                  run: RUN = None, dataset: DATASET = None, slate: SLATE = None, team: TEAM = None):
    """Per questionable / doubtful player of the chosen run: the world where he sits and the one where he
    plays, each with its probability and every teammate's minutes in it."""
    day = parse_day(date)
    team = parse_team(team)
    with reading(request, dataset, day) as name:
        games = slate_games(day, slate, name)
        picked = _select(day, as_of, served_at, run)
        key = (views.run_key("scenarios", day, picked.run_id), tuple(sorted(picked.as_dict().items())), team,
               None if games is None else tuple(sorted(games)))
        return encoded.response(request, key, lambda: views.scenarios(day, picked, team=team, games=games))
