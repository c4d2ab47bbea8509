"""Log a run's explanations to MLflow: global importance, beeswarm, exit-interview alignment.

Artifacts written under ``explanations/`` of the run:
``global_importance.csv`` (feature, driver, mean_abs_shap),
``driver_importance.csv`` (driver, mean_abs_shap), ``beeswarm.png``,
``alignment.json`` and, when a truth check is supplied (simulated data only),
``truth.json``. MLflow is reached only through ``retention_ml.tracking``.

This module never reads the simulator's ground truth: the caller passes
``truth`` as a ready report (dict) or a callable (the simulator package's
``truth_check.truth_checker`` builds one for evaluation scripts).

Example
-------
>>> out = log_run_explanations(model, X_test, keys_test, y_test, tables=tables, run_id=run_id)  # doctest: +SKIP
>>> out["alignment"]["top3"]                                                                     # doctest: +SKIP
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from retention_ml import artifacts
from retention_ml.explain.alignment import exit_interview_alignment
from retention_ml.explain.explanation import Explanation, explain

__all__ = ["ARTIFACT_DIR", "log_run_explanations", "write_beeswarm"]

ARTIFACT_DIR = artifacts.EXPLANATIONS_DIR
BEESWARM_ROWS = 5000
MAX_ROWS = 40_000
EMPTY_INTERVIEWS = pd.DataFrame({"worker_id": pd.Series(dtype=object), "primary_reason": pd.Series(dtype=object)})


def write_beeswarm(explanation: Explanation, X: pd.DataFrame, path: str | Path, *, max_rows: int = BEESWARM_ROWS, random_state: int = 0) -> Path:
    """Save the beeswarm plot (see :func:`_draw_beeswarm`) without numpy's "All-NaN slice" warning.

    A feature with no value at all (its optional table not supplied) has no colour scale: shap draws it grey
    after a numpy warning that told the user nothing during ``train``.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All-NaN slice encountered", RuntimeWarning)
        return _draw_beeswarm(explanation, X, path, max_rows=max_rows, random_state=random_state)


def _draw_beeswarm(explanation: Explanation, X: pd.DataFrame, path: str | Path, *, max_rows: int = BEESWARM_ROWS, random_state: int = 0) -> Path:
    """Save a SHAP beeswarm plot (features by mean |SHAP|, colour = feature value) to ``path``.

    At most ``max_rows`` rows (a fixed-seed sample) are drawn: the picture
    does not change with more points, the drawing time does.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import shap

    n = len(explanation.values)
    rows = np.sort(np.random.default_rng(random_state).choice(n, size=min(n, max_rows), replace=False)) if n else np.arange(0)
    data = X.loc[:, list(explanation.values.columns)].to_numpy(dtype="float64", na_value=np.nan)[rows]
    shap_exp = shap.Explanation(
        values=explanation.values.to_numpy()[rows],
        base_values=np.broadcast_to(np.asarray(explanation.base_value, dtype="float64"), n)[rows],
        data=data,
        feature_names=list(explanation.values.columns),
    )
    plt.figure(figsize=(9, 7))
    # shap jitters the points with the global numpy generator (no rng argument): seed it for this call only, so
    # two identical runs draw the same picture, and give the caller's generator state back.
    state = np.random.get_state()
    np.random.seed(random_state)
    try:
        shap.plots.beeswarm(shap_exp, max_display=20, show=False)
    finally:
        np.random.set_state(state)
    fig = plt.gcf()
    fig.suptitle("SHAP values (calibrated log-odds of leaving within the horizon)", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def rows_to_explain(keys: pd.DataFrame, y: pd.Series, *, max_rows: int | None, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Positions to explain and, among them, the positions of the unbiased sample.

    With ``max_rows`` None or at least the row count: every row, both ways.
    Otherwise a fixed-seed random sample of ``max_rows`` rows (for global
    importance, the beeswarm and the global baseline) plus every leaver's last
    label-1 snapshot (for alignment and the truth check). Each date's
    reference average is then taken over the sample alone, and alignment
    figures are those of explaining everything against that reference.
    """
    n = len(keys)
    if max_rows is None or n <= max_rows:
        every = np.arange(n)
        return every, every
    sample = np.sort(np.random.default_rng(random_state).choice(n, size=max_rows, replace=False))
    frame = pd.DataFrame({"row": np.arange(n), "worker_id": keys["worker_id"].astype(str).to_numpy(), "as_of": keys["as_of"].to_numpy()})
    leaving = frame.loc[np.asarray(y, dtype="float64") == 1.0]
    last = leaving.sort_values(["worker_id", "as_of"]).drop_duplicates("worker_id", keep="last")["row"].to_numpy()
    rows = np.union1d(sample, last)
    return rows, np.searchsorted(rows, sample)


def log_run_explanations(
    model,
    X: pd.DataFrame,
    keys: pd.DataFrame,
    y: pd.Series,
    *,
    tables: dict[str, pd.DataFrame],
    run_id: str,
    catalogue: pd.DataFrame | None = None,
    truth: dict | Callable[[Explanation, pd.DataFrame, pd.Series], dict] | None = None,
    n_boot: int = 1000,
    random_state: int = 0,
    max_rows: int | None = MAX_ROWS,
) -> dict:
    """Explain ``X`` (normally the test window) and log the explanation record to run ``run_id``.

    Parameters
    ----------
    model : TurnoverModel
    X, keys, y : DataFrame, DataFrame, Series
        Features, keys (``worker_id``, ``as_of`` ...) and labels of the same rows.
    tables : dict
        Input tables; ``exit_interviews`` is used when present (optional table:
        without it the alignment record says ``n_with_interview: 0``).
    run_id : str
        MLflow run to log to (no active run needed).
    catalogue : DataFrame, optional
        Feature catalogue; default ``retention_ml.features.feature_catalogue()``.
    truth : dict or callable, optional
        Simulated data only: a truth report, or ``f(explanation, keys, y) -> dict``.
    n_boot, random_state : int
        Bootstrap settings for the alignment intervals.
    max_rows : int or None
        Exact SHAP costs about 0.15-2 ms per row on 2 cores depending on model
        size, and a 12-month test window at national size has ~400,000 rows.
        Above ``max_rows`` rows, global importance, the beeswarm and the global
        baseline use a fixed-seed random sample of ``max_rows`` rows (which also
        sets each date's reference average), and every leaver's last snapshot is
        explained too, for alignment; the truth check's Spearman figures are
        then over sample plus leavers.
        None explains every row.

    Returns
    -------
    dict
        ``explanation`` (of the explained rows), ``rows`` (their positions in ``X``),
        ``global_importance``, ``driver_importance``, ``alignment``, ``truth`` (or None)
        and ``artifacts`` (paths logged inside the run).
    """
    from retention_ml import tracking

    rows, sample = rows_to_explain(keys, y, max_rows=max_rows, random_state=random_state)
    X, keys, y = X.iloc[rows], keys.iloc[rows], pd.Series(np.asarray(y, dtype="float64")[rows], index=keys.index[rows])
    # the reference is each date's average over the unbiased sample (leavers were added on top of it)
    explanation = explain(model, X, catalogue=catalogue).relative_to(keys["as_of"], reference_rows=sample)
    sampled = explanation.take(sample)
    features = sampled.feature_importance()
    drivers = sampled.driver_importance()
    interviews = tables.get("exit_interviews", EMPTY_INTERVIEWS)
    alignment = exit_interview_alignment(
        explanation.by_driver(), keys, y, interviews, n_boot=n_boot, random_state=random_state, global_rows=sample
    )
    alignment["explained_rows"] = int(len(rows))
    alignment["global_sample_rows"] = int(len(sample))
    truth_report = truth(explanation, keys, y) if callable(truth) else truth

    logged = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        fname = artifacts.file_name
        features.to_csv(tmp / fname(artifacts.GLOBAL_IMPORTANCE), index=False, lineterminator="\n")
        drivers.to_csv(tmp / fname(artifacts.DRIVER_IMPORTANCE), index=False, lineterminator="\n")
        write_beeswarm(sampled, X.iloc[sample], tmp / fname(artifacts.BEESWARM), random_state=random_state)
        for path in (artifacts.GLOBAL_IMPORTANCE, artifacts.DRIVER_IMPORTANCE, artifacts.BEESWARM):
            tracking.log_artifact_file(run_id, tmp / fname(path), artifacts.folder(path))
            logged.append(path)
    tracking.log_json(run_id, alignment, artifacts.ALIGNMENT)
    logged.append(artifacts.ALIGNMENT)
    if truth_report is not None:
        tracking.log_json(run_id, truth_report, artifacts.TRUTH)
        logged.append(artifacts.TRUTH)
    return {
        "explanation": explanation,
        "rows": rows,
        "global_importance": features,
        "driver_importance": drivers,
        "alignment": alignment,
        "truth": truth_report,
        "artifacts": logged,
    }
