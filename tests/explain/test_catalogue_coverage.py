"""Every feature the pipelines produce maps to a taxonomy driver and gets readable reason text."""

import pandas as pd

from retention_ml.explain.drivers import feature_drivers, profile_drivers
from retention_ml.explain.reasons import load_templates, render_feature_reasons, templates_for
from retention_ml.features import feature_catalogue

# The feature names the reason templates (retention_ml/explain/reasons.yaml) are written against.
SECTION_9 = """
caseload_current caseload_mean_3m caseload_mean_6m caseload_mean_12m caseload_max_12m caseload_trend_6m caseload_cap
caseload_over_cap_months_6m caseload_over_cap_months_12m caseload_cp_share caseload_court_share
caseload_new_allocations_3m caseload_vs_team_mean tenure_months months_since_qualified asye months_since_progression
pay_band_rank pay_spinal_point pay_salary_fte pay_supplement pay_retention_payment pay_agency_gap months_since_pay_rise
commute_minutes commute_km commute_mode_car commute_change_minutes_12m housing_rent_to_pay housing_price_to_salary
housing_cost_growth_12m team_leavers_rate_12m team_colleagues_left_3m team_agency_share team_vacancy_rate team_size
absence_days_6m supervision_sessions_3m months_since_supervision employment_agency
""".split()


def test_every_contract_feature_has_a_template():
    templates = load_templates()
    missing = [f for f in SECTION_9 if not templates_for(f, templates)[0]]
    assert missing == []


def test_every_catalogue_feature_maps_to_a_taxonomy_driver():
    catalogue = feature_catalogue()
    drivers = feature_drivers(catalogue["feature"], catalogue)
    assert drivers.isin(profile_drivers()).all()
    # Catalogue drivers must already be taxonomy codes: nothing is silently re-labelled "other".
    declared = catalogue.set_index("feature")["driver"]
    relabelled = declared[(declared != drivers) & (declared != "other")]
    assert relabelled.empty, f"catalogue drivers outside the taxonomy: {relabelled.to_dict()}"
    assert not catalogue["feature"].duplicated().any()


def test_every_catalogue_feature_gets_readable_text():
    catalogue = feature_catalogue()
    row = pd.DataFrame({f: [1.0] for f in catalogue["feature"]})
    texts = {f: render_feature_reasons(f, row, load_templates(), catalogue).item() for f in catalogue["feature"]}
    bad = {f: t for f, t in texts.items() if not t or "nan" in t.lower() or "{" in t}
    assert bad == {}
