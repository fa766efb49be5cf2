"""GET /v1/slates/{date}/events: server-sent events of one date, for the dashboard and any consumer.

    event: hello         at connect: what `latest` names now ({"served", "pinned", "date", "dataset"})
    event: publication   `latest` moved (a publish, a pin, an unpin): the same fields, and `at`
    event: run           new run folders of the date appeared (a run that did not move `latest` too)
    event: alert         one line of the watcher's alert stream of the date, as written
    : keep-alive         a comment every HEARTBEAT_S seconds (proxies and browsers keep the stream open)

Cheap polling, every POLL_S seconds per stream and no file read unless something changed: the date's
publication pointer is one readlink (`.publication/current` names a new generation on every move of
`latest`, foundation/publication.py), new runs one stat of the date's features folder, alerts one stat of
the alert stream (then only the bytes appended since the last poll are read; a torn last line waits for its
end).

Alerts: the watcher (`minutes-live watch`) appends one JSON object per line (`ts`, `kind`, `message`, ...) to
`<data root>/<dataset>/watch/<date>/alerts.jsonl` (live: data/live/watch/<date>/alerts.jsonl; `--alerts-dir P`:
`P/<date>/alerts.jsonl`).
A stream starts at the end of the file (`?alerts=all` replays the day's alerts first); each alert's event id
is the byte offset after its line, so a browser that reconnects with Last-Event-ID misses none.

At most EVENT_STREAMS streams are open at once (503 past it); every stream ends when the server stops.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from foundation import settings, state
from foundation.guardrails import InvalidInput
from minutes_live.api.app import error_response, reading
from minutes_live.api.routes import DATASET, DATE, parse_day
from minutes_live.runs import catalog

router = APIRouter(prefix="/v1", tags=["events"])

POLL_S = 0.25
HEARTBEAT_S = 15.0
EVENT_STREAMS = 64
MAX_ALERT_BYTES = 1 << 20  # read per poll at most (a huge backlog is sent over several polls)


def alerts_path(day: date, dataset: str, alerts_dir: Path | None = None) -> Path:
    """The watcher's stream of the date (minutes_live.watch.alerts.alerts_path: the same layout)."""
    base = Path(alerts_dir) if alerts_dir is not None else settings.dataset_data_dir(dataset) / "watch"
    return base / day.isoformat() / "alerts.jsonl"


class StreamSlots:
    """A bounded count of open event streams."""

    def __init__(self, limit: int = EVENT_STREAMS):
        self.limit, self.open = limit, 0
        self._lock = threading.Lock()

    def acquire(self) -> bool:
        with self._lock:
            if self.open >= self.limit:
                return False
            self.open += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.open = max(0, self.open - 1)


def _readlink(path: Path) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def _mtime(path: Path) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


class DateWatch:
    """What changed for one date since the last poll (all paths fixed at connect, from checked values)."""

    def __init__(self, day: date, dataset: str, alerts: Path, alerts_offset: int):
        self.day, self.dataset = day, dataset
        with catalog.dataset_scope(dataset):
            self.pub = catalog.publication(day)
        self.pointer_path = self.pub.dir / "current"
        self.runs_dir = self.pub.date_dir(self.pub.roots.kinds[0])
        self.alerts = alerts
        self.alerts_offset = alerts_offset
        self.pointer = _readlink(self.pointer_path)
        self.runs_mtime = _mtime(self.runs_dir)
        self.runs = set(self.pub.runs(self.pub.roots.kinds[0]))

    def served(self) -> dict:
        current = self.pub.current()
        pin = self.pub.pinned()
        gen = self.pub.dir / "current" / "features.json"
        at = (state.read_object_or_warn(gen) or {}).get("published_at") if gen.exists() else None
        return {"date": self.day.isoformat(), "dataset": self.dataset, "served": current,
                "run_id": current.get("scores") or current.get("features"),
                "pinned": pin.get("run_id") if pin else None, "at": at}

    def poll(self) -> list[tuple[str, dict, str | None]]:
        out: list[tuple[str, dict, str | None]] = []
        mtime = _mtime(self.runs_dir)
        if mtime != self.runs_mtime:
            self.runs_mtime = mtime
            runs = set(self.pub.runs(self.pub.roots.kinds[0]))
            new = sorted(runs - self.runs)
            self.runs = runs
            if new:
                out.append(("run", {"date": self.day.isoformat(), "dataset": self.dataset, "runs": new}, None))
        pointer = _readlink(self.pointer_path)
        if pointer != self.pointer:
            self.pointer = pointer
            out.append(("publication", self.served(), None))
        out += self._alerts()
        return out

    def _alerts(self) -> list[tuple[str, dict, str | None]]:
        size = _size(self.alerts)
        if size < self.alerts_offset:  # a new file (rotated, restored): from its start
            self.alerts_offset = 0
        if size == self.alerts_offset:
            return []
        try:
            with open(self.alerts, "rb") as fh:
                fh.seek(self.alerts_offset)
                chunk = fh.read(min(size - self.alerts_offset, MAX_ALERT_BYTES))
        except OSError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []  # a line still being written
        out = []
        offset = self.alerts_offset
        for raw in chunk[: end + 1].split(b"\n")[:-1]:
            offset += len(raw) + 1
            try:
                alert = state.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                state.warn(self.alerts, f"a line ending at byte {offset} is not JSON; not sent")
                continue
            if isinstance(alert, dict):
                out.append(("alert", alert, str(offset)))
        self.alerts_offset = offset
        return out


def sse(event: str, data: dict, event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, default=str, separators=(',', ':'))}\n\n"


@router.get("/slates/{date}/events", summary="Server-sent events: publications, new runs, alerts",
            response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}})
async def get_events(request: Request, date: DATE, dataset: DATASET = None,
                     alerts: Annotated[str, Query(description="new (default): alerts from now on; all: the "
                                                  "date's alerts so far first.")] = "new",
                     last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None):
    """A text/event-stream of the date: `hello` at connect, then `publication` (latest moved), `run` (new
    runs) and `alert` (the watcher's alerts) as they happen."""
    day = parse_day(date)
    if alerts not in ("new", "all"):
        raise InvalidInput(f"alerts {alerts!r}: expected new or all")
    if last_event_id is not None and not (last_event_id.isdigit() and len(last_event_id) <= 15):
        raise InvalidInput("Last-Event-ID: expected the byte offset of an alert event")
    with reading(request, dataset, day) as name:
        path = alerts_path(day, name, request.app.state.config.alerts_dir)
    if last_event_id is not None:
        offset = min(int(last_event_id), _size(path))
    else:
        offset = 0 if alerts == "all" else _size(path)
    watch = await asyncio.to_thread(DateWatch, day, name, path, offset)
    slots = request.app.state.streams
    if not slots.acquire():
        return error_response(f"too many event streams open ({slots.limit}); retry later", 503)
    stopping = request.app.state.stopping

    async def stream():
        try:
            yield "retry: 1000\n\n" + sse("hello", await asyncio.to_thread(watch.served))
            beat = time.monotonic()
            while not stopping.is_set():
                if await request.is_disconnected():
                    return
                for event, data, event_id in await asyncio.to_thread(watch.poll):
                    yield sse(event, data, event_id)
                    beat = time.monotonic()
                if time.monotonic() - beat >= HEARTBEAT_S:
                    yield ": keep-alive\n\n"
                    beat = time.monotonic()
                await asyncio.sleep(POLL_S)
        finally:
            slots.release()

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"})
