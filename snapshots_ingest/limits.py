"""Caps on what an input may cost: the size of a local input file, and the time, memory, pages and inflated
stream size an injury-report PDF may take to parse (the parse runs in a child process that holds these limits,
snapshots_ingest/live/pdf_sandbox.py). HTTP bodies have their own caps in the live-source config
(`max_body_bytes`, `fetch_deadline_s`: snapshots_ingest/live/http_client.py).

Each cap has a default and an environment variable (docs/operations.md, "Input caps"):

| variable | default | what |
| --- | --- | --- |
| MINUTES_LIVE_MAX_INPUT_BYTES | 64 MiB | a local input file (`--schedule-path`, `--injuries-path`, ...) |
| MINUTES_LIVE_PDF_MAX_BYTES | 16 MiB | an injury-report PDF, fetched or local (real ones are ~100 KB) |
| MINUTES_LIVE_PDF_PARSE_SECONDS | 60 | wall-clock time to parse one PDF |
| MINUTES_LIVE_PDF_MEMORY_MB | 1024 | address space of the parsing process |
| MINUTES_LIVE_PDF_MAX_PAGES | 60 | pages of one report (real ones have 2-15) |
| MINUTES_LIVE_PDF_MAX_STREAM_BYTES | 16 MiB | one inflated (Flate) stream of the PDF |

A value that is not a positive number is refused with exit 2 naming the variable.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from foundation.guardrails import InvalidInput

MIB = 1024 * 1024

ENV_MAX_INPUT_BYTES = "MINUTES_LIVE_MAX_INPUT_BYTES"
ENV_PDF_MAX_BYTES = "MINUTES_LIVE_PDF_MAX_BYTES"
ENV_PDF_PARSE_SECONDS = "MINUTES_LIVE_PDF_PARSE_SECONDS"
ENV_PDF_MEMORY_MB = "MINUTES_LIVE_PDF_MEMORY_MB"
ENV_PDF_MAX_PAGES = "MINUTES_LIVE_PDF_MAX_PAGES"
ENV_PDF_MAX_STREAM_BYTES = "MINUTES_LIVE_PDF_MAX_STREAM_BYTES"


def _env_number(name: str, default: float, *, integer: bool = True) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise InvalidInput(f"${name} {raw!r} is not {kind} > 0") from None
    if not math.isfinite(value) or value <= 0:
        raise InvalidInput(f"${name} {raw!r} must be a finite number > 0")
    return value


@dataclass(frozen=True)
class InputLimits:
    max_input_bytes: int = 64 * MIB
    pdf_max_bytes: int = 16 * MIB
    pdf_parse_seconds: float = 60.0
    pdf_memory_mb: int = 1024
    pdf_max_pages: int = 60
    pdf_max_stream_bytes: int = 16 * MIB

    @classmethod
    def from_env(cls) -> InputLimits:
        d = cls()
        return cls(
            max_input_bytes=int(_env_number(ENV_MAX_INPUT_BYTES, d.max_input_bytes)),
            pdf_max_bytes=int(_env_number(ENV_PDF_MAX_BYTES, d.pdf_max_bytes)),
            pdf_parse_seconds=_env_number(ENV_PDF_PARSE_SECONDS, d.pdf_parse_seconds, integer=False),
            pdf_memory_mb=int(_env_number(ENV_PDF_MEMORY_MB, d.pdf_memory_mb)),
            pdf_max_pages=int(_env_number(ENV_PDF_MAX_PAGES, d.pdf_max_pages)),
            pdf_max_stream_bytes=int(_env_number(ENV_PDF_MAX_STREAM_BYTES, d.pdf_max_stream_bytes)),
        )


def human_bytes(n: int) -> str:
    if n >= MIB:
        return f"{n / MIB:.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} bytes"
