""""The top 10% of risk" is one set of rows wherever the card uses it: precision and recall in the top 10%,
the fairness audit's flagged share, and the truth check's top decile of each date (evaluate.top_share_mask)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from retention_ml.evaluate import point_metrics, top_share_mask
from retention_ml.fairness import flag_top_share
from retention_ml.simulate.truth_check import leaver_snapshots


@pytest.mark.parametrize("n", [15, 25, 95, 100, 333])
def test_precision_recall_and_flagged_share_use_the_same_rows(n):
    rng = np.random.default_rng(n)
    p = rng.random(n)
    y = (rng.random(n) < 0.3).astype(float)
    flagged = flag_top_share(p)
    assert flagged.sum() == math.ceil(0.1 * n)
    got = point_metrics(y, p)
    assert got["precision_top10"] == pytest.approx(y[flagged].mean())
    assert got["recall_top10"] == pytest.approx(y[flagged].sum() / y.sum())


def test_the_truth_checks_top_decile_is_the_same_rows_per_date():
    rng = np.random.default_rng(0)
    sizes = {"2024-01-01": 15, "2024-02-01": 95, "2024-03-01": 100}
    keys = pd.DataFrame({"worker_id": np.arange(sum(sizes.values())).astype(str),
                         "as_of": pd.to_datetime(np.repeat(list(sizes), list(sizes.values())))})
    risk = rng.random(len(keys))
    frame = leaver_snapshots(keys, np.ones(len(keys)), risk).sort_values("row")  # every row a leaver: all kept
    for date, n in sizes.items():
        on = (keys["as_of"] == date).to_numpy()
        assert frame.loc[on[frame["row"]], "decile_top"].tolist() == flag_top_share(risk[on]).tolist()
        assert frame.loc[on[frame["row"]], "decile_top"].sum() == math.ceil(0.1 * n)


def test_weights_count_and_undrawn_rows_are_never_in_the_top():
    risk = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    # the highest risk was not drawn (weight 0); 0.8 drawn twice: 10% of 5 units is under its weight
    assert top_share_mask(risk, weights=[0, 2, 1, 1, 1]).tolist() == [False, True, False, False, False]
    assert top_share_mask(risk, share=0.5, weights=[0, 2, 1, 1, 1]).tolist() == [False, True, True, False, False]
