"""ECE's chance level: what risks exactly right show on the same rows, in place of a bootstrap interval that sits
above the truth and can leave out its own value (benchmarks/bench_ece_chance.py measures both)."""

import numpy as np
import pytest
from scipy.special import expit, logit

from retention_ml.evaluate import _worker_weights, ece, ece_beyond_chance, ece_chance, evaluate_models


def _calibrated_sample(n: int, seed: int, shift: float = 0.0):
    """Risks around a 15% leaver rate and outcomes drawn from them (``shift`` on the log-odds: risks too low)."""
    rng = np.random.default_rng(seed)
    p = expit(rng.normal(logit(0.15), 0.8, n))
    return p, (rng.random(n) < expit(logit(p) + shift)).astype(float)


def test_a_draw_is_the_ece_of_labels_drawn_from_the_risks():
    p, _ = _calibrated_sample(300, 1)
    draws = ece_chance(p, workers=np.arange(300), n_draws=5, random_state=4)
    u = np.random.default_rng([4, 2007]).random((5, 300))
    assert draws == pytest.approx([ece((row < p).astype(float), p) for row in u])


def test_a_workers_rows_share_one_draw():
    # Two rows per worker with the same risk: each draw labels both rows alike (both left or both stayed), so
    # every bin's gap moves in pairs and the chance level is that of 100 people, not 200 independent rows.
    p = np.repeat(np.linspace(0.05, 0.5, 100), 2)
    paired = ece_chance(p, workers=np.repeat(np.arange(100), 2), n_draws=400)
    rows = ece_chance(p, workers=np.arange(200), n_draws=400)
    assert np.mean(paired) > 1.2 * np.mean(rows)


def test_a_perfectly_calibrated_small_window_reads_within_chance_where_the_old_interval_left_out_the_truth():
    # 368 rows, as the IBM HR test part: outcomes drawn from the risks themselves, so the true ECE is 0. The
    # plug-in ECE still comes out at 0.036, and the percentile interval over resampled workers that was logged
    # beside it (the same 200 draws) lies entirely above 0 and, on this seed, above its own value.
    p, y = _calibrated_sample(368, 11)
    rec = evaluate_models({"lightgbm": p}, y, workers=np.arange(368), n_boot=200, random_state=0)["lightgbm"]["ece"]
    old = np.percentile([ece(y, p, weights=w) for w in _worker_weights(np.arange(368), 200, 0)], [2.5, 97.5])
    assert rec["value"] > 0.03 and rec["value"] < old[0] and 0 < old[0]
    assert rec["value"] <= rec["chance_high"] and rec["p_value"] >= 0.05 and ece_beyond_chance(rec) is False
    # the interval is still logged (issue 5 asks one for every metric) and is the very range shown wrong above
    assert (rec["low"], rec["high"]) == pytest.approx(tuple(old))


def test_calibrated_samples_are_called_beyond_chance_about_one_time_in_twenty_at_most():
    flagged = [ece_beyond_chance(evaluate_models({"m": p}, y, workers=np.arange(len(p)), n_boot=100, random_state=s)
                                 ["m"]["ece"])
               for s, (p, y) in enumerate(_calibrated_sample(250, 100 + s) for s in range(60))]
    assert sum(flagged) <= 7   # 5% of 60 is 3; binomial 97.5th percentile 7


def test_risks_too_low_on_a_large_window_are_beyond_chance():
    p, y = _calibrated_sample(4000, 5, shift=0.4)
    rec = evaluate_models({"lightgbm": p}, y, workers=np.arange(4000), n_boot=100)["lightgbm"]["ece"]
    assert rec["value"] > rec["chance_high"] and rec["p_value"] < 0.05 and ece_beyond_chance(rec) is True


def test_a_run_logged_before_chance_levels_has_no_verdict():
    assert ece_beyond_chance({"value": 0.04, "low": 0.05, "high": 0.08}) is None
    assert ece_beyond_chance(None) is None


def test_the_leavers_standard_error_is_that_of_one_draw_per_person():
    from retention_ml.evaluate import leavers_standard_error

    rng = np.random.default_rng(8)
    workers = np.repeat(np.arange(300), rng.integers(1, 5, 300))
    p = rng.uniform(0.02, 0.5, len(workers))
    codes = np.unique(workers, return_inverse=True)[1]
    totals = (rng.random((20000, 300))[:, codes] < p).sum(axis=1)
    assert leavers_standard_error(p, workers=workers) == pytest.approx(totals.std(), rel=0.03)
    assert leavers_standard_error(p, workers=np.arange(len(p))) == pytest.approx(np.sqrt(np.sum(p * (1 - p))))
