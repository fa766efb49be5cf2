"""The status layer on the real 2026-02-08 injury reports: every QUESTIONABLE / DOUBTFUL player listed there,
scored by a trained bundle with his status and without it (UNK), gets the measured play rate of the seed table
(as a ratio against AVAILABLE of his role and state) and a lower p50."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.bundle import load_bundle
from snapshots_ingest.live.injury_report_pdf import parse_injury_report

ROOT = Path(__file__).resolve().parents[3]
PDFS = sorted((ROOT / "tests" / "fixtures" / "injury_pdfs").glob("Injury-Report_2026-02-08_*.pdf"))
GAME_TIME_DECISIONS = ("QUESTIONABLE", "DOUBTFUL")


def seed_rates() -> dict[tuple[str, str, str], float]:
    """The measured table, read here straight from the dbt seed (not through scoring/status.py)."""
    with open(ROOT / "seeds" / "injury_status_play_rates.csv", newline="") as fh:
        return {(r["status"], r["role"], r["state"]): float(r["p_play"]) for r in csv.DictReader(fh)}


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
            if status in GAME_TIME_DECISIONS:
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
            # a rotation player on his first listed day, or listed before and having played / missed the last game
            g["status_role"] = "rotation"
            g["status_state"] = ("first", "played", "missed")[i % 3]
            g["game_id"] = 9_000_000 + 2 * i + (variant == "unlisted")
            target = g["player_id"] == slot
            g.loc[target, "player_name"] = player
            g.loc[target, "status"] = value
            g["case"], g["variant"], g["listed_status"], g["report"] = i, variant, status, report
            frames.append(g)
    frame = pd.concat(frames, ignore_index=True)
    scored = load_bundle(bundle_dir).predict(frame.drop(columns=["case", "variant", "listed_status", "report"]))
    for c in ("case", "variant", "listed_status", "report", "status_state"):
        scored[c] = frame[c].to_numpy()
    rows = scored[frame["player_id"].eq(slot).to_numpy()]
    return rows.pivot(index=["case", "listed_status", "status_state"],
                      columns="variant", values=["play_prob", "minutes_mean_raw", "minutes_p10", "minutes_p50", "minutes_p90"])


def test_listed_player_plays_at_the_measured_rate(scored_pairs: pd.DataFrame):
    rates = seed_rates()
    assert len(scored_pairs) == len(listed_players())
    for (case, status, state), r in scored_pairs.iterrows():
        assert r[("play_prob", "unlisted")] > 0.5, f"case {case}: the template row should be a rotation player"
        ratio = r[("play_prob", "listed")] / r[("play_prob", "unlisted")]
        expected = rates[(status, "rotation", state)] / rates[("AVAILABLE", "rotation", state)]
        assert ratio == pytest.approx(expected, abs=1e-6), f"case {case} ({status}, {state})"
        if status == "DOUBTFUL" and state != "played":
            # 1.3% / 1.7% in the table; one who played his last game despite being listed plays 12%
            assert r[("play_prob", "listed")] <= 0.10, f"case {case}: a doubtful rotation player rarely plays"


def test_listed_player_projection_falls_and_interval_spans_both_outcomes(scored_pairs: pd.DataFrame):
    for (case, status, state), r in scored_pairs.iterrows():
        assert r[("minutes_p50", "listed")] < r[("minutes_p50", "unlisted")], f"case {case} ({status})"
        assert r[("minutes_p10", "listed")] == 0.0, f"case {case}: he may sit"
        # before the team reconciliation, expected minutes scale exactly with the play probability (the status
        # is not a model input: minutes if he plays are unchanged)
        assert r[("minutes_mean_raw", "listed")] == pytest.approx(
            r[("minutes_mean_raw", "unlisted")] * r[("play_prob", "listed")] / r[("play_prob", "unlisted")], rel=1e-9)
        if status == "QUESTIONABLE" and state == "played":
            # he plays about 4 times in 5: if cleared he plays his usual minutes, inside the interval
            assert r[("minutes_p90", "listed")] >= r[("minutes_p50", "unlisted")]


def test_status_levels_compose_the_cells_calibration_with_the_status_mass_exactly():
    """A listed player = the unlisted player (read at his cell's calibrated levels) with an extra mass 1 - c at 0:
    his published quantile at nominal q is the unlisted one at nominal (q - (1 - c)) / c, and 0 once 1 - c >= q."""
    from scoring.bundle import status_levels
    from scoring.distribution import KNOTS, mixture_quantile

    rng = np.random.default_rng(5)
    n = 400
    V = np.sort(rng.uniform(0, 40, (n, len(KNOTS))), axis=1)
    model_play = rng.uniform(0.5, 1.0, n)
    c = rng.uniform(0.0, 1.0, n)
    cell = (rng.uniform(0.02, 0.3, n), rng.uniform(0.4, 0.6, n), rng.uniform(0.75, 0.98, n))
    assert all(np.array_equal(a, b) for a, b in zip(status_levels(cell, np.ones(n)), cell, strict=True))
    listed = status_levels(cell, c)
    knots = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    for q, level in zip((0.1, 0.5, 0.9), listed, strict=True):
        got = mixture_quantile(V, model_play * c, level)
        for i in range(n):
            t = (q - (1 - c[i])) / c[i]
            if t <= 0:
                assert got[i] == 0.0
                continue
            g = np.interp(t, knots, [0.0, cell[0][i], cell[1][i], cell[2][i], 1.0])
            assert got[i] == pytest.approx(float(mixture_quantile(V[i:i + 1], model_play[i:i + 1], g)[0]), abs=1e-9)
