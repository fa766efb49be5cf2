"""The live HTTP client is bounded: a body over `max_body_bytes` is refused (declared or streamed, gzip
included: the cap is on the bytes we would keep), a fetch ends by `fetch_deadline_s` however the upstream
drips (the read timeout is per read; the deadline covers connect, retries and the whole body), and a
redirect to another host is followed without the configured headers. Real HTTP against a local server."""

from __future__ import annotations

import gzip
import time
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from werkzeug import Request, Response

from snapshots_ingest.live.http_client import HttpClient, SourceError
from snapshots_ingest.live.sources import live_extracts

MIB = 1024 * 1024
SCHEDULE_PATH = "/static/json/staticData/scheduleLeagueV2.json"
SLATE = date(2026, 2, 8)
AS_OF = datetime(2026, 2, 8, 15, 40, tzinfo=ZoneInfo("America/New_York"))


@pytest.fixture
def config(fast_config):
    return fast_config.model_copy(update={"max_body_bytes": 1 * MIB, "fetch_deadline_s": 1.5,
                                          "extra_headers": {"X-Api-Key": "secret-key"}})


def test_declared_body_over_the_cap_is_refused_unread(httpserver, config):
    httpserver.expect_request(SCHEDULE_PATH).respond_with_data(b"x" * (3 * MIB))
    with pytest.raises(SourceError, match=r"nba_schedule: body of 3\.0 MiB is over the 1\.0 MiB cap"):
        live_extracts("schedule", SLATE, AS_OF, config)


def test_streamed_body_over_the_cap_stops_at_the_cap(httpserver, config):
    sent = []

    def endless(_: Request) -> Response:
        def chunks():
            while True:  # never ends: a client reading to the end would hit the 1.5 s deadline instead
                sent.append(1)
                yield b"y" * 65536
        return Response(chunks(), content_type="application/json")  # no Content-Length: chunked

    httpserver.expect_request(SCHEDULE_PATH).respond_with_handler(endless)
    with HttpClient(config) as client, pytest.raises(SourceError, match=r"body exceeds the 1\.0 MiB cap"):
        client.get("nba_schedule", httpserver.url_for(SCHEDULE_PATH))
    # the server got ahead of the client by at most the loopback socket buffers (their kernel maxima; a
    # fixed count was flaky under load, when the server thread ran ahead), never by an unbounded body
    buffers = sum(int(Path(f"/proc/sys/net/ipv4/{name}").read_text().split()[2]) for name in ("tcp_rmem", "tcp_wmem"))
    assert len(sent) * 65536 <= 1 * MIB + buffers + 4 * 65536


def test_gzip_bomb_is_capped_on_the_inflated_bytes(httpserver, config):
    bomb = gzip.compress(b"\0" * (20 * MIB))
    httpserver.expect_request(SCHEDULE_PATH).respond_with_data(
        bomb, headers={"Content-Encoding": "gzip"}, content_type="application/json")
    assert len(bomb) < 100_000
    with HttpClient(config) as client, pytest.raises(SourceError, match=r"1\.0 MiB cap"):
        client.get("nba_schedule", httpserver.url_for(SCHEDULE_PATH))


def test_dripping_upstream_ends_at_the_fetch_deadline(httpserver, config):
    def drip(_: Request) -> Response:
        def chunks():
            for _ in range(100):  # one byte every 0.2 s: under the 0.3 s read timeout, 20 s in all
                time.sleep(0.2)
                yield b"{"
        return Response(chunks(), content_type="application/json")

    httpserver.expect_request(SCHEDULE_PATH).respond_with_handler(drip)
    t0 = time.monotonic()
    with HttpClient(config) as client, pytest.raises(SourceError, match=r"did not complete within 1\.5 s"):
        client.get("nba_schedule", httpserver.url_for(SCHEDULE_PATH))
    assert time.monotonic() - t0 < 2.2  # each socket wait is cut to the time left


def test_retries_stop_at_the_fetch_deadline(httpserver, config):
    def slow(_: Request) -> Response:
        time.sleep(0.5)  # over the 0.3 s read timeout: every attempt times out
        return Response("late")

    httpserver.expect_request(SCHEDULE_PATH).respond_with_handler(slow)
    cfg = config.model_copy(update={"retries": 50, "fetch_deadline_s": 1.0})
    t0 = time.monotonic()
    with HttpClient(cfg) as client, pytest.raises(SourceError, match=r"nba_schedule: (timed out|did not complete)"):
        client.get("nba_schedule", httpserver.url_for(SCHEDULE_PATH))
    assert time.monotonic() - t0 < 2.5


def _other_host(url: str) -> str:
    parts = urlsplit(url)
    other = "127.0.0.1" if parts.hostname == "localhost" else "localhost"
    return f"{parts.scheme}://{other}:{parts.port}"


def test_redirect_to_another_host_drops_the_configured_headers(httpserver, config):
    seen: dict[str, dict] = {}

    def record(name: str):
        def handler(request: Request) -> Response:
            seen[name] = dict(request.headers)
            return Response(b"{}", content_type="application/json")
        return handler

    httpserver.expect_request("/same").respond_with_handler(record("same"))
    httpserver.expect_request("/elsewhere").respond_with_handler(record("elsewhere"))
    httpserver.expect_request("/to-same").respond_with_data("", status=302, headers={"Location": "/same"})
    elsewhere = _other_host(httpserver.url_for("/")) + "/elsewhere"
    httpserver.expect_request("/to-other").respond_with_data("", status=302, headers={"Location": elsewhere})
    with HttpClient(config) as client:
        assert client.get("src", httpserver.url_for("/to-same")).content == b"{}"
        assert seen["same"].get("X-Api-Key") == "secret-key"  # same host: the configured headers go along
        got = client.get("src", httpserver.url_for("/to-other"))
    assert got.content == b"{}" and got.url == elsewhere
    assert "X-Api-Key" not in seen["elsewhere"]  # another host never sees them
    assert seen["elsewhere"]["User-Agent"].startswith("minutes-live/")


def test_redirect_loop_is_an_error(httpserver, config):
    httpserver.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    with HttpClient(config) as client, pytest.raises(SourceError, match=r"src: more than \d+ redirects"):
        client.get("src", httpserver.url_for("/loop"))


def test_a_fetched_pdf_over_the_pdf_cap_is_refused_before_it_is_stored(httpserver, config, monkeypatch):
    """The PDF cap applies at the fetch too: a 3 MB 'report' is dropped while streaming, never written."""
    monkeypatch.setenv("MINUTES_LIVE_PDF_MAX_BYTES", str(256 * 1024))
    body = b"%PDF-1.4\n" + b"0" * (3 * MIB)
    httpserver.expect_request("/referee/injury/Injury-Report_2026-02-08_03_30PM.pdf").respond_with_data(
        body, content_type="application/pdf")
    cfg = config.model_copy(update={"max_body_bytes": 64 * MIB})
    with pytest.raises(SourceError, match=r"injury_report: body of 3\.0 MiB is over the 256\.0 KiB cap"):
        live_extracts("injuries", SLATE, AS_OF, cfg)
