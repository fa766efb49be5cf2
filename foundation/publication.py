"""Publication: which run of a date consumers read, moved for every root in one atomic step.

A run `(date, run_as_of_ts)` has up to three directories with the same run id: features, scores and
reports (`Roots`). Consumers read `<root>/<date>/latest`. Here each of those is a symlink into ONE
per-date pointer, kept next to the features:

    <features>/<date>/.publication/current -> gen-<n>        the pointer; replaced with one rename
    <features>/<date>/.publication/gen-<n>/<kind>.json        {"run_id", "run_as_of_ts", "published_at"}
    <root>/<date>/latest -> <features>/<date>/.publication/current/<kind>.json   (a relative symlink)
    <features>/<date>/.publication/pinned.json                a pin (run_id, reason), while set
    <features>/<date>/.publication/journal.json               a publish in progress (see below)

So replacing `current` moves every `latest` of the date at once: at no instant do two roots name
different runs of one publication.

The `latest` rule, the same for the job, the standalone builder and scorer, pin and unpin (`served`):
a pinned run if one is pinned, else the complete run with the newest run_as_of_ts (run ids sort in time
order). Complete means: features with summary.json; scores with summary.json whose `features_sha256` is
the sha256 of the features run of the same id (when that features run exists), so scores `latest` always
names a run scored from exactly those features; reports whose scores run is complete. The pointer is
derived from what is on disk, never remembered, so publishing an older instant simply does not move it.

Publishing a staged run (`publish`): temp directories `.tmp-run=<id>-<pid>` (complete and fsynced) are
renamed to `run=<id>` one root after another, then the pointer is recomputed and swapped. A journal
written before the first rename lists the moves; a process killed in between leaves the journal, and
the next command that touches the date (`recover`) rolls the moves back (or, when every directory was
already in place, completes them), removes temp folders of dead processes, and marks the killed
attempt in the registry.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from filelock import FileLock

from foundation import registry
from foundation.faults import boundary
from foundation.guardrails import InvalidInput
from foundation.run_directory import RunDirectory, read_json, validate_run_id

KINDS = ("features", "scores", "reports")
_TEMP_RE = re.compile(r"\A\.(tmp|old)-run=(?P<run_id>[0-9]{8}T[0-9]{6}Z)-(?P<pid>[0-9]+)\Z", re.ASCII)
KEEP_GENERATIONS = 3


class PublicationError(RuntimeError):
    """A pin, unpin or publish was refused; the message says why."""


class RootsMismatchError(InvalidInput):
    """The date is already published with other roots (exit 2)."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run_as_of_from_id(run_id: str) -> str:
    return datetime.strptime(run_id, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).isoformat()


def _write_json_atomic(path: Path, payload: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w") as fh:
        fh.write(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _symlink_atomic(target: str, link: Path) -> None:
    tmp = link.with_name(f".{link.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Roots:
    """Where the three directories of a run live. `default()` reads foundation.settings."""

    features: Path | None
    scores: Path | None = None
    reports: Path | None = None

    @classmethod
    def default(cls, *, features: Path | None = None, scores: Path | None = None,
                reports: Path | None = None, dataset: str = "live") -> Roots:
        """The dataset's roots (foundation.settings: live under data/live/, artifacts/minutes_v1/daily,
        reports/minutes_live; any other dataset under its own name), each overridable."""
        from foundation import settings

        return cls(Path(features or settings.features_root(dataset)), Path(scores or settings.scores_root(dataset)),
                   Path(reports or settings.live_reports_root(dataset)))

    def root(self, kind: str) -> Path:
        return getattr(self, kind)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(k for k in KINDS if getattr(self, k) is not None)

    @property
    def anchor(self) -> Path:
        """The root whose date folder holds the pointer: the features root (or the scores root for score
        runs of files that belong to no features run, written to a root of their own)."""
        return self.features if self.features is not None else self.scores


@dataclass
class PublishOutcome:
    run_id: str
    served: dict[str, str | None]
    replaced: list[str]

    @property
    def moved_latest(self) -> bool:
        return any(v == self.run_id for v in self.served.values())

    def describe(self, day: date) -> str:
        latest = sorted({v for v in self.served.values() if v})
        if self.moved_latest:
            return f"published run {self.run_id} for {day}; latest -> {self.run_id}"
        return (f"published run {self.run_id} for {day}; latest stays on {', '.join(latest) or 'nothing'} "
                "(a newer run_as_of_ts or a pin wins)")


class Publication:
    """The runs and the `latest` pointer of one date across the three roots."""

    def __init__(self, roots: Roots, day: date, data_root: Path | None = None, *, writes: tuple[str, ...] = ()):
        """`writes`: the kinds this command writes. The date's pointer serves the roots it was first
        published with; for the kinds a command does not write, those recorded roots are used."""
        from foundation import settings

        self.roots = roots
        self.day = day
        self.data_root = Path(data_root or settings.data_root())
        self.writes = writes

    # ----------------------------------------------------------------------------------- layout
    @property
    def dir(self) -> Path:
        return self.roots.anchor / self.day.isoformat() / ".publication"

    def date_dir(self, kind: str) -> Path:
        return self.roots.root(kind) / self.day.isoformat()

    def run_dir(self, kind: str, run_id: str) -> Path:
        return RunDirectory(self.roots.root(kind), self.day, run_id).path

    @contextmanager
    def locked(self) -> Iterator[Publication]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.dir / "lock")):
            self._check_roots()
            yield self

    def _check_roots(self) -> None:
        """The roots a date's pointer serves: those recorded by earlier publications, plus the root of each kind
        this command writes (attached on its first publish). A command never attaches a root it does not
        write (a features-only build under --out-root does not claim the scores root), and writing a kind to
        another root than the recorded one is refused: the pointer would name runs that root does not have."""
        mine = {k: str(self.roots.root(k).resolve()) for k in self.roots.kinds}
        recorded = read_json(self.dir / "roots.json") or {}
        clash = {k: v for k, v in recorded.items() if k in self.writes and k in mine and mine[k] != v}
        if clash:
            raise RootsMismatchError(
                f"the runs of {self.day} under {self.roots.anchor} are published with "
                + ", ".join(f"{k} in {v}" for k, v in clash.items())
                + f", not {', '.join(mine[k] for k in clash)}; use the same roots, or another --out-root")
        anchor = "features" if self.roots.features is not None else "scores"
        keep = {k for k in mine if k in self.writes or k == anchor}
        self.roots = Roots(**{k: Path(recorded[k]) if k in recorded else (Path(mine[k]) if k in keep else None)
                              for k in KINDS})

    # ----------------------------------------------------------------------------- the latest rule
    def runs(self, kind: str) -> list[str]:
        d = self.date_dir(kind)
        if not d.is_dir():
            return []
        return sorted(p.name.removeprefix("run=") for p in d.glob("run=*") if p.is_dir())

    def is_complete(self, kind: str, run_id: str) -> bool:
        run = self.run_dir(kind, run_id)
        if kind == "reports":
            return run.is_dir() and self.roots.scores is not None and self.is_complete("scores", run_id)
        summary = read_json(run / "summary.json")
        if summary is None:
            return False
        if kind == "scores" and self.roots.features is not None:
            features = read_json(self.run_dir("features", run_id) / "summary.json")
            scored_from = summary.get("features_sha256")
            if features is not None and scored_from and features.get("features_sha256"):
                return scored_from == features["features_sha256"]
        return True

    def complete_runs(self, kind: str) -> list[str]:
        return [r for r in self.runs(kind) if self.is_complete(kind, r)]

    def pinned(self) -> dict | None:
        return read_json(self.dir / "pinned.json")

    def served(self) -> dict[str, str | None]:
        pin = self.pinned()
        out: dict[str, str | None] = {}
        for kind in self.roots.kinds:
            complete = self.complete_runs(kind)
            if pin is not None:
                out[kind] = pin["run_id"] if pin["run_id"] in complete else None
            else:
                out[kind] = complete[-1] if complete else None
        return out

    def current(self) -> dict[str, str | None]:
        """What `latest` names right now, per root."""
        gen = self.dir / "current"
        return {k: (read_json(gen / f"{k}.json") or {}).get("run_id") for k in self.roots.kinds}

    # ------------------------------------------------------------------------------ the pointer
    def refresh(self) -> dict[str, str | None]:
        """Recompute the served runs from disk and, if they changed, swap the pointer (one rename)."""
        served = self.served()
        if served == self.current() and all(self._link_ok(k) for k in self.roots.kinds):
            return served
        self.dir.mkdir(parents=True, exist_ok=True)
        attached = {k: str(self.roots.root(k).resolve()) for k in self.roots.kinds}
        if read_json(self.dir / "roots.json") != attached:
            _write_json_atomic(self.dir / "roots.json", attached)
        # every root's `latest` points through `current` before it moves, so one rename moves them all
        for kind in self.roots.kinds:
            if not self._link_ok(kind):
                link = self.date_dir(kind) / "latest"
                owner = (link.parent / os.readlink(link)).parent.parent if link.is_symlink() else None
                if owner is not None and owner.is_dir():  # a live pointer of another anchor (a stale one is replaced)
                    raise RootsMismatchError(
                        f"{link} is served by another publication ({os.readlink(link)}); use the roots that "
                        "published this date, or another --artifact-root / --out-root")
                self.date_dir(kind).mkdir(parents=True, exist_ok=True)
                _symlink_atomic(self._link_target(kind), self.date_dir(kind) / "latest")
        gen = self.dir / f"gen-{time.time_ns()}"
        gen.mkdir()
        now = datetime.now(UTC).isoformat()
        for kind, run_id in served.items():
            if run_id is not None:
                _write_json_atomic(gen / f"{kind}.json", {"run_id": run_id, "run_as_of_ts": run_as_of_from_id(run_id),
                                                          "published_at": now, "pinned": self.pinned() is not None})
        _fsync_dir(gen)
        _symlink_atomic(gen.name, self.dir / "current")
        _fsync_dir(self.dir)
        self._drop_old_generations(keep=gen.name)
        return served

    def _link_target(self, kind: str) -> str:
        # relative, so a data tree copied or mounted elsewhere as a whole keeps working
        return os.path.relpath(self.dir / "current" / f"{kind}.json", self.date_dir(kind))

    def _link_ok(self, kind: str) -> bool:
        link = self.date_dir(kind) / "latest"
        return link.is_symlink() and os.readlink(link) == self._link_target(kind)

    def _drop_old_generations(self, keep: str) -> None:
        gens = sorted((p for p in self.dir.glob("gen-*") if p.is_dir()), key=lambda p: int(p.name[4:]))
        for old in gens[:-KEEP_GENERATIONS]:
            if old.name != keep:
                shutil.rmtree(old, ignore_errors=True)

    # --------------------------------------------------------------------------------- staging
    def stage(self, kind: str, run_id: str) -> Path:
        validate_run_id(run_id)
        d = self.date_dir(kind)
        d.mkdir(parents=True, exist_ok=True)
        tmp = d / f".tmp-run={run_id}-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        return tmp

    def existing(self, run_id: str, kinds: tuple[str, ...]) -> list[str]:
        return [k for k in kinds if self.run_dir(k, run_id).exists()]

    def publish(self, staged: dict[str, Path], run_id: str, *, replace: bool = False) -> PublishOutcome:
        """Rename the staged directories into `run=<id>` and swap the pointer (under the date lock)."""
        validate_run_id(run_id)
        with self.locked():
            self._recover_locked()
            clash = self.existing(run_id, tuple(staged))
            if clash and not replace:
                raise PublicationError(
                    f"run {run_id} for {self.day} already exists ({', '.join(clash)}); runs are immutable "
                    "(pass --replace to redo it deliberately)")
            for path in staged.values():
                _fsync_tree(path)
            moves = [{"kind": k, "staged": str(p), "final": str(self.run_dir(k, run_id)),
                      "old": str(self.date_dir(k) / f".old-run={run_id}-{os.getpid()}")
                      if self.run_dir(k, run_id).exists() else None}
                     for k, p in sorted(staged.items(), key=lambda kv: KINDS.index(kv[0]))]
            _write_json_atomic(self.dir / "journal.json", {
                "run_id": run_id, "pid": os.getpid(), "proc_start": registry.process_start_ticks(os.getpid()),
                "moves": moves})
            for m in moves:
                if m["old"]:
                    os.rename(m["final"], m["old"])
                os.rename(m["staged"], m["final"])
                _fsync_dir(Path(m["final"]).parent)
                boundary(f"publish:{m['kind']}")
            served = self.refresh()
            boundary("publish:pointer")
            self._finish_moves(moves)
            return PublishOutcome(run_id, served, [m["kind"] for m in moves if m["old"]])

    def _finish_moves(self, moves: list[dict]) -> None:
        (self.dir / "journal.json").unlink(missing_ok=True)
        for m in moves:
            if m["old"]:
                shutil.rmtree(m["old"], ignore_errors=True)

    # -------------------------------------------------------------------------------- recovery
    def recover(self) -> list[str]:
        """Clean up after dead processes of this date; returns what was done (one line each)."""
        if not self.dir.is_dir():  # never published: only temp folders and registry lines to look at
            return self._recover_locked()
        with self.locked():
            return self._recover_locked()

    def _recover_locked(self) -> list[str]:
        notes: list[str] = []
        journal = read_json(self.dir / "journal.json")
        if journal and not registry.process_alive(int(journal["pid"]), journal.get("proc_start")):
            notes.append(self._undo_journal(journal))
        for kind in self.roots.kinds:
            d = self.date_dir(kind)
            if not d.is_dir():
                continue
            for p in d.iterdir():
                m = _TEMP_RE.match(p.name)
                if m and not registry.process_alive(int(m["pid"])):
                    shutil.rmtree(p, ignore_errors=True)
                    notes.append(f"removed {p} (left by process {m['pid']}, no longer running)")

        def note_for(_attempt: dict) -> str:
            return "; ".join(notes) if notes else "it left no files behind"

        killed = registry.mark_killed(self.data_root, self.day.isoformat(), note_for=note_for)
        notes += [f"attempt {k['attempt_id']} ({k['job']} {k['run_id']}) marked killed" for k in killed]
        if (self.dir / "current").exists() or any(self.runs(k) for k in self.roots.kinds):
            self.refresh()
        return notes

    def _undo_journal(self, journal: dict) -> str:
        moves = journal["moves"]
        done = all(Path(m["final"]).is_dir() and not Path(m["staged"]).exists() for m in moves)
        if done:  # every directory was in place: the publication completed except for its cleanup
            self._finish_moves(moves)
            return f"completed the publication of run {journal['run_id']} (its process died after the last rename)"
        for m in reversed(moves):
            final, staged, old = Path(m["final"]), Path(m["staged"]), m["old"] and Path(m["old"])
            if staged.exists():
                shutil.rmtree(staged, ignore_errors=True)
            elif final.exists():  # renamed in by the dead process: take it out again
                shutil.rmtree(final, ignore_errors=True)
            if old and old.exists():
                os.rename(old, final)
        (self.dir / "journal.json").unlink(missing_ok=True)
        return f"rolled back the unfinished publication of run {journal['run_id']}"

    # ------------------------------------------------------------------------------- pin/unpin
    def pin(self, run_id: str, reason: str = "") -> dict[str, str | None]:
        validate_run_id(run_id)
        with self.locked():
            self._recover_locked()
            missing = [k for k in ("features", "scores")
                       if (k in self.roots.kinds and not self.is_complete(k, run_id))
                       or (k == "scores" and k not in self.roots.kinds)]
            if missing:
                raise PublicationError(
                    f"cannot pin {run_id} for {self.day}: no complete {' or '.join(missing)} run "
                    f"(complete runs: {', '.join(self.complete_runs('scores')) or 'none'})")
            _write_json_atomic(self.dir / "pinned.json", {"run_id": run_id, "reason": reason,
                                                          "pinned_at": datetime.now(UTC).isoformat()})
            return self.refresh()

    def unpin(self) -> dict[str, str | None]:
        with self.locked():
            self._recover_locked()
            (self.dir / "pinned.json").unlink(missing_ok=True)
            return self.refresh()


def _fsync_tree(path: Path) -> None:
    for p in sorted(Path(path).rglob("*")):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(Path(path))
