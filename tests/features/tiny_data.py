"""Tiny hand-made tables where feature values can be computed by hand (see each test for the arithmetic)."""

from __future__ import annotations

import pandas as pd

D = pd.Timestamp


def _months(start, n):
    return list(pd.date_range(start, periods=n, freq="MS"))


def make_tiny_tables():
    teams = pd.DataFrame({"team_id": ["T1"], "council_id": ["C1"], "area": ["north"], "manager_id": ["M1"],
                          "service": ["safeguarding"], "caseload_cap": pd.array([10], dtype="Int64"),
                          "establishment_fte": [3.0], "target_turnover": [0.1]})
    workers = pd.DataFrame({
        "worker_id": ["W1", "W2", "W3"], "team_id": ["T1", "T1", "T1"],
        "role": ["social_worker", "senior_practitioner", "social_worker"],
        "employment_type": ["permanent", "permanent", "agency"], "fte": [1.0, 0.8, 1.0],
        "start_date": [D("2023-01-15"), D("2020-03-01"), D("2023-06-01")],
        "end_date": [pd.NaT, D("2024-03-10"), D("2024-02-29")],
        "leaving_reason": [None, "resignation", "end_of_contract"],
        "left_voluntarily": pd.array([pd.NA, pd.NA, False], dtype="boolean"),
        "qualified_date": [D("2022-06-01"), D("2015-01-01"), pd.NaT],
        "asye": pd.array([True, False, False], dtype="boolean"),
        "home_area": ["north"] * 3, "office_area": ["north"] * 3,
        "sex": ["female", "male", "female"], "age_band": ["25_29", "40_49", "30_39"],
        "ethnicity_group": ["white", "black", "asian"], "disability": ["no", "no", "yes"],
    }).astype({"worker_id": object, "team_id": object, "role": object, "employment_type": object,
               "leaving_reason": object})
    m1 = _months("2023-01-01", 17)   # 2023-01 .. 2024-05, open cases 1..17
    m2 = _months("2023-01-01", 14)   # 2023-01 .. 2024-02, open cases 8
    m3 = _months("2023-06-01", 8)    # 2023-06 .. 2024-01, open cases 6
    ch = pd.DataFrame({
        "worker_id": ["W1"] * 17 + ["W2"] * 14 + ["W3"] * 8,
        "month": m1 + m2 + m3,
        "open_cases": list(range(1, 18)) + [8] * 14 + [6] * 8,
        "child_protection_cases": [1] * 17 + [4] * 14 + [0] * 8,
        "children_in_care_cases": [0] * 39,
        "court_cases": [0] * 17 + [2] * 14 + [0] * 8,
        "new_allocations": [2] * 17 + [1] * 14 + [1] * 8,
    }).astype({"worker_id": object})
    for c in ("open_cases", "child_protection_cases", "children_in_care_cases", "court_cases", "new_allocations"):
        ch[c] = ch[c].astype("int64")
    pay = pd.DataFrame({
        "worker_id": ["W1", "W1", "W1", "W2", "W3"],
        "effective_date": [D("2023-01-15"), D("2023-09-01"), D("2024-01-01"), D("2020-03-01"), D("2023-06-01")],
        "pay_band": ["SW1", "SW2", "SW2", "SP", "AGENCY"],
        "spinal_point": pd.array([20, 22, 23, 28, pd.NA], dtype="Int64"),
        "annual_salary": [30000.0, 33000.0, 34000.0, 42000.0, 66000.0],
        "market_supplement": [0.0, 2000.0, 2000.0, 0.0, 0.0],
        "retention_payment": [0.0, 1500.0, 1500.0, 0.0, 0.0],
    }).astype({"worker_id": object, "pay_band": object})
    rates = pd.DataFrame({"council_id": ["C1"] * 3, "period": _months("2023-11-01", 3),
                          "day_rate": [300.0, 320.0, 999.0]}).astype({"council_id": object})
    absence = pd.DataFrame({"worker_id": ["W1"] * 6, "month": _months("2023-07-01", 6),
                            "sickness_days": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}).astype({"worker_id": object})
    supervision = pd.DataFrame({"worker_id": ["W1"] * 3,
                                "date": [D("2023-10-05"), D("2023-11-20"), D("2024-01-01")],
                                "duration_minutes": [60, 60, 60]}).astype({"worker_id": object})
    commute = pd.DataFrame({"worker_id": ["W1", "W1"], "effective_date": [D("2022-12-01"), D("2023-08-01")],
                            "commute_minutes": [30.0, 50.0], "distance_km": [10.0, 25.0],
                            "mode": ["car", "public_transport"]}).astype({"worker_id": object, "mode": object})
    housing = pd.DataFrame({"area": ["north"] * 14, "period": _months("2022-12-01", 14),
                            "median_monthly_rent": [1000.0 + 10 * i for i in range(14)],
                            "median_house_price": [200000.0] * 13 + [999999.0]}).astype({"area": object})
    return {"absence": absence, "supervision": supervision, "commute": commute, "housing_costs": housing,
            "teams": teams, "workers": workers, "caseload_history": ch, "pay_history": pay, "agency_rates": rates}


def make_snaps_jan():
    """All three workers at 2024-01-01."""
    return pd.DataFrame({"worker_id": ["W1", "W2", "W3"], "as_of": [D("2024-01-01")] * 3})


def add_worker(tables, **row):
    """A copy of ``tables`` with one more worker: the first worker's row with ``row``'s columns changed."""
    w = tables["workers"]
    new = w.iloc[[0]].copy()
    for k, v in row.items():
        new[k] = v
    return dict(tables, workers=pd.concat([w, new], ignore_index=True).astype(w.dtypes.to_dict()))
