import pandas as pd
import pytest

from retention_ml.labels import LabelConfig, censoring_report, in_population, make_labels
from retention_ml.snapshots import make_snapshots, month_starts

D = pd.Timestamp


def _workers():
    return pd.DataFrame({
        "worker_id": ["R", "E", "V", "X", "M", "S"], "team_id": ["T"] * 6,
        "employment_type": ["permanent", "agency", "fixed_term", "permanent", "permanent", "permanent"],
        "start_date": [D("2020-01-01")] * 6,
        "end_date": [D("2024-03-10"), D("2024-02-15"), D("2024-02-20"), D("2024-02-05"), D("2024-01-20"), pd.NaT],
        "leaving_reason": ["resignation", "end_of_contract", "end_of_contract", "retirement", "internal_move", None],
        "left_voluntarily": pd.array([pd.NA, False, True, pd.NA, pd.NA, pd.NA], dtype="boolean"),
    })


def _labels(h=3, **kw):
    w = _workers()
    s = make_snapshots(w, month_starts("2024-01", "2024-04"))
    lab = make_labels(s, w, config=LabelConfig(horizon_months=h, **kw), data_end=D("2024-06-01"))
    return s.join(lab)


def test_positive_reasons_and_horizon():
    t = _labels(3).set_index(["worker_id", "as_of"])["label"]
    jan = D("2024-01-01")
    assert t[("R", jan)] == 1 and t[("V", jan)] == 1          # resignation; end_of_contract chosen by worker
    assert t[("E", jan)] == 0 and t[("X", jan)] == 0 and t[("M", jan)] == 0 and t[("S", jan)] == 0
    assert t[("R", D("2024-03-01"))] == 1                     # end 03-10 within [03-01, 06-01)


def test_horizon_excludes_far_leaving():
    t = _labels(1).set_index(["worker_id", "as_of"])["label"]
    assert t[("R", D("2024-01-01"))] == 0 and t[("R", D("2024-02-01"))] == 0 and t[("R", D("2024-03-01"))] == 1


def test_censoring_never_zero():
    t = _labels(3)
    # as_of 2024-04-01 + 3 months = 07-01 > data end 06-01 -> censored; 03-01 + 3 = 06-01 is not past the end
    cens = t[t["as_of"] == D("2024-04-01")]
    assert cens["censored"].all() and cens["label"].isna().all()
    assert not t.loc[t["as_of"] <= D("2024-03-01"), "censored"].any()
    t12 = _labels(12)
    assert t12["censored"].all() and t12["label"].isna().all()


def test_censoring_report_counts():
    w = _workers()
    s = make_snapshots(w, month_starts("2024-01", "2024-04"))
    cfg = LabelConfig(horizon_months=3, agency="exclude")
    lab = make_labels(s, w, config=cfg, data_end=D("2024-06-01"))
    pop = in_population(s, w, cfg)
    rep = censoring_report(s, lab, config=cfg, population=pop)
    apr = rep[rep["as_of"] == D("2024-04-01")].set_index("reason")["n"]
    assert apr["horizon_past_data_end"] == 1      # only S is in post on 04-01 (R left 03-10)
    jan = rep[rep["as_of"] == D("2024-01-01")].set_index("reason")["n"]
    assert jan["agency_exclude"] == 1 and jan["labelled"] == 5
    assert rep["n"].sum() == len(s)


def test_agency_modes():
    w = _workers()
    s = make_snapshots(w, month_starts("2024-01", "2024-01"))
    assert in_population(s, w, LabelConfig(agency="flag")).all()
    only = in_population(s, w, LabelConfig(agency="only"))
    assert list(s.loc[only, "worker_id"]) == ["E"]
    assert "E" not in set(s.loc[in_population(s, w, LabelConfig(agency="exclude")), "worker_id"])


def test_config_validation():
    with pytest.raises(ValueError, match="agency"):
        LabelConfig(agency="sometimes")
    with pytest.raises(ValueError, match="horizon"):
        LabelConfig(horizon_months=0)
    assert LabelConfig(positive_reasons=["resignation", "retirement"]).to_dict()["positive_reasons"] == [
        "resignation", "retirement"]


def test_positive_reasons_configurable():
    t = _labels(3, positive_reasons=("resignation", "retirement")).set_index(["worker_id", "as_of"])["label"]
    assert t[("X", D("2024-01-01"))] == 1


def test_window_edges_last_day_in_post_counts_first_day_of_next_window_does_not():
    # The window is [as_of, as_of + h): a resigner whose end_date (last day in post) is 2024-02-01 is in
    # post on the 02-01 snapshot and leaves inside its window, and 02-01 is the first day *after* the
    # 01-01 snapshot's one-month window, so only one of two adjacent windows may count the leave.
    w = pd.DataFrame({
        "worker_id": ["B"], "team_id": ["T"], "employment_type": ["permanent"], "start_date": [D("2020-01-01")],
        "end_date": [D("2024-02-01")], "leaving_reason": ["resignation"],
        "left_voluntarily": pd.array([pd.NA], dtype="boolean"),
    })
    s = make_snapshots(w, month_starts("2024-01", "2024-03"))
    assert list(s["as_of"]) == [D("2024-01-01"), D("2024-02-01")]   # in post on the last day, gone by 03-01
    for h, expected in ((1, [0.0, 1.0]), (2, [1.0, 1.0])):
        lab = make_labels(s, w, config=LabelConfig(horizon_months=h), data_end=D("2024-06-01"))
        assert lab["label"].tolist() == expected, f"horizon {h}"
