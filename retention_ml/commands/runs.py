"""``retention-ml runs``: training runs side by side with their key test-window metrics."""

from __future__ import annotations

import json
from pathlib import Path

import typer

HELP = """List training runs (newest first) with their key test-window metrics side by side: LightGBM ROC-AUC, average precision, Brier, ECE, top-10% precision and recall, the logistic and team-base-rate baselines' ROC-AUC, and the registered model version with its aliases (for example "retention-ml-turnover v3 @champion").

Reads the tracking store (sqlite:///./mlflow.db unless MLFLOW_TRACKING_URI says otherwise).

Exit codes: 0 listed (also when the experiment has no runs yet), 2 could not run: no store at the tracking URI (it is not created by looking), an experiment name the store does not hold, or an unreadable store.

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
    import mlflow
    import pandas as pd

    from retention_ml import tracking

    uri = tracking.tracking_uri()
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        # Looking must not create an empty store where the user expected theirs.
        raise LookupError(f"no tracking store at {uri.removeprefix('sqlite:///')}: train a model first "
                          "(retention-ml train EXPERIMENT) or point MLFLOW_TRACKING_URI at the store")
    tracking.configure(uri)
    if experiment is not None and mlflow.get_experiment_by_name(experiment) is None:
        known = sorted(e.name for e in tracking.client().search_experiments())
        raise LookupError(f"no experiment named {experiment!r} in {uri} (experiments: {', '.join(known) or 'none'})")
    frame = tracking.search_runs(experiment)
    if frame.empty:
        return pd.DataFrame(columns=["run_id", "experiment", "start_time", *COLUMNS.values(), "registered", "data"])
    out = pd.DataFrame({
        "run_id": frame["run_id"],
        "experiment": frame.get("tags.retention_ml.experiment", pd.Series(index=frame.index, dtype=object)),
        "start_time": frame["start_time"].astype(str).str.slice(0, 19),
    })
    for metric, label in COLUMNS.items():
        col = f"metrics.{metric}"
        out[label] = frame[col].round(4) if col in frame else float("nan")
    out["registered"] = out["run_id"].map(_registered_versions()).fillna("")
    out["data"] = frame.get("tags.retention_ml.data_fingerprint", pd.Series(index=frame.index, dtype=object)).astype(str).str.slice(0, 10)
    return out.reset_index(drop=True)


def _registered_versions() -> dict[str, str]:
    """run id -> "name vN @alias ..." for every registered model version in the store."""
    from retention_ml import tracking

    client = tracking.client()
    # search_model_versions leaves aliases empty; the registered models carry them.
    alias_of: dict[tuple[str, str], list[str]] = {}
    for model in client.search_registered_models():
        for alias, version in (model.aliases or {}).items():
            alias_of.setdefault((model.name, str(version)), []).append(alias)
    out: dict[str, str] = {}
    for v in client.search_model_versions():
        aliases = "".join(f" @{a}" for a in sorted(alias_of.get((v.name, str(v.version)), [])))
        text = f"{v.name} v{v.version}{aliases}"
        out[v.run_id] = f"{out[v.run_id]}; {text}" if v.run_id in out else text
    return out


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
