"""GET /docs: the API reference as one self-contained HTML page, rendered on the server from the app's own
OpenAPI document (/openapi.json): each operation with its parameters and its answers, then every body schema
(minutes_live.api.schemas) with its fields. No script, style sheet or font is loaded from anywhere (FastAPI's
Swagger UI would fetch its assets from a CDN), so it works offline and behind any firewall."""

from __future__ import annotations

import html
import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter()

STYLE = """body{font:14px/1.5 system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#1f2328}
h2{margin-top:2em;border-bottom:1px solid #d0d7de}code{background:#f6f8fa;padding:0 .3em;border-radius:4px}
.op{margin:1.2em 0;padding:.6em 1em;border:1px solid #d0d7de;border-radius:6px}
.m{display:inline-block;min-width:4em;font-weight:600}.get{color:#0969da}.post{color:#8250df}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #d0d7de;padding:.2em .5em;text-align:left;
vertical-align:top}"""


def e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def schema_type(schema: dict) -> str:
    """A schema in a few words, as HTML: `integer | null`, `list of <a>ProjectionRow</a>`, `map of number`."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"<a href=\"#schema-{e(name)}\">{e(name)}</a>"
    if "anyOf" in schema:
        return " | ".join(schema_type(s) for s in schema["anyOf"])
    if "const" in schema:
        return f"<code>{e(json.dumps(schema['const']))}</code>"
    if "enum" in schema:
        return " | ".join(f"<code>{e(json.dumps(v))}</code>" for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {schema_type(schema.get('items') or {})}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"map of {schema_type(schema['additionalProperties'])}"
    return e(kind)


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A table of HTML cells (already escaped)."""
    cells = "".join(f"<tr>{''.join(f'<td>{c}</td>' for c in row)}</tr>" for row in rows)
    return f"<table><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr>{cells}</table>"


def _answers(op: dict) -> str:
    rows = []
    for status, answer in (op.get("responses") or {}).items():
        schema = ((answer.get("content") or {}).get("application/json") or {}).get("schema")
        rows.append((e(status), schema_type(schema) if schema else "", e(answer.get("description"))))
    return _table(("answer", "body", "description"), rows) if rows else ""


def _schemas(spec: dict) -> list[str]:
    parts = []
    for name, schema in (spec.get("components") or {}).get("schemas", {}).items():
        required = set(schema.get("required") or ())
        rows = [(f"<code>{e(field)}</code>", schema_type(prop), "yes" if field in required else "",
                 e(prop.get("description"))) for field, prop in (schema.get("properties") or {}).items()]
        parts.append(f"<div class=\"op\" id=\"schema-{e(name)}\"><div><b>{e(name)}</b></div>"
                     f"<p>{e(schema.get('description'))}</p>"
                     f"{_table(('field', 'type', 'required', 'description'), rows)}</div>")
    return ["<h2>schemas</h2><p>Bodies of the answers. A field not listed is never sent; one not required is "
            "sent only when the run's files have its column.</p>", *parts] if parts else []


def render(spec: dict) -> str:
    info = spec.get("info", {})
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{e(info.get('title'))}</title>"
             f"<style>{STYLE}</style></head><body><h1>{e(info.get('title'))} <small>{e(info.get('version'))}</small></h1>",
             f"<p>{e(info.get('description'))}</p><p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a> "
             "(OpenAPI 3). Errors are <code>{\"error\", \"exit_code\"}</code>.</p>"]
    by_tag: dict[str, list[tuple[str, str, dict]]] = {}
    for path, ops in spec.get("paths", {}).items():
        for method, op in ops.items():
            by_tag.setdefault((op.get("tags") or ["other"])[0], []).append((path, method, op))
    for tag, ops in by_tag.items():
        parts.append(f"<h2>{e(tag)}</h2>")
        for path, method, op in ops:
            parts.append(f"<div class=\"op\" id=\"{e(op.get('operationId'))}\"><div><span class=\"m {e(method)}\">"
                         f"{e(method.upper())}</span> <code>{e(path)}</code> {e(op.get('summary'))}</div>")
            if op.get("description"):
                parts.append(f"<p>{e(op['description'])}</p>")
            params = op.get("parameters") or []
            if params:
                parts.append("<table><tr><th>parameter</th><th>in</th><th>required</th><th>description</th></tr>")
                for p in params:
                    example = (p.get("schema") or {}).get("examples") or p.get("examples")
                    ex = f" e.g. <code>{e(example[0] if isinstance(example, list) else example)}</code>" if example else ""
                    parts.append(f"<tr><td><code>{e(p.get('name'))}</code></td><td>{e(p.get('in'))}</td>"
                                 f"<td>{'yes' if p.get('required') else ''}</td><td>{e(p.get('description'))}{ex}</td></tr>")
                parts.append("</table>")
            parts.append(_answers(op))
            parts.append("</div>")
    parts += _schemas(spec)
    parts.append("</body></html>")
    return "".join(parts)


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def docs(request: Request) -> HTMLResponse:
    return HTMLResponse(render(request.app.openapi()))
