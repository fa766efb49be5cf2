"""The features_minutes_v1 column contract, read from the dbt mart definition (its one home)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MARTS_YML = PROJECT_ROOT / "models" / "marts" / "_marts__models.yml"
KEY_COLUMNS = ("game_id", "player_id", "team_id")
CONTRACT_SIZE = 92  # the 83 Minutes V1 reference columns + 9 standings / rest columns (issue 18)


@lru_cache(maxsize=1)
def contract_columns() -> tuple[tuple[str, str], ...]:
    """(name, dbt data_type) for every column of features_minutes_v1, in order (contract + provenance)."""
    import yaml  # here, not at import: scoring a slate never reads the contract (its bundle carries the spec)

    spec = yaml.safe_load(MARTS_YML.read_text())
    model = next(m for m in spec["models"] if m["name"] == "features_minutes_v1")
    return tuple((c["name"], c["data_type"]) for c in model["columns"])


def contract_names() -> list[str]:
    return [name for name, _ in contract_columns()]
