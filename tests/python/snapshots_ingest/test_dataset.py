"""Dataset reader: real-season row counts, team-minute identity, and one clear error per kind of bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from small_dataset import SEASON, rewrite

from snapshots_ingest.dataset import DatasetError, load_dataset
from snapshots_ingest.ingest import ingest_replay

pytestmark = pytest.mark.real_data

# From ../shared/data/nba/README.md ("Files and row counts").
BOX_ROWS = {"2017-18": 42744, "2018-19": 41916, "2019-20": 37309, "2020-21": 37340, "2021-22": 44208}
BOX_GAMES = {"2017-18": 1300, "2018-19": 1283, "2019-20": 1124, "2020-21": 1129, "2021-22": 1307}
LINES_ROWS = {"2017-18": 1312, "2018-19": 1312, "2019-20": 1143, "2020-21": 1171, "2021-22": 1323}
SCHEDULE_ROWS = {"2017-18": 1312, "2018-19": 1312, "2019-20": 1138, "2020-21": 1171, "2021-22": 1323,
                 "2022-23": 1320, "2023-24": 1231, "2024-25": 1200, "2025-26": 1200}
# basketball-reference pages whose minutes do not add up (source errors, checked by hand):
# BKN/UTA 2017-11-10 are each ~40 s short, GSW 2017-12-04 is 84 s over.
KNOWN_MINUTE_ANOMALIES = {("201711110UTA", "BKN"), ("201711110UTA", "UTA"), ("201712040NOP", "GSW")}


@pytest.fixture(scope="module")
def dataset(real_dataset_dir: Path):
    return load_dataset(real_dataset_dir)


def test_real_seasons_match_the_readme(dataset) -> None:
    pg = dataset.player_games
    assert dataset.namespace == "bref"
    assert dataset.seasons == sorted(BOX_ROWS)
    assert pg.groupby("season").size().to_dict() == BOX_ROWS
    assert pg.groupby("season")["game_id"].nunique().to_dict() == BOX_GAMES
    assert dataset.lines.groupby("season").size().to_dict() == LINES_ROWS
    assert dataset.games.groupby("season").size().to_dict() == SCHEDULE_ROWS
    assert dataset.games["game_id"].is_unique
    assert str(dataset.games["tip_ts"].dt.tz) == "UTC"


def test_team_minutes_sum_to_regulation_plus_overtime(dataset) -> None:
    pg = dataset.player_games
    team = pg.groupby(["source_game_id", "team_tricode"]).agg(
        seconds=("seconds_played", "sum"), listed=("player_id", "size"), overtimes=("overtimes", "first")
    )
    expected = (240 + 25 * team["overtimes"]) * 60
    off = team[(team["seconds"] - expected).abs() > team["listed"]]
    assert set(off.index) == KNOWN_MINUTE_ANOMALIES
    assert team["overtimes"].max() >= 3  # 3OT games exist in the real data and are counted
    assert len(team) == 2 * sum(BOX_GAMES.values())


def test_ids_follow_the_mapping_rules(dataset) -> None:
    g = dataset.games.set_index("source_game_id")
    assert g.loc["202110190MIL", "game_id"] == 2021101949
    assert g.loc["202110190MIL", "away_tricode"] == "BKN"  # BRK -> BKN
    assert set(dataset.player_games["team_tricode"]) <= set(g["home_tricode"])
    assert not {"BRK", "CHO", "PHO"} & set(dataset.player_games["team_tricode"])


def test_restricting_to_seasons(real_dataset_dir: Path) -> None:
    ds = load_dataset(real_dataset_dir, seasons=["2020-21"])
    assert ds.seasons == ["2020-21"]
    assert len(ds.player_games) == BOX_ROWS["2020-21"]


def _store_counts(db_path: Path) -> dict[str, int]:
    if not db_path.exists():
        return {}
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        tables = con.execute("select table_name from information_schema.tables where table_schema = 'raw'").fetchall()
        return {t: con.execute(f"select count(*) from raw.{t}").fetchall()[0][0] for (t,) in tables}
    finally:
        con.close()


def _missing_file(d: Path) -> None:
    (d / f"lines_{SEASON}.parquet").unlink()


def _missing_column(d: Path) -> None:
    rewrite(d / f"box_scores_{SEASON}.parquet", lambda f: f.drop(columns=["seconds_played"]))


def _wrong_type(d: Path) -> None:
    rewrite(d / f"schedule_bref_{SEASON}.parquet", lambda f: f.assign(tipoff_utc=f["tipoff_utc"].astype(str)))


def _duplicate_key(d: Path) -> None:
    rewrite(d / f"box_scores_{SEASON}.parquet", lambda f: pd.concat([f, f.head(1)], ignore_index=True))


def _duplicate_line(d: Path) -> None:
    rewrite(d / f"lines_{SEASON}.parquet", lambda f: pd.concat([f, f.head(1)], ignore_index=True))


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (_missing_file, [f"lines_{SEASON}.parquet", "required file is missing"]),
        (_missing_column, [f"box_scores_{SEASON}.parquet", "missing column 'seconds_played'"]),
        (_wrong_type, [f"schedule_bref_{SEASON}.parquet", "column 'tipoff_utc'", "expected timestamp"]),
        (_duplicate_key, [f"box_scores_{SEASON}.parquet", "duplicate key (game_id, team, player_id)", "'player_id'"]),
        (_duplicate_line, [f"lines_{SEASON}.parquet", "duplicate key (game_id)"]),
    ],
    ids=["missing-file", "missing-column", "wrong-type", "duplicate-box-key", "duplicate-line"],
)
def test_bad_dataset_gives_one_clear_error_and_changes_nothing(small_dataset_dir, store, breakage, expected) -> None:
    as_of = datetime(2021, 10, 22, 23, 0, tzinfo=UTC)
    ingest_replay(small_dataset_dir, date(2021, 10, 21), as_of, **store)  # a good first ingest
    before = _store_counts(store["db_path"])
    assert before["box_scores"] > 0
    breakage(small_dataset_dir)
    with pytest.raises(DatasetError) as err:
        ingest_replay(small_dataset_dir, date(2021, 10, 22), datetime(2021, 10, 23, 23, 0, tzinfo=UTC), **store)
    for text in expected:
        assert text in str(err.value)
    assert "1 problem(s)" in str(err.value)
    assert _store_counts(store["db_path"]) == before


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "nope")


def test_synthetic_namespace_marker(small_dataset_dir: Path) -> None:
    (small_dataset_dir / "dataset.json").write_text('{"namespace": "syn"}')
    ds = load_dataset(small_dataset_dir)
    assert ds.namespace == "syn" and ds.is_synthetic
    (small_dataset_dir / "dataset.json").unlink()
    assert set(load_dataset(small_dataset_dir).player_games["player_id"]).isdisjoint(ds.player_games["player_id"])
