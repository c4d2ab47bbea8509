"""``retention-ml truth-check``: are a run's explanations right? Its test window against the simulator's truth.

Simulator-side evaluation: the only command besides ``simulate`` and ``demo``
that may read ``<data>/_truth/`` (through ``retention_ml.simulate``); training,
feature and explanation code never do.
"""

from __future__ import annotations

from pathlib import Path

import typer

from retention_ml.commands import JsonOption, RunOption, TrackingUriOption, answer, fail

HELP = """Check a run's explanations against the truth of the simulated data it was trained on, and log the result.

Rebuilds the run's test-window snapshots from DATA (it must be the folder the run was trained on: the data fingerprint is checked), explains them with exact SHAP, and compares each leaver's driver ranking with the simulator's true dominant driver: the driver whose contribution to the true leaving hazard most exceeds its average over everyone in post that month (the exact Shapley value of the true additive logit), in the month they left. Also reported: the same against the truth in the snapshot month; two references (the true decomposition at the snapshot, and in the last complete month before it, which is all the features can see, each ranked as if it were the explanation; references, not limits: benchmarks/bench_reason_rankers.py scores other rankings); the raw-contribution definition, per-person rank correlations, and the ROC-AUC of the true probabilities beside the model's on the same snapshots.

Logs explanations/truth.json to the run (so the model card shows it) and tags the run retention_ml.truth_check=logged. Simulated data only.

Exit codes: 0 logged and the issue's bars for top-risk-decile leavers are met (true driver in the top 3 for >= 80%, top driver for >= 60%); 1 logged but a bar is missed (or too few leavers to tell); 2 could not run.

\b
Examples:
  retention-ml truth-check --run 3f2a... --data demo-output/data
  retention-ml truth-check --run models:/retention-ml-turnover@candidate --data sim/ --json
  retention-ml truth-check --run 3f2a... --data sim/ --no-log --n-boot 200
"""


def _pct(interval: dict | None) -> str:
    value = (interval or {}).get("value")
    if value is None:
        return "n/a"
    low, high = interval.get("low"), interval.get("high")
    return f"{value:.0%}" + (f" ({low:.0%}-{high:.0%})" if low is not None and high is not None else "")


def print_report(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from retention_ml.commands import wide_enough

    # piped or logged (rich's 80 columns): no line broken, no cell ("reference: truth, last known month") split
    console = Console(soft_wrap=True)
    console.print(f"[bold]Explanations against the truth[/bold]: run {report['run_id']}, test window "
                  f"{report['test_window'][0]} to {report['test_window'][1]}, {report['n_snapshots']:,} snapshots, "
                  f"{report['n_leavers']:,} leavers")
    table = Table(title="True dominant driver in a driver ranking (95% bootstrap intervals)")
    for col in ("Leavers", "Ranking", "Against the truth in", "n", "Top 1", "Top 3"):
        table.add_column(col, justify="right" if col in ("n", "Top 1", "Top 3") else "left")
    for who, block in (("all", report), ("top risk decile", report.get("top_decile"))):
        if not block:
            continue
        # the top-decile block holds its leaving-month rates at its own top level
        for ranking, against, rates in (("model", "leaving month", block.get("leaving_month", block)),
                                        ("model", "snapshot month", block["at_snapshot"]),
                                        ("reference: truth, snapshot month", "leaving month", block["oracle"]),
                                        ("reference: truth, last known month", "leaving month", block["oracle_last_month"])):
            table.add_row(who, ranking, against, f"{rates['n']:,}", _pct(rates["top1"]), _pct(rates["top3"]))
    wide_enough(console, table).print(table)
    console.print(f"Share of leavers whose true driver the model can see: {report['dominant_in_visible_drivers']:.0%} "
                  f"(the rest: personal). Per-person rank correlation with the true decomposition: median "
                  f"{report['spearman_median']:.2f}, mean {report['spearman_mean']:.2f}.")
    auc = report.get("oracle_auc") or {}
    if auc.get("oracle_roc_auc") is not None:
        console.print(f"ROC-AUC on the same snapshots: model {auc['model_roc_auc']:.3f}, true probabilities {auc['oracle_roc_auc']:.3f}.")
    for name, bar in report["bars"].items():
        state = "n/a" if bar["met"] is None else ("met" if bar["met"] else "[red]MISSED[/red]")
        value = "n/a" if bar["value"] is None else f"{bar['value']:.0%}"
        console.print(f"Bar {name} >= {bar['bar']:.0%}: {value} {state}")


def register(app: typer.Typer) -> None:
    @app.command("truth-check", help=HELP)
    def truth_check_command(
        run: RunOption,
        data: Path = typer.Option(..., "--data", exists=True, file_okay=False, help="The simulated data folder the run was trained on."),
        n_boot: int = typer.Option(1000, "--n-boot", min=0, help="Bootstrap resamples for the intervals."),
        log: bool = typer.Option(True, "--log/--no-log", help="Log explanations/truth.json to the run."),
        as_json: JsonOption = False,
        tracking_uri: TrackingUriOption = None,
    ) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from retention_ml import tracking
        from retention_ml.simulate.truth_check import TruthCheckError, check_run

        err = Console(stderr=True)
        try:
            tracking.configure(tracking_uri, for_reading=True)   # a lookup never creates an empty store
            with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err, transient=True) as bar:
                task = bar.add_task("Starting", total=1)

                def _progress(description: str, done: int, total: int) -> None:
                    bar.update(task, description=description, completed=done, total=max(total, 1))

                report = check_run(run, data, n_boot=n_boot, log=log, progress=_progress)
        except (TruthCheckError, tracking.TrackingStoreError) as exc:
            fail(f"truth-check: {exc}", 2, json_out=as_json)
        if as_json:
            answer(report, ok=all(b["met"] for b in report["bars"].values()), indent=2, default=str)   # a bar missed: exit 1
        else:
            print_report(report)
            if log:
                Console().print(f"Logged explanations/truth.json to run {report['run_id']}.")
        if not all(b["met"] for b in report["bars"].values()):
            raise typer.Exit(1)
