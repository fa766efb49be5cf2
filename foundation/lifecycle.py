"""One attempt at writing a run: registry lines, recovery, staging, publication, in one place.

Every command that writes a run (the job, build_minutes_live, score_minutes_v1) goes through
`run_attempt`:

    with run_attempt(pub, job="afternoon", run_id=..., run_as_of_ts=..., kinds=KINDS, replace=False) as run:
        ...                       # work; write each kind into run.stage(kind)
        run.publish()             # rename every staged directory into run=<id>, move `latest` once

On entry it records `started` in the registry, lets the date recover from dead processes (temp folders,
an unfinished publication, attempts to mark `killed`), and refuses a run id that already exists
unless `replace` (exit 9). An exception inside `publish` (Ctrl-C included) is rolled back by the publication
before it reaches here; a folder a pending journal still names is never discarded here. A run whose last attempt did not succeed (failed or killed after its
directories were in place) never blocks its own rerun: the rerun redoes it as if `--replace` was given,
and says so. On exit it records `succeeded`, or `failed` with the exit code and a one-line cause; an
exception removes what it staged, so a failed attempt leaves nothing behind.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from foundation import registry
from foundation.errors import BUG_EXIT, describe
from foundation.guardrails import RunExistsError
from foundation.publication import Publication, PublicationError, PublishOutcome
from foundation.run_directory import run_id_for


@dataclass
class RunAttempt:
    pub: Publication
    attempt: registry.Attempt
    kinds: tuple[str, ...]
    replace: bool
    staged: dict[str, Path] = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    outcome: PublishOutcome | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.attempt.run_id

    def retarget(self, run_as_of_ts: datetime) -> None:
        """A live run defaulted to 'now' takes its instant after the fetch: its id changes before staging."""
        if self.staged:
            raise RuntimeError("cannot change the run id after staging")
        self.attempt.run_id = run_id_for(run_as_of_ts)
        self.attempt.run_as_of_ts = run_as_of_ts.isoformat()
        self.check_new()

    def check_new(self) -> None:
        existing = self.pub.existing(self.run_id, self.kinds)
        if not existing or self.replace:
            return
        # the attempts that may have written these directories: a refused rerun (exit 9) wrote nothing
        earlier = [a for a in registry.attempts(self.pub.data_root)
                   if a.get("date") == self.pub.day.isoformat() and a.get("run_id") == self.run_id
                   and a.get("attempt_id") != self.attempt.attempt_id
                   and not (a.get("status") == "failed" and a.get("exit_code") == RunExistsError.exit_code)]
        last = earlier[-1] if earlier else None
        if last is not None and last.get("status") in ("failed", "killed"):
            self.replace = True
            self.notes.append(f"run {self.run_id} exists from an attempt that {last['status']}: redoing it")
            return
        where = ", ".join(str(self.pub.run_dir(k, self.run_id)) for k in existing)
        raise RunExistsError(
            f"run {self.run_id} for {self.pub.day} already exists ({where}); runs are immutable "
            "(pass --replace to redo it deliberately, or use another --run-as-of-ts)")

    def stage(self, kind: str) -> Path:
        if kind not in self.staged:
            self.staged[kind] = self.pub.stage(kind, self.run_id)
        return self.staged[kind]

    def publish(self) -> PublishOutcome:
        try:
            self.outcome = self.pub.publish(dict(self.staged), self.run_id, replace=self.replace)
        except PublicationError as exc:
            raise RunExistsError(str(exc)) from None
        self.staged.clear()
        return self.outcome

    def discard(self) -> None:
        """Remove what this attempt staged, except a folder a pending publication journal names: that one
        is recovery's to judge (the journal may still need it to put the date back as it was)."""
        pending = self.pub.pending_names()
        for path in self.staged.values():
            if Path(path).name in pending:
                continue
            shutil.rmtree(path, ignore_errors=True)
        self.staged.clear()


@contextmanager
def run_attempt(pub: Publication, *, job: str, run_as_of_ts: datetime, kinds: tuple[str, ...],
                replace: bool = False, **fields) -> Iterator[RunAttempt]:
    pub.writes = kinds
    attempt = registry.Attempt(pub.data_root, job, pub.day.isoformat(), run_id_for(run_as_of_ts),
                               run_as_of_ts.isoformat()).start(**fields)
    run = RunAttempt(pub, attempt, kinds, replace)
    try:
        run.notes += pub.recover()
        run.check_new()
        yield run
        if run.staged:  # the body staged but did not publish: a bug, not a silent partial run
            raise RuntimeError(f"{job}: staged {sorted(run.staged)} but never published")
    except BaseException as exc:
        run.discard()
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            code, cause = 130, f"{type(exc).__name__}: interrupted"
        else:  # the one mapping (foundation/errors.py): the code the command exits with
            code, cause = describe(exc)
            cause = cause.removeprefix("error: ") if code != BUG_EXIT else f"{type(exc).__name__}: {exc}"
        attempt.finish("failed", exit_code=code, error=cause, **run.details)
        raise
    served = run.outcome.served if run.outcome else None
    attempt.finish("succeeded", exit_code=0, latest=served, notes=run.notes, **run.details)
