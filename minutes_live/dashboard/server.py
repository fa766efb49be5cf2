"""`minutes-live dashboard`: the local web server (standard library http.server, one thread per connection)
and `--static DIR`, the same page written as self-contained HTML files.

    GET  /?date=D&run=R               the page (run defaults to the date's served `latest`)
    GET  /api/explain?date=D&run=R&key=<game_id>-<player_id>   one player's p50 contributions (JSON)
    GET  /api/runs?date=D             the date's runs (JSON, run_catalog.list_runs)
    POST /api/pin    {"date", "run_id", "reason"}   Publication.pin   -> {"served", "message"}
    POST /api/unpin  {"date"}                        Publication.unpin -> {"served", "message"}

Security (docs/operations.md, "Dashboard security"):
- every request's Host must name this server (loopback names, the bound address, this machine's names):
  a DNS-rebinding page, whose requests carry its own host name, gets 403 on reads and writes alike;
- pin and unpin need the per-start token in `X-Minutes-Live-Token` (constant-time compare), a JSON body
  (a cross-site form cannot send one without a CORS preflight, never granted here) and, when an Origin is
  sent, the same origin. The token is made at start, printed in the URL and written to a 0600 file
  (`<data root>/dashboard/token`); the page carries it for a loopback client or a request with `?token=`;
- a non-loopback bind is allowed with a warning (the command prints it): reads are open to the network;
- a listen backlog of REQUEST_QUEUE_SIZE, a per-connection timeout, and rendered pages cached per
  publication generation (the date's `latest` targets, its run folders, the registry and drift files);
- errors are JSON one-liners `{"error", "exit_code"}` from foundation.errors.describe, never a traceback
  page (a bug's traceback goes to the server's log).
"""

from __future__ import annotations

import gzip
import hmac
import ipaddress
import json
import logging
import os
import secrets
import socket
import threading
from collections import OrderedDict
from datetime import date
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from foundation import atomic, cli_values, errors, settings
from foundation import run_directory as rd
from foundation.guardrails import GuardrailError, InvalidInput
from foundation.publication import Publication, PublicationError, Roots
from minutes_live.dashboard.explain import ExplainError, compact, explain_run
from minutes_live.dashboard.model import build_page
from minutes_live.dashboard.render import render_page
from minutes_live.runs import catalog as run_catalog

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765
MAX_BODY = 16_384
REQUEST_QUEUE_SIZE = 256  # listen backlog (socketserver's default of 5 dropped bursts)
CONNECTION_TIMEOUT_S = 30.0  # an idle or stalled connection is closed after this
TOKEN_HEADER = "X-Minutes-Live-Token"
PAGE_CACHE_SIZE = 32
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")

log = logging.getLogger("minutes_live.dashboard")


def is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def token_path(data_root: Path | None = None) -> Path:
    return Path(data_root or settings.data_root()) / "dashboard" / "token"


def write_token_file(token: str, path: Path | None = None) -> Path:
    """The token in a 0600 file (created 0600 from the start, renamed into place; never through a symlink)."""
    path = Path(path or token_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        raise InvalidInput(f"{path} is a symlink: refusing to write the dashboard token through it")
    atomic.write_text(path, token + "\n", mode=0o600, refuse_symlink=True)
    return path


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
    roots = roots or Roots.default()
    data_root = Path(data_root or settings.data_root())
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


class PageCache:
    """Rendered pages by (date, run, token shown) and publication generation; a few kept."""

    def __init__(self, keep: int = PAGE_CACHE_SIZE):
        self._pages: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.keep = keep

    def get(self, key: tuple, make) -> bytes:
        with self._lock:
            if key in self._pages:
                self._pages.move_to_end(key)
                return self._pages[key]
        page = make()
        with self._lock:
            self._pages[key] = page
            while len(self._pages) > self.keep:
                self._pages.popitem(last=False)
        return page


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
    pages: PageCache
    timeout = CONNECTION_TIMEOUT_S  # StreamRequestHandler sets it on the connection's socket

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
        self.send_header("X-Frame-Options", "DENY")
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client went away: nothing to tell it
                pass

    def _json(self, status: int, payload: dict) -> None:
        self._send(status, json.dumps(payload, default=str).encode(), "application/json")

    def _error(self, status: int, exc_or_message: BaseException | str) -> None:
        """One JSON line: {"error", "exit_code"} (foundation.errors.describe; a bug's traceback goes to the log)."""
        if isinstance(exc_or_message, BaseException):
            code, line = errors.describe(exc_or_message, log_path="the dashboard's stderr")
            line = line.removeprefix("error: ")
        else:
            code, line = InvalidInput.exit_code, errors.one_line(exc_or_message)
        self._json(status, {"error": line, "exit_code": code})

    def _query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def _day(self, value: str | None) -> date | None:
        return cli_values.parse_date(value, "date") if value else self.default_day

    def _host_ok(self) -> bool:
        return self.headers.get("Host", "").lower() in self.server.allowed_hosts

    def _loopback_client(self) -> bool:
        return is_loopback(str(self.client_address[0]))

    def _token_ok(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(presented.encode(), self.server.token.encode())

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
        if not self._host_ok():
            return self._error(HTTPStatus.FORBIDDEN, f"Host {self.headers.get('Host', '')!r} is not this server")
        q = self._query()
        try:
            self._dataset(q.get("dataset"), q.get("date"))
            if route in ("/", "/index.html"):
                day = self._day(q.get("date"))
                run_ref = q.get("run") or "latest"
                if run_ref != "latest":
                    run_ref = cli_values.parse_run_id(run_ref, "run")
                show_token = self._loopback_client() or self._token_ok(q.get("token"))
                token = self.server.token if show_token else None
                key = (day, run_ref, show_token, generation(day))
                body = self.pages.get(key, lambda: render_page(build_page(day, run_ref), token=token).encode())
                self._send(HTTPStatus.OK, body, "text/html; charset=utf-8")
            elif route == "/api/explain":
                day, run_id = self._day(q.get("date")), cli_values.parse_run_id(q.get("run", ""), "run")
                if day is None:
                    raise InvalidInput("date: no runs yet")
                explained = self.explanations.run(day, run_id)
                key = q.get("key", "")
                if key not in explained:
                    self._json(HTTPStatus.NOT_FOUND, {"error": f"no player {key!r} in run {run_id}",
                                                      "exit_code": InvalidInput.exit_code})
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
                self._error(HTTPStatus.NOT_FOUND, f"no route {route}")
        except InvalidInput as exc:
            self._error(HTTPStatus.BAD_REQUEST, exc)
        except (run_catalog.CatalogError, ExplainError, FileNotFoundError) as exc:
            self._error(HTTPStatus.NOT_FOUND, InvalidInput(str(exc)))
        except GuardrailError as exc:  # a damaged state file, a storage error: named, not a bug
            self._error(HTTPStatus.CONFLICT, exc)
        except Exception as exc:  # a bug: one line here, the traceback in the log
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, exc)

    do_HEAD = do_GET

    # ------------------------------------------------------------------------------------ POST
    def _same_origin(self) -> bool:
        origin = self.headers.get("Origin")
        return origin is None or urlsplit(origin).netloc.lower() == self.headers.get("Host", "").lower()

    def do_POST(self) -> None:  # noqa: N802
        route = urlsplit(self.path).path
        if not self._host_ok():
            return self._error(HTTPStatus.FORBIDDEN, f"Host {self.headers.get('Host', '')!r} is not this server")
        if route not in ("/api/pin", "/api/unpin"):
            return self._error(HTTPStatus.NOT_FOUND, f"no route {route}")
        if not self._same_origin():
            return self._error(HTTPStatus.FORBIDDEN, "cross-origin request refused")
        if self.headers.get_content_type() != "application/json":
            return self._error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send a JSON body")
        if not self._token_ok(self.headers.get(TOKEN_HEADER)):
            return self._error(HTTPStatus.FORBIDDEN, f"missing or wrong {TOKEN_HEADER} token (printed at start, "
                                                     f"and in {token_path()})")
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
        except (PublicationError, rd.RunDirectoryError) as exc:  # a refused pin / unpin: before InvalidInput
            return self._json(HTTPStatus.CONFLICT, {"error": str(exc), "exit_code": 2})
        except (InvalidInput, json.JSONDecodeError, ValueError) as exc:
            return self._error(HTTPStatus.BAD_REQUEST, exc if isinstance(exc, InvalidInput) else str(exc))
        except GuardrailError as exc:
            return self._error(HTTPStatus.CONFLICT, exc)
        except Exception as exc:
            return self._error(HTTPStatus.INTERNAL_SERVER_ERROR, exc)
        latest = ", ".join(f"{k} -> {v or 'none'}" for k, v in served.items())
        self._json(HTTPStatus.OK, {"served": served, "message": f"{message}; latest: {latest}"})


class DashboardServer(ThreadingHTTPServer):
    request_queue_size = REQUEST_QUEUE_SIZE
    daemon_threads = True
    token: str
    allowed_hosts: frozenset[str]
    quiet: bool = False


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """Host header values naming this server: the loopback names, the bound address, and for a wildcard or
    named bind this machine's names."""
    names = set(LOOPBACK_NAMES)
    bound = host.strip("[]")
    names.add(f"[{bound}]" if ":" in bound else bound)
    if not is_loopback(host):
        for name in (socket.gethostname(), socket.getfqdn()):
            names.add(name.lower())
            try:
                for *_, addr in socket.getaddrinfo(name, None):
                    ip = str(addr[0])
                    names.add(f"[{ip}]" if ":" in ip else ip)
            except OSError:
                pass
    names.discard("")
    names.discard("0.0.0.0")
    names.discard("[::]")
    return frozenset({f"{n}:{port}" for n in names} | (set(names) if port == 80 else set()))


def make_server(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, day: date | None = None,
                quiet: bool = False, dataset: str | None = None, *, token: str | None = None,
                timeout: float = CONNECTION_TIMEOUT_S) -> DashboardServer:
    handler = type("DashboardHandler", (Handler,), {"default_day": day, "default_dataset": dataset,
                                                    "explanations": Explanations(), "pages": PageCache(),
                                                    "timeout": timeout})
    server = DashboardServer((host, port), handler)
    server.quiet = quiet
    server.token = token or secrets.token_urlsafe(32)
    server.allowed_hosts = allowed_hosts(host, server.server_address[1])
    return server


def url_of(server: ThreadingHTTPServer, *, token: bool = False) -> str:
    host, port = server.server_address[:2]
    host = f"[{host}]" if ":" in str(host) else host
    return f"http://{host}:{port}/" + (f"?token={server.token}" if token else "")


# --------------------------------------------------------------------------------------- static
def static_name(day: str, run_id: str) -> str:
    return f"run-{day}-{run_id}.html"


def write_static(out_dir: Path, day: date | None = None, *, roots: Roots | None = None,
                 data_root: Path | None = None, force: bool = False) -> list[Path]:
    """index.html (the served run of the date) and one page per viewable run, all in `out_dir`; the
    explanations of each run's slate are computed here and embedded. Returns the files written.

    Every page is rendered first, then each file is written atomically (foundation.atomic: temp file, fsync,
    rename). A target that is a symlink is refused (never written through, --force included), and an existing
    file is refused unless `force`; both are checked for every target before anything is written."""
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

    def render(page: dict) -> str:
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
        return render_page(page, link, explanations=explanations, date_links=date_links)

    pages = {"index.html": first}
    for r in first["runs"]:
        if r["viewable"]:
            pages[static_name(day_s, r["run_id"])] = build_page(date.fromisoformat(day_s), r["run_id"], static=True,
                                                                roots=roots, data_root=data_root)
    for name in pages:
        target = out_dir / name
        if target.is_symlink():
            raise atomic.TargetExistsError(f"{target} is a symlink: refusing to write through it (remove it)")
        if target.exists() and not force:
            raise atomic.TargetExistsError(f"{target} exists (pass --force to replace it)")
    written = []
    for name, page in pages.items():
        written.append(atomic.write_text(out_dir / name, render(page), overwrite=force, refuse_symlink=True))
    return written
