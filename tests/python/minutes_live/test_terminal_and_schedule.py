"""Terminal output people can live with, and scheduling that works with real schedulers.

- `--help` of every command shows each option's default and allowed values;
- one logging setup (--verbose / --quiet / MINUTES_LIVE_LOG_LEVEL), timestamps in logs, progress bars only on a
  terminal, a heartbeat while dbt runs;
- the demo's slate summary (top N per team) and grouped warnings;
- every relative link / path reference in README.md and docs/*.md resolves inside the repository;
- `minutes-live schedule`: the day's times from the first tip (ET and UTC, both DST sides), the due check, the
  UTC crontab (each job exactly once a day, all year) and the systemd units (systemd-analyze when present).
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from foundation import logs, settings
from foundation.cli_values import FLAG_BOUNDS
from foundation.clock import LEAGUE_TZ
from foundation.settings import PROJECT_ROOT
from minutes_live.cli.app import app
from minutes_live.pipeline import schedule as sched
from minutes_live.runs.terminal import group_warnings, slate_summary

ET = LEAGUE_TZ
runner = CliRunner()
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (DEBUG|INFO|WARNING|ERROR) ")


# --- --help ------------------------------------------------------------------------------------------------


def _commands():
    """(name, click command) of every command: the umbrella CLI and the two console scripts."""
    from minutes_live.cli.build import command as build_command
    from minutes_live.cli.score import command as score_command

    def walk(cmd, path):
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                yield from walk(sub, [*path, name])
        else:
            yield " ".join(path), cmd

    yield from walk(typer.main.get_command(app), ["minutes-live"])
    for name, fn in (("build_minutes_live", build_command), ("score_minutes_v1", score_command)):
        single = typer.Typer(add_completion=False)
        single.command()(fn)
        yield name, typer.main.get_command(single)


CHOICE_OPTIONS = {  # option -> the values the code accepts (its own check, one line, exit 2)
    "source": None,  # per command, from the metavar: checked against the command's constant below
    "kind": ("schedule", "roster", "injuries", "odds", "box_scores"),
    "mode": ("historical", "live"),
    "due": ("morning", "afternoon", "pretip", "overnight"),
}


def test_every_option_shows_its_default_and_allowed_values() -> None:
    from foundation.settings import SOURCES
    from minutes_live.cli.app import INGEST_SOURCES, SCHEDULE_SOURCES
    from minutes_live.cli.watch import WATCH_SOURCES

    sources = {"minutes-live ingest": INGEST_SOURCES, "minutes-live schedule": SCHEDULE_SOURCES,
               "minutes-live watch": WATCH_SOURCES}
    problems = []
    checked = 0
    for name, cmd in _commands():
        for p in cmd.params:
            if p.name in ("help", "install_completion", "show_completion"):
                continue
            checked += 1
            where = f"{name} {p.opts[0] if getattr(p, 'opts', None) else p.name}"
            help_text = (getattr(p, "help", None) or "").strip()
            if p.param_type_name == "argument":
                continue  # promote BUNDLE_DIR: a required argument
            if not help_text:
                problems.append(f"{where}: no help")
                continue
            flag = getattr(p, "is_flag", False) and not getattr(p, "secondary_opts", None)
            shows_default = p.default not in (None, "") and p.show_default is not False
            spelled = "default" in help_text.lower() or "required" in help_text.lower()
            if not (p.required or flag or shows_default or spelled):
                problems.append(f"{where}: no default shown or spelled out")
            if p.name in CHOICE_OPTIONS:
                allowed = sources.get(name, SOURCES) if p.name == "source" else CHOICE_OPTIONS[p.name]
                if p.metavar != "[" + "|".join(allowed) + "]":
                    problems.append(f"{where}: metavar {p.metavar!r} does not list {allowed}")
            for opt in getattr(p, "opts", []):
                if opt in FLAG_BOUNDS:
                    lo, hi = FLAG_BOUNDS[opt]
                    if f"({lo}..{hi})" not in help_text:
                        problems.append(f"{where}: bounds ({lo}..{hi}) not in the help")
    assert checked > 80
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("script", ["build_minutes_live", "score_minutes_v1", "minutes-live"])
def test_every_flag_name_is_whole_at_80_columns(script) -> None:
    """At 80 columns the rich help tables cut flag names (`--injuries-max-age-ho…`) and ate `[spark]` as
    markup; the plain help of minutes_live/cli/spine.py wraps the text and never cuts a name."""
    import subprocess
    import sys

    exe = Path(sys.executable).with_name(script)
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "COLUMNS": "80", "TERM": "xterm"}).stdout
    assert "…" not in out and all(len(line) <= 80 for line in out.splitlines())
    if script == "build_minutes_live":
        for flag in ("--injuries-max-age-hours", "--allow-missing-injuries", "--roster-fallback-days",
                     "--parity-run-as-of-ts"):
            assert flag in out
    if script == "minutes-live":
        assert ".[spark]" in out


def test_help_renders_defaults_and_choices() -> None:
    result = runner.invoke(app, ["job", "afternoon", "--help"], env={"COLUMNS": "200", "TERM": "dumb"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())  # help text wraps at the terminal width
    assert "[replay|synthetic|live|none]" in text and "[default: live]" in text
    assert "(0..86400)" in text and "[default: 600.0]" in text
    assert "default: today in US/Eastern" in text
    top = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    assert "--verbose" in top and "--quiet" in top and "MINUTES_LIVE_LOG_LEVEL" in top and "schedule" in top


# --- logging ---------------------------------------------------------------------------------------------


@pytest.fixture
def restore_logging():
    yield
    logs.setup("WARNING")


def test_one_logging_setup_levels_and_format(monkeypatch, restore_logging) -> None:
    stream = io.StringIO()
    assert logs.setup("INFO", stream=stream) == logging.INFO
    for name in logs.PACKAGES:
        logging.getLogger(f"{name}.anything").info("stage of %s", name)
    logging.getLogger("minutes_live.x").debug("hidden")
    lines = stream.getvalue().splitlines()
    assert len(lines) == len(logs.PACKAGES) and all(LOG_LINE.match(ln) for ln in lines), lines  # not a TTY
    monkeypatch.setenv(logs.ENV_LEVEL, "debug")
    assert logs.setup() == logging.DEBUG
    monkeypatch.setenv(logs.ENV_LEVEL, "chatty")
    with pytest.raises(logs.InvalidLogLevel, match="MINUTES_LIVE_LOG_LEVEL 'chatty' is not one of"):
        logs.setup()

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    logs.setup("INFO", stream=tty)
    logging.getLogger("scoring.train").info("model 1/8 in 1.0 s")
    logging.getLogger("scoring.train").warning("careful")
    assert tty.getvalue().splitlines() == ["model 1/8 in 1.0 s", "warning: careful"]
    assert logs.progress_enabled(True, tty) and not logs.progress_enabled(True, io.StringIO())
    assert not logs.progress_enabled(False, tty)


def test_verbose_quiet_and_env_on_the_umbrella_cli(monkeypatch, restore_logging) -> None:
    def level_after(args, env=None):
        result = runner.invoke(app, [*args, "schedule", "--date", "2022-01-15", "--source", "live"], env=env)
        return result, logging.getLogger("minutes_live").level

    monkeypatch.delenv(logs.ENV_LEVEL, raising=False)
    assert level_after([])[1] == logging.INFO
    assert level_after(["--verbose"])[1] == logging.DEBUG
    assert level_after(["-q"])[1] == logging.WARNING
    assert level_after([], {logs.ENV_LEVEL: "ERROR"})[1] == logging.ERROR
    both, _ = level_after(["--verbose", "--quiet"])
    assert both.exit_code == 2 and "exclude each other" in both.output
    bad, _ = level_after([], {logs.ENV_LEVEL: "loud"})
    assert bad.exit_code == 2 and "MINUTES_LIVE_LOG_LEVEL 'loud'" in bad.output


def test_no_stray_prints_in_library_code() -> None:
    """Library modules log (or take an echo callback); print() is left to scripts and CLIs' own output."""
    allowed = {"minutes_live/pipeline/dbt_runner.py"}  # none today; the set documents the rule
    offenders = []
    for package in ("minutes_live", "scoring", "snapshots_ingest", "foundation"):
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            rel = str(path.relative_to(PROJECT_ROOT))
            if rel in allowed:
                continue
            for i, line in enumerate(path.read_text().splitlines(), start=1):
                if re.match(r"^\s*print\(", line):
                    offenders.append(f"{rel}:{i}")
    assert offenders == []


# --- dbt heartbeat ---------------------------------------------------------------------------------------

DBT_LINES = """\
\x1b[0m02:18:04  Found 20 models, 2 analyses, 80 data tests, 2 seeds, 1 operation, 5 sources, 2 exposures
\x1b[0m02:18:04  1 of 1 START hook: minutes_live.on-run-start.0 ................................. [RUN]
\x1b[0m02:18:04  1 of 1 OK hook: minutes_live.on-run-start.0 .................................... [OK in 0.01s]
\x1b[0m02:18:04  1 of 82 START sql view model main.stg_raw__box_scores .......................... [RUN]
\x1b[0m02:18:04  2 of 82 START sql view model main.stg_raw__odds ................................ [RUN]
\x1b[0m02:18:04  2 of 82 OK created sql view model main.stg_raw__odds ........................... [OK in 0.10s]
\x1b[0m02:18:05  3 of 82 START test not_null_stg_raw__odds_content_hash ......................... [RUN]
\x1b[0m02:18:05  3 of 82 FAIL 1 not_null_stg_raw__odds_content_hash ............................. [FAIL 1 in 0.07s]
"""


def test_dbt_progress_is_read_from_dbt_output() -> None:
    from minutes_live.pipeline.dbt_runner import DbtProgress

    progress = DbtProgress()
    assert progress.describe() == "parsing the project"
    lines = DBT_LINES.splitlines()
    progress.feed(lines[0])
    assert progress.describe() == "running hooks"
    for line in lines[1:6]:
        progress.feed(line)
    assert progress.describe() == "1/82 nodes, running stg_raw__box_scores"  # hooks are not nodes
    for line in lines[6:]:
        progress.feed(line)
    assert progress.describe() == "2/82 nodes (1 failed), running stg_raw__box_scores"


@pytest.mark.slow
def test_dbt_heartbeat_while_dbt_runs(tmp_path: Path, monkeypatch, caplog, restore_logging) -> None:
    from minutes_live.pipeline.dbt_runner import run_dbt

    monkeypatch.setenv(logs.ENV_HEARTBEAT, "1")
    logs.setup("INFO", stream=io.StringIO())
    store = tmp_path / "empty.duckdb"
    from snapshots_ingest import raw_store

    raw_store.connect(store).close()
    with caplog.at_level(logging.INFO, logger="minutes_live.pipeline.dbt_runner"):
        run_dbt(["build", "--empty", "--selector", "live_slate", "--target-path", str(tmp_path / "t")],
                db_path=store, quiet=True)
    messages = [r.getMessage() for r in caplog.records if r.name == "minutes_live.pipeline.dbt_runner"]
    beats = [m for m in messages if re.fullmatch(r"dbt build --selector live_slate: \d+ s, .+", m)]
    assert beats, messages
    assert any(re.search(r": \d+ s, \d+/\d+ nodes", m) for m in beats), beats
    done = re.fullmatch(r"dbt build --selector live_slate: ok, (\d+)/(\d+) nodes in \d+\.\d s", messages[-1])
    assert done and done.group(1) == done.group(2) and int(done.group(1)) > 50, messages


# --- the demo's summary ------------------------------------------------------------------------------------


def _minutes() -> pd.DataFrame:
    rows = []
    tip = pd.Timestamp("2025-01-02T00:00:00Z")
    for g, (home, away) in enumerate((("CLE", "DEN"), ("DAL", "TOR"))):
        for tri in (home, away):
            for i in range(9):
                rows.append({"game_id": 2025010100 + g, "team_id": hash(tri) % 1000, "player_id": g * 100 + i,
                             "team_tricode": tri, "player_name": f"{tri} Player {i}", "tip_ts": tip,
                             "status": "OUT" if i == 8 else "UNK", "play_prob": 1.0 - i * 0.1,
                             "minutes_p10": max(0.0, 30 - 4 * i - 6), "minutes_p50": 30.0 - 3 * i,
                             "minutes_p90": 36.0 - 3 * i, "is_confirmed_starter": i < 5, "is_projected_starter": i < 5,
                             "home_flag": int(tri == home)})
    return pd.DataFrame(rows)


def test_slate_summary_top_n_per_team() -> None:
    minutes = _minutes()
    lines = slate_summary(minutes, per_team=3)
    assert lines[0].startswith("DEN @ CLE   game 2025010100, tip 19:00 ET (00:00 UTC)")
    team_lines = [ln for ln in lines if re.match(r"^  [A-Z]{3}  p50 sum", ln)]
    assert [ln[2:5] for ln in team_lines] == ["DEN", "CLE", "TOR", "DAL"]  # away first
    assert "over 9 players (1 OUT); top 3 by p50" in team_lines[0]
    players = [ln for ln in lines if " Player " in ln]
    assert len(players) == 4 * 3 and players[0].split()[:3] == ["DEN", "Player", "0"]
    assert len([ln for ln in slate_summary(minutes, per_team=0) if " Player " in ln]) == 4 * 9
    assert slate_summary(minutes.iloc[0:0]) == ["(no projections)"]


def test_warnings_are_grouped_by_kind() -> None:
    warnings = ["injuries snapshot for game 2025010145 is 1500 min old",
                "ran without odds for 1 game(s): 2025010150 (A@B)",
                "injuries snapshot for game 2025010162 is 420 min old",
                "roster snapshot for game 2025010145 is 1200 min old",
                "ran without odds for 1 game(s): 2025010150 (A@B)"]
    assert group_warnings(warnings) == [
        "injuries snapshot older than 6 h for 2 games: 2025010145, 2025010162 (oldest 25 h)",
        "ran without odds for 1 game(s): 2025010150 (A@B) (x2)",
        "roster snapshot older than 18 h for 1 game: 2025010145 (oldest 20 h)",
    ]


# --- links in the README and docs ----------------------------------------------------------------------------

REPO_DIRS = ("docs", "models", "macros", "foundation", "minutes_live", "scoring", "snapshots_ingest", "tests",
             "deploy", "bench", "seeds", "analyses", "profiles")
MD_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
PATH_REF = re.compile(r"(?<![\w./<-])((?:" + "|".join(REPO_DIRS) + r")/[\w./-]*[\w/])")
BARE_DOC = re.compile(r"(?<![\w/.*-])([\w-]+\.md)\b")
RUNTIME_OUTPUTS = {"report.md"}  # files the commands write (backtest report), not documents of the repository


def _references(path: Path) -> list[str]:
    """Markdown links, repository paths (docs/x.md, deploy/systemd/, minutes_live/cli/app.py: a path under a
    top-level directory with an extension or a trailing slash) and bare document names (model.md)."""
    text = path.read_text()
    refs = [m.group(1) for m in MD_LINK.finditer(text) if not re.match(r"^[a-z]+:|^#", m.group(1))]
    refs += [r for r in (m.group(1) for m in PATH_REF.finditer(text)) if r.endswith("/") or re.search(r"\.\w+$", r)]
    refs += [m.group(1) for m in BARE_DOC.finditer(text) if m.group(1) not in RUNTIME_OUTPUTS]
    return refs


def _resolves(ref: str, doc: Path) -> bool:
    target = ref.split("#", 1)[0].rstrip(".,;:")
    if any(c in target for c in "*<>{}"):
        return True  # a pattern, not a file
    return any((base / target).exists() for base in (doc.parent, PROJECT_ROOT, PROJECT_ROOT / "docs"))


def test_every_relative_link_in_readme_and_docs_resolves() -> None:
    docs = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
    broken = [f"{doc.relative_to(PROJECT_ROOT)}: {ref}" for doc in docs for ref in _references(doc)
              if not _resolves(ref, doc)]
    assert broken == []
    readme_refs = _references(PROJECT_ROOT / "README.md")
    assert "docs/operations.md" in readme_refs and len(readme_refs) > 10


def test_link_check_catches_a_broken_reference(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text("see docs/nowhere.md, [ops](docs/operations.md), model.md, setup.md, data/<dataset>/x\n")
    refs = _references(doc)
    assert set(refs) == {"docs/operations.md", "docs/nowhere.md", "model.md", "setup.md"}
    assert sorted({r for r in refs if not _resolves(r, doc)}) == ["docs/nowhere.md", "setup.md"]


# --- the day's schedule ----------------------------------------------------------------------------------------


def _tips(day: date, first_et: str | None, games: int = 8) -> sched.SlateTips:
    if first_et is None:
        return sched.SlateTips(day, 0, None, None, "test")
    hh, mm = map(int, first_et.split(":"))
    first = datetime(day.year, day.month, day.day, hh, mm, tzinfo=ET).astimezone(UTC)
    return sched.SlateTips(day, games, first, first + timedelta(hours=3), "test")


@pytest.mark.parametrize(("day", "utc"), [
    # winter (EST, UTC-5), summer (EDT, UTC-4), and the two switch days
    (date(2025, 1, 15), {"morning": "15:30", "afternoon": "22:00", "pretip": "23:15", "overnight": "09:00"}),
    (date(2025, 4, 15), {"morning": "14:30", "afternoon": "21:00", "pretip": "22:15", "overnight": "08:00"}),
    (date(2025, 3, 9), {"morning": "14:30", "afternoon": "21:00", "pretip": "22:15", "overnight": "08:00"}),
    (date(2025, 3, 8), {"morning": "15:30", "afternoon": "22:00", "pretip": "23:15", "overnight": "08:00"}),
    (date(2025, 11, 2), {"morning": "15:30", "afternoon": "22:00", "pretip": "23:15", "overnight": "09:00"}),
])
def test_day_plan_in_eastern_and_utc_across_dst(day: date, utc: dict) -> None:
    plan = sched.plan_day(_tips(day, "19:00"))
    got = {j.job: f"{j.at:%H:%M}" for j in plan.jobs}
    assert got == utc
    assert [j.job for j in plan.jobs] == ["morning", "afternoon", "pretip", "overnight"]
    for j in plan.jobs:
        local = j.at.astimezone(ET)
        expected = {"morning": "10:30", "afternoon": "17:00", "pretip": "18:15", "overnight": "04:00"}[j.job]
        assert f"{local:%H:%M}" == expected
        assert local.date() == (day + timedelta(days=1) if j.job == "overnight" else day)


def test_day_plan_notes_and_unknown_first_tip() -> None:
    early = sched.plan_day(_tips(date(2025, 12, 25), "11:00"))
    assert early.job("pretip").at.astimezone(ET).strftime("%H:%M") == "10:15"
    assert "before the morning run" in early.job("pretip").note
    evening = sched.plan_day(_tips(date(2025, 12, 25), "19:00"))
    assert evening.job("afternoon").note == "" and evening.job("pretip").note == "45 min before the first tip"
    matinee = sched.plan_day(_tips(date(2025, 12, 25), "12:00"))
    assert "after the first tip" in matinee.job("afternoon").note
    unknown = sched.plan_day(_tips(date(2025, 7, 4), None))
    assert unknown.job("pretip") is None and len(unknown.jobs) == 3
    assert "first tip unknown" in sched.render(unknown)[0]


def test_due_fixed_jobs_and_pretip() -> None:
    day = date(2025, 1, 15)
    plan = sched.plan_day(_tips(day, "19:00"))
    window = timedelta(minutes=15)

    def at(hhmm: str, d: date = day) -> datetime:
        hh, mm = map(int, hhmm.split(":"))
        return datetime(d.year, d.month, d.day, hh, mm, tzinfo=ET).astimezone(UTC)

    assert sched.due("morning", at("10:30"), plan, window)[0]
    assert sched.due("morning", at("10:44"), plan, window)[0]
    assert not sched.due("morning", at("10:45"), plan, window)[0]
    assert not sched.due("morning", at("09:30"), plan, window)[0]  # the other UTC hour of the cron pair
    assert sched.due("overnight", at("04:00", day + timedelta(days=1)), plan, window)[0]
    assert not sched.due("pretip", at("18:00"), plan, window, [])[0]
    assert sched.due("pretip", at("18:15"), plan, window, [])[0]
    assert sched.due("pretip", at("18:59"), plan, window, [at("10:30")])[0]  # the morning run does not count
    ok, why = sched.due("pretip", at("18:30"), plan, window, [at("18:15")])
    assert not ok and "already" in why  # started once
    assert not sched.due("pretip", at("19:00"), plan, window, [])[0]
    no_tip = sched.plan_day(_tips(day, None))
    assert "first tip unknown" in sched.due("pretip", at("18:30"), no_tip, window, [])[1]
    assert sched.slate_day_for("overnight", at("04:00", day + timedelta(days=1))) == day
    assert sched.slate_day_for("pretip", at("23:50")) == day  # 04:50 UTC the next day


def _publish_run(day: date, run_id: str, tips_utc: list[str]) -> Path:
    run = settings.features_root() / day.isoformat() / f"run={run_id}"
    run.mkdir(parents=True)
    pd.DataFrame({"game_id": range(len(tips_utc)), "tip_ts": tips_utc}).to_csv(run / "coverage.csv", index=False)
    return run


def test_schedule_command_reads_the_first_tip_of_published_runs(restore_logging) -> None:
    day = date(2022, 1, 15)
    _publish_run(day, "20220115T153000Z", ["2022-01-15 23:30:00+00:00", "2022-01-16 01:00:00+00:00"])
    result = runner.invoke(app, ["schedule", "--date", "2022-01-15"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("2022-01-15: 2 games, first tip 18:30 EST (23:30 UTC), from published run 20220115T153000Z")
    assert lines[2].split()[:6] == ["morning", "2022-01-15", "10:30", "EST", "2022-01-15", "15:30Z"]
    assert lines[4].split()[:6] == ["pretip", "2022-01-15", "17:45", "EST", "2022-01-15", "22:45Z"]
    assert lines[5].split()[:6] == ["overnight", "2022-01-16", "04:00", "EST", "2022-01-16", "09:00Z"]
    plan = json.loads(runner.invoke(app, ["schedule", "--date", "2022-01-15", "--json"]).output)
    assert plan["first_tip_utc"] == "2022-01-15T23:30:00+00:00" and len(plan["jobs"]) == 4

    due = runner.invoke(app, ["schedule", "--due", "pretip", "--now", "2022-01-15T22:50:00Z"])
    assert due.exit_code == 0 and due.output.startswith("pretip: due"), due.output
    _publish_run(day, "20220115T224500Z", ["2022-01-15 23:30:00+00:00"])
    again = runner.invoke(app, ["schedule", "--due", "pretip", "--now", "2022-01-15T23:05:00Z"])
    assert again.exit_code == sched.NOT_DUE_EXIT and "already" in again.output
    bad = runner.invoke(app, ["schedule", "--due", "lunch"])
    assert bad.exit_code == 2 and "--due 'lunch' is not one of" in bad.output
    no_games = runner.invoke(app, ["schedule", "--date", "2022-07-04"])
    assert no_games.exit_code == 0 and "first tip unknown" in no_games.output


def _deploy_due(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    bin_ = Path(sys.executable).with_name("minutes-live")
    return subprocess.run([str(PROJECT_ROOT / "deploy" / "due"), *args], capture_output=True, text=True,
                          env={**os.environ, "MINUTES_LIVE_BIN": str(bin_), **(env or {})}, timeout=120)


@pytest.mark.slow
def test_deploy_due_maps_exit_codes_for_cron_and_systemd() -> None:
    due = _deploy_due("morning", "--now", "2025-01-15T15:30:00Z")
    assert (due.returncode, due.stdout, due.stderr) == (0, "", "")
    not_due = _deploy_due("morning", "--now", "2025-01-15T14:30:00Z")  # 09:30 EST: the EDT line of the pair
    assert (not_due.returncode, not_due.stdout, not_due.stderr) == (1, "", "")
    broken = _deploy_due("morning", "--now", "yesterday")
    assert broken.returncode == 255 and "the check failed (exit 2)" in broken.stderr
    missing = _deploy_due("morning", env={"MINUTES_LIVE_BIN": "/nonexistent/minutes-live"})
    assert missing.returncode == 255


def _cron_lines() -> dict[str, tuple[list[int], list[int]]]:
    """job -> (minutes, hours) of deploy/cron/minutes-live.crontab."""

    def expand(field: str, top: int) -> list[int]:
        out: list[int] = []
        for part in field.split(","):
            step = 1
            if "/" in part:
                part, s = part.split("/")
                step = int(s)
            if part == "*":
                lo, hi = 0, top
            elif "-" in part:
                lo, hi = map(int, part.split("-"))
            else:
                lo = hi = int(part)
            out += list(range(lo, hi + 1, step))
        return sorted(out)

    jobs = {}
    for line in (PROJECT_ROOT / "deploy" / "cron" / "minutes-live.crontab").read_text().splitlines():
        if not line.strip() or line.startswith("#") or "=" in line.split()[0]:
            continue
        minute, hour, dom, mon, dow, *command = line.split()
        assert (dom, mon, dow) == ("*", "*", "*")
        text = " ".join(command)
        assert "CRON_TZ" not in text
        job = re.search(r"deploy/due (\w+)", text).group(1)
        assert f"minutes-live job {'afternoon' if job == 'pretip' else job} --source live" in text
        jobs[job] = (expand(minute, 59), expand(hour, 23))
    return jobs


def test_utc_crontab_runs_each_job_once_a_day_all_year() -> None:
    """Every day of 2025 and 2026 (both DST switches), simulated minute by minute over the crontab's UTC times:
    each fixed job is due exactly once, at its Eastern time; the pre-tip refresh exactly once, 0-15 min after
    first tip - 45 min, for first tips from 12:00 to 22:30 ET."""
    cron = _cron_lines()
    assert set(cron) == {"morning", "afternoon", "pretip", "overnight"}
    window = timedelta(minutes=15)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for offset in range(0, 730):
        day = (start + timedelta(days=offset)).date()
        for first_et in ("12:00", "19:00", "22:30"):
            plan = sched.plan_day(_tips(day, first_et))
            published: list[datetime] = []
            fired: dict[str, list[datetime]] = {j: [] for j in cron}
            for job, (minutes, hours) in cron.items():
                # every cron instant (UTC) from the day before to two days after; due() decides
                instants = sorted(datetime.combine(day + timedelta(days=d), datetime.min.time(), tzinfo=UTC)
                                  + timedelta(hours=h, minutes=m)
                                  for d in (-1, 0, 1, 2) for h in hours for m in minutes)
                for t in instants:
                    if sched.slate_day_for(job, t) != day:
                        continue
                    ok, _ = sched.due(job, t, plan, window, published if job == "pretip" else None)
                    if ok:
                        fired[job].append(t)
                        if job == "pretip":
                            published.append(t)
            for job, times in fired.items():
                assert len(times) == 1, (day, first_et, job, times)
                expected = plan.job(job).at
                assert timedelta(0) <= times[0] - expected < window, (day, job, times[0], expected)


def test_systemd_units_are_complete_and_on_eastern_time() -> None:
    units = PROJECT_ROOT / "deploy" / "systemd"
    for job in ("morning", "afternoon", "overnight", "pretip"):
        service = (units / f"minutes-live-{job}.service").read_text()
        timer = (units / f"minutes-live-{job}.timer").read_text()
        assert "Type=oneshot" in service and "WorkingDirectory=" in service
        command = f"minutes-live job {'afternoon' if job == 'pretip' else job} --source live"
        assert re.search(rf"^ExecStart=\S+/{re.escape(command)}$", service, re.M), service
        assert re.search(r"^OnCalendar=.+ America/New_York$", timer, re.M)
        assert f"Unit=minutes-live-{job}.service" in timer and "WantedBy=timers.target" in timer
    assert "ExecCondition=/srv/minutes-live/deploy/due pretip" in (units / "minutes-live-pretip.service").read_text()
    calendar = {job: re.search(r"^OnCalendar=(.+)$", (units / f"minutes-live-{job}.timer").read_text(), re.M).group(1)
                for job in ("morning", "afternoon", "overnight", "pretip")}
    assert calendar == {"morning": "*-*-* 10:30:00 America/New_York", "afternoon": "*-*-* 17:00:00 America/New_York",
                        "overnight": "*-*-* 04:00:00 America/New_York",
                        "pretip": "*-*-* 10..23:00/15:00 America/New_York"}


systemd_analyze = shutil.which("systemd-analyze")


@pytest.mark.skipif(systemd_analyze is None, reason="systemd-analyze not installed (apt-get install systemd)")
@pytest.mark.parametrize(("base", "expected"), [
    ("2025-01-15 00:00:00 UTC", {"morning": "15:30", "afternoon": "22:00", "overnight": "09:00"}),
    ("2025-07-15 00:00:00 UTC", {"morning": "14:30", "afternoon": "21:00", "overnight": "08:00"}),
])
def test_systemd_analyze_calendar_follows_eastern_time(base: str, expected: dict) -> None:
    units = PROJECT_ROOT / "deploy" / "systemd"
    for job, utc in expected.items():
        spec = re.search(r"^OnCalendar=(.+)$", (units / f"minutes-live-{job}.timer").read_text(), re.M).group(1)
        out = subprocess.run([systemd_analyze, "calendar", "--iterations=1", f"--base-time={base}", spec],
                             capture_output=True, text=True, env={**os.environ, "TZ": "UTC"})
        assert out.returncode == 0, out.stderr
        assert re.search(rf"Next elapse: \w+ \d{{4}}-\d\d-\d\d {utc}:00 UTC", out.stdout), out.stdout


@pytest.mark.skipif(systemd_analyze is None, reason="systemd-analyze not installed (apt-get install systemd)")
def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path) -> None:
    """The shipped units with /srv/minutes-live replaced by this checkout (verify wants the executables)."""
    bin_ = Path(sys.executable).with_name("minutes-live")
    for unit in (PROJECT_ROOT / "deploy" / "systemd").iterdir():
        text = unit.read_text().replace("/srv/minutes-live/.venv/bin/minutes-live", str(bin_))
        (tmp_path / unit.name).write_text(text.replace("/srv/minutes-live", str(PROJECT_ROOT)))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 11  # four jobs (service + timer), the game-day watcher and the API server
    out = subprocess.run([systemd_analyze, "verify", *names], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "is not executable" not in out.stderr and "Unknown key" not in out.stderr, out.stderr
