"""The In brief carries the protected characteristics' group figures: the national card's summary said only that
sex, age, ethnicity and disability are not inputs, and a union representative had to find 18 rows among 470 in the
group tables to learn how the model treats them. Figures recomputed here from the predictions."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_fairness_brief_fake_runs", REPO / "tests" / "test_promotion.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)

PROTECTED = {"sex": "sex", "age_band": "age band", "ethnicity_group": "ethnicity group", "disability": "disability"}


def _gate(roc: bool = True, cal: bool = True):
    from retention_ml.promotion import Check

    return [Check("beats_baselines", True, ""), Check("group_roc_auc", roc, ""), Check("group_calibration", cal, "")]


def test_the_summary_gives_the_protected_groups_ends_and_the_gates_group_checks():
    from sklearn.metrics import roc_auc_score

    from retention_ml.fairness import audit_fairness
    from retention_ml.reports.model_card import _fairness_brief

    preds = fake.fake_predictions()
    audit = audit_fairness(preds)
    shown = audit.shown.set_index(["factor", "group"])
    # independently: per shown protected group, share who left minus mean risk, and ROC-AUC
    figures = {}
    for factor in PROTECTED:
        groups = [g for f, g in shown.index if f == factor]
        if len(groups) < 2:
            continue
        for group in groups:
            rows = preds[preds[factor].eq(group)]
            figures[(factor, group)] = (rows["label"].mean() - rows["risk"].mean(),
                                        roc_auc_score(rows["label"], rows["risk"]))
    assert len({f for f, _ in figures}) >= 2  # sex has one group shown in the fake run: left out
    text = _fairness_brief(audit, _gate(cal=False))
    diff = {k: v[0] for k, v in figures.items()}
    auc = {k: v[1] for k, v in figures.items()}

    def name(key):
        return f"{PROTECTED[key[0]]} {key[1].replace('_', '-') if key[1][0].isdigit() else key[1].replace('_', ' ')}"

    lo, hi = min(diff, key=diff.get), max(diff, key=diff.get)
    assert f"{len(figures)} groups shown" in text and "sex" not in text.split(")", 1)[0]
    if diff[hi] < 0:
        assert (f"fewer left than the risks predicted in every group, by {-100 * diff[hi]:.1f} pp ({name(hi)}) to "
                f"{-100 * diff[lo]:.1f} pp ({name(lo)})") in text
    else:
        assert f"{100 * diff[lo]:+.1f} pp ({name(lo)}" in text and f"{100 * diff[hi]:+.1f} pp ({name(hi)}" in text
    lo, hi = min(auc, key=auc.get), max(auc, key=auc.get)
    assert (f"ranking (ROC-AUC) ran from {auc[lo]:.3f} ({name(lo)}) to {auc[hi]:.3f} ({name(hi)}), against "
            f"{roc_auc_score(preds['label'], preds['risk']):.3f} for everyone") in text
    assert text.endswith("ranking passed, calibration FAILED (Promotion gate).")


def test_no_protected_characteristic_with_two_groups_shown_gives_no_summary_line():
    from retention_ml.fairness import audit_fairness
    from retention_ml.reports.model_card import _fairness_brief

    preds = fake.fake_predictions()
    for factor in PROTECTED:
        preds[factor] = "not_known"
    assert _fairness_brief(audit_fairness(preds), _gate()) is None
