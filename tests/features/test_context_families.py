import numpy as np
import pandas as pd
import pytest

from retention_ml.features import (AbsenceFeatures, CommuteFeatures, HousingFeatures, SupervisionFeatures,
                                   TeamFeatures, build_features)

M = 30.4375
D = pd.Timestamp


def _run(cls, tables, snaps):
    return cls(tables=tables).fit(snaps).transform(snaps)


def test_team_by_hand(tiny_tables, snaps_jan):
    X = _run(TeamFeatures, tiny_tables, snaps_jan).iloc[0]
    assert X["team_size"] == 3 and X["team_agency_share"] == pytest.approx(1.0 / 2.8)   # agency FTE / all FTE
    assert X["team_vacancy_rate"] == pytest.approx(1 - 1.8 / 3, rel=1e-5)   # own staff W1, W2; W3 is agency
    assert X["team_leavers_rate_12m"] == 0 and X["team_colleagues_left_3m"] == 0
    mar = pd.DataFrame({"worker_id": ["W1"], "as_of": [D("2024-03-01")]})
    Y = _run(TeamFeatures, tiny_tables, mar).iloc[0]
    # W3 (agency) left 2024-02-29 -> one colleague gone, but no turnover: the DfE counts own staff leaving
    assert Y["team_size"] == 2 and Y["team_colleagues_left_3m"] == 1
    assert Y["team_leavers_rate_12m"] == 0


def test_absence_supervision_by_hand(tiny_tables, snaps_jan):
    A = _run(AbsenceFeatures, tiny_tables, snaps_jan)
    assert A["absence_days_6m"].iloc[0] == 21 and np.isnan(A["absence_days_6m"].iloc[1])
    S = _run(SupervisionFeatures, tiny_tables, snaps_jan).iloc[0]
    assert S["supervision_sessions_3m"] == 2                   # the 2024-01-01 session is on as_of: not yet
    assert S["months_since_supervision"] == pytest.approx(42 / M, rel=1e-6)


def test_commute_by_hand(tiny_tables, snaps_jan):
    C = _run(CommuteFeatures, tiny_tables, snaps_jan).iloc[0]
    assert C["commute_minutes"] == 50 and C["commute_km"] == 25
    assert C["commute_mode_public_transport"] == 1 and C["commute_mode_car"] == 0
    assert C["commute_change_minutes_12m"] == 20


def test_housing_by_hand(tiny_tables, snaps_jan):
    H = _run(HousingFeatures, tiny_tables, snaps_jan).iloc[0]
    # last usable period 2023-12: rent 1120, price 200000 (January's 999999 is not yet known)
    assert H["housing_rent_to_pay"] == pytest.approx(1120 / (36500 * 0.75 / 12), rel=1e-5)
    assert H["housing_price_to_salary"] == pytest.approx(200000 / 36500, rel=1e-5)
    assert H["housing_cost_growth_12m"] == pytest.approx(0.12, rel=1e-5)


@pytest.mark.parametrize("table,family", [("absence", "absence"), ("supervision", "supervision"),
                                          ("commute", "commute"), ("agency_rates", "pay")])
def test_missing_optional_table_gives_nan(tiny_tables, table, family):
    t = {k: v for k, v in tiny_tables.items() if k != table}
    X = build_features(t, ["2024-01-01"], families=[family]).X
    full = build_features(tiny_tables, ["2024-01-01"], families=[family]).X
    gone = [c for c in X.columns if X[c].isna().all() and full[c].notna().any()]
    assert gone, f"removing {table} should blank some {family} features"
    assert list(X.columns) == list(full.columns)


def test_smoke_on_simulated(sim_tables):
    ds = build_features(sim_tables, pd.date_range("2021-01-01", periods=3, freq="MS"))
    assert len(ds.X) > 100 and ds.X.shape[1] == len(ds.catalogue)
    coverage = ds.X.notna().mean()
    assert (coverage > 0.5).sum() >= 0.8 * ds.X.shape[1], coverage[coverage <= 0.5]


def test_team_manager_change(tiny_tables, snaps_jan):
    t = dict(tiny_tables)
    mgr = t["workers"].iloc[[0]].assign(worker_id="M1", role="team_manager", start_date=D("2023-06-01"),
                                        asye=pd.array([False], dtype="boolean"))
    t["workers"] = pd.concat([t["workers"], mgr], ignore_index=True)
    snaps = pd.DataFrame({"worker_id": ["W1", "W1", "W1"],
                          "as_of": [D("2023-06-01"), D("2024-01-01"), D("2024-06-02")]})
    X = _run(TeamFeatures, t, snaps)
    # the start on 2023-06-01 is not known on 2023-06-01; known for the next 12 months
    assert X["team_manager_change_12m"].tolist() == [0, 1, 0]


def test_a_date_after_the_data_ends_is_refused_naming_the_last_month(tiny_tables):
    last = pd.to_datetime(tiny_tables["caseload_history"]["month"]).max()
    end = (last.to_period("M") + 1).to_timestamp()
    assert len(build_features(tiny_tables, [end]).X) > 0      # the latest month can be scored
    later = (end.to_period("M") + 1).to_timestamp()
    assert len(build_features(tiny_tables, [end + pd.Timedelta(days=14)]).X) > 0   # mid-month: the same complete months
    with pytest.raises(ValueError, match=f"last caseload_history month is {last.strftime('%Y-%m')}.*in {end.strftime('%Y-%m')}"):
        build_features(tiny_tables, [later])


def test_a_date_before_the_first_recorded_month_is_refused(tiny_tables):
    first = pd.to_datetime(tiny_tables["caseload_history"]["month"]).min()
    with pytest.raises(ValueError, match=f"first caseload_history month is {first.strftime('%Y-%m')}"):
        build_features(tiny_tables, [first])
    with pytest.raises(ValueError, match="first caseload_history month"):   # mid-month: that month is not complete yet
        build_features(tiny_tables, [first + pd.Timedelta(days=14)])
    build_features(tiny_tables, [(first.to_period("M") + 1).to_timestamp()])   # the first complete month: no error
