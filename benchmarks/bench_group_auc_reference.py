"""How often does the gate's group ROC-AUC check fail a group, judged against the whole window's ROC-AUC (the rule
before) or against the ROC-AUC expected of it (the rule now): the one its own risks imply
(``fairness.model_based_concordance``) less what the whole window falls short of everyone's
(``FairnessAudit.group_shortfalls``: ``roc_auc_expected``)?

Each sample is a test window of calibrated risks around a 15% leaver rate, one row per person: ``--ordinary``
groups whose risks are spread as everyone's (log-odds normal, sd 0.8, as ``bench_gate_level.py``) and one group
whose risks are alike (sd ``--alike-sd``: one age band, one small area sharing a caseload cap and rent); outcomes are
drawn from the risks. Three models are scored on it: exactly right (every failure is false); one whose risks for the
first ordinary group are shuffled among its people (it ranks that group at random: a failure is wanted); one whose
risks for the alike group are shuffled; one that gives the first ordinary group risks as alike as the alike group's,
unrelated to the truth (it cannot tell that group's people apart). For each, over ``--reps`` samples, it prints the share of samples in which
each rule fails the ordinary group and the alike group, with the mean observed ROC-AUC, the mean ROC-AUC the group's
own risks imply, the mean expected of it, and the whole window's.

A rule fails a group as ``promotion._evidence_check`` does: shortfall over ``max_group_roc_auc_shortfall`` AND over
z standard errors (``fairness.auc_standard_error``, Hanley and McNeil, what the gate reads for one row per person),
z = ``promotion.chance_z`` at ``group_family_alpha`` over the groups compared. The figures come from
``fairness.audit_fairness`` itself (``FairnessAudit.group_shortfalls``), the numbers training logs for the gate.

Usage
-----
    .venv/bin/python benchmarks/bench_group_auc_reference.py
    .venv/bin/python benchmarks/bench_group_auc_reference.py --people 300 --reps 100 --alike-sd 0.5
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit, logit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retention_ml.fairness import audit_fairness  # noqa: E402
from retention_ml.promotion import chance_z, load_thresholds  # noqa: E402

MODELS = ("exactly right", "ordinary group shuffled", "alike group shuffled", "ordinary group flattened")
SHUFFLED = {"ordinary group shuffled": "G01", "alike group shuffled": "alike"}


def window(people: int, ordinary: int, alike_sd: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = [f"G{i + 1:02d}" for i in range(ordinary)] + ["alike"]
    sd = np.repeat([0.8] * ordinary + [alike_sd], people)
    risk = expit(logit(0.15) + sd * rng.normal(size=len(sd)))   # each group's own spread around 15%
    return pd.DataFrame({"worker_id": np.arange(len(sd)), "group": np.repeat(names, people), "risk": risk,
                         "label": (rng.random(len(sd)) < risk).astype(float)})


def one(people: int, ordinary: int, alike_sd: float, seed: int, limit: float, alpha: float) -> list[dict]:
    rows = window(people, ordinary, alike_sd, seed)
    rng = np.random.default_rng(10_000 + seed)
    out = []
    for model in MODELS:
        scored = rows.copy()
        if (target := SHUFFLED.get(model)) is not None:
            mine = scored["group"].eq(target).to_numpy()
            scored.loc[mine, "risk"] = rng.permutation(scored.loc[mine, "risk"].to_numpy())
        elif model == "ordinary group flattened":
            # risks as alike as the alike group's, unrelated to the truth: the model cannot tell the group's people
            # apart, though their chances differ; from its risks and outcomes alone this is the alike group exactly right
            mine = scored["group"].eq("G01").to_numpy()
            scored.loc[mine, "risk"] = expit(logit(0.15) + alike_sd * rng.normal(size=int(mine.sum())))
        audit = audit_fairness(scored, factors=["group"])
        g = audit.group_shortfalls().set_index("group")
        z = chance_z(alpha, int(g["roc_auc"].notna().sum()))
        for group in ("G01", "alike"):
            r = g.loc[group]
            out.append({"model": model, "group": group, "auc": r["roc_auc"], "reference": r["roc_auc_reference"],
                        "expected": r["roc_auc_expected"], "whole": audit.overall["roc_auc"],
                        "old": bool(r["roc_auc_shortfall"] > limit and r["roc_auc_shortfall"] > z * r["roc_auc_se"]),
                        "new": bool(r["reference_shortfall"] > limit and r["reference_shortfall"] > z * r["roc_auc_se"])})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", default="130,400,1500", help="people per group (one row each)")
    parser.add_argument("--ordinary", type=int, default=5, help="groups whose risks are spread as everyone's")
    parser.add_argument("--alike-sd", type=float, default=0.3, help="log-odds spread of the alike group's risks")
    parser.add_argument("--reps", type=int, default=400)
    args = parser.parse_args()
    thresholds = load_thresholds()
    limit, alpha = thresholds["max_group_roc_auc_shortfall"], thresholds["group_family_alpha"]
    print(f"max_group_roc_auc_shortfall {limit}, group_family_alpha {alpha}, {args.ordinary} ordinary groups (risk "
          f"log-odds sd 0.8) + 1 alike (sd {args.alike_sd}), leaver rate about 15%, {args.reps} samples per size")
    print(f"{'people':>6}  {'model':<24} {'group':<8} {'observed':>8} {'own risks':>9} {'expected':>8} {'whole':>6} "
          f"{'fail: old rule':>14} {'fail: new rule':>14}")
    for n in map(int, args.people.split(",")):
        frame = pd.DataFrame([r for seed in range(args.reps)
                              for r in one(n, args.ordinary, args.alike_sd, seed, limit, alpha)])
        table = frame.groupby(["model", "group"], sort=False).agg(
            auc=("auc", "mean"), reference=("reference", "mean"), expected=("expected", "mean"),
            whole=("whole", "mean"), old=("old", "mean"),
            new=("new", "mean"))
        for (model, group), r in table.iterrows():
            name = "ordinary" if group == "G01" else "alike"
            print(f"{n:>6}  {model:<24} {name:<8} {r['auc']:>8.3f} {r['reference']:>9.3f} {r['expected']:>8.3f} {r['whole']:>6.3f} "
                  f"{r['old']:>14.1%} {r['new']:>14.1%}", flush=True)


if __name__ == "__main__":
    main()
