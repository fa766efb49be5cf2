"""The operator dashboard on the API app (the page engine is minutes_live.dashboard: model, render, explain):

    GET  /?date=D&run=R&dataset=S      the page (run defaults to the date's served `latest`); it follows
                                       /v1/slates/{date}/events and reloads itself when `latest` moves
    GET  /api/explain?date=D&run=R&key=<game_id>-<player_id>   one player's p50 contributions (JSON)
    GET  /api/runs?date=D              the date's runs (JSON, run_catalog.list_runs)
    POST /api/pin    {"date", "run_id", "reason", "dataset"}   Publication.pin   -> {"served", "message"}
    POST /api/unpin  {"date", "dataset"}                        Publication.unpin -> {"served", "message"}
    POST /v1/slates/{date}/pin | /unpin                         the same, the date in the path

Pin and unpin (minutes_live.api.security): the per-start token in X-Minutes-Live-Token, a JSON body, and
the same Origin when one is sent. Rendered pages are cached per publication generation (the date's `latest`
targets, its run folders, the registry and drift files: `generation`).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from foundation import cli_values, settings, state
from foundation.guardrails import InvalidInput
from foundation.publication import Publication, Roots
from minutes_live.api.app import error_response, reading
from minutes_live.api.security import TOKEN_HEADER, is_loopback, same_origin, token_ok, token_path
from minutes_live.api.views import RunCache
from minutes_live.dashboard.explain import explain_run
from minutes_live.dashboard.model import build_page
from minutes_live.dashboard.render import render_page
from minutes_live.runs import catalog

router = APIRouter()
PAGE_CACHE_SIZE = 32
MAX_BODY = 16_384


def _stat_key(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def generation(day: date | None, roots: Roots | None = None, data_root: Path | None = None) -> tuple:
    """What a page of `day` (None: the newest date) is computed from, as stat keys: each root (dates appear),
    the date's folder and `latest` target in each root (a publish, pin or unpin swaps the target file), and
    the registry and drift logs. Run folders are immutable, so an unchanged key means an unchanged page."""
    roots = roots or catalog.default_roots()
    data_root = Path(data_root or catalog.registry_root())
    parts: list = []
    for kind in roots.kinds:
        root = roots.root(kind)
        parts.append(_stat_key(root))
        if day is not None:
            parts += [_stat_key(root / day.isoformat()), _stat_key(root / day.isoformat() / "latest")]
    if day is not None and roots.features is not None:
        parts.append(_stat_key(roots.features / day.isoformat() / ".publication" / "pinned.json"))
    registry_dir = data_root / "registry"
    parts += [_stat_key(registry_dir / "minutes_live_runs.jsonl"), _stat_key(registry_dir / "drift.jsonl")]
    return tuple(parts)


def caches(request: Request) -> dict[str, RunCache]:
    """This app's caches (one set per server): rendered pages, and explanations per run."""
    state = request.app.state
    if not hasattr(state, "page_caches"):
        state.page_caches = {"pages": RunCache(PAGE_CACHE_SIZE), "explanations": RunCache(4)}
    return state.page_caches


def _explained(request: Request, day: date, run_id: str) -> dict:
    def make():
        view = catalog.load_run(day, run_id)
        return explain_run(catalog.load_features(day, run_id), view.scores_summary)

    return caches(request)["explanations"].get((catalog.current_dataset(), day.isoformat(), run_id), make)


def _loopback_client(request: Request) -> bool:
    return request.client is not None and is_loopback(str(request.client.host))


def _day_or_default(request: Request, value: str | None) -> date | None:
    return cli_values.parse_date(value, "date") if value else request.app.state.config.day


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
@router.get("/index.html", response_class=HTMLResponse, include_in_schema=False)
def page(request: Request, date: str | None = None, run: str | None = None, dataset: str | None = None,
         token: str | None = None):
    day = _day_or_default(request, date)
    run_ref = "latest" if not run or run == "latest" else cli_values.parse_run_id(run, "run")
    config = request.app.state.config
    show_token = _loopback_client(request) or token_ok(token, config.token)
    with reading(request, dataset, day) as name:
        key = (name, day, run_ref, show_token, generation(day))
        body = caches(request)["pages"].get(key, lambda: render_page(build_page(day, run_ref),
                                                   token=config.token if show_token else None).encode())
    return HTMLResponse(body)


@router.get("/favicon.ico", include_in_schema=False)
def favicon():
    return Response(status_code=204, media_type="image/x-icon")


@router.get("/api/explain", tags=["dashboard"], summary="One player's p50 explanation")
def api_explain(request: Request, run: str, key: Annotated[str, Query(max_length=64)],
                date: str | None = None, dataset: str | None = None):
    day = _day_or_default(request, date)
    run_id = cli_values.parse_run_id(run, "run")
    if day is None:
        raise InvalidInput("date: no runs yet")
    with reading(request, dataset, day):
        explained = _explained(request, day, run_id)
    if key not in explained:
        return error_response(f"no player {key!r} in run {run_id}", 404)
    return JSONResponse(explained[key])


@router.get("/api/runs", tags=["dashboard"], summary="The date's runs (the dashboard's form)")
def api_runs(request: Request, date: str | None = None, dataset: str | None = None):
    day = _day_or_default(request, date)
    if day is None:
        raise InvalidInput("date: no runs yet")
    with reading(request, dataset, day):
        return {"date": day.isoformat(), "runs": [r.as_dict() for r in catalog.list_runs(day)]}


# ------------------------------------------------------------------------------------- pin, unpin
async def _checked_body(request: Request) -> dict | JSONResponse:
    """The JSON body of a pin / unpin, or the refusal (origin, media type, token, size), in that order."""
    host = request.headers.get("host", "")
    if not same_origin(request.headers.get("origin"), host):
        return error_response("cross-origin request refused", 403)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        return error_response("send a JSON body", 415)
    if not token_ok(request.headers.get(TOKEN_HEADER), request.app.state.config.token):
        return error_response(f"missing or wrong {TOKEN_HEADER} token (printed at start, and in {token_path()})", 403)
    try:
        length = int(request.headers.get("content-length", "0"))
    except ValueError:
        length = 0
    if not 0 < length <= MAX_BODY:
        return error_response("body: empty or too large", 400)
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return error_response("body: empty or too large", 400)
    try:
        body = state.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return error_response(f"body: not JSON ({exc})", 400)
    if not isinstance(body, dict):
        return error_response("body: expected a JSON object", 400)
    return body


def _pin_or_unpin(request: Request, what: str, body: dict, day_value: str) -> dict:
    day = cli_values.parse_date(day_value, "date")
    dataset = body.get("dataset")
    if dataset is not None and not isinstance(dataset, str):
        raise InvalidInput("dataset: expected a name")
    if dataset:
        try:
            settings.check_dataset_name(dataset)
        except ValueError as exc:
            raise InvalidInput(f"dataset: {exc}") from None
    with reading(request, dataset or None, day):
        pub = Publication(catalog.default_roots(), day, catalog.registry_root())
        if what == "pin":
            run_id = cli_values.parse_run_id(str(body.get("run_id", "")), "run_id")
            reason = str(body.get("reason") or "dashboard")[:200]
            served = pub.pin(run_id, reason)
            message = f"pinned {run_id} for {day}"
        else:
            served = pub.unpin()
            message = f"unpinned {day}"
    latest = ", ".join(f"{k} -> {v or 'none'}" for k, v in served.items())
    return {"served": served, "message": f"{message}; latest: {latest}"}


async def _answer(request: Request, what: str, day_value: str | None):
    from starlette.concurrency import run_in_threadpool

    body = await _checked_body(request)
    if isinstance(body, JSONResponse):
        return body
    return await run_in_threadpool(_pin_or_unpin, request, what, body,
                                   day_value if day_value is not None else str(body.get("date", "")))


@router.post("/api/pin", tags=["dashboard"], summary="Pin a run (token)")
async def api_pin(request: Request):
    return await _answer(request, "pin", None)


@router.post("/api/unpin", tags=["dashboard"], summary="Unpin the date (token)")
async def api_unpin(request: Request):
    return await _answer(request, "unpin", None)


@router.post("/v1/slates/{date}/pin", tags=["write"], summary="Pin a run: latest names it (token)")
async def v1_pin(request: Request, date: str):
    """Body `{"run_id", "reason"}`; header X-Minutes-Live-Token. `latest` names the run until unpinned."""
    return await _answer(request, "pin", date)


@router.post("/v1/slates/{date}/unpin", tags=["write"], summary="Unpin: latest follows the rule again (token)")
async def v1_unpin(request: Request, date: str):
    """Body `{}`; header X-Minutes-Live-Token."""
    return await _answer(request, "unpin", date)
