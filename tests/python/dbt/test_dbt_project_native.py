"""The dbt project as a dbt user meets it: named selectors (the ones the jobs run), a docs overview, a pinned
dbt version, every column documented, groups and access, and `dbt source freshness` read relative to
run_as_of_ts on replayed data."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml

from foundation.settings import PROJECT_ROOT
from minutes_live.pipeline.dbt_runner import BUILD_SELECTORS, SELECTORS, DbtError, run_dbt

MINUTES_LIVE_PY = PROJECT_ROOT / "minutes_live"

# What the Python code ran before the selectors existed (run_dbt added --indirect-selection cautious to every
# build): the selectors must select exactly these nodes.
# a selector drops a test when it excludes one of its parents; --exclude on the command line does not, so the
# one test reading staging views is named here (it runs in the full selections)
ON_HISTORY_EXCLUDES = ["tag:history", "tag:staging", "resource_type:seed", "test_type:unit",
                       "assert_asof_matches_brute_force"]
LEGACY_SELECTIONS = {
    "live_slate": ["--select", "+features_minutes_v1_live", "+features_minutes_v1_live_scenarios", "int_history_state",
                   "--exclude", "features_minutes_v1", "test_type:unit"],
    "gold_features": ["--select", "+features_minutes_v1", "int_history_state", "--exclude", "test_type:unit"],
    "overnight_gold": ["--select", "+features_minutes_v1", "int_history_state"],
    "parity": ["--select", "+features_minutes_v1_live", "+features_minutes_v1", "int_history_state",
               "--exclude", "test_type:unit"],
    "live_slate_on_history": ["--select", "+features_minutes_v1_live", "+features_minutes_v1_live_scenarios",
                              "--exclude", "features_minutes_v1",
                              *ON_HISTORY_EXCLUDES, "tag:repeated_on_live_mart",
                              "tag:worlds_repeat_live_mart,resource_type:test",
                              # a test with more parents than the mart (run_context): named (a selector drops
                              # it by tag)
                              "column_rules_features_minutes_v1_live_scenarios"],
    "gold_on_history": ["--select", "+features_minutes_v1", "--exclude", *ON_HISTORY_EXCLUDES],
    "history": ["--select", "+tag:history", "resource_type:seed", "--exclude", "test_type:unit"],
}
# dbt ls --resource-type all counts (models, seeds, sources, tests). Since the history split (issue 12) the
# full selections hold run_context and int_history_state, and staging no longer tests its own dedup key.
# The injury-listing context and the GTD worlds (int_status_listing_context, int_status_overrides,
# int_status_worlds) and status_role / status_state added models and tests to every feature selection; the live
# ones also build features_minutes_v1_live_scenarios with the live mart's column tests. int_features' six
# ephemeral steps (models/intermediate/features) added 6 nodes to every selection holding int_features.
# The marts' column tests became one column_rules test per mart, and int_games', int_game_cutoffs' and
# int_status_overrides' tests one each (macros/tests/column_rules.sql): live_slate_on_history 80 -> 48 nodes
# (52 -> 20 data tests), live_slate 156 -> 93, gold_features 124 -> 92.
NODE_COUNTS = {"live_slate": 93, "gold_features": 92, "overnight_gold": 100, "parity": 95,
               "live_slate_on_history": 48, "gold_on_history": 56, "history": 37}
LAYERS = ("run", "staging", "intermediate", "marts")
HISTORY_MODELS = {"int_box_scores_deduped", "int_player_history", "int_team_games", "int_team_history",
                  "int_team_standings_history", "int_history_state"}


def _dbt(*args: str, manifest=None, target: Path):
    from dbt.cli.main import dbtRunner

    common = ["--profiles-dir", str(PROJECT_ROOT / "profiles"), "--project-dir", str(PROJECT_ROOT),
              "--target-path", str(target), "--quiet"]
    result = dbtRunner(manifest=manifest).invoke([*args, *common])
    assert result.success, f"dbt {' '.join(args)} failed: {result.exception}"
    return result.result


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory):
    """`dbt parse` (in process): the Manifest object and its manifest.json."""
    target = tmp_path_factory.mktemp("dbt_parse")
    import os

    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    manifest = _dbt("parse", target=target)
    return manifest, json.loads((target / "manifest.json").read_text()), target


def _ls(parsed, *selection: str) -> set[str]:
    manifest, _, target = parsed
    rows = _dbt("ls", *selection, "--resource-type", "all", "--output", "json", "--output-keys", "unique_id",
                manifest=manifest, target=target)
    return {json.loads(r)["unique_id"] for r in rows}


# --- selectors -----------------------------------------------------------------------------------------


def test_selectors_file_names_what_the_code_runs() -> None:
    spec = yaml.safe_load((PROJECT_ROOT / "selectors.yml").read_text())
    names = [s["name"] for s in spec["selectors"]]
    assert sorted(names) == sorted(SELECTORS)
    for s in spec["selectors"]:
        assert s.get("description"), f"selector {s['name']} has no description"
    # the Python code builds through the selectors, never with hard-coded --select strings
    for path in MINUTES_LIVE_PY.rglob("*.py"):
        for call in re.findall(r"run_dbt\(\s*\[([^\]]*)\]", path.read_text()):
            assert '"--select"' not in call and '"--exclude"' not in call, f"{path.name}: run_dbt([{call}])"
    # every build goes through minutes_live.pipeline.history.build, which picks the kind's selector
    used = "".join(p.read_text() for p in MINUTES_LIVE_PY.rglob("*.py"))
    assert '"--selector", history.selector(kind)' in used
    for kind in BUILD_SELECTORS:
        assert f'history.build("{kind}"' in used, f"no build of kind {kind}"


@pytest.mark.parametrize("selector", sorted(LEGACY_SELECTIONS))
def test_selector_selects_the_same_nodes_as_the_old_select_strings(parsed, selector: str) -> None:
    new = _ls(parsed, "--selector", selector)
    old = _ls(parsed, *LEGACY_SELECTIONS[selector], "--indirect-selection", "cautious")
    assert new == old, f"only in selector: {sorted(new - old)[:5]}, only in old: {sorted(old - new)[:5]}"
    assert len(new) == NODE_COUNTS[selector]
    # live never builds the gold mart; parity holds the tests comparing the two marts (cautious selection)
    if selector.startswith("live_slate"):
        assert "model.minutes_live.features_minutes_v1" not in new
    if selector.endswith("_on_history"):  # builds on the stored history, never rebuilds it
        assert not any(uid.startswith("model.minutes_live.int_") and uid.split(".")[-1] in HISTORY_MODELS for uid in new)
        assert "model.minutes_live.run_context" in new
    if selector != "overnight_gold":
        assert not any(uid.startswith("unit_test.") for uid in new)
    else:
        assert any(uid.startswith("unit_test.") for uid in new)


# --- intermediate layout -----------------------------------------------------------------------------------

INTERMEDIATE = PROJECT_ROOT / "models" / "intermediate"
FOLDERS = ("history", "asof", "features")


def _intermediate_models(manifest: dict) -> dict[str, dict]:
    return {n["name"]: n for n in manifest["nodes"].values()
            if n["resource_type"] == "model" and n["fqn"][1] == "intermediate"}


def _ancestors(manifest: dict, uid: str) -> set[str]:
    seen: set[str] = set()
    todo = [uid]
    while todo:
        for parent in manifest["nodes"].get(todo.pop(), {}).get("depends_on", {}).get("nodes", []):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen


def test_intermediate_folders_are_the_history_tag_and_the_selectors_roles(parsed) -> None:
    """models/intermediate holds no model of its own, only history/ (exactly the models tagged history, the
    tables minutes_live/pipeline/history.py checks), asof/ (everything else the run's parameters reach, none
    of it read by history) and features/ (int_features and the ephemeral steps only it reads); each folder's
    _<folder>__models.yml documents exactly the folder's models and unit-tests only them."""
    from minutes_live.pipeline.history import HISTORY_TABLES

    _, manifest, _ = parsed
    assert not list(INTERMEDIATE.glob("*.sql")) and not list(INTERMEDIATE.glob("*.yml"))
    models = _intermediate_models(manifest)
    folder = {name: node["fqn"][2] for name, node in models.items()}
    assert all(len(node["fqn"]) == 4 for node in models.values()) and set(folder.values()) == set(FOLDERS)
    in_folder = {f: {name for name, g in folder.items() if g == f} for f in FOLDERS}
    for f in FOLDERS:  # the files on disk are the models dbt parsed, and the folder's yml is theirs
        assert {p.stem for p in (INTERMEDIATE / f).glob("*.sql")} == in_folder[f]
        spec = yaml.safe_load((INTERMEDIATE / f / f"_{f}__models.yml").read_text())
        assert sorted(m["name"] for m in spec["models"]) == sorted(in_folder[f]), f
        assert {u["model"] for u in spec.get("unit_tests", [])} <= in_folder[f], f
        for name in in_folder[f]:
            assert models[name]["patch_path"] == f"minutes_live://models/intermediate/{f}/_{f}__models.yml", name

    # history/ = tag history, anywhere in the project
    tagged = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model" and "history" in n["tags"]}
    assert tagged == in_folder["history"] == HISTORY_MODELS == {*HISTORY_TABLES, "int_history_state"}
    by_uid = {node["unique_id"]: name for name, node in models.items()}
    for name in in_folder["history"]:  # history never reads what a run's cutoffs select
        assert not {by_uid.get(a) for a in _ancestors(manifest, models[name]["unique_id"])} & (
            in_folder["asof"] | in_folder["features"]), name
    # asof/: every model depends on the run (its parameters or its cutoffs)
    for name in in_folder["asof"]:
        assert "model.minutes_live.run_context" in _ancestors(manifest, models[name]["unique_id"]), name
    # features/: int_features and its steps, ephemeral, each read by the next step only
    steps = in_folder["features"] - {"int_features"}
    assert "int_features" in in_folder["features"] and len(steps) == 6
    children = {name: {by_uid.get(c) for c in manifest["child_map"][models[name]["unique_id"]]} for name in steps}
    for name in steps:
        assert models[name]["config"]["materialized"] == "ephemeral", name
        assert len(children[name]) == 1 and children[name] <= in_folder["features"], (name, children[name])
    assert {by_uid.get(a) for a in _ancestors(manifest, models["int_features"]["unique_id"])} >= steps
    for mart in ("features_minutes_v1", "features_minutes_v1_live", "features_minutes_v1_live_scenarios"):
        parents = manifest["nodes"][f"model.minutes_live.{mart}"]["depends_on"]["nodes"]
        assert [p for p in parents if p in by_uid] == ["model.minutes_live.int_features"], mart


def test_selectors_split_along_the_intermediate_folders(parsed) -> None:
    """history builds the history folder (and nothing else of intermediate/); the *_on_history selections
    build the asof and features models of their mart's lineage and nothing of the history folder; the full
    selections build both."""
    _, manifest, _ = parsed
    models = _intermediate_models(manifest)
    uid_folder = {node["unique_id"]: node["fqn"][2] for node in models.values()}

    def folders(selector: str) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {f: set() for f in FOLDERS}
        for uid in _ls(parsed, "--selector", selector):
            if uid in uid_folder:
                out[uid_folder[uid]].add(uid)
        return out

    def lineage(*marts: str) -> set[str]:
        uids = {f"model.minutes_live.{m}" for m in marts}
        for m in marts:
            uids |= _ancestors(manifest, f"model.minutes_live.{m}")
        return {u for u in uids if u in uid_folder}

    everything = {f: {u for u, g in uid_folder.items() if g == f} for f in FOLDERS}
    assert folders("history") == {"history": everything["history"], "asof": set(), "features": set()}
    live = lineage("features_minutes_v1_live", "features_minutes_v1_live_scenarios")
    gold = lineage("features_minutes_v1")
    for selector, upstream in (("live_slate_on_history", live), ("gold_on_history", gold)):
        got = folders(selector)
        assert got["history"] == set(), selector
        assert got["asof"] | got["features"] == upstream - everything["history"], selector
    for selector, upstream in (("live_slate", live), ("gold_features", gold), ("parity", live | gold)):
        got = folders(selector)
        assert got["history"] == everything["history"], selector  # int_history_state is selected by name
        assert got["asof"] | got["features"] == upstream - everything["history"], selector


# the live mart column an intermediate column reaches unchanged (models/intermediate/features/int_features.sql)
LIVE_MART_COLUMN = {("int_roster_asof", "snapshot_ts"): "roster_as_of_ts",
                    ("int_injury_status_asof", "snapshot_ts"): "injury_as_of_ts",
                    ("int_odds_asof", "snapshot_ts"): "odds_as_of_ts"}


def test_tests_left_out_of_the_live_run_are_checked_on_the_live_mart(parsed) -> None:
    """live_slate_on_history leaves out the intermediate tests tagged repeated_on_live_mart: each must be the
    same test (macro and arguments) on the live mart column it feeds, in that selection - a rule of the live
    mart's column_rules test; the full live_slate runs both."""
    _, manifest, _ = parsed
    tests = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "test"}
    tagged = {uid for uid, n in tests.items() if "repeated_on_live_mart" in n.get("tags", [])}
    assert len(tagged) == 8, sorted(tagged)
    live = _ls(parsed, "--selector", "live_slate_on_history")
    full = _ls(parsed, "--selector", "live_slate")
    assert not tagged & live and tagged <= full

    def args(node: dict) -> dict:
        kwargs = dict(node["test_metadata"].get("kwargs") or {})
        kwargs.pop("model", None)
        kwargs.pop("column_name", None)
        return kwargs

    def rules(node: dict, column: str) -> list[tuple[str, dict]]:
        """(test name, arguments) of every check of `column` by a test node: the test itself on that column,
        or a rule of a column_rules test (macros/tests/column_rules.sql) on it."""
        if node["test_metadata"]["name"] == "column_rules":
            return [(r, {}) if isinstance(r, str) else next(iter(r.items()))
                    for r in (node["test_metadata"]["kwargs"].get("columns") or {}).get(column, [])]
        return [(node["test_metadata"]["name"], args(node))] if node.get("column_name") == column else []

    for uid in sorted(tagged):
        node = tests[uid]
        model = node["attached_node"].rsplit(".", 1)[-1]
        column = LIVE_MART_COLUMN.get((model, node["column_name"]), node["column_name"])
        twins = [u for u in live if u in tests and tests[u].get("attached_node") == "model.minutes_live.features_minutes_v1_live"
                 and (node["test_metadata"]["name"], args(node)) in rules(tests[u], column)]
        assert twins, f"{uid}: no {node['test_metadata']['name']} test on features_minutes_v1_live.{column} in the live run"


# --- project metadata -----------------------------------------------------------------------------------


def test_overview_version_groups_and_access(parsed) -> None:
    _, manifest, _ = parsed
    overview = manifest["docs"].get("doc.minutes_live.__overview__")
    assert overview and "one code path and two cutoffs" in overview["block_contents"]
    project = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text())
    assert project["require-dbt-version"] == [">=1.11.0", "<1.12.0"]
    assert set(manifest["groups"]) == {"group.minutes_live.raw_snapshots", "group.minutes_live.minutes_features"}
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    expected = {"staging": ("protected", "raw_snapshots"), "intermediate": ("protected", "minutes_features"),
                "marts": ("public", "minutes_features"), "run": ("protected", "minutes_features")}
    for node in models:
        layer = node["fqn"][1]
        assert (node["access"], node["group"]) == expected[layer], node["name"]
    assert sum(n["access"] == "public" for n in models) == 3  # the two feature marts + the live GTD worlds


def test_scenario_mart_contract_is_the_live_contract_plus_the_scenario_columns() -> None:
    """features_minutes_v1_live_scenarios writes its column list out (YAML cannot extend the shared anchor):
    it must stay the live mart's, entry for entry (names, types, docs, tests), then the scenario columns."""
    spec = yaml.safe_load((PROJECT_ROOT / "models" / "marts" / "_marts__models.yml").read_text())
    models = {m["name"]: m for m in spec["models"]}
    live, worlds = models["features_minutes_v1_live"], models["features_minutes_v1_live_scenarios"]
    assert worlds["config"]["contract"] == {"enforced": True}
    assert worlds["columns"][: len(live["columns"])] == live["columns"]
    assert [(c["name"], c["data_type"]) for c in worlds["columns"][len(live["columns"]):]] == [
        ("scenario_id", "bigint"), ("scenario_gtd_player_ids", "varchar"), ("scenario_out_player_ids", "varchar")]


def test_every_doc_reference_resolves(parsed) -> None:
    """A column description that is a doc() call renders to the block's text (not left as Jinja)."""
    _, manifest, _ = parsed
    for node in [*manifest["nodes"].values(), *manifest["sources"].values()]:
        for col in node.get("columns", {}).values():
            assert "{{" not in col["description"], f"{node['unique_id']}.{col['name']} description not rendered"


def _wrapped_code_spans(text: str) -> list[str]:
    """Inline code spans (`...`) that run across a line break, outside fenced blocks: dbt docs renders such a
    span broken (and a `<kind>` in it as an HTML tag)."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return [m.group(0) for para in re.split(r"\n\s*\n", text)
            for m in re.finditer(r"(`+)(.+?)\1", para, flags=re.S) if "\n" in m.group(2)]


def test_no_inline_code_span_wraps_a_line(parsed) -> None:
    """Every doc block (models/**/*.md) and every description dbt renders keeps its code spans on one line."""
    _, manifest, _ = parsed
    texts = {uid: d["block_contents"] for uid, d in manifest["docs"].items()}
    for kind in ("nodes", "sources", "macros", "exposures", "unit_tests", "groups"):
        for uid, node in manifest.get(kind, {}).items():
            texts[uid] = node.get("description") or ""
            for name, col in (node.get("columns") or {}).items():
                texts[f"{uid}.{name}"] = col.get("description") or ""
    assert "doc.minutes_live.__overview__" in texts
    wrapped = {uid: spans for uid, text in texts.items() if (spans := _wrapped_code_spans(text))}
    assert wrapped == {}
    assert _wrapped_code_spans("a `x <=\n<kind>_y` b") == ["`x <=\n<kind>_y`"]  # the check sees one


# --- every column documented ------------------------------------------------------------------------------


@pytest.mark.slow
def test_no_undocumented_columns(tmp_path: Path, parsed) -> None:
    """Declared columns (manifest.json of `dbt parse`) against the real columns of every model (catalog of a
    `dbt build --empty` on an empty store): 0 undocumented columns in staging, intermediate and marts, and
    no documented column that the model does not have."""
    from snapshots_ingest import raw_store

    store = tmp_path / "empty.duckdb"
    raw_store.connect(store).close()  # the raw tables, no rows
    target = tmp_path / "target"
    run_dbt(["build", "--empty", "--target-path", str(target)], db_path=store, quiet=True)
    run_dbt(["docs", "generate", "--target-path", str(target)], db_path=store, quiet=True)
    _, manifest, _ = parsed
    catalog = json.loads((target / "catalog.json").read_text())
    undocumented: dict[str, list[str]] = {layer: [] for layer in LAYERS}
    stale: list[str] = []
    totals = dict.fromkeys(LAYERS, 0)
    for uid, entry in catalog["nodes"].items():
        if not uid.startswith("model."):
            continue
        node = manifest["nodes"][uid]
        layer = node["fqn"][1]
        actual = {c.lower() for c in entry["columns"]}
        declared = {name.lower(): col for name, col in node["columns"].items()}
        totals[layer] += len(actual)
        undocumented[layer] += [f"{node['name']}.{c}" for c in sorted(actual)
                                if not (declared.get(c, {}).get("description") or "").strip()]
        stale += [f"{node['name']}.{c}" for c in sorted(set(declared) - actual)]
    assert totals == {"run": 15, "staging": 93, "intermediate": 353, "marts": 297}, totals
    assert undocumented == {layer: [] for layer in LAYERS}
    assert stale == []


# --- source freshness on replayed data --------------------------------------------------------------------

AS_OF = datetime(2022, 1, 15, 23, 0, tzinfo=UTC)


def _rows(kind: str, snapshot_ts: datetime, n: int = 1) -> pd.DataFrame:
    base = {
        "injuries": {"game_date": AS_OF.date(), "game_id": 1, "game_time_et": "07:30 PM", "matchup": "AAA@BBB",
                     "team_id": 1, "team_tricode": "AAA", "player_id": 10, "source_player_id": "p10",
                     "player_name": "Player, A", "status_raw": "Out", "reason": "rest"},
        "odds": {"game_id": 1, "home_team_id": 2, "away_team_id": 1, "book": "test", "spread_home": -3.5, "total": 220.0},
        "roster": {"game_date": AS_OF.date(), "game_id": 1, "team_id": 1, "team_tricode": "AAA", "player_id": 10,
                   "source_player_id": "p10", "player_name": "A Player", "active_flag": True, "lineup_role": None,
                   "listed_pos": None},
    }[kind]
    return pd.DataFrame([{**base, "snapshot_ts": snapshot_ts, "source": "test"}] * n)


@pytest.mark.slow
def test_source_freshness_is_read_relative_to_run_as_of_ts(tmp_path: Path) -> None:
    """Injuries 7 h old at run_as_of_ts (warn after 6 h), odds 30 h old (error after 24 h), roster 1 h old
    (pass); rows stored after run_as_of_ts are ignored. The same store read against now is all stale."""
    from snapshots_ingest import raw_store

    store = tmp_path / "replayed.duckdb"
    con = raw_store.connect(store)
    try:
        for kind, ts in (("injuries", AS_OF - timedelta(hours=7)), ("odds", AS_OF - timedelta(hours=30)),
                         ("roster", AS_OF - timedelta(hours=1)), ("injuries", AS_OF + timedelta(hours=2)),
                         ("odds", AS_OF + timedelta(hours=1))):
            raw_store.append(con, kind, _rows(kind, ts), run_id="t", extract_path=None)
    finally:
        con.close()

    def freshness(vars_: dict | None) -> dict[str, dict]:
        target = tmp_path / f"target_{len(list(tmp_path.iterdir()))}"
        with pytest.raises(DbtError):  # an errored source makes `dbt source freshness` exit 1
            run_dbt(["source", "freshness", "--target-path", str(target)], vars=vars_, db_path=store, quiet=True)
        results = json.loads((target / "sources.json").read_text())["results"]
        return {r["unique_id"].rsplit(".", 1)[-1]: r for r in results}

    as_of = freshness({"run_as_of_ts": AS_OF.isoformat()})
    assert {k: r["status"] for k, r in as_of.items()} == {
        "injuries": "warn", "odds": "error", "roster": "pass", "box_scores": "warn"}  # none at all: warn only
    assert round(as_of["injuries"]["max_loaded_at_time_ago_in_s"] / 3600, 3) == 7.0
    assert round(as_of["odds"]["max_loaded_at_time_ago_in_s"] / 3600, 3) == 30.0
    assert pd.Timestamp(as_of["injuries"]["snapshotted_at"]) == pd.Timestamp(AS_OF)
    assert pd.Timestamp(as_of["injuries"]["max_loaded_at"]) == pd.Timestamp(AS_OF - timedelta(hours=7))

    now = freshness(None)
    assert {k: r["status"] for k, r in now.items()} == {
        "injuries": "error", "odds": "error", "roster": "error", "box_scores": "warn"}
    assert pd.Timestamp(now["injuries"]["max_loaded_at"]) == pd.Timestamp(AS_OF + timedelta(hours=2))
