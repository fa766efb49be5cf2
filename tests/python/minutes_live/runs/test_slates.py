"""Slates (minutes_live/runs/slates.py) and `runs list/show/export --slate`: which games a slate holds by ET tip
window (across DST), custom slates per date and dataset, the errors an operator or the API gets."""

from __future__ import annotations

import io
import json
from datetime import date

import pandas as pd
import pytest
from typer.testing import CliRunner

from foundation.guardrails import InvalidInput
from minutes_live.cli.app import app
from minutes_live.runs import slates

runner = CliRunner()
JAN = date(2022, 1, 15)  # EST (UTC-5)
APR = date(2022, 4, 5)   # EDT (UTC-4)
TIPS = {"2022011501": "13:00", "2022011502": "18:30", "2022011503": "19:00", "2022011504": "21:30",
        "2022011505": "22:00", "2022011506": "22:30"}


@pytest.fixture
def config(tmp_path, monkeypatch):
    path = tmp_path / "slates.json"
    monkeypatch.setenv(slates.CONFIG_ENV, str(path))

    def write(entries) -> None:
        path.write_text(json.dumps({"slates": entries}))

    return write


def test_default_windows_by_eastern_tip_on_both_sides_of_dst(publish_run, config):
    publish_run(JAN, "20220115T150000Z", TIPS)
    assert slates.slate_names(JAN) == ["all", "early", "main", "late"]
    assert slates.slate_game_ids(JAN, "early") == {"2022011501", "2022011502"}
    assert slates.slate_game_ids(JAN, "main") == {"2022011503", "2022011504"}
    assert slates.slate_game_ids(JAN, "late") == {"2022011505", "2022011506"}
    assert slates.slate_game_ids(JAN, "all") == set(TIPS)
    # 19:00 EDT is 23:00 UTC (in January 23:00 UTC is 18:00 EST: early); the window is Eastern wall-clock
    publish_run(APR, "20220405T150000Z", {"2022040501": "19:00", "2022040502": "18:59", "2022040503": "22:00"})
    assert slates.slate_game_ids(APR, "main") == {"2022040501"}
    assert slates.slate_game_ids(APR, "early") == {"2022040502"}
    assert slates.slate_game_ids(APR, "late") == {"2022040503"}
    described = {s.name: s.definition for s in slates.slates(JAN)}
    assert described["early"] == "tips before 19:00 ET" and described["main"] == "tips 19:00-21:59 ET"
    assert described["late"] == "tips at 22:00 ET and later"


def test_games_come_from_the_newest_run_or_a_given_one(publish_run, config):
    publish_run(JAN, "20220115T150000Z", {"2022011503": "19:00"})
    publish_run(JAN, "20220115T200000Z", {"2022011503": "19:00", "2022011505": "22:00"})
    assert slates.slate_game_ids(JAN, "all") == {"2022011503", "2022011505"}
    assert slates.slate_game_ids(JAN, "all", run_id="20220115T150000Z") == {"2022011503"}
    assert slates.slate_game_ids(date(2022, 1, 16), "late") == set()  # no run: no known games


def test_custom_slates_per_date_and_dataset(publish_run, config):
    publish_run(JAN, "20220115T150000Z", TIPS)
    config([
        {"name": "showdown", "date": "2022-01-15", "games": ["2022011505", 2022011506]},
        {"name": "night", "date": "2022-01-15", "from": "21:00", "to": "36:00"},
        {"name": "main", "date": "2022-01-15", "from": "19:30", "to": "22:00", "note": "a DFS site's main"},
        {"name": "replay-only", "date": "2022-01-15", "dataset": "nba", "games": ["1"]},
        {"name": "other-day", "date": "2022-01-16", "games": ["2022011601"]},
    ])
    assert slates.slate_names(JAN) == ["all", "early", "main", "late", "night", "showdown"]
    assert slates.slate_names(JAN, "nba") == ["all", "early", "main", "late", "night", "replay-only", "showdown"]
    assert slates.slate_game_ids(JAN, "showdown") == {"2022011505", "2022011506"}
    assert slates.slate_game_ids(JAN, "night") == {"2022011504", "2022011505", "2022011506"}
    assert slates.slate_game_ids(JAN, "main") == {"2022011504"}  # redefined for the date
    assert slates.slate_names(date(2022, 1, 16)) == ["all", "early", "main", "late", "other-day"]
    assert slates.slate_game_ids(date(2022, 1, 16), "other-day") == {"2022011601"}  # no run yet: the list


def test_unknown_slate_names_the_known_ones(publish_run, config):
    publish_run(JAN, "20220115T150000Z", TIPS)
    config([{"name": "showdown", "date": "2022-01-15", "games": ["2022011505"]}])
    with pytest.raises(slates.SlateError) as err:
        slates.slate_game_ids(JAN, "turbo")
    assert isinstance(err.value, InvalidInput) and err.value.exit_code == 2
    assert "slate 'turbo' is not a slate of 2022-01-15 (slates: all, early, main, late, showdown" in str(err.value)


@pytest.mark.parametrize("entry, message", [
    ({"name": "All", "date": "2022-01-15", "games": ["1"]}, "is not a lower-case slug"),
    ({"name": "all", "date": "2022-01-15", "games": ["1"]}, "cannot be redefined"),
    ({"name": "x", "date": "2022-1-15", "games": ["1"]}, "is not YYYY-MM-DD"),
    ({"name": "x", "date": "2022-01-15"}, "either games"),
    ({"name": "x", "date": "2022-01-15", "games": ["1"], "from": "19:00"}, "either games"),
    ({"name": "x", "date": "2022-01-15", "from": "7pm"}, "is not a time HH:MM"),
    ({"name": "x", "date": "2022-01-15", "from": "22:00", "to": "19:00"}, "is not before"),
    ({"name": "x", "date": "2022-01-15", "games": []}, "non-empty list"),
    ({"name": "x", "date": "2022-01-15", "games": ["1"], "colour": "red"}, "unknown keys ['colour']"),
])
def test_a_bad_config_entry_is_one_line_naming_the_file_and_entry(publish_run, config, entry, message):
    config([entry])
    with pytest.raises(slates.SlateConfigError) as err:
        slates.slate_names(JAN)
    assert message in str(err.value) and "entry 1" in str(err.value) and err.value.exit_code == 2


def test_runs_list_show_export_filter_by_slate(publish_run, config):
    publish_run(JAN, "20220115T150000Z", TIPS)
    listed = runner.invoke(app, ["runs", "list", "--date", "2022-01-15", "--slate", "late"])
    assert listed.exit_code == 0, listed.output
    head, row = listed.stdout.splitlines()[0], listed.stdout.splitlines()[2]
    assert "slate late: 2 games (tips at 22:00 ET and later)" in head
    cells = row.split()
    assert cells[0] == "20220115T150000Z" and cells[6:8] == ["16", "2"]  # 2 games x 2 teams x 4 players
    assert cells[8] == "3h00m"  # worst injuries age over the slate's games (the whole date's is 3h00m too)
    early = json.loads(runner.invoke(app, ["runs", "list", "--date", "2022-01-15", "--slate", "early", "--json"]).stdout)
    assert early["slate"]["games"] == ["2022011501", "2022011502"]
    assert early["runs"][0]["games"] == 2 and early["runs"][0]["worst_age_minutes"]["injuries"] == 60.0

    shown = runner.invoke(app, ["runs", "show", "latest", "--date", "2022-01-15", "--slate", "main"])
    assert shown.exit_code == 0, shown.output
    assert "slate main: 2 games, 16 players (tips 19:00-21:59 ET)" in shown.stdout
    games = shown.stdout.split("games (age of the selected snapshot")[1].split("\n\n")[0].splitlines()[2:]
    assert sorted(line.split()[0] for line in games) == ["2022011503", "2022011504"]

    exported = runner.invoke(app, ["runs", "export", "latest", "--date", "2022-01-15", "--slate", "late",
                                   "--format", "csv"])
    assert exported.exit_code == 0, exported.output
    frame = pd.read_csv(io.StringIO(exported.stdout))
    assert set(frame["game_id"].astype(str)) == {"2022011505", "2022011506"} and len(frame) == 16
    assert set(frame["slate"]) == {"late"}
    doc = json.loads(runner.invoke(app, ["runs", "export", "latest", "--date", "2022-01-15", "--slate", "late",
                                         "--format", "json"]).stdout)
    assert doc["slate"] == "late" and doc["slate_games"] == ["2022011505", "2022011506"] and doc["rows"] == 16


def test_an_unknown_slate_on_the_cli_exits_2_listing_the_slates(publish_run, config):
    publish_run(JAN, "20220115T150000Z", TIPS)
    for command in (["list"], ["show", "latest"], ["export", "latest"]):
        result = runner.invoke(app, ["runs", *command, "--date", "2022-01-15", "--slate", "turbo"])
        assert result.exit_code == 2, result.output
        assert "--slate turbo: slate 'turbo' is not a slate of 2022-01-15 (slates: all, early, main, late" \
            in result.stderr


def test_the_example_config_is_valid(monkeypatch):
    from foundation import settings

    monkeypatch.setenv(slates.CONFIG_ENV, str(settings.PROJECT_ROOT / "config" / "slates.example.json"))
    assert slates.slate_names(JAN, "nba") == ["all", "early", "main", "late", "night", "showdown"]
    assert slates.slate_names(JAN, "live") == ["all", "early", "main", "late", "night"]


def test_the_dashboard_offers_the_slate_filter(publish_run, config):
    from minutes_live.dashboard.model import build_page
    from minutes_live.dashboard.render import render_page

    publish_run(JAN, "20220115T150000Z", TIPS)
    config([{"name": "showdown", "date": "2022-01-15", "games": ["2022011505"]}])
    page = build_page(JAN)
    assert page["run"]["slates"]["late"] == ["2022011505", "2022011506"]
    html = render_page(page)
    assert '<select id="slate-filter"><option value="">all games</option>' in html
    assert '<option value="late" data-games=" 2022011505 2022011506 ">late (2 games)</option>' in html
    assert '<option value="showdown" data-games=" 2022011505 ">showdown (1 games)</option>' in html
    assert html.count('data-game="2022011505" tabindex="0"') == 8  # every player row says its game
    config([{"name": "Bad", "date": "2022-01-15", "games": ["1"]}])  # a bad config never takes the page down
    page = build_page(JAN)
    assert page["run"]["slates"] == {} and any("slate filter off" in w for w in page["run"]["warnings"])
    assert 'id="slate-filter"' not in render_page(page)


@pytest.mark.browser
def test_the_slate_filter_in_headless_chromium(publish_run, config, tmp_path):
    import os

    from minutes_live.dashboard import browser
    from minutes_live.dashboard.model import build_page
    from minutes_live.dashboard.render import render_page

    if browser.find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail(browser.MISSING)
        pytest.skip(browser.MISSING)
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    publish_run(JAN, "20220115T150000Z", TIPS)
    page = tmp_path / "page.html"
    page.write_text(render_page(build_page(JAN)))
    with browser.headless_chromium(tmp_path / "profile") as d:
        d.get(page.as_uri())

        def visible() -> set[str]:
            return {tr.get_attribute("data-game") for tr in d.find_elements(By.CSS_SELECTOR, "#projections tr.player")
                    if tr.is_displayed()}

        assert visible() == set(TIPS)
        Select(d.find_element(By.ID, "slate-filter")).select_by_value("late")
        assert visible() == {"2022011505", "2022011506"}
        assert d.find_element(By.ID, "row-count").text == "16 players"
        Select(d.find_element(By.ID, "team-filter")).select_by_value("AWY4")  # and a team of the late slate
        assert visible() == {"2022011505"}
        Select(d.find_element(By.ID, "slate-filter")).select_by_value("early")
        assert visible() == set()
        Select(d.find_element(By.ID, "slate-filter")).select_by_value("")
        Select(d.find_element(By.ID, "team-filter")).select_by_value("")
        assert visible() == set(TIPS)
