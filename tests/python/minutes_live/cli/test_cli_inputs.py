"""Every CLI value is checked before any work starts: exit 2, one line naming the flag, nothing written.

Each case goes through a real entry point (typer's CliRunner on the real `minutes-live` app, the real
`score_minutes_v1` command, or the `build_minutes_live` console script as a subprocess). The dbt side of
the same checks (macros/run_vars.sql) is exercised with real dbt invocations at the end.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from foundation import cli_values
from foundation.cli_values import parse_date, parse_ts
from foundation.guardrails import InvalidInput
from foundation.run_directory import RunDirectoryError, validate_run_id
from minutes_live.cli.app import app
from minutes_live.cli.score import command as score_command
from minutes_live.pipeline.dbt_runner import DbtError, run_dbt

ROOT = Path(__file__).resolve().parents[4]
TS = "2022-01-15T23:00:00Z"
BUILD = ["build", "--date", "2022-01-15", "--run-as-of-ts", TS, "--source", "none"]
JOB = ["job", "afternoon", "--source", "none", "--date", "2022-01-15", "--run-as-of-ts", TS]
OVERNIGHT = ["job", "overnight", "--source", "none", "--date", "2022-01-15", "--run-as-of-ts", "2022-01-16T09:00:00Z"]
runner = CliRunner()
score_app = typer.Typer()
score_app.command()(score_command)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Every default root under tmp_path, a plain file and a read-only folder to point flags at."""
    for var, sub in (("MINUTES_LIVE_DATA_ROOT", "data"), ("MINUTES_LIVE_ARTIFACTS", "artifacts"),
                     ("MINUTES_LIVE_REPORTS", "reports")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.setenv("MINUTES_LIVE_DUCKDB", str(tmp_path / "data" / "wh.duckdb"))
    afile = tmp_path / "a_file"
    afile.write_text("not a directory\n")
    return {"tmp": tmp_path, "file": afile, "missing": tmp_path / "missing.parquet"}


@pytest.fixture
def read_only_dir(tmp_path: Path):
    """A folder nobody may write into. root ignores mode bits, so as root the folder is made immutable."""
    ro = tmp_path / "read_only"
    ro.mkdir()
    if os.geteuid() != 0:
        ro.chmod(0o555)
        yield ro
        ro.chmod(0o755)
        return
    if subprocess.run(["chattr", "+i", str(ro)], capture_output=True).returncode != 0:
        pytest.skip("running as root without chattr +i: cannot make a read-only folder")
    try:
        yield ro
    finally:
        subprocess.run(["chattr", "-i", str(ro)], check=True)


def _written(tmp: Path) -> list[str]:
    """Every file under tmp except the ones the fixtures made: must stay empty after a refusal."""
    made = {"a_file"}
    return sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file() and p.name not in made)


def _assert_refused(result, flag: str, tmp: Path, *also: str) -> str:
    assert result.exit_code == 2, (result.output, result.exception)
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert flag in err, err
    for text in also:
        assert text in err, err
    assert "Traceback" not in result.output
    assert _written(tmp) == []
    assert not list(tmp.rglob("run=*"))
    return err


# ------------------------------------------------------------------------------------ output roots

@pytest.mark.parametrize("flag", ["--out-root", "--data-root"])
def test_build_output_root_that_is_a_file_is_refused_before_any_work(world, flag):
    result = runner.invoke(app, [*BUILD, flag, str(world["file"])])
    _assert_refused(result, flag, world["tmp"], str(world["file"]), "not a directory")


def test_build_output_root_in_a_read_only_folder_is_refused(world, read_only_dir):
    result = runner.invoke(app, [*BUILD, "--out-root", str(read_only_dir / "features")])
    _assert_refused(result, "--out-root", world["tmp"], str(read_only_dir / "features"))
    result = runner.invoke(app, [*BUILD, "--out-root", str(read_only_dir)])
    _assert_refused(result, "--out-root", world["tmp"], "not writable")


def test_build_minutes_live_console_script_refuses_a_file_out_root(world):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    proc = subprocess.run(
        [sys.executable, "-c", "from minutes_live.cli.build import main; main()", *BUILD[1:], "--out-root",
         str(world["file"])], capture_output=True, text=True, cwd=ROOT, env=env,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().startswith("build_minutes_live: error: --out-root")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert _written(world["tmp"]) == []


def test_output_root_missing_is_probed_and_left_as_it_was(world):
    """A missing output root is probed (created, written, removed) while the flags are checked: a command
    refused later has written nothing there."""
    root = world["tmp"] / "new" / "features"
    result = runner.invoke(app, [*BUILD, "--out-root", str(root), "--lock-timeout", "-1"])
    _assert_refused(result, "--lock-timeout", world["tmp"])  # a bad scalar is refused before any root is made
    assert not root.exists()
    assert cli_values.writable_dir(root, "--out-root") == root
    assert not root.exists() and not root.parent.exists()


def test_score_artifact_root_file_or_read_only_is_refused(world, read_only_dir):
    args = ["--date", "2022-01-15", "--mode", "live", "--features-path", str(world["missing"]),
            "--run-as-of-ts", TS]
    result = runner.invoke(score_app, [*args, "--artifact-root", str(world["file"])])
    _assert_refused(result, "--artifact-root", world["tmp"], "not a directory")
    result = runner.invoke(score_app, [*args, "--artifact-root", str(read_only_dir / "daily")])
    _assert_refused(result, "--artifact-root", world["tmp"])


@pytest.mark.parametrize(
    "args, flag",
    [
        (["train", "--features-path", "{missing}", "--out-dir", "{file}"], "--out-dir"),
        (["backtest", "--season", "2021-22", "--features-path", "{missing}", "--out-root", "{file}"], "--out-root"),
        (["backtest", "--season", "2021-22", "--features-path", "{missing}", "--bundle-root", "{file}"], "--bundle-root"),
    ],
)
def test_model_output_roots_must_be_directories(world, args, flag):
    args = [a.format(**{k: v for k, v in world.items() if k != "tmp"}) for a in args]
    _assert_refused(runner.invoke(app, args), flag, world["tmp"], "not a directory")


# ------------------------------------------------------------------------------------ numbers

@pytest.mark.parametrize(
    "extra, flag",
    [
        (["--history-days", "10000000"], "--history-days"),  # was an OverflowError traceback
        (["--history-days", "100000000000"], "--history-days"),  # was passed on to SQL
        (["--roster-fallback-days", "100000"], "--roster-fallback-days"),
        (["--injuries-max-age-hours", "1e11"], "--injuries-max-age-hours"),  # was passed on to SQL
        (["--odds-max-age-hours", "nan"], "--odds-max-age-hours"),  # was dbt exit 10, var not named
        (["--odds-max-age-hours", "inf"], "--odds-max-age-hours"),
        (["--roster-max-age-hours", "-0.5"], "--roster-max-age-hours"),
        (["--roster-max-age-hours", "1.01"], "--roster-max-age-hours"),  # 60.6 minutes: not whole minutes
        (["--lock-timeout", "-1"], "--lock-timeout"),  # blocked forever
        (["--lock-timeout", "nan"], "--lock-timeout"),  # traceback
        (["--lock-timeout", "inf"], "--lock-timeout"),
    ],
)
def test_build_numbers_out_of_bounds_or_not_finite(world, extra, flag):
    _assert_refused(runner.invoke(app, [*BUILD, *extra]), flag, world["tmp"])


def test_ingest_history_days_beyond_bounds_is_refused(world):
    args = ["ingest", "--date", "2022-01-15", "--run-as-of-ts", TS, "--history-days", "10000000", "--no-progress"]
    lo, hi = cli_values.FLAG_BOUNDS["--history-days"]
    _assert_refused(runner.invoke(app, args), "--history-days", world["tmp"], f">= {lo} and <= {hi}")


@pytest.mark.parametrize(
    "args, flag",
    [
        ([*JOB, "--lock-timeout", "-1"], "--lock-timeout"),
        ([*JOB, "--lock-timeout", "nan"], "--lock-timeout"),
        ([*JOB, "--show", "-1"], "--show"),
        ([*OVERNIGHT, "--lock-timeout", "nan"], "--lock-timeout"),
        (["train", "--features-path", "{missing}", "--seed", "-1"], "--seed"),
        (["train", "--features-path", "{missing}", "--lead", "-5"], "--lead"),
        (["backtest", "--season", "2021-22", "--features-path", "{missing}", "--lead", "100000"], "--lead"),
        (["backtest", "--season", "2021-22", "--features-path", "{missing}", "--seed", str(2**40)], "--seed"),
    ],
)
def test_job_and_model_numbers_are_checked(world, args, flag):
    args = [a.format(missing=world["missing"]) for a in args]
    _assert_refused(runner.invoke(app, args), flag, world["tmp"])


def test_fractional_max_age_hours_of_whole_minutes_are_accepted():
    assert cli_values.max_age_hours(1.5, "--odds-max-age-hours") == 1.5
    assert cli_values.max_age_hours(0.1, "--odds-max-age-hours") == 0.1  # 6 minutes
    assert cli_values.max_age_minutes(0.1) == 6 and cli_values.max_age_minutes(36) == 2160
    with pytest.raises(InvalidInput, match="--odds-max-age-hours .*whole number of minutes"):
        cli_values.max_age_hours(1 / 3, "--odds-max-age-hours")


def test_typer_type_errors_still_exit_2(world):
    result = runner.invoke(app, [*BUILD, "--history-days", "abc"])
    assert result.exit_code == 2
    assert _written(world["tmp"]) == []


# ------------------------------------------------------------------------------------ dates and run ids

@pytest.mark.parametrize(
    "value", ["2022-01-15\n", "２０２２-01-15", "2022-01-1５", " 2022-01-15", "2022-1-15", "2022-01-15\r"]
)
def test_dates_are_ascii_and_anchored(value):
    with pytest.raises(InvalidInput, match=r"--date .* YYYY-MM-DD"):
        parse_date(value)


@pytest.mark.parametrize("value", ["２０２２-01-15T23:00:00Z", "2022-01-15T23:00:00Z\n", "2022-01-15T2３:00:00Z"])
def test_timestamps_are_ascii_and_anchored(value):
    with pytest.raises(InvalidInput, match="--run-as-of-ts"):
        parse_ts(value)


@pytest.mark.parametrize("value", ["20220115T233000Z\n", "２０２２0115T233000Z", "20220115T233000Z ", "20220115t233000z"])
def test_run_ids_are_ascii_and_anchored(value):
    with pytest.raises(RunDirectoryError, match="invalid run id"):
        validate_run_id(value)
    with pytest.raises(InvalidInput, match="--run-id"):
        cli_values.parse_run_id(value)
    assert cli_values.parse_run_id("20220115T233000Z") == validate_run_id("20220115T233000Z") == "20220115T233000Z"


@pytest.mark.parametrize(
    "args, flag",
    [
        (["build", "--date", "2022-01-15\n", "--run-as-of-ts", TS, "--source", "none"], "--date"),
        (["build", "--date", "２０２２-01-15", "--run-as-of-ts", TS, "--source", "none"], "--date"),
        (["build", "--date", "2022-01-15", "--run-as-of-ts", "２０２２-01-15T23:00:00Z", "--source", "none"],
         "--run-as-of-ts"),
        (["pin", "--date", "2022-01-15", "--run-id", "20220115T233000Z\n"], "--run-id"),
        (["pin", "--date", "2022-01-15", "--run-id", "２０２２0115T233000Z"], "--run-id"),
        (["unpin", "--date", "2022-01-15\n"], "--date"),
        ([*OVERNIGHT[:4], "--date", "2022-01-15\n", "--run-as-of-ts", TS], "--date"),
        (["train", "--features-path", "{missing}", "--train-start", "2021-10-1９"], "--train-start"),
        (["backtest", "--season", "2021-22\n", "--features-path", "{missing}"], "--season"),
        (["train", "--features-path", "{missing}", "--seasons", "2020-21,../../x"], "--seasons"),
    ],
)
def test_dates_run_ids_and_seasons_through_the_cli(world, args, flag):
    args = [a.format(missing=world["missing"]) for a in args]
    _assert_refused(runner.invoke(app, args), flag, world["tmp"])


def test_bounds_are_documented():
    doc = (ROOT / "docs" / "operations.md").read_text()
    for flag, (lo, hi) in cli_values.FLAG_BOUNDS.items():
        assert re.search(rf"\| `{flag}` \| {lo} \| {hi} \|", doc), f"docs/operations.md lacks the bounds of {flag}"


def test_dbt_macro_bounds_match_the_cli_bounds():
    macro = (ROOT / "macros" / "run_vars.sql").read_text()
    declared = dict(re.findall(r"'(\w+)': \[([^\]]+)\]", macro))
    for var, flag in cli_values.DBT_VAR_FLAGS.items():
        lo, hi = cli_values.FLAG_BOUNDS[flag]
        assert declared.get(var) == f"{lo}, {hi}", (var, declared.get(var))


# ------------------------------------------------------------------------------------ dbt vars

def _dbt_parse(tmp_path: Path, dbt_vars: dict) -> DbtError:
    with pytest.raises(DbtError) as caught:
        run_dbt(["parse"], vars=dbt_vars, db_path=tmp_path / "wh.duckdb", quiet=True)
    return caught.value


@pytest.mark.slow
@pytest.mark.parametrize(
    "dbt_vars, var",
    [
        ({"target_date": "２０２２-01-15", "run_as_of_ts": TS}, "target_date"),  # was a runtime cast error
        ({"target_date": "2022-01-15\n", "run_as_of_ts": TS}, "target_date"),
        ({"history_days": 1e11}, "history_days"),
        ({"odds_max_age_hours": "nan"}, "odds_max_age_hours"),
    ],
)
def test_plain_dbt_refuses_bad_vars_naming_them(tmp_path, dbt_vars, var):
    exc = _dbt_parse(tmp_path, dbt_vars)
    line = str(exc)
    assert f"invalid dbt var {var}=" in line, line
    assert "\n" not in line


@pytest.mark.slow
@pytest.mark.parametrize("way", ["vars", "params"])
def test_fractional_max_age_hours_become_exact_minutes_in_dbt(tmp_path, way):
    """Both ways in (plain --vars, the runner's MINUTES_LIVE_RUN_PARAMS) give run_context exact minutes."""
    target = tmp_path / "target"
    run_dbt(["compile", "--select", "run_context", "--target-path", str(target)],
            **{way: {"odds_max_age_hours": 1.5}}, db_path=tmp_path / "wh.duckdb", quiet=True)
    sql = next(target.rglob("run_context.sql")).read_text()
    assert "cast(90 as integer) as odds_max_age_minutes" in sql, sql[:2000]


@pytest.mark.slow
def test_runner_params_are_validated_and_never_mixed_with_vars(tmp_path):
    db = tmp_path / "wh.duckdb"
    with pytest.raises(DbtError) as caught:
        run_dbt(["compile", "--select", "run_context"], params={"history_days": -3}, db_path=db, quiet=True)
    assert "invalid dbt var history_days=-3" in str(caught.value), str(caught.value)
    with pytest.raises(DbtError) as caught:
        run_dbt(["compile", "--select", "run_context"], params={"histroy_days": 3}, db_path=db, quiet=True)
    assert "unknown run parameter histroy_days" in str(caught.value), str(caught.value)
    with pytest.raises(ValueError, match="not both"):
        run_dbt(["compile"], params={"history_days": 3}, vars={"history_days": 3}, db_path=db, quiet=True)
