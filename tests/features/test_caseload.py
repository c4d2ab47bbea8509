import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import FeatureUnion, Pipeline

from retention_ml.features import CaseloadFeatures, PayFeatures


def test_caseload_values_by_hand(tiny_tables, snaps_jan):
    # W1 open cases are 1..17 for 2023-01..2024-05; at 2024-01-01 the last usable month is 2023-12 (=12)
    X = CaseloadFeatures(tables=tiny_tables).fit(snaps_jan).transform(snaps_jan)
    w1 = X.iloc[0]
    assert w1["caseload_current"] == 12
    assert w1["caseload_mean_3m"] == pytest.approx(11)
    assert w1["caseload_mean_6m"] == pytest.approx(9.5)
    assert w1["caseload_mean_12m"] == pytest.approx(6.5)
    assert w1["caseload_max_12m"] == 12
    assert w1["caseload_trend_6m"] == pytest.approx(1.0)
    assert w1["caseload_cap"] == 10
    assert w1["caseload_over_cap_months_6m"] == 2      # 11 and 12 exceed 10
    assert w1["caseload_over_cap_months_12m"] == 2
    assert w1["caseload_to_cap"] == pytest.approx(12 / 10)
    assert w1["caseload_cp_share"] == pytest.approx(1 / 12)
    assert w1["caseload_court_share"] == 0
    assert w1["caseload_new_allocations_3m"] == 6
    assert w1["caseload_vs_team_mean"] == pytest.approx(12 / ((12 + 8 + 6) / 3), rel=1e-6)
    w2 = X.iloc[1]
    assert w2["caseload_cp_share"] == pytest.approx(0.5) and w2["caseload_court_share"] == pytest.approx(0.25)
    assert w2["caseload_trend_6m"] == pytest.approx(0.0)
    # W3 started 2023-06: only 7 usable months (2023-06..2023-12); the 12-month mean uses what exists
    assert X.iloc[2]["caseload_mean_12m"] == 6 and X.iloc[2]["caseload_new_allocations_3m"] == 3


def test_cap_is_pro_rata_to_fte(tiny_tables, snaps_jan):
    # W2 holds 8 cases every month under a team cap of 10: at 0.8 FTE (pro-rata cap 8) never over it,
    # at 0.7 FTE (pro-rata cap 7) over it in every month
    X = CaseloadFeatures(tables=tiny_tables).fit(snaps_jan).transform(snaps_jan).iloc[1]
    assert X["caseload_over_cap_months_12m"] == 0 and X["caseload_to_cap"] == pytest.approx(8 / 8)
    tables = dict(tiny_tables, workers=tiny_tables["workers"].assign(fte=[1.0, 0.7, 1.0]))
    X = CaseloadFeatures(tables=tables).fit(snaps_jan).transform(snaps_jan).iloc[1]
    assert X["caseload_over_cap_months_6m"] == 6 and X["caseload_over_cap_months_12m"] == 12
    assert X["caseload_to_cap"] == pytest.approx(8 / 7)


def test_caseload_current_month_row_not_used(tiny_tables):
    # mid-month as_of: the current month's row is not complete, so the previous month is the last usable
    s = pd.DataFrame({"worker_id": ["W1"], "as_of": [pd.Timestamp("2024-01-20")]})
    X = CaseloadFeatures(tables=tiny_tables).fit(s).transform(s)
    assert X["caseload_current"].iloc[0] == 12


def test_no_history_is_nan_not_zero(tiny_tables):
    s = pd.DataFrame({"worker_id": ["W1"], "as_of": [pd.Timestamp("2023-01-01")]})
    X = CaseloadFeatures(tables=tiny_tables).fit(s).transform(s)
    assert np.isnan(X["caseload_current"].iloc[0]) and np.isnan(X["caseload_mean_6m"].iloc[0])


def test_sklearn_contract(tiny_tables, snaps_jan):
    est = CaseloadFeatures(tables=tiny_tables)
    assert list(est.get_params()) == ["tables"]
    with pytest.raises(ValueError, match="missing column"):
        est.fit(snaps_jan.drop(columns="as_of"))
    union = FeatureUnion([("c", CaseloadFeatures(tables=tiny_tables)), ("p", PayFeatures(tables=tiny_tables))])
    out = Pipeline([("u", union)]).fit(snaps_jan).transform(snaps_jan)
    assert out.shape == (3, len(CaseloadFeatures.specs) + len(PayFeatures.specs))
    assert all(n.startswith(("c__", "p__")) for n in union.get_feature_names_out())
    X = est.fit(snaps_jan).transform(snaps_jan)
    assert (X.dtypes == "float32").all() and list(X.columns) == list(est.get_feature_names_out())


def test_transform_reads_the_fitted_tables_and_set_output_is_honoured(tiny_tables, snaps_jan):
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        CaseloadFeatures(tables=tiny_tables).get_feature_names_out()
    est = CaseloadFeatures(tables=tiny_tables).fit(snaps_jan)
    before = est.transform(snaps_jan)
    est.set_params(tables={})  # a parameter change takes effect at the next fit, not inside transform
    pd.testing.assert_frame_equal(est.transform(snaps_jan), before)
    with pytest.raises(ValueError, match="tables must be a dict"):
        clone(est).set_params(tables=None).fit(snaps_jan)
    # set_output is scikit-learn's, not a no-op: "default" gives the transformer's own output, "pandas" a frame
    # named by get_feature_names_out, so a Pipeline's set_output reaches the families
    pipe = Pipeline([("c", CaseloadFeatures(tables=tiny_tables))]).set_output(transform="pandas")
    out = pipe.fit(snaps_jan).transform(snaps_jan)
    assert list(out.columns) == list(pipe.get_feature_names_out())
    odd = CaseloadFeatures(tables=tiny_tables).fit(snaps_jan).set_output(transform="no-such-container")
    with pytest.raises(ValueError, match="no-such-container"):
        odd.transform(snaps_jan)
