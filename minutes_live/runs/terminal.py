"""What a person reads in a terminal: the slate summary and grouped warnings.

    slate_summary(minutes, per_team=5)  -> lines: per game and team, the top players by p50 and the team's sums
    group_warnings(warnings)            -> lines: per-game warnings of one kind folded into one line

The run's files keep every row and every per-game warning (summary.json `warnings`); this module only
decides what is printed.
"""

from __future__ import annotations

import re
from collections import OrderedDict

import pandas as pd

from foundation.clock import LEAGUE_TZ as ET

DEFAULT_PER_TEAM = 5

# build_live.check_coverage: "<kind> snapshot for game <id> is <n> min old" (n > the kind's warning age)
_STALE = re.compile(r"^(?P<kind>\w+) snapshot for game (?P<game>\d+) is (?P<minutes>\d+) min old$")


def _hours(minutes: float) -> str:
    hours = minutes / 60.0
    return f"{hours:.0f} h" if float(hours).is_integer() else f"{hours:.1f} h"


def group_warnings(warnings: list[str], warn_age_minutes: dict[str, float] | None = None) -> list[str]:
    """Fold the per-game stale-snapshot warnings of a kind into one line, e.g.
    'injuries snapshot older than 6 h for 2 games: 2025010145, 2025010162 (oldest 25 h)'; repeat lines are
    counted; every other warning is kept as is, in first-seen order."""
    if warn_age_minutes is None:
        from foundation.freshness import WARN_AGE_MINUTES

        warn_age_minutes = WARN_AGE_MINUTES
    stale: OrderedDict[str, list[tuple[str, int]]] = OrderedDict()
    others: OrderedDict[str, int] = OrderedDict()
    order: list[tuple[str, str]] = []
    for w in warnings:
        m = _STALE.match(w.strip())
        if m:
            kind = m.group("kind")
            if kind not in stale:
                stale[kind] = []
                order.append(("stale", kind))
            stale[kind].append((m.group("game"), int(m.group("minutes"))))
            continue
        if w not in others:
            others[w] = 0
            order.append(("other", w))
        others[w] += 1
    lines = []
    for what, key in order:
        if what == "other":
            lines.append(key + (f" (x{others[key]})" if others[key] > 1 else ""))
            continue
        games = stale[key]
        limit = warn_age_minutes.get(key)
        older = f"older than {_hours(limit)}" if limit is not None else "stale"
        ids = ", ".join(dict.fromkeys(g for g, _ in games))
        n = len(dict.fromkeys(g for g, _ in games))
        oldest = max(m for _, m in games)
        lines.append(f"{key} snapshot {older} for {n} game{'s' if n != 1 else ''}: {ids} (oldest {_hours(oldest)})")
    return lines


def _tip(ts) -> str:
    if ts is None or pd.isna(ts):
        return "tip unknown"
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return f"tip {t.tz_convert(ET):%H:%M} ET ({t:%H:%M} UTC)"


def _starter(row) -> str:
    if bool(row.get("is_confirmed_starter", False)):
        return "S"
    if bool(row.get("is_projected_starter", False)) or bool(row.get("is_starter", False)):
        return "s"
    return ""


def slate_summary(minutes: pd.DataFrame, per_team: int = DEFAULT_PER_TEAM) -> list[str]:
    """Per game (by tip), per team: the `per_team` players with the most expected minutes (0 = all), with
    status, play probability, expected minutes, p10 / p50 / p90 and a starter mark (S confirmed, s projected),
    and the team's sums over every row: expected minutes (reconciled; before it, the model's raw sum) and p50."""
    if minutes is None or minutes.empty:
        return ["(no projections)"]
    lines: list[str] = []
    frame = minutes.copy()
    name_width = max(12, min(26, int(frame["player_name"].astype(str).str.len().max())))
    header = (f"    {'player':<{name_width}} {'st':<2} {'status':<12} {'play':>5} {'mean':>5} {'p10':>5} {'p50':>5} "
              f"{'p90':>5}")
    has_mean = "minutes_mean" in frame.columns
    sort_tip = frame["tip_ts"] if "tip_ts" in frame else frame["game_id"]
    frame = frame.assign(_tip=sort_tip)
    for game_id, game in frame.sort_values(["_tip", "game_id"]).groupby("game_id", sort=False):
        teams = list(dict.fromkeys(game["team_tricode"]))
        if "home_flag" in game and game["home_flag"].eq(1).any():  # away @ home when the frame knows
            home = game.loc[game["home_flag"].eq(1), "team_tricode"].iloc[0]
            teams = [tm for tm in teams if tm != home] + [home]
            matchup = " @ ".join(teams)
        else:
            matchup = " vs ".join(teams)
        lines.append(f"{matchup}   game {game_id}, {_tip(game.iloc[0].get('tip_ts'))}")
        for team in teams:
            order = ["minutes_mean", "minutes_p50"] if has_mean else ["minutes_p50", "minutes_p90"]
            rows = game[game["team_tricode"] == team].sort_values(order, ascending=False)
            out = int((rows["status"] == "OUT").sum()) if "status" in rows else 0
            shown = rows if not per_team else rows.head(per_team)
            sums = f"p50 sum {rows['minutes_p50'].sum():.1f}"
            if has_mean:
                raw = rows["minutes_mean_raw"].sum() if "minutes_mean_raw" in rows else float("nan")
                sums = (f"expected minutes {rows['minutes_mean'].sum():.1f} (model {raw:.1f}, "
                        f"{rows['minutes_mean'].sum() - raw:+.1f}), {sums}")
            lines.append(f"  {team}  {sums} over {len(rows)} players"
                         + (f" ({out} OUT)" if out else "")
                         + (f"; top {len(shown)} by {'expected minutes' if has_mean else 'p50'}"
                            if len(shown) < len(rows) else ""))
            lines.append(header)
            for _, r in shown.iterrows():
                name = str(r["player_name"])[:name_width]
                lines.append(
                    f"    {name:<{name_width}} {_starter(r):<2} {str(r.get('status', '')):<12} "
                    f"{float(r['play_prob']):>5.2f} {float(r.get('minutes_mean', float('nan'))):>5.1f} "
                    f"{float(r['minutes_p10']):>5.1f} {float(r['minutes_p50']):>5.1f} "
                    f"{float(r['minutes_p90']):>5.1f}")
        lines.append("")
    return lines


def gtd_worlds_lines(scenarios: pd.DataFrame, gtd_player_id: int | None = None, top: int = 8) -> list[str]:
    """A game-time decision's two worlds for his team (scores' scenarios.parquet): per teammate, expected minutes
    and p50 if he sits against if he plays. Without `gtd_player_id`: the GTD whose absence moves his team most."""
    if scenarios is None or scenarios.empty:
        return ["(no game-time decisions on this slate)"]
    if gtd_player_id is None:
        plays = scenarios[(scenarios["world"] == "plays") & (scenarios["player_id"] == scenarios["gtd_player_id"])]
        gtd_player_id = int(plays.sort_values("minutes_mean", ascending=False)["gtd_player_id"].iloc[0])
    mine = scenarios[scenarios["gtd_player_id"] == gtd_player_id]
    if mine.empty:
        return [f"(player {gtd_player_id} is not a game-time decision on this slate)"]
    sits = mine[mine["world"] == "sits"].set_index("player_id")
    plays = mine[mine["world"] == "plays"].set_index("player_id")
    first = mine.iloc[0]
    lines = [f"{first['gtd_player_name']} ({first['team_tricode']}, {first['gtd_status']}): plays with probability "
             f"{plays['world_prob'].iloc[0]:.2f} (measured status rate); his teammates' expected minutes / p50",
             f"    {'player':<24} {'if he sits':>16} {'if he plays':>16} {'change':>7}"]
    order = (sits["minutes_mean"] - plays["minutes_mean"]).sort_values(ascending=False)
    own = int(gtd_player_id)
    for player_id in [own] + [p for p in order.index if p != own][:top]:
        s, p = sits.loc[player_id], plays.loc[player_id]
        name = str(s["player_name"])[:24]
        lines.append(f"    {name:<24} {s['minutes_mean']:>7.1f} / {s['minutes_p50']:>5.1f}  "
                     f"{p['minutes_mean']:>7.1f} / {p['minutes_p50']:>5.1f}  {s['minutes_mean'] - p['minutes_mean']:>+7.1f}")
    gained = (sits["minutes_mean"] - plays["minutes_mean"]).drop(index=own).sum()
    lines.append(f"    teammates gain {gained:.1f} expected minutes when he sits; he plays "
                 f"{plays.loc[own, 'minutes_mean']:.1f} when he plays")
    return lines
