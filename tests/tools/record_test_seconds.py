"""Per-test seconds of a whole-suite run, for scheduling: the fast tier (conftest) hands test files to the xdist
workers longest first (the sum of their selected tests' seconds in tests/python/test_seconds.json), so that a
long file never starts last and leaves one worker idle.

    python tests/tools/record_test_seconds.py JUNIT.xml   # rewrite tests/python/test_seconds.json from the
                                                         # --junitxml of a whole-suite run (.ci/run's command)
A test's seconds include the fixtures it set up first (a module's store, say). Tests the run did not see have
no entry; the conftest counts them at UNKNOWN_SECONDS."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

TABLE = Path(__file__).resolve().parents[1] / "python" / "test_seconds.json"


def test_seconds(junit: Path) -> dict[str, float]:
    """{node id: seconds} from a junit report (the suite has no test classes: classname is the module)."""
    out: dict[str, float] = {}
    for case in ET.parse(junit).iter("testcase"):
        path = case.get("classname", "").replace(".", "/") + ".py"
        out[f"{path}::{case.get('name')}"] = round(float(case.get("time") or 0), 1)
    return dict(sorted(out.items()))


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_file():
        print(__doc__, file=sys.stderr)
        return 2
    table = test_seconds(Path(argv[0]))
    TABLE.write_text(json.dumps(table, indent=0) + "\n")
    print(f"{TABLE}: {len(table)} tests, {sum(table.values()):.0f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
