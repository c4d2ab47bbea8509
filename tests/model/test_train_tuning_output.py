"""What train says about its tuning search (analyst review S12 F6): the settings it chose, and when the timeout cut it
short, so the run may not come out the same again."""

import types

import numpy as np
import pandas as pd

SEARCH = {"trials": 12, "objective": "inner ROC-AUC", "best_inner_roc_auc": 0.8513198757763977,
          "best": {"num_leaves": 8, "learning_rate": 0.031674063118237505, "extra_trees": False}}


def _result(tuning) -> types.SimpleNamespace:
    counts = {"train": {"n": 900, "positives": 90, "workers": 300, "leavers": 80},
              "valid": {"n": 600, "positives": 60, "workers": 600, "leavers": 60},
              "test": {"n": 600, "positives": 60, "workers": 600, "leavers": 60}}
    roc_auc = {"value": 0.70, "low": 0.64, "high": 0.76}   # narrow enough for the gate: no warning of its own
    return types.SimpleNamespace(metrics={"counts": counts, "tuning": tuning, "models": {"lightgbm": {"roc_auc": roc_auc}}},
                                 predictions=pd.DataFrame({"risk": np.linspace(0.01, 0.4, 600)}))


def test_a_search_cut_short_by_the_timeout_is_a_warning():
    from retention_ml.commands.train import evidence_warnings

    exp = {"model": {"min_child_samples": 100}, "tuning": {"trials": 40, "timeout_seconds": 3}}
    warned = evidence_warnings(_result(SEARCH), exp)
    assert len(warned) == 1
    assert warned[0].startswith("tuning stopped at tuning.timeout_seconds = 3 after 12 of 40 trials")
    assert "may not give this model again" in warned[0]
    # a search that ran every trial asked for, and no search at all, say nothing
    assert evidence_warnings(_result(SEARCH), {**exp, "tuning": {"trials": 12, "timeout_seconds": 3}}) == []
    assert evidence_warnings(_result(None), {**exp, "tuning": {"trials": 0, "timeout_seconds": 600}}) == []


def test_the_tuning_line_names_the_objective_the_score_and_the_chosen_settings():
    from retention_ml.commands.train import tuning_summary

    line = tuning_summary(SEARCH)
    assert line.startswith("Tuning: 12 trials inside the training window (inner ROC-AUC); best inner ROC-AUC 0.851")
    assert "num_leaves 8, learning_rate 0.03167, extra_trees False" in line
    flat = tuning_summary({**SEARCH, "objective": "out-of-fold log-loss", "best_inner_log_loss": 0.3012345})
    assert "best out-of-fold log-loss 0.3012" in flat
