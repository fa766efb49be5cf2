"""The API app under uvicorn: `ApiServer` binds its socket first (so port 0 works and the address is known
before serving), then runs uvicorn on it, in the foreground (`minutes-live serve`, Ctrl-C / SIGTERM stop it)
or in a thread (tests, bench: `start()` / `shutdown()`).

Bounds (docs/api.md, "Limits"): a listen backlog of BACKLOG, at most LIMIT_CONCURRENCY connections at once
(uvicorn answers 503 past it), an idle or stalled connection closed after `timeout` seconds (uvicorn's
keep-alive timeout, armed here from the first byte: uvicorn alone never closes a connection that sends
nothing), at most EVENT_STREAMS open event streams (minutes_live.api.events), and a graceful shutdown of
at most SHUTDOWN_S seconds.
"""

from __future__ import annotations

import logging
import secrets
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from minutes_live.api.app import ServeConfig, create_app

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765
BACKLOG = 2048
LIMIT_CONCURRENCY = 1024
CONNECTION_TIMEOUT_S = 30.0
SHUTDOWN_S = 2.0


class IdleTimeoutH11(H11Protocol):
    """uvicorn's h11 protocol with the keep-alive timer armed when the connection opens: a client that
    connects and sends nothing is closed after the timeout, like one idle between requests."""

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)


class StoppableServer(uvicorn.Server):
    """uvicorn's server, stopped by SIGINT / SIGTERM without re-raising the signal afterwards (uvicorn re-raises
    it once stopped, so the process would die by the signal): `minutes-live serve` then ends with exit 0 and
    its `stopped` line, as a service manager expects of a clean stop. A second signal forces the exit."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and without it
    # every answer (headers, then body: two writes) waited ~40 ms on Nagle and the client's delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(BACKLOG)
    sock.setblocking(False)
    sock.set_inheritable(True)
    return sock


class ApiServer:
    """One uvicorn server of the API app on a socket bound at construction."""

    request_queue_size = BACKLOG

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, day: date | None = None, *,
                 dataset: str | None = None, token: str | None = None, quiet: bool = False,
                 timeout: float = CONNECTION_TIMEOUT_S, alerts_dir=None):
        self.sock = _bind(host, port)
        self.server_address = self.sock.getsockname()[:2]
        self.host = host
        self.token = token or secrets.token_urlsafe(32)
        self.config = ServeConfig(host=host, port=self.server_address[1], token=self.token, day=day,
                                  dataset=dataset, alerts_dir=alerts_dir)
        self.app = create_app(self.config)
        self.uvicorn = StoppableServer(uvicorn.Config(
            self.app, http=IdleTimeoutH11, timeout_keep_alive=max(1, int(round(timeout))),
            backlog=BACKLOG, limit_concurrency=LIMIT_CONCURRENCY, timeout_graceful_shutdown=int(SHUTDOWN_S),
            lifespan="off", access_log=not quiet, log_level=logging.WARNING if quiet else logging.INFO,
            server_header=False, proxy_headers=False))
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def serve_forever(self) -> None:
        try:
            self.uvicorn.run(sockets=[self.sock])
        finally:
            self._done.set()

    def start(self) -> ApiServer:
        """Serve in a daemon thread; returns once the server accepts requests."""
        self._thread = threading.Thread(target=self.serve_forever, name="minutes-live-api", daemon=True)
        self._thread.start()
        while not self.uvicorn.started and not self._done.is_set():
            self._done.wait(0.01)
        return self

    def shutdown(self) -> None:
        self.app.state.stopping.set()  # event streams end at their next poll
        self.uvicorn.should_exit = True
        if self._thread is not None or self.uvicorn.started:
            self._done.wait(SHUTDOWN_S + 10)

    def server_close(self) -> None:
        self.sock.close()

    def url(self, *, token: bool = False) -> str:
        host, port = self.server_address
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}/" + (f"?token={self.token}" if token else "")


def make_server(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, day: date | None = None, quiet: bool = False,
                dataset: str | None = None, *, token: str | None = None,
                timeout: float = CONNECTION_TIMEOUT_S) -> ApiServer:
    return ApiServer(host, port, day, dataset=dataset, token=token, quiet=quiet, timeout=timeout)


def url_of(server: ApiServer, *, token: bool = False) -> str:
    return server.url(token=token)
