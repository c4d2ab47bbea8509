"""Exit-interview alignment: hit rates, baselines, small-group suppression, leaver selection."""

import numpy as np
import pandas as pd
import pytest

from retention_ml.explain.alignment import bootstrap_interval, exit_interview_alignment, last_leaver_snapshots
from retention_ml.explain.drivers import profile_drivers, reason_drivers


def _profile(top_per_row, second_per_row=None):
    """Profiles where each row's top driver (and optionally second) is known."""
    cols = profile_drivers()
    m = np.zeros((len(top_per_row), len(cols)))
    for i, d in enumerate(top_per_row):
        m[i, cols.index(d)] = 1.0
        if second_per_row is not None:
            m[i, cols.index(second_per_row[i])] = 0.5
    return pd.DataFrame(m, columns=cols)


@pytest.fixture
def setup():
    # 30 workers, two snapshots each; the later one is the last before leaving.
    n = 30
    workers = [f"W{i:02d}" for i in range(n)]
    keys = pd.DataFrame(
        {"worker_id": workers * 2, "as_of": pd.to_datetime(["2024-01-01"] * n + ["2024-02-01"] * n)}
    )
    y = pd.Series([1.0] * (2 * n))
    # First snapshot says pay for everyone (must be ignored); last says caseload for 20, housing for 10.
    last_top = ["caseload_workload"] * 20 + ["housing_cost"] * 10
    profile = pd.concat([_profile(["pay"] * n), _profile(last_top, ["commute"] * n)], ignore_index=True)
    stated = ["caseload_workload"] * 15 + ["personal"] * 5 + ["housing_cost"] * 6 + ["commute"] * 4
    interviews = pd.DataFrame({"worker_id": workers, "primary_reason": stated})
    return profile, keys, y, interviews


def test_hit_rates_and_baselines(setup):
    profile, keys, y, interviews = setup
    report = exit_interview_alignment(profile, keys, y, interviews, n_boot=200)
    assert report["n_leavers"] == 30 and report["n_with_interview"] == 30
    assert report["top1"]["value"] == pytest.approx((15 + 6) / 30)
    assert report["top3"]["value"] == pytest.approx((15 + 6 + 4) / 30)  # commute is every leaver's second driver
    assert report["top1"]["low"] <= report["top1"]["value"] <= report["top1"]["high"]
    # Global importance: pay (30 rows x 1) and caseload (20) lead; commute 30 x 0.5 = 15; housing 10.
    assert report["global_ranking"][:4] == ["pay", "caseload_workload", "commute", "housing_cost"]
    assert report["global"]["top1"]["value"] == pytest.approx(0.0)  # nobody named pay
    assert report["global"]["top3"]["value"] == pytest.approx((15 + 4) / 30)
    assert report["difference_vs_global"]["top3"]["value"] == pytest.approx(6 / 30)
    k = len(reason_drivers())
    assert report["chance"]["top1"] == pytest.approx((25 / 30) / k)
    assert report["chance"]["top3"] == pytest.approx((25 / 30) * 3 / k)
    assert report["share_personal"] == pytest.approx(5 / 30)


def test_small_groups_are_null(setup):
    profile, keys, y, interviews = setup
    report = exit_interview_alignment(profile, keys, y, interviews, n_boot=50)
    rows = {r["driver"]: r for r in report["by_driver"]}
    assert {k: rows["housing_cost"][k] for k in ("driver", "n", "top1", "top3")} == {"driver": "housing_cost", "n": 6, "top1": 1.0, "top3": 1.0}
    assert rows["housing_cost"]["top3_interval"]["low"] == 1.0
    assert rows["commute"]["top1_interval"]["value"] is None
    assert rows["commute"]["n"] is None and rows["commute"]["top1"] is None and rows["commute"]["top3"] is None
    # The global baseline's first three drivers (pay 0, caseload 15, commute 4) are a published sum (global top 3
    # = 19 / 30), so caseload is withheld too: else 19 - 15 gives commute's 4.
    assert rows["caseload_workload"]["n"] is None and rows["caseload_workload"]["top1"] is None
    assert rows["personal"]["n"] == 5 and rows["personal"]["top3"] == 0.0
    cells = {(c["model_top_driver"], c["stated_reason"]): c["n"] for c in report["confusion"]}
    assert cells == {("caseload_workload", "personal"): 5, ("housing_cost", "housing_cost"): 6}  # 4 people: left out
    assert report["confusion_withheld"] == 15 + 4


def test_only_interviewed_voluntary_leavers_last_snapshot():
    keys = pd.DataFrame(
        {
            "worker_id": ["A", "A", "B", "C", "C"],
            "as_of": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-01-01", "2024-01-01", "2024-02-01"]),
        }
    )
    y = pd.Series([1.0, 1.0, 0.0, 1.0, np.nan])
    interviews = pd.DataFrame({"worker_id": ["A", "B", "C"], "primary_reason": ["pay", "pay", "commute"]})
    chosen = last_leaver_snapshots(keys, y, interviews)
    assert chosen[["worker_id", "row"]].values.tolist() == [["A", 1], ["C", 3]]


def test_bootstrap_interval_is_reproducible_and_suppressed_below_five():
    hits = np.array([1, 0, 1, 1, 0, 1, 0, 1], dtype=float)
    assert bootstrap_interval(hits, n_boot=300) == bootstrap_interval(hits, n_boot=300)
    assert bootstrap_interval(hits[:4])["value"] is None
    paired = bootstrap_interval(hits, paired=np.zeros_like(hits), n_boot=300)
    assert paired["value"] == pytest.approx(hits.mean())


def test_no_resamples_gives_the_rate_without_an_interval():
    # `truth-check --n-boot 0` (the option allows 0) stopped on numpy's "need at least one array to concatenate"
    hits = np.array([1, 0, 1, 1, 0, 1, 0, 1], dtype=float)
    assert bootstrap_interval(hits, n_boot=0) == {"value": 0.625, "low": None, "high": None}


def test_record_has_the_contract_fields_and_is_json(setup):
    import json

    profile, keys, y, interviews = setup
    report = exit_interview_alignment(profile, keys, y, interviews, n_boot=20)
    contract = {"n_leavers", "n_with_interview", "top1", "top3", "chance", "global", "difference_vs_global", "by_driver", "confusion", "share_personal"}
    assert contract <= set(report)
    for block in (report["top1"], report["global"]["top3"], report["difference_vs_global"]["top1"]):
        assert set(block) == {"value", "low", "high"}
    json.dumps(report, allow_nan=False)
