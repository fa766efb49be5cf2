"""The bodies the /v1 read routes answer, as pydantic models: what minutes_live.api.views returns, for
/openapi.json (and the /docs page rendered from it).

    Projections   GET /v1/slates/{date}/projections   rows of one run, each with its RowProvenance
    Runs          GET /v1/slates/{date}/runs          the date's runs, what `latest` names, the pin, the history
    Diff          GET /v1/slates/{date}/diff          who moved between two runs, and why
    Scenarios     GET /v1/slates/{date}/scenarios     the game-time-decision worlds
    Health        GET /v1/health
    Error         every error: {"error", "exit_code"} (minutes_live.api.app.error_body)

The routes send cached JSON bytes (minutes_live.api.routes.Answers): these models document the answers and
are attached as `responses=`, never as a response_model, so no answer is validated on its way out. The tests
validate real answers against them (tests/python/minutes_live/api/), and every model forbids fields it does
not name: a view that adds or renames a field without its model here fails those tests.

Instants are ISO-8601 strings (UTC where the view converts them: views.iso_utc). A row field marked "when the
run's scores have the column" is absent from an answer whose minutes.parquet lacks that column (the views copy
only the columns present: views.ROW_COLUMNS, views.SCENARIO_COLUMNS).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _col(description: str):
    return Field(None, description=f"{description} (when the run's scores have the column).")


# ---------------------------------------------------------------------------------------------- errors
class Error(Body):
    """Every error answer (minutes_live.api.app.error_body): one line, and the CLI's exit code."""

    error: str = Field(description="One line saying what is wrong (never a traceback).",
                       examples=["date '2022-13-45' is not a valid calendar date (month must be in 1..12)"])
    exit_code: int = Field(description="The exit code the CLI gives for the same error (2: a bad value).",
                           examples=[2])


# ------------------------------------------------------------------------------------------ selection
class Selected(Body):
    """Which run a read names and how (minutes_live.api.selection.Selected)."""

    run_id: str = Field(description="The run id, YYYYMMDDTHHMMSSZ.", examples=["20220115T230000Z"])
    run_as_of_ts: str = Field(description="The run's information instant (ISO-8601, UTC).")
    selected_by: Literal["latest", "as_of", "served_at", "run"]
    at: str | None = Field(description="The instant asked about (as_of / served_at), else null.")
    served_since: str | None = Field(description="served_at: when `latest` started naming the run, else null.")
    pinned: bool = Field(description="latest / served_at: the run was served as a pin.")


# ---------------------------------------------------------------------------------------- projections
class InputProvenance(Body):
    """The snapshot of one input kind a row selected, and the raw extract that brought it into the store."""

    snapshot_ts: str | None = Field(description="The snapshot the row selected (its own, else its game's from "
                                                "coverage.csv), ISO-8601 UTC; null when neither has one.")
    extract: str | None = Field(description="The raw extract, as a path under the data root; null when the run's "
                                            "recorded inputs do not name the snapshot.")
    extract_sha256: str | None = Field(description="sha256 of the extract's bytes; null with `extract`, e.g. for "
                                                   "a run built before inputs were recorded (the answer's "
                                                   "provenance_note says why).")


class Inputs(Body):
    """Per input kind (views.INPUT_KINDS)."""

    injuries: InputProvenance
    odds: InputProvenance
    roster: InputProvenance


class RowProvenance(Body):
    """Where a row comes from: the run, its bundle and code, and the inputs it selected."""

    run_id: str
    run_as_of_ts: str | None = Field(description="From the run's summaries; null if neither records it.")
    bundle_id: str | None
    code_version: str | None = Field(examples=["git:605a185"])
    bundle_git_commit: str | None
    features_sha256: str | None
    dataset: str | None
    inputs: Inputs


class Minutes(Body):
    """A player's minutes: the fields a projection row and a world's player share."""

    play_prob: float | None = _col("Probability that he plays")
    minutes_mean: float | None = _col("Expected minutes")
    minutes_p10: float | None = _col("10th percentile of minutes")
    minutes_p50: float | None = _col("Median minutes")
    minutes_p90: float | None = _col("90th percentile of minutes")


class ProjectionRow(Minutes):
    """One player of the run (its minutes.parquet, views.ROW_COLUMNS), with its provenance."""

    game_id: int
    player_id: int
    team_id: int
    team_tricode: str | None = _col("Team tricode")
    opponent_team_tricode: str | None = _col("Opponent's tricode")
    player_name: str | None = _col("Player name")
    status: str | None = _col("Injury-report status (AVAILABLE, QUESTIONABLE, OUT, ...)")
    is_starter: bool | None = _col("Starts the game (confirmed lineup, else projected)")
    tip_ts: str | None = _col("The game's tip-off, ISO-8601")
    minutes_if_play_p10: float | None = _col("10th percentile of minutes if he plays")
    minutes_if_play_p50: float | None = _col("Median minutes if he plays")
    minutes_if_play_p90: float | None = _col("90th percentile of minutes if he plays")
    provenance: RowProvenance


class Projections(Body):
    """GET /v1/slates/{date}/projections (views.projections)."""

    date: str = Field(description="The slate date, YYYY-MM-DD.", examples=["2022-01-15"])
    dataset: str
    selected: Selected
    provenance_note: str | None = Field(description="Why the rows carry no extracts (inputs not recorded); null "
                                                    "when recorded.")
    count: int = Field(description="len(rows), after the team / slate filters.")
    rows: list[ProjectionRow]


# ------------------------------------------------------------------------------------------------ runs
class RunEntry(Body):
    """One run of the date (minutes_live.runs.catalog.RunInfo.as_dict)."""

    day: str
    run_id: str
    run_as_of_ts: str
    status: str = Field(description="succeeded | failed | killed | started | damaged | archived | unrecorded "
                                    "(the registry's word for the run).")
    job: str | None
    exit_code: int | None
    error: str | None
    kinds: list[str] = Field(description="The run directories on disk (features, scores, reports).")
    latest: list[str] = Field(description="The roots whose `latest` names this run.")
    pinned: bool
    rows: int | None
    games: int | None
    worst_age_minutes: dict[str, float | None] = Field(description="Per input kind: the oldest snapshot's age at "
                                                                   "the run's instant, over the slate's games.")
    warnings: int
    missing_games: dict[str, int] = Field(description="Per input kind: games with no qualifying snapshot.")
    attempts: int = Field(description="Registry attempts of this run id.")
    note: str | None


class Pin(Body):
    """The date's pin (.publication/pinned.json, written by foundation.publication.Publication.pin)."""

    run_id: str
    reason: str | None = None
    pinned_at: str | None = None


class Move(Body):
    """One move of the date's `latest` (the publication history, .publication/history.jsonl)."""

    at: str = Field(description="When `latest` moved, ISO-8601.")
    served: dict[str, str | None] = Field(description="Per root kind: the run `latest` named from then on.")
    pinned: str | None = Field(description="The pinned run id, when the move was a pin.")


class Runs(Body):
    """GET /v1/slates/{date}/runs (views.runs)."""

    date: str
    dataset: str
    served: dict[str, str | None] = Field(description="Per root kind: what `latest` names now.")
    pinned: Pin | None
    runs: list[RunEntry] = Field(description="Newest first.")
    history: list[Move] = Field(description="Every move of `latest`, oldest first.")


# ------------------------------------------------------------------------------------------------ diff
class DiffRow(Body):
    """A player who moved (minutes_live.dashboard.diffing.diff_against)."""

    player_id: int | None
    player_name: str | None
    team_tricode: str | None
    p50_a: float | None = Field(description="p50 in the `from` run; null when he was not in it.")
    p50_b: float | None = Field(description="p50 in the `to` run; null when he is not in it.")
    delta: float | None
    status_a: str | None
    status_b: str | None
    reasons: list[str]
    primary_reason: str | None


class Diff(Body):
    """GET /v1/slates/{date}/diff (views.diff)."""

    date: str
    dataset: str
    from_: str = Field(alias="from", description="The `from` run id (latest resolved).")
    to: str = Field(description="The `to` run id (latest resolved).")
    min_delta: float
    count: int
    rows: list[DiffRow]


# ------------------------------------------------------------------------------------------- scenarios
class WorldPlayer(Minutes):
    """A teammate in one world, his minutes in that world (the run's scenarios.parquet, views.SCENARIO_COLUMNS)."""

    player_id: int
    player_name: str | None = _col("Player name")
    status: str | None = _col("Injury-report status")


class World(Body):
    """One outcome of a decision: he sits, or he plays."""

    world: Literal["sits", "plays"]
    world_prob: float
    players: list[WorldPlayer]


class Decision(Body):
    """A game-time decision: a questionable / doubtful player and his team's two worlds."""

    game_id: int
    team_id: int
    team_tricode: str
    player_id: int
    player_name: str
    status: str
    worlds: list[World]


class Scenarios(Body):
    """GET /v1/slates/{date}/scenarios (views.scenarios)."""

    date: str
    dataset: str
    selected: Selected
    count: int
    decisions: list[Decision]


# ---------------------------------------------------------------------------------------------- health
class Health(Body):
    """GET /v1/health."""

    ok: Literal[True]
    version: str


# ----------------------------------------------------------------------------------- responses= values
def _error(description: str) -> dict:
    return {"model": Error, "description": description}


_READ_ERRORS: dict[int | str, dict] = {
    400: _error("A malformed value (checked like the CLI's flags; exit code 2)."),
    404: _error("No such date or run."),
    409: _error("A damaged run or state file."),
}
OTHER_ERRORS = {"default": _error("Any other error, with the same body: 403 a foreign Host, 500 a bug (its "
                                  "traceback is in the server's log).")}
ERRORS = {**_READ_ERRORS, **OTHER_ERRORS}
SLATE_ERRORS = {**_READ_ERRORS, 501: _error("slate= while slates are not available on this server."), **OTHER_ERRORS}


def answers(model: type[BaseModel], description: str, errors: dict = ERRORS) -> dict:
    """The `responses=` of a read route: its 200 body and its errors (minutes_live.api.app.status_for). With
    `default` given, FastAPI documents no 422: the app answers a request validation error as a 400."""
    return {200: {"model": model, "description": description}, **errors}
