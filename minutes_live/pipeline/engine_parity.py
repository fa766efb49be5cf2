"""Engine parity: the same dbt project, the same raw rows and the same run parameters give the same features
on DuckDB (the embedded default) and on Spark (profiles/profiles.yml `spark`). docs/scale_out.md.

`build_on(target, kind, params, db_path)` runs the one build the jobs run (minutes_live.pipeline.history.build) on a
target and reads the marts back the way the jobs read them; `compare_marts` compares two builds of a mart:
the same columns in the same order with the same dtypes, the same keys, and every value equal by the rule of
the live/gold parity (minutes_live.pipeline.live_gold_parity.values_equal: NULL equals NULL, floats within 1e-9, keys, integers,
strings, booleans, dates and instants exactly).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from minutes_live.pipeline import history, spark_engine
from minutes_live.pipeline.live_build import GOLD_MART, LIVE_MART, read_mart
from minutes_live.pipeline.live_gold_parity import KEYS, values_equal

KIND_MARTS = {"live": (LIVE_MART,), "gold": (GOLD_MART,), "parity": (LIVE_MART, GOLD_MART),
              "overnight": (GOLD_MART,)}


@dataclass
class EngineBuild:
    target: str
    marts: dict[str, pd.DataFrame]
    seconds: float
    history: str = ""


@dataclass
class MartComparison:
    mart: str
    rows: tuple[int, int]  # (first engine, second engine)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@contextmanager
def dbt_target(target: str) -> Iterator[None]:
    """Run the enclosed builds and mart reads on `target`; the previous target afterwards."""
    previous = os.environ.get(spark_engine.TARGET_ENV)
    os.environ[spark_engine.TARGET_ENV] = target
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(spark_engine.TARGET_ENV, None)
        else:
            os.environ[spark_engine.TARGET_ENV] = previous


def build_on(target: str, kind: str, params: dict, *, db_path: Path) -> EngineBuild:
    """One `history.build(kind, params)` on `target`, and its marts as the jobs read them (ordered by key)."""
    with dbt_target(target):
        t0 = time.perf_counter()
        plan = history.build(kind, params, db_path=db_path)
        seconds = time.perf_counter() - t0
        marts = {mart: read_mart(db_path, mart, "order by " + ", ".join(KEYS)) for mart in KIND_MARTS[kind]}
    return EngineBuild(target, marts, seconds, plan.reason)


def compare_marts(mart: str, first: pd.DataFrame, second: pd.DataFrame,
                  keys: tuple[str, ...] | list[str] = KEYS) -> MartComparison:
    """Every difference between two builds of `mart`, one line each (empty: equal). `keys`: the mart's row
    key (the scenario mart's is scenario_id + KEYS)."""
    keys = list(keys)
    out = MartComparison(mart, (len(first), len(second)))
    if list(first.columns) != list(second.columns):
        out.problems.append(f"{mart}: columns differ: only first {sorted(set(first.columns) - set(second.columns))}, "
                            f"only second {sorted(set(second.columns) - set(first.columns))}, or the order")
        return out
    for col in first.columns:
        if str(first[col].dtype) != str(second[col].dtype):
            out.problems.append(f"{mart}.{col}: dtype {first[col].dtype} vs {second[col].dtype}")
    for name, frame in (("first", first), ("second", second)):
        dup = int(frame.duplicated(keys).sum())
        if dup:
            out.problems.append(f"{mart}: {dup} duplicate key(s) in the {name} build")
    merged = first.merge(second, on=keys, how="outer", suffixes=("_a", "_b"), indicator=True)
    for side, label in (("left_only", "first"), ("right_only", "second")):
        extra = merged[merged["_merge"] == side]
        if len(extra):
            k = extra.iloc[0]
            out.problems.append(f"{mart}: {len(extra)} key(s) only in the {label} build, e.g. game {k.game_id} "
                                f"player {k.player_id} team {k.team_id}")
    both = merged[merged["_merge"] == "both"].reset_index(drop=True)
    for col in first.columns:
        if col in keys:
            continue
        a, b = both[f"{col}_a"], both[f"{col}_b"]
        eq = values_equal(a, b)
        if not eq.all():
            i = int(np.argmax(~eq))
            r = both.iloc[i]
            numeric = pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b)
            what = f"max |diff| {np.nanmax(np.abs(a.astype(float) - b.astype(float))):.3g}" if numeric else "values differ"
            out.problems.append(f"{mart}.{col}: {int((~eq).sum())} row(s) differ ({what}), e.g. game {r.game_id} "
                                f"player {r.player_id}: {a.iloc[i]!r} vs {b.iloc[i]!r}")
    return out


def compare_builds(first: EngineBuild, second: EngineBuild) -> list[MartComparison]:
    return [compare_marts(mart, first.marts[mart], second.marts[mart]) for mart in first.marts]


def raw_export_matches(db_path: Path) -> list[str]:
    """The Spark raw export holds exactly the store's raw rows: per table the same row count and the same
    multiset of content hashes (empty list: it does)."""
    import duckdb

    problems = []
    root = spark_engine.spark_dir(db_path) / "raw"
    con = duckdb.connect()
    try:
        con.execute(f"attach '{db_path}' as store (read_only)")
        for table in spark_engine.RAW_TABLES:
            exported = f"read_parquet('{root / table}/*.parquet')"
            row = con.execute(
                f"""with a as (select content_hash, count(*) n from store.raw.{table} group by 1),
                         b as (select content_hash, count(*) n from {exported} group by 1)
                    select (select count(*) from store.raw.{table}), (select count(*) from {exported}),
                           (select count(*) from a full join b using (content_hash) where a.n is distinct from b.n)"""
            ).fetchone()
            if row[0] != row[1] or row[2]:
                problems.append(f"raw.{table}: {row[0]} rows in the store, {row[1]} exported, {row[2]} hash(es) differ")
    finally:
        con.close()
    return problems
