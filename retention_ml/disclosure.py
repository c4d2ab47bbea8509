"""The small-group floors every published figure follows: one place, imported by each module that publishes.

Figures about a handful of people identify them. So no aggregate (a count, a rate, expected against observed
leavers, a reason's share) is shown for a group of fewer than :data:`MIN_PEOPLE` people, and a fairness table,
whose per-group rates are compared across protected characteristics, needs :data:`MIN_FAIRNESS_GROUP`. A
council's settings may raise a floor (the list's bands file, the promotion thresholds), never lower it.

Example
-------
>>> from retention_ml.disclosure import MIN_PEOPLE, MIN_FAIRNESS_GROUP
>>> MIN_PEOPLE, MIN_FAIRNESS_GROUP
(5, 20)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["MIN_PEOPLE", "MIN_FAIRNESS_GROUP", "AUDIT_RISK_DECIMALS", "WITHHELD", "complement_in_row", "complementary_suppression",
           "fewer_than", "pinned", "pinned_by_sum", "small_counts"]

# Teams on a list's summary, per-team expected vs observed on the card, stated exit reasons in alignment.
MIN_PEOPLE = 5
# Groups in the fairness audit (the card's fairness table and the promotion gate's group checks).
MIN_FAIRNESS_GROUP = 20
# Decimals of the risks in the audit rows (retention_ml.training.audit_rows). Runs logged those rows until the audit
# was logged as aggregates (evaluation/fairness_audit.json), and at full precision a risk is the same number as the
# person's row in a scores file; the rows now stay in memory, and the aggregates are still computed from them
# rounded, so a run's card and gate figures are those the same model's logged rows gave. Three decimals move no
# fairness or gate figure beyond rounding noise on the demo and national runs (two decimals moved a group's ROC-AUC
# by several hundredths); the top-10% flag is kept from full precision.
AUDIT_RISK_DECIMALS = 3


def complementary_suppression(frame: pd.DataFrame, shown: pd.Series, levels: list[str], min_people: int) -> pd.Series:
    """``shown`` (per team) with more teams withheld until no group of ``levels`` can be differenced down
    to fewer than ``min_people`` people (:func:`retention_ml.evaluate.expected_vs_observed`, the
    card's team checks and the service overviews all withhold this way).

    ``frame``: one row per person and team with ``team_id``, ``worker_id`` and the ``levels`` columns (a team sits in
    one group of each level); ``shown``: per team_id, True where the team's own size passes the floor."""
    shown = shown.copy()
    team_groups = frame.drop_duplicates("team_id").set_index("team_id")[levels]  # a team sits in one service and area
    size = frame.groupby("team_id")["worker_id"].nunique()
    changed = True
    while changed:  # each pass withholds at least one more team or ends; a level at a time, so none is hidden needlessly
        changed = False
        for level in levels:
            hidden = frame[~frame["team_id"].map(shown).to_numpy(dtype=bool)].groupby(level)["worker_id"].nunique()
            short = hidden.index[(hidden > 0) & (hidden < min_people)]
            candidates = team_groups.loc[shown.reindex(team_groups.index).to_numpy() & team_groups[level].isin(short).to_numpy(), [level]]
            smallest = (candidates.assign(people=size).rename_axis("team_id").reset_index()
                        .sort_values(["people", "team_id"]).groupby(level).head(1)["team_id"])
            if len(smallest):
                shown[smallest.to_numpy()] = False
                changed = True
    return shown


def fewer_than(floor: int = MIN_PEOPLE) -> str:
    """What a withheld count of 1 to ``floor`` - 1 people reads, in words a head of service or a board reads."""
    return f"fewer than {floor}"


# What a count reads where it is withheld although it is not small itself: shown, it would give a small one away.
WITHHELD = "withheld"


def small_counts(values, floor: int) -> np.ndarray:
    """True where a count (NaN: not shown) is of 1 to ``floor`` - 1 people; 0 is no group and is shown."""
    values = np.asarray(values, dtype=float)
    return (values >= 1) & (values < floor)


def pinned(rest, cells, floor: int) -> np.ndarray:
    """True where ``rest`` people, the total less the counts shown, sit in ``cells`` counts each read as "fewer than
    the floor" so that a reader can still work some out: ``rest`` is 1 to ``floor`` - 1 itself, or as small as
    ``cells`` (each is then 1) or as large as ``cells`` x (``floor`` - 1) (each is then ``floor`` - 1)."""
    rest, cells = np.asarray(rest, dtype=float), np.asarray(cells, dtype=float)
    return small_counts(rest, floor) | ((cells > 0) & ((rest == cells) | (rest == cells * (floor - 1))))


def complement_in_row(parts: np.ndarray, whole, floor: int) -> np.ndarray:
    """Cells of ``parts`` (rows of counts that split ``whole`` with an unshown remainder; NaN: withheld) to withhold
    too so that ``whole`` less the counts shown is none or at least ``floor`` people: where it is 1 to ``floor`` - 1,
    the row's smallest shown count above 0 (at least ``floor`` itself, so the remainder then is too)."""
    parts = np.asarray(parts, dtype=float)
    rest = np.asarray(whole, dtype=float) - np.nansum(parts, axis=1)
    short = small_counts(rest, floor)
    shown = np.where(parts > 0, parts, np.inf)   # NaN and 0 are never picked
    pick = np.argmin(shown, axis=1)
    short &= np.isfinite(shown[np.arange(len(parts)), pick])
    extra = np.zeros(parts.shape, dtype=bool)
    extra[np.flatnonzero(short), pick[short]] = True
    return extra


def pinned_by_sum(lo, hi, people, total, cuts, *, rounding: float = 0.05) -> np.ndarray:
    """True where a band count hidden as a range (``lo`` < ``hi``) has one value only that fits the rest of its row.

    A row is a group of ``people`` whose risks sum to ``total`` (expected leavers, shown rounded: within
    ``rounding`` either way) and whose two upper bands (columns: medium, high) hold ``lo`` to ``hi`` people
    each (shown: ``lo`` == ``hi``; "fewer than" the floor: 1 to floor - 1; withheld: 0 to ``people``). Each band
    bounds its people's risks (``cuts``: the medium and high cut-offs; below medium, low): a high-band person adds at
    least the high cut-off to the total, a low-band one less than the medium cut-off. So the total bounds the
    counts, and a "fewer than 5" high count beside 0.5 expected leavers can only be 1. NaN: no count (skipped)."""
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    n = np.asarray(people, dtype=float)[:, None]
    s_lo = np.asarray(total, dtype=float)[:, None] - rounding
    s_hi = np.asarray(total, dtype=float)[:, None] + rounding
    c1, c2 = (float(c) for c in cuts)
    least, most = np.array([c1, c2]), np.array([c2, 1.0])   # each band's risks: medium [c1, c2), high [c2, 1]
    top = int(np.nanmax(np.where(np.isfinite(hi), hi, 0), initial=0))
    values = np.arange(top + 1, dtype=float)[None, :]   # every count a cell could hold, one column each
    out = np.zeros(lo.shape, dtype=bool)
    for j, k in ((0, 1), (1, 0)):   # the band looked at, and the other
        v = values
        # the other band's count w must fit both: the least total <= s_hi, the most total >= s_lo (rising in w)
        w_max = np.minimum(np.minimum(hi[:, [k]], n - v), np.floor((s_hi - least[j] * v) / least[k] + 1e-9))
        w_min = np.maximum(lo[:, [k]], np.ceil((s_lo - most[j] * v - c1 * (n - v)) / (most[k] - c1) - 1e-9))
        fits = (w_min <= w_max) & (v >= lo[:, [j]]) & (v <= hi[:, [j]]) & (v <= n)
        out[:, j] = (lo[:, j] < hi[:, j]) & (fits.sum(axis=1) == 1)
    return out
