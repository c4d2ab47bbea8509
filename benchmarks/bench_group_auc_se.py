"""How wide is a group's ROC-AUC standard error when the test window holds each person at several dates?

Rebuilds a run's test rows (its logged model on its data at its test dates; pseudonymous audit rows, kept in memory)
and, for ``--groups`` areas drawn at random and any named with ``--area``, prints three standard errors of the area's
ROC-AUC against the spread of that ROC-AUC when people (all their rows alike) are drawn again (``--draws`` Poisson
weights per person): Hanley and McNeil on the people who left and stayed (the gate's figure until session 20),
Obuchowski's clustered estimator (``fairness.clustered_auc_standard_error``, now logged for a window of several
dates) and DeLong on rows as if each were a person. Then the gate's verdict for the named areas with each.

Usage (national size: wrap in ``flock /tmp/national.lock``)
-----
    .venv/bin/python benchmarks/bench_group_auc_se.py --artifacts STORE/mlartifacts/RUN/artifacts --data DATA \\
        --area C021-North
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retention_ml import training  # noqa: E402
from retention_ml.artifacts import FAIRNESS_AUDIT  # noqa: E402
from retention_ml.experiment import load_experiment  # noqa: E402
from retention_ml.fairness import audit_fairness, auc_standard_error, clustered_auc_standard_error  # noqa: E402
from retention_ml.features import build_dataset  # noqa: E402
from retention_ml.labels import LabelConfig  # noqa: E402
from retention_ml.promotion import chance_z, load_thresholds  # noqa: E402


def test_rows(artifacts: Path, data: str) -> pd.DataFrame:
    exp = load_experiment(artifacts / "experiment_effective.toml")
    dates = [pd.Timestamp(d) for d in json.loads((artifacts / FAIRNESS_AUDIT).read_text())["window"]["dates"]]
    tables = training.read_data(data)
    label = LabelConfig(horizon_months=exp["label"]["horizon_months"], positive_reasons=tuple(exp["label"]["positive_reasons"]),
                        agency=exp["population"]["agency"])
    ds = build_dataset(tables, dates, label_config=label)
    keep = ~ds.censored.to_numpy(dtype=bool) & ds.y.notna().to_numpy()
    keys = ds.keys.loc[keep].reset_index(drop=True)
    workers = tables["workers"]
    extra = [c for c in training.PROTECTED_KEYS if c in workers.columns and c not in keys.columns]
    keys = keys.merge(workers[["worker_id", *extra]].drop_duplicates("worker_id"), on="worker_id", how="left")
    model = joblib.load(artifacts / "model_object" / "turnover_model.joblib")
    keys["label"] = ds.y.loc[keep].to_numpy(dtype=float)
    keys["risk"] = model.predict_proba(ds.X.loc[keep].reset_index(drop=True).astype("float64"))[:, 1]
    return training.audit_rows(keys)


def people_spread(rows: pd.DataFrame, draws: int, rng) -> float:
    person = pd.factorize(rows["person"])[0]
    weights = rng.poisson(1.0, (draws, person.max() + 1))[:, person]
    label = rows["label"].to_numpy()
    # a draw with no one who left (or stayed) has no ROC-AUC: left out, as a group under MIN_CLASS is
    both = ((weights * label).sum(axis=1) > 0) & ((weights * (1 - label)).sum(axis=1) > 0)
    return float(np.std([roc_auc_score(label, rows["risk"], sample_weight=w) for w in weights[both]]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--artifacts", type=Path, required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--groups", type=int, default=30)
    ap.add_argument("--draws", type=int, default=300)
    ap.add_argument("--area", action="append", default=[])
    args = ap.parse_args()
    rows = test_rows(args.artifacts, args.data)
    audit = audit_fairness(rows, factors=["area"])
    table = audit.table.set_index("group")
    print(f"{len(rows):,} rows of {rows['person'].nunique():,} people at {rows['as_of'].nunique()} dates; "
          f"overall ROC-AUC {audit.overall['roc_auc']:.4f}")
    assessed = table[table["status"].eq("ok") & table["roc_auc"].notna()]
    clustered = clustered_auc_standard_error(rows["risk"], rows["label"], workers=rows["person"], by=rows["area"])
    as_rows = clustered_auc_standard_error(rows["risk"], rows["label"], workers=np.arange(len(rows)), by=rows["area"])
    rng = np.random.default_rng(0)
    picked = list(rng.choice(assessed.index, min(args.groups, len(assessed)), replace=False))
    out = []
    for area in dict.fromkeys(args.area + picked):
        g = table.loc[area]
        out.append({"area": area, "people": int(g["people"]), "leavers": int(g["leaving_people"]), "roc_auc": g["roc_auc"],
                    "hanley_people": float(auc_standard_error(g["roc_auc"], g["leaving_people"], g["staying_people"])),
                    "clustered": clustered[area], "delong_rows": as_rows[area],
                    "people_bootstrap": people_spread(rows[rows["area"] == area], args.draws, rng)})
    out = pd.DataFrame(out).set_index("area")
    print(out.round(3).to_string())
    ratio = out[["hanley_people", "clustered", "delong_rows"]].div(out["people_bootstrap"], axis=0).loc[picked]
    print(f"\nagainst the bootstrap over people, {len(picked)} areas drawn at random (min, mean, max):")
    for c in ratio:
        print(f"  {c}: {ratio[c].min():.2f}, {ratio[c].mean():.2f}, {ratio[c].max():.2f}")
    th = load_thresholds()
    compared = int(audit_fairness(rows).group_shortfalls()["roc_auc_shortfall"].notna().sum())   # every factor, as the gate
    z = chance_z(th["group_family_alpha"], compared)
    for area in args.area:
        r = out.loc[area]
        short = audit.overall["roc_auc"] - r["roc_auc"]
        print(f"\n{area}: shortfall {short:.3f}; beyond chance from {z:.2f} standard errors ({compared} groups): "
              + "; ".join(f"{c} {short / r[c]:.2f}" for c in ("hanley_people", "clustered", "people_bootstrap")))


if __name__ == "__main__":
    main()
