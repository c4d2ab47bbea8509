"""``retention-ml train``: run an experiment file end to end and record it in MLflow."""

from __future__ import annotations

import json
from pathlib import Path

import typer

HELP = """Train the turnover model described by EXPERIMENT (a TOML or YAML file in experiments/) and record the run in MLflow.

Reads the data, builds point-in-time snapshots, features and labels (or maps a one-row-per-employee extract), splits out of time (train, then a validation window h months later for early stopping and Platt calibration, then a test window h months later still), fits the calibrated LightGBM model (after a search of its settings inside the training window when tuning.trials > 0; the printout says what the search chose) and two baselines (team base rate, regularised logistic regression), and reports test-window metrics with 95% bootstrap intervals over workers. The run logs parameters, tags, the experiment file, feature catalogue, censoring report, calibration plot, feature importances, evaluation/metrics.json, explanations and the pyfunc model, which is registered with alias "candidate". Whether the data are simulated is read from the data folder, never set: a folder written by `retention-ml simulate` (it holds _truth/README.md) is tagged retention_ml.simulated=true, anything else (a real extract) false, and the model card says the same. On simulated data the run also gets explanations/truth.json: its test-window explanations checked against the simulator's true drivers, as `retention-ml truth-check` does (evaluation only, after the model is fitted).

Tracking: sqlite:///./mlflow.db with artifacts in ./mlartifacts unless the experiment's tracking_uri (for one run: --set tracking_uri=URI) or MLFLOW_TRACKING_URI says otherwise; `mlflow ui --backend-store-uri sqlite:///mlflow.db` shows the runs. MLflow's own INFO lines (creating the store's tables, registering the model) are not printed, its warnings and errors are; MLFLOW_LOGGING_LEVEL=INFO shows them all.

The data are validated first: if they fail, every problem (file, row, column, rule) is listed as `retention-ml validate` lists it, and nothing is trained.

Exit codes: 0 trained and registered (a plain warning is printed when LightGBM does not beat a baseline, when the test or validation window holds fewer leavers than the promotion gate's min_test_leavers or the test window's ROC-AUC interval is wider than its max_test_auc_interval, when the model gives everyone the same risk, when the last caseload month holds too few rows to be the end of the data (validate's rule thin_last_month: everyone in post up to it counts as a stayer), when worker ids look like names, payroll numbers or National Insurance numbers (validate's rules name_like_id, number_like_id and ni_number_like_id; counted by file and column in the run's data_readings.json, never a value), or when tuning stopped at tuning.timeout_seconds before its trials were done: such a run may not come out the same again), 1 the data failed validation (nothing trained; --json prints the validator's report), 2 could not run (bad experiment file or override, missing data folder, a tracking URI that cannot work: no writable folder for the SQLite store, a plain folder (MLflow 3's read-only file store), a server that does not answer within seconds or a web server that is not MLflow's; nothing is written then; a server that stops answering during logging is named with the run it left unfinished).

\b
Examples:
  retention-ml train experiments/council_default.toml
  retention-ml train experiments/ibm_hr.toml --json
  retention-ml train experiments/council_default.toml --set label.horizon_months=6 --set tuning.trials=20
  retention-ml train experiments/council_default.toml --set data.path=demo-output/data
"""


def register(app: typer.Typer) -> None:
    app.command("train", help=HELP)(train)


def train(
    experiment: Path = typer.Argument(..., help="Experiment file, e.g. experiments/council_default.toml."),
    set_: list[str] = typer.Option(None, "--set", help="Override a key: --set split.test_periods=2 (repeatable; values parsed as TOML)."),
    json_out: bool = typer.Option(False, "--json", help="Print run id, model version and the evaluation record as JSON."),
) -> None:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from retention_ml.commands import fail
    from retention_ml.experiment import ExperimentError, load_experiment
    from retention_ml.tracking import MlflowException, TrackingStoreError
    from retention_ml.split import SplitError
    from retention_ml.simulate.writer import is_simulator_output
    from retention_ml.training import train_experiment
    from retention_ml.validation import DataValidationError

    err = Console(stderr=True)
    try:
        exp = load_experiment(experiment, overrides=set_ or [])
    except ExperimentError as exc:
        fail(str(exc), json_out=json_out)
    # A fact about the folder (the simulator's own marker), so a real extract is never called simulated.
    simulated = is_simulator_output(exp["data"]["path"])
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=json_out) as bar:
        stage = bar.add_task(f"{exp['name']}: starting", total=None)
        boot = bar.add_task("bootstrap intervals", total=exp["evaluation"]["n_boot"], visible=False)

        def on_stage(text: str) -> None:
            bar.update(stage, description=f"{exp['name']}: {text}")

        def on_boot(done: int, total: int) -> None:
            bar.update(boot, completed=done, total=total, visible=True)

        invalid = None
        try:
            result = train_experiment(exp, progress=on_stage, boot_progress=on_boot, simulated=simulated)
        except DataValidationError as exc:  # a ValueError too, so caught first: a problem found, not a failure to run
            invalid = exc.report
        except SplitError as exc:  # the data are too short for the configured windows: the message says what fits
            fail(f"{experiment}: could not train: {exc}", json_out=json_out)
        except TrackingStoreError as exc:   # checked before anything is read or trained; the message says what to do
            fail(f"{experiment}: could not train: {exc}", json_out=json_out)
        except FileNotFoundError as exc:   # a data path that is not there: the message names it and the fix
            fail(f"could not train: {exc}", json_out=json_out)
        except (ValueError, KeyError, ImportError, MlflowException) as exc:
            fail(f"{experiment}: could not train: {type(exc).__name__}: {exc}", json_out=json_out)
        if invalid is None:
            on_stage("explanations against the simulator's truth")
            truth = _truth_check(exp, result, simulated)
    if invalid is not None:
        _refuse_invalid(json_out, err, experiment, invalid)
    warnings = evidence_warnings(result, exp) + data_warnings(result.run_id, exp)
    if json_out:
        typer.echo(json.dumps({"ok": True, "run_id": result.run_id, "model_version": result.model_version,
                               "simulated": simulated, "notes": result.notes, "warnings": warnings, "metrics": result.metrics,
                               "truth_check": truth}, indent=2, default=str))
        return
    _print(result, exp, truth, warnings, simulated)


def evidence_warnings(result, exp: dict) -> list[str]:
    """Plain warnings when the numbers rest on too little: a test window the promotion gate's ``test_leavers`` check
    refuses (fewer leavers than ``min_test_leavers``, or a ROC-AUC interval wider than ``max_test_auc_interval``), a
    validation window with fewer leavers than that, and a constant model (every test row the same risk)."""
    from retention_ml.promotion import leavers_check, load_thresholds

    thresholds = load_thresholds()
    minimum = thresholds["min_test_leavers"]
    out = []
    # leavers = distinct people; people = distinct workers (a flat extract has no validation window: n 0)
    test, valid = ({"n": 0, **result.metrics["counts"].get(w, {})} for w in ("test", "valid"))
    evidence = leavers_check(result.metrics, minimum, thresholds["max_test_auc_interval"], flat=exp.get("kind") == "flat")
    if test["n"] and not evidence.passed:
        out.append(evidence.detail + ". The promotion gate will refuse this run.")
    if valid["n"] and valid["leavers"] < minimum:
        out.append(f"the validation window holds {valid['leavers']} leavers among {valid['workers']} people (fewer than "
                   f"{minimum}): early stopping and Platt calibration were fitted on them, so the risks' calibration is rough.")
    tuned, budget = result.metrics.get("tuning"), exp.get("tuning", {})
    if tuned and tuned["trials"] < budget.get("trials", 0):
        out.append(f"tuning stopped at tuning.timeout_seconds = {budget.get('timeout_seconds')} after {tuned['trials']} of "
                   f"{budget['trials']} trials: how many trials fit in the time depends on the machine's load, so the same "
                   "data, experiment file and seed may not give this model again. Raise tuning.timeout_seconds (or "
                   "lower tuning.trials) for a search that finishes.")
    risk = result.predictions["risk"].to_numpy(dtype=float)
    if len(risk) and risk.max() - risk.min() < 1e-12:
        train = result.metrics["counts"]["train"]
        out.append(f"the model gives every test row the same risk ({risk[0]:.3f}): it ranks no one, and an interval of "
                   f"[0.500, 0.500] for ROC-AUC is a constant model's, not certainty. The {train['n']} training rows "
                   f"with {train['leavers']} leavers gave LightGBM no split it could make "
                   f"(each leaf needs model.min_child_samples = {exp['model'].get('min_child_samples')} rows); "
                   "any list it makes is in arbitrary order.")
    return out


def data_warnings(run_id: str | None, exp: dict) -> list[str]:
    """A last caseload month too thin to be the end of the data, and ids that may identify their person (names,
    payroll numbers), as the run's record of its data readings keeps them: validation warns without stopping, and
    on valid data training showed no warning, so a scheduled job that never ran `validate` trained on payroll
    numbers, or with a stray month's row counting everyone in post as a stayer, unnoticed."""
    from retention_ml import artifacts, tracking
    from retention_ml.validation import data_end_warnings, identifying_id_warnings

    if not run_id or exp.get("kind") == "flat":   # a flat extract's ids are replaced by W000001... when it is read
        return []
    try:
        readings = tracking.load_json_artifact(run_id, artifacts.DATA_READINGS)
    except (tracking.MlflowException, OSError):   # a run whose data were not validated logs no readings
        return []
    return data_end_warnings(readings) + identifying_id_warnings(readings)


def tuning_summary(tuning: dict) -> str:
    """One line on the search: trials run, what it maximised, the best score and the settings it chose (the run's
    model.* parameters hold them too)."""
    score = (f"out-of-fold log-loss {tuning['best_inner_log_loss']:.4f}" if "best_inner_log_loss" in tuning
             else f"inner ROC-AUC {tuning['best_inner_roc_auc']:.3f}")
    chosen = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in tuning["best"].items())
    return (f"Tuning: {tuning['trials']} trials inside the training window ({tuning['objective']}); best {score} "
            f"(a score on training rows, not the test window's): {chosen}")


ECE_NOTE = ("ece: its chance level instead of its interval (noise alone makes ECE positive, so its bootstrap range, "
            "logged as ece.low/high, sits above the truth): the ECE that risks exactly right reach on this test window "
            "95 times in 100. Under it: within chance; over it: off beyond chance.")


def _valid_chance(cal: dict) -> str:
    """The held-out ECE after calibration beside its chance level (runs logged before it: nothing)."""
    from retention_ml.evaluate import ece_beyond_chance

    after = (cal.get("ece_valid_chance") or {}).get("after")
    beyond = ece_beyond_chance(after)
    if beyond is None:
        return ""
    return f" (chance {after['chance_high']:.4f}: {'beyond' if beyond else 'within'} chance)"


def _cell(figures: dict) -> str:
    """A metric with its 95% interval, or ECE with its chance level (``0.034 (chance 0.066)``; square brackets
    would read as rich markup)."""
    if "chance_high" in figures:
        return f"{figures['value']:.3f} (chance {figures['chance_high']:.3f})"
    return f"{figures['value']:.3f} [{figures['low']:.3f}, {figures['high']:.3f}]"


def _undefined_resamples(rec: dict, n_boot: int) -> str | None:
    """How many bootstrap resamples had no leaver (or no stayer), so that some metrics did not exist in them."""
    undefined = max((v.get("undefined", 0) for v in rec["models"]["lightgbm"].values()), default=0)
    if not undefined:
        return None
    if undefined >= n_boot:
        return f"none of the {n_boot} bootstrap resamples held both a leaver and a stayer: ROC-AUC and average precision have no interval"
    return (f"{undefined} of {n_boot} bootstrap resamples drew no leaver (or no stayer): the ROC-AUC, average precision "
            f"and recall intervals are over the other {n_boot - undefined}")


def _truth_check(exp: dict, result, simulated: bool) -> dict | None:
    """On simulated snapshot data, log explanations/truth.json to the run (as `retention-ml truth-check` does).

    Evaluation only, after the model is fitted: nothing from the truth reaches the model.
    Returns the bars (or the reason there is no check), None for real data.
    """
    if not (simulated and exp["kind"] == "snapshots" and result.run_id):
        return None
    from retention_ml.simulate.truth_check import TruthCheckError, check_run

    try:
        report = check_run(result.run_id, exp["data"]["path"], n_boot=exp["evaluation"]["n_boot"], random_state=exp["seed"])
    except TruthCheckError as exc:
        return {"logged": False, "reason": str(exc)}
    return {"logged": True, "bars": report["bars"]}


def _refuse_invalid(json_out: bool, err, experiment: Path, report) -> None:
    """Invalid data: list every problem as `retention-ml validate` does and exit 1 (a problem found)."""
    if json_out:
        typer.echo(report.to_json(indent=2))
    else:
        from retention_ml.commands.validate import print_problems

        err.print(f"[red]{experiment}: the data in {report.data_dir} failed validation; nothing was trained.[/red]")
        print_problems(err, report)
    raise typer.Exit(1)


def _dates(rec: dict, window: str) -> str:
    """' at 2020-01-01' or ' from 2019-04-01 to 2020-01-01': the snapshot dates a window spans (none on a flat
    extract). A training window of one date is why a shorter snapshots.frequency_months changes nothing there."""
    first_last = rec.get("windows", {}).get(window) or []
    if not first_last:
        return ""
    first, last = str(first_last[0]), str(first_last[-1])
    return f" at {first}" if first == last else f" from {first} to {last}"


def _print(result, exp, truth: dict | None = None, warnings: list[str] = (), simulated: bool = False) -> None:
    from rich.console import Console
    from rich.table import Table

    from retention_ml import tracking
    from retention_ml.commands import wide_enough

    # soft_wrap: no line broken at 80 columns (rich's width when piped or logged): the run id line stays whole to grep
    console = Console(soft_wrap=True)
    rec = result.metrics
    dates = sorted(set(map(str, rec["windows"].get("test") or [])))
    window = " to ".join(dict.fromkeys([dates[0], dates[-1]])) if dates else "(stratified holdout)"
    table = Table(title=f"{exp['name']}: test window {window}, 95% intervals over workers")
    table.add_column("metric")
    for name in rec["models"]:
        table.add_column(name, justify="right")
    for metric in next(iter(rec["models"].values())):
        table.add_row(metric, *[_cell(m[metric]) for m in rec["models"].values()])
    wide_enough(console, table).print(table)   # piped (CI logs, | tee): each cell whole on its line
    console.print(ECE_NOTE)
    cal = rec["calibration"]
    # checked_on says where calibration was fitted: the validation window, or cross-fitting on a flat extract
    console.print(f"Platt calibration a={cal['a']:.3f} b={cal['b']:.3f}, checked on the {cal.get('checked_on', 'validation window')}: "
                  f"ECE {cal['ece_valid_before']:.4f} -> {cal['ece_valid_after']:.4f}" + _valid_chance(cal))
    c = {k: v for k, v in rec["counts"].items() if v["n"]}   # a flat extract has no validation window: not "valid 0 (0)"
    console.print("rows (positives): " + ", ".join(f"{k} {v['n']} ({v['positives']}){_dates(rec, k)}" for k, v in c.items())
                  + f"; censored {rec['censored']}")
    if rec.get("tuning"):
        console.print(tuning_summary(rec["tuning"]))
    undefined = _undefined_resamples(rec, exp["evaluation"]["n_boot"])
    if undefined:
        console.print(undefined[0].upper() + undefined[1:] + ".")
    for note in [*warnings, *result.notes]:
        console.print(f"[bold yellow]WARNING: {note[0].upper()}{note[1:]}[/bold yellow]")
    # the same words as the model card's "Simulated data" row, from the same tag
    console.print("Simulated data: " + ("yes (the folder was written by `retention-ml simulate`)" if simulated else
                                        "no (a one-row-per-employee extract file, not a simulator folder)"
                                        if exp["kind"] == "flat" else
                                        "no (the folder has no simulator output, _truth/README.md)"))
    if truth and truth["logged"]:
        known = [f"{k} {b['value']:.0%} (bar {b['bar']:.0%})" for k, b in truth["bars"].items() if b["value"] is not None]
        console.print("Explanations against the simulator's truth (top-risk-decile leavers; explanations/truth.json): "
                      + (", ".join(known) or "too few leavers to say"))
    elif truth:
        console.print(f"No truth check: {truth['reason']}")
    console.print(f"run {result.run_id}; registered version {result.model_version} (alias 'candidate') of '{exp['registered_model']}'")
    if page := tracking.run_page(result.run_id):   # a shared server: where the run is seen in the MLflow UI
        console.print(f"run page: {page}", markup=False, highlight=False)
    console.print("Risks support a conversation with a worker; they never decide anything about a person.")
