"""Guardrail failures and their exit codes: the one table operators and docs refer to.

Every refusal of the live builder and the scheduled job is a `GuardrailError` subclass with a fixed exit
code, raised with a one-line message naming what is missing or violated and for which game/kind.
docs/operations.md renders `EXIT_CODES` as a table.

Freshness: a snapshot older than its kind's max age (`--injuries-max-age-hours`, `--odds-max-age-hours`,
`--roster-max-age-hours`) does not qualify, so a game whose only snapshot is too old counts as missing that
kind (exit 4, 5 or 6): the max age is the fail threshold. Warn thresholds only add summary warnings.
"""

from __future__ import annotations


class GuardrailError(RuntimeError):
    exit_code = 1
    label = "error"


class InvalidInput(GuardrailError):
    exit_code = 2
    label = "invalid CLI value (date, timestamp, number, path)"


class ScheduleCoverageError(GuardrailError):
    exit_code = 3
    label = "a target game has no schedule row or no tip time, or the slate is empty"


class InjuryCoverageError(GuardrailError):
    exit_code = 4
    label = "a target game has no qualifying injury report (use --allow-missing-injuries)"


class OddsCoverageError(GuardrailError):
    exit_code = 5
    label = "a target game has no qualifying odds quote (use --allow-missing-odds)"


class RosterCoverageError(GuardrailError):
    exit_code = 6
    label = "no roster for a target team within the fallback window / max age"


class SlateStartedError(GuardrailError):
    exit_code = 8
    label = "run_as_of_ts is after every tip of the slate (use --allow-started-slate)"


class RunExistsError(GuardrailError):
    exit_code = 9
    label = "the run id already exists (runs are immutable; use --replace deliberately)"


class DbtBuildError(GuardrailError):
    exit_code = 10
    label = "dbt build failed (a model or a data test failed)"


class ParityError(GuardrailError):
    exit_code = 11
    label = "parity check found differences between live and gold features"


class LockBusyError(GuardrailError):
    exit_code = 12
    label = "another job holds the store lock (waited --lock-timeout seconds)"


class DatasetInputError(GuardrailError):
    exit_code = 13
    label = "an input extract or dataset is malformed, or an injury report does not cover the slate (file and reason in the message; use --allow-missing-injuries for the latter)"


class ScoringInputError(GuardrailError):
    exit_code = 14
    label = "scoring input unusable: no active bundle, an incomplete bundle, or features that do not fit it"


# The store (the DuckDB file, foundation/store.py). Same exit codes as the job lock and bad inputs.
class StoreBusyError(LockBusyError):
    label = "another process holds the DuckDB file (any mode; waited --lock-timeout seconds; PID and command in the message)"


class StoreDatasetMismatchError(DatasetInputError):
    label = "the store holds another dataset (each dataset has its own store; both named in the message)"


class StoreUnusableError(DatasetInputError):
    label = "the DuckDB file is missing, unreadable, read-only, garbage, truncated or corrupt (path and what to do in the message)"


class StorageError(GuardrailError):
    exit_code = 15
    label = ("the file system refused a write or read: disk full, read-only, permission denied or a name too long "
             "(path and errno in the message; nothing was published)")


class DamagedStateError(GuardrailError):
    exit_code = 16
    label = "a state file (registry, journal, pin, roots, run file) is damaged: the file is named; repair or remove it"


class SourceUnreachableError(GuardrailError):
    exit_code = 17
    label = ("a live source could not be reached (connection refused, DNS, timeout, or HTTP 5xx after the retries): "
             "host and kind in the message; nothing was ingested, retry later or fix the URL in the live source config")


EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "unexpected error (bug): the traceback is in the log",
    **{
        cls.exit_code: cls.label
        for cls in (
            InvalidInput,
            ScheduleCoverageError,
            InjuryCoverageError,
            OddsCoverageError,
            RosterCoverageError,
            SlateStartedError,
            RunExistsError,
            DbtBuildError,
            ParityError,
            LockBusyError,
            DatasetInputError,
            ScoringInputError,
            StorageError,
            DamagedStateError,
            SourceUnreachableError,
        )
    },
}
