"""Retention: old runs and raw extracts moved into one compressed archive per date, and runs brought back.

    plan(dataset, today, keep_days)          what `gc` would archive, per date (nothing is written)
    collect(dataset, today, keep_days, ...)  `minutes-live gc`: archive, verify, then remove the originals
    restore(dataset, day, run_id)            `minutes-live runs restore`: the run back, byte-identical
    archived_runs(dataset, day)              the run ids a date's archive holds

What is archived: for every date older than `keep_days` (slate date < today - keep_days, today in US/Eastern),
every run folder (features, scores, reports) and every raw-extract folder
(`snapshots/<kind>/<date>/run=<id>/`) whose run is not kept. Kept, never touched: the run every `latest` of
the date names, the pinned run, and the run the rule would serve without the pin (so an unpin after gc serves
what it served before), with their raw extracts. The date's `.publication/` (pointer, pin, roots) stays.

The archive: `<data root>/<dataset>/archive/<date>.tar.gz` (live: data/live/archive/), members
`<date>/features/run=<id>/...`, `<date>/scores/...`, `<date>/reports/...`, `<date>/snapshots/<kind>/run=<id>/...`
and `<date>/MANIFEST.json` last: the sha256, size and origin of every member. Bytes already in the archive
(a raw extract refetched unchanged by the next run, a report no run changed) are stored once: later copies are
tar hard links to the first (`link` in the manifest). A copy of the manifest sits
beside it (`<date>.manifest.json`, for people and scripts; the member inside is authoritative). A later gc of
the same date rewrites the archive with the old members plus the new ones.

Crash safety (a SIGKILL at any point loses nothing; tests/python/minutes_live/runs/test_retention.py kills a real
gc at each step):
1. the archive is written to `.<date>.tar.gz.tmp-<pid>`, fsynced, then read back and every member checked
   against the manifest (and every planned file against its hash) before it replaces `<date>.tar.gz`;
2. only then are the archived folders renamed aside (`.gc-run=<id>-<pid>`, one rename each, reports before
   scores before features, so a half-done date never has reports without scores), then deleted;
3. the next gc or restore of the dataset finishes what a killed gc left: a `.gc-run=` folder of a dead process
   whose every file is in the date's archive with the same sha256 is deleted, any other is renamed back to
   `run=<id>`; a temp archive of a dead process is removed. The registry line `archived` is written once the
   archive is in place, before the first original is set aside.
Both take the data root's store lock (gc: per date; a job, ingest or another gc waits, or they wait for one;
exit 12 after --lock-timeout) and the date's publication lock (pin and unpin wait). The registry records each archived date
(`status: archived`) and each restored run (`status: restored`): foundation/registry.py `events`.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import shutil
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from foundation import atomic, registry, settings, state
from foundation.faults import boundary
from foundation.guardrails import DamagedStateError, InvalidInput, RunExistsError
from foundation.locks import store_lock
from foundation.publication import KINDS, Publication, Roots, sha256_file
from foundation.run_directory import RUN_ID_RE

log = logging.getLogger(__name__)

ARCHIVE_FORMAT = 1
MANIFEST = "MANIFEST.json"
_GC_RE = re.compile(r"\A\.gc-run=(?P<run_id>[0-9]{8}T[0-9]{6}Z)-(?P<pid>[0-9]+)\Z", re.ASCII)
_TMP_ARCHIVE_RE = re.compile(r"\A\.(?P<day>[0-9]{4}-[0-9]{2}-[0-9]{2})\.tar\.gz\.tmp-(?P<pid>[0-9]+)\Z", re.ASCII)
_RESTORE_TMP_RE = re.compile(r"\A\.restore-run=(?P<run_id>[0-9]{8}T[0-9]{6}Z)-(?P<pid>[0-9]+)\Z", re.ASCII)
# crash-test boundaries (foundation/faults.py): a test SIGKILLs a real gc at each
GC_BOUNDARIES = ("gc:archive-written", "gc:archive-in-place", "gc:moved-aside", "gc:deleting")


class ArchiveError(DamagedStateError):
    """A date's archive cannot be read, or does not match its manifest (exit 16): the file is named."""


class NotArchivedError(InvalidInput):
    """`runs restore` of a run that no archive of the date holds (exit 2): the archived runs are listed."""


@dataclass
class Folder:
    """One folder to archive: a run's features, scores or reports, or one run of raw extracts of a kind."""

    kind: str  # features | scores | reports | snapshots/<kind>
    run_id: str
    path: Path
    files: list[Path] = field(default_factory=list)
    bytes: int = 0

    @property
    def arcdir(self) -> str:
        return f"{self.kind}/run={self.run_id}"


@dataclass
class DatePlan:
    day: date
    folders: list[Folder]
    kept: dict[str, str]  # run id -> why it stays

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.folders)

    @property
    def runs(self) -> list[str]:
        return sorted({f.run_id for f in self.folders if not f.kind.startswith("snapshots/")})

    @property
    def extract_runs(self) -> list[str]:
        return sorted({f.run_id for f in self.folders if f.kind.startswith("snapshots/")})


@dataclass
class DateResult:
    day: date
    runs: list[str]
    extract_runs: list[str]
    files: int
    bytes_freed: int
    archive: Path
    archive_bytes_before: int
    archive_bytes: int


# ------------------------------------------------------------------------------------------------ layout

def archive_dir(dataset: str) -> Path:
    return settings.dataset_data_dir(dataset) / "archive"


def archive_path(dataset: str, day: date) -> Path:
    return archive_dir(dataset) / f"{day.isoformat()}.tar.gz"


def _roots(dataset: str) -> Roots:
    return Roots.default(dataset=dataset)


def _publication(dataset: str, day: date) -> Publication:
    return Publication(_roots(dataset), day, settings.registry_root(dataset))


def _kind_dirs(dataset: str, day: date, roots: Roots) -> dict[str, Path]:
    """Where each kind's run folders of the date live: the three roots and every raw-extract kind."""
    out = {k: roots.root(k) / day.isoformat() for k in roots.kinds}
    snaps = settings.snapshots_root(dataset)
    if snaps.is_dir():
        for kind_dir in sorted(p for p in snaps.iterdir() if p.is_dir() and not p.name.startswith(".")):
            out[f"snapshots/{kind_dir.name}"] = kind_dir / day.isoformat()
    return out


def dates_on_disk(dataset: str) -> list[date]:
    """Every date with a folder in a run root or under the raw extracts."""
    roots = _roots(dataset)
    bases = [roots.root(k) for k in roots.kinds]
    snaps = settings.snapshots_root(dataset)
    if snaps.is_dir():
        bases += [p for p in snaps.iterdir() if p.is_dir()]
    found: set[date] = set()
    for base in bases:
        if not base.is_dir():
            continue
        for p in base.iterdir():
            try:
                found.add(date.fromisoformat(p.name))
            except ValueError:
                continue
    return sorted(found)


def _files(folder: Path) -> tuple[list[Path], int]:
    files, size = [], 0
    for p in sorted(folder.rglob("*")):
        if p.is_symlink() or not (p.is_file() or p.is_dir()):
            raise DamagedStateError(f"{p}: not a regular file or folder inside a run folder; move it away "
                                    "before gc (nothing was archived)")
        if p.is_file():
            files.append(p)
            size += p.stat().st_size
    return files, size


# -------------------------------------------------------------------------------------------------- plan

def kept_runs(pub: Publication) -> dict[str, str]:
    """The runs of a date gc never touches, with why: what `latest` names, the pin, the rule's run without it."""
    kept: dict[str, str] = {}
    for run_id in pub.current().values():
        if run_id:
            kept.setdefault(run_id, "latest")
    pin = pub.pinned(strict=True)  # a damaged pin: exit 16 before anything is archived
    if pin:
        kept[pin["run_id"]] = "pinned"
    for kind in pub.roots.kinds:
        complete = pub.complete_runs(kind)
        if complete:
            kept.setdefault(complete[-1], "served by the rule when unpinned")
    for run_id in pub.served().values():
        if run_id:
            kept.setdefault(run_id, "latest")
    return kept


def plan_date(dataset: str, day: date, pub: Publication | None = None) -> DatePlan:
    pub = pub or _publication(dataset, day)
    kept = kept_runs(pub) if pub.published() else {}
    folders = []
    for kind, base in _kind_dirs(dataset, day, pub.roots).items():
        if not base.is_dir():
            continue
        for p in sorted(base.glob("run=*")):
            run_id = p.name.removeprefix("run=")
            if not p.is_dir() or p.is_symlink() or not RUN_ID_RE.match(run_id) or run_id in kept:
                continue
            files, size = _files(p)
            folders.append(Folder(kind, run_id, p, files, size))
    order = {"reports": 0, "scores": 1, "features": 2}
    folders.sort(key=lambda f: (order.get(f.kind, 3), f.kind, f.run_id))
    return DatePlan(day, folders, kept)


def cutoff(today: date, keep_days: int) -> date:
    """Dates strictly before this are archived."""
    return today - timedelta(days=keep_days)


def plan(dataset: str, today: date, keep_days: int) -> list[DatePlan]:
    """What gc would archive, per date older than keep_days (dates with nothing to archive left out)."""
    out = []
    for day in dates_on_disk(dataset):
        if day < cutoff(today, keep_days):
            p = plan_date(dataset, day)
            if p.folders:
                out.append(p)
    return out


# ----------------------------------------------------------------------------------------------- archive

def read_manifest(path: Path) -> dict:
    """The manifest inside an archive (its last member); ArchiveError naming the file when unreadable."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            manifest = None
            for member in tar:
                if member.name.endswith("/" + MANIFEST) and member.isfile():
                    manifest = json.loads(tar.extractfile(member).read())
    except (OSError, tarfile.TarError, EOFError, ValueError) as exc:
        raise ArchiveError(f"{path}: the archive cannot be read ({state.one_reason(exc)}); repair or restore it "
                           "from a copy") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("entries"), dict):
        raise ArchiveError(f"{path}: the archive has no manifest; repair or restore it from a copy")
    return manifest


def _member_name(day: date, arcdir: str, rel: str) -> str:
    return f"{day.isoformat()}/{arcdir}/{rel}"


def _write_archive(target: Path, day: date, dataset: str, plan: DatePlan,
                   progress: Callable[[str], None]) -> tuple[dict, dict[str, str]]:
    """Write old members + the plan's folders + the manifest to `target`; returns (manifest, expected hashes
    of the planned files by member name)."""
    final = archive_path(dataset, day)
    old_manifest = read_manifest(final) if final.exists() else None
    new_names: dict[str, tuple[Path, Folder]] = {}
    for folder in plan.folders:
        for f in folder.files:
            new_names[_member_name(day, folder.arcdir, f.relative_to(folder.path).as_posix())] = (f, folder)
    entries: dict[str, dict] = {}
    runs: dict[str, dict] = dict((old_manifest or {}).get("runs") or {})
    now = datetime.now(UTC).isoformat()
    expected: dict[str, str] = {}
    by_hash: dict[str, str] = {}  # sha256 -> the first regular member holding those bytes
    with open(target, "xb") as raw:
        with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as tar:

            def add(info: tarfile.TarInfo, digest: str, meta: dict, open_reader: Callable) -> None:
                """One member; bytes already in the archive (an extract refetched unchanged, a file no run
                changed) become a hard link to their first copy instead of a second copy."""
                if digest in by_hash:
                    link = tarfile.TarInfo(info.name)
                    link.type, link.linkname = tarfile.LNKTYPE, by_hash[digest]
                    link.mtime, link.mode = info.mtime, info.mode
                    tar.addfile(link)
                    entries[info.name] = {**meta, "link": by_hash[digest]}
                    return
                with open_reader() as reader:
                    h = _HashingReader(reader)
                    tar.addfile(info, h)
                if h.hexdigest() != digest:
                    raise ArchiveError(f"{info.name}: its bytes changed while they were archived (sha256 "
                                       f"{h.hexdigest()}, expected {digest}); nothing was deleted")
                by_hash[digest] = info.name
                entries[info.name] = {k: v for k, v in meta.items() if k != "link"}

            if old_manifest is not None:
                with tarfile.open(final, "r:gz") as old:
                    for member in old:
                        if member.name.endswith("/" + MANIFEST) or member.name in new_names or not (
                                member.isfile() or member.islnk()):
                            continue
                        meta = old_manifest["entries"].get(member.name)
                        if meta is None:
                            raise ArchiveError(f"{final}: member {member.name} is not in its manifest; repair it")
                        info = tarfile.TarInfo(member.name)
                        info.size, info.mtime, info.mode = meta["bytes"], member.mtime, member.mode
                        add(info, meta["sha256"], meta, lambda m=member: _closing(old.extractfile(m)))
            for name, (path, folder) in new_names.items():
                st = path.stat()
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.mode = st.st_size, st.st_mtime, st.st_mode & 0o777
                digest = sha256_file(path)
                expected[name] = digest
                add(info, digest, {"sha256": digest, "bytes": st.st_size, "kind": folder.kind, "run_id": folder.run_id,
                                   "mtime": st.st_mtime, "mode": st.st_mode & 0o777}, lambda p=path: open(p, "rb"))
            for folder in plan.folders:
                runs.setdefault(folder.run_id, {"kinds": [], "archived_at": now})
                if folder.kind not in runs[folder.run_id]["kinds"]:
                    runs[folder.run_id]["kinds"] = sorted({*runs[folder.run_id]["kinds"], folder.kind})
                runs[folder.run_id]["archived_at"] = now
            manifest = {"format": ARCHIVE_FORMAT, "dataset": dataset, "date": day.isoformat(), "written_at": now,
                        "entries": dict(sorted(entries.items())), "runs": dict(sorted(runs.items()))}
            payload = (atomic.dumps(manifest) + "\n").encode()
            info = tarfile.TarInfo(f"{day.isoformat()}/{MANIFEST}")
            info.size, info.mtime, info.mode = len(payload), int(datetime.now(UTC).timestamp()), 0o644
            tar.addfile(info, io.BytesIO(payload))
        raw.flush()
        os.fsync(raw.fileno())
    progress(f"wrote {len(new_names)} files to {target.name}")
    return manifest, expected


@contextmanager
def _closing(fh) -> Iterator:
    try:
        yield fh
    finally:
        fh.close()


class _HashingReader:
    """A file object that hashes what tarfile reads through it."""

    def __init__(self, fh) -> None:
        self.fh = fh
        self.h = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.h.update(data)
        return data

    def hexdigest(self) -> str:
        return self.h.hexdigest()


def verify_archive(path: Path, expected: dict[str, str] | None = None) -> dict:
    """Read every member back: each one's sha256 and size must match the manifest, and every `expected`
    member (name -> sha256: the files about to be deleted) must be in it with that hash. Returns the
    manifest; ArchiveError naming the file and the first mismatch otherwise."""
    manifest = read_manifest(path)
    seen: dict[str, str] = {}  # member -> sha256 of its bytes (a hard link: its target's)
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                if member.name.endswith("/" + MANIFEST) or not (member.isfile() or member.islnk()):
                    continue
                meta = manifest["entries"].get(member.name) or {}
                if member.islnk():  # targets come first: their bytes were checked already
                    digest, size = seen.get(member.linkname), meta.get("bytes")
                else:
                    data = tar.extractfile(member).read()
                    digest, size = hashlib.sha256(data).hexdigest(), len(data)
                if meta.get("sha256") != digest or meta.get("bytes") != size:
                    raise ArchiveError(f"{path}: member {member.name} does not match the manifest")
                seen[member.name] = digest
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise ArchiveError(f"{path}: the archive cannot be read ({state.one_reason(exc)})") from None
    missing = sorted(set(manifest["entries"]) - set(seen))
    if missing:
        raise ArchiveError(f"{path}: {len(missing)} manifest entries are not in the archive (first {missing[0]})")
    for name, digest in (expected or {}).items():
        if manifest["entries"].get(name, {}).get("sha256") != digest:
            raise ArchiveError(f"{path}: {name} is not in the archive with the sha256 it has on disk")
    return manifest


def archived_runs(dataset: str, day: date) -> dict[str, dict]:
    """run id -> {kinds, archived_at} of the date's archive (empty when it has none)."""
    path = archive_path(dataset, day)
    return dict(read_manifest(path).get("runs") or {}) if path.exists() else {}


# --------------------------------------------------------------------------------------------- recovery

def _alive(pid: int) -> bool:
    return registry.process_alive(pid)


def recover(dataset: str, day: date | None = None) -> list[str]:
    """Finish what a killed gc or restore left (module docstring, step 3); one line per action."""
    notes: list[str] = []
    adir = archive_dir(dataset)
    if adir.is_dir():
        for p in sorted(adir.iterdir()):
            m = _TMP_ARCHIVE_RE.match(p.name)
            if m and not _alive(int(m["pid"])):
                p.unlink(missing_ok=True)
                notes.append(f"removed {p} (a temp archive of process {m['pid']}, no longer running)")
    for d in ([day] if day else dates_on_disk(dataset)):
        manifest = None
        for kind, base in _kind_dirs(dataset, d, _roots(dataset)).items():
            if not base.is_dir():
                continue
            for p in sorted(base.iterdir()):
                gm, rm = _GC_RE.match(p.name), _RESTORE_TMP_RE.match(p.name)
                if rm and not _alive(int(rm["pid"])):
                    shutil.rmtree(p, ignore_errors=True)
                    notes.append(f"removed {p} (a restore of process {rm['pid']} that did not finish)")
                    continue
                if not gm or _alive(int(gm["pid"])):
                    continue
                if manifest is None:
                    path = archive_path(dataset, d)
                    manifest = read_manifest(path) if path.exists() else {"entries": {}}
                run_id = gm["run_id"]
                whole = all(
                    manifest["entries"].get(_member_name(d, f"{kind}/run={run_id}", f.relative_to(p).as_posix()),
                                            {}).get("sha256") == sha256_file(f)
                    for f in p.rglob("*") if f.is_file())
                final = base / f"run={run_id}"
                if whole:
                    shutil.rmtree(p)
                    atomic.fsync_dir(base)
                    notes.append(f"deleted {p} (archived in {archive_path(dataset, d).name}; its gc was killed)")
                elif not final.exists():
                    os.rename(p, final)
                    atomic.fsync_dir(base)
                    notes.append(f"put {final} back from {p.name} (not in the archive; its gc was killed)")
                else:
                    state.warn(p, f"a copy of run {run_id} set aside by a killed gc, not in the archive while "
                                  f"{final} exists: left in place (remove it once the run is checked)")
    return notes


# ------------------------------------------------------------------------------------------------- gc

@contextmanager
def _locked_date(pub: Publication) -> Iterator[Publication]:
    if pub.published():
        with pub.locked():
            yield pub
    else:
        yield pub


def archive_date(dataset: str, day: date, *, progress: Callable[[str], None] = log.info,
                 keep_days: int | None = None) -> DateResult | None:
    """Archive one date's unkept folders (call with the store lock held); None when nothing is to archive."""
    pub = _publication(dataset, day)
    if pub.published():
        pub.recover()  # a date touched by a dead publisher is repaired first (as any command touching it does)
    with _locked_date(pub):
        date_plan = plan_date(dataset, day, pub)
        if not date_plan.folders:
            return None
        adir = archive_dir(dataset)
        adir.mkdir(parents=True, exist_ok=True)
        final = archive_path(dataset, day)
        before = final.stat().st_size if final.exists() else 0
        tmp = adir / f".{day.isoformat()}.tar.gz.tmp-{os.getpid()}"
        tmp.unlink(missing_ok=True)
        try:
            manifest, expected = _write_archive(tmp, day, dataset, date_plan, progress)
            boundary("gc:archive-written")
            verify_archive(tmp, expected)
            os.replace(tmp, final)
            atomic.fsync_dir(adir)
        finally:
            tmp.unlink(missing_ok=True)
        atomic.write_json(adir / f"{day.isoformat()}.manifest.json",
                          {**manifest, "archive": final.name, "archive_sha256": sha256_file(final)})
        boundary("gc:archive-in-place")
        after = final.stat().st_size
        result = DateResult(day, date_plan.runs, date_plan.extract_runs, sum(len(f.files) for f in date_plan.folders),
                            date_plan.bytes, final, before, after)
        # recorded before the originals go: a gc killed while deleting has said what it archived (a kill before
        # this line leaves every original in place, and the next gc archives them again)
        registry.append_event(settings.registry_root(dataset), "archived", event="gc", date=day.isoformat(),
                              run_ids=result.runs, extract_runs=result.extract_runs, archive=str(final),
                              archive_sha256=sha256_file(final), files=result.files, bytes_freed=result.bytes_freed,
                              archive_bytes=after, keep_days=keep_days, dataset=dataset,
                              kept=dict(sorted(date_plan.kept.items())))
        # every file is in the verified archive: set the folders aside (one rename each), then delete them
        aside = []
        for folder in date_plan.folders:
            target = folder.path.with_name(f".gc-run={folder.run_id}-{os.getpid()}")
            os.rename(folder.path, target)
            atomic.fsync_dir(folder.path.parent)
            aside.append(target)
        boundary("gc:moved-aside")
        for i, target in enumerate(aside):
            shutil.rmtree(target)
            if i == len(aside) // 2:
                boundary("gc:deleting")
        for parent in {t.parent for t in aside}:
            atomic.fsync_dir(parent)
        progress(f"gc {day}: {len(result.runs)} runs and {len(result.extract_runs)} extract runs "
                 f"({result.files} files, {human(result.bytes_freed)}) -> {final} ({human(after)})")
        return result


def collect(dataset: str, today: date, keep_days: int, *, lock_timeout: float = 600.0,
            progress: Callable[[str], None] = log.info) -> tuple[list[DateResult], list[str]]:
    """`minutes-live gc`: every date older than keep_days, each under the data root's store lock (taken per
    date, so a job waits for one date's archive at most, never for the whole gc)."""
    what = f"minutes-live gc {dataset}"
    with store_lock(settings.data_root(), timeout=lock_timeout, what=what):
        notes = recover(dataset)
    for note in notes:
        progress(f"recovered: {note}")
    results = []
    days = [d for d in dates_on_disk(dataset) if d < cutoff(today, keep_days)]
    for i, day in enumerate(days, start=1):
        progress(f"gc {day} ({i}/{len(days)})")
        with store_lock(settings.data_root(), timeout=lock_timeout, what=f"{what} {day}"):
            result = archive_date(dataset, day, progress=progress, keep_days=keep_days)
        if result is not None:
            results.append(result)
    return results, notes


# --------------------------------------------------------------------------------------------- restore

@dataclass
class RestoreResult:
    day: date
    run_id: str
    kinds: list[str]
    files: int
    bytes: int
    served: dict[str, str | None]


def restore(dataset: str, day: date, run_id: str, *, lock_timeout: float = 600.0,
            progress: Callable[[str], None] = log.info) -> RestoreResult:
    """Put an archived run (its features, scores, reports and raw extracts) back, every file checked against
    the manifest's sha256; `latest` is then recomputed by the rule (the restored run may be the newest)."""
    path = archive_path(dataset, day)
    with store_lock(settings.data_root(), timeout=lock_timeout, what=f"minutes-live runs restore {run_id}"):
        recover(dataset, day)
        if not path.exists():
            raise NotArchivedError(f"run {run_id} of {day}: dataset {dataset} has no archive for that date "
                                   f"({path} does not exist)")
        manifest = read_manifest(path)
        runs = manifest.get("runs") or {}
        if run_id not in runs:
            raise NotArchivedError(f"run {run_id} is not in the archive of {day} ({path}; archived runs: "
                                   f"{', '.join(sorted(runs)) or 'none'})")
        pub = _publication(dataset, day)
        with _locked_date(pub):
            dirs = _kind_dirs(dataset, day, pub.roots)
            prefix = f"{day.isoformat()}/"
            wanted: dict[str, list[tuple[str, dict]]] = {}
            for name, meta in manifest["entries"].items():
                if meta.get("run_id") == run_id:
                    wanted.setdefault(meta["kind"], []).append((name, meta))
            for kind in wanted:
                if kind not in dirs:
                    kind_base = (settings.snapshots_root(dataset) / kind.removeprefix("snapshots/") / day.isoformat()
                                 if kind.startswith("snapshots/") else None)
                    if kind_base is None:
                        raise ArchiveError(f"{path}: kind {kind} has no root for dataset {dataset}")
                    dirs[kind] = kind_base
            clash = [str(dirs[k] / f"run={run_id}") for k in wanted if (dirs[k] / f"run={run_id}").exists()]
            if clash:
                raise RunExistsError(f"run {run_id} of {day} is on disk already ({', '.join(clash)}); nothing "
                                     "was restored")
            staged: dict[str, Path] = {}
            files = size = 0
            # a hard-linked member's bytes are its target's, an earlier member (kept in memory when needed)
            targets = {m["link"] for _, m in (e for ks in wanted.values() for e in ks) if m.get("link")}
            held: dict[str, bytes] = {}
            try:
                with tarfile.open(path, "r:gz") as tar:
                    for member in tar:
                        if member.name in targets and member.isfile():
                            held[member.name] = tar.extractfile(member).read()
                        meta = manifest["entries"].get(member.name)
                        if meta is None or meta.get("run_id") != run_id or not (member.isfile() or member.islnk()):
                            continue
                        kind = meta["kind"]
                        head = f"{prefix}{kind}/run={run_id}/"
                        rel = member.name.removeprefix(head)
                        if not member.name.startswith(head) or not rel or rel.startswith("/") or ".." in Path(rel).parts:
                            raise ArchiveError(f"{path}: member {member.name} is not inside its run folder")
                        if kind not in staged:
                            dirs[kind].mkdir(parents=True, exist_ok=True)
                            staged[kind] = dirs[kind] / f".restore-run={run_id}-{os.getpid()}"
                            shutil.rmtree(staged[kind], ignore_errors=True)
                            staged[kind].mkdir()
                        out = staged[kind] / rel
                        out.parent.mkdir(parents=True, exist_ok=True)
                        if member.islnk():
                            if member.linkname not in held:
                                raise ArchiveError(f"{path}: member {member.name} links to {member.linkname}, "
                                                   "which is not before it in the archive")
                            data = held[member.linkname]
                        else:
                            data = held.get(member.name) or tar.extractfile(member).read()
                        if hashlib.sha256(data).hexdigest() != meta["sha256"]:
                            raise ArchiveError(f"{path}: member {member.name} does not match its manifest sha256; "
                                               "nothing was restored")
                        with open(out, "xb") as fh:
                            fh.write(data)
                            fh.flush()
                            os.fsync(fh.fileno())
                        os.chmod(out, int(meta.get("mode", 0o644)))
                        os.utime(out, (meta.get("mtime", member.mtime), meta.get("mtime", member.mtime)))
                        files += 1
                        size += len(data)
                missing = sorted(set(wanted) - set(staged))
                if missing:
                    raise ArchiveError(f"{path}: run {run_id}'s {', '.join(missing)} files are missing from it")
                order = {k: i for i, k in enumerate(KINDS)}
                for kind in sorted(staged, key=lambda k: (order.get(k, len(order)), k)):
                    for d in sorted(p for p in staged[kind].rglob("*") if p.is_dir()):
                        atomic.fsync_dir(d)
                    os.rename(staged[kind], dirs[kind] / f"run={run_id}")
                    atomic.fsync_dir(dirs[kind])
                    progress(f"restored {dirs[kind] / f'run={run_id}'}")
            except BaseException:
                for tmp in staged.values():
                    shutil.rmtree(tmp, ignore_errors=True)
                raise
            served = pub.refresh() if pub.published() else {}
        registry.append_event(settings.registry_root(dataset), "restored", event="restore", date=day.isoformat(),
                              run_id=run_id, archive=str(path), files=files, bytes=size, dataset=dataset,
                              kinds=sorted(staged), latest=served)
        return RestoreResult(day, run_id, sorted(staged), files, size, served)


# ----------------------------------------------------------------------------------------------- helpers

def du(path: Path) -> int:
    """Bytes of the regular files under `path` (0 when missing)."""
    if not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
