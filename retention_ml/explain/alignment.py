"""Do the model's explanations agree with what leavers said? Exit-interview alignment.

For voluntary leavers in the explained window who have an exit interview,
take their last snapshot before leaving (the last row with label 1), rank the
drivers by their grouped SHAP value, and compare with the primary reason they
gave:

- top-1 / top-3 hit rate: the stated primary reason is the model's first
  driver / among its first three;
- chance baseline: a random order of the K ranked drivers (hit probability
  1/K and 3/K for a reason the model can see, 0 for one it cannot);
- global baseline: everyone gets the same order, by global driver importance
  (mean absolute grouped SHAP over all explained rows). A personal explanation
  is only worth showing when it beats this; the paired difference is reported;
- a driver-by-reason table and the share of reasons no model can see
  (taxonomy drivers with ``model_visible: false``: personal, retirement).

Intervals are 95% percentile bootstrap intervals over leavers (paired for
differences). Groups of fewer than 5 people get null numbers.

Small groups (:mod:`retention_ml.disclosure`: no aggregate for a group under 5 people). A stated reason
given by fewer than 5 leavers shows no count and no rate (``n`` null, not even
0), and the driver-by-reason table keeps no cell under 5 (the cell is left out).
The record also publishes sums of those counts (all interviewed leavers; the
reasons the model cannot see, through ``chance``, ``share_personal`` and
``visible_only``; the global baseline's first driver and first three; each
reason's top-1 rate, which is its diagonal cell), so a withheld count could be
recovered by subtraction. :func:`withhold_small` therefore withholds one more
count until the withheld part of every published sum is 0 or at least 5, or
withholds the sum itself (those numbers are then null).

Example
-------
>>> report = exit_interview_alignment(exp.by_driver(), keys, y, tables["exit_interviews"])  # doctest: +SKIP
>>> report["top3"]["value"], report["global"]["top3"]["value"]                              # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.disclosure import MIN_PEOPLE as MIN_GROUP
from retention_ml.explain.drivers import rank_drivers, reason_drivers
from retention_ml.schema import driver_codes

__all__ = ["MIN_GROUP", "bootstrap_interval", "exit_interview_alignment", "last_leaver_snapshots", "top_hits", "withhold_small"]


def bootstrap_interval(
    hits: np.ndarray, *, n_boot: int = 1000, random_state: int = 0, paired: np.ndarray | None = None, level: float = 0.95
) -> dict:
    """Mean of ``hits`` (minus ``paired`` when given) with a percentile bootstrap interval over rows.

    Returns ``{"value", "low", "high"}``; all null when there are fewer than
    :data:`MIN_GROUP` rows, and the interval null when ``n_boot`` is 0 (no resamples asked for).
    """
    hits = np.asarray(hits, dtype="float64")
    diff = hits if paired is None else hits - np.asarray(paired, dtype="float64")
    n = len(diff)
    if n < MIN_GROUP:
        return {"value": None, "low": None, "high": None}
    if n_boot < 1:
        return {"value": float(diff.mean()), "low": None, "high": None}
    rng = np.random.default_rng(random_state)
    # Resample in chunks so national-size inputs never hold a huge index matrix.
    means = []
    for start in range(0, n_boot, 200):
        idx = rng.integers(0, n, size=(min(200, n_boot - start), n))
        means.append(diff[idx].mean(axis=1))
    means = np.concatenate(means)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return {"value": float(diff.mean()), "low": float(low), "high": float(high)}


def last_leaver_snapshots(keys: pd.DataFrame, y: pd.Series, exit_interviews: pd.DataFrame) -> pd.DataFrame:
    """Positions (``row``) of each interviewed voluntary leaver's last snapshot with label 1.

    Returns a DataFrame with ``row`` (position in ``keys``), ``worker_id``,
    ``as_of``, ``primary_reason``, sorted by ``worker_id``.
    """
    missing = [c for c in ("worker_id", "as_of") if c not in keys.columns]
    if missing:
        raise ValueError(f"alignment: keys lack column(s) {missing} (rule: keys need worker_id and as_of)")
    for col in ("worker_id", "primary_reason"):
        if col not in exit_interviews.columns:
            raise ValueError(f"exit_interviews: missing column {col!r} (rule: see data_schema/tables/exit_interviews.yaml)")
    frame = pd.DataFrame(
        {"row": np.arange(len(keys)), "worker_id": keys["worker_id"].astype(str).to_numpy(), "as_of": keys["as_of"].to_numpy()}
    )
    leaving = frame.loc[np.asarray(y, dtype="float64") == 1.0]
    last = leaving.sort_values(["worker_id", "as_of"]).drop_duplicates("worker_id", keep="last")
    stated = exit_interviews.assign(worker_id=exit_interviews["worker_id"].astype(str))[["worker_id", "primary_reason"]]
    stated = stated.dropna(subset=["primary_reason"]).drop_duplicates("worker_id", keep="last")
    return last.merge(stated, on="worker_id", how="inner").sort_values("worker_id", ignore_index=True)


def top_hits(ranking: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, 1.0 where ``reference`` is the ranking's first driver (top 1) / among its first three (top 3).

    ``ranking`` is rows x drivers, most important first; ``reference`` one driver per row (a stated exit
    reason, or a true dominant driver).

    >>> top_hits(np.array([["pay", "commute", "caseload_workload"]]), np.array(["commute"]))
    (array([0.]), array([1.]))
    """
    if len(reference) == 0:
        return np.array([]), np.array([])
    top1 = ranking[:, 0] == reference
    top3 = (ranking[:, :3] == reference[:, None]).any(axis=1)
    return top1.astype(float), top3.astype(float)


def _group_rate(hits: np.ndarray) -> float | None:
    return float(hits.mean()) if len(hits) >= MIN_GROUP else None


def withhold_small(counts, sums: list[tuple[list, bool]], *, withheld=None) -> tuple[np.ndarray, list[bool]]:
    """Which ``counts`` to withhold, and which published ``sums`` of them stay published.

    Every count under :data:`MIN_GROUP` is withheld, and those already marked in ``withheld``. ``sums`` are
    (masks, may_withhold): sums of counts the record publishes elsewhere, each a list of boolean masks over
    ``counts`` that are published (or withheld) together. While the withheld part of a published sum is between 1
    and MIN_GROUP - 1 it could be recovered by subtraction, so the smallest count still shown under that sum is
    withheld too; when none is left, the sum itself is withheld if ``may_withhold`` (else it stays: a total such as
    all leavers is published anyway).
    Loops over the few sums, never over people.
    """
    counts = np.asarray(counts, dtype="int64")
    withheld = (counts < MIN_GROUP) | (False if withheld is None else np.asarray(withheld, dtype=bool))
    published = [True] * len(sums)
    # Narrowest sums first: a count withheld to protect a narrow sum often protects the wider ones too, while the
    # smallest count of a wide sum may sit where it protects nothing.
    order = sorted(((int(np.sum(m)), i, np.asarray(m, dtype=bool)) for i, (masks, _) in enumerate(sums)
                    for m in masks), key=lambda t: t[:2])
    changed = True
    while changed:
        changed = False
        for _, i, mask in order:
            if not published[i] or not 0 < counts[mask & withheld].sum() < MIN_GROUP:
                continue
            shown = np.flatnonzero(mask & ~withheld & (counts > 0))
            if shown.size:
                withheld[shown[np.argmin(counts[shown])]] = True
            elif sums[i][1]:
                published[i] = False
            else:
                continue  # a total published anyway (all leavers): nothing left to withhold under it
            changed = True
            break
    return withheld, published


def exit_interview_alignment(
    profile: pd.DataFrame,
    keys: pd.DataFrame,
    y: pd.Series,
    exit_interviews: pd.DataFrame,
    *,
    n_boot: int = 1000,
    random_state: int = 0,
    global_rows: np.ndarray | None = None,
) -> dict:
    """The alignment record ``explanations/alignment.json`` (:data:`retention_ml.artifacts.ALIGNMENT`).

    Parameters
    ----------
    profile : DataFrame
        Driver profiles (``Explanation.by_driver()``) of all explained rows, in
        the row order of ``keys``; the global ranking is computed from all of them.
    keys : DataFrame
        ``worker_id`` and ``as_of`` per row.
    y : Series
        Label per row (1 = voluntary leave within the horizon, NaN censored).
    exit_interviews : DataFrame
        The exit_interviews table (``worker_id``, ``primary_reason``).
    n_boot, random_state : int
        Bootstrap resamples and seed.
    global_rows : array of int, optional
        Positions of the rows the global ranking is computed from (default
        all); used when the explained rows are a sample plus every leaver.
    """
    if len(profile) != len(keys) or len(keys) != len(y):
        raise ValueError(f"alignment: profile ({len(profile)}), keys ({len(keys)}) and y ({len(y)}) must have the same rows")
    codes = reason_drivers()
    hidden = driver_codes(exit_reason=True, model_visible=False)
    base = profile if global_rows is None else profile.iloc[np.asarray(global_rows)]
    global_order = np.abs(base.loc[:, codes].to_numpy()).mean(axis=0) if len(base) else np.zeros(len(codes))
    global_ranking = np.asarray(codes, dtype=object)[np.argsort(-global_order, kind="stable")]

    leavers = last_leaver_snapshots(keys, y, exit_interviews)
    stated = leavers["primary_reason"].astype(str).to_numpy(dtype=object)
    ranking = rank_drivers(profile.iloc[leavers["row"].to_numpy()], codes)
    top1, top3 = top_hits(ranking, stated)
    g_top1, g_top3 = top_hits(np.tile(global_ranking, (len(leavers), 1)), stated)
    visible = np.isin(stated, codes)
    boot = {"n_boot": n_boot, "random_state": random_state}

    reasons = driver_codes(exit_reason=True)
    n_reason = pd.Series(stated, dtype=object).value_counts().reindex(reasons, fill_value=0).to_numpy()
    # Sums of reason counts the record publishes: all leavers (n_with_interview); the split between reasons the
    # model can and cannot see (chance, share_personal, visible_only); the global baseline's hits (its first
    # driver's count, its first three's).
    is_hidden, is_visible = np.isin(reasons, hidden), np.isin(reasons, codes)
    reason_withheld, (_, split_shown, g1_shown, g3_shown) = withhold_small(n_reason, [
        ([np.ones(len(reasons), bool)], False),
        ([is_hidden, is_visible], True),
        ([np.isin(reasons, global_ranking[:1])], True),
        ([np.isin(reasons, global_ranking[:3])], True),
    ])
    model_top = ranking[:, 0] if len(leavers) else np.array([], dtype=object)
    confusion, confusion_withheld, hits_shown = _confusion(
        model_top, stated, [r for r, w in zip(reasons, reason_withheld) if not w])
    on_diagonal = confusion["model_top_driver"] == confusion["stated_reason"]
    diag_withheld = set(confusion.loc[confusion["withheld"] & on_diagonal, "stated_reason"])

    by_driver = []
    for code, withheld in zip(reasons, reason_withheld):
        mask = stated == code
        # A reason's top-1 rate times its count is its diagonal cell of the table: withheld with that cell.
        top1_shown = not withheld and code not in diag_withheld
        by_driver.append(
            {
                "driver": code,
                "n": None if withheld else int(mask.sum()),
                "top1": _group_rate(top1[mask]) if top1_shown else None,
                "top3": None if withheld else _group_rate(top3[mask]),
                # Additions to the contract: the per-driver intervals.
                "top1_interval": bootstrap_interval(top1[mask] if top1_shown else [], **boot),
                "top3_interval": bootstrap_interval([] if withheld else top3[mask], **boot),
            }
        )
    confusion_rows = [
        {"model_top_driver": r.model_top_driver, "stated_reason": r.stated_reason, "n": int(r.n)}
        for r in confusion.loc[~confusion["withheld"]].itertuples(index=False)
    ]
    share_visible = float(visible.mean()) if len(leavers) else 0.0
    empty = bootstrap_interval([])
    return {
        "n_leavers": _n_leavers(keys, y),
        "n_with_interview": int(len(leavers)),
        "top1": bootstrap_interval(top1, **boot) if hits_shown else empty,
        "top3": bootstrap_interval(top3, **boot),
        "chance": {"top1": share_visible / len(codes), "top3": share_visible * min(3, len(codes)) / len(codes)}
        if split_shown else {"top1": None, "top3": None},
        "global": {"top1": bootstrap_interval(g_top1, **boot) if g1_shown else empty,
                   "top3": bootstrap_interval(g_top3, **boot) if g3_shown else empty},
        "difference_vs_global": {
            "top1": bootstrap_interval(top1, paired=g_top1, **boot) if g1_shown and hits_shown else empty,
            "top3": bootstrap_interval(top3, paired=g_top3, **boot) if g3_shown else empty,
        },
        "by_driver": by_driver,
        "confusion": confusion_rows,
        "share_personal": float(np.isin(stated, hidden).mean()) if len(leavers) and split_shown else None,
        # Additions (not renames) to the contract: what the rates are computed over, and what is withheld.
        "confusion_withheld": confusion_withheld,
        "small_groups": SMALL_GROUPS_NOTE,
        "global_ranking": list(global_ranking),
        "ranked_drivers": codes,
        "visible_only": {
            "n": int(visible.sum()),
            "top1": bootstrap_interval(top1[visible], **boot) if hits_shown else empty,
            "top3": bootstrap_interval(top3[visible], **boot),
            "global_top3": bootstrap_interval(g_top3[visible], **boot) if g3_shown else empty,
        } if split_shown else {"n": None, "top1": empty, "top3": empty, "global_top3": empty},
        "method": "last snapshot with label 1 per interviewed voluntary leaver; drivers ranked by grouped SHAP; "
        "95% percentile bootstrap over leavers",
    }


SMALL_GROUPS_NOTE = (f"Stated reasons given by fewer than {MIN_GROUP} leavers show no count and no rate, and "
                     f"driver-by-reason cells under {MIN_GROUP} are left out; where a withheld count could be found by "
                     "subtraction, one more count (or the sum it could be found from) is withheld too.")


def _confusion(model_top: np.ndarray, stated: np.ndarray, shown_reasons: list[str]
               ) -> tuple[pd.DataFrame, int | None, bool]:
    """The driver-by-reason table with a ``withheld`` flag per cell, how many leavers the withheld cells hold
    (None when that total is under MIN_GROUP), and whether the top-1 hit count may be published.

    Cells under MIN_GROUP, and every cell of a reason whose count is withheld, are withheld. A shown reason's count,
    the diagonal (the top-1 hits: the overall top-1 rate times all leavers) and all leavers are published sums of
    cells, so complementary cells are withheld with :func:`withhold_small`; when the withheld diagonal cells add up
    to 1-4 with no diagonal cell left to withhold, the overall top-1 rate is withheld instead.
    """
    cells = (pd.DataFrame({"model_top_driver": model_top, "stated_reason": stated})
             .groupby(["model_top_driver", "stated_reason"], sort=True).size().reset_index(name="n"))
    counts = cells["n"].to_numpy()
    reason_withheld = ~cells["stated_reason"].isin(shown_reasons).to_numpy()  # its cells would bound its count
    rows = [cells["stated_reason"].to_numpy() == r for r in shown_reasons]
    diagonal = (cells["model_top_driver"] == cells["stated_reason"]).to_numpy()
    every = np.ones(len(cells), dtype=bool)
    sums = [([m], False) for m in rows + [every]] + [([diagonal], True)]
    cells["withheld"], published = withhold_small(counts, sums, withheld=reason_withheld)
    total = int(cells.loc[cells["withheld"], "n"].sum())
    return cells, total if total >= MIN_GROUP else None, published[-1]


def _n_leavers(keys: pd.DataFrame, y: pd.Series) -> int:
    """Voluntary leavers among the explained rows (workers with any label 1)."""
    labels = np.asarray(y, dtype="float64") == 1.0
    return int(pd.Series(keys["worker_id"].astype(str).to_numpy()[labels]).nunique())
