"""A reader of a run's logged artifacts cannot tie a real team to its members' protected characteristics.

``metrics.json`` names each team of 5 or more with its snapshot rows (``n``), expected and observed leavers, as
issue 5 asks. Audit rows that carried a team key, even a run-local pseudonym, were grouped by it and matched on
those three figures, which named the team beside each member's sex, age band, ethnicity, disability and outcome.
The rows carry no team key now; the card's team check is computed at training and logged in ``metrics.json``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml import artifacts, tracking
from retention_ml.disclosure import AUDIT_RISK_DECIMALS
from retention_ml.fairness import FLAGGED
from retention_ml.training import AUDIT_KEYS, PROTECTED_KEYS, audit_rows


def linked_teams(rows: pd.DataFrame, teams: list[dict], key: str) -> set[str]:
    """The named teams exactly one group of ``rows`` by ``key`` matches on rows, leavers and expected leavers (the
    rows' risks are rounded: each may be off by half a unit of their last decimal; ``expected`` by half of its own,
    at most 0.05 at 1 decimal)."""
    groups = rows.groupby(key).agg(n=("risk", "size"), expected=("risk", "sum"), observed=("label", "sum"))
    linked = set()
    for team in teams:
        slack = 0.0005 * team["n"] + 0.05
        match = groups[(groups["n"] == team["n"]) & (groups["observed"] == team["observed"])
                       & ((groups["expected"] - team["expected"]).abs() <= slack)]
        if len(match) == 1:
            linked.add(team["team_id"])
    return linked


def _logged(result) -> tuple[pd.DataFrame, dict]:
    """The audit rows training computed the logged audit from (no longer logged themselves) and metrics.json."""
    assert artifacts.TEST_PREDICTIONS not in tracking.list_artifacts(result.run_id, artifacts.EVALUATION_DIR)
    return audit_rows(result.predictions), tracking.load_json_artifact(result.run_id, artifacts.METRICS_JSON)


def test_no_key_of_the_logged_rows_ties_a_named_team_to_its_members(sim_model):
    result, _ = sim_model
    rows, metrics = _logged(result)
    teams = metrics["teams"]
    assert len(teams) >= 5   # the run names teams: the attack has something to aim at
    # The attack has the power to link: rows keyed by a team pseudonym (as logged before) give most teams away.
    keyed = result.predictions.assign(team=pd.factorize(result.predictions["team_id"])[0],
                                      risk=result.predictions["risk"].round(AUDIT_RISK_DECIMALS))
    assert len(linked_teams(keyed, teams, "team")) >= len(teams) // 4
    # The logged rows hold no column other than the audit's own published groups that groups people into teams.
    published = {*AUDIT_KEYS, *PROTECTED_KEYS, "label", "risk", FLAGGED}
    linked = {key: sorted(linked_teams(rows, teams, key)) for key in rows.columns if key not in published}
    assert not any(linked.values()), f"named teams tied to their members' rows, by key: {linked}"
    assert list(linked) == ["person"]


def test_the_card_reads_the_team_check_training_logged(sim_model):
    """The check the card shows is computed at training from each team's full-precision risks (what a list
    computes its range from) and logged; the card shows it without any team key in the rows."""
    from retention_ml.evaluate import team_checks
    from retention_ml.reports.model_card import build_card

    result, _ = sim_model
    rows, metrics = _logged(result)
    assert not {"team", "team_id"} & set(rows.columns)
    expected = team_checks(result.predictions[["as_of", "team_id", "worker_id", "label", "risk"]])
    assert metrics["team_checks"]["dates"] and metrics["team_checks"]["dates"][0]["teams"] > 0
    assert metrics["team_checks"]["level"] == expected["level"] and metrics["team_checks"]["min_people"] == expected["min_people"]
    for logged, computed in zip(metrics["team_checks"]["dates"], expected["dates"], strict=True):
        assert logged.keys() == computed.keys()
        for k, v in computed.items():
            assert logged[k] == (np.float64(v) if isinstance(v, float) else v), k
    assert build_card(result.run_id).context["team_checks"] == metrics["team_checks"]


def test_the_card_names_what_an_older_runs_team_key_gives_away(sim_model):
    """Runs logged while the rows carried a team pseudonym stay readable, and their card says how many named teams
    the pseudonym gives away (the count this module's attack gets) and what to do; a run logged now gets no such
    note."""
    from retention_ml.reports.model_card import _team_key_note

    result, _ = sim_model
    rows, metrics = _logged(result)
    assert _team_key_note(rows, metrics) is None
    predictions = result.predictions
    older = predictions.assign(team=pd.factorize(predictions["team_id"])[0],
                               risk=predictions["risk"].round(AUDIT_RISK_DECIMALS)).drop(columns=["team_id", "worker_id"])
    # such runs logged each named team's expected leavers to 3 decimals
    sums = predictions.groupby("team_id")["risk"].sum()
    old_metrics = metrics | {"teams": [t | {"expected": round(float(sums[t["team_id"]]), 3)} for t in metrics["teams"]]}
    linked = len(linked_teams(older, old_metrics["teams"], "team"))
    note = _team_key_note(older, old_metrics)
    named = int(note.removeprefix("**This run's logged test rows name ").split(" ")[0])
    # the card's match allows only 3 decimals' rounding, so it finds at least the teams this module's attack does
    assert named >= linked >= len(metrics["teams"]) // 4
    assert note.startswith(f"**This run's logged test rows name {named} of the {len(metrics['teams'])} teams")
    assert "train the experiment again" in note
