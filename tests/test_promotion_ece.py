"""The gate's ECE check: over the bar fails only beyond chance; runs without a chance level keep the bar alone."""

from __future__ import annotations

import numpy as np

from retention_ml.evaluate import _chance_level, ece, ece_chance
from retention_ml.promotion import _ece_check, load_thresholds

MAX_ECE = load_thresholds()["max_ece"]


def _metrics(figures: dict) -> dict:
    return {"models": {"lightgbm": {"ece": figures}}}


def _logged(y, p, seed: int = 0) -> dict:
    """The ECE entry as training logs it (evaluate_models): value and chance level over one row per person."""
    return _chance_level(ece(y, p), ece_chance(p, workers=np.arange(len(p)), n_draws=200, random_state=seed))


def _calibrated_over_bar(n: int = 270) -> dict:
    """A sample whose risks are exactly right (labels drawn from them) yet whose ECE is over the bar: noise alone,
    as on most samples of the gate's smallest window. The first such seed is taken, found, not typed in."""
    for seed in range(200):
        rng = np.random.default_rng(seed)
        p = np.clip(rng.beta(2, 11, n), 0.01, 0.9)
        y = (rng.random(n) < p).astype(float)
        if ece(y, p) > MAX_ECE:
            return _logged(y, p, seed)
    raise AssertionError("no calibrated sample over the bar in 200 seeds")


def test_over_the_bar_within_chance_passes():
    figures = _calibrated_over_bar()
    assert figures["value"] > MAX_ECE and figures["p_value"] >= 0.05   # the premise, measured
    check = _ece_check(_metrics(figures), MAX_ECE)
    assert check.passed and check.assessable
    assert "within chance" in check.detail and f"{figures['chance_high']:.3f}" in check.detail


def test_over_the_bar_beyond_chance_fails():
    rng = np.random.default_rng(1)
    truth = np.clip(rng.beta(2, 11, 2000), 0.01, 0.9)
    y = (rng.random(2000) < truth).astype(float)
    figures = _logged(y, np.clip(truth * 1.8, 0, 0.99))    # every risk 80% too high
    assert figures["value"] > MAX_ECE and figures["p_value"] < 0.05
    check = _ece_check(_metrics(figures), MAX_ECE)
    assert not check.passed and "beyond chance" in check.detail and f"{figures['chance_high']:.3f}" in check.detail


def test_under_the_bar_passes_and_says_its_chance_level():
    figures = {"value": 0.02, "chance": 0.01, "chance_high": 0.015, "p_value": 0.005, "undefined": 0}
    check = _ece_check(_metrics(figures), MAX_ECE)
    assert check.passed and "beyond chance" in check.detail and "0.015" in check.detail


def test_run_without_chance_figures_keeps_the_bar_alone():
    over = _ece_check(_metrics({"value": 0.06, "low": 0.04, "high": 0.09}), MAX_ECE)
    under = _ece_check(_metrics({"value": 0.04}), MAX_ECE)
    assert not over.passed and over.assessable and "threshold alone decides" in over.detail
    assert under.passed and "threshold alone decides" in under.detail
    nan_p = _ece_check(_metrics({"value": 0.06, "chance_high": 0.08, "p_value": float("nan")}), MAX_ECE)
    assert not nan_p.passed
