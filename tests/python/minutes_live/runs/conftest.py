"""`publish_run`: a small but complete run published through the real publication and registry (no dbt), for
the slate and retention tests: features (features.parquet, coverage.csv, ids.csv, summary.json with the
parquet's sha256), scores (minutes.parquet, scenarios.parquet, summary.json naming that sha256), reports
(team_minutes.csv), a `succeeded` registry attempt, and raw extracts under snapshots/<kind>/<date>/run=<id>/."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from foundation import atomic, registry, settings
from foundation.clock import LEAGUE_TZ
from foundation.publication import KINDS, Publication, Roots

RAW_KINDS = ("schedule", "roster", "injuries", "odds")


def tip(day: date, hhmm: str) -> pd.Timestamp:
    """A tip at HH:MM US/Eastern on `day`, as UTC."""
    h, m = (int(x) for x in hhmm.split(":"))
    return pd.Timestamp(datetime(day.year, day.month, day.day, h, m), tz=LEAGUE_TZ).tz_convert("UTC")


def _publish(day: date, run_id: str, tips: dict[str, str], *, dataset: str = "live", players: int = 4,
             seed: int = 0) -> None:
    pub = Publication(Roots.default(dataset=dataset), day, settings.registry_root(dataset), writes=KINDS)
    games = list(tips)
    rows = []
    for g_i, game in enumerate(games):
        for team in ("AWY", "HOM"):
            for p in range(players):
                rows.append({"game_id": int(game), "player_id": 1000 * (g_i + 1) + (p if team == "AWY" else 50 + p),
                             "team_tricode": f"{team}{g_i}", "player_name": f"P{g_i}{team}{p}",
                             "minutes_p50": float(10 + p + seed), "minutes_mean": float(10 + p + seed),
                             "minutes_p10": float(5 + p), "minutes_p90": float(20 + p + seed),
                             "status": "UNK", "play_prob": 0.9})
    frame = pd.DataFrame(rows)
    staged = {k: pub.stage(k, run_id) for k in KINDS}
    features = staged["features"]
    frame[["game_id", "player_id", "team_tricode", "minutes_p50"]].to_parquet(features / "features.parquet")
    frame[["game_id", "player_id", "team_tricode"]].rename(columns={"team_tricode": "team_id"}).to_csv(
        features / "ids.csv", index=False)
    cov = pd.DataFrame({
        "game_id": [int(g) for g in games],
        "tip_ts": [tip(day, tips[g]).isoformat() for g in games],
        "matchup": [f"AWY{i}@HOM{i}" for i in range(len(games))],
        **{f"{k}_covered": [True] * len(games) for k in ("injuries", "odds", "roster")},
        **{f"{k}_as_of_age_minutes": [30.0 * (i + 1) + seed for i in range(len(games))]
           for k in ("injuries", "odds", "roster")},
        **{c: [players] * len(games) for c in ("away_roster_players", "away_not_out_players", "home_roster_players",
                                               "home_not_out_players")},
    })
    cov.to_csv(features / "coverage.csv", index=False)
    sha = hashlib.sha256((features / "features.parquet").read_bytes()).hexdigest()
    atomic.write_json(features / "summary.json", {"run_id": run_id, "rows": len(frame), "games": [int(g) for g in games],
                                                  "features_sha256": sha, "warnings": []})
    frame.to_parquet(staged["scores"] / "minutes.parquet")
    atomic.write_json(staged["scores"] / "summary.json", {"run_id": run_id, "features_sha256": sha,
                                                          "counts": {"rows": len(frame), "games": len(games)},
                                                          "warnings": [], "generated_at": "2026-01-01T00:00:00+00:00",
                                                          "bundle": {"bundle_id": "fake"}})
    team = frame.groupby(["game_id", "team_tricode"], as_index=False)["minutes_p50"].sum().rename(
        columns={"minutes_p50": "p50_sum"})
    team["outside_230_260"] = True
    team["mean_sum"], team["adjustment"] = team["p50_sum"], 0.0
    team.to_csv(staged["reports"] / "team_minutes.csv", index=False)
    attempt = registry.Attempt(settings.registry_root(dataset), "afternoon", day.isoformat(), run_id,
                               datetime.strptime(run_id, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).isoformat()).start()
    pub.publish(staged, run_id)
    attempt.finish("succeeded")
    for kind in RAW_KINDS:
        folder = settings.snapshots_root(dataset) / kind / day.isoformat() / f"run={run_id}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"replay_{kind}.parquet").write_bytes(os.urandom(2048) + f"{kind}{run_id}".encode() * 50)
    rejected = settings.snapshots_root(dataset) / "injuries" / day.isoformat() / f"run={run_id}" / "rejected"
    rejected.mkdir(exist_ok=True)
    (rejected / "report.0123456789ab.pdf").write_bytes(b"%PDF-1.4 not really" * 10)


@pytest.fixture
def publish_run():
    """`publish_run(day, run_id, {game_id: "HH:MM" ET}, dataset="live")`: one complete published run."""
    return _publish
