"""Everything one dashboard page shows, as plain data (JSON-able): the date's runs, the run on view and the
served one, freshness, fallbacks, team minutes, projections, the diff against the previous run, and the
next-day validation across dates. Read-only (minutes_live.runs.catalog)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from foundation import settings
from foundation.guardrails import DamagedStateError, InvalidInput
from foundation.publication import Publication, Roots
from minutes_live.dashboard import drift, freshness
from minutes_live.dashboard.diffing import diff_against
from minutes_live.dashboard.explain import player_key
from minutes_live.runs import catalog as run_catalog
from minutes_live.runs import slates
from scoring.metrics import TEAM_BAND

PROJECTION_COLUMNS = ("game_id", "player_id", "team_id", "team_tricode", "opponent_team_tricode", "player_name",
                      "status", "is_starter", "play_prob", "minutes_mean", "minutes_p10", "minutes_p50", "minutes_p90")


def worlds_of(view: run_catalog.RunView) -> dict[str, dict]:
    """Per game-time decision (player key): his two worlds for his teammates, from the scores run's
    scenarios.parquet: {name, status, plays_prob, rows: [[name, sits mean, sits p50, plays mean, plays p50]]}."""
    path = view.paths.get("scores")
    if path is None or not (Path(path) / "scenarios.parquet").is_file():
        return {}
    frame = run_catalog.read_table(Path(path) / "scenarios.parquet")
    out: dict[str, dict] = {}
    for (game_id, gtd), part in frame.groupby(["game_id", "gtd_player_id"], sort=False):
        sits = part[part["world"] == "sits"].set_index("player_id")
        plays = part[part["world"] == "plays"].set_index("player_id")
        order = [gtd] + list((sits["minutes_mean"] - plays["minutes_mean"]).drop(index=gtd).sort_values(
            ascending=False).index)
        out[player_key(game_id, gtd)] = {
            "name": str(part["gtd_player_name"].iloc[0]), "status": str(part["gtd_status"].iloc[0]),
            "plays_prob": round(float(plays["world_prob"].iloc[0]), 4),
            "rows": [[str(sits.at[p, "player_name"]), round(float(sits.at[p, "minutes_mean"]), 2),
                      round(float(sits.at[p, "minutes_p50"]), 2), round(float(plays.at[p, "minutes_mean"]), 2),
                      round(float(plays.at[p, "minutes_p50"]), 2)] for p in order],
        }
    return out


def clean(value):
    """JSON-safe scalars: NaN -> None, numpy -> Python, timestamps -> ISO strings."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return None if pd.isna(value) else value.isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _records(frame: pd.DataFrame | None, columns) -> list[dict]:
    if frame is None:
        return []
    cols = [c for c in columns if c in frame.columns]
    return [{k: clean(v) for k, v in r.items()} for r in frame[cols].to_dict("records")]


def banners(features_summary: dict | None) -> list[dict]:
    """One banner per fallback the run used (summary.json `fallbacks`)."""
    fb = (features_summary or {}).get("fallbacks") or {}
    out = []
    if fb.get("roster_fallback"):
        roster = (features_summary or {}).get("roster") or {}
        sources = ", ".join(s for s in roster.get("roster_game_date_source", []) if s != "target_date")
        out.append({"kind": "roster_fallback",
                    "text": f"Roster fallback: some teams use an earlier date's roster ({sources or 'earlier date'}; "
                            f"oldest {roster.get('source_date', '?')})."})
    for kind, key in (("injuries", "games_without_injuries"), ("odds", "games_without_odds")):
        games = fb.get(key) or []
        if games:
            out.append({"kind": f"missing_{kind}",
                        "text": f"Ran without {kind} for {len(games)} game(s) "
                                f"(--allow-missing-{kind} was used): {', '.join(str(g) for g in games)}."})
    return out


def _previous(runs: list[run_catalog.RunInfo], run_id: str) -> str | None:
    older = [r.run_id for r in runs if r.run_id < run_id and "scores" in r.kinds]
    return max(older) if older else None


def build_page(day: date | None = None, run_ref: str = "latest", *, static: bool = False,
               roots: Roots | None = None, data_root: Path | None = None) -> dict:
    roots = roots or run_catalog.default_roots()
    data_root = run_catalog.registry_root(data_root)
    all_dates = run_catalog.dates(roots, data_root)
    datasets = {}
    for name in settings.known_datasets():
        with run_catalog.dataset_scope(name):
            datasets[name] = [d.isoformat() for d in run_catalog.dates()]
    page: dict = {
        "generated_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "static": static,
        "dataset": run_catalog.current_dataset(),
        "datasets": datasets,  # every dataset with runs -> its dates (the date picker groups them)
        "dates": [d.isoformat() for d in all_dates],
        "day": None, "runs": [], "served": None, "run": None, "error": None,
        "drift": drift.summary(data_root),
        "team_band": list(TEAM_BAND),
    }
    if day is None:
        if not all_dates:
            page["error"] = "no runs yet: run `./dev demo` (or a job) first"
            return page
        day = run_catalog.default_day(roots, data_root) or all_dates[-1]
    page["day"] = day.isoformat()
    runs = run_catalog.list_runs(day, roots, data_root)
    pub = Publication(roots, day, data_root)
    pin = pub.pinned()
    served = pub.current()
    served_id = served.get("scores") or served.get("features")
    page["served"] = {"run_id": served_id, "per_root": served,
                      "run_as_of_ts": next((r.run_as_of_ts for r in runs if r.run_id == served_id), None),
                      "pinned": pin}
    page["runs"] = [{**r.as_dict(), "viewable": "features" in r.kinds or "scores" in r.kinds,
                     "pinnable": "features" in r.kinds and "scores" in r.kinds and r.status in ("succeeded", "unrecorded"),
                     "worst_age": {k: freshness.format_age(v) for k, v in r.worst_age_minutes.items()}}
                    for r in runs]
    if not runs:
        page["error"] = f"no runs for {day}"
        return page
    if run_ref == "latest" and not served_id:
        page["error"] = f"nothing is published for {day}: pick a run below"
        return page
    try:
        run_id = run_catalog.resolve(day, run_ref, roots, data_root)
    except (run_catalog.CatalogError, ValueError, RuntimeError) as exc:  # no such run, or a malformed id
        page["error"] = str(exc)
        return page
    try:
        view = run_catalog.load_run(day, run_id, roots, data_root)
    except DamagedStateError as exc:  # a damaged run: the page says which file; the date's other runs stay listed
        page["error"] = str(exc)
        return page
    page["run"] = run_page(day, view, runs, roots, served_id)
    return page


def _tip_order(coverage: pd.DataFrame | None, projections: pd.DataFrame | None) -> dict[int, int]:
    """game_id -> its rank by tip time (then game id), from the coverage file or the projections."""
    for frame in (coverage, projections):
        if frame is not None and {"game_id", "tip_ts"} <= set(frame.columns):
            tips = frame[["game_id", "tip_ts"]].drop_duplicates("game_id").copy()
            tips["tip_ts"] = pd.to_datetime(tips["tip_ts"], utc=True, errors="coerce")
            order = tips.sort_values(["tip_ts", "game_id"], na_position="last")["game_id"]
            return {int(g): i for i, g in enumerate(order)}
    return {}


def run_page(day: date, view: run_catalog.RunView, runs: list[run_catalog.RunInfo], roots: Roots,
             served_id: str | None) -> dict:
    info, fsum, ssum = view.info, view.features_summary or {}, view.scores_summary or {}
    fresh = freshness.freshness(view.coverage, fsum.get("vars"))
    projections = view.projections
    tip_rank = _tip_order(view.coverage, projections)  # every per-game table in tip order, like the slate
    fresh["games"].sort(key=lambda g: tip_rank.get(g["game_id"], len(tip_rank)))
    proj_rows: list[dict] = []
    if projections is not None:
        by = "minutes_mean" if "minutes_mean" in projections.columns else "minutes_p50"
        table = (projections.assign(_tip=projections["game_id"].map(tip_rank).fillna(len(tip_rank)))
                 .sort_values(["_tip", "game_id", "team_tricode", by], ascending=[True, True, True, False]))
        proj_rows = _records(table, PROJECTION_COLUMNS)
        for r in proj_rows:
            r["key"] = player_key(r["game_id"], r["player_id"])
    team_minutes = view.team_minutes
    if team_minutes is None and projections is not None:  # a run without reports (older two-step runs): from its scores
        from scoring.reports import team_minutes_frame

        team_minutes = team_minutes_frame(projections)
    team_rows = _records(team_minutes, ("game_id", "team_id", "team_tricode", "players", "mean_sum",
                                             "raw_mean_sum", "adjustment", "p10_sum", "p50_sum", "p90_sum",
                                             "outside_230_260"))
    team_rows.sort(key=lambda r: tip_rank.get(r["game_id"], len(tip_rank)))
    for r in team_rows:
        r["outside"] = not (TEAM_BAND[0] <= (r.get("p50_sum") or 0.0) <= TEAM_BAND[1])
        r.pop("outside_230_260", None)
    previous = _previous(runs, info.run_id)
    diff = None
    if previous and projections is not None:
        try:
            diff = diff_against(day, previous, info.run_id, roots=roots)
        except Exception as exc:  # a broken previous run must not take the page down
            diff = {"note": f"{type(exc).__name__}: {exc}", "a": previous, "b": info.run_id, "rows": []}
    warnings = list(fsum.get("warnings", [])) + [w for w in ssum.get("warnings", []) if w not in fsum.get("warnings", [])]
    try:  # the slate filter of the projections (minutes_live/runs/slates.py): name -> the run's game ids in it
        run_slates = {s.name: sorted(s.game_ids) for s in slates.slates_of_games(day, view.coverage)}
    except InvalidInput as exc:  # a bad slates config: the page stays up, the filter offers every game only
        run_slates, warnings = {}, warnings + [f"slate filter off: {exc}"]
    return {
        "day": day.isoformat(), "run_id": info.run_id, "run_as_of_ts": info.run_as_of_ts, "status": info.status, "job": info.job,
        "exit_code": info.exit_code, "error": info.error, "kinds": list(info.kinds), "pinned": info.pinned,
        "is_served": info.run_id == served_id, "rows": info.rows, "games": info.games,
        "bundle_id": (ssum.get("bundle") or {}).get("bundle_id"),
        "warnings": warnings,
        "freshness": fresh,
        "banners": banners(fsum),
        "team_minutes": team_rows,
        "projections": proj_rows,
        "slates": run_slates,
        "worlds": worlds_of(view) if projections is not None else {},
        "previous_run_id": previous,
        "diff": diff,
        "has_scores": projections is not None,
        "has_features": view.features_summary is not None,
    }
