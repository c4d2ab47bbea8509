"""Group audit of a turnover model's test-window predictions (fairlearn ``MetricFrame``).

For every audit factor (sex, age band, ethnicity group, disability, employment
type, service type, area) and every group in it: people, rows, base rate
(observed share of leavers), ROC-AUC, calibration (observed against predicted
leavers, as a ratio and as a difference of rates) and the share of the group
flagged in the top 10% of risk across the whole window. Groups with fewer than
``min_group`` people (20 by default, the project's rule for fairness tables) are
reported as "too few to assess" and carry no number at all, not even their size.

Protected characteristics are used here and only here: they arrive as audit
columns of ``evaluation/test_predictions.parquet`` and are never model inputs.

Example
-------
>>> audit = audit_fairness(predictions)                       # doctest: +SKIP
>>> audit.table.query("factor == 'sex'")[["group", "roc_auc"]]  # doctest: +SKIP
>>> audit.gaps                                                  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from retention_ml.disclosure import MIN_FAIRNESS_GROUP, MIN_PEOPLE
from retention_ml.evaluate import TOP_SHARE, calibration_in_the_large, leavers_standard_error, top_share_mask

__all__ = [
    "AUDIT_FACTORS",
    "audit_factors",
    "not_audited",
    "protected_factors",
    "FACTOR_LABELS",
    "MIN_GROUP",
    "MIN_CLASS",
    "TOO_FEW",
    "FairnessAudit",
    "audit_fairness",
    "calibration_standard_error",
    "flag_top_share",
    "protected_columns",
    "audit_record",
    "audit_from_record",
    "logged_audit",
    "logged_test_window",
    "clustered_auc_standard_error",
    "model_based_concordance",
    "share_chance",
]

AUDIT_FACTORS = ("sex", "age_band", "ethnicity_group", "disability", "employment_type", "service", "area")
FACTOR_LABELS = {
    "sex": "Sex", "age_band": "Age band", "ethnicity_group": "Ethnicity group", "disability": "Disability",
    "employment_type": "Employment type", "service": "Service type", "area": "Area",
}
MIN_GROUP = MIN_FAIRNESS_GROUP
# ROC-AUC needs both classes; with fewer than this many leavers (or stayers) in a group it is noise.
MIN_CLASS = 5
TOO_FEW = "too few to assess"
TOO_FEW_LEAVERS = "too few leavers to assess ROC-AUC"
WITHHELD = "withheld to protect a small group"
NOT_RECORDED = "not_recorded"

MISSING_COLUMNS = "test predictions lack column(s) {columns}: the audit needs person (or worker_id), label and risk"
NUMBER_COLUMNS = ["rows", "people", "base_rate", "mean_risk", "observed", "expected", "calibration_ratio",
                  "calibration_difference", "calibration_gap", "roc_auc", "flagged_share"]
# Metrics whose largest between-group gap the card highlights.
GAP_METRICS = ("base_rate", "roc_auc", "calibration_ratio", "calibration_difference", "flagged_share")


# The logged rows' top-share flag (retention_ml.training.audit_rows): taken from the risks before they were rounded
# for the log, so rounding ties never decide who is in the top 10%.
FLAGGED = "top_share_flagged"
# "team" is the logged rows' team pseudonym (retention_ml.training.audit_rows): a key, never an audit factor.
PREDICTION_KEYS = ("person", "team", "worker_id", "as_of", "team_id", "council_id", "manager_id", "label", "risk", "risk_low",
                   "risk_high", FLAGGED)
MAX_LEVELS = 12


def audit_factors(predictions: pd.DataFrame) -> list[str]:
    """Factors to audit in ``predictions``: the standard ones present, then any other audit column
    (a flat extract's own protected columns, e.g. ``Gender``, or ``Age`` in bands) with at most 12 distinct values.

    A flat extract's numeric protected columns arrive already grouped in fixed bands (retention_ml.flat), so
    every one is audited; a column with more values (a run trained before that) is listed by
    :func:`not_audited` instead, never dropped silently.

    Example
    -------
    >>> audit_factors(pd.DataFrame({"worker_id": [1], "label": [0], "risk": [0.1], "Gender": ["F"], "sex": ["female"]}))
    ['sex', 'Gender']
    """
    extra = [c for c in _extra_columns(predictions) if predictions[c].nunique(dropna=False) <= MAX_LEVELS]
    return [f for f in AUDIT_FACTORS if f in predictions.columns] + extra


def not_audited(predictions: pd.DataFrame) -> dict[str, str]:
    """Audit columns of ``predictions`` that :func:`audit_factors` leaves out, each with the reason.

    Example
    -------
    >>> not_audited(pd.DataFrame({"worker_id": range(13), "label": 0, "risk": 0.1, "Age": range(20, 33)}))
    {'Age': '13 distinct values, more than the 12 groups the audit compares (not grouped into bands in this run)'}
    """
    counts = {c: predictions[c].nunique(dropna=False) for c in _extra_columns(predictions)}
    return {c: f"{n} distinct values, more than the {MAX_LEVELS} groups the audit compares (not grouped into bands "
               "in this run)" for c, n in counts.items() if n > MAX_LEVELS}


def protected_factors(factors) -> list[str]:
    """The factors that are protected characteristics: the schema's (sex, age band, ...) and a flat extract's own
    audit columns (training carries no other extra column into the test predictions)."""
    protected = set(protected_columns())
    return [f for f in factors if f in protected or f not in AUDIT_FACTORS]


def _extra_columns(predictions: pd.DataFrame) -> list[str]:
    return [c for c in predictions.columns if c not in AUDIT_FACTORS and c not in PREDICTION_KEYS]


def protected_columns() -> list[str]:
    """Protected characteristics declared in data_schema/ (``TableSchema.protected_columns``), all tables."""
    from retention_ml.schema import load_schemas

    return sorted({c for s in load_schemas().values() for c in s.protected_columns})


def flag_top_share(risk, share: float = TOP_SHARE) -> np.ndarray:
    """Boolean mask of the ``share`` highest risks: :func:`retention_ml.evaluate.top_share_mask`, the same top
    10% as the card's precision and recall (ties broken by position, so exactly ceil(share * n) rows).

    Example
    -------
    >>> flag_top_share([0.1, 0.9, 0.5, 0.2], share=0.25).tolist()
    [False, True, False, False]
    """
    return top_share_mask(risk, share)


def _roc_auc(y_true, y_pred) -> float:
    from sklearn.metrics import roc_auc_score

    y_true = np.asarray(y_true)
    positives = int(y_true.sum())
    if positives < MIN_CLASS or len(y_true) - positives < MIN_CLASS:
        return float("nan")
    return float(roc_auc_score(y_true, y_pred))


def _count(y_true, y_pred) -> float:
    return float(len(y_true))


def _base_rate(y_true, y_pred) -> float:
    return float(np.mean(y_true))


def _mean_risk(y_true, y_pred) -> float:
    return float(np.mean(y_pred))


def _observed(y_true, y_pred) -> float:
    return float(np.sum(y_true))


def _expected(y_true, y_pred) -> float:
    return float(np.sum(y_pred))


def _flagged_share(y_true, y_pred, flagged) -> float:
    return float(np.mean(flagged))


METRICS = {"rows": _count, "base_rate": _base_rate, "mean_risk": _mean_risk, "observed": _observed,
           "expected": _expected, "roc_auc": _roc_auc, "flagged_share": _flagged_share}
CI_METRICS = ("base_rate", "roc_auc", "flagged_share")


@dataclass
class FairnessAudit:
    """Result of :func:`audit_fairness`.

    Attributes
    ----------
    table : DataFrame
        One row per (factor, group): ``status`` ("ok" or "too few to assess"), ``withheld`` (shown groups
        hidden by complementary suppression so a small group cannot be derived by subtraction), ``rows``, ``people``,
        ``base_rate``, ``mean_risk``, ``observed`` and ``expected`` leavers, ``calibration_ratio``
        (observed / expected), ``calibration_difference`` (observed rate - mean predicted risk),
        ``calibration_gap`` (its absolute value), ``calibration_se`` (its standard error if the risks were right:
        binomial at the mean risk, widened where a person's rows move together, :func:`_person_effect`),
        ``leaving_people`` and ``staying_people``, ``roc_auc`` (NaN with ``roc_auc_note`` when a group has
        fewer than 5 people who left or who stayed) and ``roc_auc_se`` (:func:`_roc_auc_se`), ``flagged_share`` and, when bootstrapped, ``<metric>_low/_high``.
        Every number is NaN for a group that is too small.
    gaps : DataFrame
        Per factor and metric: the largest between-group gap among assessable groups, with the groups at
        either end.
    overall : dict
        Whole-window rows, people, base rate, mean risk, ROC-AUC, the top-share risk threshold, and the counts
        behind precision in the top share: ``positives`` (rows followed by leaving), ``flagged`` (rows in the top
        share) and ``flagged_positives``.
    not_audited : dict
        Audit columns left out of the audit (see :func:`not_audited`), each with the reason; the card names them.
    """

    table: pd.DataFrame
    gaps: pd.DataFrame
    overall: dict
    min_group: int
    top_share: float
    not_audited: dict = field(default_factory=dict)  # audit column -> why it could not be audited
    # per factor, the people and leavers of its groups under the floor: in memory only (audit_record logs bounds)
    under_floor: dict = field(default_factory=dict)
    # the floor the figures were logged at (audit_from_record); None for an audit of rows
    logged_floor: int | None = None

    def summary(self) -> pd.DataFrame:
        """The table as people read it: numbers, or "too few to assess" in place of every number."""
        # the ROC-AUC the group's own risks imply beside its ROC-AUC; absent from runs logged before it
        numbers = [*NUMBER_COLUMNS, *(["roc_auc_reference"] if "roc_auc_reference" in self.table.columns else [])]
        out = self.table[["factor", "group", "status", *numbers]].copy()
        ok = np.repeat(out["status"].eq("ok").to_numpy()[:, None], len(numbers), axis=1)
        out[numbers] = out[numbers].astype(object).where(ok, TOO_FEW)
        withheld = self.table["withheld"].to_numpy(dtype=bool)
        out.loc[withheld, numbers] = WITHHELD
        out.loc[withheld, "status"] = WITHHELD
        return out

    @property
    def shown(self) -> pd.DataFrame:
        """Rows whose numbers may be shown: assessable and not withheld."""
        return self.table[self.table["status"].eq("ok") & ~self.table["withheld"].astype(bool)]

    def shown_gaps(self) -> pd.DataFrame:
        """Largest gaps among the groups that may be shown (what the card prints)."""
        return _gaps(self.shown)

    def worst(self, metric: str, *, shown_only: bool = False) -> pd.Series | None:
        """The gap row with the largest ``metric`` gap over all factors, or None when none is assessable."""
        gaps = self.shown_gaps() if shown_only else self.gaps
        rows = gaps[gaps["metric"].eq(metric) & gaps["gap"].notna()]
        return None if rows.empty else rows.loc[rows["gap"].idxmax()]

    def group_shortfalls(self) -> pd.DataFrame:
        """Assessable groups with their ROC-AUC shortfall against the whole window (``roc_auc_shortfall``) and
        against the ROC-AUC expected of them (``roc_auc_expected``; ``reference_shortfall``, what the gate judges),
        and their calibration gap,
        each with its standard error (``roc_auc_se``, ``calibration_se``): how far either moves by chance alone
        in a group of that size, so that hundreds of small groups are not judged on their noise. The calibration
        one counts a person's rows at several test dates together (:func:`_person_effect`), not as people.

        Expected: the ROC-AUC the group's own risks imply (``roc_auc_reference``, :func:`model_based_concordance`)
        less what the whole window falls short of everyone's (``overall["roc_auc_reference"]``). The shortfall is
        then the whole-window one less what the group's risks being more alike than everyone's explains: a model
        exactly right in every group leaves each with about none, however alike its risks, and a model whose risks
        misrank one area leaves that area with the shortfall, not every age band or ethnicity whose people live in
        it too. A run logged before the reference has these NaN throughout (:meth:`has_auc_reference`)."""
        ok = self.table[self.table["status"].eq("ok")].copy()
        ok["roc_auc_shortfall"] = self.overall["roc_auc"] - ok["roc_auc"]
        if "roc_auc_reference" not in ok.columns:
            ok["roc_auc_reference"] = np.nan
        window_gap = self.overall.get("roc_auc_reference", np.nan) - self.overall["roc_auc"]
        ok["roc_auc_expected"] = ok["roc_auc_reference"] - window_gap
        ok["reference_shortfall"] = ok["roc_auc_expected"] - ok["roc_auc"]
        # people who left and who stayed (rows for an audit table built by other code)
        pos, neg = ((ok["leaving_people"], ok["staying_people"]) if "leaving_people" in ok.columns
                    else (ok["observed"], ok["rows"] - ok["observed"]))
        if "roc_auc_se" not in ok.columns:   # a logged audit carries it (withheld groups keep no counts)
            ok["roc_auc_se"] = auc_standard_error(ok["roc_auc"], pos, neg)
        if "calibration_se" not in ok.columns:   # an audit table built by other code: rows as if independent
            ok["calibration_se"] = calibration_standard_error(ok["mean_risk"], ok["rows"])
        return ok[["factor", "group", "people", "roc_auc", "roc_auc_shortfall", "roc_auc_se", "roc_auc_reference",
                   "roc_auc_expected", "reference_shortfall", "calibration_gap", "calibration_se", "withheld"]]

    def has_auc_reference(self) -> bool:
        """Whether every group with a ROC-AUC has the ROC-AUC its own risks imply: False for an audit record
        logged by an earlier version of retention-ml, which lacks the figure and cannot recompute it."""
        table = self.table
        if "roc_auc_reference" not in table.columns or np.isnan(self.overall.get("roc_auc_reference", np.nan)):
            return False
        with_auc = table["status"].eq("ok") & table["roc_auc"].notna()
        return bool(table.loc[with_auc, "roc_auc_reference"].notna().all())


def calibration_standard_error(mean_risk, rows):
    """Standard error of a group's observed leaver rate if its predicted risks were right: binomial at the
    group's mean predicted risk over its ``rows`` (snapshots), so a gap can be read against its size.

    >>> round(float(calibration_standard_error(0.1, 100)), 3)
    0.03
    """
    mean_risk = np.asarray(mean_risk, dtype="float64")
    return np.sqrt(mean_risk * (1 - mean_risk) / np.asarray(rows, dtype="float64"))


def auc_standard_error(auc, n_pos, n_neg):
    """Standard error of a ROC-AUC from ``n_pos`` leavers and ``n_neg`` stayers (Hanley and McNeil, 1982).

    Example
    -------
    >>> round(float(auc_standard_error(0.7, 5, 45)), 3)
    0.137
    """
    auc, n_pos, n_neg = (np.asarray(v, dtype="float64") for v in (auc, n_pos, n_neg))
    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc ** 2) + (n_neg - 1) * (q2 - auc ** 2)) / (n_pos * n_neg)
    return np.sqrt(np.maximum(var, 0.0))


def model_based_concordance(risk, *, by=None):
    """The ROC-AUC a group's own risks imply if they were exactly right: van Klaveren et al.'s model-based
    concordance (2016, Statistics in Medicine 35:4136), the c-statistic expected over all pairs of rows when each
    row leaves with its predicted risk.

    Of every ordered pair of rows (i, j), i leaves and j stays with chance p_i (1 - p_j); the pair is ranked right
    when p_i > p_j, and counts one half when p_i = p_j (as ROC-AUC counts ties):

        sum_{i != j} p_i (1 - p_j) [1(p_i > p_j) + 1/2 1(p_i = p_j)]  /  sum_{i != j} p_i (1 - p_j)

    It depends on the risks alone: a group whose risks are alike (one age band, a small area sharing a caseload
    cap and rent) has one near 0.5 however good the model, so a low observed ROC-AUC there is no sign of a model
    ranking the group badly; an observed ROC-AUC well below it is. Computed in O(n log n) from the rows sorted by
    risk (each risk level's stayers-to-be below it, summed), never pair by pair. Rows are taken as independent, as
    the observed ROC-AUC over rows takes them: a person seen at several test dates adds pairs with themself, a
    share of the pairs of about 1 in the group's people.

    ``by``: group labels, one per row; returns a Series per group (``by``'s values as strings), else a float.
    NaN for a group of fewer than 2 rows or whose risks are all 0 or all 1.

    Example
    -------
    >>> round(model_based_concordance([0.1, 0.2, 0.3, 0.4]), 4)
    0.7174
    >>> model_based_concordance([0.2, 0.2, 0.2])   # alike risks: a coin toss whatever happens
    0.5
    """
    p = np.asarray(risk, dtype="float64")
    groups = np.zeros(len(p), dtype=int) if by is None else pd.Series(by).astype(str).to_numpy()
    # one row per group and risk level: the chance-weighted leavers (v) and stayers (w) at it, and each row's
    # pairing with itself (p (1 - p)), which is no pair
    level = (pd.DataFrame({"group": groups, "risk": p, "v": p, "w": 1 - p, "self": p * (1 - p)})
             .groupby(["group", "risk"], sort=True)[["v", "w", "self"]].sum())
    below = level.groupby(level="group")["w"].cumsum() - level["w"]    # stayers-to-be at lower risk levels
    right = level["v"] * below + 0.5 * (level["v"] * level["w"] - level["self"])
    total = level.groupby(level="group").sum()
    pairs = total["v"] * total["w"] - total["self"]
    mbc = right.groupby(level="group").sum() / pairs.where(pairs > 0)
    return float(mbc.iloc[0]) if by is None else mbc.rename(None).rename_axis(None)


def clustered_auc_standard_error(risk, label, *, workers, by) -> pd.Series:
    """Per group of ``by``, the standard error of the rows' ROC-AUC with a person's rows counted together:
    Obuchowski's (1997, Biometrics 53:567) clustered form of DeLong's estimator, a person being the cluster.

    A test window of several dates holds each person up to once per date, with one outcome behind their leaving
    rows and risks that move together; Hanley and McNeil's formula (:func:`auc_standard_error`) assumes
    independent leavers and stayers, on rows (too narrow) or on people (the rows' ranking is not the people's).
    This one resamples nothing: each person's rows add their placements (the share of the other class's rows each
    row outranks), and the spread of those sums over people is the variance. On run 17fff117's 4-date national
    window, for 30 areas drawn at random, it came to 0.68-1.06 times (mean 0.95) the spread of a bootstrap over
    people, Hanley and McNeil on people to 0.76-1.46 times (mean 1.06; ``benchmarks/bench_group_auc_se.py``).

    Example
    -------
    >>> se = clustered_auc_standard_error([0.1, 0.2, 0.3, 0.4, 0.35, 0.5], [0, 0, 1, 0, 1, 1],
    ...                                   workers=[1, 2, 3, 4, 5, 6], by=["a"] * 6)
    >>> round(float(se["a"]), 3)
    0.222
    """
    f = pd.DataFrame({"group": pd.Series(by).astype(str).to_numpy(), "worker": pd.Series(workers).astype(str).to_numpy(),
                      "risk": np.asarray(risk, dtype="float64"), "label": np.asarray(label, dtype="float64")})
    leaving = f["label"].to_numpy() == 1
    # rows of the other class below each row (ties count half): its rank among all the group's rows less its rank
    # within its own class
    below = (f.groupby("group")["risk"].rank(method="average") - f.groupby(["group", "label"])["risk"].rank(method="average"))
    positives = f.groupby("group")["label"].transform("sum")
    negatives = f.groupby("group")["label"].transform("size") - positives
    f["v10"] = np.where(leaving, below / negatives, 0.0)
    f["v01"] = np.where(leaving, 0.0, (positives - below) / positives)
    f["m"], f["n"] = leaving.astype(float), (~leaving).astype(float)
    person = f.groupby(["group", "worker"], sort=False)[["v10", "v01", "m", "n"]].sum()
    group = person.index.get_level_values("group")
    totals = person.groupby(level="group", sort=False).agg(v10=("v10", "sum"), m=("m", "sum"), n=("n", "sum"),
                                                           people=("m", "size"))
    auc = (totals["v10"] / totals["m"]).reindex(group).to_numpy()
    d10 = person["v10"].to_numpy() - person["m"].to_numpy() * auc
    d01 = person["v01"].to_numpy() - person["n"].to_numpy() * auc
    sums = pd.DataFrame({"s10": d10 ** 2, "s01": d01 ** 2, "s11": d10 * d01}, index=group).groupby(level=0, sort=False).sum()
    scale = totals["people"] / (totals["people"] - 1)
    variance = scale * (sums["s10"] / totals["m"] ** 2 + sums["s01"] / totals["n"] ** 2
                        + 2 * sums["s11"] / (totals["m"] * totals["n"]))
    return np.sqrt(variance.clip(lower=0.0))


def _prepare(predictions: pd.DataFrame, factors) -> pd.DataFrame:
    # A run's logged rows key a person by a run-local pseudonym, "person" (retention_ml.training.audit_rows);
    # runs logged before it, and callers' own frames, by worker_id. Either only counts people here.
    predictions = predictions.rename(columns={"person": "worker_id"}) if "person" in predictions.columns else predictions
    missing = [c for c in ("worker_id", "label", "risk") if c not in predictions.columns]
    if missing:
        raise ValueError(MISSING_COLUMNS.format(columns=", ".join(missing)))
    data = predictions[predictions["label"].notna()].reset_index(drop=True)
    # Factor values as plain strings; a missing value is its own visible group, never dropped silently.
    for f in factors:
        data[f] = data[f].astype("string").fillna(NOT_RECORDED).astype(str)
    return data


def _factor_table(data: pd.DataFrame, factor: str, flagged: np.ndarray, *, n_boot: int,
                  random_state: int) -> pd.DataFrame:
    """Every group's figures for ``factor``, before the floor (:func:`_apply_floor`)."""
    from fairlearn.metrics import MetricFrame

    y = data["label"].to_numpy(dtype=float)
    risk = data["risk"].to_numpy(dtype=float)
    boot = {"n_boot": n_boot, "ci_quantiles": [0.025, 0.975], "random_state": random_state} if n_boot else {}
    frame = MetricFrame(metrics=METRICS, y_true=y, y_pred=risk, sensitive_features=data[factor].rename(factor),
                        sample_params={"flagged_share": {"flagged": flagged}}, **boot)
    table = frame.by_group.astype(float)
    table.index = table.index.astype(str)
    table["people"] = data.groupby(factor)["worker_id"].nunique().reindex(table.index).astype(float)
    if n_boot:
        low, high = frame.by_group_ci
        for m in CI_METRICS:
            table[f"{m}_low"] = low[m].astype(float).to_numpy()
            table[f"{m}_high"] = high[m].astype(float).to_numpy()
    table["calibration_ratio"] = table["observed"] / table["expected"]
    table["calibration_difference"] = table["base_rate"] - table["mean_risk"]
    table["calibration_gap"] = table["calibration_difference"].abs()
    table["calibration_se"] = calibration_standard_error(table["mean_risk"], table["rows"]) * _person_effect(
        risk, data["worker_id"], data[factor]).reindex(table.index).to_numpy()
    # ROC-AUC's standard error from people, not rows: a person's snapshots at several test dates carry one outcome
    by_label = data.groupby([factor, "label"])["worker_id"].nunique().unstack(fill_value=0).reindex(table.index)
    table["leaving_people"] = by_label.get(1.0, pd.Series(0, index=table.index)).fillna(0).astype(float)
    table["staying_people"] = by_label.get(0.0, pd.Series(0, index=table.index)).fillna(0).astype(float)
    # MIN_CLASS is about people: 3 leavers seen at 4 test dates are 12 leaving rows but still 3 outcomes
    # rows^2 / sum over people of their rows^2: how many independent people a share over the group's rows is worth
    # when a person's rows move as one (= rows with one row each); a share's chance reading needs it (share_chance)
    per_person = data.groupby([factor, "worker_id"]).size().astype(float)
    table["effective_people"] = table["rows"] ** 2 / (per_person ** 2).groupby(level=0).sum().reindex(table.index)
    few = (table["leaving_people"] < MIN_CLASS) | (table["staying_people"] < MIN_CLASS)
    table["roc_auc_se"] = _roc_auc_se(table, data, factor)
    # what the group's own risks imply its ROC-AUC should be: the gate's reference for its ranking
    table["roc_auc_reference"] = model_based_concordance(risk, by=data[factor]).reindex(table.index).to_numpy()
    table.loc[few, [c for c in table.columns if c.startswith("roc_auc")]] = np.nan
    table = table.reset_index(names="group")
    table.insert(0, "factor", factor)
    return table


def _roc_auc_se(table: pd.DataFrame, data: pd.DataFrame, factor: str) -> np.ndarray:
    """Per group of ``table``: Hanley and McNeil on its leavers and stayers where each person has one row (a single
    test date: as every run before), Obuchowski's clustered estimator where a person has several
    (:func:`clustered_auc_standard_error`): on people the former came to 0.76-1.46 times the spread over people on
    run 17fff117's areas, and gave 0.080 for the one the gate failed (0.087 from a bootstrap over
    people, 0.086 clustered: still failed, 4.2 standard errors against 3.68)."""
    one_row_each = (table["rows"] == table["people"]).to_numpy()
    hanley = auc_standard_error(table["roc_auc"], table["leaving_people"], table["staying_people"])
    if one_row_each.all():
        return np.asarray(hanley, dtype="float64")
    clustered = clustered_auc_standard_error(data["risk"], data["label"], workers=data["worker_id"], by=data[factor])
    return np.where(one_row_each, hanley, clustered.reindex(table.index).to_numpy())


def _apply_floor(table: pd.DataFrame, min_group: int, unseen: dict | None = None) -> pd.DataFrame:
    """One factor's groups with the fairness floor applied: ``status``, ``withheld``, ``roc_auc_note``, and no number
    at all for a group under ``min_group`` people.

    ``unseen``: ``{"people": (low, high), "leavers": (low, high)}``, the groups whose figures are not in ``table``
    (a logged audit keeps none for groups under its floor: :func:`audit_record`), as the bounds the record gives.
    Complementary suppression then withholds whenever the hidden total could fall in the range it guards, so a
    floor raised after training never shows less than the rows would; with every group's figures (the rows), it
    is exact.
    """
    table = table.copy()
    unseen = unseen or {"people": (0, 0), "leavers": (0, 0)}
    people = table["people"]
    withheld = table["withheld"].astype(bool) if "withheld" in table.columns else pd.Series(False, index=table.index)
    # a logged withheld group whose size the record hides (audit_record) has at least the logged floor: the gate
    # still checks it under a raised floor, and it stays withheld, so nothing of it is shown either way
    ok = ((people >= min_group) | (people.isna() & withheld)).fillna(False).astype(bool)
    # Complementary suppression: when the small groups of a factor add up to fewer than min_group people,
    # the whole window minus the shown groups would reveal them, so the smallest shown group is withheld
    # from display too (it still counts in the promotion gate's checks).
    known = people[~ok].sum()
    low, high = known + unseen["people"][0], known + unseen["people"][1]
    table["withheld"] = withheld & ok
    shown = people[ok & ~table["withheld"]]
    if len(shown) and high > 0 and low < min_group:
        table.loc[shown.idxmin(), "withheld"] = True
    _withhold_few_leavers(table, ok, unseen["leavers"])
    table["roc_auc_note"] = np.where(ok & table["roc_auc"].isna(), TOO_FEW_LEAVERS, "")
    table["status"] = np.where(ok, "ok", TOO_FEW)
    numbers = [c for c in table.columns if c not in ("factor", "group", "status", "roc_auc_note", "withheld")]
    table.loc[~ok, numbers] = np.nan  # a small group keeps no number at all, not even its size
    return table


def _person_effect(risk: np.ndarray, workers: pd.Series, groups: pd.Series) -> pd.Series:
    """Per group, how much wider its leavers' standard error is with a person's rows counted together than with
    every row its own person (:func:`retention_ml.evaluate.leavers_standard_error` both ways): 1 with one row per
    person, about the square root of the rows per person when they move as one (several test dates).

    A factor, not the per-person standard error itself, so the binomial at the group's mean risk stays the base
    and a single-date window (the default, the national run) is judged exactly as before; only the rows counted
    as people are corrected.
    """
    person = leavers_standard_error(risk, workers=workers, by=groups)
    row = leavers_standard_error(risk, workers=np.arange(len(risk)), by=groups)
    return (person / row.where(row > 0)).fillna(1.0)


def _withhold_few_leavers(table: pd.DataFrame, ok: pd.Series, unseen=(0, 0)) -> None:
    """Withhold (in place) the shown groups in which 1 to 4 people left, or 1 to 4 stayed (MIN_PEOPLE).

    "1 of the 25 disabled workers left" is a figure about one person: whoever knows who left learns that
    person's disability. So a group whose leavers or stayers number fewer than MIN_PEOPLE is withheld like a
    small group, and, because the window's leavers are published, so is the shown group with the fewest
    leavers while the hidden groups' leavers could add up to 1-4 (the total minus the shown groups would give
    it). ``unseen``: bounds on the leavers of groups whose figures ``table`` does not hold (see :func:`_apply_floor`).
    """
    leavers = table["leaving_people"].fillna(0)
    stayers = table["people"] - leavers
    few = ok & (leavers.between(1, MIN_PEOPLE - 1) | stayers.between(1, MIN_PEOPLE - 1))
    table.loc[few, "withheld"] = True
    hidden = ~ok | table["withheld"]

    def could_be_few() -> bool:
        # a hidden group whose leavers a logged audit does not hold (withheld at training) could hold any number
        unknown = (hidden & ok & table["leaving_people"].isna()).any()
        low, high = leavers[hidden].sum() + unseen[0], leavers[hidden].sum() + (np.inf if unknown else unseen[1])
        return high >= 1 and low <= MIN_PEOPLE - 1

    # withholding a group nobody left adds no leaver to the hidden total, so the next one must have some
    while could_be_few() and (candidates := ok & ~hidden & (leavers > 0)).any():
        table.loc[leavers[candidates].idxmin(), "withheld"] = True
        hidden = ~ok | table["withheld"]


# The whole window's share each group's is read against (share_chance)
SHARE_METRICS = {"base_rate": "left", "flagged_share": "flagged"}
NO_SHARE_CHANCE = ("whether the groups' {what} differ by more than chance is not said: this run's audit record (logged "
                   "by an earlier version of retention-ml) lacks the figure it needs for a window of several test dates (each group's "
                   "people counted with their rows together); re-train to get it")


def share_chance(audit: FairnessAudit, metric: str, alpha: float) -> pd.DataFrame | None:
    """Each shown group's ``metric`` (``base_rate`` or ``flagged_share``) against the whole window's: how far it sits
    from the share every group would show if who left (or who was flagged) did not depend on the group, in standard
    errors for its size, a person's rows counted together. A funnel reading: among hundreds of small areas the
    extremes (0% and 60% flagged) are where chance puts some groups, and only a group outside its funnel says the
    groups differ.

    ``beyond``: further out than ``z`` standard errors, z the gate's rule for the groups compared
    (:func:`retention_ml.promotion.chance_z`, Bonferroni at ``alpha`` over every group shown with the metric);
    ``low``/``high``: the share range inside chance at the group's size. None when the record cannot give it
    (:data:`NO_SHARE_CHANCE`: a run logged before ``effective_people``, with several rows per person).

    Example
    -------
    >>> rows = pd.DataFrame({"worker_id": range(400), "area": ["N"] * 200 + ["S"] * 200,
    ...                      "label": [1] * 10 + [0] * 190 + [1] * 60 + [0] * 140, "risk": 0.1})
    >>> share_chance(audit_fairness(rows, factors=["area"]), "base_rate", 0.05)[["group", "value", "beyond"]]
      group  value  beyond
    0     N   0.05    True
    1     S   0.30    True
    """
    from retention_ml.promotion import chance_z

    shown = audit.shown.dropna(subset=[metric])
    if shown.empty:
        return shown.assign(whole=[], se=[], z=[], beyond=[], low=[], high=[], value=[])
    ov = audit.overall
    whole = ov["base_rate"] if metric == "base_rate" else ov["flagged"] / ov["rows"]
    if "effective_people" in shown.columns and shown["effective_people"].notna().all():
        effective = shown["effective_people"]
    elif (shown["rows"] == shown["people"]).all():   # one row per person: the people are independent
        effective = shown["people"]
    else:
        return None
    se = np.sqrt(whole * (1 - whole) / effective.astype(float))
    z = chance_z(alpha, len(shown))
    out = shown[["factor", "group", "people", "rows"]].assign(value=shown[metric].astype(float), whole=whole, se=se)
    out["z"] = (out["value"] - whole) / se.where(se > 0)
    out["beyond"] = np.where(se > 0, out["z"].abs() > z, out["value"] != whole)
    out["low"], out["high"] = np.clip(whole - z * se, 0, 1), np.clip(whole + z * se, 0, 1)
    out["threshold"] = z
    return out.reset_index(drop=True)


def _gaps(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (factor, metric), values in (
        table[table["status"].eq("ok")].melt(id_vars=["factor", "group"], value_vars=list(GAP_METRICS),
                                             var_name="metric").dropna(subset=["value"])
        .groupby(["factor", "metric"], sort=False)
    ):
        hi, lo = values.loc[values["value"].idxmax()], values.loc[values["value"].idxmin()]
        rows.append({"factor": factor, "metric": metric, "gap": float(hi["value"] - lo["value"]),
                     "max_group": hi["group"], "max_value": float(hi["value"]),
                     "min_group": lo["group"], "min_value": float(lo["value"]), "groups": len(values)})
    return pd.DataFrame(rows, columns=["factor", "metric", "gap", "max_group", "max_value", "min_group",
                                       "min_value", "groups"])


def audit_fairness(predictions: pd.DataFrame, *, factors=None, min_group: int = MIN_GROUP,
                   top_share: float = TOP_SHARE, n_boot: int = 0, random_state: int = 0,
                   progress=None) -> FairnessAudit:
    """Audit test-window predictions by group.

    Parameters
    ----------
    predictions : DataFrame
        ``evaluation/test_predictions.parquet``: ``person`` (or ``worker_id``), ``label`` (0/1; NaN rows are ignored),
        ``risk`` (calibrated probability) and the factor columns. Absent factors are skipped.
    factors : sequence of str or None
        Columns to audit by; None = :func:`audit_factors` (standard factors present plus a flat
        extract's own low-cardinality audit columns).
    min_group : int
        Groups with fewer distinct people than this are "too few to assess" (default 20).
    top_share : float
        Share of the whole window flagged as highest risk (default 0.10, the top 10%).
    n_boot : int
        Bootstrap resamples (rows) for 95% intervals on base rate, ROC-AUC and flagged share; 0 = none.
        fairlearn refits the whole frame per resample: 50 resamples of 3,000 rows over 3 factors took
        about 20 s on a shared 2-core machine, so the card leaves it off unless asked.
    random_state : int
        Seed for the bootstrap.
    progress : callable or None
        ``progress(done, total)`` in bootstrap resamples (``n_boot`` per factor), called as each factor is
        done (never when ``n_boot`` is 0): fairlearn resamples inside one MetricFrame per factor and reports
        nothing in between.

    Returns
    -------
    FairnessAudit
    """
    explicit = factors
    factors = audit_factors(predictions) if factors is None else [f for f in factors if f in predictions.columns]
    data = _prepare(predictions, factors)
    # the logged flag holds the default share, from the risks before rounding; any other share is worked out here
    logged = FLAGGED in data.columns and top_share == TOP_SHARE
    flagged = data[FLAGGED].to_numpy(dtype=bool) if logged else flag_top_share(data["risk"], top_share)
    tables, under_floor = [], {}
    for i, f in enumerate(factors):
        groups = _factor_table(data, f, flagged, n_boot=n_boot, random_state=random_state)
        small = groups[groups["people"] < min_group]
        under_floor[f] = {"people": int(small["people"].sum()), "leavers": int(small["leaving_people"].sum())}
        tables.append(_apply_floor(groups, min_group))
        if progress is not None and n_boot:
            progress((i + 1) * n_boot, len(factors) * n_boot)
    empty = pd.DataFrame(columns=["factor", "group", *NUMBER_COLUMNS, "roc_auc_note", "status", "withheld"])
    table = pd.concat(tables, ignore_index=True) if tables else empty.astype({c: float for c in NUMBER_COLUMNS})
    overall = {
        "rows": int(len(data)), "people": int(data["worker_id"].nunique()),
        "base_rate": float(data["label"].mean()), "mean_risk": float(data["risk"].mean()),
        "roc_auc": _roc_auc(data["label"].to_numpy(float), data["risk"].to_numpy(float)),
        # the ROC-AUC everyone's risks imply: how far the whole window falls short of it is the part of every group's
        # shortfall against its own risks that is no group's (group_shortfalls)
        "roc_auc_reference": model_based_concordance(data["risk"]) if len(data) else float("nan"),
        "top_threshold": float(data["risk"][flagged].min()) if flagged.any() else float("nan"),
        # whole-window counts behind precision and recall in the top share, for the card's "of 100 flagged" words
        "positives": int(data["label"].sum()), "flagged": int(flagged.sum()),
        "flagged_positives": int(data["label"][flagged].sum()),
    }
    # the whole window's leavers, a person's rows counted together: the standard error of the gate's calibration-in-
    # the-large check and the card's "risks too high on average", logged so either can judge it at its own alpha
    overall["leavers_se"] = (calibration_in_the_large(data["risk"], data["label"], workers=data["worker_id"])["se"]
                             if len(data) else float("nan"))
    return FairnessAudit(table=table, gaps=_gaps(table), overall=overall, min_group=min_group, top_share=top_share,
                         not_audited=not_audited(predictions) if explicit is None else {}, under_floor=under_floor)


# -- the audit as a run logs it: aggregates only ----------------------------------------------------------------
# Version of the logged record's layout (evaluation/fairness_audit.json); a reader refuses one it does not know.
RECORD_VERSION = 1
NO_INTERVALS = ("per-group bootstrap intervals (--n-boot) need the test rows, and run {run_id} logged the audit's "
                "aggregates only ({artifact}): its standard errors are in the card's tables and the gate's checks")
# What a withheld group keeps in the logged audit: the promotion gate's figures (retention_ml.promotion) and its
# size, which decides whether a floor raised at promote time still assesses it; not its rows, leavers ("1 of the 25
# disabled workers left" is why a group is withheld), rates or expected leavers.
WITHHELD_KEEPS = ("people", "roc_auc", "roc_auc_se", "roc_auc_reference", "calibration_gap", "calibration_se")
UNKNOWN_RECORD = "{source} has layout version {version!r}; this retention-ml reads version {known}"


def _bounds(value: int, floor: int) -> list:
    """A total of an audit's groups under the floor, as logged: 0 exactly (the card's "too few" rows already say
    whether there are any), else only whether it is under ``floor`` ([1, floor - 1]) or not ([floor, null]); never
    the figure, a total of groups each under the floor. (Nor by subtraction: while it is 1 to floor - 1, the
    factor's withheld groups are logged without their size, :func:`audit_record`.)"""
    return [0, 0] if value == 0 else [1, floor - 1] if value < floor else [floor, None]


def _plain(value):
    """A JSON value: numpy scalars as Python ones (floats keep every digit), NaN as null."""
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    return value


def audit_record(audit: FairnessAudit, predictions: pd.DataFrame) -> dict:
    """The audit as training logs it (``evaluation/fairness_audit.json``): what the card and the gate read, and no
    row about a person.

    Per factor and group: the group's name and, for a group of at least ``audit.min_group`` people, its people,
    rows, leavers, the group metrics with their standard errors and the flagged share, or, for a group the card
    withholds, only :data:`WITHHELD_KEEPS` (without its size while the factor's groups under the floor hold 1 to
    floor - 1 people, which the window's total less the logged sizes would give); a group under the floor keeps its
    name only (the card lists it as "too
    few to assess"). Per factor, the
    people and leavers of its groups under the floor, only as bounds (:func:`_bounds`), so a floor raised at
    promote time can still withhold what the rows would. The whole window's figures, the audit columns left out,
    and the test dates with their rows and leaving rows (``truth-check`` rebuilds those snapshots). The gate
    applies its own ``group_family_alpha`` to the logged values and standard errors (:func:`audit_from_record`).
    """
    dates = (sorted(str(pd.Timestamp(d).date()) for d in pd.to_datetime(predictions["as_of"]).unique())
             if "as_of" in predictions.columns else [])
    under = {f: {"people": _bounds(v["people"], audit.min_group), "leavers": [0, 0] if v["people"] == 0 else [0, None]}
             for f, v in audit.under_floor.items()}
    table = audit.table.assign(roc_auc_se=audit.group_shortfalls()["roc_auc_se"])
    # a withheld group keeps only what the gate reads (WITHHELD_KEEPS), not the rates the card withholds
    withheld = table["withheld"].astype(bool)
    table.loc[withheld, [c for c in table.columns if c not in (*WITHHELD_KEEPS, "factor", "group", "status",
                                                               "roc_auc_note", "withheld")]] = np.nan
    # Its size too, where the factor's groups under the floor hold 1 to floor - 1 people: the window's people less
    # every logged size would give their number (the demo: 326 - 274 - 47 = 5 with sex not known). Withheld, it is
    # still at least the floor (status "ok"), which is all a floor raised at promote time needs (_apply_floor).
    small = table["factor"].map({f: 0 < v["people"] < audit.min_group for f, v in audit.under_floor.items()})
    table.loc[withheld & small.fillna(False).astype(bool), "people"] = np.nan
    return {"version": RECORD_VERSION, "min_group": audit.min_group, "top_share": audit.top_share,
            "overall": {k: _plain(v) for k, v in audit.overall.items()},
            "groups": [{k: _plain(v) for k, v in r.items()} for r in table.to_dict("records")],
            "columns": list(table.columns), "under_floor": under,
            "not_audited": audit.not_audited,
            "window": {"dates": dates, "rows": int(len(predictions)),
                       "leaving_rows": int(predictions["label"].fillna(0).sum())}}


def audit_from_record(record: dict, *, min_group: int = MIN_GROUP, source: str = "the audit record") -> FairnessAudit:
    """The :class:`FairnessAudit` a logged :func:`audit_record` holds, at floor ``min_group``.

    At the record's own floor it is the audit training computed, figure for figure. A higher floor (a threshold
    file raised at promote time) moves the groups under it to "too few to assess" and withholds at least what the
    rows would (the hidden totals are known only as bounds). A lower floor is refused: the groups under the
    record's floor were never logged, and :func:`retention_ml.promotion.load_thresholds` refuses one under 20.
    """
    if record.get("version") != RECORD_VERSION:
        raise ValueError(UNKNOWN_RECORD.format(source=source, version=record.get("version"), known=RECORD_VERSION))
    logged_floor = int(record["min_group"])
    if min_group < logged_floor:
        raise ValueError(f"{source}: the audit was logged with groups of {logged_floor}+ people; a floor of "
                         f"{min_group} would need the groups under it, which are never logged")
    # the table's own column order (the JSON's keys are sorted)
    table = pd.DataFrame.from_records(record["groups"], columns=record["columns"])
    numeric = [c for c in table.columns if c not in ("factor", "group", "status", "roc_auc_note", "withheld")]
    table[numeric] = table[numeric].astype("float64")
    table["withheld"] = table["withheld"].astype(bool)
    if min_group != logged_floor and not table.empty:
        table = pd.concat([_apply_floor(t.reset_index(drop=True), min_group,
                                        {k: (lo, np.inf if hi is None else hi)
                                         for k, (lo, hi) in record["under_floor"][f].items()})
                           for f, t in table.groupby("factor", sort=False)], ignore_index=True)
    return FairnessAudit(table=table, gaps=_gaps(table), overall={k: float("nan") if v is None else v for k, v in record["overall"].items()}, min_group=min_group,
                         top_share=float(record["top_share"]), not_audited=dict(record.get("not_audited") or {}),
                         logged_floor=logged_floor)


def logged_audit(run_id: str, *, min_group: int = MIN_GROUP, n_boot: int = 0, random_state: int = 0,
                 progress=None) -> tuple[FairnessAudit, pd.DataFrame | None]:
    """A run's fairness audit at floor ``min_group`` (configure tracking first), and the run's logged test rows
    when it has them (runs trained before the audit was logged as aggregates; None for the others).

    A run that logged ``evaluation/fairness_audit.json`` is read from it; an older run's audit is recomputed from
    its ``evaluation/test_predictions.parquet`` as before. ``n_boot`` needs the rows (:data:`NO_INTERVALS`).
    """
    from retention_ml import artifacts, tracking

    if _has_record(run_id):
        if n_boot:
            raise ValueError(NO_INTERVALS.format(run_id=run_id, artifact=artifacts.FAIRNESS_AUDIT))
        record = tracking.load_json_artifact(run_id, artifacts.FAIRNESS_AUDIT)
        return audit_from_record(record, min_group=min_group, source=f"{artifacts.FAIRNESS_AUDIT} of run {run_id}"), None
    rows = tracking.load_table_artifact(run_id, artifacts.TEST_PREDICTIONS)
    return audit_fairness(rows, min_group=min_group, n_boot=n_boot, random_state=random_state, progress=progress), rows


def logged_test_window(run_id: str) -> dict:
    """A run's test window as training evaluated it: ``dates`` (ISO strings), ``rows`` and ``leaving_rows``, from the
    logged audit record, or from an older run's test rows (configure tracking first)."""
    from retention_ml import artifacts, tracking

    if _has_record(run_id):
        return dict(tracking.load_json_artifact(run_id, artifacts.FAIRNESS_AUDIT)["window"])
    rows = tracking.load_table_artifact(run_id, artifacts.TEST_PREDICTIONS)
    return {"dates": sorted(str(pd.Timestamp(d).date()) for d in pd.to_datetime(rows["as_of"]).unique()),
            "rows": int(len(rows)), "leaving_rows": int(rows["label"].fillna(0).sum())}


def _has_record(run_id: str) -> bool:
    from retention_ml import artifacts, tracking

    return artifacts.FAIRNESS_AUDIT in tracking.list_artifacts(run_id, artifacts.EVALUATION_DIR)
