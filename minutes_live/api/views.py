"""What each /v1 route returns, as plain JSON-able data (the routes only parse, scope and call these).

    projections(day, selected, team=, games=)   the run's player rows, each with its provenance
    runs(day)                                     the date's runs (minutes_live.runs.catalog.list_runs)
    diff(day, a, b, min_delta)                    `minutes-live runs diff`: who moved, and why
    scenarios(day, selected, team=, games=)       the game-time-decision worlds (scores scenarios.parquet)

Provenance of a row: the run id, the bundle id and the code version of the run, and for each input kind the
`snapshot_ts` the row selected (its own, else its game's, from coverage.csv) with the raw extract that
brought the snapshot into the store and that file's sha256 (recorded at build time as `inputs` in the
features summary: minutes_live/pipeline/provenance.py). A run built before inputs were recorded carries the
snapshot times with `extract_sha256: null`.

Runs are immutable, so a run's assembled rows are cached per run folder (path, inode, mtime: a run redone
with --replace is new folders); the filters are applied to the cached rows.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from datetime import date
from pathlib import Path

import pandas as pd

from foundation import state
from minutes_live.api.selection import Selected
from minutes_live.dashboard.diffing import diff_against
from minutes_live.dashboard.model import PROJECTION_COLUMNS, clean
from minutes_live.pipeline.provenance import FEATURE_COLUMNS
from minutes_live.runs import catalog

ROW_COLUMNS = PROJECTION_COLUMNS + ("tip_ts", "minutes_if_play_p10", "minutes_if_play_p50", "minutes_if_play_p90")
SCENARIO_COLUMNS = ("player_id", "player_name", "status", "play_prob", "minutes_mean", "minutes_p10",
                    "minutes_p50", "minutes_p90")
INPUT_KINDS = tuple(FEATURE_COLUMNS)


def iso_utc(value) -> str | None:
    """An instant as an ISO string in UTC (a naive one is read as UTC); None for a missing one."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if pd.isna(ts):
        return None
    return (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).isoformat()


class RunCache:
    """A small LRU cache by key, safe across threads: assembled per-run payloads (runs are immutable: a key never
    goes stale), and the rendered pages and explanations of minutes_live/api/pages.py."""

    def __init__(self, keep: int = 16):
        self._items: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()
        self.keep = keep

    def peek(self, key: tuple):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def get(self, key: tuple, make):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.keep:
                self._items.popitem(last=False)
        return value


_runs = RunCache()


def _run_files(day: date, run_id: str) -> dict:
    pub = catalog.publication(day)
    fdir, sdir = pub.run_dir("features", run_id), pub.run_dir("scores", run_id)
    return {
        "fsum": state.read_object(fdir / "summary.json") or {},
        "ssum": state.read_object(sdir / "summary.json") or {},
        "minutes": catalog.read_table(sdir / "minutes.parquet"),
        "features": catalog.read_table(fdir / "features.parquet",
                                       columns=["game_id", "player_id", "team_id", *FEATURE_COLUMNS.values()])
        if (fdir / "features.parquet").is_file() else None,
        "coverage": catalog.read_table(fdir / "coverage.csv"),
        "scenarios_path": sdir / "scenarios.parquet",
    }


def _inputs_index(fsum: dict) -> tuple[dict[tuple[str, str], dict], str | None]:
    """(kind, snapshot_ts ISO) -> {extract, sha256}; and why there is none (None when recorded)."""
    inputs = fsum.get("inputs")
    if not isinstance(inputs, dict):
        return {}, "not recorded (the run was built before inputs were recorded)"
    if "error" in inputs:
        return {}, f"not recorded: {inputs['error']}"
    out = {}
    for kind, rows in inputs.items():
        for r in rows if isinstance(rows, list) else []:
            if isinstance(r, dict) and isinstance(r.get("snapshot_ts"), str):
                out[(kind, iso_utc(r["snapshot_ts"]))] = {"extract": r.get("extract"), "sha256": r.get("sha256")}
    return out, None


def _assemble(day: date, run_id: str) -> dict:
    files = _run_files(day, run_id)
    minutes, fsum, ssum = files["minutes"], files["fsum"], files["ssum"]
    if minutes is None:
        raise catalog.CatalogError(f"run {run_id} of {day} has no scores (minutes.parquet)")
    cols = [c for c in ROW_COLUMNS if c in minutes.columns]
    table = minutes[cols].copy()
    # each row's snapshot per kind: its own, else its game's (an injury report lists only some players)
    feats = files["features"]
    if feats is not None:
        table = table.merge(feats.drop_duplicates(["game_id", "player_id", "team_id"]),
                            on=["game_id", "player_id", "team_id"], how="left")
    coverage = files["coverage"]
    index, why = _inputs_index(fsum)
    bundle = ssum.get("bundle") or {}
    run_prov = {"run_id": run_id, "run_as_of_ts": fsum.get("run_as_of_ts") or ssum.get("run_as_of_ts"),
                "bundle_id": bundle.get("bundle_id"), "code_version": fsum.get("code_version"),
                "bundle_git_commit": bundle.get("git_commit"), "features_sha256": fsum.get("features_sha256"),
                "dataset": fsum.get("dataset")}
    game_ts: dict[str, dict[int, str]] = {}
    for kind in INPUT_KINDS:
        col = f"{kind}_snapshot_ts"
        game_ts[kind] = {} if coverage is None or col not in coverage else {
            int(g): iso_utc(t) for g, t in zip(coverage["game_id"], coverage[col], strict=True) if iso_utc(t)}
    rows = []
    for rec in table.to_dict("records"):
        row = {k: clean(rec.get(k)) for k in cols}
        inputs = {}
        for kind, fcol in FEATURE_COLUMNS.items():
            ts = iso_utc(rec.get(fcol)) or game_ts[kind].get(int(rec["game_id"]))
            found = index.get((kind, ts), {}) if ts else {}
            inputs[kind] = {"snapshot_ts": ts, "extract": found.get("extract"), "extract_sha256": found.get("sha256")}
        row["provenance"] = {**run_prov, "inputs": inputs}
        rows.append(row)
    return {"rows": rows, "note": why, "games": sorted({r["game_id"] for r in rows}),
            "bundle_id": run_prov["bundle_id"], "code_version": run_prov["code_version"]}


def run_key(what: str, day: date, run_id: str) -> tuple:
    """A cache key that names the run's folders themselves (a `--replace` makes new folders: a new key)."""
    pub = catalog.publication(day)
    keys = []
    for kind in ("features", "scores"):
        try:
            st = os.stat(pub.run_dir(kind, run_id))
            keys.append((str(pub.run_dir(kind, run_id)), st.st_ino, st.st_mtime_ns))
        except OSError:
            keys.append(None)
    return (what, catalog.current_dataset(), day.isoformat(), run_id, *keys)


def _team_match(row: dict, team: str | None) -> bool:
    if team is None:
        return True
    return team == str(row.get("team_tricode")) or team == str(row.get("team_id"))


def projections(day: date, selected: Selected, *, team: str | None = None, games: set[str] | None = None) -> dict:
    key = run_key("projections", day, selected.run_id)
    run = _runs.get(key, lambda: _assemble(day, selected.run_id))
    rows = [r for r in run["rows"] if _team_match(r, team) and (games is None or str(r["game_id"]) in games)]
    return {"date": day.isoformat(), "dataset": catalog.current_dataset(), "selected": selected.as_dict(),
            "provenance_note": run["note"], "count": len(rows), "rows": rows}


def runs(day: date) -> dict:
    infos = catalog.list_runs(day)
    pub = catalog.publication(day)
    return {"date": day.isoformat(), "dataset": catalog.current_dataset(), "served": pub.current(),
            "pinned": pub.pinned(), "runs": [i.as_dict() for i in infos],
            "history": [{**h, "at": h["at"].isoformat()} for h in pub.history()]}


def diff(day: date, a: str, b: str, min_delta: float) -> dict:
    a_id, b_id = catalog.resolve(day, a), catalog.resolve(day, b)
    out = diff_against(day, a_id, b_id, min_delta=min_delta)
    return {"date": day.isoformat(), "dataset": catalog.current_dataset(), "from": a_id, "to": b_id,
            "min_delta": min_delta, "count": len(out["rows"]), "rows": out["rows"]}


def _scenario_frame(day: date, run_id: str) -> pd.DataFrame | None:
    return catalog.read_table(Path(catalog.publication(day).run_dir("scores", run_id)) / "scenarios.parquet")


def scenarios(day: date, selected: Selected, *, team: str | None = None, games: set[str] | None = None) -> dict:
    """Per game-time decision (a questionable / doubtful player): the two worlds, `sits` and `plays`, with the
    probability of each and every teammate's minutes in it."""
    key = run_key("scenarios", day, selected.run_id)
    frame = _runs.get(key, lambda: _scenario_frame(day, selected.run_id))
    decisions = []
    if frame is not None and len(frame):
        for (game_id, team_id, gtd), part in frame.groupby(["game_id", "team_id", "gtd_player_id"], sort=True):
            head = part.iloc[0]
            if not _team_match({"team_tricode": head["team_tricode"], "team_id": clean(team_id)}, team):
                continue
            if games is not None and str(game_id) not in games:
                continue
            worlds = []
            for world, w in part.groupby("world", sort=False):
                cols = [c for c in SCENARIO_COLUMNS if c in w.columns]
                worlds.append({"world": str(world), "world_prob": clean(w["world_prob"].iloc[0]),
                               "players": [{k: clean(v) for k, v in r.items()} for r in w[cols].to_dict("records")]})
            decisions.append({"game_id": clean(game_id), "team_id": clean(team_id), "team_tricode": str(head["team_tricode"]),
                              "player_id": clean(gtd), "player_name": str(head["gtd_player_name"]),
                              "status": str(head["gtd_status"]), "worlds": worlds})
    return {"date": day.isoformat(), "dataset": catalog.current_dataset(), "selected": selected.as_dict(),
            "count": len(decisions), "decisions": decisions}
