"""`minutes-live experiment what-if | history-window` on the synthetic league: reports, one row per lead /
window, finite numbers, the live-path check; and the CLI's refusals of bad values (exit 2, one line)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from minutes_live.cli.app import app

SEASON = "2024-25"  # the synthetic league's second season; the bundle trains on 2023-24


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):
    """Both experiments run once through the CLI on a two-season synthetic league, in their own roots."""
    from snapshots_ingest.synthetic_league import generate_league

    root = tmp_path_factory.mktemp("lab")
    env = {"MINUTES_LIVE_DATA_ROOT": str(root / "data"), "MINUTES_LIVE_ARTIFACTS": str(root / "artifacts"),
           "MINUTES_LIVE_REPORTS": str(root / "reports"), "MINUTES_LIVE_LOG_LEVEL": "WARNING",
           "MINUTES_LIVE_LGB_THREADS": "1"}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        league = root / "league"
        generate_league(league, seed=5, seasons=2)
        common = ["--season", SEASON, "--dataset-dir", str(league), "--out-root", str(root / "experiments"),
                  "--bundle-root", str(root / "bundles"), "--rounds", "15"]
        runner = CliRunner()
        what_if = runner.invoke(app, ["experiment", "what-if", *common, "--leads", "120,30", "--train-lead", "30",
                                      "--live-dates", "1"])
        window = runner.invoke(app, ["experiment", "history-window", *common, "--days", "30,full", "--lead", "30"])
        yield {"root": root, "what_if": what_if, "window": window}



@pytest.mark.slow
def test_what_if_writes_a_report_with_a_row_per_lead(lab) -> None:
    res = lab["what_if"]
    assert res.exit_code == 0, res.output
    out = lab["root"] / "experiments" / f"what_if_{SEASON}"
    for name in ("report.md", "metrics.json", "accuracy_and_coverage_by_lead.png", "p50_deltas_by_lead.png",
                 "calibration_by_lead.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    m = json.loads((out / "metrics.json").read_text())
    assert set(m["by_lead"]) == {"120", "30"} and m["train_lead"] == 30
    for lead, r in m["by_lead"].items():
        assert r["rows"] > 1000, lead
        assert all(_finite(r[k]) for k in ("mae", "mae_played", "coverage_p10_p90", "team_share_in_band")), lead
        assert 0 <= r["coverage_p10_p90"] <= 1
    report = (out / "report.md").read_text()
    assert report.count("| tip-120 | ") >= 2 and report.count("| tip-30 | ") >= 2  # metrics + calibration tables
    pair = m["pairs"]["120->30"]
    assert _finite(pair["stats"]["median_abs"]) and _finite(pair["stats"]["p90_abs"])
    drivers = {d["driver"]: d for d in pair["drivers"]}
    assert sum(d["rows"] for d in drivers.values()) == pair["stats"]["rows"]
    # a row whose inputs and whose teammates' inputs are unchanged cannot move
    assert drivers["nothing changed"]["mean_abs_delta"] in (None, 0.0)
    assert "### By pre-game role" in report and "## Live-path check" in report
    assert f"tip-120 MAE {m['by_lead']['120']['mae']:.3f}" in " ".join(res.output.split())
    assert "wall time" in res.output


@pytest.mark.slow
def test_what_if_live_path_matches_gold_on_first_tip_games(lab) -> None:
    m = json.loads((lab["root"] / "experiments" / f"what_if_{SEASON}" / "metrics.json").read_text())
    c = m["live_check"]
    assert len(c["runs"]) == 2 and {r["lead"] for r in c["runs"]} == {120, 30}
    assert c["first_tip_rows"] > 0 and c["unmatched_rows"] == 0
    assert c["max_abs_diff_first_tip"] == 0.0
    assert c["feature_columns_differing_first_tip"] == {}


@pytest.mark.slow
def test_history_window_writes_a_report_with_a_row_per_window(lab) -> None:
    res = lab["window"]
    assert res.exit_code == 0, res.output
    out = lab["root"] / "experiments" / f"history_window_{SEASON}"
    for name in ("report.md", "metrics.json", "history_window.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    m = json.loads((out / "metrics.json").read_text())
    assert [w["label"] for w in m["windows"]] == ["30", "full"]
    assert m["failed_windows"] == [] and m["reference"]["label"] == "full"
    assert m["dataset_span_days"] < m["full_history_days"] == 3650
    for w in m["windows"]:
        for k in ("live_build_seconds", "gold_build_seconds", "mae", "mae_played", "coverage_p10_p90"):
            assert _finite(w[k]) and w[k] >= 0, (w["label"], k)
        assert 0 <= w["drift"]["share_rows_any_change"] <= 1
    full = m["windows"][1]
    assert full["drift"]["share_rows_any_change"] == 0.0 and full["drift"]["columns"] == {}
    # 30 days cuts last season's games from the first weeks' windows: rolling inputs drift
    assert m["windows"][0]["drift"]["columns"]["roll_mean_10"]["share_changed"] > 0
    assert m["recommendation"]["label"] in ("30", "full")
    report = (out / "report.md").read_text()
    assert "| 30 | " in report and "| full | " in report and "Recommendation" in report
    assert "recommendation:" in res.output and "wall time" in res.output


@pytest.mark.parametrize(("args", "message"), [
    (["what-if", "--season", "2021-22", "--leads", "30,abc"], "--leads '30,abc': 'abc' is not a whole number"),
    (["what-if", "--season", "2021-22", "--leads=-30"], "'-30' is not a whole number in 0..1440"),
    (["what-if", "--season", "2021-22", "--leads", "30,60,30"], "'30' is given twice"),
    (["what-if", "--season", "2021-22", "--leads", "30,2000"], "2000 is out of range: expected 0..1440"),
    (["what-if", "--season", "2021-22", "--leads", ","], "'' is not a whole number"),
    (["what-if", "--season", "2021-22", "--live-leads", "120,x"], "--live-leads '120,x'"),
    (["what-if", "--season", "2021-22", "--live-dates", "400"], "--live-dates must be >= 0 and <= 366"),
    (["what-if", "--season", "2021-22", "--train-lead=-5"], "--train-lead must be >= 0 and <= 1440"),
    (["what-if", "--season", "2021", "--leads", "30"], "--season '2021' is not a season"),
    (["history-window", "--season", "2021-22", "--days", "30,forever"], "'forever' is not a whole number in 0..3650 or full"),
    (["history-window", "--season", "2021-22", "--days", "full,3650"], "'3650' is given twice"),
    (["history-window", "--season", "2021-22", "--days", "30,9999"], "9999 is out of range: expected 0..3650"),
    (["history-window", "--season", "2021-22", "--slate-date", "2022-13-01"], "--slate-date '2022-13-01'"),
    (["history-window", "--season", "2021-22", "--rounds", "0"], "--rounds must be >= 1 and <= 5000"),
])
def test_bad_values_exit_2_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["experiment", *args, "--dataset-dir", str(tmp_path)])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and message in lines[0], res.output
    assert lines[0].startswith(f"experiment {args[0]}: error: ")
