"""Shared fixtures of the orchestration tests."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A one-season synthetic league, its raw store, and a small bundle trained on gold features."""
    from minutes_live.demo import pick_slate
    from minutes_live.gold import build_gold_features
    from scoring.train import promote, train_bundle
    from snapshots_ingest.ingest import ingest_replay
    from snapshots_ingest.synthetic_league import generate_league

    root = tmp_path_factory.mktemp("job_syn")
    env = {
        "MINUTES_LIVE_DATA_ROOT": str(root / "data"),
        "MINUTES_LIVE_DUCKDB": str(root / "data" / "wh.duckdb"),
        "MINUTES_LIVE_ARTIFACTS": str(root / "artifacts"),
        "MINUTES_LIVE_REPORTS": str(root / "reports"),
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        league = root / "league"
        generate_league(league, seed=3, seasons=1)
        day, first_as_of = pick_slate(league)
        ingest_replay(league, first_as_of.date(), first_as_of, backfill=True)
        gold = build_gold_features(league, 30, ingest=False)
        gold = gold[pd.to_datetime(gold["game_date"]) < pd.Timestamp(day)]
        bundle = train_bundle(gold, root / "artifacts" / "bundles", seed=3, bundle_id="test_bundle",
                              quantile_rounds=40, play_rounds=40)
        config = root / "minutes_current_run.json"
        promote(bundle, config)
        yield {"root": root, "league": league, "day": date.fromisoformat(day), "as_of": first_as_of,
               "config": config, "env": env}


