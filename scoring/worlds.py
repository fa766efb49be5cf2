"""Game-time decisions as worlds: a QUESTIONABLE or DOUBTFUL player either sits or plays, and his teammates'
minutes depend on which (Minutes V1.2).

dbt builds, through the same models as every live row, each team-game's features once per world
(`features_minutes_v1_live_scenarios`): with K <= 3 game-time decisions (GTDs) on a team, 2^K worlds, each GTD
either OUT or cleared (AVAILABLE). Here every world is scored like any slate (its own team context, its own
reconciliation to 240 + overtime), and each world gets the probability of its GTD outcomes:

    weight(world) = prod over GTDs of (P(cleared) if cleared in that world else 1 - P(cleared))

with P(cleared) from the measured status table (scoring/status.py). Every player of the team is then published
as the mixture of his world distributions with those weights: his play probability and expected minutes are
the weighted averages, and his quantiles are read off the mixture's CDF (scoring/distribution.py). Because
each world sums to the team's target, so does the mixture; and a GTD's expected minutes when he plays are
exactly what his teammates gain, in expectation, when he sits.

`scenario_table` publishes the two worlds of each GTD for his team: "sits" and "plays", each the mixture of the
worlds with that outcome (the other GTDs weighted as above).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.bundle import COND_LEVELS, DISTRIBUTION_COLUMNS, MinutesBundle, median_level
from scoring.distribution import conditional_mean, mixture_of_worlds_quantile
from scoring.features import WORLD_COLUMN
from scoring.status import clearance_probability

GTD_IDS = "scenario_gtd_player_ids"
OUT_IDS = "scenario_out_player_ids"
SCENARIO_COLUMNS = (
    "game_id", "team_id", "team_tricode", "gtd_player_id", "gtd_player_name", "gtd_status", "world", "world_prob",
    "player_id", "player_name", "status", "play_prob", "minutes_mean", "minutes_p10", "minutes_p50", "minutes_p90",
)


def _ids(text: object) -> list[int]:
    return [int(x) for x in str(text or "").split(",") if x.strip()]


class WorldsError(ValueError):
    """The scenario rows do not describe the slate they come with."""


def check_scenarios(base: pd.DataFrame, scenarios: pd.DataFrame) -> None:
    """Every world holds the same players as the base rows of its team-game, once each."""
    for (game_id, team_id), part in scenarios.groupby(["game_id", "team_id"]):
        roster = set(base.loc[(base["game_id"] == game_id) & (base["team_id"] == team_id), "player_id"])
        for scenario_id, world in part.groupby(WORLD_COLUMN):
            if world["player_id"].duplicated().any() or set(world["player_id"]) != roster:
                raise WorldsError(f"scenario {scenario_id} of game {game_id}, team {team_id} does not hold the "
                                  "team's players of the slate once each")


def score_slate(bundle: MinutesBundle, base: pd.DataFrame, scenarios: pd.DataFrame | None,
                reconcile: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(published rows in the order of `base`, scenario table). Without scenario rows this is
    `bundle.predict(base)` and an empty scenario table."""
    base = base.reset_index(drop=True)
    if scenarios is None or scenarios.empty:
        return bundle.predict(base, reconcile=reconcile), pd.DataFrame(columns=list(SCENARIO_COLUMNS))
    check_scenarios(base, scenarios)
    world_teams = scenarios[["game_id", "team_id"]].drop_duplicates()
    key = pd.MultiIndex.from_frame(base[["game_id", "team_id"]])
    in_world = key.isin(pd.MultiIndex.from_frame(world_teams))
    plain = base[~in_world].assign(**{WORLD_COLUMN: -1})
    frame = pd.concat([plain, scenarios[[*base.columns, WORLD_COLUMN]]], ignore_index=True)
    comps = bundle.components(frame)
    groups = comps.out.assign(_w=frame[WORLD_COLUMN].to_numpy()).groupby(
        ["_w", "game_id", "team_id"], sort=False).ngroup().to_numpy()
    rec = bundle.reconciled(comps, groups, reconcile)
    world_rows = bundle.publish(comps, rec)
    world_rows[WORLD_COLUMN] = frame[WORLD_COLUMN].to_numpy()
    V = rec.V
    raw_V = comps.V

    # P(cleared) of each GTD from his as-reported row (status, role, state)
    rates = bundle.meta.get("status_layer", {}).get("play_rate_table")
    cleared = dict(zip(base["player_id"].astype(int), clearance_probability(base, rates), strict=True))
    weights = np.ones(len(frame))
    info = scenarios.drop_duplicates(["game_id", "team_id", WORLD_COLUMN]).set_index(
        ["game_id", "team_id", WORLD_COLUMN])[[GTD_IDS, OUT_IDS]].sort_index()
    for (game_id, team_id, scenario_id), row in info.iterrows():
        out_ids = set(_ids(row[OUT_IDS]))
        w = float(np.prod([(1 - cleared[g]) if g in out_ids else cleared[g] for g in _ids(row[GTD_IDS])]))
        sel = ((frame["game_id"] == game_id) & (frame["team_id"] == team_id)
               & (frame[WORLD_COLUMN] == scenario_id)).to_numpy()
        weights[sel] = w
    world_rows["world_weight"] = weights

    published = world_rows[world_rows[WORLD_COLUMN] == -1].drop(columns=[WORLD_COLUMN, "world_weight"])
    mixed = []
    lo, mid, hi = bundle.mixture_levels(comps)
    arrays = {c: world_rows[c].to_numpy(float) for c in ("world_weight", "play_prob", "minutes_mean",
                                                          "team_minutes_raw", "team_minutes_factor")}
    records = world_rows.to_dict("records")
    in_worlds = world_rows[world_rows[WORLD_COLUMN] >= 0]
    rows_of = in_worlds.groupby(["game_id", "team_id", "player_id"], sort=False).indices  # positions (RangeIndex)
    status_of = dict(zip(zip(base["game_id"], base["player_id"], strict=True), base["status"], strict=True))
    for (game_id, _team_id, player_id), pos in rows_of.items():
        idx = in_worlds.index.to_numpy()[pos]
        mixed.append(_mix(records, arrays, idx, V, raw_V, (lo[idx[0]], mid[idx[0]], hi[idx[0]]),
                          status_of[(game_id, player_id)]))
    published = pd.concat([published, pd.DataFrame(mixed)], ignore_index=True)
    order = pd.MultiIndex.from_frame(base[["game_id", "player_id"]])
    published = published.set_index(["game_id", "player_id"]).loc[order].reset_index()
    published = published[[c for c in world_rows.columns if c not in (WORLD_COLUMN, "world_weight")]]
    return published, scenario_table(world_rows, arrays, V, (lo, mid, hi), base, cleared, info)


def _components(arrays: dict[str, np.ndarray], idx: np.ndarray, V: np.ndarray) -> list[tuple[float, float, np.ndarray]]:
    w = arrays["world_weight"][idx]
    w = w / w.sum()
    return [(w[k], float(arrays["play_prob"][i]), V[i]) for k, i in enumerate(idx)]


def _mix(records: list[dict], arrays: dict[str, np.ndarray], idx: np.ndarray, V: np.ndarray, raw_V: np.ndarray,
         levels: tuple[float, float, float], status: str) -> dict:
    """One player's published row: the mixture of his world rows `idx` (positions in `records` / `arrays`)."""
    row = {k: v for k, v in records[idx[0]].items() if k not in DISTRIBUTION_COLUMNS}
    row["status"] = status  # the as-reported status, not a world's override
    w = arrays["world_weight"][idx]
    w = w / w.sum()
    play = arrays["play_prob"][idx]
    comps = _components(arrays, idx, V)
    row["play_prob"] = float(np.sum(w * play))
    row["minutes_mean"] = float(np.sum(w * arrays["minutes_mean"][idx]))
    row["minutes_mean_raw"] = float(np.sum(w * play * conditional_mean(raw_V[idx])))
    row["team_minutes_raw"] = float(np.sum(w * arrays["team_minutes_raw"][idx]))
    row["team_minutes_factor"] = float(np.sum(w * arrays["team_minutes_factor"][idx]))
    lo, mid, hi = levels
    names = ("minutes_p10", "minutes_p50", "minutes_p90")
    if row["play_prob"] > 0:
        values = mixture_of_worlds_quantile(comps, [lo, float(median_level(mid, row["play_prob"], lo, hi)), hi])
        played = [(c[0] * c[1], 1.0, c[2]) for c in comps if c[0] * c[1] > 0]
        total = sum(c[0] for c in played)
        cond = mixture_of_worlds_quantile([(c[0] / total, 1.0, c[2]) for c in played], list(COND_LEVELS.values()))
    else:
        values, cond = np.zeros(3), np.zeros(3)
    row.update(dict(zip(names, (float(v) for v in values), strict=True)))
    row.update(dict(zip(COND_LEVELS, (float(v) for v in cond), strict=True)))
    return row


def scenario_table(world_rows: pd.DataFrame, arrays: dict[str, np.ndarray], V: np.ndarray,
                   levels: tuple[np.ndarray, np.ndarray, np.ndarray], base: pd.DataFrame, cleared: dict[int, float],
                   info: pd.DataFrame) -> pd.DataFrame:
    """Per GTD player and outcome ("sits" / "plays"): every teammate's distribution in that outcome."""
    names = dict(zip(base["player_id"].astype(int), base["player_name"], strict=True))
    statuses = dict(zip(base["player_id"].astype(int), base["status"], strict=True))
    lo, mid, hi = levels
    rows = []
    scenario_rows = world_rows[world_rows[WORLD_COLUMN] >= 0]
    worlds_col = world_rows[WORLD_COLUMN].to_numpy()
    players_col = world_rows["player_id"].to_numpy()
    tricodes = world_rows["team_tricode"].to_numpy() if "team_tricode" in world_rows else None
    for (game_id, team_id), part in scenario_rows.groupby(["game_id", "team_id"]):
        team_info = info.loc[(game_id, team_id)]
        gtds = _ids(team_info[GTD_IDS].iloc[0])
        outs = {int(sid): set(_ids(r)) for sid, r in team_info[OUT_IDS].items()}
        positions = part.index.to_numpy()
        for g in gtds:
            for world, want_out in (("sits", True), ("plays", False)):
                keep = [sid for sid, out in outs.items() if (g in out) == want_out]
                sub = positions[np.isin(worlds_col[positions], keep)]
                for player_id in dict.fromkeys(players_col[sub]):
                    idx = sub[players_col[sub] == player_id]
                    w = arrays["world_weight"][idx]
                    w = w / w.sum()
                    comps = _components(arrays, idx, V)
                    p = float(np.sum(w * arrays["play_prob"][idx]))
                    q = (mixture_of_worlds_quantile(comps, [lo[idx[0]], float(median_level(mid[idx[0]], p, lo[idx[0]],
                                                                                                    hi[idx[0]])),
                                                            hi[idx[0]]]) if p > 0 else np.zeros(3))
                    rows.append({
                        "game_id": int(game_id), "team_id": int(team_id),
                        "team_tricode": None if tricodes is None else tricodes[idx[0]],
                        "gtd_player_id": int(g), "gtd_player_name": names.get(g), "gtd_status": statuses.get(g),
                        "world": world, "world_prob": (1 - cleared[g]) if want_out else cleared[g],
                        "player_id": int(player_id), "player_name": names.get(int(player_id)),
                        "status": statuses.get(int(player_id)), "play_prob": p,
                        "minutes_mean": float(np.sum(w * arrays["minutes_mean"][idx])),
                        "minutes_p10": float(q[0]), "minutes_p50": float(q[1]), "minutes_p90": float(q[2]),
                    })
    return pd.DataFrame(rows, columns=list(SCENARIO_COLUMNS))
