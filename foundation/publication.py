"""Publication: which run of a date consumers read, moved for every root in one atomic step.

A run `(date, run_as_of_ts)` has up to three directories with the same run id: features, scores and
reports (`Roots`). Consumers read `<root>/<date>/latest`. Here each of those is a symlink into ONE
per-date pointer, kept next to the features:

    <features>/<date>/.publication/current -> gen-<n>        the pointer; replaced with one rename
    <features>/<date>/.publication/gen-<n>/<kind>.json        {"run_id", "run_as_of_ts", "published_at"}
    <root>/<date>/latest -> <features>/<date>/.publication/current/<kind>.json   (a relative symlink)
    <features>/<date>/.publication/pinned.json                a pin (run_id, reason), while set
    <features>/<date>/.publication/journal.json               a publish in progress (see below)
    <features>/<date>/.publication/history.jsonl              every move of the pointer, appended (see below)

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
attempt in the registry. An exception between the renames (Ctrl-C included) is rolled back by the
publishing process itself before it propagates, so a failed attempt never leaves a journal naming folders
it discarded.

The journal names folders by their name inside the date folder of their kind's root (`run=<id>`,
`.tmp-run=<id>-<pid>`, `.old-run=<id>-<pid>`), never by a path: a data tree moved or restored with a
pending journal recovers where it now is, and recovery touches nothing outside the date's roots (a journal
naming anything else is quarantined as `journal.json.damaged-<stamp>` with a warning, as is a journal that is
not readable). Control files (journal, pin, roots, lock) are read by foundation/state.py: damaged means
one warning for readers and DamagedStateError (exit 16) naming the file for a command that needs them.

The publication history (`history.jsonl`, read by `history()`): one JSON line per move of the pointer,
`{"at", "served": {kind: run_id}, "pinned": run_id | null}`, appended right after the swap with the instant
the generation records as `published_at`; a publish that does not move `latest` writes none. It answers
"what did `latest` name at wall-clock T" (`minutes-live serve`, `served_at`). A crash between the swap and the
append loses that one line: `history()` adds the current generation when its instant is missing.

A run with some kinds on disk but not the one its other kinds depend on (reports without scores, scores
without features: a folder deleted by hand) is served in no root, so every `latest` of the date keeps
naming one run. A pin whose run is no longer complete is not followed (a warning names pinned.json) until
it is unpinned or the run is repaired.
"""

from __future__ import annotations

import hashlib
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

from foundation import atomic, registry, state
from foundation.atomic import dumps
from foundation.faults import boundary
from foundation.guardrails import DamagedStateError, InvalidInput
from foundation.run_directory import RUN_ID_RE, RunDirectory, read_json, validate_run_id

KINDS = ("features", "scores", "reports")
_TEMP_RE = re.compile(r"\A\.(?P<what>tmp|old)-run=(?P<run_id>[0-9]{8}T[0-9]{6}Z)-(?P<pid>[0-9]+)\Z", re.ASCII)
KEEP_GENERATIONS = 3
HISTORY = "history.jsonl"


class PublicationError(InvalidInput):
    """A pin, unpin or publish was refused; the message says why."""


class NothingPublishedError(PublicationError, InvalidInput):
    """pin or unpin of a date with nothing published (exit 2): refused before anything is created."""


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
        lock = self.dir / "lock"
        if lock.is_symlink() or (lock.exists() and not lock.is_file()):
            raise state.damaged(lock, "is not a regular file (the date's publication lock)")
        with FileLock(str(lock)):
            self._check_roots()
            yield self

    def published(self) -> bool:
        """Whether anything of the date was ever published (a pointer, or a run folder in any root)."""
        return self.dir.is_dir() or any(self.runs(k) for k in self.roots.kinds)

    def _read_roots(self) -> dict[str, str]:
        """roots.json, checked: an object of kind -> absolute folder. A data tree moved or restored as a whole
        (the recorded anchor is gone) is read relative to where the anchor now is, with a warning."""
        path = self.dir / "roots.json"

        def check(obj: dict) -> str | None:
            for k, v in obj.items():
                if k not in KINDS:
                    return f"names an unknown kind {k!r}"
                if not isinstance(v, str) or not os.path.isabs(v) or "\x00" in v:
                    return f"records {k} as {v!r}, not an absolute folder"
            anchor = "features" if self.roots.features is not None else "scores"
            if anchor not in obj:
                return f"does not record the {anchor} root it lives in"
            return None

        recorded = state.read_object(path, check=check) or {}
        if not recorded:
            return recorded
        anchor = "features" if self.roots.features is not None else "scores"
        here = self.roots.anchor.resolve()
        then = Path(recorded[anchor])
        if then != here:
            state.warn(path, f"records {then}, now at {here} (the data tree was moved or restored): "
                             "reading the roots relative to it")
            recorded = {k: str(Path(os.path.normpath(here / os.path.relpath(v, then)))) for k, v in recorded.items()}
        return recorded

    def _check_roots(self) -> None:
        """The roots a date's pointer serves: those recorded by earlier publications, plus the root of each kind
        this command writes (attached on its first publish). A command never attaches a root it does not
        write (a features-only build under --out-root does not claim the scores root), and writing a kind to
        another root than the recorded one is refused: the pointer would name runs that root does not have."""
        mine = {k: str(self.roots.root(k).resolve()) for k in self.roots.kinds}
        recorded = self._read_roots()
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
        return sorted(p.name.removeprefix("run=") for p in d.glob("run=*")
                      if p.is_dir() and RUN_ID_RE.match(p.name.removeprefix("run=")))

    def broken(self, run_id: str) -> str | None:
        """Why a run cannot be served in any root: a kind it depends on is missing while a kind built on it is
        there (reports without scores, scores without features: a folder deleted by hand). None when whole."""
        has = {k: self.run_dir(k, run_id).is_dir() for k in self.roots.kinds}
        if has.get("reports") and "scores" in has and not has["scores"]:
            return f"{self.run_dir('scores', run_id)} is missing (its reports are there)"
        if has.get("scores") and "features" in has and not has["features"]:
            return f"{self.run_dir('features', run_id)} is missing (its scores are there)"
        return None

    def is_complete(self, kind: str, run_id: str) -> bool:
        run = self.run_dir(kind, run_id)
        if not run.is_dir() or self.broken(run_id):
            return False
        if kind == "reports":
            return self.roots.scores is not None and self.is_complete("scores", run_id)
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

    def pinned(self, *, strict: bool = False) -> dict | None:
        """The pin, or None. A damaged pinned.json (not an object, no valid run_id) is a warning and None for
        readers; `strict` (a command about to move `latest`) raises DamagedStateError naming it."""
        def check(obj: dict) -> str | None:
            rid = obj.get("run_id")
            return None if isinstance(rid, str) and RUN_ID_RE.match(rid) else f"has no valid run_id ({rid!r})"

        path = self.dir / "pinned.json"
        if strict:
            return state.read_object(path, check=check)
        return state.read_object_or_warn(path, check=check)

    def served(self) -> dict[str, str | None]:
        pin = self.pinned(strict=True)
        out: dict[str, str | None] = {}
        if pin is not None:
            pinned_id = pin["run_id"]
            needed = [k for k in ("features", "scores") if k in self.roots.kinds]
            missing = [k for k in needed if not self.is_complete(k, pinned_id)]
            if missing or not needed:
                state.warn(self.dir / "pinned.json",
                           f"the pinned run {pinned_id} has no complete {' or '.join(missing or ['scores'])} "
                           f"({self.broken(pinned_id) or 'incomplete'}): serving by the rule until it is unpinned or repaired")
                pin = None
        for kind in self.roots.kinds:
            complete = self.complete_runs(kind)
            if pin is not None and pin["run_id"] in complete:
                out[kind] = pin["run_id"]
            else:
                out[kind] = complete[-1] if complete else None
        return out

    def current(self) -> dict[str, str | None]:
        """What `latest` names right now, per root."""
        gen = self.dir / "current"
        out = {}
        for k in self.roots.kinds:
            rid = (read_json(gen / f"{k}.json") or {}).get("run_id")
            out[k] = rid if isinstance(rid, str) and RUN_ID_RE.match(rid) else None
        return out

    # ------------------------------------------------------------------------------ the pointer
    def refresh(self) -> dict[str, str | None]:
        """Recompute the served runs from disk and, if they changed, swap the pointer (one rename)."""
        served = self.served()
        if served == self.current() and all(self._link_ok(k) for k in self.roots.kinds if served[k]):
            return served
        self.dir.mkdir(parents=True, exist_ok=True)
        attached = {k: str(self.roots.root(k).resolve()) for k in self.roots.kinds}
        if state.read_object_or_warn(self.dir / "roots.json") != attached:
            atomic.write_json(self.dir / "roots.json", attached)
        # every root's `latest` points through `current` before it moves, so one rename moves them all
        for kind in self.roots.kinds:
            link = self.date_dir(kind) / "latest"
            if not self._link_ok(kind) and (served[kind] is not None or link.is_symlink()):
                owner = (link.parent / os.readlink(link)).parent.parent if link.is_symlink() else None
                if owner is not None and owner.is_dir():  # a live pointer of another anchor (a stale one is replaced)
                    raise RootsMismatchError(
                        f"{link} is served by another publication ({os.readlink(link)}); use the roots that "
                        "published this date, or another --artifact-root / --out-root")
                self.date_dir(kind).mkdir(parents=True, exist_ok=True)
                atomic.symlink(self._link_target(kind), link)
        gen = self.dir / f"gen-{time.time_ns()}"
        gen.mkdir()
        now = datetime.now(UTC).isoformat()
        pinned = self.pinned() is not None
        for kind, run_id in served.items():
            if run_id is not None:
                atomic.write_json(gen / f"{kind}.json", {"run_id": run_id, "run_as_of_ts": run_as_of_from_id(run_id),
                                                         "published_at": now, "pinned": pinned})
        atomic.fsync_dir(gen)
        atomic.symlink(gen.name, self.dir / "current")
        pin = self.pinned() if pinned else None
        state.append_line(self.dir / HISTORY, dumps({"at": now, "served": served,
                                                     "pinned": pin["run_id"] if pin else None}, indent=None))
        self._drop_old_generations(keep=gen.name)
        return served

    def history(self) -> list[dict]:
        """Every move of the pointer, oldest first: {"at" (aware datetime), "served": {kind: run_id}, "pinned"}.
        A bad line is skipped with a warning (foundation/state.py); the current generation is added when the
        log lacks its instant (a crash after the swap, or a date published before the log existed)."""
        def check(line: dict) -> str | None:
            served = line.get("served")
            if not isinstance(line.get("at"), str) or not isinstance(served, dict):
                return "has no `at` string or `served` object"
            if any(v is not None and not (isinstance(v, str) and RUN_ID_RE.match(v)) for v in served.values()):
                return "names a run id that is not an instant"
            try:
                datetime.fromisoformat(line["at"])
            except ValueError:
                return f"has an `at` that is not an ISO instant ({line['at']!r:.40})"
            return None

        out = [{"at": datetime.fromisoformat(line["at"]), "served": line["served"], "pinned": line.get("pinned")}
               for line in state.iter_lines(self.dir / HISTORY, check=check)]
        current = {k: read_json(self.dir / "current" / f"{k}.json") or {} for k in KINDS}
        stamps = {v.get("published_at") for v in current.values() if isinstance(v.get("published_at"), str)}
        if len(stamps) == 1:
            at = datetime.fromisoformat(stamps.pop())
            if all(h["at"] != at for h in out):
                pinned = next((v.get("run_id") for v in current.values() if v.get("pinned")), None)
                out.append({"at": at, "served": {k: v.get("run_id") for k, v in current.items() if v},
                            "pinned": pinned})
        return sorted(out, key=lambda h: h["at"])

    def _link_target(self, kind: str) -> str:
        # relative, so a data tree copied or mounted elsewhere as a whole keeps working
        return os.path.relpath(self.dir / "current" / f"{kind}.json", self.date_dir(kind))

    def _link_ok(self, kind: str) -> bool:
        link = self.date_dir(kind) / "latest"
        return link.is_symlink() and os.readlink(link) == self._link_target(kind)

    def _drop_old_generations(self, keep: str) -> None:
        gens = sorted((p for p in self.dir.glob("gen-*") if p.is_dir() and p.name[4:].isdigit()),
                      key=lambda p: int(p.name[4:]))
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
        """Rename the staged directories into `run=<id>` and swap the pointer (under the date lock). An
        exception before the pointer moved (Ctrl-C included) puts every folder back as it was, then propagates."""
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
            moves = []
            for kind, path in sorted(staged.items(), key=lambda kv: KINDS.index(kv[0])):
                if Path(path).parent.resolve() != self.date_dir(kind).resolve():
                    raise PublicationError(f"staged {kind} folder {path} is not in {self.date_dir(kind)}")
                old = f".old-run={run_id}-{os.getpid()}" if self.run_dir(kind, run_id).exists() else None
                moves.append({"kind": kind, "staged": Path(path).name, "final": f"run={run_id}", "old": old})
            atomic.write_json(self.dir / "journal.json", {
                "run_id": run_id, "pid": os.getpid(), "proc_start": registry.process_start_ticks(os.getpid()),
                "moves": moves})
            try:
                for m in moves:
                    staged_p, final, old = self._move_paths(m)
                    if old is not None:
                        os.rename(final, old)
                    os.rename(staged_p, final)
                    atomic.fsync_dir(final.parent)
                    boundary(f"publish:{m['kind']}")
                served = self.refresh()
            except BaseException:
                self._roll_back(moves)
                (self.dir / "journal.json").unlink(missing_ok=True)
                self.refresh()
                raise
            boundary("publish:pointer")
            self._finish_moves(moves)
            return PublishOutcome(run_id, served, [m["kind"] for m in moves if m["old"]])

    def _move_paths(self, move: dict) -> tuple[Path, Path, Path | None]:
        d = self.date_dir(move["kind"])
        return d / move["staged"], d / move["final"], (d / move["old"]) if move["old"] else None

    def _renamed(self, move: dict) -> bool:
        """The move's rename into run=<id> happened (read from the folders, which cannot lie about it)."""
        staged, final, old = self._move_paths(move)
        return final.is_dir() and not staged.exists() and (old is None or old.is_dir())

    def _roll_back(self, moves: list[dict]) -> None:
        """Undo the renames that happened, newest first: run=<id> back to its staged name, the run it replaced
        back to run=<id>. Nothing is deleted: the staged folders are then removed as any temp folder is."""
        for m in reversed(moves):
            staged, final, old = self._move_paths(m)
            if self._renamed(m):
                os.rename(final, staged)
            if old is not None and old.is_dir() and not final.exists():
                os.rename(old, final)
            atomic.fsync_dir(final.parent)

    def _finish_moves(self, moves: list[dict]) -> None:
        """The publication is complete: drop the runs it replaced, then the journal (in that order, so a crash
        in between leaves a journal whose rollback finds nothing to undo)."""
        for m in moves:
            _staged, _final, old = self._move_paths(m)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        (self.dir / "journal.json").unlink(missing_ok=True)

    # -------------------------------------------------------------------------------- the journal
    def _read_journal(self) -> dict | None:
        """The pending journal, checked; a damaged one (unreadable, wrong types, a name that is not a run folder
        of this date in its kind's root) is quarantined with a warning and never acted on."""
        path = self.dir / "journal.json"
        try:
            journal = state.read_object(path, check=self._journal_problem)
        except DamagedStateError as exc:
            state.quarantine(path, str(exc).removeprefix(f"{path}: ").removesuffix("; repair or remove it")
                             + "; nothing it names was touched")
            return None
        if journal is None:
            return None
        for m in journal["moves"]:  # an older journal's absolute paths, checked to be in the date folder
            for key in ("staged", "final", "old"):
                if m[key]:
                    m[key] = Path(m[key]).name
        return journal

    def _journal_problem(self, journal: dict) -> str | None:
        run_id, pid, moves = journal.get("run_id"), journal.get("pid"), journal.get("moves")
        if not (isinstance(run_id, str) and RUN_ID_RE.match(run_id)):
            return f"has no valid run_id ({run_id!r})"
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
            return f"has a pid that is not a positive integer ({pid!r})"
        if journal.get("proc_start") is not None and not isinstance(journal["proc_start"], int):
            return "has a proc_start that is not an integer"
        if not isinstance(moves, list) or not moves or len(moves) > len(KINDS):
            return "has no list of moves"
        patterns = {"staged": re.compile(rf"\A\.tmp-run={run_id}-[0-9]+\Z"), "final": re.compile(rf"\Arun={run_id}\Z"),
                    "old": re.compile(rf"\A\.old-run={run_id}-[0-9]+\Z")}
        for m in moves:
            if not isinstance(m, dict) or m.get("kind") not in self.roots.kinds:
                return f"has a move of no attached kind ({m!r:.80})"
            for key, pattern in patterns.items():
                value = m.get(key)
                if value is None and key == "old":
                    continue
                if not isinstance(value, str):
                    return f"has a move whose {key} is not a name ({value!r:.80})"
                name = value
                if os.path.isabs(value) or "/" in value:
                    if Path(value).parent.resolve() != self.date_dir(m["kind"]).resolve():
                        return f"names {value}, outside the {m['kind']} folder of {self.day} ({self.date_dir(m['kind'])})"
                    name = Path(value).name
                if not pattern.match(name):
                    return f"names {value!r}, not a {key} folder of run {run_id}"
        return None

    def pending_names(self) -> set[str]:
        """The folder names a pending journal lists (discarded by recovery only, never by the attempt)."""
        try:
            journal = state.read_object(self.dir / "journal.json", check=self._journal_problem)
        except DamagedStateError:
            return set()
        return {Path(m[k]).name for m in (journal or {}).get("moves", []) for k in ("staged", "final", "old") if m[k]}

    # -------------------------------------------------------------------------------- recovery
    def recover(self) -> list[str]:
        """Clean up after dead processes of this date; returns what was done (one line each)."""
        if not self.dir.is_dir():  # never published: only temp folders and registry lines to look at
            self._check_roots()  # only the roots this command writes (a sandbox build leaves the others alone)
            return self._recover_locked()
        with self.locked():
            return self._recover_locked()

    def _recover_locked(self) -> list[str]:
        notes: list[str] = []
        journal = self._read_journal() if self.dir.is_dir() else None
        named: set[str] = set()
        if journal is not None:
            if registry.process_alive(journal["pid"], journal.get("proc_start")):
                named = {m[k] for m in journal["moves"] for k in ("staged", "old") if m[k]}
            else:
                notes.append(self._undo_journal(journal))
        for kind in self.roots.kinds:
            d = self.date_dir(kind)
            if not d.is_dir():
                continue
            for p in sorted(d.iterdir()):
                m = _TEMP_RE.match(p.name)
                if not m or p.name in named or registry.process_alive(int(m["pid"])):
                    continue
                if m["what"] == "tmp":
                    shutil.rmtree(p, ignore_errors=True)
                    notes.append(f"removed {p} (left by process {m['pid']}, no longer running)")
                elif not (d / f"run={m['run_id']}").exists():  # a replaced run no journal names: put it back
                    os.rename(p, d / f"run={m['run_id']}")
                    notes.append(f"restored {d / ('run=' + m['run_id'])} from {p.name} (no journal named it)")
                else:
                    state.warn(p, f"a replaced copy of run {m['run_id']} that no journal names; left in place "
                                  "(remove it by hand once the run is checked)")

        def note_for(_attempt: dict) -> str:
            return "; ".join(notes) if notes else "it left no files behind"

        killed = registry.mark_killed(self.data_root, self.day.isoformat(), note_for=note_for)
        notes += [f"attempt {k['attempt_id']} ({k['job']} {k['run_id']}) marked killed" for k in killed]
        if (self.dir / "current").exists() or any(self.runs(k) for k in self.roots.kinds):
            self.refresh()
        return notes

    def _undo_journal(self, journal: dict) -> str:
        moves = journal["moves"]
        if all(self._renamed(m) for m in moves):  # every folder was in place: complete except for cleanup
            self._finish_moves(moves)
            return f"completed the publication of run {journal['run_id']} (its process died after the last rename)"
        self._roll_back(moves)
        (self.dir / "journal.json").unlink(missing_ok=True)
        return f"rolled back the unfinished publication of run {journal['run_id']}"

    # ------------------------------------------------------------------------------- pin/unpin
    def _refuse_unpublished(self, what: str) -> None:
        if not self.published():
            raise NothingPublishedError(f"cannot {what} {self.day}: nothing is published for that date "
                                   f"(no runs under {self.date_dir(self.roots.kinds[0])})")

    def _set_aside_damaged_pin(self) -> None:
        try:
            self.pinned(strict=True)
        except DamagedStateError as exc:
            path = self.dir / "pinned.json"
            state.quarantine(path, str(exc).removeprefix(f"{path}: ").removesuffix("; repair or remove it"))

    def pin(self, run_id: str, reason: str = "") -> dict[str, str | None]:
        validate_run_id(run_id)
        self._refuse_unpublished("pin a run of")
        with self.locked():
            self._set_aside_damaged_pin()  # replaced by this pin anyway
            self._recover_locked()
            missing = [k for k in ("features", "scores")
                       if (k in self.roots.kinds and not self.is_complete(k, run_id))
                       or (k == "scores" and k not in self.roots.kinds)]
            if missing:
                raise PublicationError(
                    f"cannot pin {run_id} for {self.day}: no complete {' or '.join(missing)} run "
                    f"(complete runs: {', '.join(self.complete_runs('scores')) or 'none'})")
            atomic.write_json(self.dir / "pinned.json", {"run_id": run_id, "reason": str(reason),
                                                         "pinned_at": datetime.now(UTC).isoformat()})
            return self.refresh()

    def unpin(self) -> dict[str, str | None]:
        self._refuse_unpublished("unpin")
        with self.locked():
            self._set_aside_damaged_pin()
            (self.dir / "pinned.json").unlink(missing_ok=True)
            self._recover_locked()
            return self.refresh()


def _fsync_tree(path: Path) -> None:
    for p in sorted(Path(path).rglob("*")):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
    atomic.fsync_dir(Path(path))
