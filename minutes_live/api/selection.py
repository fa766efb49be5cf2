"""Which run of a date a read names (docs/api.md, "Which run"):

    latest               what `latest` names now (foundation.publication: a pin, else the newest complete run)
    as_of=T              the newest complete run with run_as_of_ts <= T: the information state at T (pins ignored)
    served_at=T          what `latest` named at wall-clock T, from the date's publication history
                         (`.publication/history.jsonl`, one line per move of the pointer)
    run=R                that run, if it exists

Read-only; a question with no answer is a CatalogError (404), a malformed one InvalidInput (400).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from foundation.guardrails import InvalidInput
from foundation.publication import run_as_of_from_id
from minutes_live.runs import catalog


@dataclass(frozen=True)
class Selected:
    run_id: str
    run_as_of_ts: str
    selected_by: str  # latest | as_of | served_at | run
    at: str | None = None  # the instant asked about (as_of / served_at)
    served_since: str | None = None  # served_at: when `latest` started naming the run
    pinned: bool = False  # served_at / latest: the run was served as a pin

    def as_dict(self) -> dict:
        return asdict(self)


def _complete(pub) -> list[str]:
    """Runs a consumer may read: features and scores complete (foundation.publication's rule)."""
    scores = set(pub.complete_runs("scores")) if "scores" in pub.roots.kinds else None
    runs = pub.complete_runs("features") if "features" in pub.roots.kinds else sorted(scores or ())
    return [r for r in runs if scores is None or r in scores]


def as_of(day: date, at: datetime) -> Selected:
    pub = catalog.publication(day)
    runs = [r for r in _complete(pub) if datetime.fromisoformat(run_as_of_from_id(r)) <= at]
    if not runs:
        raise catalog.CatalogError(f"no complete run of {day} has run_as_of_ts <= {at.isoformat()} "
                                   f"(complete runs: {', '.join(_complete(pub)) or 'none'})")
    return Selected(runs[-1], run_as_of_from_id(runs[-1]), "as_of", at=at.isoformat())


def served_at(day: date, at: datetime) -> Selected:
    pub = catalog.publication(day)
    history = pub.history()
    before = [h for h in history if h["at"] <= at]
    if not before:
        first = history[0]["at"].isoformat() if history else None
        raise catalog.CatalogError(f"nothing was served for {day} at {at.isoformat()} "
                                   + (f"(first publication {first})" if first else "(never published)"))
    h = before[-1]
    run_id = h["served"].get("scores") or h["served"].get("features")
    if run_id is None:
        raise catalog.CatalogError(f"`latest` of {day} named no run at {at.isoformat()}")
    return Selected(run_id, run_as_of_from_id(run_id), "served_at", at=at.isoformat(),
                    served_since=h["at"].isoformat(), pinned=h.get("pinned") == run_id)


def latest(day: date) -> Selected:
    pub = catalog.publication(day)
    run_id = catalog.resolve(day, "latest")
    pin = pub.pinned()
    return Selected(run_id, run_as_of_from_id(run_id), "latest", pinned=bool(pin and pin.get("run_id") == run_id))


def named(day: date, run_id: str) -> Selected:
    return Selected(catalog.resolve(day, run_id), run_as_of_from_id(run_id), "run")


def select(day: date, *, as_of_ts: datetime | None = None, served_at_ts: datetime | None = None,
           run_id: str | None = None) -> Selected:
    given = [n for n, v in (("as_of", as_of_ts), ("served_at", served_at_ts), ("run", run_id)) if v is not None]
    if len(given) > 1:
        raise InvalidInput(f"{' and '.join(given)} exclude each other: ask for one")
    if as_of_ts is not None:
        return as_of(day, as_of_ts)
    if served_at_ts is not None:
        return served_at(day, served_at_ts)
    if run_id is not None:
        return named(day, run_id)
    return latest(day)
