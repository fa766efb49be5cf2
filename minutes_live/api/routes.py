"""The read routes of /v1 (docs/api.md has examples). Each parses and checks its values like the CLI's flags
(foundation.cli_values: a bad one is 400 with the same one-line message and exit code 2), reads the dataset
it names in its own thread (minutes_live.api.app.reading), and returns what minutes_live.api.views builds.
No route reads a path built from a request: dates, run ids and dataset names are checked against their
patterns and only ever name folders through foundation.settings and foundation.publication.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from foundation import cli_values, settings
from foundation.guardrails import InvalidInput
from foundation.publication import Roots
from foundation.registry import registry_path
from minutes_live.api import schemas, selection, views
from minutes_live.api.app import API_VERSION, SlatesUnavailable, reading

router = APIRouter(prefix="/v1", tags=["read"])

TEAM_RE = re.compile(r"\A(?:[A-Z]{2,4}|[0-9]{1,12})\Z")
SLATE_RE = re.compile(r"\A[a-z0-9][a-z0-9_-]{0,39}\Z")
MIN_DELTA_BOUNDS = (0, 48)
SLATE_TTL_S = 5.0

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


class Answers:
    """Encoded answers (JSON bytes, plain and gzip) cached by the route, its checked values, the dataset and the
    date's stamp: what any answer about the date is read from, as a few syscalls (the publication pointer's
    target, which changes on every move of `latest`; each root's date folder, which changes when a run folder
    is renamed into place or replaced; the registry). An answer whose stamp is unchanged is sent from the event
    loop without touching a run file: a busy slate is read and encoded once, not once per client."""

    def __init__(self, keep: int = 256, dataset_ttl_s: float = 2.0):
        self.cache = views.RunCache(keep)
        self.dataset_ttl_s = dataset_ttl_s
        self._chosen: dict[date, tuple[float, str]] = {}

    def dataset(self, request: Request, dataset: str | None, day: date) -> str:
        """The dataset a read names: checked, or the server's, or the catalog's choice for the date (kept for
        `dataset_ttl_s` seconds: choosing reads every dataset's registry)."""
        if dataset is not None or request.app.state.config.dataset is not None:
            with reading(request, dataset, day) as name:
                return name
        now = time.monotonic()
        hit = self._chosen.get(day)
        if hit is None or hit[0] < now:
            with reading(request, None, day) as name:
                hit = (now + self.dataset_ttl_s, name)
            self._chosen[day] = hit
        return hit[1]

    @staticmethod
    def stamp(day: date, dataset: str) -> tuple:
        roots = Roots.default(dataset=dataset)
        parts: list = [_readlink(roots.anchor / day.isoformat() / ".publication" / "current")]
        for kind in roots.kinds:
            parts.append(_stat_key(roots.root(kind) / day.isoformat()))
        parts.append(_stat_key(registry_path(settings.registry_root(dataset))))
        return tuple(parts)

    async def answer(self, request: Request, key: tuple, day: date, dataset: str | None, make) -> Response:
        """`make(dataset)` (in a worker thread, inside the dataset's scope) unless the date is unchanged."""
        hit = self._chosen.get(day) if dataset is None and request.app.state.config.dataset is None else None
        if hit is not None and hit[0] >= time.monotonic():
            name = hit[1]
        elif dataset is not None or request.app.state.config.dataset is not None:
            name = self.dataset(request, dataset, day)  # a name to check: no file read
        else:
            name = await run_in_threadpool(self.dataset, request, dataset, day)
        full = (key, name, self.stamp(day, name))
        hit = self.cache.peek(full)
        if hit is None:
            def compute():
                with reading(request, name, day):
                    return self._encode(make(name))

            hit = await run_in_threadpool(lambda: self.cache.get(full, compute))
        raw, packed = hit
        if packed is not None and "gzip" in request.headers.get("accept-encoding", ""):
            return Response(packed, media_type="application/json",
                            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
        return Response(raw, media_type="application/json")

    @staticmethod
    def _encode(payload: dict) -> tuple[bytes, bytes | None]:
        raw = json.dumps(payload, separators=(",", ":"), default=str, allow_nan=False).encode()
        return raw, gzip.compress(raw, compresslevel=6) if len(raw) > 1024 else None


def _readlink(path) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def _stat_key(path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


answers = Answers()


def _run(value: str | None) -> str | None:
    return None if value is None else cli_values.parse_run_id(value, "run")


@router.get("/health", summary="The server answers", response_model=None,
            responses=schemas.answers(schemas.Health, "The server answers.", schemas.OTHER_ERRORS))
async def health() -> dict:
    return {"ok": True, "version": API_VERSION}


def _slate_epoch(slate: str | None) -> int | None:
    """Slates are configuration, not runs: an answer filtered by one is kept at most SLATE_TTL_S seconds."""
    return None if slate is None else int(time.monotonic() // SLATE_TTL_S)


@dataclass(frozen=True)
class OneRun:
    """The checked query of a read about one run of a date (projections, scenarios): which run (`latest`,
    `as_of`, `served_at` or `run`: minutes_live.api.selection), the dataset, and the `slate` / `team` filters."""

    day: date
    team: str | None
    at: datetime | None
    served: datetime | None
    run_id: str | None
    slate: str | None
    dataset: str | None

    async def answer(self, request: Request, view) -> Response:
        """`view(day, selected, team=, games=)` (views.projections or views.scenarios), cached by the view's name
        and the checked values."""
        def make(name: str) -> dict:
            selected = selection.select(self.day, as_of_ts=self.at, served_at_ts=self.served, run_id=self.run_id)
            return view(self.day, selected, team=self.team, games=slate_games(self.day, self.slate, name))

        key = (view.__name__, self.at, self.served, self.run_id, self.team, self.slate, _slate_epoch(self.slate))
        return await answers.answer(request, key, self.day, self.dataset, make)


async def one_run(date: DATE, as_of: AS_OF = None, served_at: SERVED_AT = None, run: RUN = None,
                  dataset: DATASET = None, slate: SLATE = None, team: TEAM = None) -> OneRun:
    """The parameters of projections and scenarios, checked in this order (the first bad one is the 400). An
    async dependency: FastAPI would run a plain one in a worker thread, and a cached answer needs none."""
    return OneRun(day=parse_day(date), team=parse_team(team), at=parse_ts(as_of, "as_of"),
                  served=parse_ts(served_at, "served_at"), run_id=_run(run), slate=slate, dataset=dataset)


@router.get("/slates/{date}/projections", summary="Player projections of a date, with provenance",
            responses=schemas.answers(schemas.Projections, "The rows of the chosen run.", schemas.SLATE_ERRORS))
async def get_projections(request: Request, query: Annotated[OneRun, Depends(one_run)]):
    """One row per player of the chosen run (`latest`, `as_of`, `served_at` or `run`), filtered by `team` and
    `slate`. Each row's `provenance`: run id, bundle id, code version, and per input kind (injuries, odds,
    roster) the snapshot_ts it selected with the raw extract and its sha256."""
    return await query.answer(request, views.projections)


@router.get("/slates/{date}/runs", summary="The runs of a date",
            responses=schemas.answers(schemas.Runs, "The date's runs and its publication history."))
async def get_runs(request: Request, date: DATE, dataset: DATASET = None):
    """Every run of the date (newest first) with its status, kinds on disk, `latest` / pin, freshness; what
    `latest` names now, the pin, and the publication history (every move of `latest`)."""
    day = parse_day(date)
    return await answers.answer(request, ("runs",), day, dataset, lambda name: views.runs(day))


@router.get("/slates/{date}/diff", summary="Who moved between two runs, and why",
            responses=schemas.answers(schemas.Diff, "The players who moved."))
async def get_diff(request: Request, date: DATE,
                   from_: Annotated[str, Query(alias="from", description="Run id, or latest.")],
                   to: Annotated[str, Query(description="Run id, or latest.")],
                   min_delta: Annotated[float, Query(description="Minutes of p50 move that count (0-48).")] = 3.0,
                   dataset: DATASET = None):
    """`minutes-live runs diff`: players whose p50 moved by more than min_delta, changed status or joined /
    left the roster, with the reasons read from the two runs' features."""
    day = parse_day(date)
    refs = [r if r == "latest" else cli_values.parse_run_id(r, name) for r, name in ((from_, "from"), (to, "to"))]
    cli_values.number_in_bounds(min_delta, "min_delta", MIN_DELTA_BOUNDS)
    return await answers.answer(request, ("diff", *refs, min_delta), day, dataset,
                                lambda name: views.diff(day, refs[0], refs[1], min_delta))


@router.get("/slates/{date}/scenarios", summary="Game-time-decision worlds",
            responses=schemas.answers(schemas.Scenarios, "The decisions of the chosen run.", schemas.SLATE_ERRORS))
async def get_scenarios(request: Request, query: Annotated[OneRun, Depends(one_run)]):
    """Per questionable / doubtful player of the chosen run: the world where he sits and the one where he
    plays, each with its probability and every teammate's minutes in it."""
    return await query.answer(request, views.scenarios)
