"""Injury-report PDF parser throughput: pages per second over the real fixture PDFs.

python bench/bench_pdf_parser.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pdfplumber

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

from snapshots_ingest.live.injury_report_pdf import parse_injury_report  # noqa: E402

PDF_DIR = ROOT / "tests" / "fixtures" / "injury_pdfs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="parse every PDF this many times")
    args = parser.parse_args()
    pdfs = sorted(PDF_DIR.glob("*.pdf"))
    payloads = [(p.name, p.read_bytes()) for p in pdfs]
    pages = 0
    rows = 0
    for p in pdfs:
        with pdfplumber.open(p) as pdf:
            pages += len(pdf.pages)
    start = time.perf_counter()
    for _ in range(args.repeat):
        for name, payload in payloads:
            rows += len(parse_injury_report(payload, name=name))
    elapsed = time.perf_counter() - start
    total_pages = pages * args.repeat
    print(
        f"{len(pdfs)} PDFs, {total_pages} pages, {rows} rows in {elapsed:.2f} s: {total_pages / elapsed:.1f} pages/s"
    )


if __name__ == "__main__":
    main()
