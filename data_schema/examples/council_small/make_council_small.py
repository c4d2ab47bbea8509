"""Regenerate the council_small example CSVs (deterministic; no randomness).

The CSVs in this folder are the example data set; this script only records how
they were made so a change to them is reviewable. Run from the repository root:

    .venv/bin/python data_schema/examples/council_small/make_council_small.py
"""

from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
MONTHS = pd.date_range("2024-01-01", "2025-06-01", freq="MS")  # 18 months of case data
AREAS = {"northgate": (895.0, 212000.0), "southbank": (1180.0, 298000.0), "eastfield": (760.0, 181000.0)}

teams = pd.DataFrame(
    [
        ("T01", "examplebury", "northgate", "W001", "referral_assessment", 22, 5.0, 0.12),
        ("T02", "examplebury", "southbank", "W002", "safeguarding", 18, 4.0, 0.10),
        ("T03", "examplebury", "southbank", "W003", "children_in_care", 18, 4.0, 0.10),
    ],
    columns=["team_id", "council_id", "area", "manager_id", "service", "caseload_cap", "establishment_fte", "target_turnover"],
)

# worker_id, team, role, type, fte, start, end, reason, voluntarily, qualified, asye, home, office, sex, age, eth, dis
W = [
    ("W001", "T01", "team_manager", "permanent", 1.0, "2016-03-01", None, None, None, "2009-07-01", False, "northgate", "northgate", "female", "40_49", "white", "no"),
    ("W002", "T02", "team_manager", "permanent", 1.0, "2018-09-03", None, None, None, "2011-06-30", False, "eastfield", "southbank", "male", "50_59", "black", "no"),
    ("W003", "T03", "team_manager", "permanent", 1.0, "2020-01-06", None, None, None, "2012-07-15", False, "southbank", "southbank", "female", "30_39", "asian", "not_known"),
    ("W004", "T01", "social_worker", "permanent", 1.0, "2022-09-05", "2024-09-30", "resignation", None, "2022-07-01", True, "southbank", "northgate", "female", "25_29", "white", "no"),
    ("W005", "T01", "senior_practitioner", "permanent", 0.8, "2019-04-01", None, None, None, "2014-06-30", False, "northgate", "northgate", "male", "30_39", "mixed", "yes"),
    ("W006", "T01", "social_worker", "agency", 1.0, "2023-11-06", "2024-12-31", "end_of_contract", True, "2017-07-01", False, "eastfield", "northgate", "female", "40_49", "white", "no"),
    ("W007", "T02", "advanced_practitioner", "permanent", 1.0, "2005-02-14", "2025-03-31", "retirement", None, "1998-06-30", False, "southbank", "southbank", "female", "60_plus", "white", "no"),
    ("W008", "T02", "social_worker", "permanent", 1.0, "2021-10-04", None, None, None, "2021-07-01", True, "eastfield", "southbank", "female", "25_29", "black", "no"),
    ("W009", "T02", "social_worker", "fixed_term", 1.0, "2023-06-05", "2025-01-31", "resignation", None, "2020-07-01", False, "eastfield", "southbank", "male", "30_39", "white", "not_known"),
    ("W010", "T03", "social_worker", "permanent", 1.0, "2021-02-01", "2024-06-30", "internal_move", None, "2019-07-01", False, "northgate", "southbank", "female", "30_39", "white", "no"),
    ("W011", "T01", "senior_practitioner", "permanent", 1.0, "2024-07-01", None, None, None, "2019-07-01", False, "northgate", "northgate", "female", "30_39", "white", "no"),
    ("W012", "T01", "social_worker", "permanent", 1.0, "2024-10-07", None, None, None, "2024-07-15", True, "northgate", "northgate", "male", "under_25", "asian", "no"),
    ("W013", "T03", "personal_adviser", "permanent", 0.6, "2022-01-10", None, None, None, None, False, "southbank", "southbank", "female", "50_59", "other", "yes"),
    ("W014", "T03", "social_worker", "permanent", 1.0, "2025-02-03", None, None, None, "2018-07-01", False, "eastfield", "southbank", "not_known", "40_49", "not_known", "not_known"),
]
cols = ["worker_id", "team_id", "role", "employment_type", "fte", "start_date", "end_date", "leaving_reason", "left_voluntarily",
        "qualified_date", "asye", "home_area", "office_area", "sex", "age_band", "ethnicity_group", "disability"]
workers = pd.DataFrame(W, columns=cols)
for c in ("start_date", "end_date", "qualified_date"):
    workers[c] = pd.to_datetime(workers[c])
workers["left_voluntarily"] = workers["left_voluntarily"].astype("boolean")

# One caseload row per worker and month in post for any part of the month.
spells = workers.merge(pd.DataFrame({"month": MONTHS}), how="cross")
month_end = spells["month"] + pd.offsets.MonthEnd(0)
spells = spells[(spells["start_date"] <= month_end) & (spells["end_date"].isna() | (spells["end_date"] >= spells["month"]))]
spells = spells.sort_values(["worker_id", "month"]).reset_index(drop=True)
k = spells.groupby("worker_id").cumcount()
num = spells["worker_id"].str[1:].astype(int)
base = spells["role"].map({"team_manager": 0, "social_worker": 17, "senior_practitioner": 15, "advanced_practitioner": 12, "personal_adviser": 14})
base = base + spells["team_id"].map({"T01": 4, "T02": 1, "T03": 0})
open_cases = (base + ((k + num) % 5) - 2).clip(lower=0)
open_cases = open_cases.where(spells["worker_id"] != "W004", open_cases + k.clip(upper=8))  # rising caseload before resigning
caseload = pd.DataFrame({
    "worker_id": spells["worker_id"],
    "month": spells["month"],
    "open_cases": open_cases,
    "child_protection_cases": (open_cases * spells["team_id"].map({"T01": 0.3, "T02": 0.5, "T03": 0.1})).round().astype(int),
    "children_in_care_cases": (open_cases * spells["team_id"].map({"T01": 0.1, "T02": 0.2, "T03": 0.8})).round().astype(int),
    "court_cases": (open_cases * 0.1).round().astype(int),
    "new_allocations": ((k + num) % 4).where(open_cases > 0, 0),
})

salary = {"social_worker": 36000, "senior_practitioner": 43000, "advanced_practitioner": 48000, "team_manager": 55000, "personal_adviser": 30000}
band = {"social_worker": "SW1", "senior_practitioner": "SP", "advanced_practitioner": "AP", "team_manager": "TM", "personal_adviser": "PA"}
pay_rows = []
for w in workers.itertuples():
    if w.employment_type == "agency":
        pay_rows.append((w.worker_id, w.start_date, "AGENCY", None, 320.0 * 220, 0.0, 0.0))
        continue
    pay_rows.append((w.worker_id, w.start_date, band[w.role], 20 + len(w.worker_id) + int(w.worker_id[1:]) % 5, float(salary[w.role]), 0.0, 0.0))
    for award, rise, retention in (("2024-04-01", 1.0, 0.0), ("2025-04-01", 1.032, 1500.0)):
        award = pd.Timestamp(award)
        if w.start_date < award and (pd.isna(w.end_date) or w.end_date >= award):
            supp = 2000.0 if w.team_id == "T02" else 0.0
            sal = salary[w.role] * (1.05 if award.year == 2024 else 1.05 * rise)
            pay_rows.append((w.worker_id, award, band[w.role], 21 + len(w.worker_id) + int(w.worker_id[1:]) % 5 + award.year - 2024, round(sal, 0), supp, retention))
pay = pd.DataFrame(pay_rows, columns=["worker_id", "effective_date", "pay_band", "spinal_point", "annual_salary", "market_supplement", "retention_payment"])
pay["spinal_point"] = pay["spinal_point"].astype("Int64")

minutes = {("northgate", "northgate"): 20, ("southbank", "southbank"): 25, ("eastfield", "southbank"): 45, ("southbank", "northgate"): 55, ("eastfield", "northgate"): 60, ("northgate", "southbank"): 40}
commute = pd.DataFrame({
    "worker_id": workers["worker_id"],
    "effective_date": workers["start_date"],
    "commute_minutes": [float(minutes[(h, o)]) for h, o in zip(workers["home_area"], workers["office_area"])],
    "distance_km": [float(minutes[(h, o)]) * 0.6 for h, o in zip(workers["home_area"], workers["office_area"])],
    "mode": ["car" if m >= 40 else "public_transport" for m in (minutes[(h, o)] for h, o in zip(workers["home_area"], workers["office_area"]))],
})
# W004 moved further out in spring 2024 (cheaper rent, longer journey).
commute = pd.concat([commute, pd.DataFrame([("W004", pd.Timestamp("2024-04-15"), 70.0, 48.0, "mixed")], columns=commute.columns)], ignore_index=True)

housing = pd.DataFrame([
    (area, m, round(rent * (1 + 0.006 * i), 0), round(price * (1 + 0.004 * i), -2))
    for area, (rent, price) in AREAS.items() for i, m in enumerate(MONTHS)
], columns=["area", "period", "median_monthly_rent", "median_house_price"])
agency = pd.DataFrame({"council_id": "examplebury", "period": MONTHS, "day_rate": [320.0 if m.year == 2024 else 335.0 for m in MONTHS]})

absence = caseload[["worker_id", "month"]].copy()
absence["sickness_days"] = ((caseload["open_cases"] + absence["month"].dt.month) % 7 == 0).astype(float) * 2.0
absence.loc[(absence["worker_id"] == "W004") & (absence["month"] >= "2024-06-01"), "sickness_days"] = 3.5
absence = absence[absence["sickness_days"] > 0].reset_index(drop=True)  # HR exports months with sickness only

sup = caseload[["worker_id", "month"]].copy()
sup["date"] = sup["month"] + pd.Timedelta(days=9)
sup = sup[sup["date"] > workers.set_index("worker_id").loc[sup["worker_id"], "start_date"].to_numpy()]
sup = sup[sup["date"] <= workers.set_index("worker_id").loc[sup["worker_id"], "end_date"].fillna(pd.Timestamp("2099-01-01")).to_numpy()]
# No supervision for W004 from June 2024 (manager stretched) and skipped months in T02.
sup = sup[~((sup["worker_id"] == "W004") & (sup["month"] >= "2024-06-01"))]
sup = sup[~((sup["worker_id"].isin(["W008", "W009"])) & (sup["month"].dt.month % 3 == 0))]
supervision = pd.DataFrame({"worker_id": sup["worker_id"], "date": sup["date"], "duration_minutes": 90}).reset_index(drop=True)

exits = pd.DataFrame([
    ("W004", "2024-09-20", "caseload_workload", "work_life_balance;commute", "Caseload kept rising and the journey got too long."),
    ("W006", "2024-12-18", "pay", None, None),
    ("W007", "2025-03-25", "retirement", None, "Retiring after twenty years."),
    ("W009", "2025-01-24", "supervision_management", "career_progression; team_instability", None),
], columns=["worker_id", "interview_date", "primary_reason", "other_reasons", "comment"])
exits["interview_date"] = pd.to_datetime(exits["interview_date"])

# The council's pay ladder, lowest first; AGENCY is outside it (no rank).
bands = pd.DataFrame({"pay_band": ["PA", "SW1", "SW2", "SW3", "SP", "AP", "TM", "AGENCY"],
                      "rank": pd.array([1, 2, 3, 4, 5, 6, 7, None], dtype="Int64")})

# Team values in force from the start of the data (teams holds today's), and T02's establishment cut from
# 5.0 to 4.0 FTE when W007's post was not refilled after the retirement.
team_history = pd.DataFrame(
    [
        ("T01", "2024-01-01", 22, 5.0, "W001"),
        ("T02", "2024-01-01", 18, 5.0, "W002"),
        ("T03", "2024-01-01", 18, 4.0, "W003"),
        ("T02", "2025-04-01", None, 4.0, None),
    ],
    columns=["team_id", "effective_date", "caseload_cap", "establishment_fte", "manager_id"],
).astype({"caseload_cap": "Int64"})
team_history["effective_date"] = pd.to_datetime(team_history["effective_date"])

# Contract hours in force from each spell's start for the part-timers (workers holds today's): W005 worked full
# time until going to four days a week (0.8) from June 2024; W013 has worked 0.6 throughout.
fte_history = pd.DataFrame([("W005", "2019-04-01", 1.0), ("W005", "2024-06-01", 0.8), ("W013", "2022-01-10", 0.6)],
                           columns=["worker_id", "effective_date", "fte"])
fte_history["effective_date"] = pd.to_datetime(fte_history["effective_date"])

for name, frame in {"teams": teams, "workers": workers, "caseload_history": caseload, "pay_history": pay, "pay_bands": bands,
                    "commute": commute, "housing_costs": housing, "agency_rates": agency, "absence": absence,
                    "supervision": supervision, "exit_interviews": exits, "team_history": team_history,
                    "fte_history": fte_history}.items():
    frame.to_csv(HERE / f"{name}.csv", index=False, date_format="%Y-%m-%d", lineterminator="\n")
