"""The active-bundle pointer: which Minutes V1 bundle scoring uses (read side).

The pointer is runtime state, `settings.bundle_config_path()` (artifacts/minutes_v1/current_run.json), written
by `promote` (scoring/train.py). Reading it lives here, apart from training, so that the scorer process
imports neither the training code nor scikit-learn.
"""

from __future__ import annotations

import json
from pathlib import Path

from foundation import settings

PROMOTE_COMMAND = "minutes-live train --dataset-dir ../shared/data/nba --promote"


def resolve_bundle_dir(config_path: Path | None = None) -> Path:
    """The bundle directory named by the active-bundle pointer (relative paths are from the project root).

    Raises FileNotFoundError naming the command to run when there is no pointer (a fresh clone) or when it
    names a bundle directory that is not there; ValueError when the pointer is not usable JSON."""
    config_path = Path(config_path) if config_path is not None else settings.bundle_config_path()
    if not config_path.exists():
        raise FileNotFoundError(
            f"no active Minutes V1 bundle ({config_path} does not exist): train and promote one with `{PROMOTE_COMMAND}`"
        )
    try:
        payload = json.loads(config_path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"active bundle pointer {config_path} is not JSON ({exc}): promote a bundle again "
                         f"(`minutes-live promote <bundle dir>`)") from None
    if not isinstance(payload, dict) or "bundle_dir" not in payload:
        raise ValueError(f"active bundle pointer {config_path} has no 'bundle_dir'")
    path = Path(payload["bundle_dir"])
    path = path if path.is_absolute() else settings.PROJECT_ROOT / path
    if not path.is_dir():
        raise FileNotFoundError(
            f"the active bundle pointer {config_path} names bundle directory {path}, which does not exist: "
            f"train and promote one with `{PROMOTE_COMMAND}`"
        )
    return path
