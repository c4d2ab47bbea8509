"""``retention-ml score``: risks, intervals, driver profiles, reasons and levers for everyone in post at a date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from retention_ml.commands import TrackingUriOption, answer, fail

HELP = """Score every worker in post at --as-of with a model from the registry, using the same feature code as training.

The model is found first (a missing store or alias is said at once, exit 2), then the data are validated: if they fail, the validator's report is printed and nothing is written (exit 1).
They are validated as `retention-ml validate DATA` (without --as-of): an extract is normally pulled after the
scoring date, so rows dated after --as-of are expected and the features ignore them (each feature uses only what
was known at --as-of, as in training). `validate --as-of` is the check that an extract holds nothing after the
day it was pulled: give it the pull date, not the scoring date. The one later fact scoring uses is a leaving date
already recorded (end_date on or after --as-of): those people are scored but flagged leaving_date_recorded, and
rank leaves them out of every list (nobody is offered a retention conversation with someone already leaving).

Bands: the cut-offs in retention_ml/risk_bands.toml are yearly probabilities; they are scaled to the model's
horizon (1 - (1 - cut-off) ** (H / 12)), and score_meta.json records the cut-offs used.
Writes OUT/scores.parquet, OUT/scores.csv and OUT/score_meta.json atomically (worker ids only; names are kept in the
parquet only with --names). OUT keeps one date's scoring: an OUT holding a scoring of another date, or one that
lists were sent from (its distribution_log.csv), is refused before any work (exit 2), so no record is replaced. With --previous DIR (or an earlier scoring found beside OUT) each person's previous risk
is carried for "change since last scoring"; the previous scoring must be earlier and of the same horizon (exit 2
otherwise), since a later one or a 12-month risk against a 6-month one is no change at all. It must also be of the
same data: worker ids restart per extract in many HR systems, so an id is taken as the same person only when their
council and start date agree, and a scoring where under 90% of the shared ids agree is of other data: refused with
--previous (exit 2), passed over when found beside OUT (with a note; no change column rather than someone else's).
Without --previous the folders beside OUT (its parent's other folders, e.g. scores/2025-06 for --out scores/2025-07)
are searched: the latest earlier scoring of the same data and horizon is taken (of two scorings of one date, the one
by the same model first, then the one scored last). The printout and score_meta.json ("previous_why",
"previous_passed_over") say which was taken and why every other folder was passed over (later, another horizon,
other data, older, not a scoring). A previous scoring by another model (the first scoring after a new model is
promoted) is named and no previous risk is carried: the change would hold the change of model too, so every list
says why it shows none this time. To compare like with like, score the previous date again with the new model into
a new folder beside OUT (it is then taken first), then score OUT again before any list is cut from it.

Population: only the people the model was trained on are scored. A model trained with population.agency =
"exclude" scores no agency worker, one trained with "only" scores agency workers alone; score_meta.json
("population") and every list say which, and the count left out is printed and recorded.

Thin data: a table that holds no rows for a council's people in post (or, for a table with a row every month,
only rows months old at --as-of) leaves the features it feeds empty or stale there. They are scored, and a
warning naming the table, council and features is printed and kept in score_meta.json ("data_warnings").

Identifying ids: worker ids that look like names, payroll numbers or National Insurance numbers (validate's rules name_like_id, number_like_id and ni_number_like_id)
are scored, and a warning counting them by file and column (never a value) is printed and kept in score_meta.json
("data_readings"): the scores and lists carry those ids.

Approval: score_meta.json records whether the scored model is the registry's "champion" at scoring time and was put
there by the promotion gate (retention-ml promote), whichever way --model names it. Any other model (a candidate, a
champion alias moved by hand) is scored, so lists can be previewed, but marked "not approved" and a warning is
printed: do not share such lists with managers.

Printed: people per council and band (one total row beyond 12 councils; --json holds them per council as "bands_by_council"), and which earlier scoring the change is against.

Exit codes: 0 ok, 1 data failed validation or nobody in post, 2 could not run (bad option such as an impossible
--as-of date or one after the data ends, model or folder not found, a model trained on other features, files
could not be written).

\b
Examples:
  retention-ml score --model models:/retention-ml-turnover@champion --data extracts/2025-07 --as-of 2025-07-01 --out scores/2025-07
  retention-ml score --model runs:/0af3.../model --data extracts/2025-07 --as-of 2025-07-01 --out scores/2025-07 --json
"""


def band_counts(result):
    """People per council and band, the bands low -> high as the lists order them (pandas sorted them 'high low
    medium'), a band nobody is in shown as 0."""
    from retention_ml.reports.risk_list import RISK_BANDS

    return result.summary().reindex(columns=list(RISK_BANDS), fill_value=0)


COUNCILS_SHOWN = 12   # beyond this many councils the band table is one total row (150 rows buried the rest)


def band_summary(result) -> str:
    """The band counts as printed: one row per council for a few councils, else the total across them and where
    the per-council counts are (--json, "bands_by_council")."""
    table = band_counts(result)
    if len(table) <= COUNCILS_SHOWN:
        return table.to_string()
    total = table.sum().to_frame(f"all {len(table)} councils").T
    total.columns.name = "band"
    return total.to_string() + "\n(per council: score --json, \"bands_by_council\")"


def register(app: typer.Typer) -> None:
    app.command("score", help=HELP)(score_command)


def score_command(
    model: str = typer.Option(..., "--model", help="models:/NAME@champion, models:/NAME@candidate, a run id or runs:/ID/model."),
    data: Path = typer.Option(..., "--data", help="Folder of HR extracts, one file per table: <table>.csv, .xlsx or .parquet (as validate reads it)."),
    as_of: str = typer.Option(..., "--as-of", help="Scoring date YYYY-MM-DD (normally the first of a month)."),
    out: Path = typer.Option(..., "--out", help="Folder for scores.parquet, scores.csv, score_meta.json."),
    previous: Path = typer.Option(None, "--previous", help="Folder of an earlier scoring of the same data and horizon (default: the latest such folder beside OUT)."),
    names: bool = typer.Option(False, "--names", help="Keep display_name in scores.parquet for rank --names."),
    json_out: bool = typer.Option(False, "--json", help="Print metadata and files as JSON."),
    tracking_uri: TrackingUriOption = None,
) -> None:
    from rich.console import Console

    from retention_ml.scoring import NobodyInPost, ScoringFolderTaken, score
    from retention_ml.tracking import NoSuchAlias, NoSuchRun
    from retention_ml.validation import DataValidationError

    console = Console(stderr=True)
    try:
        date.fromisoformat(as_of)
    except ValueError as exc:
        raise typer.BadParameter(f"{as_of!r} is not a date YYYY-MM-DD ({exc})", param_hint="--as-of") from exc
    from retention_ml.io import out_folder_problem

    if problem := out_folder_problem(out):   # before minutes of validation, features and SHAP
        fail(f"error: --out {out}: {problem}; give a folder for scores.parquet, scores.csv, score_meta.json", 2,
             json_out=json_out)
    if not data.is_dir():
        fail(f"error: data folder {data} not found", 2, json_out=json_out)
    try:
        with console.status(f"scoring {data} at {as_of} with {model}"):
            result = score(model, data, as_of, out, previous=previous, display_names=names, tracking_uri=tracking_uri)
    except DataValidationError as exc:
        report = exc.report
        typer.echo(report.to_json() if json_out else str(report))
        raise typer.Exit(1)
    except NobodyInPost as exc:
        fail(f"error: {exc}", 1, json_out=json_out)
    except (NoSuchAlias, NoSuchRun, ScoringFolderTaken) as exc:   # e.g. no champion yet, another store, a folder in use: the message says why and what to do
        fail(f"error: could not score: {exc}", 2, json_out=json_out)
    except Exception as exc:  # model not found, features the model lacks, a date after the data ends ...
        fail(f"error: could not score: {type(exc).__name__}: {exc}", 2, json_out=json_out)
    if json_out:
        answer({**result.meta, "files": [str(f) for f in result.files],
                "bands_by_council": band_counts(result).to_dict(orient="index")})
    else:
        typer.echo(f"scored {result.meta['n_workers']} workers at {result.meta['as_of']} with {model} (run {result.meta['run_id']})")
        typer.echo(band_summary(result))
        population = result.meta.get("population") or {}
        if population.get("left_out"):
            typer.echo(f"{population['left_out']} people in post were not scored: this model scores {population['scored']}")
        leaving = result.meta.get("leaving_date_recorded") or 0
        if leaving:
            typer.echo(f"{leaving} of them have a leaving date recorded (end_date on or after {result.meta['as_of']}): "
                       "scored, flagged leaving_date_recorded, and left out of every list by rank")
        for line in previous_lines(result.meta, out):
            typer.echo(line)
        for f in result.files:
            typer.echo(f"  {f}")
    from retention_ml.artifacts import DATA_READINGS_KEY
    from retention_ml.validation import identifying_id_warnings

    # on stderr, also with --json; ids that may identify people (names, payroll numbers) too: a scheduled job
    # that never runs `validate` is told
    for warning in [*(result.meta.get("data_warnings") or []), *identifying_id_warnings(result.meta.get(DATA_READINGS_KEY))]:
        console.print(f"warning: {warning}", markup=False, soft_wrap=True)
    if json_out and result.meta.get("previous_note"):   # on stderr with --json (the printout names them above)
        console.print(f"note: {result.meta['previous_note']}", markup=False)
    # Last thing printed (on stderr, also with --json) so that it is the line an operator sees.
    _warn_if_not_approved(console, result.meta["approval"])


SHOWN_NON_SCORINGS = 5   # folders beside OUT that hold no scoring (lists/, data): named, not each explained


def previous_lines(meta: dict, out: Path) -> list[str]:
    """Which earlier scoring "change since last scoring" compares with and why, and why each other folder
    beside ``out`` was passed over (score_meta.json's previous, previous_why, previous_passed_over)."""
    if meta.get("previous"):
        lines = [f"change since last scoring: against {meta['previous']} (scored at {meta['previous_as_of']}): "
                 f"{meta.get('previous_why')}"]
    else:
        lines = ["change since last scoring: none (no earlier scoring of the same data and horizon beside "
                 f"{out}; give one with --previous DIR)"]
    passed = meta.get("previous_passed_over") or []
    not_scorings = [Path(p["folder"]).name for p in passed if p["why"].startswith("not a scoring")]
    shown = [p for p in passed if not p["why"].startswith("not a scoring")]
    if shown:
        lines.append("passed over:")
        lines += [f"  {p['folder']}: {p['why']}" for p in shown]
    if not_scorings:
        more = len(not_scorings) - SHOWN_NON_SCORINGS
        names = ", ".join(not_scorings[:SHOWN_NON_SCORINGS]) + (f" and {more} more" if more > 0 else "")
        lines.append(f"not scorings (no score_meta.json), passed over: {names}")
    return lines


def _warn_if_not_approved(console, approval: dict) -> None:
    from rich.panel import Panel

    if approval["status"] == "approved":
        console.print(f"[green]approved model:[/green] {approval['detail']}")
        return
    console.print(Panel(f"[bold]{approval['detail']}[/bold]",
                        title="[bold]WARNING: MODEL NOT APPROVED BY THE PROMOTION GATE[/bold]",
                        border_style="bold red", style="red"))
