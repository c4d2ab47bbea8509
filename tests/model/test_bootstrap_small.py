"""Bootstrap intervals on a council-sized test window: resamples without a leaver are counted, not warned about."""

import warnings

import numpy as np

from retention_ml.evaluate import _worker_weights, evaluate_models


def test_resamples_without_a_leaver_are_counted_and_raise_no_warning():
    # Ten workers, one leaver, a constant model (what a small council's training gives): many resamples
    # draw no leaver (ROC-AUC, AP and recall do not exist there) and some put only undrawn rows first.
    y = np.r_[1.0, np.zeros(9)]
    workers = np.arange(10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's RuntimeWarnings (0/0, All-NaN slice) become failures
        rec = evaluate_models({"lightgbm": np.full(10, 0.1), "logistic": np.linspace(0.5, 0.05, 10)}, y,
                              workers=workers, n_boot=200, random_state=0)
    no_leaver = int((_worker_weights(workers, 200, 0)[:, 0] == 0).sum())
    assert 0 < no_leaver < 200
    for model in rec.values():
        for metric in ("roc_auc", "average_precision", "recall_top10"):
            assert model[metric]["undefined"] == no_leaver, metric
        for metric in ("brier", "precision_top10"):
            assert model[metric]["undefined"] == 0, metric
            assert np.isfinite([model[metric]["low"], model[metric]["high"]]).all(), metric
        assert model["ece"]["undefined"] == 0
        assert np.isfinite([model["ece"]["chance"], model["ece"]["chance_high"], model["ece"]["p_value"]]).all()
    # The ranking model finds the leaver at the top whenever it is drawn: recall 1 in every defined resample
    # (the old code counted the leaver-less resamples as recall 0).
    assert rec["logistic"]["recall_top10"]["low"] == 1.0


def test_metric_undefined_in_every_resample_has_no_interval():
    rec = evaluate_models({"lightgbm": np.full(6, 0.2)}, np.zeros(6), workers=np.arange(6), n_boot=20)
    auc = rec["lightgbm"]["roc_auc"]
    assert auc["undefined"] == 20 and np.isnan(auc["low"]) and np.isnan(auc["high"])
