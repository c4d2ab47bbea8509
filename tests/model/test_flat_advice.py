"""Advice for too few test leavers fits the kind of data: a flat extract has no snapshots or test periods
(reviewer S10-A F6: train on a flat file advised --set split.test_periods and snapshots.frequency_months)."""

import types

import numpy as np
import pandas as pd


def _flat_result(test_leavers: int) -> types.SimpleNamespace:
    counts = {"train": {"n": 225, "positives": 19, "workers": 225, "leavers": 19},
              "valid": {"n": 0, "positives": 0, "workers": 0, "leavers": 0},
              "test": {"n": 75, "positives": test_leavers, "workers": 75, "leavers": test_leavers}}
    return types.SimpleNamespace(metrics={"counts": counts, "label": {"column": "Left", "positive": "Yes"}},
                                 predictions=pd.DataFrame({"risk": np.linspace(0.01, 0.4, 75)}))


def test_train_advice_for_a_flat_extract_names_no_snapshot_key():
    from retention_ml.commands.train import evidence_warnings

    warned = evidence_warnings(_flat_result(6), {"kind": "flat", "model": {"min_child_samples": 10}})
    assert len(warned) == 1 and "holds 6 leavers among 75 people" in warned[0]
    assert "split.test_fraction" in warned[0] and "a longer extract" in warned[0]
    assert "split.test_periods" not in warned[0] and "snapshots.frequency_months" not in warned[0]
    snapshots = evidence_warnings(_flat_result(6), {"kind": "snapshots", "model": {"min_child_samples": 10}})
    assert "split.test_periods" in snapshots[0]


def test_the_gates_leaver_check_gives_the_same_flat_advice():
    from retention_ml.promotion import leavers_check

    check = leavers_check(_flat_result(6).metrics, 40, 0.20)
    assert not check.passed and "split.test_fraction" in check.detail and "split.test_periods" not in check.detail
