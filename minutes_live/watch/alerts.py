"""The watcher's alerts: one JSON line each in the date's stream, and an optional webhook POST.

Stream: `<dataset data root>/watch/<date>/alerts.jsonl` (live: data/live/watch/..., a replay: under its
dataset), one object per line: `ts` (the watcher's clock: a replayed day's instant), `wall_ts`, `kind`,
`date`, `message`, and the fields of the kind:

| kind | when | fields |
| --- | --- | --- |
| status_change | a player's status changed between the served run and the new one | player_id, player_name, team, game_id, status_from, status_to, run_from, run_to, reason |
| minutes_move | `minutes_mean` or `minutes_p50` moved by >= --alert-min-delta | ..., column, from, to, delta, reason (from `runs diff`) |
| source_unreachable | a poll of a source failed (once per outage; `source_recovered` when it answers again) | source, error, retry_in_seconds |
| source_stale | no successful poll of a source for longer than its max age (foundation/freshness.py) | source, last_ok, age_minutes, max_age_minutes |
| run_failed | a re-run failed (the served run stays) | run_id, exit_code, error |
| run_published | a re-run was published | run_id, trigger |

The webhook gets each alert as its JSON body (POST, application/json), with retries on connection errors
and 5xx (urllib3 Retry). A webhook that stays down is logged, never fatal: the stream is the record.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from foundation import settings, state
from foundation.atomic import dumps

log = logging.getLogger(__name__)

ALERT_KINDS = ("status_change", "minutes_move", "source_unreachable", "source_recovered", "source_stale",
               "run_failed", "run_published")
WEBHOOK_TIMEOUT_SECONDS = 5.0


def alerts_path(dataset: str, day, data_root: Path | None = None) -> Path:
    return settings.dataset_data_dir(dataset, data_root) / "watch" / day.isoformat() / "alerts.jsonl"


@dataclass
class Alerts:
    path: Path
    day: object
    webhook: str | None = None
    sent: list[dict] = field(default_factory=list)
    _pool: object = None

    def emit(self, kind: str, at: datetime, message: str, **fields) -> dict:
        record = {"ts": at.astimezone(UTC).isoformat(), "wall_ts": datetime.now(UTC).isoformat(timespec="seconds"),
                  "kind": kind, "date": self.day.isoformat(), "message": message, **fields}
        state.append_line(self.path, dumps(record, indent=None, first=("ts", "kind")))
        self.sent.append(record)
        log.warning("alert %s: %s", kind, message) if kind in ("run_failed", "source_stale", "source_unreachable") \
            else log.info("alert %s: %s", kind, message)
        if self.webhook:
            self._post(record)
        return record

    def _post(self, record: dict) -> None:
        import urllib3
        from urllib3.util.retry import Retry

        if self._pool is None:
            self._pool = urllib3.PoolManager(retries=Retry(total=3, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504),
                                                            allowed_methods=None),
                                             timeout=urllib3.Timeout(total=WEBHOOK_TIMEOUT_SECONDS))
        try:
            resp = self._pool.request("POST", self.webhook, body=json.dumps(record, default=str).encode(),
                                      headers={"Content-Type": "application/json"})
            if resp.status >= 400:
                log.warning("webhook %s answered %d for a %s alert", self.webhook, resp.status, record["kind"])
        except urllib3.exceptions.HTTPError as exc:
            log.warning("webhook %s unreachable for a %s alert: %s", self.webhook, record["kind"], exc)


def read_alerts(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
