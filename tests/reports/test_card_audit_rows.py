"""The card tells evaluators what the run's logged audit rows are: pseudonymous, not anonymous. They hold each test
person's protected characteristics beside their area, service and risk, and the card counts, from the rows
themselves, how many a scores file of that date would single out."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from retention_ml import tracking

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_audit_rows_fake_runs", REPO / "tests" / "test_promotion.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)


def test_the_note_counts_the_rows_alone_in_their_date_area_service_and_risk():
    from retention_ml.reports.model_card import _audit_rows_note

    rows = pd.DataFrame({"person": [f"P{i}" for i in range(12)], "as_of": "2024-01-01",
                         "area": ["North"] * 6 + ["South"] * 6, "service": "safeguarding",
                         "sex": ["female", "male"] * 6, "label": 0.0,
                         # North: three pairs of equal risks; South: six different risks (alone)
                         "risk": [0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
                         "top_share_flagged": False})
    note = _audit_rows_note(rows)
    assert "each of the 12 holds a person's sex, service, area" in note
    assert "6 of them (50%) are alone in their date, service, area and risk" in note
    assert "to 3 decimals" in note
    assert "at full precision" in _audit_rows_note(rows.drop(columns="top_share_flagged"))
    assert _audit_rows_note(rows.drop(columns="sex")) is None   # no protected characteristic: nothing to say
    flat = rows[["person", "label", "risk"]].assign(Gender=rows["sex"])   # a flat extract's own audit column
    assert "holds a person's Gender, whether they left" in _audit_rows_note(flat)
    assert "are alone in their risk," in _audit_rows_note(flat)


@pytest.fixture(scope="module")
def card(tmp_path_factory, scratch_store):
    from retention_ml.reports.model_card import build_card, render_markdown

    with scratch_store(tmp_path_factory.mktemp("audit_rows")):
        run = fake.make_fake_run(kind="good")
        preds = tracking.load_table_artifact(run, "evaluation/test_predictions.parquet")
        yield preds, render_markdown(build_card(run))


def test_the_card_says_what_the_logged_rows_hold_among_its_considerations(card):
    preds, md = card
    ethics = md.split("## Ethical considerations\n", 1)[1].split("\n## ", 1)[0]
    keys = [c for c in ("as_of", "service", "area", "employment_type") if c in preds.columns]
    alone = int((preds.groupby([*keys, "risk"])["risk"].transform("size") == 1).sum())
    assert "pseudonymous, not anonymous" in ethics
    assert f"{alone:,} of them ({alone / len(preds):.0%}) are alone" in ethics
    assert "MLflow permissions" in ethics
