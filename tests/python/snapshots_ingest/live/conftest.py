from __future__ import annotations

from pathlib import Path

import pytest

from snapshots_ingest.live.http_client import LiveSourceConfig

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
PDF_DIR = FIXTURES / "injury_pdfs"
JSON_DIR = FIXTURES / "nba_json"


@pytest.fixture
def fast_config(httpserver) -> LiveSourceConfig:
    """Every live URL on the local test server; tiny timeouts, backoff and rate limit."""
    return LiveSourceConfig(
        injury_report_base_url=httpserver.url_for("/referee/injury"),
        schedule_url=httpserver.url_for("/static/json/staticData/scheduleLeagueV2.json"),
        roster_url=httpserver.url_for("/stats/commonteamroster"),
        boxscore_base_url=httpserver.url_for("/static/json/liveData/boxscore"),
        odds_url=httpserver.url_for("/odds/{date}.json"),
        contact="ops@example.org",
        connect_timeout_s=0.5,
        read_timeout_s=0.3,
        retries=2,
        backoff_factor_s=0.01,
        backoff_max_s=0.05,
        min_interval_s=0.0,
        injury_lookback_hours=1.0,
    )
