"""The house's layers, checked from the code's own imports (module level and inside functions): nothing imports
a layer above it, wings of one floor do not import each other, and only the CLI wing imports typer."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# (prefix, floor): a module may import its own package and any lower floor
FLOORS = [
    ("foundation", 0),
    ("snapshots_ingest", 1),
    ("scoring", 2),
    ("minutes_live.pipeline", 3),
    ("minutes_live.runs", 4),
    ("minutes_live.lab", 5),
    ("minutes_live.dashboard", 5),
    ("minutes_live.watch", 5),
    ("minutes_live.demo", 6),
    ("minutes_live.api", 6),  # the read API and the dashboard's server (minutes-live serve)
    ("minutes_live.cli", 7),
]


def _package(module: str) -> tuple[str, int] | None:
    for prefix, floor in FLOORS:
        if module == prefix or module.startswith(prefix + "."):
            return prefix, floor
    return None


def _imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
            out += [f"{node.module}.{a.name}" for a in node.names]  # `from minutes_live import runs`
    return out


def _modules():
    for package in ("foundation", "snapshots_ingest", "scoring", "minutes_live"):
        for path in sorted((ROOT / package).rglob("*.py")):
            yield ".".join(path.relative_to(ROOT).with_suffix("").parts), path


def test_no_import_runs_up_a_floor_or_across_a_floor() -> None:
    problems = []
    for module, path in _modules():
        mine = _package(module)
        if mine is None:
            continue
        for target in _imports(path):
            theirs = _package(target)
            if theirs is None or theirs[0] == mine[0]:
                continue
            if theirs[1] > mine[1] or (theirs[1] == mine[1]):
                problems.append(f"{module} imports {target} ({mine[0]} floor {mine[1]} -> {theirs[0]} floor {theirs[1]})")
    assert problems == [], "\n".join(sorted(set(problems)))


def test_only_the_cli_wing_imports_typer() -> None:
    allowed = {"snapshots_ingest.synthetic_league"}  # its own `python -m` entry point, imported inside main()
    users = sorted(m for m, p in _modules() if any(t == "typer" or t.startswith("typer.") for t in _imports(p))
                   and not m.startswith("minutes_live.cli") and m not in allowed)
    assert users == []


def test_the_package_folder_holds_few_files() -> None:
    direct = sorted(p.name for p in (ROOT / "minutes_live").glob("*.py"))
    assert len(direct) <= 8, direct
