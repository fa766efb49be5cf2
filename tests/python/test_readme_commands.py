"""The README's "Using it" block, parsed from README.md and run as written, command by command, in order, on
the real data (so README and behaviour cannot drift), plus cheap checks of the block itself.

The run happens in a scratch checkout: the project's files linked into a temporary directory whose `data/`,
`artifacts/` and `reports/` are real folders (the roots MINUTES_LIVE_DATA_ROOT / _ARTIFACTS / _REPORTS name), with
`../shared/data/nba` linked to the real dataset, so the README's relative paths mean what they mean in a checkout
and nothing lands in this one. Commands that serve until Ctrl-C (`dbt docs serve`, `minutes-live dashboard`
without `--static`) are started, must answer HTTP 200 on their port, and are then stopped.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from foundation import settings

README = settings.PROJECT_ROOT / "README.md"
SERVES = re.compile(r"\A(dbt docs serve|minutes-live dashboard)\b")
RUN_ID = re.compile(r"\b(\d{8}T\d{6}Z)\b")
NOT_LINKED = {"data", "artifacts", "reports", "target", "logs", "dbt_packages", ".git"}


def readme_commands(text: str | None = None) -> list[str]:
    """The shell commands of the README's "Using it" section, in order: comment lines dropped, continuation
    lines (`\\`) joined; trailing comments stay (bash reads them as comments)."""
    text = text if text is not None else README.read_text()
    section = text.split("\n## Using it\n", 1)[1].split("\n## ", 1)[0]
    commands: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", section, re.S):
        pending = ""
        for line in block.splitlines():
            stripped = line.strip()
            if not pending and (not stripped or stripped.startswith("#")):
                continue
            if stripped.endswith("\\"):
                pending += stripped[:-1].rstrip() + " "
                continue
            commands.append(pending + stripped)
            pending = ""
        assert not pending, f"README block ends inside a continued line: {pending!r}"
    return commands


def _without_comment(command: str) -> str:
    return re.sub(r"\s+#.*\Z", "", command)


def test_the_block_parses_into_the_commands_a_newcomer_types():
    commands = readme_commands()
    assert len(commands) >= 20
    assert commands[0].startswith("minutes-live ingest --source replay --date 2022-01-15")
    assert all("\\" not in c for c in commands)


def test_every_run_the_block_names_is_created_earlier_in_the_block():
    """`runs diff 20220115T210000Z latest` failed with "no such run": nothing before it made a 21:00 run."""
    made: set[str] = set()
    for command in map(_without_comment, readme_commands()):
        if re.search(r"--run-id|runs (show|diff|export)", command):
            for run_id in RUN_ID.findall(command):
                assert run_id in made, f"{command!r} names run {run_id}, which no earlier command creates"
        for ts in re.findall(r"--run-as-of-ts (\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z", command):
            made.add("{}{}{}T{}{}{}Z".format(*ts))


def test_every_file_the_block_writes_is_under_a_git_ignored_root():
    """`--out slate.csv` and `--static out/dash` landed in the checkout, and git did not ignore them."""
    targets = [m for c in map(_without_comment, readme_commands())
               for m in re.findall(r"--(?:out|static) (\S+)", c)]
    assert targets, "the block writes no file?"
    ignored = [line.strip() for line in (settings.PROJECT_ROOT / ".gitignore").read_text().splitlines()]
    for target in targets:
        top = Path(target).parts[0]
        assert top in ("data", "artifacts", "reports") and f"/{top}/*" in ignored, target
        if (settings.PROJECT_ROOT / ".git").exists():
            check = subprocess.run(["git", "check-ignore", "-q", target], cwd=settings.PROJECT_ROOT)
            assert check.returncode == 0, f"git does not ignore {target}"


def _scratch_checkout(base: Path, dataset: Path) -> Path:
    checkout = base / "work" / "checkout"
    checkout.mkdir(parents=True)
    for entry in settings.PROJECT_ROOT.iterdir():
        if entry.name in NOT_LINKED or entry.name.startswith(".venv"):
            continue
        (checkout / entry.name).symlink_to(entry)
    for name in ("data", "artifacts", "reports"):
        (checkout / name).mkdir()
    shared = base / "work" / "shared" / "data"
    shared.mkdir(parents=True)
    (shared / "nba").symlink_to(dataset)
    return checkout


def _console_scripts(directory: Path) -> Path:
    """This checkout's console scripts (pyproject.toml [project.scripts]) as small executables, first on PATH: the
    README's commands run this checkout's code even when the venv was installed from another one."""
    import tomllib

    directory.mkdir(parents=True)
    scripts = tomllib.loads((settings.PROJECT_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for name, target in scripts.items():
        module, func = target.split(":")
        path = directory / name
        path.write_text(f"#!{sys.executable}\nimport sys\nfrom {module} import {func}\nsys.exit({func}())\n")
        path.chmod(0o755)
    return directory


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _serve_and_stop(command: str, cwd: Path, env: dict) -> str:
    port = int((re.search(r"--port (\d+)", command) or [None, 8765 if "dashboard" in command else 8080])[1])
    assert _port_free(port), f"port {port} is in use: {command!r} cannot run as written"
    proc = subprocess.Popen(["bash", "-c", command], cwd=cwd, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline, status = time.monotonic() + 300, None
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                    status = answer.status
                    break
            except OSError:
                time.sleep(1)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        output = proc.communicate(timeout=60)[0]
    assert status == 200, f"{command!r} did not answer on port {port}: {output[-3000:]}"
    return output


@pytest.mark.real_data
@pytest.mark.slow
def test_the_readme_block_runs_as_written(tmp_path, real_dataset_dir):
    checkout = _scratch_checkout(tmp_path, real_dataset_dir)
    env = {k: v for k, v in os.environ.items() if k != "MINUTES_LIVE_DUCKDB"}
    env.update(MINUTES_LIVE_DATA_ROOT=str(checkout / "data"), MINUTES_LIVE_ARTIFACTS=str(checkout / "artifacts"),
               MINUTES_LIVE_REPORTS=str(checkout / "reports"), MINUTES_LIVE_NBA_DIR=str(real_dataset_dir),
               MINUTES_LIVE_LOG_LEVEL="INFO",
               PATH=os.pathsep.join([str(_console_scripts(tmp_path / "bin")), str(Path(sys.executable).parent),
                                     env.get("PATH", "")]),
               PYTHONPATH=os.pathsep.join(p for p in (str(settings.PROJECT_ROOT), env.get("PYTHONPATH")) if p))
    timings = []
    started = time.monotonic()
    for command in readme_commands():
        t0 = time.monotonic()
        if SERVES.match(command) and "--static" not in command:
            _serve_and_stop(command, checkout, env)
        else:
            proc = subprocess.run(["bash", "-c", command], cwd=checkout, env=env, capture_output=True, text=True,
                                  timeout=3600)
            assert proc.returncode == 0, (f"README command failed (exit {proc.returncode}): {command}\n"
                                          f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
            if command.startswith("minutes-live ingest --source replay --backfill"):
                assert "recorded" in proc.stdout, proc.stdout
            if command.startswith("minutes-live train"):  # the README's backfill is reused, not ingested again
                assert "backfill ingest skipped" in proc.stderr, proc.stderr[-3000:]
        timings.append((time.monotonic() - t0, command))
    print(f"\nREADME block: {len(timings)} commands in {time.monotonic() - started:.0f} s")
    for seconds, command in timings:
        print(f"  {seconds:7.1f} s  {command[:110]}")
    # nothing of the replay went to the live dataset's roots
    assert not (checkout / "data" / "live").exists() and not (checkout / "data" / "registry").exists()
    assert (checkout / "reports" / "slate.csv").is_file()
