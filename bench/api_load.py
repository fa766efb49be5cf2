"""Load on the read API: 200 concurrent clients on loopback against `minutes-live serve` in its own process.

    .venv/bin/python bench/api_load.py [--clients 200] [--requests 25] [--players 360] [--out reports/bench]

Builds a throw-away data root with two published runs of one date (a slate of --players players over 12
games, each row with its provenance, the game-time-decision worlds; files only, through the real
publication lifecycle), starts `minutes-live serve` on a free loopback port in a subprocess, then starts
--clients client threads together (a barrier), each with its own keep-alive session, each making --requests
requests (bounded: clients x requests in all, a 30 s timeout per request), in this mix:

    60 %  GET /v1/slates/{date}/projections                   the whole slate (latest)
    15 %  GET /v1/slates/{date}/projections?team=T            one team
    10 %  GET /v1/slates/{date}/projections?as_of=T           the older run
    10 %  GET /v1/slates/{date}/runs
     5 %  GET /v1/slates/{date}/scenarios

Reports p50 / p90 / p99 / max latency (ms), requests per second, errors (anything but a 200 with the
expected run: 0 expected), the server's CPU per request and the machine's load average (the clients run on
the same cores: on a shared 2-core machine the latencies are mostly queueing), prints one JSON line and
writes <out>/api_load.json (reports/ is git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DAY = date(2022, 1, 15)
RUNS = ("20220115T220000Z", "20220115T230000Z")
TEAMS = ["ATL", "BOS", "BKN", "CHA", "CHI", "CLE", "DAL", "DEN", "DET", "GSW", "HOU", "IND", "LAC", "LAL", "MEM",
         "MIA", "MIL", "MIN", "NOP", "NYK", "OKC", "ORL", "PHI", "PHX"]


def publish_slate(run_id: str, players: int, seed: int) -> None:
    """One complete run of DAY (features, coverage, summary with inputs; scores, worlds; reports)."""
    import numpy as np
    import pandas as pd

    from foundation.lifecycle import run_attempt
    from foundation.publication import KINDS, Publication, Roots, sha256_file

    rng = np.random.default_rng(seed)
    as_of = datetime.strptime(run_id, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    n_teams = len(TEAMS)
    team_idx = np.arange(players) % n_teams
    game_ids = 2022011500 + team_idx // 2
    snap = {k: pd.Timestamp(as_of - timedelta(minutes=m)) for k, m in (("injuries", 20), ("odds", 45), ("roster", 400))}
    with run_attempt(Publication(Roots.default(), DAY), job="bench", run_as_of_ts=as_of, kinds=KINDS) as run:
        d = run.stage("features")
        feats = pd.DataFrame({"game_id": game_ids, "player_id": np.arange(players) + 1000, "team_id": team_idx + 1,
                              "injury_as_of_ts": snap["injuries"], "odds_as_of_ts": snap["odds"],
                              "roster_as_of_ts": snap["roster"]})
        feats.to_parquet(d / "features.parquet", index=False)
        pd.DataFrame({"game_id": sorted(set(game_ids)), **{f"{k}_snapshot_ts": v for k, v in snap.items()}}
                     ).to_csv(d / "coverage.csv", index=False)
        sha = sha256_file(d / "features.parquet")
        inputs = {k: [{"snapshot_ts": v.isoformat(), "extract": f"live/snapshots/{k}/2022-01-15/run={run_id}/{k}.json",
                       "sha256": "0" * 64, "ingest_run_id": run_id}] for k, v in snap.items()}
        (d / "summary.json").write_text(json.dumps({"run_id": run_id, "features_sha256": sha, "inputs": inputs,
                                                    "run_as_of_ts": as_of.isoformat(), "code_version": "bench"}))
        s = run.stage("scores")
        p50 = rng.uniform(0, 38, players).round(2)
        pd.DataFrame({"game_id": game_ids, "player_id": feats["player_id"], "team_id": feats["team_id"],
                      "team_tricode": [TEAMS[i] for i in team_idx], "opponent_team_tricode": [TEAMS[i ^ 1] for i in team_idx],
                      "player_name": [f"Player {i}" for i in range(players)], "status": "AVAILABLE",
                      "is_starter": rng.random(players) < 0.35, "play_prob": rng.uniform(0.5, 1, players).round(3),
                      "minutes_mean": p50, "minutes_p10": (p50 * 0.7).round(2), "minutes_p50": p50,
                      "minutes_p90": (p50 * 1.2).round(2), "run_id": run_id}).to_parquet(s / "minutes.parquet", index=False)
        worlds = []
        for team in range(0, n_teams, 3):
            mates = feats[feats.team_id == team + 1]["player_id"].tolist()[:10]
            for world, prob in (("sits", 0.4), ("plays", 0.6)):
                worlds += [{"game_id": 2022011500 + team // 2, "team_id": team + 1, "team_tricode": TEAMS[team],
                            "gtd_player_id": mates[0], "gtd_player_name": "Player GTD", "gtd_status": "QUESTIONABLE",
                            "world": world, "world_prob": prob, "player_id": m, "player_name": f"Player {m}",
                            "minutes_mean": 20.0, "minutes_p50": 20.0} for m in mates]
        pd.DataFrame(worlds).to_parquet(s / "scenarios.parquet", index=False)
        (s / "summary.json").write_text(json.dumps({"run_id": run_id, "features_sha256": sha,
                                                    "bundle": {"bundle_id": "bench_bundle"}}))
        (run.stage("reports") / "team_minutes.csv").write_text("x\n")
        run.publish()


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process so far (Linux /proc), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def main() -> int:
    import requests

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--requests", type=int, default=25)
    ap.add_argument("--players", type=int, default=360)
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "bench")
    args = ap.parse_args()

    base = Path(tempfile.mkdtemp(prefix="ml-api-load-"))
    env = {**os.environ, "MINUTES_LIVE_DATA_ROOT": str(base / "data"), "MINUTES_LIVE_ARTIFACTS": str(base / "artifacts"),
           "MINUTES_LIVE_REPORTS": str(base / "reports"), "MINUTES_LIVE_LOG_LEVEL": "WARNING"}
    os.environ.update({k: env[k] for k in ("MINUTES_LIVE_DATA_ROOT", "MINUTES_LIVE_ARTIFACTS", "MINUTES_LIVE_REPORTS")})
    for i, run_id in enumerate(RUNS):
        publish_slate(run_id, args.players, seed=i)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", "from minutes_live.cli.app import app; app()", "--quiet", "serve",
                               "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        if "serving" not in line:
            print(f"the server did not start: {line!r}", file=sys.stderr)
            return 1
        url = f"http://127.0.0.1:{port}/v1/slates/{DAY}"
        as_of = "2022-01-15T22:30:00Z"
        mix = ([("projections", "/projections", RUNS[1])] * 12 + [("team", "/projections?team=BOS", RUNS[1])] * 3
               + [("as_of", f"/projections?as_of={as_of}", RUNS[0])] * 2 + [("runs", "/runs", None)] * 2
               + [("scenarios", "/scenarios", RUNS[1])])
        for _, path, _ in mix:  # warm: each answer encoded once before the clock starts
            requests.get(url + path, timeout=60).raise_for_status()
        cpu_before = _cpu_seconds(server.pid)
        latencies: dict[str, list[float]] = {name: [] for name, _, _ in mix}
        errors: list[str] = []
        lock = threading.Lock()
        barrier = threading.Barrier(args.clients)

        def client(i: int) -> None:
            rnd = random.Random(i)
            session = requests.Session()
            barrier.wait()
            for _ in range(args.requests):
                name, path, want = rnd.choice(mix)
                t0 = time.perf_counter()
                try:
                    r = session.get(url + path, timeout=30)
                    body = r.content
                    ok = r.status_code == 200 and (want is None or want.encode() in body[:400])
                    problem = None if ok else f"{name}: HTTP {r.status_code} {body[:120]!r}"
                except requests.RequestException as exc:
                    problem = f"{name}: {type(exc).__name__}: {exc}"
                elapsed = (time.perf_counter() - t0) * 1000
                with lock:
                    latencies[name].append(elapsed)
                    if problem:
                        errors.append(problem)
            session.close()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        server_cpu_s = _cpu_seconds(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(base, ignore_errors=True)
    every = [v for vs in latencies.values() for v in vs]
    result = {
        "api_load_clients": args.clients, "api_load_requests": len(every), "api_load_errors": len(errors),
        "api_load_p50_ms": round(statistics.median(every), 1), "api_load_p90_ms": round(percentile(every, 90), 1),
        "api_load_p99_ms": round(percentile(every, 99), 1), "api_load_max_ms": round(max(every), 1),
        "api_load_rps": round(len(every) / wall, 1), "api_load_wall_s": round(wall, 2), "players": args.players,
        "cpus": os.cpu_count(), "load_average_1m": round(os.getloadavg()[0], 2),
        "server_cpu_ms_per_request": None if server_cpu_s is None or cpu_before is None else
        round((server_cpu_s - cpu_before) * 1000 / max(1, len(every)), 2),
        "per_route_p50_p99_ms": {k: [round(statistics.median(v), 1), round(percentile(v, 99), 1)]
                                 for k, v in latencies.items() if v},
        "first_errors": errors[:5],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "api_load.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0 if not errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
