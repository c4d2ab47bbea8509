"""``retention-ml card --run RUN``: write the model card for a training run and log it to the run."""

from __future__ import annotations

from pathlib import Path

import typer

from retention_ml.artifacts import CARD_DIR
from retention_ml.commands import ModelNameOption, TrackingUriOption, answer, fail

HELP = """Write the model card (Mitchell et al., 2019) for a training run: model_card.md, a self-contained model_card.html (plots inline) and fairness.csv, logged to the run under model_card/ with tag retention_ml.card=written (the promotion gate requires it).

Every number comes from the run's MLflow record: test-window metrics and baselines, calibration, data windows and censoring, the group audit (sex, age band, ethnicity group, disability, employment type, service, area; groups under 20 people shown as "too few to assess"), explanation alignment, and the promotion gate's checks.

Per-group intervals (--n-boot) resample the test rows, so they work only for runs that logged them (trained before runs logged the fairness audit's aggregates, evaluation/fairness_audit.json); a newer run is refused with exit 2, and its card gives each group's standard errors instead. They are slow on a big test window: fairlearn recomputes every group's metrics per resample and factor. At national size (test window of ~38,000 people, 7 factors, 444 areas) one resample cost about 11 s of CPU (measured 2026-11-23: --n-boot 3 took 51.7 s CPU, --n-boot 0 18.6 s), so --n-boot 50 takes about 10 minutes on an idle 2-core machine; a progress bar counts the resamples. One council is quick: the demo council's card (make demo, on a run that logged its rows) took 24 s wall, 18 s CPU with --n-boot 50, 6 s without.

Exit codes: 0 card written, 2 could not run (no such run, missing evaluation record).

\b
Examples:
  retention-ml card --run models:/retention-ml-turnover@candidate
  retention-ml card --run 3f2a9c... --out cards/2025-07
  retention-ml card --run 3f2a9c... --json
  retention-ml card --run 1b7e04... --n-boot 50   # a run that logged its test rows (older)
  retention-ml card --run 3f2a9c... --thresholds council_thresholds.toml   # before promote --thresholds
"""


def register(app: typer.Typer) -> None:
    app.command("card", help=HELP)(card)


def card(
    run: str = typer.Option(..., "--run", help="Run id, runs:/<id> or models:/<name>@<alias>."),
    out: Path = typer.Option(Path(CARD_DIR), "--out", help="Folder for model_card.md, model_card.html, fairness.csv and plots (default model_card/, the folder name the demo and the run's artifacts use)."),
    json_out: bool = typer.Option(False, "--json", help="Print the written paths and the promotion gate's checks (as the card shows them) as JSON."),
    n_boot: int = typer.Option(0, "--n-boot", min=0, help="Bootstrap resamples for per-group intervals on base rate and ROC-AUC, for runs that logged their test rows (older runs; see above; use 50+; about 11 s CPU each at national size; 0 = none)."),
    no_log: bool = typer.Option(False, "--no-log", help="Write the files only; do not log them to the run."),
    model_name: ModelNameOption = None,
    tracking_uri: TrackingUriOption = None,
    thresholds: Path = typer.Option(None, "--thresholds", help="Promotion thresholds file the card prints and checks (default: the shipped one); give the file you will pass to `promote --thresholds`, whose card check requires the same values. A bar below the shipped one is said at the top of the gate section."),
) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from retention_ml import tracking
    from retention_ml.io import out_folder_problem
    from retention_ml.promotion import load_thresholds
    from retention_ml.reports.model_card import build_card, gate_checks, save_card
    from retention_ml.reports.risk_list import NOT_A_DECISION

    err = Console(stderr=True)
    try:
        if problem := out_folder_problem(out):   # before the store and the card's minutes of work
            raise NotADirectoryError(f"--out {out}: {problem}; give a folder for the card's files")
        tracking.configure(tracking_uri, for_reading=True)   # a lookup never creates an empty store
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err, transient=True, disable=json_out) as bar:
            bar.add_task(f"Writing the model card for {run} ...", total=None)
            # minutes at national size (see --help): count the resamples instead of sitting silent
            boot = bar.add_task(f"bootstrap: {n_boot} resamples per factor", total=None, visible=n_boot > 0)

            def on_boot(done: int, total: int) -> None:
                bar.update(boot, completed=done, total=total,
                           description=f"bootstrap: {n_boot} resamples x {total // n_boot} factors")

            built = build_card(run, n_boot=n_boot, model_name=model_name, boot_progress=on_boot,
                               thresholds=load_thresholds(thresholds),
                               thresholds_source=thresholds.resolve() if thresholds else None)
            paths = save_card(built, out, log=not no_log)
    except Exception as exc:  # MLflow raises its own exception types for missing runs/artifacts
        # A run the store does not hold is said in the user's words; anything else names its kind of failure.
        what = str(exc) if isinstance(exc, tracking.NoSuchRun) else f"{type(exc).__name__}: {exc}"
        fail(f"cannot write the card: {what}", 2, json_out=json_out, also={"written": False})
    if json_out:
        checks = gate_checks(built)
        answer({"written": True, "note": NOT_A_DECISION, "logged": not no_log, "run_id": built.run_id,
                "paths": {k: str(v) for k, v in paths.items()},
                "gate": {"checks": checks, "failed": [c["check"] for c in checks if not c["passed"]]},
                "team_checks": built.context["team_checks"]}, indent=2, default=_plain)
    else:
        # soft_wrap: piped or logged (rich's 80 columns), the paths stay whole to paste
        Console(soft_wrap=True).print(f"model card written: {paths['markdown']} and {paths['html']}"
                                      + ("" if no_log else " (logged to the run)"))


def _plain(value):
    """JSON for the numpy numbers the card's figures hold (np.float64, np.int64): their Python value."""
    return value.item() if hasattr(value, "item") else str(value)
