import numpy as np
import pandas as pd
import pytest

from retention_ml.features import PayFeatures, TenureFeatures

M = 30.4375


def test_tenure_by_hand(tiny_tables, snaps_jan):
    X = TenureFeatures(tables=tiny_tables).fit(snaps_jan).transform(snaps_jan)
    w1 = X.iloc[0]
    assert w1["tenure_months"] == pytest.approx(351 / M, rel=1e-6)            # 2023-01-15 -> 2024-01-01
    assert w1["months_since_qualified"] == pytest.approx(579 / M, rel=1e-6)   # 2022-06-01 -> 2024-01-01
    assert w1["asye"] == 1 and w1["nqsw_first_2y"] == 1
    assert w1["months_since_progression"] == pytest.approx(122 / M, rel=1e-6)  # SW1 -> SW2 on 2023-09-01
    assert w1["employment_permanent"] == 1
    # FTE reaches the model only through the per-FTE ratios (caseload_to_cap, housing_rent_to_pay)
    assert "fte" not in X.columns
    # grade is pay_band_rank's job; role indicators would take pay's credit under career_progression
    assert not any(c.startswith("role") for c in X.columns)
    assert np.isnan(X.iloc[2]["months_since_qualified"])                     # unqualified
    assert X.iloc[2]["employment_agency"] == 1


def test_pay_by_hand(tiny_tables, snaps_jan):
    X = PayFeatures(tables=tiny_tables).fit(snaps_jan).transform(snaps_jan)
    w1 = X.iloc[0]
    # the 2024-01-01 rise is effective ON as_of, so not yet known
    assert w1["pay_band_rank"] == 3 and w1["pay_spinal_point"] == 22 and w1["pay_salary_fte"] == 33000
    assert w1["pay_supplement"] == 2000 and w1["pay_retention_payment"] == 1500
    assert w1["months_since_pay_rise"] == pytest.approx(122 / M, rel=1e-6)
    # agency rate of the last complete month (2023-12: 320/day), not January's 999
    assert w1["pay_agency_gap"] == pytest.approx(320 * 220 / 36500 - 1, rel=1e-6)
    assert np.isnan(X.iloc[2]["pay_band_rank"])   # AGENCY band has no rank


def test_pay_missing_agency_rates_is_nan(tiny_tables, snaps_jan):
    t = {k: v for k, v in tiny_tables.items() if k != "agency_rates"}
    X = PayFeatures(tables=t).fit(snaps_jan).transform(snaps_jan)
    assert X["pay_agency_gap"].isna().all() and X["pay_salary_fte"].notna().all()


def test_pay_band_order_validated(tiny_tables, snaps_jan):
    with pytest.raises(ValueError, match="band_order"):
        PayFeatures(tables=tiny_tables, band_order=("A", "A")).fit(snaps_jan)


def test_pay_band_rank_reads_the_councils_own_bands(tiny_tables, snaps_jan):
    # A council's grades (PO1..PO7) rank by its pay_bands table; without one they would all be NaN.
    t = dict(tiny_tables)
    t["pay_history"] = t["pay_history"].assign(pay_band=t["pay_history"]["pay_band"].replace({"SW1": "PO2", "SW2": "PO4"}))
    assert PayFeatures(tables=t).fit(snaps_jan).transform(snaps_jan)["pay_band_rank"].iloc[0] != 4
    t["pay_bands"] = pd.DataFrame({"pay_band": ["PO2", "PO4", "AGENCY"], "rank": pd.array([2, 4, None], dtype="Int64")})
    X = PayFeatures(tables=t).fit(snaps_jan).transform(snaps_jan)
    assert X.iloc[0]["pay_band_rank"] == 4 and np.isnan(X.iloc[2]["pay_band_rank"])
    # an explicit band_order overrides the data's ranks
    X = PayFeatures(tables=t, band_order=("PO4", "PO2")).fit(snaps_jan).transform(snaps_jan)
    assert X.iloc[0]["pay_band_rank"] == 1
