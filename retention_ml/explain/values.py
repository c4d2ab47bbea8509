"""Exact TreeSHAP values of a calibrated turnover model, on the calibrated log-odds scale.

Method: LightGBM's own TreeSHAP (``Booster.predict(X, pred_contrib=True)``).
Both candidates are exact path-dependent TreeSHAP (Lundberg et al. 2020) and
give the same numbers; the choice is about speed and moving parts:

- ``shap.TreeExplainer(booster)`` with no background data (shap 0.51) parses
  the whole model into its own tree structures and then, for LightGBM with
  ``feature_perturbation="tree_path_dependent"``, calls exactly the same
  ``Booster.predict(..., pred_contrib=True)`` to get the values. It adds the
  parsing (seconds on a few hundred trees) and a copy, and nothing else.
- LightGBM's ``pred_contrib`` runs the same C++ TreeSHAP directly, multithreaded
  with OpenMP, with no model conversion.

So LightGBM's contributions are used here. The issue's bar, measured by
``benchmarks/bench_explain.py --run RUN --data DIR`` on the national-size
model (150 simulated councils x 72 months; ``council_default``, early-stopped
at 143 trees x 15 leaves, 54 features) and 40,000 of its real snapshots, on a
shared 2-core machine (load average 3.6, so effectively one core):
LightGBM 12.0 s CPU / 12.2 s wall, shap.TreeExplainer 12.1 s CPU / 12.2 s
wall (ratio 1.0: the same C++ code), identical values; with both cores free
that is about 6 s. Driver profiles add nothing measurable, three reasons in
words per person 1.3 s. Earlier synthetic runs (40,000 rows, 45 features,
2026-11-23; noisy): 150 trees x 15 leaves: LightGBM 6.2 s, shap 7.1 s (1.15x);
400 trees x 31 leaves: LightGBM 74 s, shap 84 s (1.13x); the TurnoverModel
defaults (15 leaves, early-stopped at 330 trees on synthetic national-size
data): LightGBM 15.7 s, shap 17.1 s (1.08x). Values agree to
0.0 (same code); shap's own C++ TreeSHAP (its path for models without native
contributions) agrees to 1e-15 and is no faster per row. Cost grows with
trees x leaves x depth squared, so the "40,000 rows in 15 s" bar holds for
small models (up to roughly 100 trees of 31 leaves here) and not for large
ones; re-measure on the real model with ``--run``. shap stays a dependency
for the beeswarm plot and as the reference the tests compare against.

Scale: the model's calibrated logit is ``a * margin + b`` (Platt scaling on
the LightGBM raw margin, ``model.calibration_ == (a, b)``). A linear map of
the output scales Shapley values linearly, so the values on the calibrated
log-odds scale are ``a * contributions`` with base value
``a * raw_base + b``; per row ``base + values.sum() == logit(predict_proba)``.

Example
-------
>>> values, base = shap_values(model, X)                       # doctest: +SKIP
>>> np.allclose(base + values.sum(axis=1), calibrated_logit(model, X))  # doctest: +SKIP
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["METHOD", "aligned_features", "calibrated_logit", "calibration", "shap_values"]

METHOD = "lightgbm.pred_contrib (exact path-dependent TreeSHAP)"


def calibration(model) -> tuple[float, float]:
    """The Platt coefficients ``(a, b)`` of ``model`` (identity when it has none)."""
    cal = getattr(model, "calibration_", None)
    if cal is None:
        return 1.0, 0.0
    a, b = cal
    return float(a), float(b)


def aligned_features(model, X: pd.DataFrame) -> pd.DataFrame:
    """``X`` with exactly the model's columns in the model's order, as float.

    Raises ``ValueError`` naming the missing columns; extra columns (keys that
    travelled along) are ignored.
    """
    names = getattr(model, "feature_names_in_", None)
    names = list(model.booster_.feature_name() if names is None else names)
    missing = [c for c in names if c not in X.columns]
    if missing:
        raise ValueError(
            f"explain: X lacks {len(missing)} feature column(s) the model was trained on: {missing[:10]}"
            " (rule: X must hold every column in model.feature_names_in_)"
        )
    return X.loc[:, names].astype("float64")


def _booster_matrix(model, X: pd.DataFrame) -> np.ndarray:
    return aligned_features(model, X).to_numpy(dtype="float64", na_value=np.nan)


def calibrated_logit(model, X: pd.DataFrame) -> np.ndarray:
    """The model's calibrated log-odds per row: ``a * raw margin + b``."""
    a, b = calibration(model)
    margin = model.booster_.predict(_booster_matrix(model, X), raw_score=True)
    return a * np.asarray(margin, dtype="float64") + b


def shap_values(model, X: pd.DataFrame, *, chunk_rows: int | None = None, progress=None) -> tuple[pd.DataFrame, float]:
    """Exact TreeSHAP values on the calibrated log-odds scale.

    Parameters
    ----------
    model : TurnoverModel-like
        Has ``booster_`` (``lightgbm.Booster``, binary), ``calibration_`` ``(a, b)``
        and ``feature_names_in_``.
    X : DataFrame
        Feature rows (extra columns ignored).
    chunk_rows : int, optional
        Compute in chunks of this many rows (same result), calling
        ``progress(rows_done, rows_total)`` after each: for progress bars on
        national-size runs, which take tens of seconds.

    Returns
    -------
    values : DataFrame
        n rows x model features, same index as ``X``; units: calibrated log-odds.
    base_value : float
        Calibrated log-odds of the average training row; per row
        ``base_value + values.sum(axis=1)`` equals the calibrated logit.
    """
    a, b = calibration(model)
    matrix = _booster_matrix(model, X)
    names = list(aligned_features(model, X.iloc[:0]).columns)
    if len(matrix) == 0:
        base = float(model.booster_.predict(np.zeros((1, len(names))), pred_contrib=True)[0, -1])
        return pd.DataFrame(np.empty((0, len(names))), index=X.index, columns=names), a * base + b
    step = len(matrix) if not chunk_rows else max(1, int(chunk_rows))
    parts = []
    for start in range(0, len(matrix), step):
        parts.append(np.asarray(model.booster_.predict(matrix[start : start + step], pred_contrib=True), dtype="float64"))
        if progress is not None:
            progress(min(start + step, len(matrix)), len(matrix))
    contrib = parts[0] if len(parts) == 1 else np.concatenate(parts)
    if contrib.shape[1] != len(names) + 1:
        raise ValueError(
            f"explain: expected {len(names) + 1} contribution columns from a binary booster, got {contrib.shape[1]}"
            " (rule: only single-output models are supported)"
        )
    values = pd.DataFrame(a * contrib[:, :-1], index=X.index, columns=names)
    # The last column is the expected raw margin, identical on every row.
    return values, a * float(contrib[0, -1]) + b
