"""History computed once (minutes_live/pipeline/history.py): the runner's incremental path against a full rebuild.

A synthetic league is backfilled to its last day (so the store holds box scores published after the run),
then live slates are built the way the job builds them (history.build) and the way a plain dbt user does
(`dbt build --selector live_slate --vars ...`, history recomputed from the box scores known at the run) on a
copy of the same store. The two must give byte-identical features, also after a late box-score correction,
which must reach the next live run.
"""

from __future__ import annotations

import hashlib
import io
import shutil
from datetime import datetime, timedelta

import pandas as pd
import pytest

from foundation.store import connected
from minutes_live.pipeline import history
from minutes_live.pipeline.dbt_runner import run_dbt
from snapshots_ingest.raw_store import AUDIT_COLUMNS

pytestmark = pytest.mark.slow

LIVE_MART = "features_minutes_v1_live"


@pytest.fixture(scope="module")
def league_store(tmp_path_factory):
    from minutes_live.demo import pick_slate
    from minutes_live.pipeline.gold import dataset_end
    from snapshots_ingest.ingest import ingest_replay
    from snapshots_ingest.synthetic_league import generate_league

    root = tmp_path_factory.mktemp("history")
    league = root / "league"
    generate_league(league, seed=11, seasons=1)
    day, as_of = pick_slate(league)
    end = dataset_end(league)
    db = root / "wh.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MINUTES_LIVE_DATA_ROOT", str(root / "data"))
        ingest_replay(league, end.date(), end, backfill=True, db_path=db, data_root=root / "data")
    return {"root": root, "db": db, "day": day, "as_of": as_of}


def _params(day: str, as_of: datetime) -> dict:
    return {"target_date": day, "run_as_of_ts": as_of.isoformat(), "build_gold": False,
            "allow_missing_injuries": True, "allow_missing_odds": True}


def _live(db) -> pd.DataFrame:
    with connected(db, read_only=True) as con:
        return con.execute(f"select * from main.{LIVE_MART} order by game_id, team_id, player_id").df()


def _digest(frame: pd.DataFrame) -> str:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return hashlib.sha256(buf.getvalue()).hexdigest()


def _full_build(src, tmp_path, params: dict) -> pd.DataFrame:
    """What a plain dbt user gets: the whole live lineage rebuilt with --vars, on a copy of the store."""
    copy = tmp_path / f"full-{len(list(tmp_path.iterdir()))}.duckdb"
    shutil.copyfile(src, copy)
    run_dbt(["build", "--selector", "live_slate"], vars=params, db_path=copy, quiet=True)
    return _live(copy)


def _assert_identical(incremental: pd.DataFrame, full: pd.DataFrame) -> None:
    assert len(incremental) > 100
    pd.testing.assert_frame_equal(incremental, full, check_exact=True)
    assert _digest(incremental) == _digest(full)


def test_incremental_live_runs_equal_a_full_rebuild_and_a_correction_reaches_the_next_run(league_store, tmp_path):
    db, day, as_of = league_store["db"], league_store["day"], league_store["as_of"]

    # the first run builds history (nothing stored yet); every box score in the store is kept ('all'),
    # since nothing stored after the run changes a game published before it
    first = history.build("live", _params(day, as_of - timedelta(minutes=60)), db_path=db)
    assert first.rebuild and first.history_as_of == "all", first
    # a later run of the same slate reuses it
    second = history.build("live", _params(day, as_of), db_path=db)
    assert not second.rebuild and second.selector("live") == "live_slate_on_history", second
    incremental = _live(db)
    _assert_identical(incremental, _full_build(db, tmp_path, _params(day, as_of)))

    # a late correction of an earlier game, published 2 h before the run: one player's minutes change
    with connected(db, read_only=True) as con:
        # a player whose newest usable game (the one his pointer reads) had 10-40 minutes
        player_id, last_game, roll_mean_3 = con.execute(
            f"""select f.player_id, h.game_id, f.roll_mean_3
                from main.{LIVE_MART} f
                join main.int_player_history_pointers p
                    on p.player_id = f.player_id and p.game_id = f.game_id and p.cutoff_kind = 'live'
                join main.int_player_history h on h.player_id = p.player_id and h.seq = p.seq
                where h.minutes between 10 and 40 order by f.player_id limit 1""").fetchone()
        rows = con.execute("select * from raw.box_scores where game_id = ?", [last_game]).df()
    corrected = rows.drop(columns=[c for c in AUDIT_COLUMNS if c != "snapshot_ts"])
    mine = corrected["player_id"] == player_id
    corrected.loc[mine, "minutes"] = corrected.loc[mine, "minutes"] + 6.0
    corrected.loc[mine, "seconds_played"] = corrected.loc[mine, "seconds_played"] + 360
    correction_ts = as_of - timedelta(hours=2)
    corrected["snapshot_ts"] = pd.Timestamp(correction_ts)
    extract = tmp_path / "box_scores_correction.parquet"
    corrected.to_parquet(extract, index=False)
    from snapshots_ingest.ingest import ingest_file

    ingest_file("box_scores", extract, correction_ts.date(), correction_ts, db_path=db,
                data_root=league_store["root"] / "data")

    third = history.build("live", _params(day, as_of + timedelta(minutes=1)), db_path=db)
    assert third.rebuild and "box scores" in third.reason, third
    after = _live(db)
    moved = after.set_index("player_id").loc[player_id, "roll_mean_3"]
    assert moved == pytest.approx(roll_mean_3 + 2.0), (roll_mean_3, moved)  # +6 minutes over a 3-game mean
    _assert_identical(after, _full_build(db, tmp_path, _params(day, as_of + timedelta(minutes=1))))

    # a replay of an instant before the correction: the store now holds a later copy of a game published
    # by then, so history comes from what was known at that instant, exactly as the full build does
    before = as_of - timedelta(hours=3)
    replay = history.build("live", _params(day, before), db_path=db)
    assert replay.rebuild and replay.history_as_of == "run", replay
    replayed = _live(db)
    assert replayed.set_index("player_id").loc[player_id, "roll_mean_3"] == pytest.approx(roll_mean_3)
    _assert_identical(replayed, _full_build(db, tmp_path, _params(day, before)))


def test_runs_with_new_parameters_keep_the_partial_parse(league_store, tmp_path, monkeypatch):
    """Two runs with different run parameters: the second parses only run_context.sql, not the project, even
    when a dbt call on a store of another name ran in between: each store name keeps its own partial-parse
    file (the profile names the store, and dbt discards a parse of another profile). A store of the same name
    in another directory starts from that parse."""
    from minutes_live.pipeline import dbt_runner

    db, day, as_of = league_store["db"], league_store["day"], league_store["as_of"]
    outputs: list[str] = []
    real = dbt_runner.run_dbt

    def recording(*args, **kwargs):
        out = real(*args, **kwargs)
        outputs.append(out)
        return out

    monkeypatch.setattr(dbt_runner, "run_dbt", recording)
    history.build("live", _params(day, as_of - timedelta(minutes=5)), db_path=db)
    real(["parse"], db_path=tmp_path / "another_store.duckdb", quiet=True)
    history.build("live", {**_params(day, as_of - timedelta(minutes=10)), "history_days": 200}, db_path=db)
    assert len(outputs) == 2
    assert "Unable to do partial parsing" not in outputs[1], outputs[1][:1500]
    assert "Found " in outputs[1]

    # a store of the same name elsewhere (another dataset's, a copy) shares the parse: dbt runs in the
    # store's directory and the profile holds only its name; dbt writes nothing beside the store
    other = tmp_path / "elsewhere" / db.name
    other.parent.mkdir()
    shutil.copyfile(db, other)
    history.build("live", _params(day, as_of - timedelta(minutes=15)), db_path=other)
    assert len(outputs) == 3
    assert "Unable to do partial parsing" not in outputs[2], outputs[2][:1500]
    assert sorted(p.name for p in other.parent.iterdir() if not p.name.startswith(db.name)) == [], \
        list(other.parent.iterdir())


def test_history_state_is_dropped_before_a_rebuild_so_a_failed_build_leaves_none(league_store, tmp_path):
    db = tmp_path / "copy.duckdb"
    shutil.copyfile(league_store["db"], db)
    plan = history.plan(db, None)
    forced = history.HistoryPlan(plan.history_as_of, True, "test")
    history.prepare(db, forced)
    assert history.plan(db, None).rebuild
    assert "no stored history" in history.plan(db, None).reason


def test_a_missing_history_table_means_rebuild(league_store, tmp_path):
    db = tmp_path / "copy.duckdb"
    shutil.copyfile(league_store["db"], db)
    with connected(db) as con:
        con.execute("drop table main.int_player_history")
    plan = history.plan(db, None)
    assert plan.rebuild and "int_player_history missing" in plan.reason, plan


def test_a_project_change_invalidates_history(tmp_path):
    proj = tmp_path / "proj"
    for name in ("models", "macros", "seeds"):
        (proj / name).mkdir(parents=True)
    (proj / "dbt_project.yml").write_text("name: x\n")
    (proj / "models" / "a.sql").write_text("select 1")
    before = history.project_sha(proj)
    (proj / "models" / "a.sql").write_text("select 2")
    assert history.project_sha(proj) != before
    assert len(before) == 64
