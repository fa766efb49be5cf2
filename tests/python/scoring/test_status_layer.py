"""The status layer on the real 2026-02-08 injury reports: every QUESTIONABLE / DOUBTFUL player listed there,
scored by a trained bundle with his status and without it (UNK), gets the documented play rate and a lower p50."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from scoring.bundle import load_bundle
from snapshots_ingest.live.injury_report_pdf import parse_injury_report

ROOT = Path(__file__).resolve().parents[3]
PDFS = sorted((ROOT / "tests" / "fixtures" / "injury_pdfs").glob("Injury-Report_2026-02-08_*.pdf"))
# docs/model.md, "Status layer": play probability x this rate
DOCUMENTED_RATE = {"QUESTIONABLE": 0.50, "DOUBTFUL": 0.25}


def _vocabulary() -> dict[str, str]:
    with open(ROOT / "seeds" / "injury_status_vocabulary.csv", newline="") as fh:
        return {r["status_raw_key"]: r["status"] for r in csv.DictReader(fh)}


def listed_players() -> list[tuple[str, str, str]]:
    """(report, player, canonical status) of every QUESTIONABLE / DOUBTFUL row of the 2026-02-08 reports."""
    vocab = _vocabulary()
    out = []
    for pdf in PDFS:
        for row in parse_injury_report(pdf):
            status = vocab.get((row.current_status or "").upper())
            if status in DOCUMENTED_RATE:
                out.append((pdf.stem, row.player_name, status))
    return out


def test_reports_list_questionable_and_doubtful_players():
    statuses = [s for _, _, s in listed_players()]
    assert statuses.count("QUESTIONABLE") == 7 and statuses.count("DOUBTFUL") == 7


@pytest.fixture(scope="module")
def scored_pairs(bundle_dir: Path, features: pd.DataFrame) -> pd.DataFrame:
    """One copy of a held-out team-game per listed player, the player in a starter's row with his status, and
    the same copy with status UNK; scored together by the bundle (reconciled and calibrated, as published)."""
    last_day = features["game_date"].max()
    game = features[features["game_date"] == last_day]
    game = game[game["game_id"] == game["game_id"].min()]
    slot = game[(game["status"] == "UNK") & game["is_confirmed_starter"]].iloc[0]["player_id"]
    frames = []
    for i, (report, player, status) in enumerate(listed_players()):
        for variant, value in (("listed", status), ("unlisted", "UNK")):
            g = game.copy()
            g["game_id"] = 9_000_000 + 2 * i + (variant == "unlisted")
            target = g["player_id"] == slot
            g.loc[target, "player_name"] = player
            g.loc[target, "status"] = value
            g["case"], g["variant"], g["listed_status"], g["report"] = i, variant, status, report
            frames.append(g)
    frame = pd.concat(frames, ignore_index=True)
    scored = load_bundle(bundle_dir).predict(frame.drop(columns=["case", "variant", "listed_status", "report"]))
    for c in ("case", "variant", "listed_status", "report"):
        scored[c] = frame[c].to_numpy()
    rows = scored[frame["player_id"].eq(slot).to_numpy()]
    return rows.pivot(index=["case", "listed_status"],
                      columns="variant", values=["play_prob", "minutes_p10", "minutes_p50", "minutes_p90"])


def test_listed_player_plays_at_the_documented_rate(scored_pairs: pd.DataFrame):
    assert len(scored_pairs) == len(listed_players())
    for (case, status), r in scored_pairs.iterrows():
        assert r[("play_prob", "unlisted")] > 0.5, f"case {case}: the template row should be a rotation player"
        ratio = r[("play_prob", "listed")] / r[("play_prob", "unlisted")]
        assert ratio == pytest.approx(DOCUMENTED_RATE[status], abs=1e-6), f"case {case} ({status})"


def test_listed_player_projection_falls_and_interval_spans_both_outcomes(scored_pairs: pd.DataFrame):
    for (case, status), r in scored_pairs.iterrows():
        assert r[("minutes_p50", "listed")] < r[("minutes_p50", "unlisted")], f"case {case} ({status})"
        # at a play rate of 0.5 or less the median is a DNP, and p10 as well
        assert r[("minutes_p50", "listed")] == 0.0 and r[("minutes_p10", "listed")] == 0.0
        # if he is cleared he plays his usual minutes: they stay inside the published interval
        assert r[("minutes_p90", "listed")] >= r[("minutes_p50", "unlisted")]
