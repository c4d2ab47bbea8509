"""The exit-interview alignment table's "Difference vs global" is what a reader gets by subtracting the two rates
printed above it, not the logged difference rounded on its own.

The national run 70b79a4d logged 32.59% (model) against 24.55% (global): printed one by one as 32.6%, 24.5% and a
difference of 8.0 pp, a reader checking by subtraction finds 8.1. The record below carries those figures.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest


REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_cardnits_fake_runs", REPO / "tests" / "test_promotion.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)
BASE = fake.fake_alignment()   # the fake record's other figures (by driver, confusion), before the fixture patches it


def _record(top1_low: float) -> dict:
    """The national run's alignment figures (explanations/alignment.json of run 70b79a4d), the top-1 interval's
    lower end set by the caller (above 0: the card prints no caveat; below: the caveat quotes the rates)."""
    model, every = 0.3259361997226075, 0.24549237170596394
    return BASE | {
        "top1": {"value": model, "low": 0.3056, "high": 0.3458},
        "top3": {"value": 0.5520110957004161, "low": 0.5303, "high": 0.5728},
        "global": {"top1": {"value": every, "low": 0.2275, "high": 0.2645},
                   "top3": {"value": 0.386037910309755, "low": 0.3648, "high": 0.4059}},
        "difference_vs_global": {"top1": {"value": model - every, "low": top1_low, "high": 0.10495839112343966},
                                 "top3": {"value": 0.5520110957004161 - 0.386037910309755,
                                          "low": 0.14423254738788718, "high": 0.18770226537216828}}}


@pytest.fixture(scope="module")
def cards(tmp_path_factory, scratch_store):
    from retention_ml.reports.model_card import write_card

    root = tmp_path_factory.mktemp("cards")
    out = {}
    with scratch_store(root) as mp:
        for name, low in (("clear", 0.0559), ("unclear", -0.01)):
            mp.setattr(fake, "fake_alignment", lambda low=low: _record(low))
            run = fake.make_fake_run(kind="good")
            out[name] = write_card(run, root / name, log=False)["markdown"].read_text(encoding="utf-8")
    return out


def _cells(md: str, label: str) -> list[float]:
    row = next(line for line in md.splitlines() if line.startswith(f"| {label}"))
    return [float(re.match(r"\s*(-?[\d.]+)", cell).group(1)) for cell in row.strip("|").split("|")[1:3]]


def test_the_printed_difference_is_the_difference_of_the_printed_rates(cards):
    md = cards["clear"]
    mine, every, diff = (_cells(md, label) for label in
                         ("Model's per-person drivers", "Global baseline", "Difference vs global"))
    assert mine == [32.6, 55.2] and every == [24.5, 38.6]
    assert diff == [round(m - g, 1) for m, g in zip(mine, every)] == [8.1, 16.6]
    assert "| Difference vs global | 8.1 pp (5.6 pp to 10.5 pp) |" in md   # the interval stays the logged one


def test_the_caveat_quotes_a_difference_its_own_rates_give(cards):
    note = next(line for line in cards["unclear"].splitlines()
                if line.startswith("- Per-person explanations do not clearly beat"))
    assert "32.6% of the time against 24.5%" in note
    assert "(difference 8.1 pp (-1.0 pp to 10.5 pp))" in note
