"""Council traits and the fitted national market per reporting year (config.YEAR_FIT)."""

import numpy as np
from scipy.special import ndtr

from retention_ml.simulate import run
from retention_ml.simulate.calibration import fit_year_market
from retention_ml.simulate.config import YEAR_FIT, year_fit_arrays
from retention_ml.simulate.councils import build_world, stratified_normal


def test_stratified_normal_puts_one_draw_in_every_stratum():
    rng = np.random.default_rng(0)
    x = stratified_normal(rng, 2.0, 0.5, 200)
    stratum = np.floor(ndtr((x - 2.0) / 0.5) * 200).astype(int)
    assert sorted(stratum) == list(range(200))  # a plain random draw leaves some strata empty
    assert not np.all(np.diff(x) > 0)  # but the councils come in random order


def test_council_median_traits_barely_move_with_the_seed():
    medians = [np.median(np.log(build_world(np.random.default_rng(s), 150).council_hire)) for s in range(5)]
    assert np.ptp(medians) < 0.05  # sd of log hire is 0.55: an unstratified median moves ~0.15


def test_bigger_councils_keep_staff_better():
    w = build_world(np.random.default_rng(3), 150)
    assert np.corrcoef(np.log(w.council_size), w.council_offset)[0, 1] < -0.5


def test_year_fit_arrays_use_the_nearest_fitted_year():
    fit = {2020: {"hazard": 0.1, "hire": 0.9, "agency": 1.0, "absence": 1.1}, 2021: {"hazard": -0.2, "hire": 1.2, "agency": 0.7, "absence": 0.8}}
    arr = year_fit_arrays(np.array([2018, 2020, 2021, 2026]), fit)
    assert arr["hazard"].tolist() == [0.1, 0.1, -0.2, -0.2]
    assert arr["hire"].tolist() == [0.9, 0.9, 1.2, 1.2]
    assert arr["agency"].tolist() == [1.0, 1.0, 0.7, 0.7]
    assert set(year_fit_arrays(np.array([2019, 2030]))) == {"hazard", "hire", "agency", "absence"}
    assert set(YEAR_FIT[2022]) == {"hazard", "hire", "agency", "absence"}


def _flat(hazard=0.0, hire=1.0, agency=1.0, absence=1.0):
    return {y: {"hazard": hazard, "hire": hire, "agency": agency, "absence": absence} for y in range(2019, 2025)}


def test_year_hazard_shift_enters_the_true_logit_exactly():
    _, t0, _ = run(councils=2, months=2, seed=4, year_fit=_flat())
    _, t1, _ = run(councils=2, months=2, seed=4, year_fit=_flat(hazard=-1.0))
    a, b = (t["worker_months"] for t in (t0, t1))
    # the same people are in post in the first month (ids differ: they are a permutation of all spells);
    # the base logit depends only on council, month and employment type, so sorted values pair up
    a0, b0 = (np.sort(x.loc[x["month"] == x["month"].min(), "base_logit"].to_numpy()) for x in (a, b))
    assert len(a0) == len(b0) > 100
    assert np.allclose(b0 - a0, -1.0)


def test_year_absence_factor_scales_sickness():
    none, _, _ = run(councils=2, months=6, seed=4, year_fit=_flat(absence=0.0))
    some, _, _ = run(councils=2, months=6, seed=4, year_fit=_flat(absence=1.0))
    assert none["absence"]["sickness_days"].sum() == 0
    assert some["absence"]["sickness_days"].sum() > 0


def test_year_hire_factor_zero_stops_permanent_recruitment():
    tables, _, _ = run(councils=2, months=12, seed=4, year_fit=_flat(hire=0.0))
    w = tables["workers"]
    new = w[(w["start_date"] >= "2019-01-01") & (w["employment_type"] != "agency")]
    moved_in = new["start_date"].isin(w.loc[w["leaving_reason"] == "internal_move", "end_date"] + np.timedelta64(1, "D"))
    assert moved_in.all()  # the only new employed spells are internal moves
    assert (w["start_date"] >= "2019-01-01").sum() > 0  # agency cover still arrives


def test_fit_moves_only_covered_years_towards_the_dfe_medians():
    lines = []
    fit = fit_year_market(councils=3, seeds=(0,), start="2019-10", months=12, iterations=1, fit=_flat(), log=lines.append)
    assert len(lines) == 1 and lines[0].startswith("round 1 2020")
    assert fit[2019] == fit[2020] == fit[2024]  # years not covered follow the nearest fitted one
    assert fit[2020] != _flat()[2020]
