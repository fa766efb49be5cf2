"""The ASGI app of `minutes-live serve` (FastAPI on Starlette; docs/api.md says why): the /v1 read API, the
event stream, the operator dashboard, /openapi.json and an offline docs page, behind one guard.

    create_app(ServeConfig) -> FastAPI

Every request passes `Guard` (its Host must name this server: minutes_live.api.security; every answer
gets no-store and no-sniff / no-frame headers). Every error is a JSON one-liner `{"error", "exit_code"}`
(foundation.errors.describe; a bug's traceback goes to the server's log, never to the client):

    400  a malformed value (checked like the CLI's flags: foundation.cli_values), exit code 2
    403  a foreign Host, a cross-origin or token-less pin / unpin
    404  no such route, date, run or player
    409  a refused pin / unpin, a damaged run or state file (the guardrail's exit code)
    415  a pin / unpin without a JSON body
    501  a slate filter while slates are not available (minutes_live.runs.slates missing)
    500  a bug
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from foundation import errors, settings
from foundation.guardrails import GuardrailError, InvalidInput
from foundation.publication import PublicationError
from foundation.run_directory import RunDirectoryError
from minutes_live.api.security import allowed_hosts
from minutes_live.dashboard.explain import ExplainError
from minutes_live.runs import catalog

log = logging.getLogger("minutes_live.api")
API_VERSION = "1.0"


class SlatesUnavailable(InvalidInput):
    """The `slate` filter was asked for while minutes_live.runs.slates is not installed (501)."""


@dataclass
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    token: str = ""
    day: date | None = None  # the dashboard's default date
    dataset: str | None = None  # the default dataset of every read (None: the catalog's choice per request)
    alerts_dir: Path | None = None  # where the watcher's alert streams are (minutes_live.api.events)
    hosts: frozenset[str] = field(default_factory=frozenset)


# ------------------------------------------------------------------------------------------- errors
def status_for(exc: BaseException) -> int:
    if isinstance(exc, SlatesUnavailable):
        return 501
    if isinstance(exc, PublicationError | RunDirectoryError):
        return 409
    if isinstance(exc, catalog.CatalogError | ExplainError | FileNotFoundError):
        return 404
    if isinstance(exc, InvalidInput):
        return 400
    if isinstance(exc, GuardrailError) or errors.as_guardrail(exc) is not None:
        return 409
    return 500


def error_body(exc: BaseException | str, status: int | None = None) -> tuple[int, dict]:
    if isinstance(exc, str):
        return status or 400, {"error": errors.one_line(exc), "exit_code": InvalidInput.exit_code}
    status = status or status_for(exc)
    if isinstance(exc, PublicationError | RunDirectoryError):
        return status, {"error": errors.one_line(str(exc)), "exit_code": 2}
    if isinstance(exc, ExplainError | FileNotFoundError):
        exc = InvalidInput(str(exc))
    code, line = errors.describe(exc, log_path="the server's log")
    return status, {"error": line.removeprefix("error: "), "exit_code": code}


def error_response(exc: BaseException | str, status: int | None = None) -> JSONResponse:
    status, body = error_body(exc, status)
    return JSONResponse(body, status_code=status)


# -------------------------------------------------------------------------------------------- guard
class Guard:
    """Pure ASGI middleware: the Host check and the headers every answer carries (streams pass through)."""

    HEADERS = {"cache-control": "no-store", "x-content-type-options": "nosniff", "x-frame-options": "DENY",
               "referrer-policy": "no-referrer"}

    def __init__(self, app, hosts: frozenset[str]):
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
        if host.lower() not in self.hosts:
            response = error_response(f"Host {host!r} is not this server", 403)
            return await response(scope, receive, send)

        async def send_guarded(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in self.HEADERS.items():
                    if k not in headers:
                        headers[k] = v
            await send(message)

        await self.app(scope, receive, send_guarded)


# ---------------------------------------------------------------------------------------- datasets
@contextmanager
def reading(request: Request, dataset: str | None, day: date | None = None) -> Iterator[str]:
    """Read `dataset` (else the server's, else the catalog's choice for `day`) in this request's thread."""
    config: ServeConfig = request.app.state.config
    name = dataset or config.dataset
    if name is None:
        name, _ = catalog.choose_dataset(None, day)
    try:
        settings.check_dataset_name(name)
    except ValueError as exc:
        raise InvalidInput(f"dataset: {exc}") from None
    with catalog.dataset_scope(name):
        yield name


# ------------------------------------------------------------------------------------------ the app
def create_app(config: ServeConfig) -> FastAPI:
    from minutes_live.api import docs_page, events, pages, routes

    app = FastAPI(title="Minutes Live API", version=API_VERSION, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json",
                  description="Pre-game NBA player-minutes projections with as-of queries and the provenance of "
                              "every input. Read-only routes are open on loopback; pin and unpin need the "
                              "per-start token (docs/api.md).")
    config.hosts = config.hosts or allowed_hosts(config.host, config.port)
    app.state.config = config
    app.state.stopping = threading.Event()
    app.state.streams = events.StreamSlots()

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        return error_response(f"{where}: {first.get('msg', 'invalid value')}", 400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            return error_response(f"no route {request.url.path}", 404)
        return error_response(str(exc.detail), exc.status_code)

    async def _known(request: Request, exc: Exception):
        status, body = error_body(exc)
        if status == 500:
            log.error("bug answering %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(body, status_code=status)

    for cls in (GuardrailError, OSError, ExplainError):
        app.add_exception_handler(cls, _known)
    app.add_exception_handler(Exception, _known)  # a bug: one line to the client, the traceback to the log

    app.include_router(routes.router)
    app.include_router(events.router)
    app.include_router(pages.router)
    app.include_router(docs_page.router)
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(Guard, hosts=config.hosts)
    return app
