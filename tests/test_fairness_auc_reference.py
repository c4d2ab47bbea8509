"""A group's ROC-AUC is judged against the ROC-AUC its own risks imply (van Klaveren et al.'s model-based
concordance), not against the whole window's: a group whose risks are alike ranks lower under any model, and the
gate must not fail it for that, while a group the model ranks at random still fails."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from retention_ml.fairness import audit_fairness, audit_from_record, audit_record, model_based_concordance
from retention_ml.promotion import _group_checks, load_thresholds


def _brute_force(p: np.ndarray) -> float:
    """Every ordered pair (i leaves, j stays) weighted by its chance, ranked right when p_i > p_j, ties half."""
    lead, stay = p[:, None], 1 - p[None, :]
    weight = lead * stay
    np.fill_diagonal(weight, 0.0)
    right = (p[:, None] > p[None, :]) + 0.5 * (p[:, None] == p[None, :])
    return float((weight * right).sum() / weight.sum())


@pytest.mark.parametrize("seed", range(6))
def test_closed_form_equals_every_pair(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    # risks rounded so that ties (which count one half) occur
    p = np.round(rng.beta(1.5, 6.0, n), int(rng.integers(1, 4)))
    assert model_based_concordance(p) == pytest.approx(_brute_force(p), abs=1e-12)


def test_per_group_equals_each_group_alone():
    rng = np.random.default_rng(7)
    p = np.round(rng.uniform(0, 0.6, 90), 2)
    by = np.repeat(["a", "b", "c"], 30)
    per_group = model_based_concordance(p, by=by)
    assert list(per_group.index) == ["a", "b", "c"]
    for g in "abc":
        assert per_group[g] == pytest.approx(_brute_force(p[by == g]), abs=1e-12)


def test_it_is_the_roc_auc_outcomes_drawn_from_the_risks_give():
    """Monte Carlo: outcomes drawn again and again from the risks, as if they were exactly right."""
    rng = np.random.default_rng(11)
    p = 1 / (1 + np.exp(-rng.normal(-1.7, 0.8, 600)))
    aucs = []
    for _ in range(800):
        y = rng.random(len(p)) < p
        aucs.append(roc_auc_score(y, p))
    assert model_based_concordance(p) == pytest.approx(float(np.mean(aucs)), abs=0.005)


def test_alike_risks_imply_a_coin_toss():
    assert model_based_concordance([0.2] * 5) == 0.5
    assert np.isnan(model_based_concordance([0.3]))


def _two_groups(seed: int, *, shuffle: str | None = None, people: int = 3000) -> pd.DataFrame:
    """An ordinary group (risks as spread as everyone's) and one whose risks are alike, beside the rest of the window
    (risks as spread as the ordinary group's); outcomes drawn from the risks. ``shuffle``: the group whose risks are
    shuffled among its people (a model ranking it at random)."""
    rng = np.random.default_rng(seed)
    sizes = [people, people, 4 * people]
    spread = np.r_[rng.normal(-1.7, 1.3, people), rng.normal(-1.7, 0.2, people), rng.normal(-1.7, 1.3, 4 * people)]
    truth = 1 / (1 + np.exp(-spread))
    rows = pd.DataFrame({"worker_id": np.arange(sum(sizes)), "area": np.repeat(["ordinary", "alike", "rest"], sizes),
                         "risk": truth, "label": (rng.random(sum(sizes)) < truth).astype(float)})
    if shuffle:
        mine = rows["area"].eq(shuffle).to_numpy()
        rows.loc[mine, "risk"] = rng.permutation(rows.loc[mine, "risk"].to_numpy())
    return rows


def test_the_gate_passes_a_group_ranked_as_well_as_its_alike_risks_allow():
    audit = audit_fairness(_two_groups(0), factors=["area"])
    groups = audit.group_shortfalls().set_index("group")
    alike = groups.loc["alike"]
    # far below the whole window, by more than the threshold and by many standard errors ...
    thresholds = load_thresholds()
    assert alike["roc_auc_shortfall"] > thresholds["max_group_roc_auc_shortfall"] + 4 * alike["roc_auc_se"]
    # ... and as its risks say it should be
    assert abs(alike["reference_shortfall"]) < 2 * alike["roc_auc_se"]
    check = {c.name: c for c in _group_checks(audit, thresholds)}["group_roc_auc"]
    assert check.passed, check.detail
    assert "its own risks imply" in check.detail


@pytest.mark.parametrize("shuffled", ["ordinary", "alike"])
def test_the_gate_fails_a_group_the_model_ranks_at_random(shuffled):
    rows = _two_groups(1, shuffle=shuffled)
    if shuffled == "alike":
        # risks spread enough within the group that ranking it at random loses more than the threshold
        mine = rows["area"].eq("alike")
        rows.loc[mine, "risk"] = 1 / (1 + np.exp(-np.random.default_rng(5).normal(-1.7, 0.9, int(mine.sum()))))
        rows.loc[mine, "label"] = (np.random.default_rng(6).random(int(mine.sum())) < rows.loc[mine, "risk"]).astype(float)
        rows.loc[mine, "risk"] = np.random.default_rng(7).permutation(rows.loc[mine, "risk"].to_numpy())
    audit = audit_fairness(rows, factors=["area"])
    check = {c.name: c for c in _group_checks(audit, load_thresholds())}["group_roc_auc"]
    assert not check.passed
    assert f"over threshold beyond chance: area={shuffled}" in check.detail


def test_a_record_logged_before_the_reference_keeps_the_whole_window_rule():
    """An older run's logged audit lacks the figure: the gate judges against the whole window, as it did when the run
    was trained (stricter on alike groups, never laxer), and says so."""
    rows = _two_groups(0)
    record = audit_record(audit_fairness(rows, factors=["area"]), rows)
    assert "roc_auc_reference" in record["columns"]
    old = {**record, "columns": [c for c in record["columns"] if c != "roc_auc_reference"],
           "groups": [{k: v for k, v in g.items() if k != "roc_auc_reference"} for g in record["groups"]]}
    audit = audit_from_record(old)
    assert not audit.has_auc_reference()
    assert audit.group_shortfalls()["roc_auc_reference"].isna().all()
    check = {c.name: c for c in _group_checks(audit, load_thresholds())}["group_roc_auc"]
    assert not check.passed and "area=alike" in check.detail
    assert "lacks the ROC-AUC each group's own risks imply" in check.detail
    # the new record reads back with the figure, and the gate judges against it
    assert audit_from_record(record).has_auc_reference()


# -- the card: what a board reads ------------------------------------------------------------------------------
def _card_notes(audit):
    from retention_ml.reports.model_card import _ranking_notes

    return _ranking_notes(audit, audit.group_shortfalls(), load_thresholds(), 0.05)


def test_the_card_says_a_group_of_alike_risks_is_ranked_as_its_risks_allow():
    audit = audit_fairness(_two_groups(0), factors=["area"])
    notes = _card_notes(audit)
    alike = audit.group_shortfalls().set_index("group").loc["alike"]
    below = next(n for n in notes if n.startswith("Furthest below everyone's ranking: area = alike"))
    # observed, what its own risks imply, and everyone's, each as the card prints them
    for figure in (alike["roc_auc"], alike["roc_auc_reference"], audit.overall["roc_auc"]):
        assert f"{figure:.3f}" in below
    assert "this group's risks are alike, so ranking within it is harder for any model" in below


def test_the_card_says_a_group_ranked_at_random_is_ranked_worse_than_its_risks_say():
    audit = audit_fairness(_two_groups(1, shuffle="ordinary"), factors=["area"])
    worst = _card_notes(audit)[0]
    assert worst.startswith("Ranking against what its own risks imply is weakest for area = ordinary")
    assert "ranks this group's leavers worse than its own risks say it should" in worst
    assert "the gate fails the model on it" in worst


def test_the_card_reads_a_record_logged_before_the_reference():
    from retention_ml.reports.model_card import _fairness_rows

    rows = _two_groups(0)
    record = audit_record(audit_fairness(rows, factors=["area"]), rows)
    old = audit_from_record({**record, "columns": [c for c in record["columns"] if c != "roc_auc_reference"],
                             "groups": [{k: v for k, v in g.items() if k != "roc_auc_reference"}
                                        for g in record["groups"]]})
    notes = _card_notes(old)
    assert len(notes) == 1 and notes[0].startswith("Ranking is weakest for area = alike")
    assert "does not hold the ROC-AUC each group's own risks imply" in notes[0]
    assert {r["roc_auc_reference"] for r in _fairness_rows(old)["area"]} == {"not recorded"}
    assert "roc_auc_reference" not in old.summary().columns
    new = _fairness_rows(audit_from_record(record))["area"]
    assert all(r["roc_auc_reference"] not in ("not recorded", "n/a", "") for r in new)


def test_an_area_ranked_at_random_fails_alone_not_every_group_living_in_it():
    """Against its own risks alone, every age band with people in a misranked area would rank below what its risks
    imply; less the whole window's own shortfall, only the area does."""
    rows = _two_groups(2, shuffle="ordinary")
    rows["age_band"] = np.random.default_rng(3).choice(["under_30", "30_49", "50_plus"], len(rows))
    audit = audit_fairness(rows, factors=["area", "age_band"])
    groups = audit.group_shortfalls().set_index("group")
    pure = groups["roc_auc_reference"] - groups["roc_auc"]
    bands = ["under_30", "30_49", "50_plus"]
    assert (pure[bands] > 4 * groups.loc[bands, "roc_auc_se"]).all()   # beyond chance, though no age band's doing
    assert (groups.loc[bands, "reference_shortfall"].abs() < 2 * groups.loc[bands, "roc_auc_se"]).all()
    check = {c.name: c for c in _group_checks(audit, load_thresholds())}["group_roc_auc"]
    failed = check.detail.split("over threshold beyond chance: ")[1].split(";")[0]
    assert failed.startswith("area=ordinary") and "age_band" not in failed
