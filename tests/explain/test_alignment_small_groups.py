"""alignment.json keeps no count of fewer than 5 leavers, neither printed nor recoverable by subtraction.

A stated exit reason given by 1-4 leavers is a confidential answer about very few people (often one manager's team).
The record publishes reason counts, driver-by-reason cells and several sums of them (all leavers; the split into
reasons the model can and cannot see, through chance and share_personal; the global baseline's hits; each reason's
top-1 rate, which is its diagonal cell): every difference a reader can form from them must be 0 or at least 5.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from retention_ml.explain.alignment import MIN_GROUP, exit_interview_alignment
from retention_ml.explain.drivers import profile_drivers
from retention_ml.schema import driver_codes

REASONS = driver_codes(exit_reason=True)
HIDDEN = driver_codes(exit_reason=True, model_visible=False)


def _report(stated, seed=0, tops=None):
    """One interviewed leaver per stated reason; model profiles random (or with the given top drivers)."""
    n = len(stated)
    rng = np.random.default_rng(seed)
    cols = profile_drivers()
    values = rng.normal(0, 1, (n, len(cols)))
    if tops is not None:
        values[np.arange(n), [cols.index(t) for t in tops]] = 10.0
    workers = [f"W{i:04d}" for i in range(n)]
    keys = pd.DataFrame({"worker_id": workers, "as_of": pd.Timestamp("2024-01-01")})
    interviews = pd.DataFrame({"worker_id": workers, "primary_reason": stated})
    return exit_interview_alignment(pd.DataFrame(values, columns=cols), keys, pd.Series(np.ones(n)), interviews,
                                    n_boot=20)


def _recoverable(report) -> dict[str, int]:
    """Every count a reader can compute by subtraction from the published numbers (name -> count)."""
    n_all = report["n_with_interview"]
    shown = {r["driver"]: r["n"] for r in report["by_driver"] if r["n"] is not None}
    out = {"all leavers minus shown reasons": n_all - sum(shown.values())}
    if report["share_personal"] is not None:
        h = round(report["share_personal"] * n_all)
        out["hidden reasons minus shown"] = h - sum(v for k, v in shown.items() if k in HIDDEN)
        out["visible reasons minus shown"] = n_all - h - sum(v for k, v in shown.items() if k not in HIDDEN)
    assert report["chance"]["top1"] is None or report["share_personal"] is not None  # chance gives the split too
    for key, k in (("top1", 1), ("top3", 3)):
        value = report["global"][key]["value"]
        if value is not None:
            first = report["global_ranking"][:k]
            out[f"global top {k} minus shown"] = round(value * n_all) - sum(shown.get(d, 0) for d in first)
    cells = {(c["model_top_driver"], c["stated_reason"]): c["n"] for c in report["confusion"]}
    diagonal_known = {}
    for r in report["by_driver"]:
        if r["n"] is None:
            continue
        code = r["driver"]
        out[f"{code}: count minus shown cells"] = r["n"] - sum(v for (m, s), v in cells.items() if s == code)
        if r["top1"] is not None:
            diagonal_known[code] = round(r["top1"] * r["n"])
            out[f"{code}: diagonal cell from its top-1 rate"] = diagonal_known[code]
    for (m, s), v in cells.items():
        if m == s:
            diagonal_known[s] = v
    if report["top1"]["value"] is not None:
        out["top-1 hits minus known diagonal"] = round(report["top1"]["value"] * n_all) - sum(diagonal_known.values())
    out["cells withheld"] = n_all - sum(cells.values())
    return out


def _small(report) -> dict[str, int]:
    printed = {f"{r['driver']} n": r["n"] for r in report["by_driver"] if r["n"] is not None}
    printed |= {f"cell {c['model_top_driver']}/{c['stated_reason']}": c["n"] for c in report["confusion"]}
    found = printed | _recoverable(report)
    return {k: v for k, v in found.items() if 0 < v < MIN_GROUP}


def test_the_demo_case_shows_no_reason_count_and_no_cell():
    """The review's demo: 15 interviewed leavers, every reason given by 0-3 of them."""
    stated = (["caseload_workload"] * 2 + ["work_life_balance"] * 2 + ["career_progression"] * 3
              + ["supervision_management", "commute", "team_instability"] + ["housing_cost"] * 3 + ["personal"] * 2)
    report = _report(stated, tops=["career_progression"] * 15)
    assert [r["n"] for r in report["by_driver"]] == [None] * len(REASONS)
    assert all(r["top1"] is None and r["top1_interval"]["value"] is None for r in report["by_driver"])
    assert report["confusion"] == [] and report["confusion_withheld"] == 15
    # Global top 1 (career_progression for everyone) would be 3 / 15; personal's share 2 / 15.
    assert report["global"]["top1"]["value"] is None and report["difference_vs_global"]["top1"]["value"] is None
    assert report["share_personal"] is None and report["chance"] == {"top1": None, "top3": None}
    assert report["n_with_interview"] == 15 and report["top3"]["value"] is not None  # rates over all 15 stay
    assert "fewer than 5" in report["small_groups"]
    assert _small(report) == {}
    json.dumps(report, allow_nan=False)


def test_one_small_reason_is_not_left_recoverable_from_the_total():
    """caseload 20, pay 7, commute 3: withholding commute alone leaves 30 - 20 - 7 = 3; pay goes too."""
    stated = ["caseload_workload"] * 20 + ["pay"] * 7 + ["commute"] * 3
    report = _report(stated, tops=["caseload_workload"] * 30)
    n = {r["driver"]: r["n"] for r in report["by_driver"]}
    assert n["commute"] is None and n["pay"] is None and n["caseload_workload"] == 20
    assert report["n_with_interview"] - 20 == 10
    assert _small(report) == {}


@pytest.mark.parametrize("seed", range(40))
def test_no_count_under_five_is_printed_or_recoverable(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 80))
    weights = rng.dirichlet(np.full(len(REASONS), 0.6))
    stated = list(rng.choice(REASONS, size=n, p=weights))
    report = _report(stated, seed=seed)
    assert _small(report) == {}, (n, pd.Series(stated).value_counts().to_dict())


def test_large_groups_keep_their_numbers():
    """Nothing is withheld when every reason and cell has 5 or more leavers: the rule costs nothing there."""
    reasons = [r for r in REASONS if r not in HIDDEN][:4]
    stated = [r for r in reasons for _ in range(10)] + ["personal"] * 6
    tops = [r for r in reasons for _ in range(10)] + ["pay"] * 6
    report = _report(stated, tops=tops)
    n = {r["driver"]: r["n"] for r in report["by_driver"]}
    assert all(n[r] == 10 for r in reasons) and n["personal"] == 6
    assert {(c["model_top_driver"], c["stated_reason"]): c["n"] for c in report["confusion"]} == {
        **{(r, r): 10 for r in reasons}, ("pay", "personal"): 6}
    assert report["share_personal"] == pytest.approx(6 / 46) and report["confusion_withheld"] is None


def test_withhold_small_prefers_withholding_a_count_to_a_sum_it_cannot_protect():
    from retention_ml.explain.alignment import withhold_small

    counts = np.array([20, 7, 3, 0])
    withheld, published = withhold_small(counts, [([np.ones(4, bool)], False), ([np.array([0, 0, 1, 0], bool)], True)])
    assert withheld.tolist() == [False, True, True, True] and published == [True, False]
