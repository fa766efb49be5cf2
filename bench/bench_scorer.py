"""Benchmark: the `score_minutes_v1` console script as a cold process, scoring one slate.

    python bench/bench_scorer.py                                   # builds a slate on the synthetic league first
    python bench/bench_scorer.py --features-path F --date D --bundle-config C [--runs 5] [--importtime]

Each run is a new process of the real console script (`score_minutes_v1 --mode live --replace`), so imports,
model loading, scoring, writing and publishing are all timed, as an operator's cron line would pay them.
Prints min / median wall seconds, median CPU seconds and the peak RSS over the runs (`--importtime`: also the import seconds of
one extra run by package, from `python -X importtime`).

The runs write nothing where the inputs are: the features run (its directory, so that the score run takes
its id) is copied into a scratch directory, and the data, artifacts and reports roots point there too.
Without inputs, `minutes-live demo` builds the synthetic league, a bundle and a features run in a scratch
directory first (about 1-2 minutes).

`measure_scorer()` is the function bench/run_benchmarks.py can call.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def scorer_command() -> list[str]:
    """The installed console script, next to this interpreter (the project's virtualenv)."""
    script = Path(sys.executable).parent / "score_minutes_v1"
    if not script.exists():
        raise SystemExit(f"{script} not found: install the project first (./dev lint creates .venv)")
    return [str(script)]


def _scratch_copy(features_path: Path, day: str, scratch: Path) -> Path:
    """Copy the features run of `features_path` (or the file alone) under `scratch`; return the copy's path."""
    features_path = Path(features_path).resolve()
    run_dir = features_path.parent
    if run_dir.name.startswith("run=") and (run_dir / "summary.json").exists():
        target = scratch / "features" / day / run_dir.name
        shutil.copytree(run_dir, target)
        return target / features_path.name
    target = scratch / "input" / features_path.name
    target.parent.mkdir(parents=True)
    shutil.copy2(features_path, target)
    return target


def _scratch_env(scratch: Path) -> dict[str, str]:
    """Every root a score run writes (registry, scores, reports) under `scratch`."""
    return {**os.environ, "MINUTES_LIVE_DATA_ROOT": str(scratch / "data"),
            "MINUTES_LIVE_ARTIFACTS": str(scratch / "artifacts"), "MINUTES_LIVE_REPORTS": str(scratch / "reports")}


def _scorer_args(features: Path, date: str, bundle_config: Path, scratch: Path) -> list[str]:
    return ["--date", date, "--mode", "live", "--features-path", str(features), "--bundle-config",
            str(Path(bundle_config).resolve()), "--artifact-root", str(scratch / "scores"), "--replace"]


def _run_once(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float, subprocess.CompletedProcess]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one process. The child is reaped with
    os.wait4, whose rusage is that child's alone (RUSAGE_CHILDREN would add up every child so far)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=tempfile.gettempdir(), stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(cmd, proc.returncode, out.read().decode(), err.read().decode())
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, done


def measure_scorer(features_path: Path, date: str, bundle_config: Path, runs: int = 5,
                   command: list[str] | None = None) -> dict:
    """Run `score_minutes_v1` `runs` times as a cold process on one slate: wall seconds of each run
    (`wall_s`, `wall_min_s`, `wall_median_s`), their median CPU seconds (`cpu_median_s`: on a shared machine
    wall time also counts waiting for a core; `load_average_1m` says how busy it was), the peak RSS over the
    runs (`peak_rss_mb`) and the rows scored.

    `command` replaces the console script (e.g. another checkout's entry point, to compare before/after)."""
    cmd = command or scorer_command()
    with tempfile.TemporaryDirectory(prefix="bench-scorer-") as tmp:
        scratch = Path(tmp)
        features = _scratch_copy(Path(features_path), date, scratch)
        args = _scorer_args(features, date, bundle_config, scratch)
        walls, cpus, rss, first = [], [], [], None
        for _ in range(runs):
            wall, cpu, peak, done = _run_once(cmd + args, _scratch_env(scratch))
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()}")
            walls.append(wall)
            cpus.append(cpu)
            rss.append(peak)
            first = first or done.stdout
    rows = re.search(r"scored (\d+) rows", first or "")
    return {
        "command": cmd[-1], "date": date, "features_path": str(features_path), "runs": runs,
        "rows": int(rows.group(1)) if rows else None,
        "wall_s": [round(w, 3) for w in walls], "wall_min_s": round(min(walls), 3),
        "wall_median_s": round(statistics.median(walls), 3), "cpu_median_s": round(statistics.median(cpus), 3),
        "peak_rss_mb": round(max(rss), 1), "load_average_1m": round(os.getloadavg()[0], 2),
    }


def import_breakdown(features_path: Path, date: str, bundle_config: Path, top: int = 15) -> list[tuple[str, float]]:
    """Import seconds of one cold run per package (see `_attribute`), slowest first, from `python -X importtime`."""
    with tempfile.TemporaryDirectory(prefix="bench-scorer-") as tmp:
        scratch = Path(tmp)
        features = _scratch_copy(Path(features_path), date, scratch)
        cmd = [sys.executable, "-X", "importtime", *scorer_command(), *_scorer_args(features, date, bundle_config, scratch)]
        done = subprocess.run(cmd, env=_scratch_env(scratch), capture_output=True, text=True, cwd=tmp)
    if done.returncode != 0:
        raise RuntimeError(f"score_minutes_v1 exited {done.returncode}: {done.stderr.strip().splitlines()[-1:]}")
    rows = [(int(m.group(1)), len(m.group(2)) // 2, m.group(3))  # (self us, depth, module)
            for m in re.finditer(r"^import time:\s+(\d+) \|\s+\d+ \| ( *)(\S+)$", done.stderr, re.M)]
    return sorted(_attribute(rows).items(), key=lambda kv: -kv[1])[:top]


def _attribute(rows: list[tuple[int, int, str]]) -> dict[str, float]:
    """Seconds per package: each module's self time goes to its top-level package; a standard-library module
    goes to the package that imported it (so `pandas` includes the stdlib modules pandas pulls in). The
    project's own packages are one row. `-X importtime` prints a module after the modules it imports."""
    own = ("foundation", "scoring", "minutes_live", "snapshots_ingest")
    owner: list[str] = [""] * len(rows)
    parents: list[int] = []  # indices of rows not yet given a parent, deepest last
    parent_of: dict[int, int] = {}
    for i, (_, depth, _) in enumerate(rows):
        while parents and rows[parents[-1]][1] > depth:
            parent_of[parents.pop()] = i
        parents.append(i)
    totals: dict[str, float] = {}
    for i in reversed(range(len(rows))):  # parents come after their children: resolve owners top-down
        top = rows[i][2].split(".")[0]
        if top in own:
            owner[i] = "(project: " + ", ".join(own) + ")"
        elif top.lstrip("_") in sys.stdlib_module_names or top in sys.builtin_module_names:
            owner[i] = owner[parent_of[i]] if i in parent_of else "(standard library, at start-up)"
        else:
            owner[i] = top
        totals[owner[i]] = totals.get(owner[i], 0.0) + rows[i][0] / 1e6
    return totals


def demo_inputs(work: Path) -> tuple[Path, str, Path]:
    """A features run and a bundle on the synthetic league, made by `minutes-live demo` under `work`."""
    env = _scratch_env(work)
    env.pop("MINUTES_LIVE_DUCKDB", None)  # the demo's store goes under `work` too
    cli = Path(sys.executable).parent / "minutes-live"
    print(f"building a slate on the synthetic league in {work} (minutes-live demo, 1-2 min) ...", file=sys.stderr)
    subprocess.run([str(cli), "demo", "--show", "0"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    runs = sorted((work / "data" / "synthetic_league" / "features_minutes_v1").glob("*/run=*/features.parquet"))
    if not runs:
        raise SystemExit(f"minutes-live demo wrote no features run under {work}")
    features = runs[-1]
    return features, features.parent.parent.name, work / "data" / "synthetic_league" / "minutes_current_run.json"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--features-path", type=Path, help="a features.parquet (of a features run, ideally)")
    ap.add_argument("--date", help="the slate date YYYY-MM-DD (default: the features run's date folder)")
    ap.add_argument("--bundle-config", type=Path, help="the active-bundle pointer JSON")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--importtime", action="store_true", help="also list the import seconds of one run by package")
    ap.add_argument("--json", type=Path, help="also write the result here")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-scorer-demo-") as work:
        if args.features_path is None:
            features, day, config = demo_inputs(Path(work))
        else:
            if args.bundle_config is None:
                ap.error("--features-path needs --bundle-config")
            features, config = args.features_path, args.bundle_config
            in_run = features.resolve().parent.name.startswith("run=")
            if args.date is None and not in_run:
                ap.error("--date is required for a features file outside a features run (<date>/run=<id>/)")
            day = args.date or features.resolve().parent.parent.name
        result = measure_scorer(features, args.date or day, config, runs=args.runs)
        if args.importtime:
            result["imports"] = import_breakdown(features, args.date or day, config)
    print(f"score_minutes_v1, {result['rows']} rows ({result['date']}), {result['runs']} cold runs: "
          f"min {result['wall_min_s']:.2f} s, median {result['wall_median_s']:.2f} s wall "
          f"(median CPU {result['cpu_median_s']:.2f} s; load average {result['load_average_1m']:.1f}), "
          f"peak RSS {result['peak_rss_mb']:.0f} MiB")
    if "imports" in result:
        print(f"imports of one more run, by package ({sum(s for _, s in result['imports']):.2f} s in these):")
    for name, seconds in result.get("imports", []):
        print(f"  {name:50s} {seconds:6.3f} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
