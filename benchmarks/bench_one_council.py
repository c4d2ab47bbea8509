"""One council's model or a consortium's? Test leavers, ROC-AUC and calibration for each council of a simulated region.

A council of typical size (about 200-300 social workers) has 10-55 leavers in a one-date test window, so the gate's
``min_test_leavers`` (40) often refuses its own model. This script simulates a region of councils
(``retention-ml simulate --councils N``), cuts out each council's own extract (its teams, their workers, their rows
in every table: what that council alone would hold), and for each ``--test-periods`` value trains the default
experiment (``train_experiment(log=False)``: the split, model, baselines and 200-draw worker bootstrap of
``retention-ml train``) twice:

- on the council's own extract: its test leavers, ROC-AUC with its 95% interval, whether LightGBM beats both
  baselines (the gate's check) and observed / expected leavers (the gate's ``calibration_in_the_large``);
- on the whole region pooled (a consortium's model), read on that council's rows of the pooled test window: the
  same figures for the council, so the two models are compared on the same people and dates.

It prints the pooled model's whole-window figures too (what the gate reads for it) and the wall time of each training.

Usage
-----
    .venv/bin/python benchmarks/bench_one_council.py --out /tmp/bench_one --councils 8 --seeds 101,102
    .venv/bin/python benchmarks/bench_one_council.py --out /tmp/bench_one --councils 8 --seeds 101 --test-periods 1,4

Each council's training takes 10-40 s and the region's 40-80 s on a 2-core machine; figures depend on the seed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retention_ml.evaluate import beats_baselines, calibration_in_the_large, evaluate_models  # noqa: E402
from retention_ml.experiment import load_experiment  # noqa: E402
from retention_ml.training import train_experiment  # noqa: E402

EXPERIMENT = Path(__file__).resolve().parents[1] / "experiments" / "council_default.toml"


def council_extract(region: Path, council: str, out: Path) -> Path:
    """``council``'s own rows of every input table of ``region`` (no ``_truth``: as the council's own extract)."""
    if (out / "workers.parquet").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    teams = pd.read_csv(region / "teams.csv")
    teams = teams[teams["council_id"] == council]
    workers = pd.read_parquet(region / "workers.parquet", columns=["worker_id", "team_id", "home_area", "office_area"])
    workers = workers[workers["team_id"].isin(teams["team_id"])]
    ids = set(workers["worker_id"])
    # the council's housing figures: its teams' areas and every area its workers live or work in
    areas = set(teams["area"]) | set(workers["home_area"].dropna()) | set(workers["office_area"].dropna())
    for f in region.iterdir():
        if not f.is_file() or f.suffix not in (".csv", ".parquet"):
            continue
        d = pd.read_csv(f) if f.suffix == ".csv" else pd.read_parquet(f)
        if "worker_id" in d:
            d = d[d["worker_id"].isin(ids)]
        elif "council_id" in d:
            d = d[d["council_id"] == council]
        elif "area" in d:
            d = d[d["area"].isin(areas)]
        d.to_csv(out / f.name, index=False) if f.suffix == ".csv" else d.to_parquet(out / f.name, index=False)
    return out


def train(data: Path, test_periods: int):
    exp = load_experiment(EXPERIMENT, overrides=[f"data.path='{data}'", f"split.test_periods={test_periods}"])
    start = time.perf_counter()
    res = train_experiment(exp, log=False)
    return res, time.perf_counter() - start


def figures(pred: pd.DataFrame, boot: dict | None = None) -> dict:
    """Leavers (distinct people), ROC-AUC with its 95% worker-bootstrap interval, observed / expected and its z."""
    boot = boot or evaluate_models({"m": pred["risk"].to_numpy()}, pred["label"], workers=pred["worker_id"])["m"]
    level = calibration_in_the_large(pred["risk"], pred["label"], workers=pred["worker_id"])
    return {"people": pred["worker_id"].nunique(), "leavers": pred.loc[pred["label"] == 1, "worker_id"].nunique(),
            "auc": boot["roc_auc"]["value"], "low": boot["roc_auc"]["low"], "high": boot["roc_auc"]["high"],
            "ratio": level["ratio"], "z": level["z"]}


def line(label: str, f: dict, beats: str, seconds: float | None) -> str:
    t = f"{seconds:6.1f}" if seconds is not None else f"{'':>6}"
    return (f"  {label:<22} {f['people']:>6} {f['leavers']:>7} {f['auc']:>7.3f} [{f['low']:.3f}, {f['high']:.3f}] "
            f"{f['high'] - f['low']:>6.3f} {beats:>5} {f['ratio']:>6.2f} {f['z']:>6.1f} {t}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--councils", type=int, default=8)
    ap.add_argument("--seeds", default="101")
    ap.add_argument("--months", type=int, default=72)
    ap.add_argument("--test-periods", default="1,4", help="comma list of split.test_periods values")
    args = ap.parse_args()
    bin_ = Path(sys.executable).parent / "retention-ml"
    print("per council: people and leavers (distinct) in the test window, LightGBM ROC-AUC [95% interval] and its "
          "width, beats both baselines (the gate's check; pooled: on the whole region), observed / expected leavers "
          "and its z (standard errors from exactly right risks), training wall seconds", flush=True)
    for seed in map(int, args.seeds.split(",")):
        region = args.out / f"region{args.councils}_s{seed}_m{args.months}"
        if not (region / "_truth").exists():
            subprocess.run([str(bin_), "simulate", "--out", str(region), "--councils", str(args.councils), "--months",
                            str(args.months), "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL)
        councils = sorted(pd.read_csv(region / "teams.csv")["council_id"].unique())
        for tp in map(int, args.test_periods.split(",")):
            pooled, secs = train(region, tp)
            m = pooled.metrics["models"]
            beats = "yes" if all(beats_baselines(m).values()) else "no"
            print(f"seed {seed}, split.test_periods={tp}: region of {len(councils)} councils pooled", flush=True)
            print(line("region (pooled)", figures(pooled.predictions, m["lightgbm"]), beats, secs), flush=True)
            for council in councils:
                own_data = council_extract(region, council, args.out / f"{region.name}_{council}")
                try:
                    own, own_secs = train(own_data, tp)
                    own_beats = "yes" if all(beats_baselines(own.metrics["models"]).values()) else "no"
                    print(line(f"{council} own model", figures(own.predictions, own.metrics["models"]["lightgbm"]),
                               own_beats, own_secs), flush=True)
                except ValueError as exc:   # too little data for the split or the model
                    print(f"  {council} own model: could not train: {exc}", flush=True)
                rows = pooled.predictions[pooled.predictions["council_id"] == council]
                print(line(f"{council} pooled model", figures(rows), "", None), flush=True)


if __name__ == "__main__":
    main()
