"""Are the explanations right? Grouped SHAP values against the simulator's true leaving drivers.

The one evaluation module that compares explanations with the simulated truth
(the run's ``explanations/truth.json``, :data:`retention_ml.artifacts.TRUTH`). It lives in the simulator
package because modelling and explanation code may not read the truth; the
truth is read only through ``retention_ml.simulate.truth.read_truth``.

Definitions (see :mod:`retention_ml.simulate.exits` for the reasoning)
---------------------------------------------------------------------
- **True decomposition** of a worker-month: each driver's contribution to the
  true leaving logit minus its mean over everyone in post that month. For the
  simulator's additive logit this is the exact Shapley value of each driver
  (interventional, the month's workforce as background), so it is on the same
  footing as a SHAP explanation, which is also a deviation from an average.
  The raw contributions have arbitrary zero points (career progression is
  +0.45 for everyone in their first two years) and are reported only beside.
- **True dominant driver of a leaver** (headline ``top1``/``top3``): the
  driver most above the month's average *in the month they left*
  (``leavers.dominant_driver``); ``personal`` (unobserved: frailty, life
  events) when that is the largest, which no model can see and counts as a miss.
- Explanations are measured from the average of everyone explained at the
  same date (``Explanation.relative_to``), as the truth is from the month's
  workforce, and taken at the leaver's last snapshot with label 1 (up to
  ``horizon`` months before leaving), so the headline mixes two things: whether
  the explanation is right about the hazard at the snapshot, and whether that
  hazard's main driver is still the main one when they leave (caseload,
  absence and team departures move month to month; life events arrive). So
  the report also gives ``at_snapshot``: agreement with the true dominant
  driver of the hazard in the snapshot month itself (the month the forecast
  starts from), and ``oracle``: how well the true decomposition in the
  snapshot month would itself do against the leaving-month truth. That month
  already holds its own caseload, sickness and supervision, which are not yet
  recorded at the snapshot, so ``oracle_last_month`` does the same with the
  truth of the last complete month before the snapshot, the month the features
  end at: how a ranking of the true hazard's contributions, known exactly from
  the records available when the list was made, would score. A reference, not
  a limit: the leaving month is selected for a spike in the hazard, so volatile
  drivers (sickness, strain) dominate it more often than their share of the
  expected risk says, and a ranker trained on the leaving-month truth itself
  does better from the same features (``benchmarks/bench_reason_rankers.py``).
- ``top_decile``: leavers whose last snapshot's risk was in the top 10% of its
  as_of date among the explained rows (the issue's bar: top-3 >= 80%, top-1 >= 60%).
- ``visible`` subsets: only leavers whose true dominant driver is one the
  model can see (every driver but ``personal``).
- Spearman: per snapshot, the rank correlation across the model-visible
  drivers between the person's grouped SHAP values and the true decomposition
  in the snapshot month (``spearman_*``); ``spearman_raw_*`` uses the raw
  contributions instead.
- ``oracle_roc_auc``: ROC-AUC of the true monthly leaving probability at the
  snapshot month (``p_leave``) on the same snapshots, beside the model's; with
  a constant hazard ``1 - (1 - p)^h`` ranks as ``p`` does, and later months
  would leak the label (as in ``benchmarks/bench_oracle.py``).

Intervals: 95% percentile bootstrap over leavers (``bootstrap_interval``);
groups under 5 people get nulls.

Example
-------
>>> check = truth_checker("sim/")                                  # doctest: +SKIP
>>> report = check(explanation, keys, y)                           # doctest: +SKIP
>>> report["top_decile"]["top3"]["value"], report["spearman_median"]   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from retention_ml import artifacts
from retention_ml.evaluate import TOP_SHARE, top_share_mask
from retention_ml.explain.alignment import bootstrap_interval, top_hits
from retention_ml.explain.drivers import rank_drivers, reason_drivers
from retention_ml.features._pit import last_known_month

__all__ = [
    "BARS",
    "DEFINITIONS",
    "TruthCheckError",
    "bars_met",
    "check_run",
    "decomposition_table",
    "dominant_table",
    "leaver_snapshots",
    "oracle_auc",
    "row_spearman",
    "run_label_config",
    "truth_agreement",
    "truth_checker",
]

MONTH_COLUMNS = ("month", "as_of", "date", "period")
# The bars for leavers in the top risk decile (issue 6).
BARS = {"top_decile_top3": 0.80, "top_decile_top1": 0.60}
PERSONAL = "personal"
DEFINITIONS = {
    "true_decomposition": "per worker-month, each driver's contribution to the true leaving logit minus its mean over "
    "everyone in post that month (the exact Shapley value of the additive true logit)",
    "true_dominant_driver": "per voluntary leaver, the driver whose contribution in the leaving month most exceeds the "
    "month's average (leavers.dominant_driver); 'personal' (unobservable) counts as a miss",
    "explained_snapshot": "each leaver's last snapshot with label 1 (up to the horizon before leaving)",
    "at_snapshot": "true dominant driver of the hazard in the snapshot month itself (the month the forecast starts from)",
    "oracle": "the true decomposition in the snapshot month ranked as if it were the explanation, against the "
    "leaving-month truth (that month's own caseload, sickness and supervision are not yet recorded at the snapshot)",
    "oracle_last_month": "the same with the true decomposition of the last complete month before the snapshot, the "
    "month the features end at (they see only rows dated before as_of): how ranking the true hazard's contributions, "
    "known exactly from what was recorded at the snapshot, scores; a reference, not a limit (the leaving month favours "
    "drivers that spike, such as sickness)",
    "top_decile": "leavers whose last snapshot's risk is in the top 10% of its as_of date among the explained rows",
    "raw": "the simulator's true_driver: largest raw contribution (arbitrary zero points; for comparison only)",
    "spearman": "per snapshot, rank correlation over the model-visible drivers between grouped SHAP values and the true "
    "decomposition in the snapshot month",
}


# -- reading truth in several layouts (the simulator's, and plain frames for tests and other sources) -------------
def _frames(truth) -> list[pd.DataFrame]:
    if isinstance(truth, pd.DataFrame):
        return [truth]
    items = truth.values() if isinstance(truth, Mapping) else vars(truth).values()
    return [v for v in items if isinstance(v, pd.DataFrame)]


def _month_column(frame: pd.DataFrame) -> str | None:
    return next((c for c in MONTH_COLUMNS if c in frame.columns), None)


def decomposition_table(truth, codes: list[str] | None = None) -> pd.DataFrame:
    """A per-worker-month decomposition as ``worker_id, month, <driver codes...>`` (wide).

    Accepts a mapping or object of DataFrames, or one DataFrame, in wide form
    (one column per driver code, optionally with a common prefix such as
    ``contrib_``) or long form (``driver`` plus one numeric value column).
    Values are taken as given: pass the relative decomposition
    (``retention_ml.simulate.truth.relative_decomposition``) for the truth check.
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


def dominant_table(truth, column: str | None = None) -> pd.DataFrame | None:
    """``worker_id, dominant_driver`` per leaver, or None when the truth holds no such table.

    ``column`` names the column to use; by default ``dominant_driver``, else any
    column whose name contains "dominant", else ``true_driver`` (the raw one).
    """
    for frame in _frames(truth):
        if "worker_id" not in frame.columns:
            continue
        if column is not None:
            cols = [column] if column in frame.columns else []
        else:
            cols = [c for c in frame.columns if c == "dominant_driver"]
            cols = cols or [c for c in frame.columns if "dominant" in c.lower()]
            cols = cols or [c for c in frame.columns if c == "true_driver"]
        if cols:
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
    """Truth rows for each snapshot: the truth month equal to as_of, else the latest before it (NaN when none)."""
    left = pd.DataFrame(
        {"row": np.arange(len(keys)), "worker_id": keys["worker_id"].astype(str).to_numpy(),
         "month": pd.to_datetime(keys["as_of"]).astype("datetime64[ns]").to_numpy()}
    ).sort_values("month")
    right = decomposition.assign(
        worker_id=decomposition["worker_id"].astype(str), month=pd.to_datetime(decomposition["month"]).astype("datetime64[ns]")
    ).sort_values("month")
    merged = pd.merge_asof(left, right.loc[:, ["worker_id", "month", *codes]], on="month", by="worker_id", direction="backward")
    return merged.sort_values("row").loc[:, codes].to_numpy(dtype="float64")


def _last_month_keys(keys: pd.DataFrame) -> pd.DataFrame:
    """``keys`` with ``as_of`` moved to the first day of the last month features see (``last_known_month``)."""
    index = last_known_month(keys["as_of"]).astype("int64") - 1970 * 12
    return keys.assign(as_of=index.astype("datetime64[M]").astype("datetime64[ns]"))


def _ranked(matrix: np.ndarray, codes: list[str]) -> np.ndarray:
    """Driver codes per row ordered by ``matrix`` (largest first; NaN last), as an explanation's ranking."""
    order = np.argsort(-np.nan_to_num(matrix, nan=-np.inf), axis=1, kind="stable")
    return np.asarray(codes, dtype=object)[order]


def _dominant_of(matrix: np.ndarray, codes: list[str]) -> np.ndarray:
    """Largest column per row; ``personal`` when no column is positive (same rule as the simulator)."""
    if len(matrix) == 0:
        return np.array([], dtype=object)
    filled = np.nan_to_num(matrix, nan=-np.inf)
    best = np.asarray(codes, dtype=object)[filled.argmax(axis=1)]
    return np.where(filled.max(axis=1) > 0, best, PERSONAL)


def _spearman(shap_part: np.ndarray, truth: np.ndarray) -> dict:
    known = ~np.isnan(truth).any(axis=1)
    rho = row_spearman(shap_part[known], truth[known])
    valid = rho[~np.isnan(rho)]
    return {
        "mean": float(valid.mean()) if len(valid) else None,
        "median": float(np.median(valid)) if len(valid) else None,
        "n_known": int(known.sum()),
        "n_undefined": int(np.isnan(rho).sum()),
    }


def _rates(ranking: np.ndarray, true: np.ndarray, codes: list[str], mask: np.ndarray, boot: dict) -> dict:
    """top1/top3 over ``mask``, and over the part of it whose true driver is model-visible."""
    top1, top3 = top_hits(ranking[mask], true[mask])
    visible = np.isin(true[mask], codes)
    return {
        "n": int(mask.sum()),
        "top1": bootstrap_interval(top1, **boot),
        "top3": bootstrap_interval(top3, **boot),
        "share_visible": float(visible.mean()) if mask.any() else None,
        "visible": {"n": int(visible.sum()), "top1": bootstrap_interval(top1[visible], **boot),
                    "top3": bootstrap_interval(top3[visible], **boot)},
    }


def leaver_snapshots(keys: pd.DataFrame, y, risk=None) -> pd.DataFrame:
    """The snapshot each leaver is explained at: their last row with label 1 (``row``, ``worker_id``, ``as_of``).

    With ``risk``, ``decile_top`` says whether that row's risk is in the top 10% of its
    ``as_of`` date among all rows of ``keys`` (the issue's top risk decile).
    """
    labels = np.asarray(y, dtype="float64") == 1.0
    frame = pd.DataFrame({"row": np.arange(len(keys)), "worker_id": keys["worker_id"].astype(str).to_numpy(),
                          "as_of": pd.to_datetime(keys["as_of"]).to_numpy()})
    if risk is not None:
        frame["decile_top"] = top_share_mask(risk, TOP_SHARE, by=frame["as_of"])
    return frame.loc[labels].sort_values(["worker_id", "as_of"]).drop_duplicates("worker_id", keep="last")


def truth_agreement(
    profile: pd.DataFrame,
    keys: pd.DataFrame,
    y: pd.Series,
    decomposition: pd.DataFrame,
    *,
    dominant: pd.DataFrame | None = None,
    raw_dominant: pd.DataFrame | None = None,
    raw_decomposition: pd.DataFrame | None = None,
    risk: pd.Series | np.ndarray | None = None,
    n_boot: int = 1000,
    random_state: int = 0,
) -> dict:
    """The truth record (``explanations/truth.json``) from driver profiles and the true decomposition.

    Parameters
    ----------
    profile : DataFrame
        Driver profiles (``Explanation.by_driver()``), rows in the order of ``keys``.
    keys, y : DataFrame, Series
        ``worker_id``, ``as_of`` and the label of each explained row.
    decomposition : DataFrame
        ``worker_id, month, <driver>...``: the true (relative) decomposition; a
        ``personal`` column, when present, takes part in the at-snapshot dominant driver.
    dominant : DataFrame, optional
        ``worker_id, dominant_driver``: each leaver's true dominant driver (leaving
        month). When absent the at-snapshot dominant driver is the headline.
    raw_dominant, raw_decomposition : DataFrame, optional
        The simulator's raw ``true_driver`` and raw contributions, reported beside.
    risk : array, optional
        Risk per row; enables the top-decile figures.
    """
    codes = reason_drivers()
    boot = {"n_boot": n_boot, "random_state": random_state}
    with_personal = codes + ([PERSONAL] if PERSONAL in decomposition.columns else [])
    truth = _truth_at_snapshots(keys, decomposition, with_personal)
    shap_part = profile.loc[:, codes].to_numpy(dtype="float64")
    spearman = _spearman(shap_part, truth[:, : len(codes)])
    last = _explained_leavers(keys, y, risk, truth, with_personal, dominant, raw_dominant)
    ranking, oracle_ranking, last_month_ranking = _rankings(profile, truth, keys, decomposition, last["row"].to_numpy(), codes)
    true = last["dominant_driver"].astype(str).to_numpy(dtype=object)
    at_snap = last["at_snapshot"].astype(str).to_numpy(dtype=object)
    every = np.ones(len(last), dtype=bool)
    top1, top3 = top_hits(ranking, true)
    report = {
        "n_leavers": int(len(last)),
        "top1": bootstrap_interval(top1, **boot),
        "top3": bootstrap_interval(top3, **boot),
        "spearman_mean": spearman["mean"],
        "spearman_median": spearman["median"],
        # Additions to the contract.
        "definitions": DEFINITIONS,
        "headline": "leaving_month" if dominant is not None else "at_snapshot",
        "drivers": codes,
        "n_snapshots": int(len(keys)),
        "n_snapshots_with_truth": spearman["n_known"],
        "n_spearman_undefined": spearman["n_undefined"],
        "dominant_in_visible_drivers": float(np.isin(true, codes).mean()) if len(last) else None,
        "true_dominant_mix": pd.Series(true).value_counts(normalize=True).round(4).to_dict() if len(last) else {},
        "leaving_month": _rates(ranking, true, codes, every, boot),
        "at_snapshot": _rates(ranking, at_snap, codes, every, boot),
        "oracle": _rates(oracle_ranking, true, codes, every, boot),
        "oracle_last_month": _rates(last_month_ranking, true, codes, every, boot),
        "snapshot_still_dominant_at_leaving": float((at_snap == true).mean()) if len(last) else None,
    }
    if raw_decomposition is not None:
        raw = _spearman(shap_part, _truth_at_snapshots(keys, raw_decomposition, codes))
        report["spearman_raw_mean"], report["spearman_raw_median"] = raw["mean"], raw["median"]
    raw_true = last["raw_driver"].astype(str).to_numpy(dtype=object) if "raw_driver" in last.columns else None
    if raw_true is not None:
        report["raw"] = _rates(ranking, raw_true, codes, every, boot)
    if "decile_top" in last.columns:
        report["top_decile"] = _top_decile(last["decile_top"].to_numpy(dtype=bool), (ranking, oracle_ranking, last_month_ranking),
                                           true, at_snap, raw_true, codes, boot)
    return report


def _top_decile(mask, rankings, true, at_snap, raw_true, codes, boot) -> dict:
    """The agreement figures for the leavers in ``mask`` (those whose risk is in the top decile): the
    explanation's ``rankings[0]`` against the leaving-month truth ``true`` (headline), the snapshot's
    ``at_snap`` and the raw ``raw_true`` (when given), and the two oracles' rankings against ``true``."""
    ranking, oracle_ranking, last_month_ranking = rankings
    out = {
        **_rates(ranking, true, codes, mask, boot),
        "at_snapshot": _rates(ranking, at_snap, codes, mask, boot),
        "oracle": _rates(oracle_ranking, true, codes, mask, boot),
        "oracle_last_month": _rates(last_month_ranking, true, codes, mask, boot),
    }
    if raw_true is not None:
        out["raw"] = _rates(ranking, raw_true, codes, mask, boot)
    return out


def _explained_leavers(keys, y, risk, truth, with_personal, dominant, raw_dominant) -> pd.DataFrame:
    """Each leaver's explained snapshot (:func:`leaver_snapshots`) with the true dominant driver there
    (``at_snapshot``, from ``truth``: the decomposition at every row of ``keys``, columns ``with_personal``),
    the headline ``dominant_driver`` (the leaving month's from ``dominant`` when given, leavers without one
    dropped; else the snapshot's) and ``raw_driver`` from ``raw_dominant`` when given."""
    last = leaver_snapshots(keys, y, risk)
    last = last.assign(at_snapshot=_dominant_of(truth[last["row"].to_numpy()], with_personal))
    if dominant is not None:
        last = last.merge(dominant, on="worker_id", how="inner")
    else:
        last = last.assign(dominant_driver=last["at_snapshot"])
    if raw_dominant is not None:
        last = last.merge(raw_dominant.rename(columns={"dominant_driver": "raw_driver"}), on="worker_id", how="left")
    return last


def _rankings(profile, truth, keys, decomposition, rows, codes):
    """Driver rankings of the leavers' snapshot ``rows``: the explanation's (``profile``), the snapshot
    oracle's (the true decomposition at the snapshot, ``truth``) and the last-known-month oracle's (the
    true decomposition in the month before the snapshot); the explanation's stands in for both when no
    leaver was explained."""
    ranking = rank_drivers(profile.iloc[rows], codes)
    if not len(rows):
        return ranking, ranking, ranking
    known = _truth_at_snapshots(_last_month_keys(keys.iloc[rows]), decomposition, codes)
    return ranking, _ranked(truth[rows, : len(codes)], codes), _ranked(known, codes)


def oracle_auc(keys: pd.DataFrame, y: pd.Series, worker_months: pd.DataFrame, risk=None) -> dict:
    """ROC-AUC and average precision of the true monthly leaving probability at the snapshot month (and of ``risk``).

    Rows without a truth row (none should exist on simulated data) are left out and counted.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    left = pd.DataFrame({"worker_id": keys["worker_id"].astype(str).to_numpy(), "month": pd.to_datetime(keys["as_of"]).astype("datetime64[ns]").to_numpy()})
    right = worker_months.loc[:, ["worker_id", "month", "p_leave"]].assign(worker_id=lambda f: f["worker_id"].astype(str))
    p = left.merge(right, on=["worker_id", "month"], how="left")["p_leave"].to_numpy()
    labels = np.asarray(y, dtype="float64")
    ok = ~np.isnan(p) & ~np.isnan(labels)
    out = {"n": int(ok.sum()), "n_without_truth": int((~np.isnan(labels) & np.isnan(p)).sum()), "oracle_roc_auc": None,
           "oracle_average_precision": None, "model_roc_auc": None, "model_average_precision": None}
    if ok.any() and len(np.unique(labels[ok])) == 2:
        out["oracle_roc_auc"] = float(roc_auc_score(labels[ok], p[ok]))
        out["oracle_average_precision"] = float(average_precision_score(labels[ok], p[ok]))
        if risk is not None:
            r = np.asarray(risk, dtype="float64")
            out["model_roc_auc"] = float(roc_auc_score(labels[ok], r[ok]))
            out["model_average_precision"] = float(average_precision_score(labels[ok], r[ok]))
    return out


def truth_checker(data_dir: str | Path, *, n_boot: int = 1000, random_state: int = 0) -> Callable:
    """A callable ``(explanation, keys, y, risk=None) -> dict`` (the truth record, oracle ROC-AUC included) for simulated data.

    ``risk`` defaults to ``explanation.risk()``; pass the model's ``predict_proba`` to rank exactly as training did.
    """
    from retention_ml.simulate.hazard import HAZARD_DRIVERS
    from retention_ml.simulate.truth import read_truth, relative_decomposition

    truth = read_truth(data_dir)
    relative = relative_decomposition(truth)
    wm = truth["worker_months"]
    raw = wm.loc[:, ["worker_id", "month"]].assign(worker_id=lambda f: f["worker_id"].astype(str))
    for d in HAZARD_DRIVERS:
        raw[d] = wm[f"contrib_{d}"].to_numpy()
    leavers = truth["leavers"]
    voluntary = leavers.loc[leavers["voluntary"].astype(bool)]
    dominant = dominant_table(voluntary, "dominant_driver")
    if dominant is None:  # data simulated before dominant_driver existed: same definition, from the decomposition
        month = voluntary["end_date"].dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")
        at = voluntary.loc[:, ["worker_id"]].assign(worker_id=lambda f: f["worker_id"].astype(str), month=month.to_numpy())
        at = at.merge(relative, on=["worker_id", "month"], how="inner")
        dominant = pd.DataFrame({"worker_id": at["worker_id"], "dominant_driver": _dominant_of(at[list(HAZARD_DRIVERS)].to_numpy(), list(HAZARD_DRIVERS))})
    raw_dominant = dominant_table(voluntary, "true_driver")

    def check(explanation, keys: pd.DataFrame, y: pd.Series, risk=None) -> dict:
        # ``risk``: the model's own probabilities when the caller has them. The explanation's
        # sigmoid(base + sum of SHAP values) equals them only to ~1e-15, which turns exact ties
        # (common in small tree models) into arbitrary orderings: ROC-AUC and the top-decile
        # cut-off then drift from the training run's.
        risk = explanation.risk().to_numpy() if risk is None else np.asarray(risk, dtype="float64")
        report = truth_agreement(
            explanation.by_driver(), keys, y, relative, dominant=dominant, raw_dominant=raw_dominant,
            raw_decomposition=raw, risk=risk, n_boot=n_boot, random_state=random_state,
        )
        report["oracle_auc"] = oracle_auc(keys, y, wm, risk)
        return report

    return check


# -- a training run against the truth of its simulated data --------------------------------------------------------
class TruthCheckError(Exception):
    """The truth check could not run (wrong data for the run, real data, missing artifacts)."""


def bars_met(report: dict) -> dict:
    """The issue's top-decile bars: value, bar and whether it is met (None when too few leavers to say)."""
    decile = report.get("top_decile") or {}
    out = {}
    for name, bar in BARS.items():
        value = (decile.get(name.rsplit("_", 1)[1]) or {}).get("value")
        out[name] = {"value": value, "bar": bar, "met": None if value is None else bool(value >= bar)}
    return out


def run_label_config(metrics: dict):
    """The label definition a run was trained with, from its ``evaluation/metrics.json`` record."""
    from retention_ml.labels import LabelConfig

    label = dict(metrics.get("label") or {"horizon_months": metrics.get("horizon_months", 12)})
    kept = ("horizon_months", "positive_reasons", "agency")
    return LabelConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in label.items() if k in kept})


def _noop(*_args, **_kw):
    return None


def _load_run(run: str, data_dir: Path):
    """The run's model, id, test window (:func:`retention_ml.fairness.logged_test_window`: dates, rows, leaving
    rows), feature catalogue (None when not logged) and label settings; refuses a run on real data or on other data
    than ``data_dir``."""
    from retention_ml import tracking
    from retention_ml.fairness import logged_test_window
    from retention_ml.training import data_fingerprint

    try:
        model, run_id = tracking.load_turnover_model(run)
    except Exception as exc:  # MLflow raises many types; the user needs the message
        raise TruthCheckError(f"could not load model {run!r}: {exc}") from exc
    tags = tracking.run_tags(run_id)
    if tags.get(artifacts.SIMULATED_TAG) == "false":
        raise TruthCheckError(f"run {run_id} was trained on real data (tag {artifacts.SIMULATED_TAG}=false): there is no truth to check against")
    fingerprint = tags.get(artifacts.DATA_FINGERPRINT_TAG)
    if fingerprint and fingerprint != data_fingerprint(data_dir):
        raise TruthCheckError(f"{data_dir} is not the data run {run_id} was trained on (data fingerprint differs); "
                              "pass the simulated folder the run used")
    try:
        metrics = tracking.load_json_artifact(run_id, artifacts.METRICS_JSON)
        tested = logged_test_window(run_id)   # dates, rows and leaving rows: no row about a person
    except Exception as exc:
        raise TruthCheckError(f"run {run_id} has no test-window evaluation to check ({exc})") from exc
    try:
        catalogue = tracking.load_table_artifact(run_id, artifacts.FEATURE_CATALOGUE)
    except Exception:
        catalogue = None
    return model, run_id, tested, catalogue, run_label_config(metrics)


def _test_snapshots(tables: dict, tested: dict, label) -> tuple:
    """Features ``X``, ``keys`` and labels ``y`` rebuilt for the run's test snapshots, and the test dates.

    The run's test snapshots are those training kept at its test dates (``tested``, the run's logged test
    window: dates, rows and leaving rows): labelled and not censored. The run logs no row per person, so they
    cannot be matched by id; the counts of rows and leavers must agree instead.
    """
    from retention_ml.features import build_dataset

    dates = sorted(pd.Timestamp(d) for d in tested["dates"])
    ds = build_dataset(tables, [pd.Timestamp(d) for d in dates], label_config=label)
    keys = ds.keys.assign(worker_id=ds.keys["worker_id"].astype(str), as_of=pd.to_datetime(ds.keys["as_of"]).astype("datetime64[ns]"))
    wanted = ~ds.censored.to_numpy(dtype=bool) & ds.y.notna().to_numpy()
    X = ds.X.loc[wanted].reset_index(drop=True)
    keys = keys.loc[wanted].reset_index(drop=True)
    y = ds.y.loc[wanted].reset_index(drop=True).astype("float64")
    if len(X) != tested["rows"] or y.sum() != tested["leaving_rows"]:
        raise TruthCheckError(f"rebuilt {len(X)} test snapshots ({int(y.sum())} leaving) but the run evaluated {tested['rows']} "
                              f"({tested['leaving_rows']} leaving): features or labels changed since training?")
    return X, keys, y, dates


def check_run(run: str, data_dir: str | Path, *, n_boot: int = 1000, random_state: int = 0, log: bool = True,
              progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Recompute a run's test-window explanations on its simulated data and compare them with the truth.

    Loads the run's model, rebuilds features for exactly the test snapshots of the
    run (the dates of its logged test window, labelled and uncensored as in training; same data: the run's
    ``retention_ml.data_fingerprint`` tag must match ``data_dir``), explains them
    (exact TreeSHAP), and computes the truth record (:func:`truth_agreement`
    plus the oracle ROC-AUC of the true probabilities on the same snapshots and
    :func:`bars_met`). With ``log`` it is logged to the run as
    ``explanations/truth.json`` and the run gets tag ``retention_ml.truth_check``.

    Raises :class:`TruthCheckError` when the run cannot be checked against this data.
    """
    from retention_ml import tracking
    from retention_ml.explain import explain
    from retention_ml.io import read_tables

    step = progress or _noop
    data_dir = Path(data_dir)
    step("Loading the run", 0, 1)
    model, run_id, tested, catalogue, label = _load_run(run, data_dir)
    step("Building test-window features", 0, 1)
    try:
        tables = read_tables(data_dir)
        check = truth_checker(data_dir, n_boot=n_boot, random_state=random_state)
    except (FileNotFoundError, ValueError) as exc:
        raise TruthCheckError(str(exc)) from exc
    X, keys, y, dates = _test_snapshots(tables, tested, label)
    explanation = explain(model, X, catalogue=catalogue, chunk_rows=5000,
                          progress=lambda done, total: step("Explaining", done, total)).relative_to(keys["as_of"])
    step("Comparing with the truth", 0, 1)
    report = check(explanation, keys, y, risk=model.predict_proba(X)[:, 1])
    report["bars"] = bars_met(report)
    report["run_id"] = run_id
    report["test_window"] = [str(pd.Timestamp(dates[0]).date()), str(pd.Timestamp(dates[-1]).date())]
    report["explanation_method"] = explanation.method
    report["explanation_reference"] = explanation.reference
    if log:
        step(f"Logging {artifacts.TRUTH}", 0, 1)
        tracking.log_json(run_id, report, artifacts.TRUTH)
        tracking.set_run_tag(run_id, artifacts.TRUTH_CHECK_TAG, "logged")
    return report
