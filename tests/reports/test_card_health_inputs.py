"""The Model inputs table marks the inputs that read a column data_schema/ flags as health data, and the sentence on
indirect links names them: the national card listed `absence_days_6m` as "Sickness days ..." under "Work-life
balance" with nothing to tell a data protection officer it is special category data, or a union that sickness
absence can be linked to a disability (the lists themselves say so)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_health_inputs_fake_runs", REPO / "tests" / "test_promotion.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)


def test_health_inputs_are_marked_by_the_schemas_flag_and_named_in_the_indirect_links(tmp_path, scratch_store):
    from retention_ml import artifacts, tracking
    from retention_ml.explain.reasons import health_features
    from retention_ml.reports.model_card import HEALTH_MARK, build_card, render_html, render_markdown

    health = sorted(health_features())
    assert health  # the schema flags sickness absence
    catalogue = pd.DataFrame({
        "feature": ["caseload_current", *health],
        "meaning": ["Open cases", *[f"Meaning of {f}" for f in health]],
        "unit": ["cases", *["days"] * len(health)], "driver": ["caseload_workload", *["work_life_balance"] * len(health)],
        "family": ["caseload", *["absence"] * len(health)]})
    with scratch_store(tmp_path):
        run = fake.make_fake_run(kind="good")
        path = tmp_path / artifacts.FEATURE_CATALOGUE  # logged at the run's root, over the fake run's own
        catalogue.to_csv(path, index=False)
        tracking.log_artifact_file(run, path)
        card = build_card(run)
        md, html = render_markdown(card), render_html(card)
    inputs = md.split("## Model inputs\n", 1)[1].split("\n## ", 1)[0]
    for feature in health:
        assert f"| `{feature}` | Meaning of {feature} (**{HEALTH_MARK}**) |" in inputs
    assert "| `caseload_current` | Open cases |" in inputs  # no mark where the schema has no flag
    assert ("An input can still carry a protected characteristic indirectly (sickness absence, "
            + ", ".join(f"`{f}`" for f in health) + ", can be linked to a disability") in inputs
    assert f"<strong>{HEALTH_MARK}</strong>" in html
