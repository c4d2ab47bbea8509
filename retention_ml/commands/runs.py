"""``retention-ml runs``: training runs side by side with their key test-window metrics."""

from __future__ import annotations

import json

import typer

HELP = """List training runs (newest first) with their key test-window metrics side by side: LightGBM ROC-AUC, average precision, Brier, ECE, top-10% precision and recall, the logistic and team-base-rate baselines' ROC-AUC, and the registered version.

Reads the tracking store (sqlite:///./mlflow.db unless MLFLOW_TRACKING_URI says otherwise).

Exit codes: 0 listed (also when there are no runs), 2 could not read the store.

\b
Examples:
  retention-ml runs
  retention-ml runs --experiment council_default
  retention-ml runs --json
"""

COLUMNS = {
    "lightgbm.roc_auc": "auc",
    "lightgbm.average_precision": "ap",
    "lightgbm.brier": "brier",
    "lightgbm.ece": "ece",
    "lightgbm.precision_top10": "prec@10%",
    "lightgbm.recall_top10": "rec@10%",
    "logistic.roc_auc": "logistic auc",
    "team_base_rate.roc_auc": "team-rate auc",
}


def register(app: typer.Typer) -> None:
    app.command("runs", help=HELP)(runs)


def runs_table(experiment: str | None = None):
    """DataFrame: one row per run with run_id, experiment, start time, key metrics and the data fingerprint."""
    import pandas as pd

    from retention_ml import tracking

    tracking.configure()
    frame = tracking.search_runs(experiment)
    if frame.empty:
        return pd.DataFrame(columns=["run_id", "experiment", "start_time", *COLUMNS.values()])
    out = pd.DataFrame({
        "run_id": frame["run_id"],
        "experiment": frame.get("tags.retention_ml.experiment", pd.Series(index=frame.index, dtype=object)),
        "start_time": frame["start_time"].astype(str).str.slice(0, 19),
    })
    for metric, label in COLUMNS.items():
        col = f"metrics.{metric}"
        out[label] = frame[col].round(4) if col in frame else float("nan")
    out["data"] = frame.get("tags.retention_ml.data_fingerprint", pd.Series(index=frame.index, dtype=object)).astype(str).str.slice(0, 10)
    return out.reset_index(drop=True)


def runs(
    experiment: str = typer.Option(None, "--experiment", help="Only runs of this experiment (its name), e.g. council_default."),
    json_out: bool = typer.Option(False, "--json", help="Print the table as JSON records."),
) -> None:
    from rich.console import Console
    from rich.table import Table

    try:
        table = runs_table(experiment)
    except Exception as exc:  # store unreachable or corrupt: could not run
        typer.echo(json.dumps({"ok": False, "error": str(exc)}) if json_out else f"cannot read runs: {exc}", err=not json_out)
        raise typer.Exit(2)
    if json_out:
        typer.echo(table.to_json(orient="records", indent=2))
        return
    view = Table(title=f"training runs{' of ' + experiment if experiment else ''} (test window)")
    for col in table.columns:
        view.add_column(col, justify="right" if col in COLUMNS.values() else "left")
    table = table.assign(run_id=table["run_id"].str.slice(0, 8), start_time=table["start_time"].str.slice(0, 16))
    for row in table.itertuples(index=False):
        view.add_row(*[("" if (isinstance(v, float) and v != v) else str(v)) for v in row])
    Console().print(view)
