"""Turn a finished :class:`~retention_ml.simulate.workforce.Simulation` into the input tables and the truth.

Column order comes from ``load_schemas()``; large tables are Parquet, small
ones CSV. The truth goes to ``_truth/``. The whole set is written into a
temporary folder beside the output folder and moved in only when complete; a
folder holding other data is refused unless forced.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from retention_ml.flat import AGE_BAND_EDGES, banded
from retention_ml.io import atomic_path, write_table
from retention_ml.schema import load_schemas
from retention_ml.simulate.councils import SERVICES
from retention_ml.simulate.exits import COMMENTS, dominant_drivers, driver_means, stated_reasons, true_drivers
from retention_ml.simulate.hazard import HAZARD_DRIVERS
from retention_ml.simulate.pay import PAY_BANDS, ROLES
from retention_ml.simulate.workforce import EMP_AGENCY, REASONS, R_RES, R_RET, Simulation

__all__ = ["build_tables", "build_truth", "check_vocabularies", "vocabularies", "write_all", "check_output_folder", "is_simulator_output", "OutputFolderError"]

SEX = np.array(["female", "male", "not_known"], dtype=object)
ETH = np.array(["white", "mixed", "asian", "black", "other", "not_known"], dtype=object)
DIS = np.array(["yes", "no", "not_known"], dtype=object)
EMP = np.array(["permanent", "agency", "fixed_term"], dtype=object)
MODES = np.array(["car", "public_transport", "walk_cycle", "mixed"], dtype=object)
AREA_NAMES = np.array(["North", "South", "East", "West", "Central"], dtype=object)
BIG = ("caseload_history", "absence", "pay_history", "supervision", "commute", "workers")


def vocabularies() -> dict[tuple[str, str], tuple]:
    """(table, column) -> the labels the simulator writes there, in the order of its own integer codes.

    The simulator's codes are positions in these tuples, and its rules use them (workforce.py's EMP_AGENCY,
    R_RES; role 3 is the team manager), so they are not read from the schema by position: a reordered schema
    would relabel every worker. :func:`check_vocabularies` holds them to the schema by name instead.
    """
    return {("workers", "sex"): tuple(SEX), ("workers", "ethnicity_group"): tuple(ETH),
            ("workers", "disability"): tuple(DIS), ("workers", "employment_type"): tuple(EMP),
            ("workers", "role"): ROLES, ("workers", "leaving_reason"): REASONS, ("teams", "service"): SERVICES,
            ("commute", "mode"): tuple(MODES)}


def check_vocabularies(schemas=None) -> None:
    """Refuse to simulate values the schema does not allow, naming the schema file, column and values."""
    schemas = schemas or load_schemas()
    problems = []
    for (table, column), labels in vocabularies().items():
        allowed = schemas[table].column(column).allowed_values()
        unknown = [v for v in labels if v not in allowed]
        if unknown:
            problems.append(f"{schemas[table].path}: column {column} allows {list(allowed)}, but the simulator "
                            f"writes {unknown} (rule: allowed values)")
    if problems:
        raise ValueError("the simulator's vocabularies differ from the schema; rename them in "
                         "retention_ml/simulate to match:\n- " + "\n- ".join(problems))


def _age_band(age) -> np.ndarray:
    # the schema's age bands, cut as a flat extract's age column is (one definition: schema.age_band_edges)
    return banded(pd.Series(age), AGE_BAND_EDGES).to_numpy(dtype=object)


def _ids(sim: Simulation, rng: np.random.Generator):
    w = sim.world
    council_ids = np.array([f"C{i + 1:03d}" for i in range(w.n_councils)], dtype=object)
    within = np.arange(len(w.area_council)) - np.searchsorted(w.area_council, w.area_council)
    area_ids = council_ids[w.area_council] + "-" + AREA_NAMES[within]
    team_ids = np.array([f"T{i + 1:05d}" for i in range(len(w.team_council))], dtype=object)
    # pseudonymous worker ids: a random permutation, so ids carry no order of hiring
    perm = rng.permutation(sim.n_workers)
    worker_ids = np.array([f"W{i:07d}" for i in perm + 1], dtype=object)
    return council_ids, area_ids, team_ids, worker_ids


def _date(d):
    return pd.to_datetime(d).astype("datetime64[ns]")


def _teams(sim: Simulation, council_ids, area_ids, team_ids, wid) -> pd.DataFrame:
    """One row per team: its council, office area at the end of the run, manager (the worker in the team
    manager's post at the end, if any), service, caseload cap and establishment (funded FTE, agency-only
    posts excluded)."""
    w, R = sim.world, sim.records
    mgr_slots = np.flatnonzero(R["slot_mgr"])
    mgr_occ = sim.slot_occupant[mgr_slots]
    manager = np.full(len(team_ids), None, dtype=object)
    manager[R["slot_team"][mgr_slots]] = np.where(mgr_occ >= 0, wid[np.maximum(mgr_occ, 0)], None)
    est = np.bincount(R["slot_team"], weights=R["slot_fte"] * sim.slot_active * ~R["slot_agency_only"], minlength=len(team_ids))
    return pd.DataFrame({"team_id": team_ids, "council_id": council_ids[w.team_council], "area": area_ids[R["team_area"]],
                         "manager_id": manager, "service": np.array(SERVICES, dtype=object)[w.team_service],
                         "caseload_cap": _caps_now(sim), "establishment_fte": np.round(est, 2),
                         "target_turnover": w.team_target})


def _caps_now(sim: Simulation) -> np.ndarray:
    """The caps in force at the end of the run: the scenario's cap once its policy has started (the run always
    reaches it), else the caps by team type."""
    cap = sim.scenario.caseload_cap
    return np.full(len(sim.world.team_cap), cap, dtype="int64") if cap is not None else sim.world.team_cap.astype("int64")


def _team_history(sim: Simulation, team_ids) -> dict[str, pd.DataFrame]:
    """``team_history`` when the scenario changes caps or establishment part-way through the run (a
    ``policy_start`` after the first month): per team, the values before the policy from the first month and
    the values in ``teams`` (the current ones) from ``policy_start``, the month the engine switches. Nothing
    otherwise (no table is written, so data without a policy change is what it always was)."""
    sc, R, n_t = sim.scenario, sim.records, len(team_ids)
    changes_cap, changes_est = sc.caseload_cap is not None, sc.extra_posts_share > 0
    if sc.policy_start is None or sim.policy_m <= 0 or not (changes_cap or changes_est):
        return {}
    # the scenario's extra posts follow the world's own posts and are not agency-only (posts.establishment)
    extra = (np.arange(len(R["slot_team"])) >= len(sim.world.slot_team)) & ~R["slot_agency_only"]
    funded = R["slot_fte"] * ~R["slot_agency_only"]
    est_before = np.round(np.bincount(R["slot_team"], weights=funded * ~extra, minlength=n_t), 2)
    est_after = np.round(np.bincount(R["slot_team"], weights=funded, minlength=n_t), 2)
    when = _date(np.repeat(sim.months[[0, sim.policy_m]], n_t))
    cap = np.concatenate([sim.world.team_cap, _caps_now(sim)]).astype("int64")
    rows = pd.DataFrame({"team_id": np.tile(team_ids, 2), "effective_date": when,
                         "caseload_cap": pd.array(cap if changes_cap else [None] * (2 * n_t), dtype="Int64"),
                         "establishment_fte": np.concatenate([est_before, est_after]) if changes_est else np.nan,
                         "manager_id": np.full(2 * n_t, None, dtype=object)})
    return {"team_history": rows}


def _workers(sim: Simulation, area_ids, team_ids, wid) -> pd.DataFrame:
    """One row per spell: role, employment, dates, how it ended, qualification, home and office, and the
    protected characteristics (for the fairness audit only)."""
    W = sim.workers
    reason = W["reason"]
    has_end = reason >= 0
    left_vol = np.where(reason == 3, W["voluntary"], None)  # end_of_contract: HR records whether it was chosen
    return pd.DataFrame({
        "worker_id": wid, "display_name": np.full(sim.n_workers, None, dtype=object), "team_id": team_ids[W["team"]],
        "role": np.array(ROLES, dtype=object)[W["role"]], "employment_type": EMP[W["emp"]], "fte": W["fte"],
        "start_date": _date(W["start"]), "end_date": _date(W["end"]),
        "leaving_reason": np.where(has_end, np.array(REASONS, dtype=object)[np.maximum(reason, 0)], None),
        "left_voluntarily": pd.array(left_vol, dtype="boolean"),
        "qualified_date": _date(W["qualified"]), "asye": W["asye"].astype(bool),
        "home_area": area_ids[W["home"]], "office_area": area_ids[W["office"]],
        "sex": SEX[W["sex"]], "age_band": _age_band(W["age0"]), "ethnicity_group": ETH[W["eth"]], "disability": DIS[W["dis"]],
    })


def _monthly(sim: Simulation, wid) -> dict[str, pd.DataFrame]:
    """The worker-month tables: caseload (cases open, by kind, new allocations) and sickness absence (days)."""
    months, c, a = sim.months, sim.records["case"], sim.records["absence"]
    caseload = pd.DataFrame({"worker_id": wid[c["w"]], "month": _date(months[c["t"]]), "open_cases": c["open"].astype("int64"),
                             "child_protection_cases": c["cp"].astype("int64"), "children_in_care_cases": c["cic"].astype("int64"),
                             "court_cases": c["court"].astype("int64"), "new_allocations": c["new"].astype("int64")})
    absence = pd.DataFrame({"worker_id": wid[a["w"]], "month": _date(months[a["t"]]), "sickness_days": a["days"]})
    return {"caseload_history": caseload, "absence": absence}


def _pay(sim: Simulation, schemas, wid) -> dict[str, pd.DataFrame]:
    """Pay changes (GBP per year; one row per worker and date, the later change on the same day winning) and
    the pay band ladder."""
    p = sim.records["pay"]
    pay = pd.DataFrame({"worker_id": wid[p["w"]], "effective_date": _date(p["date"]),
                        "pay_band": np.array(PAY_BANDS + ("AGENCY",), dtype=object)[p["band"]],
                        "spinal_point": pd.array(np.where(p["sp"] < 0, None, p["sp"]), dtype="Int64"),
                        "annual_salary": p["salary"].astype(float), "market_supplement": p["supp"].astype(float),
                        "retention_payment": p["ret"].astype(float)})
    # PAY_BANDS is the simulator's index, not a ladder: its bands rank as the schema's default ladder has them.
    return {"pay_history": pay.drop_duplicates(["worker_id", "effective_date"], keep="last"),
            "pay_bands": schemas["pay_bands"].default_frame().astype({"rank": "Int64"})}


def _commute_and_supervision(sim: Simulation, wid) -> dict[str, pd.DataFrame]:
    """Commute changes (minutes, km, mode; one row per worker and date, the later winning) and supervision
    sessions (minutes)."""
    cm, s = sim.records["commute"], sim.records["sup"]
    com = pd.DataFrame({"worker_id": wid[cm["w"]], "effective_date": _date(cm["date"]), "commute_minutes": cm["minutes"].astype(float),
                        "distance_km": cm["km"].astype(float), "mode": MODES[cm["mode"]]})
    return {"commute": com.drop_duplicates(["worker_id", "effective_date"], keep="last"),
            "supervision": pd.DataFrame({"worker_id": wid[s["w"]], "date": _date(s["date"]),
                                         "duration_minutes": s["minutes"].astype("int64")})}


def _markets(sim: Simulation, council_ids, area_ids) -> dict[str, pd.DataFrame]:
    """Housing costs by area and month (median rent, GBP per month, whole pounds; median price, GBP, to the
    hundred) and agency day rates by council and month (GBP)."""
    months, hs, dr = sim.months, sim.records["housing"], sim.records["day_rate"]
    n_m, n_a = hs["rent"].shape
    housing = pd.DataFrame({"area": np.tile(area_ids, n_m), "period": _date(np.repeat(months, n_a)),
                            "median_monthly_rent": np.round(hs["rent"].ravel(), 0), "median_house_price": np.round(hs["price"].ravel(), -2)})
    agency = pd.DataFrame({"council_id": np.tile(council_ids, n_m), "period": _date(np.repeat(months, sim.world.n_councils)),
                           "day_rate": dr.ravel().astype(float)})
    return {"housing_costs": housing, "agency_rates": agency}


def build_tables(sim: Simulation, rng: np.random.Generator) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """All input tables (schema column order, sorted by primary key) and the truth tables.

    ``rng`` draws the worker ids' permutation first, then the truth's exit interviews (in that order).
    """
    schemas = load_schemas()
    check_vocabularies(schemas)
    council_ids, area_ids, team_ids, wid = _ids(sim, rng)
    t = {"teams": _teams(sim, council_ids, area_ids, team_ids, wid), "workers": _workers(sim, area_ids, team_ids, wid),
         **_monthly(sim, wid), **_pay(sim, schemas, wid), **_commute_and_supervision(sim, wid),
         **_markets(sim, council_ids, area_ids), **_team_history(sim, team_ids)}
    truth, t["exit_interviews"] = build_truth(sim, rng, wid)
    for name, frame in t.items():
        frame = frame[schemas[name].column_names]
        t[name] = frame.sort_values(schemas[name].primary_key, kind="stable").reset_index(drop=True)
    return t, truth


def _leaving_contributions(sim: Simulation):
    """Each leaver's (rows of records["exit"]) driver contributions in the month they left (for agency staff
    replaced by a hire: their last month), zero where no truth row matches; and whether one matched."""
    tr, ex = sim.records["truth"], sim.records["exit"]
    key_tr = tr["w"].astype(np.int64) * 10_000 + tr["t"]
    key_ex = ex["w"].astype(np.int64) * 10_000 + np.maximum(ex["t"], 0)
    order = np.argsort(key_tr, kind="stable")
    pos = np.searchsorted(key_tr[order], key_ex)
    found = (pos < len(order)) & (key_tr[order[np.minimum(pos, len(order) - 1)]] == key_ex)
    row = np.where(found, order[np.minimum(pos, len(order) - 1)], -1)
    return np.where(found[:, None], tr["contrib"][np.maximum(row, 0)], 0.0), found


def _exit_interviews(sim: Simulation, rng: np.random.Generator, wid, lc, lm) -> pd.DataFrame:
    """Exit interviews of about two thirds of employed (non-agency) resigners, stating reasons drawn from
    their contributions ``lc`` against the month's average ``lm``, and half of retirees; held up to 9 days
    before leaving; 30% with a comment."""
    W, ex = sim.workers, sim.records["exit"]
    emp = W["emp"][ex["w"]]
    reason = W["reason"][ex["w"]]
    resign = (reason == R_RES) & (emp != EMP_AGENCY)
    retire = reason == R_RET
    u = rng.random(len(ex["w"]))
    has = (resign & (u < 0.67)) | (retire & (u < 0.5))
    primary, others = stated_reasons(rng, lc[resign & has], baseline=lm[resign & has])
    prim = np.full(len(u), None, dtype=object)
    oth = np.full(len(u), None, dtype=object)
    prim[resign & has] = primary
    oth[resign & has] = others
    prim[retire & has] = "retirement"
    end = W["end"][ex["w"]]
    start = W["start"][ex["w"]]
    idate = np.maximum(end - rng.integers(0, 10, len(u)).astype("timedelta64[D]"), start)
    comment = np.where(rng.random(len(u)) < 0.3, pd.Series(prim, dtype=object).map(COMMENTS).to_numpy(dtype=object), None)
    exits = pd.DataFrame({"worker_id": wid[ex["w"]], "interview_date": _date(idate), "primary_reason": prim,
                          "other_reasons": oth, "comment": comment})[has]
    return exits.reset_index(drop=True)


def build_truth(sim: Simulation, rng: np.random.Generator, wid: np.ndarray):
    """Truth tables (worker_months, leavers, driver_means) and the exit interviews drawn from the truth."""
    W, R = sim.workers, sim.records
    tr = R["truth"]
    contrib = tr["contrib"]
    wm = pd.DataFrame({"worker_id": wid[tr["w"]], "month": _date(sim.months[tr["t"]]), "p_leave": tr["p"], "base_logit": tr["base"]})
    for j, d in enumerate(HAZARD_DRIVERS):
        wm[f"contrib_{d}"] = contrib[:, j]

    ended = np.flatnonzero(W["reason"] >= 0)
    ex = R["exit"]
    lc, found = _leaving_contributions(sim)
    true_idx = true_drivers(lc)
    # the true dominant driver: contribution most above the average of everyone in post that month
    means = driver_means(contrib, tr["t"], len(sim.months))
    lm = means[np.maximum(ex["t"], 0)]
    dom_idx = dominant_drivers(lc - lm)
    vol = ex["vol"]
    names = np.array(HAZARD_DRIVERS, dtype=object)
    leavers = pd.DataFrame({"worker_id": wid[ex["w"]], "end_date": _date(W["end"][ex["w"]]),
                            "leaving_reason": np.array(REASONS, dtype=object)[W["reason"][ex["w"]]],
                            "voluntary": vol.astype(bool), "true_driver": np.where(vol & found, names[true_idx], None),
                            "dominant_driver": np.where(vol & found, names[dom_idx], None)})
    assert len(leavers) == len(ended)

    exits = _exit_interviews(sim, rng, wid, lc, lm)
    dm = pd.DataFrame({"month": _date(sim.months), "n_in_post": np.bincount(tr["t"], minlength=len(sim.months))})
    for j, d in enumerate(HAZARD_DRIVERS):
        dm[f"contrib_{d}"] = means[:, j]
    return {"worker_months": wm.sort_values(["worker_id", "month"], kind="stable").reset_index(drop=True),
            "leavers": leavers.sort_values("worker_id", kind="stable").reset_index(drop=True),
            "driver_means": dm}, exits


TRUTH_README = """# Simulator ground truth (never read by modelling code)

Written by `retention-ml simulate`; read only through `retention_ml.simulate.truth.read_truth`
and by evaluation scripts in benchmarks/.

- `worker_months.parquet`: one row per worker spell and month in post. `p_leave` is the true
  probability of a voluntary exit that month; `base_logit + sum(contrib_<driver>) = logit(p_leave)`
  for the drivers {drivers}. `personal` is unobserved (individual frailty and life events).
- `leavers.parquet`: every ended spell: `worker_id`, `end_date`, `leaving_reason` (as in workers),
  `voluntary` (the exit came from the leaving hazard), `true_driver` (voluntary leavers: the driver
  with the largest positive raw contribution in the leaving month; `personal` if none is positive),
  `dominant_driver` (voluntary leavers: the driver whose contribution in the leaving month most exceeds
  its mean over everyone in post that month, i.e. the largest exact Shapley value of the true logit;
  `personal` if none is above average). Use `dominant_driver` to judge explanations: SHAP values are
  deviations from an average too, while raw contributions have arbitrary zero points.
- `driver_means.parquet`: per month, the number in post and the mean of each `contrib_<driver>`;
  `contrib_<driver> - mean` is the true decomposition on the same footing as SHAP values.
"""


class OutputFolderError(Exception):
    """The output folder cannot be written: it holds other data (refused without ``force``) or is not a folder."""


def is_simulator_output(folder: str | Path) -> bool:
    """True when ``folder`` was written by the simulator: it holds ``_truth/README.md`` starting with our title."""
    try:
        head = (Path(folder) / "_truth" / "README.md").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return head.startswith(TRUTH_README.splitlines()[0])


def check_output_folder(out: str | Path, *, force: bool = False) -> None:
    """Raise :class:`OutputFolderError` unless ``out`` is new, empty, an earlier simulator output, or ``force``.

    The rule protects real HR extracts: writing a simulation into their folder would replace workers.csv
    and the other tables.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"{out} exists and is not a folder")
    if not out.exists() or force or not any(out.iterdir()) or is_simulator_output(out):
        return
    raise OutputFolderError(f"{out} is not empty and is not an earlier simulator output (it has no _truth/README.md "
                            "written by retention-ml simulate), so its tables would be replaced; choose a new or "
                            "empty folder, or pass --force to replace its input tables and _truth/")


def _owned_names() -> list[str]:
    """Entries of an output folder that belong to the simulator: every input table in either format, and _truth/."""
    return [f"{name}{suffix}" for name in load_schemas() for suffix in (".parquet", ".csv")] + ["_truth"]


def _write_into(tables: dict[str, pd.DataFrame], truth: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    paths = []
    for name, frame in tables.items():
        suffix = ".parquet" if name in BIG else ".csv"
        paths.append(write_table(frame, folder / f"{name}{suffix}"))
    for name, frame in truth.items():
        paths.append(write_table(frame, folder / "_truth" / f"{name}.parquet"))
    with atomic_path(folder / "_truth" / "README.md") as tmp:
        tmp.write_text(TRUTH_README.format(drivers=", ".join(HAZARD_DRIVERS)), encoding="utf-8")
    paths.append(folder / "_truth" / "README.md")
    return [p.relative_to(folder) for p in paths]


def _install(staging: Path, out: Path) -> None:
    """Move the complete ``staging`` folder's entries into ``out``, replacing the simulator's own entries there.

    Other files in ``out`` are kept. Only renames happen here (same parent folder); if one fails, what was
    moved is put back.
    """
    if not out.exists():
        os.replace(staging, out)
        return
    trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.replaced-", dir=out.parent))
    moved, installed = [], []
    try:
        for name in _owned_names():  # the other format of a table must not survive beside the new one
            if (out / name).exists() or (out / name).is_symlink():
                os.replace(out / name, trash / name)
                moved.append(name)
        for entry in sorted(staging.iterdir()):
            os.replace(entry, out / entry.name)
            installed.append(entry.name)
    except BaseException:
        for name in installed:
            shutil.rmtree(out / name) if (out / name).is_dir() else (out / name).unlink(missing_ok=True)
        for name in moved:
            os.replace(trash / name, out / name)
        raise
    finally:
        shutil.rmtree(trash, ignore_errors=True)


def write_all(tables: dict[str, pd.DataFrame], truth: dict[str, pd.DataFrame], out: str | Path, *,
              force: bool = False) -> list[Path]:
    """Write tables (Parquet for big ones, CSV for small) and the truth into ``out``; returns the written paths.

    ``out`` must be new, empty or an earlier simulator output unless ``force`` (see :func:`check_output_folder`).
    Everything is written into a temporary folder beside ``out`` first and moved in only when complete, so a
    failure (disk full) leaves ``out`` as it was. Files in ``out`` that are not the simulator's are kept.
    """
    out = Path(out)
    check_output_folder(out, force=force)
    out.parent.mkdir(parents=True, exist_ok=True)
    # mkdir (not mkdtemp, which makes it private): a new OUT is this folder renamed, with the usual permissions
    staging = out.parent / f".{out.name}.simulate-{secrets.token_hex(6)}"
    staging.mkdir()
    try:
        written = _write_into(tables, truth, staging)
        _install(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out / p for p in written]
