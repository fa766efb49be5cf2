"""The one HTTP client of the live sources: timeouts, retries with backoff, a polite rate limit.

Retries (urllib3 `Retry`) cover connection errors, read timeouts and 5xx answers, with exponential
backoff. 403/404 are not retried: for the injury-report slots they mean "no report here". Every
failure raises `SourceError` naming the source and the URL, so an operator knows what to look at.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests
from pydantic import BaseModel, Field
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ReadTimeoutError
from urllib3.util.retry import Retry

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


def _is_timeout(exc: requests.exceptions.ConnectionError) -> bool:
    inner = exc.args[0] if exc.args else None
    return isinstance(inner, MaxRetryError) and isinstance(inner.reason, TimeoutError | ReadTimeoutError)


class HttpClient:
    """One requests.Session shared by every live source of a run."""

    def __init__(self, config: LiveSourceConfig) -> None:
        self.config = config
        retry = Retry(
            total=config.retries,
            connect=config.retries,
            read=config.retries,
            status=config.retries,
            other=0,
            backoff_factor=config.backoff_factor_s,
            backoff_max=config.backoff_max_s,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            raise_on_status=False,  # the last 5xx comes back as a response; we turn it into SourceError
            respect_retry_after_header=True,
        )
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": config.user_agent, **config.extra_headers})
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
    ) -> FetchResult | None:
        """GET with retries. Returns None for a status in `absent_statuses`; raises SourceError otherwise."""
        self._wait_turn()
        timeout = (self.config.connect_timeout_s, self.config.read_timeout_s)
        try:
            resp = self.session.get(url, params=params, timeout=timeout)
        except requests.exceptions.RetryError as exc:
            raise SourceError(source, url, f"gave up after {self.config.retries} retries: {exc}") from exc
        except requests.exceptions.Timeout as exc:
            raise SourceError(source, url, f"timed out after {self.config.retries} retries: {exc}") from exc
        except requests.exceptions.ConnectionError as exc:
            # requests reports read timeouts that exhausted the retries as ConnectionError(MaxRetryError).
            what = "timed out" if _is_timeout(exc) else "connection failed"
            raise SourceError(source, url, f"{what} after {self.config.retries} retries: {exc}") from exc
        except requests.exceptions.RequestException as exc:
            raise SourceError(source, url, f"request failed: {exc}") from exc
        full_url = resp.url or url
        if resp.status_code in absent_statuses:
            return None
        if resp.status_code >= 400:
            raise SourceError(source, full_url, f"HTTP {resp.status_code} {resp.reason}")
        try:
            content = resp.content
        except requests.exceptions.RequestException as exc:  # body cut off mid-transfer
            raise SourceError(source, full_url, f"response body incomplete: {exc}") from exc
        return FetchResult(
            url=full_url,
            status=resp.status_code,
            content=content,
            content_type=resp.headers.get("Content-Type", ""),
            fetched_at=datetime.now(UTC),
        )


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
