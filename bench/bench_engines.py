"""DuckDB vs Spark (local session) vs Spark on a local cluster: the same builds on the same store, one process
per stage, in one run.

    ./dev bench-engines                   # real data: a store holding the 2021-22 season (../shared/data/nba)
    ./dev bench-engines --seasons 5       # a store holding 2017-18 .. 2021-22
    ./dev bench-engines --dataset synthetic
    ./dev bench-engines --targets embedded,spark_cluster

Stages: backfill the store; then per engine (embedded DuckDB, spark = dbt-spark session, spark_cluster = the
Thrift server of a standalone master and two workers that deploy/spark/start-cluster.sh starts here and
stop-cluster.sh stops at the end) the live slate of --date as of 17:00 ET (minutes_live.pipeline.history.build
"live", what the job runs) twice, and the whole gold season (build "gold", lead 60) once (with --seasons N:
every stored season). Each engine's first live build computes history and its second reuses the history that
engine holds (docs/scale_out.md). Each row: wall seconds and peak RSS of the stage process and its
descendants (dbt, and the JVM dbt-spark starts; the cluster's JVMs are separate processes, reported on the
cluster's start row), sampled every 0.2 s, and the dbt nodes that took longest (their execution time, as in
run_results.json). Needs the Spark extra (MINUTES_LIVE_WITH_SPARK=1 ./dev ...).
Writes bench/results/<timestamp>_engines_<dataset>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGETS = ("embedded", "spark", "spark_cluster")
ENGINE_LABELS = {"embedded": "DuckDB", "spark": "Spark session", "spark_cluster": "Spark cluster"}


def _stage_body(stage: str, args: dict) -> dict:
    from minutes_live.pipeline import engine_parity

    db = Path(args["db"])
    if stage == "backfill":
        from minutes_live.pipeline.gold import dataset_end
        from snapshots_ingest.ingest import ingest_replay

        end = dataset_end(Path(args["dataset_dir"]))
        ingest_replay(Path(args["dataset_dir"]), end.date(), end, backfill=True, db_path=db,
                      data_root=Path(args["data_root"]))
        return {}
    if stage == "live":
        params = {"target_date": args["date"], "run_as_of_ts": args["run_as_of_ts"], "build_gold": False,
                  "allow_missing_injuries": True, "allow_missing_odds": True}
        build = engine_parity.build_on(args["target"], "live", params, db_path=db)
        return {"rows": len(build.marts["features_minutes_v1_live"]), "history": build.history, **_timings()}
    if stage == "gold":
        build = engine_parity.build_on(args["target"], "gold", {"gold_lead_minutes": 60}, db_path=db)
        return {"rows": len(build.marts["features_minutes_v1"]), "history": build.history, **_timings()}
    raise SystemExit(f"unknown stage {stage}")


def _timings() -> dict:
    """Where the stage's dbt call spent its time: per node kind the summed execution seconds and count, and
    the five slowest nodes (minutes_live.pipeline.dbt_runner.TIMINGS_ENV)."""
    from minutes_live.pipeline.dbt_runner import TIMINGS_ENV

    path = Path(os.environ[TIMINGS_ENV])
    if not path.is_file():
        return {}
    calls = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    nodes = {uid: t for call in calls for uid, t in call["nodes"].items()}
    kinds: dict[str, list] = {}
    for uid, t in nodes.items():
        kind = kinds.setdefault(uid.split(".", 1)[0], [0.0, 0])
        kind[0] += t
        kind[1] += 1
    slowest = sorted(nodes.items(), key=lambda kv: -kv[1])[:5]
    return {"dbt_seconds": round(sum(c["wall_seconds"] for c in calls), 1),
            "node_seconds": {k: [round(v[0], 1), v[1]] for k, v in sorted(kinds.items())},
            "slowest": [[uid.rsplit(".", 1)[-1] if uid.count(".") < 3 else uid.split(".")[2], t] for uid, t in slowest]}


def _tree_rss_mb(root_pid: int) -> float:
    """Summed RSS of a process and all its descendants now (from /proc; 0 when it is gone)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total / 2**20


def run_stage(stage: str, args: dict, env: dict) -> dict:
    """One stage in its own process; peak RSS of its whole process tree sampled every 0.2 s (the JVM that
    dbt-spark starts is not a waited-for child, so getrusage would not see it)."""
    from minutes_live.pipeline.dbt_runner import TIMINGS_ENV

    timings = Path(tempfile.mkdtemp(prefix="bench-timings-")) / "dbt.jsonl"
    env = {**env, TIMINGS_ENV: str(timings)}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--_stage", stage, "--_args", json.dumps(args)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    peak = 0.0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.wait(0.2):
            peak = max(peak, _tree_rss_mb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    stop.set()
    sampler.join()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"stage {stage} failed:\n{stdout[-2000:]}\n{stderr[-3000:]}")
    out = json.loads(stdout.strip().splitlines()[-1])
    out["wall_seconds"] = round(wall, 2)
    out["peak_rss_mb"] = round(max(peak, out["peak_rss_mb"]), 1)
    return out


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_cluster(work: Path, env: dict, rows: list) -> dict:
    """deploy/spark/start-cluster.sh in <work>/cluster on free ports (timed: JVM start-up until the Thrift port
    answers); returns the environment of the spark_cluster target. The caller stops it."""
    cluster = {"MINUTES_LIVE_CLUSTER_DIR": str(work / "cluster"), "MINUTES_LIVE_SPARK_HOST": "127.0.0.1",
               "MINUTES_LIVE_SPARK_PORT": str(_free_port()), "MINUTES_LIVE_SPARK_MASTER_PORT": str(_free_port()),
               "PYTHON": sys.executable}
    print("[bench-engines] Spark cluster: start (master, 2 workers, Thrift server) ...", flush=True)
    t0 = time.perf_counter()
    subprocess.run([str(ROOT / "deploy" / "spark" / "start-cluster.sh")], env={**env, **cluster}, check=True)
    wall = round(time.perf_counter() - t0, 2)
    pids = [int(p.read_text()) for p in (work / "cluster" / "pids").glob("*.pid")]
    rss = round(sum(_tree_rss_mb(pid) for pid in pids), 1)
    print(f"[bench-engines] Spark cluster: started in {wall} s, {rss} MB (its JVMs, idle)", flush=True)
    rows.append(("Spark cluster: start (not per build)", {"wall_seconds": wall, "peak_rss_mb": rss}))
    return cluster


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", choices=["real", "synthetic"], default="real")
    ap.add_argument("--work", default=None, help="Scratch dir (default a temp dir)")
    ap.add_argument("--seasons", type=int, default=1, choices=range(1, 6), metavar="1..5",
                    help="Real data: the store holds the last N seasons up to 2021-22 (default 1)")
    ap.add_argument("--targets", default=",".join(TARGETS),
                    help=f"Comma-separated dbt targets to measure (default {','.join(TARGETS)})")
    ap.add_argument("--_stage")
    ap.add_argument("--_args")
    ns = ap.parse_args()
    if ns._stage:
        out = _stage_body(ns._stage, json.loads(ns._args))
        peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        out["peak_rss_mb"] = round(peak / 1024, 1)
        print(json.dumps(out, default=str))
        return

    from foundation import settings
    from minutes_live.pipeline import spark_engine
    from snapshots_ingest.dataset import subset_dataset

    spark_engine.check_installed("spark_cluster" if "spark_cluster" in ns.targets else "spark")
    work = Path(ns.work or tempfile.mkdtemp(prefix="minutes-live-bench-engines-"))
    work.mkdir(parents=True, exist_ok=True)
    if ns.dataset == "real":
        seasons = ("2017_18", "2018_19", "2019_20", "2020_21", "2021_22")[-ns.seasons:]
        dataset_dir = subset_dataset(settings.real_dataset_dir(), work / f"nba_{ns.seasons}", seasons)
        date, as_of = "2022-01-15", "2022-01-15T22:00:00+00:00"
    else:
        from snapshots_ingest.synthetic_league import generate_league

        dataset_dir = work / "synthetic_league"
        generate_league(dataset_dir, seed=7)
        date, as_of = "2025-01-15", "2025-01-15T22:00:00+00:00"
    db = work / "data" / "bench.duckdb"
    env = {**os.environ, "MINUTES_LIVE_DATA_ROOT": str(work / "data"), "MINUTES_LIVE_DUCKDB": str(db),
           "MINUTES_LIVE_ARTIFACTS": str(work / "artifacts"), "MINUTES_LIVE_REPORTS": str(work / "reports")}
    env.pop(spark_engine.TARGET_ENV, None)
    args = {"db": str(db), "dataset_dir": str(dataset_dir), "data_root": str(work / "data"), "date": date,
            "run_as_of_ts": as_of}
    rows: list[tuple[str, dict]] = []

    def stage(label: str, name: str, **extra) -> None:
        print(f"[bench-engines] {label} ...", flush=True)
        result = run_stage(name, {**args, **extra}, env)
        print(f"[bench-engines] {label}: {result['wall_seconds']} s, peak {result['peak_rss_mb']} MB", flush=True)
        rows.append((label, result))

    stage("backfill (DuckDB raw store)", "backfill")
    gold = "gold season (lead 60)" if ns.dataset == "synthetic" or ns.seasons == 1 else f"gold, {ns.seasons} seasons (lead 60)"
    targets = [t.strip() for t in ns.targets.split(",") if t.strip()]
    for target in targets:
        if target not in TARGETS:
            raise SystemExit(f"--targets: {target!r} is not one of {', '.join(TARGETS)}")
        engine = ENGINE_LABELS[target]
        cluster = _start_cluster(work, env, rows) if target == "spark_cluster" else None
        try:
            stage_env = {**env, **(cluster or {})}
            for label, name in ((f"{engine}: live slate, 1st build", "live"),
                                (f"{engine}: live slate, 2nd build", "live"), (f"{engine}: {gold}", "gold")):
                print(f"[bench-engines] {label} ...", flush=True)
                result = run_stage(name, {**args, "target": target}, stage_env)
                print(f"[bench-engines] {label}: {result['wall_seconds']} s, peak {result['peak_rss_mb']} MB; "
                      f"{result.get('history', '')}; slowest nodes {result.get('slowest')}", flush=True)
                rows.append((label, result))
        finally:
            if cluster is not None:
                subprocess.run([str(ROOT / "deploy" / "spark" / "stop-cluster.sh")], env={**env, **cluster},
                               check=False)

    held = f"{ns.seasons} season(s) stored" if ns.dataset == "real" else "two synthetic seasons"
    print(f"\nDuckDB vs Spark session vs Spark cluster, {ns.dataset} data ({held}), slate {date} as of {as_of} ({platform.machine()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")
    print(f"| {'stage':<40} | {'wall s':>7} | {'dbt s':>6} | {'peak RSS MB':>11} | {'rows':>7} | history |")
    print(f"| {'-' * 40} | {'-' * 7}:| {'-' * 6}:| {'-' * 11}:| {'-' * 7}:| --- |")
    for label, r in rows:
        reuse = "reused" if "fresh" in str(r.get("history", "")) else ("computed" if r.get("history") else "")
        print(f"| {label:<40} | {r['wall_seconds']:>7} | {r.get('dbt_seconds', ''):>6} | {r['peak_rss_mb']:>11} "
              f"| {r.get('rows', ''):>7} | {reuse} |")
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out_dir / f"{stamp}_engines_{ns.dataset}.json"
    path.write_text(json.dumps({"dataset": ns.dataset, "seasons": ns.seasons, "date": date, "run_as_of_ts": as_of,
                                "stages": dict(rows)}, indent=2, default=str) + "\n")
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
