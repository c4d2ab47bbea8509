"""``retention-ml benchmark``: the toolkit's default training path on public benchmark data."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from retention_ml.commands import fail

HELP = """Run a public benchmark with the toolkit's own defaults and print mean and standard deviation per model.

ibm: the IBM HR Analytics attrition sample (1,470 employees, packaged copy) mapped by experiments/ibm_hr.toml (or --experiment), repeated stratified 5-fold cross-validation (3 repeats, fixed seeds). Per fold, LightGBM is tuned (the experiment's tuning budget) and cross-fitted inside the fold's training rows (inner folds pick the trees and the Platt calibration, then the trees are refitted on all of them), exactly as `retention-ml train` does on a flat extract; the logistic baseline is fitted on the fold's training rows. Protected characteristics listed in the experiment (Age, Gender, MaritalStatus) are never model inputs. Published figures (shared/data README): LightGBM ROC-AUC 0.791, XGBoost average precision 0.556, plain logistic regression about 0.84 / 0.64 (with all columns).

Exit codes: 0 ran, 2 could not run.

\b
Examples:
  retention-ml benchmark ibm
  retention-ml benchmark ibm --json
  retention-ml benchmark ibm --set tuning.trials=20 --repeats 1
"""

PUBLISHED = {"lightgbm": {"roc_auc": 0.791}, "xgboost": {"average_precision": 0.556}, "logistic": {"roc_auc": 0.84, "average_precision": 0.64}}


def register(app: typer.Typer) -> None:
    app.command("benchmark", help=HELP)(benchmark)


def default_experiment() -> Path:
    # Repository layout: experiments/ next to the package; fall back to the working directory.
    here = Path(__file__).resolve().parents[2] / "experiments" / "ibm_hr.toml"
    return here if here.is_file() else Path("experiments/ibm_hr.toml")


def benchmark(
    name: str = typer.Argument(..., help="Benchmark to run: ibm."),
    experiment: Path = typer.Option(None, "--experiment", help="Experiment file mapping the data (default experiments/ibm_hr.toml)."),
    set_: list[str] = typer.Option(None, "--set", help="Override an experiment key, e.g. --set tuning.trials=20."),
    repeats: int = typer.Option(3, "--repeats", min=1, help="Repeats of stratified 5-fold cross-validation."),
    json_out: bool = typer.Option(False, "--json", help="Print the summary and every fold as JSON."),
) -> None:
    from rich.console import Console
    from rich.progress import Progress

    from retention_ml.experiment import ExperimentError, load_experiment
    from retention_ml.training import cross_validate_flat

    if name != "ibm":
        fail(f"unknown benchmark {name!r}; available: ibm", 2, json_out=json_out, style=None)
    try:
        exp = load_experiment(experiment or default_experiment(), overrides=set_ or [])
        with Progress(console=Console(stderr=True), transient=True, disable=json_out) as bar:
            task = bar.add_task("cross-validating", total=5 * repeats)
            folds = cross_validate_flat(exp, n_repeats=repeats, progress=lambda d, t: bar.update(task, completed=d))
    except (ExperimentError, FileNotFoundError, ValueError) as exc:
        fail(str(exc) if json_out else f"could not run: {exc}", 2, json_out=json_out, style=None)
    summary = folds.drop(columns=["repeat", "fold"]).groupby("model").agg(["mean", "std"])
    out = {m: {metric: {"mean": float(summary.loc[m, (metric, "mean")]), "std": float(summary.loc[m, (metric, "std")])}
               for metric in ("roc_auc", "average_precision", "brier")} for m in summary.index}
    if json_out:
        typer.echo(json.dumps({"ok": True, "benchmark": "ibm", "cv": f"stratified 5-fold x {repeats}", "seed": exp["seed"],
                               "models": out, "published": PUBLISHED, "folds": folds.to_dict("records")}, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"IBM HR attrition: stratified 5-fold CV x {repeats} (seed {exp['seed']}), mean ± sd")
    for col in ("model", "ROC-AUC", "average precision", "Brier"):
        table.add_column(col)
    for m, rec in out.items():
        table.add_row(m, *[f"{rec[k]['mean']:.3f} ± {rec[k]['std']:.3f}" for k in ("roc_auc", "average_precision", "brier")])
    table.add_row("published LightGBM", "0.791", "", "")
    table.add_row("published XGBoost", "", "0.556", "")
    table.add_row("published logistic", "≈0.84", "≈0.64", "")
    Console().print(table)
