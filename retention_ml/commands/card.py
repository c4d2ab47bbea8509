"""``retention-ml card --run RUN``: write the model card for a training run and log it to the run."""

from __future__ import annotations

import json
from pathlib import Path

import typer

HELP = """Write the model card (Mitchell et al., 2019) for a training run: model_card.md, a self-contained model_card.html (plots inline) and fairness.csv, logged to the run under model_card/ with tag retention_ml.card=written (the promotion gate requires it).

Every number comes from the run's MLflow record: test-window metrics and baselines, calibration, data windows and censoring, the group audit (sex, age band, ethnicity group, disability, employment type, service, area; groups under 20 people shown as "too few to assess"), explanation alignment, and the promotion gate's checks.

Exit codes: 0 card written, 2 could not run (no such run, missing evaluation record).

\b
Examples:
  retention-ml card --run models:/retention-ml-turnover@candidate
  retention-ml card --run 3f2a9c... --out cards/2025-07
  retention-ml card --run 3f2a9c... --n-boot 50 --json
"""


def register(app: typer.Typer) -> None:
    app.command("card", help=HELP)(card)


def card(
    run: str = typer.Option(..., "--run", help="Run id, runs:/<id> or models:/<name>@<alias>."),
    out: Path = typer.Option(Path("model-card"), "--out", help="Folder for model_card.md, model_card.html, fairness.csv and plots."),
    json_out: bool = typer.Option(False, "--json", help="Print the written paths and the promotion gate's checks (as the card shows them) as JSON."),
    n_boot: int = typer.Option(0, "--n-boot", min=0, help="Bootstrap resamples for per-group intervals on base rate and ROC-AUC (use 50+; slow on big windows; 0 = none)."),
    no_log: bool = typer.Option(False, "--no-log", help="Write the files only; do not log them to the run."),
    model_name: str = typer.Option(None, "--model-name", help="Registered model name (default retention-ml-turnover)."),
    tracking_uri: str = typer.Option(None, "--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI or sqlite:///./mlflow.db)."),
) -> None:
    from rich.console import Console

    from retention_ml import tracking
    from retention_ml.reports.model_card import build_card, gate_checks, save_card
    from retention_ml.reports.risk_list import NOT_A_DECISION

    err = Console(stderr=True)
    try:
        tracking.configure(tracking_uri)
        with err.status(f"Writing the model card for {run} ..."):
            built = build_card(run, n_boot=n_boot, model_name=model_name)
            paths = save_card(built, out, log=not no_log)
    except Exception as exc:  # MLflow raises its own exception types for missing runs/artifacts
        if json_out:
            typer.echo(json.dumps({"written": False, "error": f"{type(exc).__name__}: {exc}"}))
        else:
            err.print(f"[red]cannot write the card: {type(exc).__name__}: {exc}[/red]")
        raise typer.Exit(2)
    if json_out:
        checks = gate_checks(built)
        typer.echo(json.dumps({"written": True, "note": NOT_A_DECISION, "logged": not no_log, "run_id": built.run_id,
                               "paths": {k: str(v) for k, v in paths.items()},
                               "gate": {"checks": checks, "failed": [c["check"] for c in checks if not c["passed"]]}}, indent=2))
    else:
        Console().print(f"model card written: {paths['markdown']} and {paths['html']}" + ("" if no_log else " (logged to the run)"))
