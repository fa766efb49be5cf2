"""Server-side HTML of one dashboard page. Self-contained: the CSS and JS in assets/ are inlined, the data
the script needs is embedded as JSON, and nothing is loaded from anywhere else (the page works offline and
as a file). Links depend on the mode: the server's query strings, or the static writer's file names."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path

from minutes_live.dashboard import drift as drift_mod
from minutes_live.dashboard.freshness import KINDS, badge_text, format_age

ASSETS = Path(__file__).with_name("assets")
MAX_MINUTES = 48.0

Link = Callable[[str | None, str | None], str]  # (date, run_id or None for the served run) -> href


def e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _num(value, fmt: str = "{:.1f}") -> str:
    return "" if value is None else fmt.format(value)


def server_link(day: str | None, run_id: str | None, dataset: str | None = None) -> str:
    """A page of the served dashboard: the dataset (default: the one this request reads), date and run."""
    from minutes_live.runs.catalog import current_dataset

    if day is None:
        return "/"
    return f"/?dataset={dataset or current_dataset()}&date={day}" + (f"&run={run_id}" if run_id else "")


def _script_json(payload: dict) -> str:
    # inside <script>: no "</" and no HTML comment openers can end or alter the element
    return json.dumps(payload, separators=(",", ":"), default=str).replace("<", "\\u003c").replace(">", "\\u003e")


def render_page(page: dict, link: Link = server_link, *, explanations: dict | None = None,
                date_links: dict[str, str] | None = None, token: str | None = None) -> str:
    """The page; `token` (the served page for a client allowed to see it) goes into its data for the POSTs."""
    css = (ASSETS / "dashboard.css").read_text()
    js = (ASSETS / "dashboard.js").read_text()
    run = page.get("run")
    config = {
        "static": page["static"], "dataset": page.get("dataset"), "day": page.get("day"), "run_id": run and run["run_id"],
        "served_run_id": (page.get("served") or {}).get("run_id"),
        "explain_url": None if page["static"] else "/api/explain",
        "explanations": explanations,
        "worlds": (run or {}).get("worlds") or {},
        "token": None if page["static"] else token,
        # the page follows the date's event stream (minutes_live.api.events) and reloads when `latest` moves
        "events_url": None if page["static"] or not page.get("day") else
        f"/v1/slates/{page['day']}/events?dataset={page.get('dataset') or ''}",
    }
    body = [
        _header(page, link, date_links),
        _served(page, link),
        _messages(page),
    ]
    if run is not None:
        body += [_banners(run), '<div class="grid2">', _freshness(run), _team_minutes(run, page["team_band"]), "</div>"]
    body.append(_runs(page, link))
    if run is not None:
        body += [_diff(run, link), _drift(page["drift"]), _projections(run)]
    else:
        body.append(_drift(page["drift"]))
    title = f"Minutes Live {page.get('day') or ''} {run['run_id'] if run else ''}".strip()
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{e(title)}</title><style>{css}</style></head>\n<body>\n"
        + "\n".join(body)
        + f'\n<script id="ml-data" type="application/json">{_script_json(config)}</script>'
        + f"\n<script>{js}</script>\n</body></html>\n"
    )


def _header(page: dict, link: Link, date_links: dict[str, str] | None) -> str:
    dataset = page.get("dataset") or "live"
    # every dataset's dates, grouped and labelled (a static copy links the dates it holds: its own dataset's)
    groups = page.get("datasets") or {dataset: page["dates"]}
    options = []
    for name, days in groups.items():
        opts = []
        for d in reversed(days):
            if date_links is not None:
                href = date_links.get(d) if name == dataset else None
            else:
                href = server_link(d, None, name) if link is server_link else link(d, None)
            if href is None:
                continue
            sel = " selected" if name == dataset and d == page.get("day") else ""
            opts.append(f'<option value="{e(href)}"{sel}>{e(d)}</option>')  # the optgroup names the dataset
        if opts:
            options.append(f'<optgroup label="dataset {e(name)}">{"".join(opts)}</optgroup>')
    mode = ('<span class="mode static" title="a static copy: pin and unpin need the live dashboard">static copy</span>'
            if page["static"] else '<span class="mode live">live</span>')
    return (
        '<header><h1>Minutes Live</h1>'
        f'<span class="dataset" id="dataset">dataset <b>{e(dataset)}</b></span>'
        f'<label>date <select id="date-picker">{"".join(options)}</select></label>'
        f'{mode}<span class="generated">page generated {e(page["generated_at"])}</span></header>'
    )


def _served(page: dict, link: Link) -> str:
    served, run = page.get("served"), page.get("run")
    if served is None:
        return ""
    pin = served.get("pinned")
    pin_text = ""
    if pin:
        pin_text = (f' <span class="pinned" id="pin-state">pinned{": " + e(pin.get("reason")) if pin.get("reason") else ""}'
                    f' (at {e(pin.get("pinned_at"))})</span>')
    unpin = ""
    if pin:
        disabled = ' disabled title="static copy: run minutes-live dashboard to unpin"' if page["static"] else ""
        unpin = f' <button id="unpin" type="button"{disabled}>Unpin</button>'
    parts = [
        '<section id="served" class="card">',
        f'<div>Served for {e(page["day"])} (<code>latest</code>): '
        f'<a id="served-run" href="{e(link(page["day"], served.get("run_id")))}">{e(served.get("run_id") or "none")}</a>'
        f' <span class="muted">run_as_of_ts</span> <span id="served-as-of">{e(served.get("run_as_of_ts") or "-")}</span>'
        f'{pin_text}{unpin}'
        + ('' if page["static"] else ' <span id="live" class="live off" title="updates when a run is published">'
                                     'connecting</span>')
        + '</div>',
    ]
    if run is not None:
        note = "" if run["is_served"] else ' <span class="not-served">(not the served run)</span>'
        parts.append(
            f'<div>Viewing run <strong id="view-run">{e(run["run_id"])}</strong> '
            f'<span class="muted">run_as_of_ts</span> <span id="view-as-of">{e(run["run_as_of_ts"])}</span>{note}'
            f' <span class="muted">· {e(run["status"])} · {e(run["job"] or "-")} · {_num(run["rows"], "{}")} players in '
            f'{_num(run["games"], "{}")} games · bundle {e(run["bundle_id"] or "-")}</span></div>')
    parts.append('<div id="action-status" role="status"></div><ul id="alerts"></ul></section>')
    return "".join(parts)


def _messages(page: dict) -> str:
    if page.get("error"):
        return f'<div class="banner error" id="page-error">{e(page["error"])}</div>'
    return ""


def _banners(run: dict) -> str:
    out = []
    if run["status"] not in ("succeeded", "unrecorded"):
        out.append(f'<div class="banner error">Attempt {e(run["status"])}'
                   f'{" (exit " + e(run["exit_code"]) + ")" if run["exit_code"] not in (None, 0) else ""}: '
                   f'{e(run["error"] or "")}</div>')
    for b in run["banners"]:
        out.append(f'<div class="banner fallback" data-fallback="{e(b["kind"])}">{e(b["text"])}</div>')
    if run["warnings"]:
        items = "".join(f"<li>{e(w)}</li>" for w in run["warnings"])
        out.append(f'<details class="warnings"><summary>{len(run["warnings"])} warning(s) in this run\'s summary'
                   f"</summary><ul>{items}</ul></details>")
    return f'<section id="banners">{"".join(out)}</section>' if out else ""


def _freshness(run: dict) -> str:
    fresh = run["freshness"]
    badges = []
    for kind in KINDS:
        b = fresh["badges"][kind]
        per_game = "; ".join(f"{g['matchup']}: {format_age(g['kinds'][kind]['age_minutes'])} ({g['kinds'][kind]['colour']})"
                             for g in fresh["games"])
        tip = (f"{kind}: {badge_text(b, len(fresh['games']))}; warn > {format_age(b['warn_minutes'])}, "
               f"fail > {format_age(b['fail_minutes'])} (no qualifying snapshot). Per game: {per_game}")
        badges.append(
            f'<span class="badge c-{e(b["colour"])}" data-kind="{kind}" data-colour="{e(b["colour"])}" '
            f'title="{e(tip)}"><b>{kind}</b> {e(badge_text(b, len(fresh["games"])))}'
            f'<small>warn {e(format_age(b["warn_minutes"]))} · fail {e(format_age(b["fail_minutes"]))}</small></span>')
    rows = []
    for g in fresh["games"]:
        cells = "".join(
            f'<td class="c-{e(g["kinds"][k]["colour"])}" data-kind="{k}" data-colour="{e(g["kinds"][k]["colour"])}" '
            f'title="snapshot {e(g["kinds"][k]["snapshot_ts"] or "none")}; '
            f'{e(format_age(g["kinds"][k]["snapshot_to_tip_minutes"]))} before tip">'
            f'{e(format_age(g["kinds"][k]["age_minutes"]))}</td>' for k in KINDS)
        rows.append(f'<tr data-game="{g["game_id"]}"><td>{e(g["matchup"])}</td><td>{e(str(g["tip_ts"])[:16])}</td>'
                    f"{cells}</tr>")
    return (
        '<section id="freshness" class="card"><h2>Snapshot freshness</h2>'
        f'<div class="badges">{"".join(badges)}</div>'
        '<p class="legend"><span class="dot-g"></span> age &le; warn <span class="dot-a"></span> warn &lt; age &le; '
        'fail <span class="dot-r"></span> no qualifying snapshot (older than fail, or none); a badge shows its worst '
        'game. Ages at run_as_of_ts.</p>'
        '<details open><summary>per game</summary><table class="compact" id="freshness-games"><thead><tr><th>game</th>'
        f'<th>tip (UTC)</th>{"".join(f"<th>{k}</th>" for k in KINDS)}</tr></thead><tbody>{"".join(rows)}</tbody>'
        "</table></details></section>"
    )


def _runs(page: dict, link: Link) -> str:
    if not page["runs"]:
        return ""
    view = (page.get("run") or {}).get("run_id")
    static = page["static"]
    rows = []
    for r in page["runs"]:
        marks = []
        if r["pinned"]:
            marks.append('<span class="tag pin">pinned</span>')
        if r["latest"]:
            marks.append('<span class="tag latest">latest</span>')
        short = {"injuries": "inj", "odds": "odds", "roster": "roster"}
        ages = " · ".join(f"{short.get(k, k)} {v}" for k, v in r["worst_age"].items())
        name = (f'<a class="run-link" href="{e(link(page["day"], r["run_id"]))}">{e(r["run_id"])}</a>'
                if r["viewable"] else e(r["run_id"]))
        if r["pinned"]:
            action = ""
        elif r["pinnable"]:
            disabled = ' disabled title="static copy: run minutes-live dashboard to pin"' if static else ""
            action = f'<button class="pin" type="button" data-run="{e(r["run_id"])}"{disabled}>Pin</button>'
        else:
            action = '<span class="muted">-</span>'
        err = f' title="{e(r["error"])}"' if r.get("error") else ""
        rows.append(
            f'<tr data-run="{e(r["run_id"])}" class="{"viewing" if r["run_id"] == view else ""}">'
            f'<td>{name}</td><td>{e(r["run_as_of_ts"])}</td><td class="st-{e(r["status"])}"{err}>{e(r["status"])}'
            f'{" (" + e(r["exit_code"]) + ")" if r.get("exit_code") not in (None, 0) else ""}</td>'
            f'<td>{e(r["job"] or "-")}</td><td>{"".join(marks)}</td><td>{_num(r["rows"], "{}")}</td>'
            f'<td>{_num(r["games"], "{}")}</td><td class="ages">{e(ages)}</td><td>{r["warnings"]}</td><td>{action}</td></tr>')
    reason = ('<label class="reason">pin reason <input id="pin-reason" type="text" maxlength="200" '
              f'placeholder="e.g. odds feed glitch"{" disabled" if static else ""}></label>')
    return (
        f'<section id="runs" class="card"><h2>Runs of {e(page["day"])}</h2>{reason}'
        '<table class="compact" id="run-picker"><thead><tr><th>run</th><th>run_as_of_ts</th><th>status</th>'
        '<th>job</th><th></th><th>players</th><th>games</th><th>worst age (inj · odds · roster)</th><th>warnings</th>'
        f'<th></th></tr></thead><tbody>{"".join(rows)}</tbody></table></section>'
    )


def _bar(p10, p50, p90) -> str:
    if p50 is None:
        return ""
    lo, hi = (p10 or 0.0) / MAX_MINUTES * 100, (p90 or 0.0) / MAX_MINUTES * 100
    mid = p50 / MAX_MINUTES * 100
    return (f'<div class="range"><span class="iv" '
            f'style="left:{lo:.1f}%;width:{max(hi - lo, 0.4):.1f}%"></span><span class="med" style="left:{mid:.1f}%">'
            "</span></div>")


def _projections(run: dict) -> str:
    if not run["has_scores"]:
        return '<section id="projections-card" class="card"><h2>Projections</h2><p>This run has no scores.</p></section>'
    teams = sorted({r["team_tricode"] for r in run["projections"] if r.get("team_tricode")})
    options = '<option value="">all teams</option>' + "".join(f'<option value="{e(t)}">{e(t)}</option>' for t in teams)
    slate_options = "".join(  # a slate's games as data (static pages filter without a server)
        f'<option value="{e(name)}" data-games=" {e(" ".join(ids))} ">{e(name)} ({len(ids)} games)</option>'
        for name, ids in run.get("slates", {}).items() if name != "all")
    slate_tool = ('<label>slate <select id="slate-filter"><option value="">all games</option>'
                  f'{slate_options}</select></label>') if slate_options else ""
    rows = []
    for r in run["projections"]:
        starter = '<span class="tag st">S</span>' if r.get("is_starter") else ""
        gtd_tag = ' <span class="tag gtd">2 worlds</span>'
        rows.append(
            f'<tr class="player" data-key="{e(r["key"])}" data-team="{e(r["team_tricode"])}" '
            f'data-game="{e(r["game_id"])}" tabindex="0">'
            f'<td>{e(r["team_tricode"])}</td><td>{e(r.get("opponent_team_tricode"))}</td>'
            f'<td class="name"><span class="caret">&#9656;</span> {e(r["player_name"])} {starter}</td>'
            f'<td class="status s-{e(r["status"])}">{e(r["status"])}'
            f'{gtd_tag if r["key"] in run.get("worlds", {}) else ""}</td>'
            f'<td class="num play" data-v="{_num(r["play_prob"], "{:.4f}")}">{_num(r["play_prob"], "{:.2f}")}</td>'
            f'<td class="num mean" data-v="{_num(r.get("minutes_mean"), "{:.3f}")}">{_num(r.get("minutes_mean"))}</td>'
            f'<td class="num" data-v="{_num(r["minutes_p10"], "{:.3f}")}">{_num(r["minutes_p10"])}</td>'
            f'<td class="num p50" data-v="{_num(r["minutes_p50"], "{:.3f}")}">{_num(r["minutes_p50"])}</td>'
            f'<td class="num" data-v="{_num(r["minutes_p90"], "{:.3f}")}">{_num(r["minutes_p90"])}</td>'
            f'<td class="barcell" data-v="{_num(r["minutes_p50"], "{:.3f}")}">'
            f'{_bar(r["minutes_p10"], r["minutes_p50"], r["minutes_p90"])}</td></tr>')
    return (
        '<section id="projections-card" class="card"><h2>Projections</h2>'
        f'<div class="tools"><label>team <select id="team-filter">{options}</select></label>{slate_tool}'
        '<span id="row-count" class="muted"></span><span class="muted">click a column to sort; open a player for '
        'the p50 explanation (a game-time decision also shows his teammates if he sits / if he plays)</span></div>'
        '<div class="scroll"><table id="projections"><thead><tr><th data-sort="text">team</th><th data-sort="text">opp</th>'
        '<th data-sort="text">player</th><th data-sort="text">status</th><th data-sort="num">play prob</th>'
        '<th data-sort="num">mean</th>'
        '<th data-sort="num">p10</th><th data-sort="num">p50</th><th data-sort="num">p90</th>'
        '<th data-sort="num" class="barhead">p10 - p50 - p90 (0 - 48 min)</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table></div></section>'
    )


def _team_minutes(run: dict, band: list[float]) -> str:
    rows = []
    lo, hi = 200.0, 280.0
    for t in run["team_minutes"]:
        p50 = t.get("p50_sum")
        pos = 0 if p50 is None else min(100.0, max(0.0, (p50 - lo) / (hi - lo) * 100))
        gauge = (f'<div class="gauge"><span class="ok" style="left:{(band[0] - lo) / (hi - lo) * 100:.1f}%;'
                 f'width:{(band[1] - band[0]) / (hi - lo) * 100:.1f}%"></span><span class="mark" style="left:{pos:.1f}%">'
                 "</span></div>")
        rows.append(f'<tr class="{"outside" if t["outside"] else ""}" data-team="{e(t["team_tricode"])}">'
                    f'<td>{e(t["team_tricode"])}</td><td>{e(t["game_id"])}</td><td class="num">{_num(t.get("players"), "{}")}'
                    f'</td><td class="num">{_num(t.get("mean_sum"))}</td>'
                    f'<td class="num">{_num(t.get("adjustment"), "{:+.1f}")}</td>'
                    f'<td class="num">{_num(p50)}</td><td class="num muted">{_num(t.get("p10_sum"), "{:.0f}")}'
                    f' / {_num(t.get("p90_sum"), "{:.0f}")}</td><td>{gauge}</td>'
                    f'<td>{"outside" if t["outside"] else "ok"}</td></tr>')
    flagged = sum(t["outside"] for t in run["team_minutes"])
    return (
        '<section id="team-minutes" class="card"><h2>Team minutes</h2>'
        '<p class="muted">Expected minutes per team, reconciled to 240 + expected overtime (adjustment: added to the '
        "model's own sum). "
        f'p50 sum per team as a sanity measure, band [{band[0]:.0f}, {band[1]:.0f}] (scale 200 - 280); '
        f'{flagged} of {len(run["team_minutes"])} outside.</p>'
        '<table class="compact"><thead><tr><th>team</th><th>game</th><th>players</th><th>mean sum</th>'
        '<th>adjustment</th><th>p50 sum</th>'
        f'<th>p10 / p90 sums</th><th></th><th></th></tr></thead><tbody>{"".join(rows)}</tbody></table></section>'
    )


def _diff(run: dict, link: Link) -> str:
    diff = run.get("diff")
    if diff is None:
        return ('<section id="diff" class="card"><h2>Change since the previous run</h2>'
                '<p class="muted">No earlier scored run of this date.</p></section>')
    rows = []
    for r in diff["rows"]:
        delta = r["delta"]
        cls = "up" if (delta or 0) > 0.05 else ("down" if (delta or 0) < -0.05 else "")
        status = (e(r["status_a"] or "-") + " &rarr; " + e(r["status_b"] or "-")) if r["status_a"] != r["status_b"] \
            else e(r["status_b"] or "")
        rows.append(f'<tr data-player="{e(r["player_id"])}"><td>{e(r["team_tricode"])}</td><td>{e(r["player_name"])}</td>'
                    f'<td class="num">{_num(r["p50_a"])}</td><td class="num">{_num(r["p50_b"])}</td>'
                    f'<td class="num {cls}">{"" if delta is None else f"{delta:+.1f}"}</td><td>{status}</td>'
                    f'<td>{_reason_tag(r.get("primary_reason"))}{e("; ".join(r["reasons"]))}</td></tr>')
    note = f'<p class="note">{e(diff["note"])}</p>' if diff.get("note") else ""
    body = ("".join(rows) or '<tr><td colspan="7" class="muted">nobody moved by more than '
            f'{diff.get("min_delta", 3):g} min or changed status</td></tr>')
    return (
        '<section id="diff" class="card"><h2>Change since the previous run</h2>'
        f'<p class="muted"><a href="{e(link(run["day"], diff["a"]))}">{e(diff["a"])}</a> &rarr; '
        f'{e(diff["b"])}: p50 moved by more than {diff.get("min_delta", 3):g} min, or status changed '
        f'({len(diff["rows"])} players)</p>{note}'
        '<table class="compact"><thead><tr><th>team</th><th>player</th><th>p50 before</th><th>p50 now</th>'
        f'<th>&Delta;</th><th>status</th><th>why</th></tr></thead><tbody>{body}</tbody></table></section>'
    )


def _reason_tag(kind: str | None) -> str:
    return f'<span class="tag reason" data-reason="{e(kind)}">{e(kind)}</span>' if kind else ""


def _drift(summary: dict) -> str:
    records = summary["records"]
    if not records:
        return ('<section id="drift" class="card"><h2>Next-day validation</h2><p class="muted">No records yet: the '
                f'overnight job appends them to {e(summary["path"])}.</p><p class="rule">{e(summary["rule"])}</p></section>')
    newest = summary["newest"]
    if summary["newest_in_alert"]:
        alert = (f'<div class="banner alert" id="drift-alert">Drift alert for {e(newest["date"])}: '
                 f'{e("; ".join(newest["alerts"]))}</div>')
    else:
        alert = f'<div class="banner ok" id="drift-ok">No drift alert for {e(newest["date"])} (newest date).</div>'
    earlier = [d for d in summary["alert_dates"] if d != newest["date"]]
    if earlier:
        alert += f'<p class="muted" id="drift-earlier">Earlier alert dates: {e(", ".join(earlier))}</p>'
    table = "".join(
        f'<tr class="{"alert" if r["alerts"] else ""}"><td>{e(r["date"])}</td><td class="num">{r["rows"] or ""}</td>'
        f'<td class="num">{r["mae_p50"]:.2f}</td><td class="num">{_num(r["mae_p50_played"], "{:.2f}")}</td>'
        f'<td class="num">{r["coverage_p10_p90"]:.3f}</td><td class="num">{_num(r["mae_limit"], "{:.2f}")}</td>'
        f'<td>{e("; ".join(r["alerts"]))}</td></tr>' for r in reversed(records))
    return (
        '<section id="drift" class="card"><h2>Next-day validation (all dates)</h2>'
        f'{alert}{drift_mod.chart_svg(records)}'
        '<p class="legend"><span class="l-mae"></span> p50 MAE <span class="l-played"></span> played-only MAE '
        '<span class="l-limit"></span> alert limit <span class="l-cov"></span> [p10, p90] coverage '
        '<span class="l-band"></span> 0.80 &plusmn; 0.05 <span class="dot-r"></span> alert</p>'
        f'<p class="rule">{e(summary["rule"])}</p>'
        '<details><summary>records</summary><table class="compact"><thead><tr><th>date</th><th>rows</th>'
        '<th>MAE p50</th><th>played</th><th>coverage</th><th>MAE limit</th><th>alerts</th></tr></thead>'
        f"<tbody>{table}</tbody></table></details></section>"
    )
