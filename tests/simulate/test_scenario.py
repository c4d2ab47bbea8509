"""Scenario files: unknown keys are errors naming the key; policy knobs change what the simulator does."""

import numpy as np
import pytest

from retention_ml.simulate import Scenario, run
from retention_ml.simulate.config import ScenarioError, load_scenario


def test_unknown_key_is_an_error_naming_it(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('policy_start = "2020-01"\ncaseload_capp = 15\n')
    with pytest.raises(ScenarioError, match="caseload_capp"):
        load_scenario(path)


def test_wrong_type_is_an_error(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('retention_payment = "lots"\n')
    with pytest.raises(ScenarioError, match="retention_payment"):
        load_scenario(path)


def test_toml_with_scenario_table(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[scenario]\ncaseload_cap = 15\nretention_payment = 1500\n')
    assert load_scenario(path) == Scenario(caseload_cap=15, retention_payment=1500.0)


def test_council_wide_caseload_promise_sets_every_cap():
    tables, _, _ = run(councils=2, months=3, seed=1, scenario=Scenario(caseload_cap=15))
    assert (tables["teams"]["caseload_cap"] == 15).all()


def test_retention_payment_paid_from_policy_start_and_lowers_pay_contribution():
    scen = Scenario(retention_payment=10_000, policy_start="2020-01")
    base_t, base_truth, _ = run(councils=2, months=24, seed=5)
    pol_t, pol_truth, _ = run(councils=2, months=24, seed=5, scenario=scen)
    pay = pol_t["pay_history"]
    after = pay[(pay["effective_date"] >= "2020-01-01") & (pay["pay_band"] != "AGENCY") & (pay["pay_band"] != "TM")]
    before = pay[(pay["effective_date"] < "2020-01-01") & (pay["pay_band"] != "AGENCY") & (pay["pay_band"] != "TM")]
    assert (after["retention_payment"] >= 10_000).all() and len(after) > 0
    assert (before["retention_payment"] < 10_000).all()

    def mean_pay(truth):
        wm = truth["worker_months"]
        return wm.loc[wm["month"] >= "2020-06-01", "contrib_pay"].mean()

    assert mean_pay(pol_truth) < mean_pay(base_truth) - 0.05


def test_referral_shock_raises_caseload_in_the_hit_council():
    scen = Scenario(referral_shock=1.0, shock_start="2019-06", shock_councils=1)
    out = {}
    for name, s in (("base", None), ("shock", scen)):
        tables, _, _ = run(councils=2, months=18, seed=3, scenario=s)
        cases = tables["caseload_history"].merge(tables["workers"][["worker_id", "team_id"]], on="worker_id")
        cases = cases.merge(tables["teams"][["team_id", "council_id"]], on="team_id")
        late = cases[(cases["council_id"] == "C001") & (cases["month"] >= "2019-12-01")]
        out[name] = late["open_cases"].sum() / late.shape[0]
    assert out["shock"] > 1.3 * out["base"]


def test_hazard_scale_zero_removes_driver_effects():
    _, truth, _ = run(councils=1, months=6, seed=2, scenario=Scenario(hazard_scale=0.0))
    wm = truth["worker_months"]
    contrib = wm[[c for c in wm.columns if c.startswith("contrib_")]].to_numpy()
    assert np.abs(contrib).max() == 0
    np.testing.assert_allclose(wm["p_leave"], 1 / (1 + np.exp(-wm["base_logit"])))


@pytest.mark.parametrize(("text", "key", "rule"), [
    ("caseload_cap = -5", "caseload_cap", "1 to 60"),
    ("caseload_cap = 61", "caseload_cap", "1 to 60"),
    ("retention_payment = -100", "retention_payment", "0 or more"),
    ("market_supplement = -1", "market_supplement", "0 or more"),
    ("extra_posts_share = 5", "extra_posts_share", "0 to 1"),
    ('referral_shock = -1\nshock_start = "2019-03"', "referral_shock", "above -1"),
    ("referral_shock = 0.5", "referral_shock", "would never happen"),
    ('referral_shock = 0.5\nshock_start = "2019-03"\nshock_councils = 0', "shock_councils", "1 or more"),
    ("hazard_scale = -1", "hazard_scale", "0 or more"),
    ('policy_start = "2020-1"', "policy_start", "YYYY-MM"),
    ('referral_shock = 0.5\nshock_start = "spring"', "shock_start", "YYYY-MM"),
])
def test_a_value_out_of_range_is_an_error_naming_file_key_and_rule(tmp_path, text, key, rule):
    path = tmp_path / "s.toml"
    path.write_text(text + "\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and repr(key) in message and rule in message


def test_every_problem_is_reported_at_once(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('caseload_cap = 0\nhazard_scale = -2\npolicy_start = "soon"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert all(repr(k) in str(info.value) for k in ("caseload_cap", "hazard_scale", "policy_start"))


@pytest.mark.parametrize(("scenario", "words"), [
    (Scenario(retention_payment=1500, policy_start="2030-01"), "outside the simulated months 2019-01 to 2019-06"),
    (Scenario(retention_payment=1500, policy_start="2018-01"), "leave it out for a policy in force from the start"),
    (Scenario(referral_shock=0.5, shock_start="2019-07"), "the shock would never happen"),
])
def test_a_month_outside_the_run_is_refused_before_anything_is_simulated(scenario, words):
    with pytest.raises(ScenarioError, match=words):
        run(councils=1, start="2019-01", months=6, seed=0, scenario=scenario)


def test_the_command_refuses_a_policy_after_the_run_and_writes_nothing(tmp_path):
    from typer.testing import CliRunner

    from retention_ml.cli import app

    path = tmp_path / "late.toml"
    path.write_text('policy_start = "2030-01"\ncaseload_cap = 15\n')
    out = tmp_path / "sim"
    result = CliRunner().invoke(app, ["simulate", "--councils", "1", "--months", "6", "--scenario", str(path),
                                      "--out", str(out), "--json"])
    assert result.exit_code == 2, result.output
    assert "policy_start" in result.output and "2030-01" in result.output
    assert str(path) in result.output   # the file to fix is named
    assert not out.exists() or not any(out.iterdir())


def test_a_start_with_a_day_is_refused_not_silently_cut_to_its_month(tmp_path):
    from typer.testing import CliRunner

    from retention_ml.cli import app

    with pytest.raises(ValueError, match="'2019-01-15' must be a month written YYYY-MM"):
        run(councils=1, start="2019-01-15", months=2, seed=0)
    out = tmp_path / "sim"
    result = CliRunner().invoke(app, ["simulate", "--councils", "1", "--months", "2", "--start", "2019-01-15",
                                      "--out", str(out), "--json"])
    assert result.exit_code == 2 and "YYYY-MM" in result.output
    assert not out.exists() or not any(out.iterdir())
