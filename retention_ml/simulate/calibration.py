"""Calibration: simulated council-level workforce statistics beside the DfE figures for the same year.

The statistics are computed from the simulated *input tables* the way a council
fills in the DfE census (year to 30 September):

- turnover: permanent and fixed-term leavers (FTE, internal moves excluded) in the year / in-post FTE on 30 September;
- agency rate: agency FTE / (agency + in-post FTE) on 30 September;
- vacancy rate: (establishment - in-post FTE) / establishment on 30 September;
- caseload: open cases / case-holding FTE in September (team managers excluded);
- absence rate: sickness days of employed staff in the year / (in-post FTE x 255 working days)
  (255 makes the DfE national 2025 figures consistent: 322,786 days / 36,186 FTE = 3.5%).

Each FTE is the one in force at the date it is counted (``fte_history`` when the tables hold it, else
``workers.fte``; the rule and reader are the features' own, ``retention_ml.features.fte_history``): in post
on 30 September, a leaver's on their last day, a case holder's at the end of September. So the report's
figures stay the ones the team features give (``team_leavers_rate_12m``, ``team_agency_share``,
``team_vacancy_rate``) when hours change during a spell.

All figures are percentages except caseload (cases per FTE). Also: the two-year
leaving rate of NQSWs (spells with the ASYE flag and at least two years of
follow-up) and the mix of exit-interview primary reasons.

Example
-------
>>> report = calibration_report(read_tables("sim/"), dfe_path)     # doctest: +SKIP
>>> report.table.head()                                            # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

__all__ = ["DFE_PATH", "METRICS", "CalibrationReport", "calibration_report", "council_year_stats", "read_dfe"]

DFE_PATH = Path(__file__).resolve().parent / "data" / "dfe_csww_indicators_2017_2025.csv"  # copy, see data/PROVENANCE.md
METRICS = {"turnover": "turnover_rate_fte", "agency": "agency_rate_fte", "vacancy": "vacancy_rate_fte",
           "caseload": "caseload_fte", "absence": "absence_rate_fte"}
SUPPRESSED = ["x", "c", "z", "u", "low"]
WORKING_DAYS = 255


def read_dfe(path: str | Path = DFE_PATH) -> pd.DataFrame:
    """Council rows of the DfE indicators file; suppressed cells (x, c, z, u, low) become NaN, never 0."""
    frame = pd.read_csv(path, na_values=SUPPRESSED, keep_default_na=True)
    return frame[frame["geographic_level"] == "Local authority"].copy()


def _in_post(workers: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    return (workers["start_date"] <= day) & (workers["end_date"].isna() | (workers["end_date"] > day))


def _establishment_on(tables: dict[str, pd.DataFrame], day: pd.Timestamp) -> pd.Series:
    """Funded FTE per council on ``day`` (the DfE's 30 September count): team_history's figure in force then."""
    from retention_ml.features._pit import encode, sorted_keys
    from retention_ml.features.team_history import TeamValues

    teams = tables["teams"]
    book = sorted_keys(teams["team_id"])
    codes = encode(teams["team_id"], book)
    on = TeamValues(tables, book).at("establishment_fte", codes, np.full(len(teams), day + pd.Timedelta(days=1)))
    return pd.Series(on, index=teams.index).groupby(teams["council_id"]).sum()


def _fte_reader(tables: dict[str, pd.DataFrame], workers: pd.DataFrame):
    """``fte_at(rows, dates)``: the FTE of ``workers`` rows in force at ``dates`` (fte_history applied)."""
    from retention_ml.features._base import WorkerLookup
    from retention_ml.features.fte_history import FteValues

    fv = FteValues(tables, WorkerLookup(workers, workers["worker_id"]))
    codes = fv.wl.codes
    return lambda rows, dates: fv.at(codes[np.asarray(rows)], lambda: np.broadcast_to(np.asarray(dates, "datetime64[ns]"), (len(rows),)))


def council_year_stats(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per council and complete reporting year (October to September) with the five metrics."""
    workers = tables["workers"].merge(tables["teams"][["team_id", "council_id"]], on="team_id")
    workers["row"] = np.arange(len(workers))
    fte_at = _fte_reader(tables, workers)
    cases = tables["caseload_history"]
    months = cases["month"]
    first, last = months.min(), months.max()
    employed = workers["employment_type"] != "agency"
    est_now = tables["teams"].groupby("council_id")["establishment_fte"].sum()
    absence = tables["absence"].merge(workers[["worker_id", "council_id", "employment_type"]], on="worker_id")
    absence = absence[absence["employment_type"] != "agency"]
    holders = cases.merge(workers[["worker_id", "council_id", "role", "row"]], on="worker_id")
    holders = holders[holders["role"] != "team_manager"]
    # a leaver counts at the FTE in force on their last day (as team_leavers_rate_12m counts them)
    workers["left_fte"] = fte_at(workers["row"], workers["end_date"])
    rows = []
    for year in range(first.year, last.year + 2):  # loop over a handful of years, not over data rows
        y0, y1 = pd.Timestamp(year - 1, 10, 1), pd.Timestamp(year, 9, 30)
        if y0 < first or pd.Timestamp(year, 9, 1) > last:
            continue
        est = _establishment_on(tables, y1) if "team_history" in tables else est_now
        # the hours in force on 30 September: a change dated that day counts (as at a 1 October snapshot)
        fte = pd.Series(fte_at(workers["row"], y1 + pd.Timedelta(days=1)), index=workers.index)
        inpost = fte[employed & _in_post(workers, y1)].groupby(workers["council_id"]).sum()
        agency = fte[~employed & _in_post(workers, y1)].groupby(workers["council_id"]).sum()
        left = workers[employed & workers["end_date"].between(y0, y1) & (workers["leaving_reason"] != "internal_move")]
        leavers = left.groupby("council_id")["left_fte"].sum()
        sep = holders[holders["month"] == pd.Timestamp(year, 9, 1)]
        # a month's caseload against the hours in force at the month's end (the caseload_to_cap rule)
        sep_fte = pd.Series(fte_at(sep["row"], y1 + pd.Timedelta(days=1)), index=sep.index)
        case_rate = sep.groupby("council_id")["open_cases"].sum() / sep_fte.groupby(sep["council_id"]).sum()
        days = absence[absence["month"].between(y0, y1)].groupby("council_id")["sickness_days"].sum()
        frame = pd.DataFrame({"inpost_fte": inpost}).reindex(est.index).fillna({"inpost_fte": 0.0})
        frame["turnover"] = 100 * leavers.reindex(frame.index).fillna(0) / frame["inpost_fte"]
        ag = agency.reindex(frame.index).fillna(0)
        frame["agency"] = 100 * ag / (ag + frame["inpost_fte"])
        frame["vacancy"] = 100 * ((est - frame["inpost_fte"]).clip(lower=0) / est)
        frame["caseload"] = case_rate.reindex(frame.index)
        frame["absence"] = 100 * days.reindex(frame.index).fillna(0) / (frame["inpost_fte"] * WORKING_DAYS)
        frame["year"] = year
        rows.append(frame.reset_index())
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def nqsw_two_year_leaving(tables: dict[str, pd.DataFrame]) -> float:
    """Share of ASYE spells (with two full years of follow-up) that ended within two years (moves excluded)."""
    w = tables["workers"]
    data_end = tables["caseload_history"]["month"].max() + pd.offsets.MonthBegin(1)
    nq = w[w["asye"].astype(bool) & (w["start_date"] + pd.DateOffset(years=2) <= data_end)]
    gone = nq["end_date"].notna() & (nq["end_date"] < nq["start_date"] + pd.DateOffset(years=2)) & (nq["leaving_reason"] != "internal_move")
    return float(gone.mean()) if len(nq) else float("nan")


@dataclass
class CalibrationReport:
    """Simulated vs DfE council-level quantiles per year and metric, plus NQSW leaving and exit-reason mix."""

    table: pd.DataFrame          # year, metric, sim_p10/p50/p90, dfe_p10/p50/p90, ks, n_sim, n_dfe
    nqsw_two_year_leaving: float
    exit_reasons: pd.Series      # share of interviews by primary reason
    national_turnover: pd.DataFrame  # year, simulated (all councils pooled), dfe national

    def to_dict(self) -> dict:
        return {"table": self.table.round(3).to_dict(orient="records"),
                "nqsw_two_year_leaving": round(self.nqsw_two_year_leaving, 4),
                "exit_reasons": {k: round(float(v), 4) for k, v in self.exit_reasons.items()},
                "national_turnover": self.national_turnover.round(2).to_dict(orient="records")}

    def worst(self) -> pd.DataFrame:
        """Per metric: the largest median gap and spread ratio over the years."""
        t = self.table.assign(median_gap=(self.table["sim_p50"] - self.table["dfe_p50"]).abs(),
                              spread_ratio=(self.table["sim_p90"] - self.table["sim_p10"]) / (self.table["dfe_p90"] - self.table["dfe_p10"]))
        return t.groupby("metric").agg(median_gap=("median_gap", "max"), spread_min=("spread_ratio", "min"),
                                       spread_max=("spread_ratio", "max"), ks_max=("ks", "max"))


def calibration_report(tables: dict[str, pd.DataFrame], dfe: pd.DataFrame | str | Path = DFE_PATH) -> CalibrationReport:
    """Compare the simulated council distributions with the DfE council distributions year by year."""
    real = dfe if isinstance(dfe, pd.DataFrame) else read_dfe(dfe)
    sim = council_year_stats(tables)
    rows = []
    for (year, metric), _ in sim.melt(id_vars=["council_id", "year"], value_vars=list(METRICS)).groupby(["year", "variable"]):
        s = sim.loc[sim["year"] == year, metric].dropna().to_numpy()
        r = real.loc[real["time_period"] == year, METRICS[metric]].dropna().to_numpy(dtype=float)
        if len(s) == 0 or len(r) == 0:
            continue
        sq, rq = np.percentile(s, [10, 50, 90]), np.percentile(r, [10, 50, 90])
        rows.append({"year": int(year), "metric": metric, "sim_p10": sq[0], "sim_p50": sq[1], "sim_p90": sq[2],
                     "dfe_p10": rq[0], "dfe_p50": rq[1], "dfe_p90": rq[2], "ks": ks_2samp(s, r).statistic,
                     "n_sim": len(s), "n_dfe": len(r)})
    table = pd.DataFrame(rows)
    exits = tables.get("exit_interviews")
    mix = exits["primary_reason"].value_counts(normalize=True) if exits is not None and len(exits) else pd.Series(dtype=float)
    national = sim.assign(left=sim["turnover"] * sim["inpost_fte"]).groupby("year").agg(left=("left", "sum"), inpost=("inpost_fte", "sum"))
    nat_real = pd.read_csv(DFE_PATH, na_values=SUPPRESSED) if isinstance(dfe, (str, Path)) or dfe is None else None
    national_turnover = pd.DataFrame({"year": national.index, "simulated": (national["left"] / national["inpost"]).to_numpy()})
    if nat_real is not None:
        nat = nat_real[nat_real["geographic_level"] == "National"].set_index("time_period")["turnover_rate_fte"]
        national_turnover["dfe"] = national_turnover["year"].map(nat).to_numpy()
    return CalibrationReport(table, nqsw_two_year_leaving(tables), mix, national_turnover)


def _odds(pct):
    return pct / (100.0 - pct)


def fit_year_market(*, councils: int = 150, seeds=(0,), start: str = "2019-01", months: int = 72, iterations: int = 4,
                    damping: float = 0.8, fit: dict | None = None, dfe: str | Path = DFE_PATH, log=print) -> dict:
    """Fit the national market per reporting year (:data:`~retention_ml.simulate.config.YEAR_FIT`).

    Fixed-point iteration on whole simulations: each round moves the hazard shift by
    ``log(DfE median / simulated median)`` of council turnover, the hiring factor by the ratio of
    simulated to DfE vacancy *odds* (in a post's steady state vacancy odds = leaving / hiring), the
    agency factor by the ratio of DfE to simulated agency-rate odds, and the absence factor by the ratio of medians, all damped; the simulated medians are averaged over
    ``seeds``. Years the data do not cover in full keep the nearest fitted year's values.
    Returns the fitted dict (same layout as ``YEAR_FIT``) to paste into config.py.
    """
    from retention_ml.simulate import run
    from retention_ml.simulate.config import YEAR_FIT

    fit = {y: dict(v) for y, v in (fit or YEAR_FIT).items()}
    real = read_dfe(dfe)
    target = real.groupby("time_period")[[METRICS[m] for m in ("turnover", "vacancy", "agency", "absence")]].median()
    for it in range(iterations):
        stats = pd.concat([council_year_stats(run(councils=councils, start=start, months=months, seed=s, year_fit=fit)[0])
                           .assign(seed=s) for s in seeds])
        med = stats.groupby(["seed", "year"])[["turnover", "vacancy", "agency", "absence"]].median().groupby("year").mean()
        years = [y for y in med.index if y in target.index and y in fit]
        for y in years:
            t_turn, t_vac, t_ag, t_abs = target.loc[y].to_numpy(dtype=float)
            s_turn, s_vac, s_ag, s_abs = med.loc[y].to_numpy(dtype=float)
            fit[y]["hazard"] = round(fit[y]["hazard"] + damping * float(np.log(t_turn / s_turn)), 4)
            fit[y]["hire"] = round(fit[y]["hire"] * float((_odds(s_vac) / _odds(t_vac)) ** damping), 4)
            fit[y]["agency"] = round(fit[y]["agency"] * float((_odds(t_ag) / _odds(s_ag)) ** damping), 4)
            fit[y]["absence"] = round(fit[y]["absence"] * float((t_abs / s_abs) ** damping), 4)
            log(f"round {it + 1} {y}: turnover {s_turn:.2f} vs {t_turn:.2f}, vacancy {s_vac:.2f} vs {t_vac:.2f}, "
                f"agency {s_ag:.2f} vs {t_ag:.2f}, absence {s_abs:.2f} vs {t_abs:.2f} -> {fit[y]}")
        for y in fit:  # partly covered years follow the nearest fitted one
            if y not in years and years:
                fit[y] = dict(fit[min(years, key=lambda k: abs(k - y))])
    return fit
