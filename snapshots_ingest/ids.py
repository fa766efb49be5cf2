"""Integer ids for the feature contract, derived from source ids.

The contract keys (`game_id`, `player_id`, `team_id`) are integers; sources give strings
(basketball-reference slugs, NBA.com ids, synthetic ids). The mapping is a pure function of the
source id, so it is stable across machines and ingestion orders: the same input always gives the
same id, and a new player gets a new id without renumbering anyone (there is no sequence to shift).

- team_id   = the NBA.com team id (1610612737 ATL ... 1610612766 CHA), looked up by tricode.
- game_id   = for date-based ids (`YYYYMMDD0HHH`, basketball-reference and the synthetic league):
              `YYYYMMDD * 100 + (team_id % 100)` of the home team, e.g. 202110190MIL -> 2021101949.
              For NBA.com ids ("0022500123"): the integer value (22500123); the two ranges cannot meet.
- player_id = the first 53 bits of blake2b("<namespace>:<source id>") (53 bits so the id survives a
              round trip through a float or JSON number). Namespaces keep id universes apart:
              `bref` (replay of basketball-reference data), `syn` (synthetic league), `nba` (NBA.com).

Every id minted at ingest is also written to `raw.id_crosswalk` so users can map back.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# NBA.com team ids and tricodes. basketball-reference uses BRK/CHO/PHO for BKN/CHA/PHX.
NBA_TEAMS: dict[str, tuple[int, str]] = {
    "ATL": (1610612737, "Atlanta Hawks"),
    "BOS": (1610612738, "Boston Celtics"),
    "BKN": (1610612751, "Brooklyn Nets"),
    "CHA": (1610612766, "Charlotte Hornets"),
    "CHI": (1610612741, "Chicago Bulls"),
    "CLE": (1610612739, "Cleveland Cavaliers"),
    "DAL": (1610612742, "Dallas Mavericks"),
    "DEN": (1610612743, "Denver Nuggets"),
    "DET": (1610612765, "Detroit Pistons"),
    "GSW": (1610612744, "Golden State Warriors"),
    "HOU": (1610612745, "Houston Rockets"),
    "IND": (1610612754, "Indiana Pacers"),
    "LAC": (1610612746, "LA Clippers"),
    "LAL": (1610612747, "Los Angeles Lakers"),
    "MEM": (1610612763, "Memphis Grizzlies"),
    "MIA": (1610612748, "Miami Heat"),
    "MIL": (1610612749, "Milwaukee Bucks"),
    "MIN": (1610612750, "Minnesota Timberwolves"),
    "NOP": (1610612740, "New Orleans Pelicans"),
    "NYK": (1610612752, "New York Knicks"),
    "OKC": (1610612760, "Oklahoma City Thunder"),
    "ORL": (1610612753, "Orlando Magic"),
    "PHI": (1610612755, "Philadelphia 76ers"),
    "PHX": (1610612756, "Phoenix Suns"),
    "POR": (1610612757, "Portland Trail Blazers"),
    "SAC": (1610612758, "Sacramento Kings"),
    "SAS": (1610612759, "San Antonio Spurs"),
    "TOR": (1610612761, "Toronto Raptors"),
    "UTA": (1610612762, "Utah Jazz"),
    "WAS": (1610612764, "Washington Wizards"),
}

BREF_TO_NBA_TRICODE = {"BRK": "BKN", "CHO": "CHA", "PHO": "PHX"}

PLAYER_NAMESPACES = ("bref", "syn", "nba")

_BREF_GAME_ID = re.compile(r"^(\d{8})0([A-Z]{3})$")
_NBA_GAME_ID = re.compile(r"^\d{10}$")


class UnknownIdError(ValueError):
    """A source id that cannot be mapped; the message names the value."""


def nba_tricode(code: str) -> str:
    """Normalize a team code (basketball-reference or NBA.com) to the NBA.com tricode."""
    code = str(code).strip().upper()
    code = BREF_TO_NBA_TRICODE.get(code, code)
    if code not in NBA_TEAMS:
        raise UnknownIdError(f"unknown team code {code!r}")
    return code


def team_id(code: str) -> int:
    return NBA_TEAMS[nba_tricode(code)][0]


def game_id(source_game_id: str) -> int:
    """Integer game id from a basketball-reference style or NBA.com game id."""
    sid = str(source_game_id).strip()
    m = _BREF_GAME_ID.match(sid)
    if m:
        return int(m.group(1)) * 100 + team_id(m.group(2)) % 100
    if _NBA_GAME_ID.match(sid):
        return int(sid)
    raise UnknownIdError(f"unrecognized game id {source_game_id!r} (expected YYYYMMDD0TTT or a 10-digit NBA.com id)")


def player_id(source_player_id: str, namespace: str) -> int:
    if namespace not in PLAYER_NAMESPACES:
        raise UnknownIdError(f"unknown player id namespace {namespace!r}; expected one of {PLAYER_NAMESPACES}")
    sid = str(source_player_id).strip()
    if not sid:
        raise UnknownIdError("empty player id")
    digest = hashlib.blake2b(f"{namespace}:{sid}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 11


def normalize_person_name(name: str) -> str:
    """Accent-folded, lower-case 'first last' form used to match report names to rosters.

    'Jaquez Jr., Jaime' -> 'jaime jaquez jr', "O'Neale, Royce" -> 'royce oneale'.
    """
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    if "," in text:
        last, first = text.split(",", 1)
        text = f"{first} {last}"
    text = re.sub(r"[.'`’]", "", text.lower())
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())
