"""The dashboard's rules without a browser or a run: the freshness colour rule, the drift alert rule and its
chart, the page's self-containment, and the exposure's URL."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from minutes_live.api.server import DEFAULT_HOST, DEFAULT_PORT
from minutes_live.dashboard import drift, freshness
from minutes_live.dashboard.render import render_page

ROOT = Path(__file__).resolve().parents[4]


@pytest.mark.parametrize(("age", "covered", "want"), [
    (0.0, True, "green"), (360.0, True, "green"), (361.0, True, "amber"), (2160.0, True, "amber"),
    (2161.0, True, "red"), (None, False, "red"), (30.0, False, "red"),
])
def test_colour_rule_injuries(age, covered, want):
    limits = freshness.thresholds()["injuries"]
    assert limits == {"warn_minutes": 360.0, "fail_minutes": 2160.0}  # 6 h warn, 36 h max age (dbt_project.yml)
    assert freshness.colour(age, covered, limits["warn_minutes"], limits["fail_minutes"]) == want


def test_badges_take_the_worst_game_and_the_runs_own_max_age():
    coverage = pd.DataFrame([
        {"game_id": 1, "matchup": "A@B", "tip_ts": "t", "injuries_covered": True, "injuries_as_of_age_minutes": 30,
         "odds_covered": True, "odds_as_of_age_minutes": 400, "roster_covered": True, "roster_as_of_age_minutes": 60},
        {"game_id": 2, "matchup": "C@D", "tip_ts": "t", "injuries_covered": True, "injuries_as_of_age_minutes": 50,
         "odds_covered": False, "odds_as_of_age_minutes": None, "roster_covered": True, "roster_as_of_age_minutes": 70},
    ])
    out = freshness.freshness(coverage)
    assert {k: b["colour"] for k, b in out["badges"].items()} == {"injuries": "green", "odds": "red", "roster": "green"}
    assert out["badges"]["odds"]["games_missing"] == [2] and out["badges"]["odds"]["games_over_warn"] == [1]
    assert out["games"][0]["kinds"]["odds"]["colour"] == "amber"
    # a run built with --odds-max-age-hours 4 (in its summary's vars): 400 min is past the fail threshold
    tight = freshness.freshness(coverage.iloc[:1], {"odds_max_age_hours": 4})
    assert tight["badges"]["odds"]["fail_minutes"] == 240.0 and tight["badges"]["odds"]["colour"] == "red"


def test_a_red_badge_for_missing_games_says_so_not_the_other_games_age():
    """A run with --allow-missing-odds: 1 of 2 games has no odds (red), the other's quote is 150 min old. The badge
    is red (its worst game) and used to read "2.5 h", which reads as "red because 2.5 h old"."""
    from minutes_live.dashboard import render

    coverage = pd.DataFrame([
        {"game_id": 1, "matchup": "A@B", "tip_ts": "t", "injuries_covered": True, "injuries_as_of_age_minutes": 30,
         "odds_covered": True, "odds_as_of_age_minutes": 150, "roster_covered": True, "roster_as_of_age_minutes": 60},
        {"game_id": 2, "matchup": "C@D", "tip_ts": "t", "injuries_covered": True, "injuries_as_of_age_minutes": 50,
         "odds_covered": False, "odds_as_of_age_minutes": None, "roster_covered": True, "roster_as_of_age_minutes": 70},
    ])
    out = freshness.freshness(coverage)
    odds = out["badges"]["odds"]
    assert odds["colour"] == "red"
    assert freshness.badge_text(odds, 2) == "none for 1 of 2 games; others \u2264 2.5 h"
    assert freshness.badge_text(out["badges"]["injuries"], 2) == "50 min"
    html = render._freshness({"run_id": "20220115T230000Z", "freshness": out})
    assert "<b>odds</b> none for 1 of 2 games" in html and "<b>odds</b> 2.5 h" not in html


def _write_drift(data_root: Path, rows: list[dict]) -> None:
    path = drift.drift_path(data_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"date": "torn\n')


def test_drift_alert_rule(tmp_path):
    rows = [{"date": f"2025-01-{d:02d}", "mae_p50": 4.5 + 0.1 * (d % 2), "mae_p50_played": 4.8,
             "coverage_p10_p90": 0.80, "rows": 200} for d in range(1, 9)]
    rows[3] = {**rows[3], "coverage_p10_p90": 0.70}  # coverage outside 0.80 +- 0.05
    rows.append({"date": "2025-01-09", "mae_p50": 6.0, "mae_p50_played": 6.3, "coverage_p10_p90": 0.81, "rows": 200})
    rows.append({**rows[0], "date": "2025-01-02", "mae_p50": 4.4})  # a rerun of a date replaces it
    _write_drift(tmp_path, rows)
    s = drift.summary(tmp_path)
    by_date = {r["date"]: r for r in s["records"]}
    assert len(by_date) == 9 and by_date["2025-01-02"]["mae_p50"] == 4.4
    assert s["alert_dates"] == ["2025-01-04", "2025-01-09"]
    assert "coverage 0.700" in by_date["2025-01-04"]["alerts"][0]
    assert by_date["2025-01-03"]["mae_limit"] is None  # fewer than 5 earlier dates: no MAE rule yet
    assert s["newest_in_alert"] and by_date["2025-01-09"]["alerts"][0].startswith("MAE 6.00 >")
    svg = drift.chart_svg(s["records"])
    assert svg.count('class="dot alert mae-dot"') == 2 and 'data-date="2025-01-09"' in svg


def _page(**run) -> dict:
    return {"generated_at": "now", "static": True, "dates": ["2025-01-01"], "day": "2025-01-01", "error": None,
            "runs": [], "served": {"run_id": None, "per_root": {}, "run_as_of_ts": None, "pinned": None},
            "run": None, "drift": {"path": "drift.jsonl", "rule": drift.RULE, "records": [], "alert_dates": [],
                                   "newest_in_alert": False, "newest": None}, "team_band": [230, 260], **run}


def test_page_is_self_contained_and_escapes():
    page = _page(error="<script>alert(1)</script>")
    out = render_page(page, explanations={"rows": {}, "names": ["</script><b>"]})
    assert "<script>alert(1)" not in out and "&lt;script&gt;alert(1)" in out
    assert "</script><b>" not in out.split('id="ml-data"')[1].split("</script>")[0]
    lowered = out.lower()
    for needle in ("http://", "https://", "<link", "<script src", "@import", "url("):
        assert needle not in lowered, needle


def test_exposure_url_is_the_default_address():
    exposures = yaml.safe_load((ROOT / "models" / "exposures.yml").read_text())["exposures"]
    dash = next(x for x in exposures if x["type"] == "dashboard")
    assert dash["url"] == f"http://{DEFAULT_HOST}:{DEFAULT_PORT}/"
