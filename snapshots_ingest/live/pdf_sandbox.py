"""Parse an injury-report PDF in a child process that cannot run away: a wall-clock deadline, an address-space
limit (RLIMIT_AS) and a CPU limit, a page cap, and a cap on any one inflated (Flate) stream. A PDF is input
from elsewhere: a small file whose content stream inflates to hundreds of MB made pdfminer run for minutes
and take gigabytes, under the store lock. Here it ends in seconds with `InjuryReportParseError` naming the
file and the cap it hit (the ingest turns that into a rejected extract, exit 13).

    read_injury_report_bounded(payload, name=..., limits=InputLimits.from_env()) -> InjuryReport

The child is `python -m snapshots_ingest.live.pdf_sandbox '<limits json>'`: the PDF on stdin, the parsed
report (or the error) as JSON on stdout. Limits: snapshots_ingest/limits.py.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
import zlib
from datetime import date, datetime
from pathlib import Path

from snapshots_ingest.limits import (
    ENV_PDF_MAX_BYTES,
    ENV_PDF_MAX_STREAM_BYTES,
    ENV_PDF_MEMORY_MB,
    ENV_PDF_PARSE_SECONDS,
    InputLimits,
    human_bytes,
)
from snapshots_ingest.live.injury_report_pdf import (
    InjuryReport,
    InjuryReportParseError,
    InjuryReportRow,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class StreamTooLarge(InjuryReportParseError):
    """A compressed stream of the PDF inflates past the cap."""


def read_injury_report_bounded(payload: bytes, *, name: str, limits: InputLimits | None = None) -> InjuryReport:
    """`read_injury_report` in a limited child process (module docstring)."""
    limits = limits or InputLimits.from_env()
    if len(payload) > limits.pdf_max_bytes:
        raise InjuryReportParseError(
            f"{name}: the PDF is {human_bytes(len(payload))}, over the {human_bytes(limits.pdf_max_bytes)} cap "
            f"(${ENV_PDF_MAX_BYTES}; real injury reports are ~100 KB): not parsed")
    spec = {"name": name, "memory_mb": limits.pdf_memory_mb, "seconds": limits.pdf_parse_seconds,
            "max_pages": limits.pdf_max_pages, "max_stream_bytes": limits.pdf_max_stream_bytes}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)}
    t0 = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "snapshots_ingest.live.pdf_sandbox", json.dumps(spec)],
                              input=payload, capture_output=True, timeout=limits.pdf_parse_seconds, env=env,
                              cwd=PROJECT_ROOT)
    except subprocess.TimeoutExpired:  # subprocess.run has killed the child
        raise InjuryReportParseError(
            f"{name}: parsing did not finish within {limits.pdf_parse_seconds:g} s (${ENV_PDF_PARSE_SECONDS}); "
            "stopped: not a readable injury report") from None
    out = _result(proc.stdout)
    if out is None:
        raise InjuryReportParseError(f"{name}: {_crash(proc, limits, time.monotonic() - t0)}")
    if "error" in out:
        raise InjuryReportParseError(out["error"])
    return _report(out["report"])


def _result(stdout: bytes) -> dict | None:
    try:
        out = json.loads(stdout)
    except ValueError:
        return None
    return out if isinstance(out, dict) and ("error" in out or "report" in out) else None


def _crash(proc: subprocess.CompletedProcess, limits: InputLimits, seconds: float) -> str:
    import signal

    tail = (proc.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    if proc.returncode < 0:
        sig = signal.Signals(-proc.returncode).name if -proc.returncode in signal.valid_signals() else proc.returncode
        if sig == "SIGXCPU":
            return (f"parsing used more than {limits.pdf_parse_seconds:g} s of CPU (${ENV_PDF_PARSE_SECONDS}); "
                    "stopped: not a readable injury report")
        return (f"the parsing process was killed by {sig} after {seconds:.1f} s (memory cap "
                f"{limits.pdf_memory_mb} MB, ${ENV_PDF_MEMORY_MB}?)")
    return f"the parsing process failed (exit {proc.returncode}): {tail[0][:300]}"


def _report(payload: dict) -> InjuryReport:
    rows = [InjuryReportRow(**{**r, "report_ts_et": datetime.fromisoformat(r["report_ts_et"]),
                               "game_date": date.fromisoformat(r["game_date"])}) for r in payload["rows"]]
    return InjuryReport(datetime.fromisoformat(payload["report_ts_et"]), int(payload["pages"]), rows)


def _encode(report: InjuryReport) -> dict:
    rows = []
    for r in report.rows:
        row = dict(r.__dict__)
        row["report_ts_et"] = r.report_ts_et.isoformat()
        row["game_date"] = r.game_date.isoformat()
        rows.append(row)
    return {"report_ts_et": report.report_ts_et.isoformat(), "pages": report.pages, "rows": rows}


# ------------------------------------------------------------------------------------------- the child

class _CappedZlib:
    """Stands in for `zlib` inside pdfminer.pdftypes: `decompress` stops at the stream cap."""

    error = zlib.error

    def __init__(self, cap: int):
        self.cap = cap

    def decompress(self, data: bytes, *args, **kwargs) -> bytes:
        d = zlib.decompressobj()
        try:
            out = d.decompress(data, self.cap + 1)
        except zlib.error as exc:
            if "allocate" in str(exc):  # the address-space limit, reported by zlib
                raise MemoryError(str(exc)) from None
            raise
        if len(out) > self.cap:
            raise StreamTooLarge(
                f"a compressed stream inflates past {human_bytes(self.cap)} (${ENV_PDF_MAX_STREAM_BYTES}): "
                "not an injury report")
        return out + d.flush()

    def decompressobj(self, *args, **kwargs):
        return zlib.decompressobj(*args, **kwargs)


def _found(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """An exception of `kind` anywhere in the chain (pdfplumber wraps pdfminer's exceptions, args included)."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        e = todo.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, kind):
            return e
        todo += [e.__cause__, e.__context__, *e.args]
    return None


def _child(spec: dict) -> dict:
    import resource

    memory = int(spec["memory_mb"]) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = math.ceil(float(spec["seconds"])) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    import pdfminer.pdftypes

    from snapshots_ingest.live.injury_report_pdf import read_injury_report

    pdfminer.pdftypes.zlib = _CappedZlib(int(spec["max_stream_bytes"]))
    name = spec["name"]
    out_of_memory = (f"{name}: parsing needed more than {spec['memory_mb']} MB (${ENV_PDF_MEMORY_MB}); "
                     "stopped: not a readable injury report")
    payload = sys.stdin.buffer.read()
    try:
        report = read_injury_report(payload, name=name, max_pages=int(spec["max_pages"]))
    except StreamTooLarge as exc:
        return {"error": f"{name}: {exc}"}
    except MemoryError:
        return {"error": out_of_memory}
    except InjuryReportParseError as exc:
        if _found(exc, MemoryError):
            return {"error": out_of_memory}
        too_large = _found(exc, StreamTooLarge)
        return {"error": f"{name}: {too_large}" if too_large is not None and too_large is not exc else str(exc)}
    return {"report": _encode(report)}


if __name__ == "__main__":
    result = _child(json.loads(sys.argv[1]))
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()
