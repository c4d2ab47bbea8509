"""``retention-ml simulate``: write a synthetic council workforce in the input schema, with its ground truth."""

from __future__ import annotations

from pathlib import Path

import typer

from retention_ml.commands import answer, fail

HELP = """Simulate children's social work teams month by month and write every input table of data_schema/ into OUT.

The true leaving probabilities, their split by driver and each leaver's true reason go to OUT/_truth/, which modelling code never reads (a test enforces it). The same seed gives identical files. Realism is calibrated to the DfE children's social work workforce statistics; --report prints the check (council-level 10th/50th/90th percentiles of turnover, agency, vacancy, caseload and absence beside the DfE figures for the same year, the NQSW two-year leaving rate and the exit-interview reason mix).

A scenario file (TOML) overrides policy knobs from a start month; unknown keys are errors. Keys: caseload_cap, retention_payment, market_supplement, extra_posts_share, referral_shock, shock_start, shock_councils, policy_start, hazard_scale.

OUT must be a new or empty folder, or an earlier simulate output (it holds _truth/README.md); any other non-empty folder
(real HR extracts, say) is refused unless --force. The tables are written into a temporary folder beside OUT and moved
in only when all are written, so a failure (disk full) leaves OUT as it was. In OUT the input tables (either format) and
_truth/ are replaced; other files are kept.

Exit codes: 0 written, 2 could not run (bad scenario, bad dates, OUT refused, files could not be written).

\b
Examples:
  retention-ml simulate --out sim/                                  # national size: 150 councils, 72 months from 2019-01
  retention-ml simulate --out sim/ --councils 2 --months 48 --seed 7
  retention-ml simulate --out sim/ --scenario caseload_promise.toml --report
  retention-ml simulate --out sim/ --councils 150 --report --json > calibration.json

\b
Scenario file example (caseload_promise.toml):
  policy_start = "2022-04"
  caseload_cap = 15
  retention_payment = 1500
"""


def register(app: typer.Typer) -> None:
    app.command("simulate", help=HELP)(simulate)


def simulate(
    out: Path = typer.Option(..., "--out", help="Folder to write the tables into (created if missing): new, empty, or an earlier simulate output."),
    councils: int = typer.Option(150, "--councils", min=1, help="Number of councils (150 is national size, about 36,000 FTE)."),
    start: str = typer.Option("2019-01", "--start", help="First month, YYYY-MM. A run reaching reporting years the DfE calibration does not cover is warned about (those months reuse the nearest covered year's national figures)."),
    months: int = typer.Option(72, "--months", min=1, max=240, help="Number of months to simulate."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives identical files."),
    scenario: Path = typer.Option(None, "--scenario", help="TOML file of policy knobs and shocks."),
    report: bool = typer.Option(False, "--report", help="Print the calibration check against the DfE statistics."),
    dfe: Path = typer.Option(None, "--dfe", help="DfE indicators CSV for --report (default: the copy shipped in retention_ml/simulate/data/)."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON summary (files, row counts, calibration if --report)."),
    force: bool = typer.Option(False, "--force", help="Write into a non-empty folder that is not an earlier simulate output, replacing its input tables and _truth/ (other files are kept)."),
) -> None:
    import numpy as np
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from retention_ml.simulate import run
    from retention_ml.simulate.config import ScenarioError, load_scenario, uncalibrated_years_warning
    from retention_ml.simulate.writer import OutputFolderError, check_output_folder, write_all

    err = Console(stderr=True)
    try:
        try:
            np.datetime64(start, "M")
        except ValueError as exc:   # numpy's own words never named the option
            raise ValueError(f"--start {start!r} is not a month (YYYY-MM, e.g. 2019-01): {exc}") from exc
        scen = load_scenario(scenario)
        try:
            scen.check_window(start, months)   # here, where the file's name is known, and before any work
        except ScenarioError as exc:
            raise ScenarioError(f"{scenario}: {exc}") from exc
        check_output_folder(out, force=force)  # before the simulation, which takes minutes at national size
    except (ScenarioError, ValueError, FileNotFoundError, OutputFolderError) as exc:
        fail(f"cannot simulate: {exc}", 2, json_out=json_out)
    if warning := uncalibrated_years_warning(start, months):   # runs anyway: a what-if outside the data is allowed
        err.print(f"warning: --start {start} --months {months}: {warning}", style="yellow", markup=False, highlight=False)
    with Progress(TextColumn("[bold]simulating"), BarColumn(), MofNCompleteColumn(), TextColumn("months"),
                  TimeElapsedColumn(), console=err, transient=True, disable=json_out) as bar:
        task = bar.add_task("months", total=months)
        try:
            tables, truth, _ = run(councils=councils, start=start, months=months, seed=seed, scenario=scen,
                                   progress=lambda done, total: bar.update(task, completed=done))
        except ValueError as exc:
            fail(f"cannot simulate: {exc}", 2, json_out=json_out)
    try:
        paths = write_all(tables, truth, out, force=force)
    except (OutputFolderError, OSError) as exc:
        fail(f"cannot simulate: could not write {out} ({exc}); {out} is unchanged", 2, json_out=json_out)
    summary = {"out": str(out), "councils": councils, "start": start, "months": months, "seed": seed,
               "rows": {name: len(frame) for name, frame in tables.items()}, "files": [str(p) for p in paths],
               "warnings": [warning] if warning else []}
    cal = None
    if report:
        from retention_ml.simulate.calibration import DFE_PATH, calibration_report

        cal = calibration_report(tables, dfe or DFE_PATH)
        summary["calibration"] = cal.to_dict()
    if json_out:
        answer(summary, indent=2, default=str)
        return
    console = Console()
    console.print(f"Wrote {len(paths)} files to {out} ({summary['rows']['workers']:,} worker spells, "
                  f"{summary['rows']['caseload_history']:,} worker-months); truth in {out / '_truth'}",
                  soft_wrap=True)   # piped or logged the console is 80 columns: a path broken there does not paste
    if cal is not None:
        _print_report(console, cal)


def _print_report(console, cal) -> None:
    from rich.table import Table

    table = Table(title="Council-level distributions: simulated vs DfE (p10 / p50 / p90; KS distance)")
    for col in ("year", "metric", "simulated", "DfE", "KS"):
        table.add_column(col)
    for r in cal.table.itertuples():
        table.add_row(str(r.year), r.metric, f"{r.sim_p10:.1f} / {r.sim_p50:.1f} / {r.sim_p90:.1f}",
                      f"{r.dfe_p10:.1f} / {r.dfe_p50:.1f} / {r.dfe_p90:.1f}", f"{r.ks:.2f}")
    console.print(table)
    console.print(f"NQSW two-year leaving rate: {cal.nqsw_two_year_leaving:.1%}")
    console.print("Exit-interview primary reasons: " + ", ".join(f"{k} {v:.0%}" for k, v in cal.exit_reasons.items()))
    console.print("National turnover (simulated vs DfE): " + ", ".join(
        f"{int(r.year)} {r.simulated:.1f}" + (f" vs {r.dfe:.1f}" if "dfe" in cal.national_turnover and r.dfe == r.dfe else "")
        for r in cal.national_turnover.itertuples()))
