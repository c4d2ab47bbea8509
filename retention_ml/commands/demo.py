"""``retention-ml demo``: the whole job from nothing on simulated data, ending with every manager's list."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import typer

from retention_ml.artifacts import CARD_DIR
from retention_ml.commands import answer, fail

HELP = """Run the whole job on a simulated council: simulate -> validate -> train (experiments/council_default.toml)
-> model card -> promotion gate -> score the latest month -> one risk list per manager (CSV, Excel, HTML), one per
service listing its team managers (risk_list_service_<council>_<service>_team_managers.*, for the head of service:
a manager is not in their own team's list), and, per council and service, one for its teams with no manager
recorded (risk_list_service_<council>_<service>_no_manager_recorded.*, for that head of service), named on screen.
Everyone scored is in exactly one list.

Everything goes under OUT (default demo-output): data/, mlflow.db + mlartifacts/ (embedded MLflow store),
model_card/, scores/, lists/, and a marker file .retention-ml-demo. A re-run starts OUT's store, data, scores and
lists afresh so results never mix, unless its store holds runs the demo did not train (a `retention-ml train`
with MLFLOW_TRACKING_URI pointing there): that is refused with exit 2 unless --force; an OUT that is not empty and not an earlier demo output (a working folder with
your own mlflow.db, data/ or lists/) is refused with exit 2 unless --force, which still removes only those names.
Scores use models:/retention-ml-turnover@champion; when the gate refuses the model the demo says so loudly and
scores with @candidate instead (for the demo only: a refused model should not reach managers).

Exit codes: 0 ok (including a refused gate), 2 a stage could not run.

\b
Examples:
  retention-ml demo
  retention-ml demo --out /tmp/demo --councils 1 --seed 7
  retention-ml demo --json
  retention-ml demo --out old-folder --force
"""

SHORT_HELP = ("Run the whole job on a simulated council: simulate, validate, train, model card, promotion gate, "
              "score the latest month and write one risk list per manager and per head of service, under OUT.")

EXPERIMENT = Path(__file__).resolve().parents[2] / "experiments" / "council_default.toml"


def register(app: typer.Typer) -> None:
    # the full first paragraph names three file patterns: too long for `retention-ml --help`'s command list
    app.command("demo", help=HELP, short_help=SHORT_HELP)(demo)


# What the demo writes into OUT; a re-run removes these (and nothing else) so results never mix.
PRODUCTS = ("data", "scores", "lists", CARD_DIR, "mlartifacts", "mlflow.db", "demo_summary.json")
STORE_ENV = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")   # run_demo points them at its store, then back
# Written first into OUT: only a folder holding it (or an earlier demo's summary) is the demo's own to clear.
MARKER = ".retention-ml-demo"


class DemoFolderError(ValueError):
    """OUT is not the demo's own folder, so clearing its data/, scores/, lists/, mlflow.db ... could destroy work."""


def check_demo_folder(out: Path, *, force: bool = False) -> None:
    """Raise :class:`DemoFolderError` unless ``out`` is new, empty, an earlier demo's folder, or ``force``.

    ``demo --out .`` in a working folder laid out as the README lays one out (``./mlflow.db``, ``data/``,
    ``scores/``, ``lists/``) would otherwise wipe the real tracking store, extract and lists.
    """
    if out.exists() and not out.is_dir():
        raise DemoFolderError(f"{out} exists and is not a folder")
    if not out.exists() or force or not any(out.iterdir()):
        return
    if (out / MARKER).exists() or (out / "demo_summary.json").exists():
        _check_store_is_the_demos(out)
        return
    doomed = [name for name in PRODUCTS if (out / name).exists()]
    what = (f"a re-run would delete its {', '.join(doomed)}" if doomed
            else "the demo would write its data, store and lists among its files")
    raise DemoFolderError(f"{out} is not empty and is not an earlier demo output (no {MARKER} file): {what}. "
                          "Choose a new or empty folder, or pass --force to replace the demo's products there "
                          f"({', '.join(PRODUCTS)}; other files are kept)")


def _check_store_is_the_demos(out: Path) -> None:
    """Raise :class:`DemoFolderError` when the demo's store holds runs the demo did not train.

    The demo tells its user to export MLFLOW_TRACKING_URI at its store to try `runs`, `card` and `promote`; a
    `train` in that shell lands there too, and a re-run used to delete that work without a word.
    """
    import sqlite3

    summary, store = out / "demo_summary.json", out / "mlflow.db"
    if not (summary.exists() and store.exists()):
        return   # a demo that stopped before its summary: every run in its store is its own
    try:
        ours = json.loads(summary.read_text(encoding="utf-8")).get("run_id")
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
            runs = [row[0] for row in db.execute("SELECT run_uuid FROM runs ORDER BY start_time")]
    except (ValueError, OSError, sqlite3.Error):
        return   # not a store or summary this check can read: the demo's own products, as before
    others = [run for run in runs if run != ours]
    if others:
        shown = ", ".join(run[:8] for run in others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        raise DemoFolderError(f"{store} holds {len(others)} run(s) the demo did not train ({shown}: trained with "
                              "MLFLOW_TRACKING_URI pointing at the demo's store?), and a re-run deletes the store. "
                              "Use another --out, copy mlflow.db and mlartifacts/ elsewhere first, or pass --force "
                              "to delete them")


def _fresh(out: Path, *, force: bool = False) -> None:
    # Only the demo's own products are removed, and only from a folder that is the demo's own (or --force).
    check_demo_folder(out, force=force)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("Written by `retention-ml demo`: a re-run clears data/, scores/, lists/, model_card/, "
                              "mlartifacts/ and mlflow.db here.\n", encoding="utf-8")
    for name in PRODUCTS:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def rank_every_manager(scores_dir: Path, lists_dir: Path, *, say=print
                       ) -> tuple[list[Path], list[str], list[tuple[str, str, list[str]]], list[tuple[str, str]]]:
    """One set of lists per manager, one per service with team managers scored, one per service with teams
    that have no manager recorded, and each service's overview (team figures, no person) for its head.

    A team manager is not in their own team's list (nobody holds a supportive conversation with themselves):
    their service's list (``risk_list_service_<council>_<service>_team_managers.*``) is for the head of service.
    Teams with no manager recorded would otherwise get no list and nobody would notice; they are listed per
    council and service (``risk_list_service_<council>_<service>_no_manager_recorded.*``), for that service's
    head of service, who never sees a team of another service. Returns (files written, managers,
    (council, service, teams) with no manager recorded, (council, service) pairs of team-manager lists).
    """
    from retention_ml.commands.rank import (no_manager_plan, no_manager_stem, rank_scores, read_scoring, service_plan,
                                            services_of_teams)
    from retention_ml.reports.risk_list import team_manager_rows

    # every set in one pass and one staging, as ``rank --all`` writes them (per manager instead of per team)
    files = rank_scores(scores_dir, lists_dir, all_teams=True, per_manager=True)
    scores, meta = read_scoring(scores_dir)
    managers = sorted(scores["manager_id"].dropna().astype(str).unique())
    service_of = services_of_teams(scores, meta)
    services: list[tuple[str, str]] = []
    if team_manager_rows(scores).any():
        services = service_plan(scores, service_of)
        n_listed = int(team_manager_rows(scores).sum())
        say(f"[rank] {n_listed} team managers listed for their heads of service, one list per service "
            f"({len(services)}: risk_list_service_<council>_<service>_team_managers.*)")
    unmanaged = no_manager_plan(scores, service_of)
    for council, code, teams in unmanaged:
        say(f"[rank] no manager recorded for team(s) {', '.join(teams)} ({code} in council {council}): their list "
            f"is {no_manager_stem(council, code)}.* (for the head of that service)")
    n_overviews = len({p.stem for p in files if p.name.startswith("service_overview_")})
    say(f"[rank] {n_overviews} service overview(s), one row per team and no person's row, for the heads of service "
        "(service_overview_<council>_<service>.*)")
    return files, managers, unmanaged, services


def run_demo(out: str | Path = "demo-output", *, councils: int = 1, seed: int = 42, months: int = 60,
             start: str = "2019-01", overrides: tuple[str, ...] = (), say=print, force: bool = False) -> dict:
    """Run every stage; returns where everything is (also written to OUT/demo_summary.json).

    Raises :class:`DemoFolderError` (before writing anything) when OUT holds other files than an earlier
    demo's, unless ``force``. The environment names the demo's store only while the stages run (MLflow also
    writes it there when told the URI): a caller in the same process (a notebook, the test suite) is left with
    the store it had."""
    before = {key: os.environ.get(key) for key in STORE_ENV}
    try:
        return _run_stages(out, councils=councils, seed=seed, months=months, start=start, overrides=overrides,
                           say=say, force=force)
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _run_stages(out, *, councils, seed, months, start, overrides, say, force) -> dict:
    import pandas as pd

    from retention_ml.commands.rank import no_manager_stem, service_stem
    from retention_ml.experiment import load_experiment
    from retention_ml.scoring import score
    from retention_ml.simulate import simulate
    from retention_ml.training import train_experiment
    from retention_ml.validation import read_validated_readings

    out = Path(out).resolve()
    _fresh(out, force=force)
    uri = f"sqlite:///{out / 'mlflow.db'}"
    os.environ["MLFLOW_TRACKING_URI"] = uri
    from retention_ml import tracking

    tracking.configure(uri)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    def stage(name: str):
        timings[name] = round(time.perf_counter() - t0 - sum(timings.values()), 1)
        say(f"[{name}] done in {timings[name]} s")

    data = out / "data"
    say(f"[simulate] {councils} council(s), {months} months from {start}, seed {seed} -> {data}")
    simulate(data, councils=councils, start=start, months=months, seed=seed)
    stage("simulate")
    say("[validate] checking every table against data_schema/")
    # validated and read once: training and both scorings take these tables (each would validate the folder again)
    validated = read_validated_readings(data, as_of=None)
    stage("validate")
    say(f"[train] {EXPERIMENT.name} on the simulated data (tracking store {uri})")
    exp = load_experiment(EXPERIMENT, overrides=[f"data.path={data}", *overrides])
    from retention_ml.simulate.writer import is_simulator_output

    result = train_experiment(exp, simulated=is_simulator_output(data), data=validated)
    run_id = result.run_id
    stage("train")
    from retention_ml.simulate.truth_check import check_run

    say("[truth] the run's test-window explanations against the simulator's truth (explanations/truth.json)")
    check_run(run_id, data, n_boot=200, random_state=exp["seed"])
    stage("truth")
    card_paths: dict = {}
    try:
        from retention_ml.reports.model_card import write_card

        say("[card] model card for the run")
        card_paths = write_card(run_id, out / CARD_DIR)
    except ImportError as exc:  # model card module not available in this checkout
        say(f"[card] SKIPPED: {exc}")
    stage("card")
    gate = None
    alias = "candidate"
    try:
        from retention_ml.promotion import promote

        gate = promote(run_id)
        if gate.promoted:
            alias = "champion"
            say(f"[gate] PASSED: version {gate.version} is now @champion")
        else:
            bar = "!" * 78
            say(bar)
            say("[gate] REFUSED: the model did not pass the promotion gate. The demo scores with @candidate")
            say("[gate] so you can see the lists; a refused model must not be used with managers. Failed checks:")
            for c in gate.failed:
                say(f"[gate]   - {c.name}: {c.detail}")
            test = result.metrics["counts"]["test"]
            say(f"[gate] The test window holds {test['positives']} leavers among {test['n']} people: every figure")
            say("[gate] has a wide interval. One council's own history is often this small,")
            say("[gate] and the gate is strict on purpose.")
            say(bar)
    except ImportError as exc:
        say(f"[gate] SKIPPED ({exc}); scoring with @candidate")
    stage("gate")
    model_ref = f"models:/{exp.get('registered_model', 'retention-ml-turnover')}@{alias}"
    last_month = validated[0]["caseload_history"]["month"].max()
    as_of = (pd.Timestamp(last_month) + pd.offsets.MonthBegin(1)).normalize()
    say(f"[score] everyone in post at {as_of.date()} with {model_ref}")
    # Score the month before too, so the lists show "change since last scoring" as a monthly run would.
    earlier = as_of - pd.DateOffset(months=1)
    score(model_ref, data, earlier, out / "scores" / str(earlier.date()), find_previous_scoring=False, data=validated)
    scored = score(model_ref, data, as_of, out / "scores" / str(as_of.date()), data=validated)
    stage("score")
    n_managers = scored.scores["manager_id"].dropna().nunique()
    say(f"[rank] one list per manager ({n_managers} managers) in csv, xlsx, html")
    files, managers, unmanaged, services = rank_every_manager(out / "scores" / str(as_of.date()), out / "lists", say=say)
    stage("rank")
    summary = {
        "out": str(out), "data": str(data), "tracking_uri": uri, "run_id": run_id, "model_ref": model_ref,
        "gate_passed": bool(gate and gate.promoted), "as_of": str(as_of.date()),
        "scores": str(out / "scores" / str(as_of.date())), "lists": str(out / "lists"), "n_lists": len(files),
        "managers": len(managers), "teams_without_manager": [t for _, _, teams in unmanaged for t in teams],
        "service_manager_lists": [{"council": c, "service": s, "stem": service_stem(c, s)} for c, s in services],
        "no_manager_lists": [{"council": c, "service": s, "stem": no_manager_stem(c, s), "teams": teams}
                             for c, s, teams in unmanaged],
        "service_overviews": [p.stem for p in files if p.name.startswith("service_overview_") and p.suffix == ".csv"],
        "model_card": {k: str(v) for k, v in card_paths.items()},
        "timings_s": timings, "total_s": round(time.perf_counter() - t0, 1),
        "browse": f"{_mlflow_program()} ui --backend-store-uri {uri}",
    }
    (out / "demo_summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def demo(
    out: Path = typer.Option(Path("demo-output"), "--out", help="Folder for everything the demo writes."),
    councils: int = typer.Option(1, "--councils", min=1, help="Simulated councils (1 is about 250 FTE)."),
    seed: int = typer.Option(42, "--seed", help="Random seed for the simulation."),
    months: int = typer.Option(60, "--months", min=36, help="Months of history to simulate."),
    json_out: bool = typer.Option(False, "--json", help="Print where everything is as JSON."),
    force: bool = typer.Option(False, "--force", help="Use an OUT that is not empty and not an earlier demo output, deleting the demo's products there (data/, scores/, lists/, model_card/, mlartifacts/, mlflow.db); other files are kept."),
) -> None:
    from rich.console import Console

    from retention_ml.reports.risk_list import service_label

    # soft_wrap: a line is never broken at 80 columns (rich's width when the output is a file or a pipe, as in
    # `make demo | tee demo.log`), so a path or command in it stays whole and pastes; a terminal wraps it for show
    console = Console(stderr=json_out, soft_wrap=True)
    try:
        summary = run_demo(out, councils=councils, seed=seed, months=months, force=force,
                           say=lambda text: console.print(text, markup=False, highlight=False))
    except Exception as exc:
        # A folder refused is a message written for the user; anything else names its kind of failure.
        fail(f"demo stopped: {exc}" if isinstance(exc, DemoFolderError) else f"demo stopped: {type(exc).__name__}: {exc}",
             2, json_out=json_out)
    if json_out:
        answer(summary)
        return
    console.print(f"\n[bold]Demo finished in {summary['total_s']} s.[/] Where everything is:")
    for key in ("data", "scores", "lists", "tracking_uri", "model_ref"):
        console.print(f"  {key:13s} {summary[key]}")
    if summary["model_card"]:
        console.print(f"  {'model card':13s} {summary['model_card'].get('html', '')}")
    console.print(f"  {'lists':13s} {summary['n_lists']} files for {summary['managers']} managers")
    if summary["service_manager_lists"]:
        console.print(f"  {'':13s} and {len(summary['service_manager_lists'])} service list(s) of team managers "
                      "(risk_list_service_*_team_managers.*), for the heads of service")
    for entry in summary["no_manager_lists"]:
        console.print(f"  {'':13s} and {entry['stem']}.* for team(s) with no manager recorded "
                      f"({', '.join(entry['teams'])}), for the head of the {service_label(entry['service'])} service")
    if summary.get("service_overviews"):
        console.print(f"  {'':13s} and {len(summary['service_overviews'])} service overview(s) (service_overview_*.*: "
                      "team figures against target, no person), for the heads of service")
    console.print("\nBrowse the runs and the registry with:")
    console.print(f"  {summary['browse']}", markup=False, highlight=False)
    console.print("To try runs, card, promote or explain on the demo's run, point them at its store first with:")
    console.print(f"  export MLFLOW_TRACKING_URI={summary['tracking_uri']}", markup=False, highlight=False)


def _mlflow_program() -> str:
    """``mlflow`` when it is on PATH, else the one installed beside this Python (``make demo`` runs
    .venv/bin/retention-ml without activating the environment, so a bare ``mlflow`` is not found)."""
    beside = Path(sys.executable).parent / "mlflow"
    return "mlflow" if shutil.which("mlflow") or not beside.exists() else str(beside)
