"""Help text conventions for every command (`--help` shows each option's default and allowed values).

- a fixed set of values is the option's metavar: `--source [replay|synthetic|live]` (`choices`); the command
  still checks the value itself (foundation/cli_values.py: one line naming the flag, exit 2);
- a bounded number says its bounds: `(0..3650)` from foundation.cli_values.FLAG_BOUNDS (`bounded`);
- a default that is not a literal (now, today in US/Eastern, a path from settings) is spelled out in the
  help text as `default: ...`; literal defaults are shown by typer as `[default: ...]`.
tests/python/test_terminal_and_schedule.py walks every command and checks these rules.
"""

from __future__ import annotations

from collections.abc import Iterable

from foundation.cli_values import FLAG_BOUNDS


def choices(values: Iterable[str]) -> str:
    """The metavar listing the allowed values: [a|b|c]."""
    return "[" + "|".join(values) + "]"


def bounded(flag: str, text: str) -> str:
    """`text` followed by the flag's inclusive bounds, e.g. 'Days of history (0..3650).'"""
    lo, hi = FLAG_BOUNDS[flag]
    text = text.rstrip()
    dot = text.endswith(".")
    return f"{text[:-1] if dot else text} ({lo}..{hi}){'.' if dot else ''}"


DATASET_DIR_DEFAULT = "default: $MINUTES_LIVE_NBA_DIR or ../shared/data/nba for replay, data/synthetic_league for synthetic"
