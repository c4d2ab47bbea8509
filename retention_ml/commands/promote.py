"""``retention-ml promote RUN``: move alias ``champion`` to a run's model only when the gate passes."""

from __future__ import annotations

from pathlib import Path

import typer

from retention_ml.commands import ModelNameOption, TrackingUriOption, answer, fail, wide_enough

HELP = """Check RUN against the promotion gate and, only if every check passes, point the registry alias "champion" at the run's registered model version.

Checks (thresholds in retention_ml/promotion_thresholds.toml, also printed in the model card): the test window holds at least min_test_leavers leavers (40: with fewer, the ROC-AUC interval is wider than 0.20 and a pass is the luck of a seed) and its ROC-AUC 95% interval is at most max_test_auc_interval (0.20) wide (leavers spread over several test dates can leave it wider); a model card was written for the run; the model beats both baselines (logistic regression, team base rate) on the test window; expected calibration error is under the threshold, or over it only within its chance level (what exactly right risks reach on a test window that size; a run logged before chance levels: the threshold alone); the risks are right on average over the whole test window (observed against expected leavers within max_calibration_ratio, 1.2, either way, failed only when also beyond chance, a person's rows at several test dates counted together); no group (sex, age band, ethnicity group, disability, employment type, service, area; groups under 20 people excluded) has a ROC-AUC or calibration gap over the threshold. On failure every failed check is named and nothing changes. A check the data cannot assess (no group large enough) reads "not assessable" and does not count as passed: it keeps the model from champion too.

RUN is a run id, runs:/<id>, or models:/<name>@<alias> (for example models:/retention-ml-turnover@candidate).

--thresholds FILE applies another bar (a council may hold models to a stricter one). A pass records the values used on the registry version (tags retention_ml.gate_thresholds*, and its description), and any value below the shipped bar is said there, on every list scored from the model ("Approved: ... under a LOWER bar ...") and must be printed in the card: write the card with the same file (retention-ml card --run RUN --thresholds FILE), or the card check fails.

Exit codes: 0 promoted, 1 refused (failed checks listed), 2 could not run (no such run, a run that did not finish, no registered version, missing evaluation).

\b
Examples:
  retention-ml card --run models:/retention-ml-turnover@candidate
  retention-ml promote models:/retention-ml-turnover@candidate
  retention-ml promote 3f2a9c... --json
  retention-ml promote 3f2a9c... --dry-run
  retention-ml card --run 3f2a9c... --thresholds council_thresholds.toml && retention-ml promote 3f2a9c... --thresholds council_thresholds.toml
"""


def register(app: typer.Typer) -> None:
    app.command("promote", help=HELP)(promote)


def promote(
    run: str = typer.Argument(..., help="Run id, runs:/<id> or models:/<name>@<alias>."),
    json_out: bool = typer.Option(False, "--json", help="Print the result (every check, promoted or not) as JSON."),
    thresholds: Path = typer.Option(None, "--thresholds", help="Thresholds file (default: the one shipped in the package)."),
    model_name: ModelNameOption = None,
    dry_run: bool = typer.Option(False, "--dry-run", help="Run the checks but change nothing."),
    tracking_uri: TrackingUriOption = None,
) -> None:
    from rich.console import Console
    from rich.table import Table

    from retention_ml import tracking
    from retention_ml.promotion import PromotionError, load_thresholds
    from retention_ml.promotion import promote as run_gate

    try:
        tracking.configure(tracking_uri, for_reading=True)   # a lookup never creates an empty store
        result = run_gate(run, thresholds=load_thresholds(thresholds), model_name=model_name, dry_run=dry_run,
                          source=thresholds.resolve() if thresholds else None)
    except (PromotionError, OSError, ValueError) as exc:
        fail(f"cannot run the promotion gate: {exc}", 2, json_out=json_out, also={"promoted": False})
    if json_out:
        answer(result.as_dict(), ok=not result.failed, indent=2, default=str)   # refused: exit 1
    else:
        from retention_ml.reports.model_card import CHECK_LABELS, gate_detail_text   # the card's words (--json keeps codes)

        table = Table(title=f"Promotion gate for run {result.run_id} ({result.model_name} v{result.version})")
        for col in ("check", "result", "detail"):
            table.add_column(col)
        for c in result.checks:
            colour = "green" if c.passed else ("red" if c.assessable else "yellow")
            table.add_row(CHECK_LABELS.get(c.name, c.name), f"[{colour}]{c.status}[/{colour}]", gate_detail_text(c.detail))
        # on a terminal its own width (a fixed 160 overran an 80-column one, every line wrapped by the terminal);
        # piped or logged, as wide as the table needs, each check's detail on one line
        console = Console()
        if result.departures:
            colour = "red" if result.lower_bar else "yellow"
            console.print(f"[{colour}]gate applied {result.thresholds_note}[/{colour}]" + (
                "; a pass is recorded with these values on the registry version and repeated on every list scored "
                "from it" if result.lower_bar else ""))
        wide_enough(console, table).print(table)
        if result.promoted:
            console.print(f"[green]promoted: champion -> version {result.version}[/green] (was {result.champion_before or 'unset'})")
        elif not result.failed:
            console.print("dry run: every check passed; nothing changed")
        else:
            failed = [CHECK_LABELS.get(c.name, c.name) for c in result.failed if c.assessable]
            unassessed = [CHECK_LABELS.get(c.name, c.name) for c in result.not_assessable]
            why = "; ".join(filter(None, [f"failed {', '.join(failed)}" if failed else "",
                                          f"not assessable (does not count as passed) {', '.join(unassessed)}" if unassessed else ""]))
            console.print(f"[red]refused[/red]: {why}; champion unchanged ({result.champion_after or 'unset'})")
    raise typer.Exit(0 if not result.failed else 1)
