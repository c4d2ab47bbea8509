"""A group-ranking pass names the groups it could not judge: large enough to audit (20+ people) but with too few
leavers or stayers for a ROC-AUC. On the demo council those were the Black, Asian and disabled workers, and the
gate read "pass" with no word that their ranking was never checked."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _predictions() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 400
    ethnicity = np.array(["white"] * 300 + ["black"] * 40 + ["asian"] * 60)
    sex = np.array(["female"] * 350 + ["male"] * 40 + ["not_known"] * 10)
    rng.shuffle(sex)
    risk = rng.uniform(0.05, 0.4, n)
    label = (rng.random(n) < risk).astype(float)
    label[ethnicity == "black"] = 0.0                            # nobody left: no ROC-AUC for this group
    male = np.flatnonzero(sex == "male")
    label[male] = 0.0
    label[male[:3]] = 1.0                                        # male: withheld (not_known is under 20), 3 leavers
    return pd.DataFrame({"worker_id": [f"W{i:04d}" for i in range(n)], "label": label, "risk": risk,
                         "ethnicity_group": ethnicity, "sex": sex})


def test_a_ranking_pass_names_the_groups_it_could_not_check():
    from retention_ml.fairness import audit_fairness
    from retention_ml.promotion import _group_checks, load_thresholds

    audit = audit_fairness(_predictions())
    assert bool(audit.table.set_index("group").loc["male", "withheld"])
    roc = next(c for c in _group_checks(audit, load_thresholds()) if c.name == "group_roc_auc")
    assert roc.passed  # what passes is unchanged: the detail says what the pass does not cover
    assert ("ranking NOT checked for 2 of 5 groups (fewer than 5 leavers or 5 stayers, so a pass says nothing "
            "about them): ethnicity_group=black (and 1 group withheld in the card)") in roc.detail
    assert "sex=male" not in roc.detail  # a withheld group is not described, not even by a bound



def test_groups_over_the_threshold_within_chance_name_no_withheld_group():
    # A withheld group's figures are not in the card; naming it among the groups "over threshold within chance" told
    # the reader its gap was over the threshold. It is counted instead. A group that fails is still named.
    from retention_ml.promotion import _evidence_check

    groups = pd.DataFrame({"factor": ["area"] * 3 + ["age_band"], "group": ["north", "south", "east", "50_59"],
                           "gap": [0.12, 0.11, 0.30, 0.15], "se": [0.2, 0.2, 0.01, 0.2],
                           "withheld": [False, False, False, True]})
    check = _evidence_check("group_calibration", groups, "gap", "se", 0.1, 0.05, "gap", "Calibration")
    assert not check.passed and "beyond chance: area=east (0.300)" in check.detail
    within = check.detail.split("within chance", 1)[1]
    assert "area=north (0.120), area=south (0.110) and 1 group withheld in the card" in within
    assert "50_59" not in check.detail

    groups.loc[3, "se"] = 0.001                       # the withheld group now fails: named, without its figure
    check = _evidence_check("group_calibration", groups, "gap", "se", 0.1, 0.05, "gap", "Calibration")
    assert "age_band=50_59 (figures withheld in the card)" in check.detail.split("within chance", 1)[0]
