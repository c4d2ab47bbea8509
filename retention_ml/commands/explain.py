"""``retention-ml explain``: why the model gives a person (or everyone) their risk, in drivers and in words."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import NamedTuple

import typer

from retention_ml.commands import JsonOption, RunOption, TrackingUriOption, answer, fail
# The one statement screens and files of per-person reasons carry (--out too: a first '#' line, or Parquet metadata).
from retention_ml.reports.risk_list import LEAVING_FLAG, NOT_A_DECISION, approval_line

HELP = """Explain turnover-risk predictions: driver profile, reasons in words and levers.

With --worker, prints one person's profile: risk, the band the lists show with --bands' cut-offs (and whether managers see the probability), who reads the person's row (their team manager, the head of service, or nobody when a leaving date is recorded), drivers and reasons (health data such as sickness absence with the person's own figures, and the words the lists used instead, which name no figure); --inputs adds every value the model used about them; --lists-log PATH (a scoring folder's distribution_log.csv, which retention-ml rank writes, or a folder of scorings) adds every list that held their row, whom it was for, the band it showed (from the scores it was cut from) and the model that scored it; when the lists of --as-of came from another model than --run (a model retrained since), an alert says the risk and reasons shown are not what those lists showed; without --lists-log, the same alert is given when --run was built from leaving outcomes after --as-of (a model retrained since: that date's lists came from an earlier one), and a line says the band is the one this model's lists show, not checked against the lists sent. That is the tool's part of an answer to a subject access request (the council adds purposes, retention and anyone a list was passed on to); --json holds all of it. A model the promotion gate has not approved is marked NOT APPROVED first.

Without --worker, it writes everyone in post at --as-of (or one --team) to --out (CSV or Parquet; default explanations-<as-of>.csv), for the analyst: its reasons quote health data (sickness days), so it is never a list to pass on. The file says that predictions never decide anything: a CSV in its first line, starting with '#' (read it with pandas.read_csv(path, comment="#")), a Parquet file in its metadata (key "note").

As for scoring, the model is found first (a missing store or alias is said at once, exit 2), then the data are validated: if they fail, every problem is listed and nothing is written (exit 1). A wrong --out (not .csv or .parquet) is refused before any work. Worker ids that look like names, payroll numbers or National Insurance numbers (validate's rules name_like_id, number_like_id and ni_number_like_id) are explained, and a warning counting them by file and column (never a value) is printed on stderr and kept in --json's "warnings": the profile and the file carry those ids.

Exit codes: 0 ok, 1 the data failed validation, 2 could not run (model, worker or team not found).

Values are exact SHAP values on the calibrated log-odds scale: positive pushes the risk up. Reasons are given only for drivers that push risk up. Predictions support a conversation; they never decide anything about a person.

\b
Examples:
  retention-ml explain --run models:/retention-ml-turnover@champion --data data/ --as-of 2025-01-01 --worker W0000123
  retention-ml explain --run 3f2a... --data data/ --as-of 2025-01-01 --out explanations.parquet
  retention-ml explain --run 3f2a... --data data/ --as-of 2025-01-01 --team T00012 --out team_T00012.csv
  retention-ml explain --run 3f2a... --data data/ --as-of 2025-01-01 --worker W0000123 --json
"""

EXPLANATION_KEY_COLUMNS = ("worker_id", "team_id", "council_id", "manager_id", "role", "months_in_post", "as_of")


def _some(ids, shown: int = 10) -> str:
    """The first ids of a column and how many more: a mistyped id is then easy to see."""
    known = sorted(set(ids.dropna().astype(str)))
    return ", ".join(known[:shown]) + (f" and {len(known) - shown} more" if len(known) > shown else "") or "none"


class CommandError(Exception):
    """The command could not run (exit code 2)."""


def _load_model(ref: str, tracking_uri: str | None = None):
    from retention_ml import tracking

    try:
        tracking.configure(tracking_uri, for_reading=True)   # a lookup never creates an empty store
    except tracking.TrackingStoreError as exc:
        raise CommandError(str(exc)) from exc
    loader = getattr(tracking, "load_turnover_model", None)
    if loader is None:
        raise CommandError("this installation cannot load models yet (retention_ml.tracking.load_turnover_model is missing)")
    try:
        return loader(ref)
    except Exception as exc:  # MLflow raises many types; the user needs the message
        raise CommandError(f"could not load model {ref!r}: {exc}") from exc


def _id_spelling(given: str, ids) -> str:
    """'; did you mean W0000123? ids are matched exactly' when ``given`` is an id in post but for case or spaces
    (typed from a letter or an email: 'w0000123'), else ''."""
    import pandas as pd

    ids = pd.Series(ids, dtype="string").dropna().drop_duplicates()
    same = ids[ids.str.strip().str.casefold() == str(given).strip().casefold()]
    return f"; did you mean {same.iat[0]}? ids are matched exactly, case included" if len(same) else ""


def _run_catalogue(run_id: str):
    # The catalogue logged with the run describes exactly the model's features.
    from retention_ml import artifacts, tracking

    try:
        return tracking.load_table_artifact(run_id, artifacts.FEATURE_CATALOGUE)
    except Exception:
        return None


def _check_trained_tables(run_id: str, data: Path, catalogue, present: set[str]) -> None:
    # the rule scoring applies: a table the model was trained with must be in the data, or nothing is explained
    from retention_ml.scoring import TrainedTablesMissing, check_trained_tables

    try:
        check_trained_tables(run_id, data, catalogue, present)
    except TrainedTablesMissing as exc:
        raise CommandError(str(exc)) from exc


def _tables(data: Path):
    """The input tables, validated as scoring validates them, and the warnings about ids that may identify people.

    Raises :class:`retention_ml.validation.DataValidationError` (every problem in its report) for invalid data:
    explanations are never written from values such as a negative caseload.
    """
    from retention_ml.validation import identifying_id_warnings, read_validated_readings

    try:
        tables, readings = read_validated_readings(data)
        return tables, identifying_id_warnings(readings)
    except FileNotFoundError as exc:  # the folder itself is gone
        raise CommandError(f"could not read {data}: {exc}") from exc


def _features(tables, as_of: date):
    import pandas as pd

    try:
        from retention_ml.features import build_features
    except ImportError as exc:
        raise CommandError(f"feature pipelines are not available: {exc}") from exc
    try:
        return build_features(tables, [pd.Timestamp(as_of)])
    except ValueError as exc:  # e.g. a date after the data ends
        raise CommandError(str(exc)) from exc


class Explained(NamedTuple):
    """What :func:`compute` gives: the run, its explanation and table of the explained rows, their feature matrix
    (the model's inputs), and the warnings about worker ids that may identify people (names, payroll or National
    Insurance numbers: validate's identifying-id rules, counted by file and column, never a value)."""

    run_id: str
    explanation: object
    table: object
    X: object
    id_warnings: list[str]


def compute(run: str, data: Path, as_of: date, worker: str | None, *, team: str | None = None,
            progress=None, tracking_uri: str | None = None) -> Explained:
    """Model, explanation and the explained rows (filtered to ``worker`` / ``team`` when given).

    ``progress(step, done, total)`` is called as the work advances. ``data`` is validated first;
    invalid data raises :class:`retention_ml.validation.DataValidationError`.
    """
    import numpy as np

    from retention_ml.explain import explain
    from retention_ml.explain.spells import lever_context
    from retention_ml.scoring import POPULATION_TEXT, hours_in_force, population_mask, run_population

    step = progress or (lambda *args: None)
    step("Loading model", 0, 1)
    # the model first: a missing store or alias is said in a second, not after a national extract is read (12 s)
    model, run_id = _load_model(run, tracking_uri)
    step("Validating data", 0, 1)
    tables, id_warnings = _tables(data)  # before any feature: bad data is refused before the work
    catalogue = _run_catalogue(run_id)
    _check_trained_tables(run_id, data, catalogue, set(tables))
    step("Building features", 0, 1)
    dataset = _features(tables, as_of)
    # only the population the model was trained on, as score has it: the same people, measured from the same average
    agency = run_population(run_id)
    own = population_mask(dataset.keys, tables["workers"], agency) if agency else np.ones(len(dataset.keys), bool)
    X, keys = dataset.X.loc[own].reset_index(drop=True), dataset.keys.loc[own].reset_index(drop=True)
    mask = np.ones(len(keys), dtype=bool)
    if worker is not None:
        mask &= (keys["worker_id"].astype(str) == worker).to_numpy()
        if not mask.any():
            outside = (dataset.keys["worker_id"].astype(str) == worker).any()
            raise CommandError(f"worker {worker!r} is in post at {as_of} but outside the model's population (it "
                               f"scores {POPULATION_TEXT[agency]})" if outside else
                               f"worker {worker!r} is not in post at {as_of} in {data}{_id_spelling(worker, keys['worker_id'])} "
                               f"(in post: {_some(keys['worker_id'])})")
    if team is not None:
        mask &= (keys["team_id"].astype(str) == team).to_numpy()
        if not mask.any():
            raise CommandError(f"team {team!r} has nobody in post at {as_of} in {data}{_id_spelling(team, keys['team_id'])} "
                               f"(teams with people in post: {_some(keys['team_id'])})")
    if catalogue is None:
        catalogue = getattr(dataset, "catalogue", None)
    # everyone in post is explained, because each person's reasons are measured from the average of them all
    explanation = explain(
        model, X, catalogue=catalogue, chunk_rows=5000, progress=lambda done, total: step("Explaining", done, total)
    ).relative_to(keys["as_of"]).take(np.flatnonzero(mask))
    X, keys = X.loc[mask].reset_index(drop=True), keys.loc[mask].reset_index(drop=True)
    # the hours in force word a part-timer's reasons, as scoring words them (dropped from the file below)
    keys = lever_context(keys.assign(fte=hours_in_force(keys, tables)), tables)   # and how the spell began (levers)
    step("Writing reasons", 0, 1)
    # Every key words the reasons (employment type, as scoring has it); the file keeps EXPLANATION_KEY_COLUMNS only.
    # The person's own view and the analyst's file quote health data (sickness days); lists never do (scoring).
    table = explanation.table(X, keys, health="show")
    if worker is not None:   # what the lists showed instead (a subject access request asks who was shown what)
        listed = explanation.reasons(X, keys, k=3, health="withhold").reset_index(drop=True)
        table = table.assign(**{f"list_reason_{i}": listed[f"reason_{i}"] for i in (1, 2, 3) if f"reason_{i}" in listed})
    table = table.drop(columns=[c for c in keys.columns if c not in EXPLANATION_KEY_COLUMNS])
    if "workers" in tables:   # as scores have it: a person already leaving is in no list (risk_list.LEAVING_LINE)
        from retention_ml.scoring import leaving_date_recorded

        table[LEAVING_FLAG] = leaving_date_recorded(keys, tables["workers"])
    return Explained(run_id, explanation, table, X, id_warnings)


def horizon_of(run_id: str) -> int | None:
    """Months the model's risk covers: the run's logged ``label.horizon_months`` (None when not recorded)."""
    from retention_ml.scoring import run_horizon_months

    return run_horizon_months(run_id)


def within(horizon_months: int | None) -> str:
    """'within the next 6 months', or says the horizon is not recorded (a 6-month risk is not a 12-month one)."""
    if horizon_months is None:
        return "within the model's horizon (not recorded with its run)"
    return f"within the next {horizon_months} months" if horizon_months != 1 else "within the next month"


def approval_of(run_id: str) -> dict:
    """Whether the explained model passed the promotion gate, as ``retention-ml score`` records it for the lists.

    A person's explanation (shown to them, their manager or a data protection officer) must carry the same
    warning as the lists when the model was never approved: ``@candidate`` explains an unapproved model.
    """
    from retention_ml.scoring import model_approval

    return model_approval(run_id)


def file_note(approval: dict | None) -> str:
    """The one-line note of a file of explanations: the approval alert first when the model is not approved."""
    kind, text = approval_line({"approval": approval or {}})
    return NOT_A_DECISION if kind == "note" else f"{text} {NOT_A_DECISION}"


def list_reader(worker_id: str, manager_id: str | None, *, leaving: bool = False) -> str:
    """Who reads this person's row in the lists ``retention-ml rank --all`` writes (the rule of risk_list.MANAGER_LINE).

    A subject access request asks who was shown what: a team manager is listed for their head of service,
    anyone else for their team's manager, or for the head of service when the team has no manager recorded.
    """
    if leaving:
        return "nobody (a leaving date is recorded, so the person is in no list)"
    if manager_id is None:
        return "the head of service (the team has no manager recorded)"
    if str(manager_id) == str(worker_id):
        return "the head of service (team managers are listed for them, never in their own team's list)"
    return f"their team manager ({manager_id})"


def inputs_of(row, catalogue) -> list[dict]:
    """Every value the model used about one person (``row``: their feature row), with its meaning, unit and driver.

    A subject access request is owed the personal data processed, not only the reasons shown: this is the
    model's whole input for the person, in the catalogue's words (a feature not in it keeps its name).
    Missing values are None (not recorded for the person).
    """
    import pandas as pd

    cat = catalogue.set_index("feature") if catalogue is not None and len(catalogue) else pd.DataFrame()
    out = []
    for feature, value in row.items():
        meta = cat.loc[feature] if feature in cat.index else {}
        out.append({"feature": str(feature), "meaning": str(meta.get("meaning", feature)),
                    "value": None if pd.isna(value) else float(value), "unit": str(meta.get("unit", "")),
                    "driver": str(meta.get("driver", "other"))})
    return out


def band_of(risk: float, horizon_months: int | None, bands: Path | None = None) -> dict:
    """The band a list shows for ``risk``, with the list's cut-offs (``bands``: the file rank was given)."""
    from retention_ml.reports.risk_list import assign_bands, band_meaning_text, load_band_config

    config = load_band_config(bands).for_horizon(horizon_months)
    meta = {"band_cutoffs": config.cutoffs_record(), **({"horizon_months": horizon_months} if horizon_months else {})}
    return {"band": str(assign_bands([risk], config=config)[0]), "shown_to_manager_as": (
        "band and probability" if config.show_probability else "band only (the probability is not shown)"),
        "cutoffs": config.cutoffs_record(),
        # the lists' own words for what the band asks of the manager: the person reads what their manager read
        "band_meaning": band_meaning_text(meta, heading="What the band asks of the manager who reads the list")}


def person_record(run_id: str, explanation, table, *, horizon_months: int | None = None,
                  approval: dict | None = None, bands: Path | None = None, features=None) -> dict:
    """One person's explanation as plain data (for --json and for printing); ``horizon_months`` and
    ``approval`` (see :func:`approval_of`) from the run; ``bands`` the band file the lists use (default shipped);
    ``features`` the person's feature row (the model's inputs, see :func:`inputs_of`), when given."""
    import numpy as np
    import pandas as pd

    from retention_ml.explain.drivers import unmeasured_drivers
    from retention_ml.reports.risk_list import LEFT_OFF_LINE, NO_HEALTH_BAND, NO_LEVER_BAND, NO_LEVER_LINE
    from retention_ml.schema import load_drivers

    row = table.iloc[0]
    labels = {d.code: d.label for d in load_drivers()}
    # a driver the training data held no value for is left out, not shown as "+0.000" (it was never measured)
    unmeasured = unmeasured_drivers(explanation.catalogue)
    profile = explanation.by_driver().iloc[0].drop(list(unmeasured)).sort_values(ascending=False)
    reasons = [
        {"reason": row[f"reason_{i}"], "driver": row[f"reason_driver_{i}"], "lever": row[f"lever_{i}"],
         # health data: the person reads their values, the lists said only this
         **({"on_lists": row[f"list_reason_{i}"]} if row.get(f"list_reason_{i}", row[f"reason_{i}"]) != row[f"reason_{i}"] else {})}
        for i in (1, 2, 3)
        if f"reason_{i}" in table.columns and pd.notna(row[f"reason_{i}"])
    ]
    band = band_of(float(row["risk"]), horizon_months, bands)
    if band["band"] == NO_HEALTH_BAND:   # what the lists did with a health-derived reason: left it off
        reasons = [{**r, "on_lists": LEFT_OFF_LINE} if "on_lists" in r else r for r in reasons]
    if band["band"] == NO_LEVER_BAND:   # the lists showed the reasons without their levers
        reasons = [{**r, "lever_on_lists": NO_LEVER_LINE} if r["lever"] else r for r in reasons]
    # a missing value (a team with no manager recorded) is JSON null, never the string "nan"
    keys = {c: None if pd.isna(row[c]) else str(row[c]) for c in EXPLANATION_KEY_COLUMNS if c in table.columns}
    if keys.get("months_in_post") is not None:
        keys["months_in_post"] = int(row["months_in_post"])
    if keys.get("as_of") is not None:
        keys["as_of"] = pd.Timestamp(row["as_of"]).date().isoformat()
    return {
        "run_id": run_id,
        **keys,
        "risk": float(row["risk"]),
        "horizon_months": horizon_months,
        **band,
        "listed_for": list_reader(str(row["worker_id"]), keys.get("manager_id"),
                                  leaving=bool(row.get(LEAVING_FLAG, False))),
        "base_value": float(np.asarray(explanation.base_value).ravel()[0]),
        "reference": explanation.reference,
        "drivers": [{"driver": code, "label": labels.get(code, code), "shap": float(v)} for code, v in profile.items()],
        "reasons": reasons,
        "not_measured": [{"driver": code, "label": labels.get(code, code), "why": why} for code, why in unmeasured.items()],
        **({"inputs": inputs_of(features, explanation.catalogue)} if features is not None else {}),
        "scale": "calibrated log-odds; positive pushes risk up against the reference",
        "approval": approval_line({"approval": approval or {}})[1],
        "approved": (approval or {}).get("status") == "approved",
        "note": NOT_A_DECISION,
    }


def print_inputs(console, record: dict) -> None:
    """The model's inputs for the person (``--inputs``): the data a subject access request is owed."""
    from rich.table import Table

    grid = Table(title=f"Data the model used about this person at {record.get('as_of', '?')}")
    for col in ("What", "Value", "Unit", "Driver"):
        grid.add_column(col, justify="right" if col == "Value" else "left")
    for i in record.get("inputs", []):
        grid.add_row(i["meaning"], "not recorded" if i["value"] is None else f"{i['value']:,.6g}", i["unit"], i["driver"])
    console.print(grid)


def what_lists_showed(sent_in: list[dict], worker_id: str, bands: Path | None = None) -> list[dict]:
    """``sent_in`` (:func:`retention_ml.reports.distribution.lists_holding`) with, per list, ``band_shown``: the
    band that list showed the person (their risk in the scoring it was cut from, read against ``bands`` as
    rank was given them) and ``run_id``: the model that scored it. A year of monthly lists spans retrains; the
    model explained now is not always the one whose band a manager was shown. None where the scoring folder no
    longer holds the scores or their record."""
    import pandas as pd

    from retention_ml.scoring import read_meta

    shown: dict[str, tuple] = {}
    for folder in {s.get("scoring") for s in sent_in if s.get("scoring")}:
        meta = read_meta(Path(folder)) or {}
        try:
            scores = pd.read_parquet(Path(folder) / "scores.parquet", columns=["worker_id", "risk"])
            risk = scores.loc[scores["worker_id"].astype(str) == str(worker_id), "risk"]
        except (OSError, ValueError, KeyError):
            risk = pd.Series(dtype=float)
        band = band_of(float(risk.iloc[0]), meta.get("horizon_months"), bands)["band"] if len(risk) else None
        shown[folder] = (band, meta.get("run_id"))
    return [{k: v for k, v in s.items() if k != "scoring"}
            | dict(zip(("band_shown", "run_id"), shown.get(s.get("scoring"), (None, None)))) for s in sent_in]


def lists_model_note(sent_in: list[dict] | None, as_of: str, run_id: str, outcomes_until=None) -> str | None:
    """The alert when lists of the explained date were made by another model than the one explained: its
    risk, band and reasons are then not what those lists showed (:func:`what_lists_showed` has those bands).

    ``sent_in``: the person's lists (None: no --lists-log given); ``outcomes_until``: the date up to which the
    explained model's data held leaving outcomes (:func:`retention_ml.scoring.run_outcomes_until`). A model built
    from outcomes after ``as_of`` did not exist when that date was scored as it came, so without a list of that
    date scored by it, its explanation is a fresh one, not what the person's manager was shown."""
    dated = [s for s in sent_in or [] if s["as_of"] == as_of and s.get("run_id")]
    others = sorted({str(s["run_id"]) for s in dated} - {str(run_id)})
    if others:
        return (f"The lists of {as_of} were made with another model (run {', '.join(others)}) than the one explained "
                f"here (run {run_id}): the risk, band and reasons below are this model's, not what the lists of {as_of} "
                f"showed. The band each list showed is in the lists below; explain with --run {others[0]} for that "
                "model's reasons.")
    until = None if outcomes_until is None else outcomes_until.date().isoformat()   # ISO dates compare as text
    if dated or until is None or until <= as_of:
        return None
    return (f"This model (run {run_id}) was built from leaving outcomes up to {until}, after "
            f"{as_of}: the lists of {as_of} were made before it existed, by an earlier model, unless that date was "
            f"scored again with this one. The risk, band and reasons below are a fresh explanation by this model, "
            f"not what the lists of {as_of} showed. For what they showed: add --lists-log <the scoring folder of "
            f"{as_of}, or the folder of all scorings> (the band each list showed and the model that scored it), "
            "then explain with --run <that model's run>.")


# Without --lists-log the band is the explained model's, read against the bands file: what a list of this model shows.
LISTS_NOT_CHECKED = ("The band is the one a list made with this model shows; which lists held this person's row, "
                     "the band each showed and the model that scored it are not checked here: add --lists-log <a "
                     "scoring folder, or the folder of all scorings>.")


def print_sent_in(console, record: dict) -> None:
    """The lists that held the person's row, whom each was for, the band it showed and the model that scored it
    (``--lists-log``): the recipients a subject access request asks about. One line per list, not a table: a
    table's columns cut the list names at 80 characters."""
    if not record["sent_in"]:
        console.print("No list in the distribution log held this person's row.")
        return
    console.print("[bold]Lists that held this person's row (from the distribution log)[/bold]")
    for s in record["sent_in"]:
        model = f"model run {str(s['run_id'])[:8]}" if s.get("run_id") else "model not recorded"
        band = f"band {s['band_shown']}" if s.get("band_shown") else "band not found (scores no longer there)"
        console.print(f" - scoring of {s['as_of']}: {s['list']} for {s['recipient']}, {band}, {model} "
                      f"({s['approval']}); written {s['written_at']}", markup=False)


def print_person(record: dict, *, inputs: bool = False) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not record.get("approved", False):   # first, as the lists have it: never read as an approved model's view
        console.print(f"[bold red]{record.get('approval') or approval_line({})[1]}[/bold red]")
    who = ", ".join(f"{k} {record[k]}" for k in ("team_id", "role", "months_in_post") if k in record)
    console.print(f"[bold]{record.get('worker_id', '?')}[/bold] ({who}) at {record.get('as_of', '?')}")
    if record.get("lists_model_note"):   # before the risk: never read as what the person's manager was shown
        console.print(f"[bold red]{record['lists_model_note']}[/bold red]")
    console.print(f"Risk of leaving {within(record.get('horizon_months'))}: [bold]{record['risk']:.0%}[/bold]")
    if "band" in record:   # what the lists show, and to whom: the answer a subject access request needs
        console.print(f"In the lists: band [bold]{record['band']}[/bold], {record['shown_to_manager_as']}, "
                      f"listed for {record['listed_for']}.")
        if record.get("lists_note"):
            console.print(f"[dim]{record['lists_note']}[/dim]")
        if record.get("band_meaning"):
            console.print(record["band_meaning"])
    grid = Table(title=f"Driver profile (SHAP, calibrated log-odds, against {record['reference']})", show_lines=False)
    grid.add_column("Driver")
    grid.add_column("Contribution", justify="right")
    grid.add_column("")
    top = max((abs(d["shap"]) for d in record["drivers"]), default=1.0) or 1.0
    for d in record["drivers"]:
        bar = ("+" if d["shap"] > 0 else "-") * max(1, round(10 * abs(d["shap"]) / top)) if d["shap"] else ""
        grid.add_row(d["label"], f"{d['shap']:+.3f}", f"[red]{bar}[/red]" if d["shap"] > 0 else f"[green]{bar}[/green]")
    console.print(grid)
    if record.get("not_measured"):
        console.print("[dim]Not measured (no data, so not in the profile): "
                      + "; ".join(f"{d['label']} ({d['why']})" for d in record["not_measured"]) + "[/dim]")
    if record["reasons"]:
        console.print("[bold]Reasons (drivers pushing risk up)[/bold]")
        for i, r in enumerate(record["reasons"], 1):
            console.print(f" {i}. {r['reason']}")
            if r.get("on_lists"):
                console.print(f"    [dim]On the lists (health data, no figures): {r['on_lists']}[/dim]")
            if r["lever"]:
                console.print(f"    [dim]Lever: {r['lever']}[/dim]")
            if r.get("lever_on_lists"):
                console.print(f"    [dim]On the lists: {r['lever_on_lists']}[/dim]")
    else:
        from retention_ml.explain.reasons import no_reason_line

        console.print(no_reason_line(record["drivers"]))
    if "sent_in" in record:
        print_sent_in(console, record)
    if inputs:
        print_inputs(console, record)
    console.print(f"[italic]{NOT_A_DECISION}[/italic]")


def register(app: typer.Typer) -> None:
    @app.command("explain", help=HELP)
    def explain_command(
        run: RunOption,
        data: Path = typer.Option(..., "--data", exists=True, file_okay=False, help="Folder with the input tables."),
        as_of: str = typer.Option(..., "--as-of", help="Snapshot date YYYY-MM-DD (normally the 1st of a month)."),
        worker: str | None = typer.Option(None, "--worker", help="Pseudonymous worker id: print this person's profile."),
        team: str | None = typer.Option(None, "--team", help="Only this team: everyone in post in it, its manager included (an analyst's view; managers' lists come from retention-ml rank)."),
        out: Path | None = typer.Option(None, "--out", help="File for everyone's explanations (.csv or .parquet)."),
        bands: Path | None = typer.Option(None, "--bands", exists=True, dir_okay=False,
                                          help="Band config TOML the lists use (as given to retention-ml rank; default retention_ml/risk_bands.toml): --worker shows the band a list shows."),
        lists_log: Path | None = typer.Option(None, "--lists-log", exists=True,
                                              help="With --worker: a distribution_log.csv that retention-ml rank writes into a scoring folder, or a folder of scorings (every such log under it); adds every list that held the person's row, whom it was for, the band it showed and the model that scored it."),
        show_inputs: bool = typer.Option(False, "--inputs", help="With --worker: also print every value the model used about the person, with its meaning (for a subject access request; --json always holds them as 'inputs')."),
        as_json: JsonOption = False,
        tracking_uri: TrackingUriOption = None,
    ) -> None:
        from rich.console import Console

        err = Console(stderr=True)
        try:
            when = date.fromisoformat(as_of)
        except ValueError:
            fail(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)", 2, json_out=as_json, style=None)
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from retention_ml.scoring import OutputInDataFolder, refuse_output_in_data
        from retention_ml.validation import DataValidationError

        logs = None
        if lists_log is not None:   # read before any work: a wrong path fails at once, like every other bad option
            from retention_ml.reports.distribution import DistributionLogError, read_logs

            if worker is None:
                fail("explain: --lists-log goes with --worker (it answers which lists held one person's row)", 2,
                     json_out=as_json, style=None)
            try:
                logs = read_logs(lists_log)
            except DistributionLogError as exc:
                fail(f"explain: {exc}", 2, json_out=as_json, style=None)
        target = out if worker is not None else out or Path(f"explanations-{when.isoformat()}.csv")
        if target is not None and target.suffix not in (".csv", ".parquet"):   # before minutes of features and SHAP
            fail(f"--out {target}: use a .csv or .parquet file", 2, json_out=as_json, style=None)
        try:   # before any work: the data folder is only ever read (--out DATA/workers.parquet replaced the extract)
            if target is not None:
                refuse_output_in_data(target, data)
        except OutputInDataFolder as exc:
            err.print(f"explain: {exc}", markup=False)
            raise typer.Exit(2)

        try:
            with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err, transient=True) as bar:
                task = bar.add_task("Starting", total=1)

                def _progress(description: str, done: int, total: int) -> None:
                    bar.update(task, description=description, completed=done, total=max(total, 1))

                run_id, explanation, table, X, id_warnings = compute(run, data, when, worker, team=team,
                                                                     progress=_progress, tracking_uri=tracking_uri)
        except CommandError as exc:
            fail(f"explain: {exc}", 2, json_out=as_json)
        except DataValidationError as exc:  # a problem found in the data: nothing is written
            if as_json:
                typer.echo(exc.report.to_json(indent=2))
            else:
                from retention_ml.commands.validate import print_problems

                err.print(f"[red]explain: the data in {data} failed validation; nothing was written.[/red]")
                print_problems(err, exc.report)
            raise typer.Exit(1)
        from retention_ml.io import write_table

        # on stderr, also with --json, as score says them: the person's profile and the file carry those ids
        for warning in id_warnings:
            err.print(f"warning: {warning}", markup=False, soft_wrap=True)
        approval = approval_of(run_id)
        if worker is not None:
            record = person_record(run_id, explanation, table, horizon_months=horizon_of(run_id), approval=approval,
                                   bands=bands, features=X.iloc[0])
            record["warnings"] = id_warnings
            if logs is not None:
                from retention_ml.reports.distribution import lists_holding

                record["sent_in"] = what_lists_showed(lists_holding(logs, worker), worker, bands)
            else:
                record["lists_note"] = LISTS_NOT_CHECKED
            from retention_ml.scoring import run_outcomes_until

            record["lists_model_note"] = lists_model_note(record.get("sent_in"), record.get("as_of", when.isoformat()),
                                                          run_id, run_outcomes_until(run_id))
            if out is not None:
                write_table(table, out, note=file_note(approval))
            if as_json:
                answer(record, indent=2, default=str)
            else:
                print_person(record, inputs=show_inputs)
            return
        write_table(table, target, note=file_note(approval))
        summary = {
            "run_id": run_id,
            "as_of": when.isoformat(),
            "rows": int(len(table)),
            "horizon_months": horizon_of(run_id),   # the file's risk column is the chance of leaving within it
            "out": str(target),
            "driver_importance": explanation.driver_importance().to_dict(orient="records"),
            "approval": approval_line({"approval": approval})[1],
            "approved": approval.get("status") == "approved",
            "note": NOT_A_DECISION,
            "warnings": id_warnings,
        }
        if as_json:
            answer(summary, indent=2, default=str)
        else:
            # soft_wrap: piped or logged (rich's 80 columns), the path stays whole to paste
            Console(soft_wrap=True).print(f"Wrote explanations for {len(table):,} people to {target}. {file_note(approval)}")
