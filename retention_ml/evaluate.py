"""Test-window metrics with bootstrap intervals over workers, baselines and a calibration plot.

Metrics (all on risk = calibrated probability of leaving within the horizon):
ROC-AUC, average precision, Brier score, expected calibration error (ECE: 10
equal-count bins of risk, mean |observed rate - mean risk| weighted by bin
size), and precision and recall among the 10% of rows with the highest risk.

Intervals are 95% percentile bootstrap intervals that resample *workers* (all
snapshots of a drawn worker come along, drawn as often as the worker), because
snapshots of one person are not independent. Each draw is a weight vector, so
no data is copied.

ECE's interval is logged too but is no confidence interval for the true ECE: it
sums absolute gaps, so sampling noise alone makes it positive, the more so the
fewer the rows (the model card's glossary prints it measured for exactly right
risks on 370 and 2,000 people), and the bootstrap spread of that biased figure
sits above the truth and can exclude its own value (``benchmarks/bench_ece_chance.py``). What the
runs table and the model card show beside ECE is its chance level instead
(:func:`ece_chance`): how large ECE comes out when the outcomes are drawn from
the risks themselves, and how often that reaches the observed value.

Baselines fitted on the training window only: the team base rate (leavers per
snapshot in the team, shrunk towards the overall rate with the weight of 20
snapshots; unseen teams get the overall rate) and a regularised logistic
regression on the same features (median imputation with missing indicators,
standardisation, L2 penalty C=1).

Example
-------
>>> rec = evaluate_models({"lightgbm": risk}, y_test, workers=keys.worker_id)   # doctest: +SKIP
>>> rec["lightgbm"]["roc_auc"]                                                    # doctest: +SKIP
{'value': 0.74, 'low': 0.72, 'high': 0.76}
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from sklearn.metrics import average_precision_score, roc_auc_score

from retention_ml.disclosure import MIN_PEOPLE, complementary_suppression

__all__ = [
    "METRICS",
    "ece",
    "ece_chance",
    "ece_beyond_chance",
    "leavers_standard_error",
    "calibration_in_the_large",
    "calibration_by_date",
    "level_verdict",
    "point_metrics",
    "TOP_SHARE",
    "top_share_mask",
    "evaluate_models",
    "team_base_rate",
    "logistic_baseline",
    "expected_vs_observed",
    "team_interval_checks",
    "team_checks",
    "beats_baselines",
    "calibration_plot",
]

METRICS = ("roc_auc", "average_precision", "brier", "ece", "precision_top10", "recall_top10")
# "The top 10% of risk": precision/recall_top10, the fairness audit's flagged share and the truth check's top decile.
TOP_SHARE = 0.10
# An ECE is "beyond chance" when fewer than this share of worlds with exactly right risks reach it.
CHANCE_ALPHA = 0.05
TEAM_PRIOR_WEIGHT = 20
# Groups the teams nest in whose totals the same run also publishes (the model card's service and area rows).
NESTED_GROUPS = ("service", "area")
WHOLE_WINDOW = "_whole_window"
# metrics.json's named teams give expected leavers as a manager's list shows them (1 decimal). To 3 decimals, a team
# of a service that shares its area with few others is the one set of the audit rows of its area and service with its
# size, leavers and expected leavers (national simulation: 699 of 4,289 named teams against 656 from size and leavers
# alone, which anyone in the council knows; 659 at 1 decimal), naming the team beside its members' characteristics.
TEAM_EXPECTED_DECIMALS = 1


def _ece_bins(p, w, bins: int) -> np.ndarray:
    """Each row's bin: ``bins`` bins of equal weight in order of ``p`` (a row goes where its middle falls)."""
    order = np.argsort(p, kind="stable")
    cum = np.cumsum(w[order])
    which = np.minimum((cum - w[order] / 2) / cum[-1] * bins, bins - 1e-9).astype(int)
    bin_of = np.empty_like(which)
    bin_of[order] = which
    return bin_of


def ece(y, p, *, weights=None, bins: int = 10) -> float:
    """Expected calibration error over ``bins`` equal-count bins of ``p``."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    w = np.ones_like(p) if weights is None else np.asarray(weights, float)
    total = np.sum(w)
    bin_of = _ece_bins(p, w, bins)
    wsum = np.bincount(bin_of, weights=w, minlength=bins)
    ysum = np.bincount(bin_of, weights=w * y, minlength=bins)
    psum = np.bincount(bin_of, weights=w * p, minlength=bins)
    ok = wsum > 0
    return float(np.sum(np.abs(ysum[ok] - psum[ok])) / total)


def ece_chance(p, *, workers, n_draws: int = 200, random_state: int = 0, bins: int = 10) -> np.ndarray:
    """ECE on these rows in ``n_draws`` worlds where the risks ``p`` are exactly right: its chance level.

    Consistency resampling (Broecker and Smith 2007, "Increasing the reliability of reliability diagrams",
    Weather and Forecasting 22: 651-661): each draw gives every row a leaver label with probability its own
    risk, so every bin's gap is sampling noise alone. An observed ECE inside these draws is consistent with
    well-calibrated risks; one above nearly all of them is off beyond chance. All rows of one worker share one
    uniform number (label = u < risk), the strongest dependence one person's snapshots can have, so the
    chance level is exact with one row per person and, with several, if anything too high: the test errs
    towards calling a gap chance, never towards a false alarm of miscalibration at more than its level.

    Example
    -------
    >>> draws = ece_chance(np.full(400, 0.2), workers=np.arange(400), n_draws=50)
    >>> bool(0 < np.median(draws) < 0.1)
    True
    """
    p = np.asarray(p, float)
    codes, uniques = pd.factorize(pd.Series(workers).astype(str))
    u = np.random.default_rng([random_state, 2007]).random((n_draws, len(uniques)))
    onehot = np.zeros((len(p), bins))
    onehot[np.arange(len(p)), _ece_bins(p, np.ones_like(p), bins)] = 1.0
    labels = u[:, codes] < p
    return np.abs((labels - p) @ onehot).sum(axis=1) / len(p)


def ece_beyond_chance(figures: dict) -> bool | None:
    """Whether a logged ECE (:func:`evaluate_models`' ``ece`` entry) is above its chance level at the 5% level;
    None for a run logged before chance levels were (its percentile interval is no guide: see the module)."""
    p_value = figures.get("p_value") if figures else None
    return None if p_value is None or p_value != p_value else bool(p_value < CHANCE_ALPHA)


def leavers_standard_error(p, *, workers, by=None):
    """Standard error of the number of leaving rows if the risks ``p`` are exactly right, one person's rows alike.

    The same world as :func:`ece_chance`: a person's rows share one uniform number u (label = u < risk), as a
    person's snapshots do (in post at several test dates, the one who leaves within 12 months of the first date
    is labelled leaving at the later ones too). A person with rows p_1 <= ... <= p_k then contributes
    sum_ij min(p_i, p_j) - (sum_i p_i)^2 to the variance; with one row each this is the binomial p(1 - p), and
    with several it is larger, so observed against expected leavers is not called beyond chance on
    snapshots counted as if they were independent people.

    ``by`` (one label per row): a Series of standard errors, one per group, each over that group's rows (the
    fairness audit's groups; a person whose rows fall in two groups counts in each with the rows there).

    Example
    -------
    >>> round(leavers_standard_error([0.1] * 100, workers=range(100)), 3)   # sqrt(100 * 0.1 * 0.9)
    3.0
    >>> round(leavers_standard_error([0.1] * 100, workers=[i // 4 for i in range(100)]), 3)   # 25 people, 4 rows
    6.0
    >>> leavers_standard_error([0.1] * 8, workers=[i // 4 for i in range(8)], by=["a"] * 4 + ["b"] * 4).round(1).to_dict()
    {'a': 1.2, 'b': 1.2}
    """
    frame = pd.DataFrame({"group": 0 if by is None else pd.Series(by).astype(str).to_numpy(),
                          "worker": pd.Series(workers).astype(str).to_numpy(), "p": np.asarray(p, float)})
    frame = frame.sort_values(["group", "worker", "p"], kind="stable")
    person = frame.groupby(["group", "worker"], sort=False)["p"]
    rank = person.cumcount().to_numpy()            # 0 for the lowest risk of each person
    size = person.transform("size").to_numpy()
    # each p_(r) is the smaller of an ordered pair (r, j) for itself and the 2 (k - 1 - r) pairs with a higher risk
    frame["pairs"] = frame["p"].to_numpy() * (2 * (size - 1 - rank) + 1)
    per_person = frame.groupby(["group", "worker"], sort=False).agg(pairs=("pairs", "sum"), total=("p", "sum"))
    variance = (per_person["pairs"] - per_person["total"] ** 2).groupby(level="group", sort=False).sum()
    se = np.sqrt(variance.clip(lower=0.0))
    return float(se.sum()) if by is None else se


def calibration_in_the_large(risk, label, *, workers, alpha: float = CHANCE_ALPHA) -> dict:
    """Expected against observed leavers over a whole window, and whether the gap is beyond chance: can the risks be
    read as chances on average? ECE averages the gaps per risk bin and can pass while every risk is a tenth too high,
    which every team's "expected leavers" on the lists then carries. The model card's caveat and "Risks as chances",
    and the promotion gate's ``calibration_in_the_large`` check, all read this one computation.

    Rows with no label (censored) are left out. The standard error is :func:`leavers_standard_error` with a person's
    rows counted together (``workers``: one id per row). The gap is beyond chance when it is over z standard errors,
    two-sided at ``alpha``.

    Returns ``rows``, ``people``, ``expected`` (sum of risk), ``observed`` (rows labelled leaving),
    ``ratio`` (observed / expected; NaN with nothing expected), ``se`` (of the observed count if the risks were exactly
    right), ``z`` (the gap in standard errors), ``p_value`` (two-sided) and ``beyond``.

    Example
    -------
    >>> r = calibration_in_the_large([0.2] * 1000, [1] * 150 + [0] * 850, workers=range(1000))
    >>> round(r["expected"]), r["observed"], round(r["ratio"], 2), r["beyond"]   # 200 expected, se 12.6: z -3.95
    (200, 150, 0.75, True)
    """
    frame = pd.DataFrame({"risk": np.asarray(risk, float), "label": np.asarray(label, float),
                          "worker": pd.Series(workers).astype(str).to_numpy()})
    frame = frame[frame["label"].notna()]
    figures = {"rows": len(frame), "people": int(frame["worker"].nunique()), "expected": float(frame["risk"].sum()),
               "observed": int(frame["label"].sum()), "se": leavers_standard_error(frame["risk"], workers=frame["worker"])}
    return level_verdict(figures, alpha)


def calibration_by_date(risk, label, *, workers, dates, min_people: int = MIN_PEOPLE) -> list[dict]:
    """Calibration in the large at each test date: can the risks be read as chances at every date of the test
    window, the latest (nearest deployment) included? The whole-window figure of :func:`calibration_in_the_large`
    averages the dates, so risks right at the first date and too high by a quarter at the last can pass it.

    One record per date (in date order) with ``as_of``, ``rows``, ``people``, ``expected`` (sum of risk),
    ``observed`` (rows labelled leaving) and ``se`` (:func:`leavers_standard_error` over that date's rows): the
    counts a reader turns into a verdict at their own alpha with :func:`level_verdict`. Censored rows are left out.
    No figure is given for any date when one date holds fewer than ``min_people`` people: the window's total minus
    the other dates would give it away (:mod:`retention_ml.disclosure`); the records then hold only ``as_of`` and
    ``people`` None.

    Example
    -------
    >>> recs = calibration_by_date([0.2] * 200, [1] * 20 + [0] * 80 + [1] * 30 + [0] * 70, workers=[*range(100)] * 2,
    ...                            dates=["2024-01-01"] * 100 + ["2024-04-01"] * 100)
    >>> [(r["as_of"], round(r["expected"]), r["observed"]) for r in recs]
    [('2024-01-01', 20, 20), ('2024-04-01', 20, 30)]
    """
    frame = pd.DataFrame({"risk": np.asarray(risk, float), "label": np.asarray(label, float),
                          "worker": pd.Series(workers).astype(str).to_numpy(),
                          "as_of": pd.to_datetime(pd.Series(dates)).dt.strftime("%Y-%m-%d").to_numpy()})
    frame = frame[frame["label"].notna()]
    if frame.empty:
        return []
    g = frame.groupby("as_of", sort=True).agg(rows=("risk", "size"), people=("worker", "nunique"),
                                              expected=("risk", "sum"), observed=("label", "sum"))
    se = leavers_standard_error(frame["risk"], workers=frame["worker"], by=frame["as_of"]).reindex(g.index)
    if (g["people"] < min_people).any():
        return [{"as_of": d, "people": None} for d in g.index]
    return [{"as_of": d, "rows": int(r.rows), "people": int(r.people), "expected": float(r.expected),
             "observed": int(r.observed), "se": float(se[d])} for d, r in g.iterrows()]


def level_verdict(figures: dict, alpha: float = CHANCE_ALPHA) -> dict:
    """``figures`` (``expected``, ``observed``, ``se``: what :func:`calibration_in_the_large` counts, or the same
    figures logged as aggregates) with ``ratio``, ``z``, ``p_value`` and ``beyond`` at two-sided ``alpha``: a reader
    with another alpha (a board's thresholds file) decides from the same counts."""
    from statistics import NormalDist

    expected, observed, se = figures["expected"], figures["observed"], figures["se"]
    z = (observed - expected) / se if se and se == se else float("nan")
    p_value = 2 * (1 - NormalDist().cdf(abs(z))) if z == z else float("nan")
    return {**figures, "ratio": observed / expected if expected else float("nan"), "z": z, "p_value": p_value,
            "beyond": bool(p_value < alpha) if p_value == p_value else False}


def top_share_mask(risk, share: float = TOP_SHARE, *, weights=None, by=None) -> np.ndarray:
    """The rows that make up the ``share`` of highest risk: the one definition of "the top 10%".

    Rows are taken in order of risk (highest first, ties by position) while the weight of the rows before
    them is under ``share`` of the total: with unit weights exactly ceil(share * n) rows (15 rows give 2,
    95 give 10, 100 give 10), and never none. Rows of weight 0 (workers not drawn in a bootstrap resample)
    are never in. With ``by`` (a label per row) each group is taken separately, e.g. each as_of date.

    Example
    -------
    >>> top_share_mask([0.1, 0.9, 0.5, 0.2], share=0.25).tolist()
    [False, True, False, False]
    >>> top_share_mask([0.1, 0.9, 0.5, 0.2], share=0.25, by=["a", "a", "b", "b"]).tolist()
    [False, True, True, False]
    """
    risk = np.asarray(risk, dtype=float)
    n = len(risk)
    if n == 0:
        return np.zeros(0, dtype=bool)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    group = np.zeros(n, dtype=np.int64) if by is None else pd.factorize(np.asarray(by))[0]
    order = np.lexsort((np.arange(n), -risk, group))  # by group, then highest risk, then position
    ws, gs = w[order], group[order]
    starts = np.r_[0, np.flatnonzero(np.diff(gs)) + 1]
    sizes = np.diff(np.r_[starts, n])
    cum = np.cumsum(ws)
    before = cum - ws - np.repeat(cum[starts] - ws[starts], sizes)  # weight ahead of the row in its group
    total = np.repeat(np.add.reduceat(ws, starts), sizes)
    mask = np.zeros(n, dtype=bool)
    mask[order] = (ws > 0) & (before < share * total - 1e-9)
    return mask


def _top_share(y, p, w, share=TOP_SHARE) -> tuple[float, float]:
    """Precision and recall among the ``share`` of weight with the highest risk (:func:`top_share_mask`).

    Precision is always defined (the top holds at least the highest-risk drawn row); recall is undefined
    (NaN, no warning) when the sample holds no leaver.
    """
    top = top_share_mask(p, share, weights=w)
    hits = np.sum(w[top] * y[top])
    leavers = np.sum(w * y)
    return float(hits / np.sum(w[top])), float(hits / leavers) if leavers > 0 else float("nan")


def point_metrics(y, p, weights=None) -> dict[str, float]:
    """All :data:`METRICS` for labels ``y`` and risks ``p`` (optional row weights)."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    w = np.ones_like(p) if weights is None else np.asarray(weights, float)
    one_class = np.sum(w * y) in (0.0, np.sum(w))
    prec, rec = _top_share(y, p, w)
    return {
        "roc_auc": float("nan") if one_class else float(roc_auc_score(y, p, sample_weight=w)),
        "average_precision": float("nan") if one_class else float(average_precision_score(y, p, sample_weight=w)),
        "brier": float(np.sum(w * (p - y) ** 2) / np.sum(w)),
        "ece": ece(y, p, weights=w),
        "precision_top10": prec,
        "recall_top10": rec,
    }


def _worker_weights(workers, n_boot: int, random_state: int) -> np.ndarray:
    """``n_boot x n_rows`` weights: how often each row's worker is drawn in each bootstrap sample."""
    codes, uniques = pd.factorize(pd.Series(workers).astype(str))
    rng = np.random.default_rng(random_state)
    draws = rng.multinomial(len(uniques), np.full(len(uniques), 1.0 / len(uniques)), size=n_boot)
    return draws[:, codes].astype(float)


def evaluate_models(
    risks: dict[str, np.ndarray], y, *, workers, n_boot: int = 200, random_state: int = 0, progress=None
) -> dict[str, dict[str, dict[str, float]]]:
    """``{model: {metric: {"value", "low", "high", "undefined"}}}`` with 95% worker-bootstrap intervals; ``ece``
    also holds its chance level (``chance``, ``chance_high``, ``p_value``: :func:`_chance_level`), which is what
    to read: its bootstrap interval is the spread of an upward-biased figure (module docstring).

    ``undefined`` counts the resamples in which the metric does not exist (no leaver or no stayer drawn):
    they are left out of the interval rather than warned about.

    All models are scored on the same bootstrap draws, so their intervals are comparable.
    ``progress(done, total)`` is called after each draw.
    """
    y = np.asarray(y, float)
    weights = _worker_weights(workers, n_boot, random_state)
    out = {}
    boots = {name: {m: np.empty(n_boot) for m in METRICS} for name in risks}
    for i in range(n_boot):
        for name, p in risks.items():
            for m, v in point_metrics(y, p, weights[i]).items():
                boots[name][m][i] = v
        if progress:
            progress(i + 1, n_boot)
    for name, p in risks.items():
        point = point_metrics(y, p)
        out[name] = {m: _interval(point[m], boots[name][m]) for m in METRICS}
        out[name]["ece"] |= _chance_level(point["ece"], ece_chance(p, workers=workers, n_draws=n_boot,
                                                                 random_state=random_state))
    return out


def _chance_level(value: float, draws: np.ndarray) -> dict[str, float | int]:
    """ECE with its chance level: ``chance`` (mean ECE of exactly right risks on these rows), ``chance_high``
    (their 95th percentile, 1 - :data:`CHANCE_ALPHA`: above it, the gap is beyond chance) and ``p_value`` (the share of draws at least as
    large, counting the observed one: (1 + k) / (1 + n), never 0)."""
    return {"value": value, "chance": float(np.mean(draws)), "chance_high": float(np.percentile(draws, 100 * (1 - CHANCE_ALPHA))),
            "p_value": float((1 + np.sum(draws >= value)) / (1 + len(draws))), "undefined": 0}


def _interval(value: float, draws: np.ndarray) -> dict[str, float | int]:
    """Point value, 2.5/97.5 percentiles of the defined draws, and how many draws were ``undefined``.

    A resample with no leaver (or no stayer) has no ROC-AUC, average precision or recall; those draws
    are left out of the percentiles and counted, so a reader can tell an interval over 200 resamples
    from one over a few (``undefined`` = n_boot: no interval, low and high NaN).
    """
    defined = draws[~np.isnan(draws)]
    low, high = np.percentile(defined, [2.5, 97.5]) if len(defined) else (np.nan, np.nan)
    return {"value": value, "low": float(low), "high": float(high), "undefined": int(len(draws) - len(defined))}


def beats_baselines(models: dict) -> dict[str, bool]:
    """For each baseline: does LightGBM have higher ROC-AUC AND higher average precision (point values)?"""
    lgb = models["lightgbm"]
    return {
        name: bool(lgb["roc_auc"]["value"] > m["roc_auc"]["value"] and lgb["average_precision"]["value"] > m["average_precision"]["value"])
        for name, m in models.items()
        if name != "lightgbm"
    }


def team_base_rate(train_teams, y_train, test_teams) -> np.ndarray:
    """Shrunk training-window leaving rate of each test row's team (overall rate for unseen teams)."""
    y_train = np.asarray(y_train, float)
    overall = float(np.mean(y_train))
    frame = pd.DataFrame({"team": pd.Series(train_teams).astype(str).to_numpy(), "y": y_train})
    g = frame.groupby("team")["y"].agg(["sum", "count"])
    rate = (g["sum"] + TEAM_PRIOR_WEIGHT * overall) / (g["count"] + TEAM_PRIOR_WEIGHT)
    return pd.Series(test_teams).astype(str).map(rate).fillna(overall).to_numpy(dtype=float)


def logistic_baseline(random_state: int = 0):
    """Unfitted pipeline: median imputation (+ missing indicators), standardisation, L2 logistic regression."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(C=1.0, max_iter=5000, random_state=random_state),
    )


def expected_vs_observed(keys: pd.DataFrame, y, risk, *, min_people: int = MIN_PEOPLE,
                         nested=NESTED_GROUPS) -> list[dict]:
    """Per team of the test window: expected and observed leavers, for teams of at least ``min_people`` people.

    ``keys`` holds one row per test snapshot with ``worker_id`` and ``team_id`` (and, when present, the
    columns in ``nested``: groups the teams sit in whose totals the same run publishes, e.g. the model
    card's service and area rows). Each shown team has ``people`` (distinct workers in the window),
    ``n`` (snapshot rows: people x dates), ``expected`` (sum of risk over the snapshots, to
    :data:`TEAM_EXPECTED_DECIMALS` decimals as the lists show it), ``observed``
    (snapshots labelled leaving: a person counts once per date at which they leave within the horizon,
    so ``observed`` is comparable with ``expected``) and ``leavers`` (distinct people who left).

    Rules (:mod:`retention_ml.disclosure`: no aggregate for a group under 5 people): a team is shown only with at least
    ``min_people`` distinct people (never on snapshot rows, which grow with the number of dates).
    Complementary suppression: the run also publishes totals of each ``nested`` group and of the whole
    window, and a total minus its shown teams is exactly its withheld teams. So where the withheld teams
    of a group hold fewer than ``min_people`` distinct people (but some), the smallest shown team of that
    group (fewest people, then team id) is withheld too, repeated until every group's withheld teams hold
    at least ``min_people`` people or none of its teams is shown.

    Example
    -------
    >>> keys = pd.DataFrame({"worker_id": list("abcdefghij"), "team_id": ["A"] * 6 + ["B"] * 4})
    >>> expected_vs_observed(keys, [1, 0, 0, 1, 0, 0, 1, 1, 0, 0], [0.5] * 10)  # B (4 people) hides A too
    []
    """
    frame = pd.DataFrame({"worker_id": keys["worker_id"].astype(str).to_numpy(), "team_id": keys["team_id"].astype(str).to_numpy(),
                          "y": np.asarray(y, float), "risk": np.asarray(risk, float)})
    levels = [c for c in nested if c in keys.columns]
    for c in levels:
        frame[c] = keys[c].astype("string").fillna("").to_numpy()
    frame[WHOLE_WINDOW] = ""
    leavers = frame.loc[frame["y"] == 1].groupby("team_id")["worker_id"].nunique()
    g = frame.groupby("team_id", sort=True).agg(people=("worker_id", "nunique"), n=("y", "size"), expected=("risk", "sum"),
                                                observed=("y", "sum"))
    g["leavers"] = leavers.reindex(g.index).fillna(0)
    shown = complementary_suppression(frame, g["people"] >= min_people, [*levels, WHOLE_WINDOW], min_people)
    g = g[shown].reset_index()
    return [
        {"team_id": t, "people": int(p), "n": int(n), "expected": round(float(e), TEAM_EXPECTED_DECIMALS), "observed": int(o), "leavers": int(lv)}
        for t, p, n, e, o, lv in g[["team_id", "people", "n", "expected", "observed", "leavers"]].itertuples(index=False)
    ]


def team_interval_checks(rows: pd.DataFrame, *, level: float, min_people: int = MIN_PEOPLE) -> list[dict]:
    """The lists' team figures checked against what happened: one summary per test date.

    ``rows``: ``as_of``, ``team_id``, ``worker_id``, ``label`` and ``risk`` (training's test keys, as
    :func:`team_checks` logs them), or the ``team`` and ``person`` pseudonyms of audit rows logged before the rows
    lost their team key (the card reads those for older runs). At each date every team of at least
    ``min_people`` people gets what a manager's list would show for its people, expected leavers over the horizon
    and the ``level`` interval, from the lists' own function
    (:func:`retention_ml.reports.risk_list.expected_leavers_interval`), beside the people labelled leaving.

    Each summary holds ``as_of``, ``level``, ``teams`` (teams checked), ``withheld`` (teams not checked: under
    ``min_people`` people, or withheld so that those cannot be worked out by subtracting the checked teams from the
    window's published totals, as in :func:`expected_vs_observed`), ``inside`` (teams whose observed count fell in
    the interval), ``coverage`` (their share, with ``coverage_low``/``coverage_high``: its 95% Wilson score
    interval over teams, which stays honest at 0% and 100%, where resampling teams gives "100% to 100%"),
    ``implied_coverage`` (the share the risks themselves imply: above
    ``level``, since the interval is in whole people), ``below`` (fewer left than the interval's low end: risk
    over-predicted) and ``above`` (more left than its high end), each beside the number of teams the risks imply
    (``implied_below``, ``implied_above``), ``mean_expected``, ``mean_observed`` and the worst
    ``over`` and ``under`` predictions as ``{"expected", "observed"}`` (None when no team is on that side). No team
    is named. A date with no team to check has ``teams`` 0 and no other figure.

    Example
    -------
    Five people at 20% expect 1 leaver, 80% interval 0 to 2: team A's 1 leaver is inside it, team B's 6 of 6 above.

    >>> rows = pd.DataFrame({"as_of": "2024-01-01", "team": ["A"] * 5 + ["B"] * 6, "person": list("abcdefghijk"),
    ...                      "label": [1, 0, 0, 0, 0] + [1] * 6, "risk": 0.2})
    >>> [(c["teams"], c["inside"], c["above"], c["coverage"]) for c in team_interval_checks(rows, level=0.8)]
    [(2, 1, 1, 0.5)]
    """
    from retention_ml.reports import risk_list  # the lists' own interval, not a copy

    # callers' own frames (and test fixtures) may carry the ids instead of the logged pseudonyms; only grouping uses them
    ids = {"worker_id": "person", "team_id": "team"}
    data = rows.rename(columns={k: v for k, v in ids.items() if k in rows.columns and v not in rows.columns})
    data = data[data["label"].notna()]
    out = []
    for as_of, day in data.groupby("as_of", sort=True):
        frame = pd.DataFrame({"worker_id": day["person"].astype(str).to_numpy(), "team_id": day["team"].astype(str).to_numpy(),
                              WHOLE_WINDOW: ""})
        people = frame.groupby("team_id")["worker_id"].nunique()
        shown = complementary_suppression(frame, people >= min_people, [WHOLE_WINDOW], min_people)
        checked = day[day["team"].astype(str).map(shown).to_numpy(dtype=bool)]
        summary = {"as_of": str(as_of)[:10], "level": level, "teams": int(shown.sum()), "withheld": int((~shown).sum())}
        if len(checked):
            summary.update(_interval_figures(checked.groupby("team", sort=True), risk_list.expected_leavers_interval,
                                             risk_list.poisson_binomial_pmf, level))
        out.append(summary)
    return out


def team_checks(rows: pd.DataFrame) -> dict:
    """:func:`team_interval_checks` at the shipped list settings' interval level and floor (the lists' own
    ``[summary]``), with them: ``{"level", "min_people", "dates"}``. What training logs in ``metrics.json``
    (``team_checks``) and the model card shows, so the card needs no team key in the logged audit rows: a team
    key there, beside each person's protected characteristics, is what ``metrics.json``'s named ``teams`` (same
    people, expected and observed) would tie back to a real team."""
    from retention_ml.reports.risk_list import load_band_config

    config = load_band_config()
    return {"level": config.summary_level, "min_people": config.min_group,
            "dates": team_interval_checks(rows, level=config.summary_level, min_people=config.min_group)}


def _tail_masses(pmf: np.ndarray, low: int, high: int) -> tuple[float, float]:
    """P(fewer than ``low``) and P(more than ``high``) leavers under the team's own distribution."""
    return float(pmf[:low].sum()), float(pmf[high + 1:].sum())


def _interval_figures(teams, interval, pmf, level: float) -> dict:
    """Coverage, the sides missed and the worst misses of the teams in ``teams`` (grouped audit rows)."""
    figures = pd.DataFrame([(*interval(g["risk"].to_numpy(float), level=level), float(g["label"].sum()))
                            for _, g in teams], columns=["expected", "low", "high", "observed"])
    # What the risks themselves imply: a range in whole people holds more than ``level`` (about 93% for a team of
    # 5 at 20%), so the observed share is read against this, not only against the level.
    tails = np.array([_tail_masses(pmf(g["risk"].to_numpy(float)), lo, hi)
                      for (_, g), lo, hi in zip(teams, figures["low"], figures["high"])]).reshape(-1, 2)
    inside = figures["observed"].between(figures["low"], figures["high"]).to_numpy()
    share = binomtest(int(inside.sum()), len(inside)).proportion_ci(confidence_level=0.95, method="wilson")
    gap = figures["expected"] - figures["observed"]   # > 0: fewer left than expected (over-predicted)

    def worst(i) -> dict:
        return {"expected": round(float(figures["expected"][i]), 1), "observed": int(figures["observed"][i])}

    return {"inside": int(inside.sum()), "coverage": float(inside.mean()),
            "coverage_low": float(share.low), "coverage_high": float(share.high),
            "implied_coverage": float(1 - tails.sum(axis=1).mean()),
            "below": int((figures["observed"] < figures["low"]).sum()), "above": int((figures["observed"] > figures["high"]).sum()),
            "implied_below": float(tails[:, 0].sum()), "implied_above": float(tails[:, 1].sum()),
            "mean_expected": float(figures["expected"].mean()), "mean_observed": float(figures["observed"].mean()),
            "over": worst(gap.idxmax()) if gap.max() > 0 else None, "under": worst(gap.idxmin()) if gap.min() < 0 else None}


def calibration_plot(y, risks: dict[str, np.ndarray], path, *, bins: int = 10, title: str = "Calibration on the test window") -> None:
    """Reliability diagram (observed rate vs mean risk in equal-count bins) saved as PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    y = np.asarray(y, float)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    top = 0.0
    for name, p in risks.items():
        p = np.asarray(p, float)
        order = np.argsort(p, kind="stable")
        groups = np.array_split(order, bins)
        mp = np.array([p[g].mean() for g in groups if len(g)])
        oy = np.array([y[g].mean() for g in groups if len(g)])
        top = max(top, mp.max(), oy.max())
        ax.plot(mp, oy, marker="o", label=name)
    top = min(1.0, top * 1.05 + 0.01)
    ax.plot([0, top], [0, top], color="grey", linestyle="--", linewidth=1, label="perfect")
    ax.set_xlabel("mean predicted risk in bin")
    ax.set_ylabel("observed share leaving in bin")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
