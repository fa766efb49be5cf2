"""Hostile PDFs built on the fly (nothing large is stored in the repository)."""

from __future__ import annotations

import zlib


def pdf_with_streams(streams: list[bytes], level: int = 9) -> bytes:
    """A valid PDF with one page per content stream (Flate-compressed), Helvetica as /F1."""
    objects: list[bytes] = []
    n = len(streams)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode())
    font = 3 + 2 * n
    for i, content in enumerate(streams):
        packed = zlib.compress(content, level)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
                       f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode())
        objects.append(f"<< /Length {len(packed)} /Filter /FlateDecode >>\nstream\n".encode() + packed
                       + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def text_bomb(inflated_bytes: int) -> bytes:
    """One page whose content stream inflates to about `inflated_bytes` of text-drawing operators: every
    operator is a character pdfminer lays out, so parsing costs time and memory in proportion."""
    op = b"BT /F1 1 Tf 10 10 Td (x) Tj ET\n"
    return pdf_with_streams([op * max(1, inflated_bytes // len(op))])


def blank_pages(pages: int) -> bytes:
    return pdf_with_streams([b"" for _ in range(pages)])
