"""The dashboard served on the synthetic league and driven in headless Chromium (Debian's chromium and
chromium-driver through Selenium): two jobs of one date, then select the date and a run, check the freshness
badges against the run's own summary.json and coverage.csv, open a player's explanation, pin and unpin (and
see `latest` move on disk), and screenshot the page. Without Chromium the browser tests skip with a reason,
except under CI (env CI set), where they fail."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from foundation import run_directory as rd
from foundation.publication import KINDS, Roots, run_as_of_from_id
from minutes_live.dashboard import browser
from minutes_live.pipeline.live_build import LiveBuildConfig

pytestmark = pytest.mark.slow

COLOURS = {"green": "rgba(26, 127, 55, 1)", "amber": "rgba(183, 121, 31, 1)", "red": "rgba(207, 34, 46, 1)"}


@pytest.fixture(scope="module")
def chromium():
    """Listed first by the browser tests, so a machine without Chromium skips before building the world."""
    require_chromium()


def require_chromium() -> None:
    problem = None
    if browser.find_chromium() is None:
        problem = browser.MISSING
    else:
        try:
            import selenium  # noqa: F401
        except ImportError:
            problem = "selenium is not installed (pip install -r requirements.lock)"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"{problem}; the browser tests must run in CI (.ci/run installs Chromium)")
        pytest.skip(problem)


@pytest.fixture(scope="module")
def two_runs(world):
    """Two afternoon jobs of the world's date (3 h before and at the fixture's instant) and a drift log."""
    from minutes_live.pipeline.job import run_job

    with pytest.MonkeyPatch.context() as mp:
        for k, v in world["env"].items():
            mp.setenv(k, v)
        ids = []
        for as_of in (world["as_of"] - timedelta(hours=3), world["as_of"]):
            cfg = LiveBuildConfig(day=world["day"], run_as_of_ts=as_of, source="none", allow_missing_odds=True)
            rid = rd.run_id_for(as_of)
            if not rd.RunDirectory(Roots.default().scores, world["day"], rid).exists():
                run_job(cfg, job="afternoon", bundle_config=world["config"])
            ids.append(rid)
        data_root = Path(world["env"]["MINUTES_LIVE_DATA_ROOT"])
        records = [{"date": f"2024-12-{d:02d}", "rows": 200, "mae_p50": 4.4 + 0.05 * (d % 3), "mae_p50_played": 4.7,
                    "coverage_p10_p90": 0.80} for d in range(10, 31)]
        records.append({"date": "2024-12-31", "rows": 210, "mae_p50": 5.9, "mae_p50_played": 6.2,
                        "coverage_p10_p90": 0.71})
        path = data_root / "registry" / "drift.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        yield {**world, "runs": ids}


@pytest.fixture()
def served(two_runs, monkeypatch):
    from minutes_live.api.server import make_server, url_of

    for k, v in two_runs["env"].items():
        monkeypatch.setenv(k, v)
    server = make_server("127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {**two_runs, "url": url_of(server), "token": server.token}
    finally:
        server.shutdown()
        server.server_close()


def _latest_on_disk(day) -> dict:
    roots = Roots.default()
    return {k: json.loads((roots.root(k) / day.isoformat() / "latest").read_text())["run_id"] for k in KINDS}


def _expected_colours(day, run_id) -> dict[str, str]:
    """The colour rule of docs/operations.md, read straight from the run's coverage.csv and summary.json."""
    from minutes_live.pipeline.live_build import WARN_AGE_MINUTES

    run = Roots.default().features / day.isoformat() / f"run={run_id}"
    summary = json.loads((run / "summary.json").read_text())
    coverage = pd.read_csv(run / "coverage.csv")
    defaults = {"injuries": 36, "odds": 24, "roster": 18}  # dbt_project.yml max ages (hours)
    out = {}
    for kind in ("injuries", "odds", "roster"):
        fail = 60 * float(summary["vars"].get(f"{kind}_max_age_hours", defaults[kind]))
        ages = coverage[f"{kind}_as_of_age_minutes"]
        if (~coverage[f"{kind}_covered"].astype(bool)).any() or (ages > fail).any():
            out[kind] = "red"
        elif (ages > WARN_AGE_MINUTES[kind]).any():
            out[kind] = "amber"
        else:
            out[kind] = "green"
        # the summary says the same: a game without the kind is a fallback, an old snapshot a warning
        missing = summary["fallbacks"].get(f"games_without_{kind}", [])
        warned = [w for w in summary["warnings"] if w.startswith(f"{kind} snapshot for game")]
        assert (out[kind] == "red") == bool(missing) or kind == "roster", (kind, out[kind], missing)
        if out[kind] == "amber":
            assert warned, (kind, summary["warnings"])
    return out


_colours_seen: set[str] = set()


def _check_badges(d, day, run_id) -> set[str]:
    """Each badge's data-colour and rendered background against the run's files; a run that went without a
    kind for some game has its fallback banner too."""
    from selenium.webdriver.common.by import By

    want = _expected_colours(day, run_id)
    for kind, colour in want.items():
        badge = d.find_element(By.CSS_SELECTOR, f'.badge[data-kind="{kind}"]')
        assert badge.get_attribute("data-colour") == colour, (run_id, kind, colour)
        assert badge.value_of_css_property("background-color") == COLOURS[colour], (run_id, kind)
        assert "@" in badge.get_attribute("title")  # per-game ages on hover
        cells = d.find_elements(By.CSS_SELECTOR, f'#freshness-games td[data-kind="{kind}"]')
        assert cells and {c.get_attribute("data-colour") for c in cells} <= {"green", "amber", "red"}
        if colour == "red" and kind != "roster":
            assert d.find_elements(By.CSS_SELECTOR, f'.banner.fallback[data-fallback="missing_{kind}"]'), kind
    _colours_seen.update(want.values())
    return set(want.values())


def _wait(driver, condition, timeout=20.0, what="condition"):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # the page reloads after a pin: an element found just before the reload goes stale
    wait = WebDriverWait(driver, timeout, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))
    return wait.until(lambda d: condition(d), message=f"timed out waiting for {what}")


@pytest.mark.browser
def test_dashboard_in_headless_chromium(chromium, served, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    day, (older, newer) = served["day"], served["runs"]
    assert _latest_on_disk(day) == dict.fromkeys(KINDS, newer)
    timings: dict[str, float] = {}
    with browser.headless_chromium(tmp_path / "profile") as d:
        t0 = time.perf_counter()
        d.get(served["url"])
        timings["first load ms"] = browser.load_time_ms(d)

        # select the date, then the older run in the run picker
        picker = Select(d.find_element(By.ID, "date-picker"))
        assert day.isoformat() in [o.text for o in picker.options]
        picker.select_by_visible_text(day.isoformat())
        _wait(d, lambda d: d.find_element(By.ID, "view-run").text == newer, what="the served run")
        assert d.find_element(By.ID, "served-run").text == newer
        d.find_element(By.CSS_SELECTOR, f'#run-picker tr[data-run="{older}"] a.run-link').click()
        _wait(d, lambda d: d.find_element(By.ID, "view-run").text == older, what="the older run")
        assert "not the served run" in d.find_element(By.ID, "served").text
        shown_as_of = datetime.fromisoformat(d.find_element(By.ID, "view-as-of").text)
        assert shown_as_of == datetime.fromisoformat(run_as_of_from_id(older))

        # freshness badges: colour attribute and rendered colour match the run's own files
        _check_badges(d, day, older)

        # filter by a team, sort by p50, open the top player's explanation
        Select(d.find_element(By.ID, "team-filter")).select_by_index(1)
        team = Select(d.find_element(By.ID, "team-filter")).first_selected_option.text
        visible = [r for r in d.find_elements(By.CSS_SELECTOR, "#projections tr.player") if r.is_displayed()]
        assert visible and all(r.get_attribute("data-team") == team for r in visible)
        p50_head = d.find_element(By.XPATH, "//table[@id='projections']//th[text()='p50']")
        p50_head.click()
        rows = [r for r in d.find_elements(By.CSS_SELECTOR, "#projections tr.player") if r.is_displayed()]
        values = [float(r.find_element(By.CSS_SELECTOR, "td.p50").get_attribute("data-v")) for r in rows]
        assert values == sorted(values, reverse=True)
        rows[0].click()
        explain = _wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "tr.explain .contrib"), what="the explanation")
        assert len(explain) == 9  # the top 8 features and the rest
        assert "conditional median" in d.find_element(By.CSS_SELECTOR, "tr.explain").text
        key = rows[0].get_attribute("data-key")
        x = json.loads(urllib.request.urlopen(f"{served['url']}api/explain?date={day}&run={older}&key={key}").read())
        total = x["base"] + sum(c["contribution"] for c in x["top"]) + x["other"]
        assert abs(total - x["conditional_p50"]) < 0.01

        # a game-time decision opens with his teammates' two worlds: if he sits / if he plays
        Select(d.find_element(By.ID, "team-filter")).select_by_index(0)
        gtd_rows = [r for r in d.find_elements(By.CSS_SELECTOR, "#projections tr.player")
                    if r.find_elements(By.CSS_SELECTOR, "span.tag.gtd")]
        assert gtd_rows, "the synthetic slate lists questionable / doubtful players"
        gtd_rows[0].click()
        worlds = _wait(d, lambda d: d.find_elements(By.CSS_SELECTOR, "tr.explain .worlds-table tr"), what="the worlds")
        assert len(worlds) >= 3  # header, the player himself, his teammates
        assert "if he sits" in worlds[0].text and "if he plays" in worlds[0].text
        assert "plays with probability" in d.find_element(By.CSS_SELECTOR, "tr.explain .worlds").text

        # drift: the newest date is in alert, on the chart and in a banner
        assert "2024-12-31" in d.find_element(By.ID, "drift-alert").text
        assert d.find_elements(By.CSS_SELECTOR, '#drift circle.alert[data-date="2024-12-31"]')

        # the diff against the previous run exists for the newer run only
        d.find_element(By.ID, "served-run").click()
        _wait(d, lambda d: d.find_element(By.ID, "view-run").text == newer, what="the newer run")
        assert older in d.find_element(By.ID, "diff").text
        seen = _check_badges(d, day, newer) | _colours_seen
        assert len(seen) >= 2, seen  # the two runs differ in freshness (the earlier one has no odds for some games)
        print(f"\nbadge colours checked: {sorted(seen)}")

        # pin the older run: `latest` moves to it, on the page and on disk; unpin: back to the newer
        d.find_element(By.ID, "pin-reason").send_keys("browser test")
        d.find_element(By.CSS_SELECTOR, f'button.pin[data-run="{older}"]').click()
        _wait(d, lambda d: d.find_element(By.ID, "served-run").text == older, what="latest -> the pinned run")
        assert "browser test" in d.find_element(By.ID, "pin-state").text
        assert _latest_on_disk(day) == dict.fromkeys(KINDS, older)
        shot = tmp_path / "dashboard_pinned.png"
        d.set_window_size(1400, min(4000, d.execute_script("return document.body.scrollHeight") + 150))
        d.save_screenshot(str(shot))
        d.find_element(By.ID, "unpin").click()
        _wait(d, lambda d: d.find_element(By.ID, "served-run").text == newer, what="latest -> the newest run")
        assert not d.find_elements(By.ID, "pin-state")
        assert _latest_on_disk(day) == dict.fromkeys(KINDS, newer)
        timings["browser total s"] = time.perf_counter() - t0
        assert d.get_log("browser") == []  # no JavaScript errors
    assert shot.stat().st_size > 10_000
    print(f"\ndashboard screenshot: {shot}\n{timings}")


@pytest.mark.browser
def test_static_copy_works_offline(chromium, served, tmp_path):
    from selenium.webdriver.common.by import By

    from minutes_live.dashboard.static import write_static

    files = write_static(tmp_path / "static", served["day"])
    names = sorted(f.name for f in files)
    assert names == ["index.html"] + sorted(f"run-{served['day']}-{r}.html" for r in served["runs"])
    for f in files:
        text = f.read_text().lower()
        for needle in ("http://", "https://", "<link", "<script src", "url("):
            assert needle not in text, (f.name, needle)
    with browser.headless_chromium(tmp_path / "profile") as d:
        d.get((tmp_path / "static" / "index.html").as_uri())
        assert d.find_element(By.ID, "view-run").text == served["runs"][1]
        assert all(not b.is_enabled() for b in d.find_elements(By.CSS_SELECTOR, "button.pin"))
        d.find_elements(By.CSS_SELECTOR, "#projections tr.player")[0].click()
        assert len(d.find_elements(By.CSS_SELECTOR, "tr.explain .contrib")) == 9  # embedded, no request
        d.find_element(By.CSS_SELECTOR, f'#run-picker tr[data-run="{served["runs"][0]}"] a.run-link').click()
        _wait(d, lambda d: d.find_element(By.ID, "view-run").text == served["runs"][0], what="the static run page")
        assert d.get_log("browser") == []


def _post(url: str, body: bytes, headers: dict) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_pin_endpoint_refuses_forms_foreign_origins_and_bad_values(served):
    day, (older, _) = served["day"], served["runs"]
    url = served["url"] + "api/pin"
    body = json.dumps({"date": day.isoformat(), "run_id": older}).encode()
    assert _post(url, b"date=x", {"Content-Type": "application/x-www-form-urlencoded"})[0] == 415
    token = {"X-Minutes-Live-Token": served["token"]}
    assert _post(url, body, {"Content-Type": "application/json", "Origin": "http://evil.example", **token})[0] == 403
    assert _post(url, body, {"Content-Type": "application/json"})[0] == 403  # no token
    status, out = _post(url, json.dumps({"date": day.isoformat(), "run_id": "2025"}).encode(),
                        {"Content-Type": "application/json", **token})
    assert status == 400 and "run_id" in out["error"]
    status, out = _post(url, json.dumps({"date": day.isoformat(), "run_id": "20200101T000000Z"}).encode(),
                        {"Content-Type": "application/json", **token})
    assert status == 409 and "cannot pin" in out["error"]
    assert _latest_on_disk(day) == dict.fromkeys(KINDS, served["runs"][1])


def test_dashboard_diff_is_the_runs_diff(two_runs, monkeypatch):
    """The page's diff panel shows what `minutes-live runs diff` computes, reasons included."""
    from minutes_live.dashboard.diffing import diff_against
    from minutes_live.runs.diff import diff_runs

    for k, v in two_runs["env"].items():
        monkeypatch.setenv(k, v)
    day, (older, newer) = two_runs["day"], two_runs["runs"]
    shown = diff_against(day, older, newer, min_delta=0.5)
    expected = diff_runs(day, older, newer, min_delta=0.5)
    assert [r["player_id"] for r in shown["rows"]] == [int(p) for p in expected["player_id"]]
    assert all(r["reasons"] for r in shown["rows"])


def _publish_copy(day, source_run: str, run_id: str) -> None:
    """A new run of `day` published through the lifecycle (registry, one publication step, `latest`): the
    files of `source_run` under a newer instant, as the watcher's next run would land."""
    import shutil

    from foundation.lifecycle import run_attempt
    from foundation.publication import Publication

    roots = Roots.default()
    as_of = datetime.fromisoformat(run_as_of_from_id(run_id))
    with run_attempt(Publication(roots, day), job="watch", run_as_of_ts=as_of, kinds=KINDS) as run:
        for kind in KINDS:
            staged = run.stage(kind)
            src = roots.root(kind) / day.isoformat() / f"run={source_run}"
            for f in src.iterdir():
                shutil.copy2(f, staged / f.name)
        run.publish()


@pytest.mark.browser
def test_the_page_updates_itself_within_2s_of_a_publication(chromium, served, tmp_path):
    """Kept last in the module: it publishes a third run (the others expect `latest` on the second)."""
    from selenium.webdriver.common.by import By

    day, (_, newer) = served["day"], served["runs"]
    third = (datetime.strptime(newer, "%Y%m%dT%H%M%SZ") + timedelta(minutes=15)).strftime("%Y%m%dT%H%M%SZ")
    with browser.headless_chromium(tmp_path / "profile") as d:
        d.get(f"{served['url']}?date={day}")
        _wait(d, lambda d: d.find_element(By.ID, "live").text == "live", what="the page's event stream")
        assert d.find_element(By.ID, "served-run").text == newer
        t0 = time.monotonic()
        _publish_copy(day, newer, third)  # the registry, the staged folders, their renames, then the pointer
        published, published_wall = time.monotonic(), time.time()
        # the page shows the new served run, then reloads itself: the new run is in its run list, the stream open
        # again (Selenium's own round trips are slow on a loaded machine: the 2 s is read from the page below)
        _wait(d, lambda d: d.find_element(By.ID, "served-run").text == third and third in [
              r.get_attribute("data-run") for r in d.find_elements(By.CSS_SELECTOR, "#run-picker tr[data-run]")],
              what="the reloaded page serving and listing the new run")
        reloaded = time.monotonic() - published
        _wait(d, lambda d: d.find_element(By.ID, "live").text == "live", what="the stream after the reload")
        stamp, run_id = d.execute_script("return window.sessionStorage.getItem('ml-live-updated');").split()
        elapsed = int(stamp) / 1000 - published_wall  # the page's clock is this machine's
        assert run_id == third
        assert elapsed < 2.0, f"the page showed the new run {elapsed:.2f} s after its publication"
        assert d.get_log("browser") == []
    assert _latest_on_disk(day) == dict.fromkeys(KINDS, third)
    print(f"\npublish step {published - t0:.2f} s; served run on the page {elapsed:.2f} s after it, "
          f"page reloaded {reloaded:.2f} s after it")
