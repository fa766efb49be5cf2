"""`minutes-live dashboard`: the local web server (standard library http.server, one thread per request) and
`--static DIR`, the same page written as self-contained HTML files.

    GET  /?date=D&run=R               the page (run defaults to the date's served `latest`)
    GET  /api/explain?date=D&run=R&key=<game_id>-<player_id>   one player's p50 contributions (JSON)
    GET  /api/runs?date=D             the date's runs (JSON, run_catalog.list_runs)
    POST /api/pin    {"date", "run_id", "reason"}   Publication.pin   -> {"served", "message"}
    POST /api/unpin  {"date"}                        Publication.unpin -> {"served", "message"}

Pin and unpin take a JSON body only (a cross-site form cannot send one without a CORS preflight, which this
server never grants), and a request whose Origin or Host is not this server is refused.
"""

from __future__ import annotations

import gzip
import html
import json
import threading
import traceback
from collections import OrderedDict
from datetime import date
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from foundation import cli_values
from foundation import run_directory as rd
from foundation.guardrails import InvalidInput
from foundation.publication import Publication, PublicationError, Roots
from minutes_live.dashboard.explain import ExplainError, compact, explain_run
from minutes_live.dashboard.model import build_page
from minutes_live.dashboard.render import render_page
from minutes_live.runs import catalog as run_catalog

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765
MAX_BODY = 16_384


class Explanations:
    """explain_run per (date, run), computed on first use; a few runs kept (runs are immutable)."""

    def __init__(self, keep: int = 4):
        self._cache: OrderedDict[tuple[str, str, str], dict] = OrderedDict()
        self._lock = threading.Lock()
        self.keep = keep

    def run(self, day: date, run_id: str) -> dict:
        key = (run_catalog.current_dataset(), day.isoformat(), run_id)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        view = run_catalog.load_run(day, run_id)
        out = explain_run(run_catalog.load_features(day, run_id), view.scores_summary)
        with self._lock:
            self._cache[key] = out
            while len(self._cache) > self.keep:
                self._cache.popitem(last=False)
        return out


class Handler(BaseHTTPRequestHandler):
    server_version = "minutes-live-dashboard"
    default_day: date | None = None
    default_dataset: str | None = None
    explanations: Explanations

    # --------------------------------------------------------------------------------- plumbing
    def log_message(self, fmt: str, *args) -> None:  # one line per request on stderr, as http.server does
        if not getattr(self.server, "quiet", False):
            super().log_message(fmt, *args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if len(body) > 1024 and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, compresslevel=6)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: dict) -> None:
        self._send(status, json.dumps(payload, default=str).encode(), "application/json")

    def _query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def _day(self, value: str | None) -> date | None:
        return cli_values.parse_date(value, "date") if value else self.default_day

    def _dataset(self, value: str | None, day: str | None = None) -> str:
        """Read this request's dataset (`dataset=`, else the one the server was started on, else the catalog's
        choice) in this request's thread."""
        name = value or self.default_dataset
        if name is None:
            name, _ = run_catalog.choose_dataset(None, cli_values.parse_date(day, "date") if day else None)
        try:
            return run_catalog.select_dataset(name)
        except ValueError as exc:
            raise InvalidInput(f"dataset: {exc}") from None

    # ------------------------------------------------------------------------------------- GET
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        route = urlsplit(self.path).path
        q = self._query()
        try:
            self._dataset(q.get("dataset"), q.get("date"))
            if route in ("/", "/index.html"):
                page = build_page(self._day(q.get("date")), q.get("run") or "latest")
                self._send(HTTPStatus.OK, render_page(page).encode(), "text/html; charset=utf-8")
            elif route == "/api/explain":
                day, run_id = self._day(q.get("date")), cli_values.parse_run_id(q.get("run", ""), "run")
                explained = self.explanations.run(day, run_id)
                key = q.get("key", "")
                if key not in explained:
                    self._json(HTTPStatus.NOT_FOUND, {"error": f"no player {key!r} in run {run_id}"})
                else:
                    self._json(HTTPStatus.OK, explained[key])
            elif route == "/api/runs":
                day = self._day(q.get("date"))
                if day is None:
                    raise InvalidInput("date: no runs yet")
                self._json(HTTPStatus.OK, {"date": day.isoformat(),
                                           "runs": [r.as_dict() for r in run_catalog.list_runs(day)]})
            elif route == "/favicon.ico":
                self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
            else:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no route {route}"})
        except InvalidInput as exc:
            self._error(route, HTTPStatus.BAD_REQUEST, str(exc))
        except (run_catalog.CatalogError, ExplainError, FileNotFoundError) as exc:
            self._error(route, HTTPStatus.NOT_FOUND, str(exc))
        except Exception as exc:  # a damaged run file must not leave the browser with an empty reply
            traceback.print_exc()
            self._error(route, HTTPStatus.INTERNAL_SERVER_ERROR, f"{type(exc).__name__}: {exc}")

    def _error(self, route: str, status: int, message: str) -> None:
        if route.startswith("/api/"):
            return self._json(status, {"error": message})
        body = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Minutes Live: error</title></head>'
                f'<body><p id="page-error">{html.escape(message)}</p><p><a href="/">back to the dashboard</a></p>'
                "</body></html>")
        self._send(status, body.encode(), "text/html; charset=utf-8")

    do_HEAD = do_GET

    # ------------------------------------------------------------------------------------ POST
    def _same_origin(self) -> bool:
        host = self.headers.get("Host", "")
        allowed = {f"{h}:{self.server.server_port}" for h in ("127.0.0.1", "localhost", "[::1]",
                                                                self.server.server_address[0])}
        if host not in allowed:
            return False
        origin = self.headers.get("Origin")
        return origin is None or urlsplit(origin).netloc == host

    def do_POST(self) -> None:  # noqa: N802
        route = urlsplit(self.path).path
        if route not in ("/api/pin", "/api/unpin"):
            return self._json(HTTPStatus.NOT_FOUND, {"error": f"no route {route}"})
        if not self._same_origin():
            return self._json(HTTPStatus.FORBIDDEN, {"error": "cross-origin request refused"})
        if self.headers.get_content_type() != "application/json":
            return self._json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"error": "send a JSON body"})
        try:
            length = int(self.headers.get("Content-Length", "0"))
            if not 0 < length <= MAX_BODY:
                raise InvalidInput("body: empty or too large")
            body = json.loads(self.rfile.read(length))
            if not isinstance(body, dict):
                raise InvalidInput("body: expected a JSON object")
            day = cli_values.parse_date(str(body.get("date", "")), "date")
            self._dataset(body.get("dataset") and str(body["dataset"]), day.isoformat())
            pub = Publication(run_catalog.default_roots(), day, run_catalog.registry_root())
            if route == "/api/pin":
                run_id = cli_values.parse_run_id(str(body.get("run_id", "")), "run_id")
                reason = str(body.get("reason") or "dashboard")[:200]
                served = pub.pin(run_id, reason)
                message = f"pinned {run_id} for {day}"
            else:
                served = pub.unpin()
                message = f"unpinned {day}"
        except (InvalidInput, json.JSONDecodeError, ValueError) as exc:
            return self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except (PublicationError, rd.RunDirectoryError) as exc:
            return self._json(HTTPStatus.CONFLICT, {"error": str(exc)})
        except Exception as exc:
            traceback.print_exc()
            return self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"{type(exc).__name__}: {exc}"})
        latest = ", ".join(f"{k} -> {v or 'none'}" for k, v in served.items())
        self._json(HTTPStatus.OK, {"served": served, "message": f"{message}; latest: {latest}"})


def make_server(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, day: date | None = None,
                quiet: bool = False, dataset: str | None = None) -> ThreadingHTTPServer:
    handler = type("DashboardHandler", (Handler,), {"default_day": day, "default_dataset": dataset,
                                                    "explanations": Explanations()})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.quiet = quiet
    return server


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"


# --------------------------------------------------------------------------------------- static
def static_name(day: str, run_id: str) -> str:
    return f"run-{day}-{run_id}.html"


def write_static(out_dir: Path, day: date | None = None, *, roots: Roots | None = None,
                 data_root: Path | None = None) -> list[Path]:
    """index.html (the served run of the date) and one page per viewable run, all in `out_dir`; the
    explanations of each run's slate are computed here and embedded. Returns the files written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data_root = run_catalog.registry_root(data_root)
    first = build_page(day, "latest", static=True, roots=roots, data_root=data_root)
    day_s = first.get("day")

    def link(d: str | None, run_id: str | None) -> str:
        if d is None or run_id is None or d != day_s:
            return "index.html"
        return static_name(d, run_id)

    date_links = {day_s: "index.html"} if day_s else {}
    written = []

    def write(page: dict, name: str) -> None:
        run = page.get("run")
        explanations = None
        if run and run["has_scores"]:
            run_day = date.fromisoformat(day_s)
            try:
                explanations = compact(explain_run(
                    run_catalog.load_features(run_day, run["run_id"], roots),
                    run_catalog.load_run(run_day, run["run_id"], roots, data_root).scores_summary))
            except ExplainError as exc:
                explanations = {"rows": {}, "error": str(exc)}
        path = out_dir / name
        path.write_text(render_page(page, link, explanations=explanations, date_links=date_links))
        written.append(path)

    write(first, "index.html")
    for r in first["runs"]:
        if r["viewable"]:
            write(build_page(date.fromisoformat(day_s), r["run_id"], static=True, roots=roots, data_root=data_root),
                  static_name(day_s, r["run_id"]))
    return written
