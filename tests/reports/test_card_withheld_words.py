"""The card's note on withheld groups says the rule the audit applies: a group in which 1 to 4 people left (or
stayed) is withheld, one in which nobody left is shown. The note said "fewer than 5 people in the group left",
while the national card's area table showed groups with 0 leavers (C035-South: 30 people, 0 left), so a data
protection officer read the table as breaking the card's own rule."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_withheld_fake_runs", REPO / "tests" / "test_promotion.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)


def test_the_withheld_note_states_the_rule_the_audit_applies():
    from retention_ml.fairness import audit_fairness
    from retention_ml.reports.model_card import _withheld_note

    preds = fake.fake_predictions()
    people = preds["worker_id"].drop_duplicates()
    nobody, two = people.iloc[:30], people.iloc[30:60]
    preds.loc[preds["worker_id"].isin(nobody), ["area", "label"]] = ["Nobody", 0.0]
    preds.loc[preds["worker_id"].isin(two), ["area", "label"]] = ["Two", 0.0]
    preds.loc[preds["worker_id"].isin(two.iloc[:2]), "label"] = 1.0  # both rows of two people: 2 leavers
    audit = audit_fairness(preds)
    area = audit.table[audit.table["factor"].eq("area")].set_index("group")
    assert not area.loc["Nobody", "withheld"] and area.loc["Nobody", "observed"] == 0  # 0 left: shown
    assert area.loc["Two", "withheld"]  # 2 left: withheld

    note = _withheld_note(audit)
    assert note.startswith("Withheld because 1 to 4 people in the group left (or stayed)")
    assert "Two" in note.split("area: ", 1)[1] and "Nobody" not in note
    assert note.endswith("A group in which nobody left (or nobody stayed) is shown: its 0 is about no one person.")


def test_the_per_team_figures_the_run_logs_are_said_beside_the_audits(tmp_path, scratch_store):
    """metrics.json holds each test-window team's expected and observed leavers by team id (the national run:
    4,289 teams); the card's note on what the run logs spoke only of the fairness audit."""
    from retention_ml import artifacts, tracking
    from retention_ml.reports.model_card import build_card, render_markdown

    with scratch_store(tmp_path):
        run = fake.make_fake_run(kind="good")
        teams = tracking.load_json_artifact(run, artifacts.METRICS_JSON)["teams"]
        md = render_markdown(build_card(run))
    ethics = " ".join(md.split("## Ethical considerations\n", 1)[1].split("\n## ", 1)[0].split())
    assert teams
    assert (f"The run also logs, in `{artifacts.METRICS_JSON}`, {len(teams)} test-window team"
            f"{'s' if len(teams) != 1 else ''} of 5 or more people by team id") in ethics
