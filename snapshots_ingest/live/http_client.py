"""The one HTTP client of the live sources: timeouts, retries with backoff, a polite rate limit, and bounds.

Retries cover connection errors, timeouts and 5xx answers, with exponential backoff (and Retry-After).
403/404 are not retried: for the injury-report slots they mean "no report here". Every fetch is bounded
in time (`fetch_deadline_s`, the whole fetch) and size (`max_body_bytes`, streamed), and a redirect to
another host does not carry `extra_headers`. Every failure raises `SourceError` naming the source and the
URL, so an operator knows what to look at.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from pydantic import BaseModel, Field
from requests.adapters import HTTPAdapter

USER_AGENT = "minutes-live/0.1 (+contact in config)"
RETRY_STATUSES = (500, 502, 503, 504)


class SourceError(RuntimeError):
    """A live source failed; the message names the source and the URL."""

    def __init__(self, source: str, url: str, problem: str) -> None:
        super().__init__(f"{source}: {problem} (url: {url})")
        self.source = source
        self.url = url
        self.problem = problem


class LiveSourceConfig(BaseModel):
    """Where the live sources are and how politely to ask them. Tests point the URLs at a local server."""

    injury_report_base_url: str = "https://ak-static.cms.nba.com/referee/injury"
    schedule_url: str = "https://cdn.nba.com/static/json/staticData/scheduleLeagueV2.json"
    roster_url: str = "https://stats.nba.com/stats/commonteamroster"
    boxscore_base_url: str = "https://cdn.nba.com/static/json/liveData/boxscore"
    injury_lookback_hours: float = 12.0  # how far before run_as_of_ts to look for the newest report
    odds_url: str | None = Field(
        default=None, description="your odds feed (JSON, see odds_provider.py); None = no odds"
    )
    contact: str = Field(
        default="", description="e-mail or URL appended to the User-Agent so hosts can reach you"
    )
    extra_headers: dict[str, str] = Field(default_factory=dict, description="e.g. Referer for stats.nba.com")
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    retries: int = 3
    backoff_factor_s: float = 1.0  # sleeps factor * 2**(n-1) between attempts
    backoff_max_s: float = 30.0
    min_interval_s: float = 1.0  # between the starts of two requests, per client
    fetch_deadline_s: float = Field(default=120.0, gt=0, description="one fetch in all: connects, retries, "
                                    "redirects and the whole body (the read timeout is per socket read)")
    max_body_bytes: int = Field(default=64 * 1024 * 1024, gt=0,
                                description="a body larger than this (after gzip decoding) is refused")
    max_redirects: int = Field(default=5, ge=0)

    @property
    def user_agent(self) -> str:
        return USER_AGENT if not self.contact else f"{USER_AGENT} {self.contact}"


@dataclass(frozen=True)
class FetchResult:
    url: str
    status: int
    content: bytes
    content_type: str
    fetched_at: datetime  # UTC, when the answer arrived


class _Transient(Exception):
    """A connection error or a timeout before the answer's status line: worth another attempt."""

    def __init__(self, what: str, exc: BaseException):
        super().__init__(f"{exc}")
        self.what = what  # "timed out" | "connection failed"


REDIRECT_STATUSES = (301, 302, 303, 307, 308)
READ_CHUNK = 64 * 1024


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def _same_host(a: str, b: str) -> bool:
    """Same scheme, host and port, or the same host upgraded from http to https (default ports)."""
    oa, ob = _origin(a), _origin(b)
    if oa == ob:
        return True
    return oa[1] == ob[1] and (oa[0], oa[2], ob[0], ob[2]) == ("http", 80, "https", 443)


class HttpClient:
    """One requests.Session shared by every live source of a run.

    Every `get` is bounded: `fetch_deadline_s` for the whole fetch (connects, retries, redirects and the
    body: each socket wait is cut to the time left), `max_body_bytes` on the body as it would be kept
    (declared Content-Length, then counted while streaming, after gzip/deflate decoding), at most
    `max_redirects` redirects, and a redirect to another host is followed without `extra_headers`."""

    def __init__(self, config: LiveSourceConfig) -> None:
        self.config = config
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=0)  # retries are ours: they must respect the fetch deadline
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": config.user_agent})
        self.session.max_redirects = config.max_redirects
        self._lock = threading.Lock()
        self._last_request = float("-inf")

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait_turn(self) -> None:
        with self._lock:
            wait = self._last_request + self.config.min_interval_s - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last_request = time.monotonic()

    def get(
        self,
        source: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        absent_statuses: tuple[int, ...] = (),
        max_bytes: int | None = None,
    ) -> FetchResult | None:
        """GET with retries. Returns None for a status in `absent_statuses`; raises SourceError otherwise.
        `max_bytes` lowers the body cap for this fetch (e.g. the PDF cap for an injury report)."""
        cfg = self.config
        self._wait_turn()
        deadline = time.monotonic() + cfg.fetch_deadline_s
        late = f"did not complete within {cfg.fetch_deadline_s:g} s (fetch_deadline_s)"
        attempt = 0
        while True:
            try:
                resp = self._follow(source, url, params, deadline, late)
            except _Transient as exc:
                if attempt >= cfg.retries or not self._backoff(attempt + 1, deadline, None):
                    if time.monotonic() >= deadline:
                        raise SourceError(source, url, f"{exc.what}: {late}") from None
                    raise SourceError(source, url, f"{exc.what} after {attempt} retries: {exc}") from None
                attempt += 1
                continue
            full_url = resp.url or url
            if resp.status_code in absent_statuses:
                resp.close()
                return None
            if resp.status_code in RETRY_STATUSES and attempt < cfg.retries:
                retry_after = resp.headers.get("Retry-After")
                resp.close()
                if self._backoff(attempt + 1, deadline, retry_after):
                    attempt += 1
                    continue
            if resp.status_code >= 400:
                resp.close()
                raise SourceError(source, full_url, f"HTTP {resp.status_code} {resp.reason}")
            try:
                content = self._body(source, full_url, resp, deadline, late, max_bytes)
            finally:
                resp.close()
            return FetchResult(
                url=full_url,
                status=resp.status_code,
                content=content,
                content_type=resp.headers.get("Content-Type", ""),
                fetched_at=datetime.now(UTC),
            )

    def _backoff(self, retry: int, deadline: float, retry_after: str | None) -> bool:
        """Sleep before retry number `retry`; False when the deadline leaves no time for it."""
        cfg = self.config
        wait = min(cfg.backoff_max_s, cfg.backoff_factor_s * 2 ** (retry - 1)) if retry > 1 else 0.0
        if retry_after and retry_after.strip().isdigit():
            wait = max(wait, float(retry_after.strip()))
        if time.monotonic() + wait >= deadline:
            return False
        time.sleep(wait)
        return True

    def _timeout(self, deadline: float, late: str, source: str, url: str) -> tuple[float, float]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SourceError(source, url, late)
        return min(self.config.connect_timeout_s, left), min(self.config.read_timeout_s, left)

    def _follow(self, source: str, url: str, params: dict[str, str] | None, deadline: float,
                late: str) -> requests.Response:
        """The answer to GET url, redirects followed by hand (the configured headers stay on the first host)."""
        first, current = url, url
        for _ in range(self.config.max_redirects + 1):
            headers = dict(self.config.extra_headers) if _same_host(first, current) else {}
            try:
                resp = self.session.get(current, params=params, headers=headers, stream=True,
                                        allow_redirects=False, timeout=self._timeout(deadline, late, source, current))
            except requests.exceptions.Timeout as exc:
                raise _Transient("timed out", exc) from None
            except requests.exceptions.ConnectionError as exc:
                raise _Transient("connection failed", exc) from None
            except requests.exceptions.RequestException as exc:
                raise SourceError(source, current, f"request failed: {exc}") from None
            location = resp.headers.get("Location")
            if resp.status_code not in REDIRECT_STATUSES or not location:
                return resp
            resp.close()
            current, params = urljoin(resp.url or current, location), None
            if urlsplit(current).scheme not in ("http", "https"):
                raise SourceError(source, url, f"redirect to {current!r}: not http(s)")
        raise SourceError(source, url, f"more than {self.config.max_redirects} redirects (max_redirects)")

    def _body(self, source: str, url: str, resp: requests.Response, deadline: float, late: str,
              max_bytes: int | None = None) -> bytes:
        cap = self.config.max_body_bytes if max_bytes is None else min(max_bytes, self.config.max_body_bytes)
        what = "max_body_bytes" if cap == self.config.max_body_bytes else "this source's cap"
        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise SourceError(source, url, f"body of {_human(int(declared))} is over the {_human(cap)} cap "
                                           f"({what}): not read")
        body = bytearray()
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SourceError(source, url, f"{late}; {_human(len(body))} of the body received")
                _limit_wait(resp, min(self.config.read_timeout_s, left))  # each socket wait ends by the deadline
                chunk = resp.raw.read1(READ_CHUNK, decode_content=True)
                if not chunk:
                    break
                body += chunk
                if len(body) > cap:
                    raise SourceError(source, url, f"body exceeds the {_human(cap)} cap ({what}): stopped reading")
        except (urllib3.exceptions.HTTPError, OSError) as exc:  # cut off mid-transfer, or a read timed out
            if time.monotonic() >= deadline:
                raise SourceError(source, url, f"{late}; {_human(len(body))} of the body received") from None
            raise SourceError(source, url, f"response body incomplete: {exc}") from None
        return bytes(body)


def _limit_wait(resp: requests.Response, seconds: float) -> None:
    """Cut the socket timeout of a streamed response to `seconds` (best effort: without the socket, each wait
    keeps the timeout set when the request started, itself cut to the time left then)."""
    fp = getattr(getattr(resp.raw, "_fp", None), "fp", None)
    sock = getattr(getattr(fp, "raw", None), "_sock", None)
    if sock is not None:
        try:
            sock.settimeout(max(seconds, 0.001))
        except OSError:
            pass


def _human(n: int) -> str:
    from snapshots_ingest.limits import human_bytes

    return human_bytes(n)


LIVE_CONFIG_ENV = "MINUTES_LIVE_SOURCES_CONFIG"


def load_live_config(path: str | Path | None = None) -> LiveSourceConfig:
    """The live-source settings: JSON at `path`, else $MINUTES_LIVE_SOURCES_CONFIG, else
    config/live_sources.json when present, else the defaults. Unknown keys are an error naming them."""
    from foundation.settings import PROJECT_ROOT

    candidate = path or os.environ.get(LIVE_CONFIG_ENV)
    if candidate is None and (PROJECT_ROOT / "config" / "live_sources.json").exists():
        candidate = PROJECT_ROOT / "config" / "live_sources.json"
    if candidate is None:
        return LiveSourceConfig()
    candidate = Path(candidate)
    try:
        payload = json.loads(candidate.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"live source config {candidate} is unreadable: {exc}") from None
    unknown = sorted(set(payload) - set(LiveSourceConfig.model_fields))
    if unknown:
        raise ValueError(f"live source config {candidate} has unknown keys {unknown}")
    return LiveSourceConfig(**payload)
