"""Are the explanations right? Grouped SHAP values against the simulator's true leaving drivers.

The one evaluation module that compares explanations with the simulated truth
(CONTRACTS section 6, ``explanations/truth.json``). It lives in the simulator
package because modelling and explanation code may not read the truth; the
truth is read only through ``retention_ml.simulate.truth.read_truth``.

Measures, on the explained rows (normally the test window):

- leavers (workers with a label-1 snapshot), at their last snapshot before
  leaving: the share whose *true dominant driver* is the model's top driver
  (``top1``) or among its top three (``top3``), with 95% bootstrap intervals;
  the same for leavers whose last snapshot was in the top risk decile of its
  month (``top_decile``: the issue's bar is top-3 >= 80%, top-1 >= 60%);
- every snapshot: the Spearman rank correlation, across the drivers the model
  can see, between the person's grouped SHAP values and the true decomposition
  of their leaving probability in the snapshot month (mean and median over rows;
  rows where either side is constant are left out and counted); also against
  the truth centred on the explained rows' mean (``spearman_centred_*``),
  because SHAP values are relative to the average row.

Example
-------
>>> check = truth_checker("sim/")                                  # doctest: +SKIP
>>> report = check(explanation, keys, y)                           # doctest: +SKIP
>>> report["top3"]["value"], report["spearman_median"]             # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from retention_ml.explain.alignment import bootstrap_interval
from retention_ml.explain.drivers import rank_drivers, reason_drivers

__all__ = ["decomposition_table", "dominant_table", "row_spearman", "truth_agreement", "truth_checker", "write_truth_report"]

MONTH_COLUMNS = ("month", "as_of", "date", "period")
# The simulator names it ``true_driver`` (leavers.parquet); other sources may say "dominant".
DOMINANT_HINT = "dominant"


def _frames(truth) -> list[pd.DataFrame]:
    if isinstance(truth, pd.DataFrame):
        return [truth]
    if isinstance(truth, Mapping):
        items = truth.values()
    else:
        items = vars(truth).values()
    return [v for v in items if isinstance(v, pd.DataFrame)]


def _month_column(frame: pd.DataFrame) -> str | None:
    return next((c for c in MONTH_COLUMNS if c in frame.columns), None)


def decomposition_table(truth, codes: list[str] | None = None) -> pd.DataFrame:
    """The true per-worker-month decomposition as ``worker_id, month, <driver codes...>`` (wide).

    Accepts what ``read_truth`` returns (a mapping or an object of DataFrames,
    or one DataFrame) in wide form (one column per driver code, optionally
    with a common prefix such as ``p_``) or long form (``driver`` plus one
    numeric value column).
    """
    codes = reason_drivers() if codes is None else codes
    for frame in _frames(truth):
        month = _month_column(frame)
        if month is None or "worker_id" not in frame.columns:
            continue
        if "driver" in frame.columns:
            numeric = [c for c in frame.columns if c not in ("worker_id", month, "driver") and pd.api.types.is_numeric_dtype(frame[c])]
            if not numeric:
                continue
            wide = frame.pivot_table(index=["worker_id", month], columns="driver", values=numeric[0], aggfunc="sum").reset_index()
        else:
            renames = {}
            for c in frame.columns:
                for code in codes:
                    if c == code or c.endswith("_" + code):
                        renames.setdefault(c, code)
            if len(set(renames.values())) < 2:
                continue
            wide = frame.loc[:, ["worker_id", month, *renames]].rename(columns=renames)
        wide = wide.rename(columns={month: "month"})
        for code in codes:
            if code not in wide.columns:
                wide[code] = 0.0
        wide["worker_id"] = wide["worker_id"].astype(str)
        wide["month"] = pd.to_datetime(wide["month"]).astype("datetime64[ns]")
        return wide.loc[:, ["worker_id", "month", *codes]]
    raise ValueError("truth: no per-worker-month driver decomposition found (rule: worker_id, month and driver columns)")


def dominant_table(truth) -> pd.DataFrame | None:
    """``worker_id, dominant_driver`` per leaver from the truth, or None when it holds no such table."""
    for frame in _frames(truth):
        cols = [c for c in frame.columns if c == "true_driver" or DOMINANT_HINT in c.lower()]
        if "worker_id" in frame.columns and cols:
            out = frame.loc[:, ["worker_id", cols[0]]].rename(columns={cols[0]: "dominant_driver"})
            out = out.dropna().assign(worker_id=lambda f: f["worker_id"].astype(str))
            return out.drop_duplicates("worker_id", keep="last")
    return None


def row_spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman correlation of each row of ``a`` with the same row of ``b`` (NaN where a row is constant)."""
    ra = rankdata(a, axis=1)
    rb = rankdata(b, axis=1)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    denom = np.sqrt((ra**2).sum(axis=1) * (rb**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (ra * rb).sum(axis=1) / np.where(denom > 0, denom, 1.0), np.nan)


def _truth_at_snapshots(keys: pd.DataFrame, decomposition: pd.DataFrame, codes: list[str]) -> np.ndarray:
    """True decomposition for each snapshot: the truth month equal to as_of, else the latest before it."""
    left = pd.DataFrame(
        {"row": np.arange(len(keys)), "worker_id": keys["worker_id"].astype(str).to_numpy(), "month": pd.to_datetime(keys["as_of"]).astype("datetime64[ns]").to_numpy()}
    ).sort_values("month")
    right = decomposition.assign(
        worker_id=decomposition["worker_id"].astype(str), month=pd.to_datetime(decomposition["month"]).astype("datetime64[ns]")
    ).sort_values("month")
    merged = pd.merge_asof(left, right, on="month", by="worker_id", direction="backward").sort_values("row")
    return merged.loc[:, codes].to_numpy(dtype="float64")


def truth_agreement(
    profile: pd.DataFrame,
    keys: pd.DataFrame,
    y: pd.Series,
    decomposition: pd.DataFrame,
    *,
    dominant: pd.DataFrame | None = None,
    risk: pd.Series | np.ndarray | None = None,
    n_boot: int = 1000,
    random_state: int = 0,
) -> dict:
    """The truth record (``explanations/truth.json``) from driver profiles and the true decomposition.

    ``dominant`` (worker_id, dominant_driver) is the simulator's true dominant
    driver per leaver; when absent, the largest component of the true
    decomposition at the leaver's last snapshot is used. ``risk`` (same rows)
    enables the top-decile figures.
    """
    codes = reason_drivers()
    truth = _truth_at_snapshots(keys, decomposition, codes)
    shap_part = profile.loc[:, codes].to_numpy(dtype="float64")
    known = ~np.isnan(truth).any(axis=1)
    rho = row_spearman(shap_part[known], truth[known])
    valid = rho[~np.isnan(rho)]
    # SHAP values are relative to the average row; the truth is relative to the simulator's
    # base. Centring the truth on the explained rows' mean compares like with like.
    centred = truth[known] - truth[known].mean(axis=0) if known.any() else truth[known]
    rho_c = row_spearman(shap_part[known], centred)
    valid_c = rho_c[~np.isnan(rho_c)]

    labels = np.asarray(y, dtype="float64") == 1.0
    frame = pd.DataFrame({"row": np.arange(len(keys)), "worker_id": keys["worker_id"].astype(str).to_numpy(), "as_of": pd.to_datetime(keys["as_of"]).to_numpy()})
    if risk is not None:
        frame["decile_top"] = pd.Series(np.asarray(risk, dtype="float64")).groupby(frame["as_of"]).rank(pct=True, method="max").to_numpy() > 0.9
    last = frame.loc[labels].sort_values(["worker_id", "as_of"]).drop_duplicates("worker_id", keep="last")
    if dominant is not None:
        last = last.merge(dominant, on="worker_id", how="inner")
    else:
        with np.errstate(invalid="ignore"):
            top = np.asarray(codes, dtype=object)[np.nanargmax(np.nan_to_num(truth[last["row"].to_numpy()], nan=-np.inf), axis=1)] if len(last) else []
        last = last.assign(dominant_driver=top)
    ranking = rank_drivers(profile.iloc[last["row"].to_numpy()], codes)
    true = last["dominant_driver"].astype(str).to_numpy(dtype=object)
    top1 = (ranking[:, 0] == true).astype(float) if len(last) else np.array([])
    top3 = (ranking[:, :3] == true[:, None]).any(axis=1).astype(float) if len(last) else np.array([])
    boot = {"n_boot": n_boot, "random_state": random_state}
    report = {
        "n_leavers": int(len(last)),
        "top1": bootstrap_interval(top1, **boot),
        "top3": bootstrap_interval(top3, **boot),
        "spearman_mean": float(valid.mean()) if len(valid) else None,
        "spearman_median": float(np.median(valid)) if len(valid) else None,
        "n_snapshots": int(len(keys)),
        "n_snapshots_with_truth": int(known.sum()),
        "n_spearman_undefined": int(np.isnan(rho).sum()),
        "spearman_centred_mean": float(valid_c.mean()) if len(valid_c) else None,
        "spearman_centred_median": float(np.median(valid_c)) if len(valid_c) else None,
        "dominant_in_visible_drivers": float(np.isin(true, codes).mean()) if len(last) else None,
        "drivers": codes,
    }
    if "decile_top" in last.columns:
        mask = last["decile_top"].to_numpy(dtype=bool)
        report["top_decile"] = {"n": int(mask.sum()), "top1": bootstrap_interval(top1[mask], **boot), "top3": bootstrap_interval(top3[mask], **boot)}
    return report


def truth_checker(data_dir: str | Path, *, n_boot: int = 1000, random_state: int = 0) -> Callable:
    """A callable ``(explanation, keys, y) -> dict`` for ``log_run_explanations(truth=...)`` on simulated data."""
    from retention_ml.simulate.truth import read_truth

    truth = read_truth(data_dir)
    decomposition = decomposition_table(truth)
    dominant = dominant_table(truth)

    def check(explanation, keys: pd.DataFrame, y: pd.Series) -> dict:
        return truth_agreement(
            explanation.by_driver(), keys, y, decomposition, dominant=dominant, risk=explanation.risk().to_numpy(),
            n_boot=n_boot, random_state=random_state,
        )

    return check


def write_truth_report(report: dict, out_dir: str | Path) -> Path:
    """Write ``explanations/truth.json`` under ``out_dir`` atomically."""
    import json

    from retention_ml.io import atomic_path

    target = Path(out_dir) / "explanations" / "truth.json"
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(report, indent=2, sort_keys=True), encoding="utf-8")
    return target
