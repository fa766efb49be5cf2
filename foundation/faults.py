"""Named step boundaries of the run lifecycle, where a crash test can stop the real process.

Every command that writes a run calls `boundary(name)` between its steps (the names are listed in
`BOUNDARIES` and in docs/operations.md). In production this is a no-op. A crash test sets
`MINUTES_LIVE_PAUSE_AT=<name>` and `MINUTES_LIVE_PAUSE_FILE=<path>`: on reaching that boundary the process
writes its pid to the file and waits there, so the test can SIGKILL it exactly at that boundary and then
check what an operator would check.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

BOUNDARIES = (
    "after_ingest",       # raw snapshots stored, nothing built
    "after_dbt",          # dbt build done, features read, nothing staged
    "after_features",     # features staged (temp directory), not scored
    "after_score",        # scores staged
    "after_reports",      # reports staged: the run is complete but unpublished
    "publish:features",   # features renamed into run=<id>, scores and reports still staged
    "publish:scores",     # features and scores renamed, reports still staged
    "publish:reports",    # every directory renamed, `latest` not moved yet
    "publish:pointer",    # `latest` moved, the publication journal not yet cleared
    "after_publish",      # published, the registry does not say so yet
)


def boundary(name: str) -> None:
    if os.environ.get("MINUTES_LIVE_PAUSE_AT") != name:
        return
    marker = os.environ.get("MINUTES_LIVE_PAUSE_FILE")
    if marker:
        from foundation.atomic import write_text

        write_text(Path(marker), f"{os.getpid()} {name}\n")
    while True:  # until the test kills us
        time.sleep(3600)
