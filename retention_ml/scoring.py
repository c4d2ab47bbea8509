"""Score everyone in post at a date with a registered model: risk, per-person interval, driver profile, reasons, levers.

Uses the same feature code as training (``retention_ml.features.build_features``) and writes
``scores.parquet``, ``scores.csv`` and ``score_meta.json`` (layout: :meth:`Explanation.table
<retention_ml.explain.explanation.Explanation.table>` and :func:`score`) as one set: all three are
written to temporaries and moved into place only when all are written.

Example
-------
>>> result = score("models:/retention-ml-turnover@champion", "data/", "2025-07-01", "scores/2025-07")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

# employment_type (not a protected characteristic) lets a list compare its turnover target with own staff only
SCORE_KEY_COLUMNS = ["worker_id", "team_id", "council_id", "service", "manager_id", "role", "months_in_post", "as_of",
                     "employment_type"]


@dataclass
class ScoreResult:
    """What a scoring wrote: the scores frame, its metadata and the files."""

    scores: pd.DataFrame
    meta: dict
    files: list[Path]

    def summary(self) -> pd.DataFrame:
        """Band counts per council (for the operator; never shown to managers)."""
        return self.scores.groupby(["council_id", "band"]).size().unstack(fill_value=0)


def _scoring_meta(folder: Path) -> tuple[pd.Timestamp, int | None] | None:
    """(as_of, horizon in months) of the scoring in ``folder``, or None when it has no readable score_meta.json."""
    try:
        meta = json.loads((Path(folder) / "score_meta.json").read_text())
        return pd.Timestamp(meta["as_of"]), meta.get("horizon_months")
    except (OSError, KeyError, ValueError, TypeError, json.JSONDecodeError):
        return None


def read_meta(folder: Path) -> dict | None:
    """The score_meta.json of the scoring in ``folder`` as a dict, or None when it is missing or unreadable."""
    try:
        meta = json.loads((Path(folder) / "score_meta.json").read_text())
        return meta if isinstance(meta, dict) else None
    except (OSError, ValueError, TypeError, json.JSONDecodeError):
        return None


@dataclass
class PreviousSurvey:
    """The folders beside a scoring's OUT that could hold its previous scoring, in the order they are tried
    (``candidates``: earlier, same horizon), and every other one with why it was passed over (``passed_over``:
    (folder, why) pairs)."""

    candidates: list[Path]
    passed_over: list[tuple[Path, str]]


def survey_previous(out_dir: Path, as_of: pd.Timestamp, horizon_months: int | None = None,
                    run_id: str | None = None) -> PreviousSurvey:
    """Sort the sibling folders of ``out_dir`` (same parent) into candidate previous scorings and the rest.

    A candidate is a scoring (a readable score_meta.json) before ``as_of`` with the same horizon: a scoring of another
    horizon answers another question (leaving within 6 months is not leaving within 12), and a later one is no
    "change since". Candidates are tried latest first; among scorings of the same date, one by the same model
    (``run_id``) first, then the one scored last. Whether a candidate is of the same data is for
    :func:`previous_match` (it reads the scores).
    """
    out = Path(out_dir).resolve()
    found, passed = [], []
    siblings = sorted(p for p in out.parent.iterdir() if p.is_dir() and p != out) if out.parent.is_dir() else []
    for folder in siblings:
        meta = read_meta(folder)
        as_of_then = _scoring_meta(folder)
        if meta is None or as_of_then is None:
            passed.append((folder, "not a scoring (no readable score_meta.json)"))
        elif as_of_then[0] >= as_of:
            passed.append((folder, f"scored at {as_of_then[0].date()}, not before {as_of.date()}"))
        elif as_of_then[1] != horizon_months:
            theirs = "no horizon recorded" if as_of_then[1] is None else f"a {as_of_then[1]}-month horizon"
            passed.append((folder, f"{theirs}, this model's is {horizon_months} months: the risks answer another "
                                   "question"))
        else:
            key = (as_of_then[0], meta.get("run_id") == run_id, str(meta.get("scored_at", "")), str(folder))
            found.append((key, folder))
    return PreviousSurvey([folder for _, folder in sorted(found, key=lambda t: t[0], reverse=True)], passed)


def previous_run_id(meta: dict) -> str | None:
    """The run that made the scoring a scoring's "change since last scoring" compares with: score_meta's
    ``previous_run_id`` or, for a scoring written before it was kept, the ``previous`` folder's own meta."""
    if meta.get("previous_run_id") or not meta.get("previous"):
        return meta.get("previous_run_id")
    return (read_meta(Path(meta["previous"])) or {}).get("run_id")


def scorings_in(folder: Path) -> list[tuple[Path, pd.Timestamp]]:
    """(scoring folder, as-of date) for each scoring directly under ``folder``, oldest first (of one date, the one
    scored last comes last). Folders without a readable score_meta.json are left out."""
    folder = Path(folder)
    found = []
    for sub in (sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []):
        meta, when = read_meta(sub), _scoring_meta(sub)
        if meta is not None and when is not None:
            found.append(((when[0], str(meta.get("scored_at", "")), str(sub)), sub, when[0]))
    return [(sub, when) for _, sub, when in sorted(found, key=lambda t: t[0])]


# Data identity of a scoring: who its worker ids are. Pseudonymous ids restart per extract in many HR systems
# (and in the simulator), so the same id in two scorings is the same person only when their council and spell
# start date agree too; the start date is as_of - months_in_post (months of 30.4375 days, as features count).
IDENTITY_COLUMNS = ["worker_id", "council_id", "as_of", "months_in_post"]
START_TOLERANCE_DAYS = 1.0    # months_in_post is stored as float32: a few seconds of rounding, never a day
SAME_SOURCE_SHARE = 0.9       # of the ids two scorings share, at least this many must be the same people


def _spell_start_days(frame: pd.DataFrame) -> np.ndarray:
    as_of = pd.to_datetime(frame["as_of"]).to_numpy("datetime64[ns]").astype("int64") / 86_400e9
    return as_of - frame["months_in_post"].to_numpy(dtype="float64", na_value=np.nan) * 30.4375


def same_people(current: pd.DataFrame, previous: pd.DataFrame) -> np.ndarray:
    """Per row of ``current``: True when ``previous`` holds the same worker_id as the same person (same council
    and spell start date, within :data:`START_TOLERANCE_DAYS`)."""
    prev = previous.drop_duplicates("worker_id").set_index("worker_id")
    ids = current["worker_id"]
    council = ids.map(prev["council_id"].astype(str))
    start = ids.map(pd.Series(_spell_start_days(prev), index=prev.index)).to_numpy(dtype="float64")
    with np.errstate(invalid="ignore"):
        close = np.abs(start - _spell_start_days(current)) <= START_TOLERANCE_DAYS
    return (ids.isin(prev.index) & council.eq(current["council_id"].astype(str))).to_numpy(bool) & close


def previous_match(current: pd.DataFrame, folder: Path) -> dict:
    """How the scoring in ``folder`` matches ``current``'s people: ``shared_ids``, ``same_person``, ``same_source``
    and the per-row mask ``rows`` (those whose previous risk may be carried), plus ``risk`` of the previous."""
    try:
        prev = pd.read_parquet(Path(folder) / "scores.parquet", columns=IDENTITY_COLUMNS + ["risk"])
    except (OSError, ValueError, KeyError) as exc:   # unreadable, or written before these columns existed
        return {"shared_ids": 0, "same_person": 0, "same_source": False, "rows": np.zeros(len(current), bool),
                "readable": False,
                "why": f"{Path(folder) / 'scores.parquet'} cannot be compared ({type(exc).__name__}: {exc})"}
    shared = int(current["worker_id"].isin(prev["worker_id"]).sum())
    rows = same_people(current, prev)
    same = int(rows.sum())
    ok = shared > 0 and same >= SAME_SOURCE_SHARE * shared
    return {"shared_ids": shared, "same_person": same, "same_source": ok, "rows": rows,
            "risk": prev.drop_duplicates("worker_id").set_index("worker_id")["risk"],
            "why": f"of the {shared} worker ids it shares with this scoring, {same} are the same person (same council "
                   f"and start date; rule: at least {SAME_SOURCE_SHARE:.0%}, else it is a scoring of other data)"}


class PreviousOfOtherData(ValueError):
    """--previous names a scoring of other data: the command could not run (exit 2)."""


def check_previous(folder: Path, as_of: pd.Timestamp, horizon_months: int | None) -> pd.Timestamp:
    """The as-of date of the scoring in ``folder``; ValueError unless it is earlier and of the same horizon."""
    found = _scoring_meta(folder)
    if found is None:
        raise ValueError(f"--previous {folder}: no readable score_meta.json (give a folder written by `retention-ml score`)")
    prev_as_of, prev_horizon = found
    if prev_as_of >= as_of:
        raise ValueError(f"--previous {folder} was scored at {prev_as_of.date()}, not before {as_of.date()}: "
                         "the change since the last scoring can only compare with an earlier one")
    if prev_horizon != horizon_months:
        raise ValueError(f"--previous {folder} was scored with a {prev_horizon}-month horizon and this model's is "
                         f"{horizon_months} months: the risks answer different questions; give a scoring of the same "
                         "horizon or leave --previous out")
    return prev_as_of


NOT_APPROVED_ADVICE = "treat the lists as a preview and do not share them with managers"


class OutputInDataFolder(ValueError):
    """An output path inside the input data folder: the command could not run (exit 2)."""


def refuse_output_in_data(out, data_dir, *, option: str = "--out") -> None:
    """Raise :class:`OutputInDataFolder` when ``out`` is ``data_dir`` or inside it (symlinks resolved).

    An output written there overwrites or shadows an input table (``explain --out DATA/workers.parquet``
    replaced the HR extract's workers), or lies among them as an unknown file; the extract must stay as pulled.
    """
    out_r, data_r = Path(out).resolve(), Path(data_dir).resolve()
    if out_r == data_r or out_r.is_relative_to(data_r):
        raise OutputInDataFolder(f"{option} {out} is inside the data folder {data_dir} (rule: outputs are written "
                                 "outside the data folder, which is only ever read, so no input table is overwritten, "
                                 "shadowed or joined by an unknown file); give a path outside it")


class ScoringFolderTaken(ValueError):
    """``--out`` holds a scoring that a new one would replace and lose: the command could not run (exit 2)."""


def refuse_replacing_a_scoring(out, as_of) -> None:
    """Raise :class:`ScoringFolderTaken` when writing a scoring at ``as_of`` into ``out`` would lose a record.

    A scoring folder keeps one date's scores: scoring another date into it replaced them silently, and the folder
    is also where the next month's scoring finds its previous one. Once lists were cut from it (``rank`` wrote
    ``distribution_log.csv`` there, the record of whose row went to whom) its scores are that record's evidence, so
    they are never replaced, not even by a scoring of the same date. Re-scoring a date into its own folder before
    any list was sent (after correcting the data) stays allowed.
    """
    from retention_ml.reports.distribution import LOG_NAME

    out = Path(out)
    if (out / LOG_NAME).exists():
        raise ScoringFolderTaken(
            f"--out {out} holds a scoring that lists were sent from ({LOG_NAME} records whose row went to whom), so "
            "its scores are kept as that record's evidence (rule: a scoring lists were cut from is never replaced); "
            "give a new folder, e.g. one named after the scoring date")
    found = _scoring_meta(out)
    if found is not None and found[0] != pd.Timestamp(as_of):
        raise ScoringFolderTaken(
            f"--out {out} holds the scoring of {found[0].date()} (score_meta.json), which a scoring of "
            f"{pd.Timestamp(as_of).date()} would replace (rule: a scoring folder keeps one date's scores, and the next "
            f"scoring finds its previous one beside it); give a new folder such as {out.parent / str(pd.Timestamp(as_of).date())}, "
            "or remove that one first if it is not wanted")


class TrainedTablesMissing(ValueError):
    """The data lack tables the model was trained with: the command could not run (exit 2)."""


def run_catalogue(run_id: str) -> pd.DataFrame | None:
    """The feature catalogue logged with the run (with ``measured``), or None when the run has none."""
    from retention_ml import artifacts, tracking

    try:
        return tracking.load_table_artifact(run_id, artifacts.FEATURE_CATALOGUE)
    except Exception:   # a model scored without its run, or a run logged before the catalogue was
        return None


def present_tables(data_dir) -> set[str]:
    """Names of the input tables ``data_dir`` holds (``<table>.csv`` or ``.parquet``)."""
    from retention_ml.io import find_table_file
    from retention_ml.schema import load_schemas

    return {t for t in load_schemas() if find_table_file(Path(data_dir), t) is not None}


def missing_trained_tables(catalogue: pd.DataFrame | None, present: set[str]) -> dict[str, list[str]]:
    """Table -> the features it fed, for each table the model was trained with that ``present`` lacks.

    "Trained with" is read from the run's record: a feature its catalogue marks ``measured`` held values in
    the training rows, so every table it is computed from (the feature families' ``input_tables``) was
    there. Without that table the feature would be missing for everyone and the model would route them all
    down its "missing" branches: a different model in effect, scored without a word. Empty when the
    catalogue has no ``measured`` column (nothing to compare with).
    """
    from retention_ml.features import FAMILIES

    if catalogue is None or "measured" not in catalogue.columns:
        return {}
    measured = catalogue.loc[catalogue["measured"].astype(str).str.lower().isin(["true", "1"]), "feature"].astype(str)
    tables_of = {f: ts for cls in FAMILIES.values() for f, ts in cls.input_tables().items()}
    missing: dict[str, list[str]] = {}
    for feature in measured:
        for table in tables_of.get(feature, ()):
            if table not in present:
                missing.setdefault(table, []).append(feature)
    return dict(sorted(missing.items()))


def check_trained_tables(run_id: str, data_dir, catalogue: pd.DataFrame | None, present: set[str]) -> None:
    """Raise :class:`TrainedTablesMissing` naming each table the run was trained with that ``data_dir`` lacks."""
    missing = missing_trained_tables(catalogue, present)
    if not missing:
        return
    detail = "; ".join(f"{t} (feeds {', '.join(fs)})" for t, fs in missing.items())
    raise TrainedTablesMissing(
        f"{data_dir}: the model (run {run_id}) was trained with table(s) this folder lacks: {detail}. "
        "Rule: a model is used only on data holding every table it was trained with; without them these features "
        "would be missing for everyone, never measured, and the risks would come from another model in effect. "
        "Add the table(s) to the folder, or score with a model trained without them.")


class NobodyInPost(ValueError):
    """No worker is in post at the scoring date: a problem with the data, not with the command."""


def run_horizon_months(run_id: str) -> int | None:
    """The label horizon the run was trained with (its logged ``label.horizon_months``), or None if not recorded.

    The model object does not carry it; a 6-month model must never be read as "the next 12 months".
    """
    from retention_ml import tracking

    try:
        value = tracking.client().get_run(run_id).data.params.get("label.horizon_months")
        return int(value) if value not in (None, "", "None") else None
    except Exception:   # no such run in this store (a model file scored without its run)
        return None


def run_outcomes_until(run_id: str) -> pd.Timestamp | None:
    """The date up to which the run's data held leaving outcomes: its latest window date (the ``window.*``
    parameters train logs) plus its horizon, or None when either is not recorded.

    A model built from outcomes after a date did not exist when that date was scored as it came: its lists were
    made by an earlier model, unless the date was scored again with this one (explain says so)."""
    from retention_ml import tracking

    try:
        params = tracking.client().get_run(run_id).data.params
        horizon = int(params["label.horizon_months"])
        # a window is "2020-01-01 to 2022-01-01" or one date
        dates = [pd.Timestamp(d) for k, v in params.items() if k.startswith("window.") for d in str(v).split(" to ")]
    except Exception:   # no such run in this store, or a run logged before its windows were
        return None
    return max(dates) + pd.DateOffset(months=horizon) if dates else None


def run_population(run_id: str) -> str | None:
    """The run's ``population.agency`` (flag | exclude | only), from its logged parameters, or None if not recorded.

    Logged as ``population.agency`` (the experiment key) or, by older runs, ``label.agency``. A model trained
    without agency workers has never seen one; scoring applies the same population as training.
    """
    from retention_ml import tracking

    try:
        params = tracking.client().get_run(run_id).data.params
    except Exception:   # no such run in this store
        return None
    value = params.get("population.agency", params.get("label.agency"))
    return value if value not in (None, "", "None") else None


#: what each population.agency mode scores (said in score_meta.json and on every list)
POPULATION_TEXT = {
    "flag": "everyone in post (agency workers included and flagged)",
    "exclude": "permanent and fixed-term staff only: the model was trained without agency workers "
               "(population.agency = exclude), so agency workers are not scored",
    "only": "agency workers only: the model was trained on agency workers alone (population.agency = only), "
            "so permanent and fixed-term staff are not scored",
}


def population_mask(keys: pd.DataFrame, workers: pd.DataFrame, agency: str | None) -> np.ndarray:
    """True for the rows in the population the model was trained on (labels.in_population, the training rule)."""
    from retention_ml.labels import LabelConfig, in_population

    if agency is None:   # not recorded: nobody is left out, and the meta says the population is unknown
        return np.ones(len(keys), dtype=bool)
    return np.asarray(in_population(keys[["worker_id", "as_of"]], workers, LabelConfig(agency=agency)), dtype=bool)


def population_record(agency: str | None, left_out: int) -> dict:
    """score_meta.json's ``population``: the mode, what it scores in words, and how many in post were left out."""
    text = POPULATION_TEXT.get(agency, "not recorded with the model's run: everyone in post was scored")
    return {"agency": agency, "scored": text, "left_out": int(left_out)}


def model_approval(run_id: str) -> dict:
    """Whether the scored model is the one the promotion gate approved, as ``{"status", "detail"}``.

    Approved only when the registry alias ``champion`` points, at this moment, to a version logged by
    ``run_id`` (the run whose model was scored, however it was named) and that version carries the gate's
    pass tag, which only ``retention-ml promote`` sets, when every check passes (an alias moved by hand in
    the MLflow UI is not a pass). Anything else is "not approved". Scoring is never refused for it; the
    status travels with the scores to the lists.
    """
    from retention_ml import tracking
    from retention_ml.promotion import CHAMPION_ALIAS, GATE_PASSED, GATE_TAG

    try:
        # every name the run is registered under, however the scoring named the model
        names = sorted({v.name for v in tracking.client().search_model_versions(f"run_id = '{run_id}'")})
        if not names:
            return {"status": "not approved",
                    "detail": f"Run {run_id} is not a registered model version, so it has never been through the "
                              f"promotion gate: {NOT_APPROVED_ADVICE}."}
        champions = {name: tracking.alias_version(CHAMPION_ALIAS, name) for name in names}
    except Exception as exc:  # the registry cannot be asked: never claim approval we could not check
        return {"status": "not approved",
                "detail": f"The model registry could not be checked ({type(exc).__name__}: {exc}), so approval of "
                          f"run {run_id} is unknown: {NOT_APPROVED_ADVICE}."}
    for name, champ in champions.items():
        if champ is None or champ.run_id != run_id:
            continue
        if (champ.tags or {}).get(GATE_TAG) != GATE_PASSED:
            return {"status": "not approved",
                    "detail": f"Version {champ.version} of {name} holds the alias champion, but the promotion gate "
                              f"never passed it (the alias was set by other means than retention-ml promote): "
                              f"{NOT_APPROVED_ADVICE}."}
        return {"status": "approved",
                "detail": f"Version {champ.version} of {name} is the registry's champion at scoring time, "
                          f"which it became by passing every promotion gate check{_bar(champ.tags or {})}."}
    name, champ = next(iter(champions.items()))
    current = (f"the champion is version {champ.version} (run {champ.run_id})" if champ is not None
               else "no model has passed the promotion gate yet")
    return {"status": "not approved",
            "detail": f"The scored model (run {run_id}) is not the champion of {name} ({current}), so it is not "
                      f"the model the promotion gate approved: {NOT_APPROVED_ADVICE}."}


def _bar(version_tags: dict) -> str:
    """The bar a champion passed, as promote recorded it on the version (a lowered bar is said on every list)."""
    from retention_ml.promotion import THRESHOLDS_NOTE_TAG

    note = version_tags.get(THRESHOLDS_NOTE_TAG)
    return f" under {note}" if note else ""


def hours_in_force(keys: pd.DataFrame, tables: dict) -> np.ndarray:
    """Each key's contracted hours (FTE) in force on its date (``fte_history`` applied, else ``workers.fte``):
    the hours the caseload and housing features pro-rate with. Not a model input: the lists' caseload per FTE
    and the reasons' part-time words (a part-timer's own cap, rent against full-time pay) read it. NaN when the
    workers table (a flat extract's, say) has no ``fte``."""
    from retention_ml.features._base import WorkerLookup
    from retention_ml.features.fte_history import FteValues

    if "workers" not in tables or "fte" not in tables["workers"]:
        return np.full(len(keys), np.nan)
    wl = WorkerLookup(tables["workers"], keys["worker_id"])
    return np.asarray(FteValues(tables, wl).at(wl.codes, keys["as_of"]), dtype="float64")


def _team_context(keys: pd.DataFrame, X: pd.DataFrame, tables: dict) -> pd.DataFrame:
    """Columns the team summary needs: current caseload, FTE (the cap is per full-time post), team cap, target turnover."""
    from retention_ml.features._pit import encode, sorted_keys
    from retention_ml.features.team_history import TeamValues

    teams = tables["teams"].set_index("team_id")
    out = pd.DataFrame(index=keys.index)
    out["caseload_current"] = X["caseload_current"].to_numpy() if "caseload_current" in X else np.nan
    # the hours in force on the scoring date (fte_history), as the caseload features pro-rate the cap with
    out["fte"] = hours_in_force(keys, tables)
    out["target_turnover"] = keys["team_id"].map(teams["target_turnover"]).astype(float).to_numpy() \
        if "target_turnover" in teams else np.nan
    # the cap in force on the scoring date (team_history), as the caseload features read it
    book = sorted_keys(keys["team_id"])
    out["caseload_cap"] = TeamValues(tables, book).at("caseload_cap", encode(keys["team_id"], book), keys["as_of"]) \
        if "caseload_cap" in teams else np.nan
    return out[["caseload_current", "fte", "caseload_cap", "target_turnover"]]


def _add_manager(keys: pd.DataFrame, tables: dict) -> pd.DataFrame:
    """Keys with each team's manager on the scoring date: the features' keys already hold it (build._manager_at,
    team_history applied); only keys built elsewhere without the column get the current one from ``teams``."""
    if "manager_id" in keys:
        return keys
    keys = keys.copy()
    keys["manager_id"] = keys["team_id"].map(tables["teams"].set_index("team_id")["manager_id"])
    return keys


def leaving_date_recorded(keys: pd.DataFrame, workers: pd.DataFrame) -> np.ndarray:
    """True for each scored person whose end_date is already in the extract (on or after the as-of date).

    Not a feature: the model never sees it, and training's point-in-time rule (nothing known after a snapshot
    date) is untouched. It only keeps people already leaving off the managers' lists (risk_list.LEAVING_LINE):
    an extract is usually pulled after the scoring date, and a resignation recorded since is a known fact.
    """
    end = keys["worker_id"].map(workers.drop_duplicates("worker_id").set_index("worker_id")["end_date"])
    return end.notna().to_numpy(bool)


def assemble_scores(model, X: pd.DataFrame, keys: pd.DataFrame, *, context: pd.DataFrame | None = None,
                    config=None, catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Risk, interval, band, uncertain mark, driver profile, top-3 reasons and levers for feature rows ``X``.

    ``keys`` are the snapshot keys in the same row order. Reasons and the lever beside each come from
    ``retention_ml.explain`` (:func:`retention_ml.explain.drivers.reason_levers`, the one lever rule);
    an empty slot is "" in the lever columns.
    """
    from retention_ml.explain import explain
    from retention_ml.explain.reasons import offer_rule_features
    from retention_ml.reports.risk_list import assign_bands, load_band_config, straddles_band

    config = config or load_band_config()
    keys = keys.reset_index(drop=True)
    X = X.reset_index(drop=True)
    risk = np.asarray(model.predict_proba(X)[:, 1], dtype=float)
    try:
        low, high = model.predict_interval(X, level=config.interval_level)
    except ValueError:
        # No bootstrap ensemble: the interval is the point (nobody marked uncertain); recorded in the meta.
        low, high = risk, risk
    ex = explain(model, X, catalogue=catalogue).relative_to(keys["as_of"])
    profile = ex.by_driver().reset_index(drop=True).add_prefix("driver_")
    # the context's hours (fte) word a part-timer's reasons, also where the caseload features cannot give them
    words_context = keys if context is None else pd.concat(
        [keys, context.reset_index(drop=True).drop(columns=[c for c in context.columns if c in keys.columns])], axis=1)
    reasons = ex.reasons(X, words_context, k=3, health="withhold").reset_index(drop=True)   # lists: no health figures
    frame = keys.reindex(columns=[c for c in SCORE_KEY_COLUMNS if c in keys]).copy()
    frame["risk"], frame["risk_low"], frame["risk_high"] = risk, np.minimum(low, risk), np.maximum(high, risk)
    frame["band"] = assign_bands(risk, config=config)
    frame["uncertain"] = straddles_band(frame["risk_low"], frame["risk_high"], config=config)
    frame = pd.concat([frame, profile], axis=1)
    for i in (1, 2, 3):
        frame[f"reason_{i}"] = reasons[f"reason_{i}"].astype(object) if f"reason_{i}" in reasons else None
    for i in (1, 2, 3):
        frame[f"lever_{i}"] = reasons[f"lever_{i}"].astype(object).fillna("") if f"lever_{i}" in reasons else ""
    if context is not None:
        frame = pd.concat([frame, context.reset_index(drop=True)], axis=1)
    # the features the reasons' offer rule reads (caseload held, over the cap ...): a reader of stored scores (the
    # service overview's lead driver) then applies the same rule as the reasons
    rule = [c for c in offer_rule_features() if c in X.columns and c not in frame.columns]
    return pd.concat([frame, X.loc[:, rule]], axis=1)


def _choose_previous(keys: pd.DataFrame, survey: PreviousSurvey, *, explicit: bool, horizon: int | None,
                     run_id: str) -> tuple[Path | None, dict, dict]:
    """(folder, match, record): the first candidate scoring of the same data (same people), or None, and the
    record of the choice for score_meta.json: ``previous_why`` (why that one), ``previous_passed_over`` (every
    other folder beside OUT with why) and ``previous_note`` (when scorings of other data were passed over).

    An explicit --previous of other data is refused (:class:`PreviousOfOtherData`); found siblings of other
    data are passed over, and the note says so (no change column is better than someone else's risk).
    """
    skipped, passed = [], list(survey.passed_over)
    for i, folder in enumerate(survey.candidates):
        match = previous_match(keys, folder)
        if match["same_source"]:
            why = ("given with --previous" if explicit else
                   f"the latest earlier scoring of the same data and {horizon}-month horizon beside this one")
            prev_run = (read_meta(folder) or {}).get("run_id")
            if prev_run and prev_run != run_id:
                then = _scoring_meta(folder)[0].date()
                why += (f"; scored with another model (run {prev_run[:8]}), so the lists show no change this time (it "
                        "would mix the change of model into each person's). To show a like-for-like change, score "
                        f"{then} with this model into a new folder beside this one, then score this date again "
                        "(allowed until lists are cut from it)")
            passed += [(other, _why_not_taken(other, folder, run_id)) for other in survey.candidates[i + 1:]]
            note = f"earlier scoring(s) of other data passed over: {'; '.join(skipped)}" if skipped else None
            return folder, match, _previous_record(why, passed, note)
        if explicit:
            raise PreviousOfOtherData(f"--previous {folder} is a scoring of other data: {match['why']}. Give a "
                                      "scoring of the same extract's source, or leave --previous out")
        skipped.append(f"{folder} ({match['why']})")
        passed.append((folder, f"a scoring of other data: {match['why']}" if match.get("readable", True)
                       else f"not comparable: {match['why']}"))
    note = (f"no change since the last scoring: the earlier scoring(s) beside this one are of other data: "
            f"{'; '.join(skipped)}") if skipped else None
    return None, {}, _previous_record(None, passed, note)


def _why_not_taken(other: Path, taken: Path, run_id: str) -> str:
    """Why ``other``, a candidate after ``taken`` in :func:`survey_previous`'s order, was not the previous scoring."""
    (when, _), (taken_when, _) = _scoring_meta(other), _scoring_meta(taken)
    if when < taken_when:
        return f"older than the one taken ({taken.name}, scored at {taken_when.date()})"
    other_run, taken_run = (read_meta(other) or {}).get("run_id"), (read_meta(taken) or {}).get("run_id")
    if other_run != taken_run and taken_run == run_id:
        return (f"of the same date as the one taken ({taken.name}) but by another model (run {str(other_run)[:8]}); "
                "the one taken is by this model")
    return f"of the same date as the one taken ({taken.name}), which was scored after it"


def _previous_record(why: str | None, passed: list[tuple[Path, str]], note: str | None) -> dict:
    return {"previous_why": why, "previous_note": note,
            "previous_passed_over": [{"folder": str(folder), "why": reason}
                                     for folder, reason in sorted(passed, key=lambda t: str(t[0]))]}


def score(model_ref: str, data_dir, as_of, out_dir, *, previous: str | Path | None = None,
          find_previous_scoring: bool = True, display_names: bool = False,
          data: tuple[dict, dict] | None = None, tracking_uri: str | None = None) -> ScoreResult:
    """Validate ``data_dir``, score everyone in post at ``as_of`` with ``model_ref`` and write the scores.

    Raises :class:`retention_ml.validation.DataValidationError` (with the validator's report) when the
    data fail validation; nothing is written then. ``display_names`` keeps ``display_name`` in
    scores.parquet (never in scores.csv) so that ``rank --names`` can show it; off by default. ``data``: (tables,
    readings) of ``data_dir`` as :func:`retention_ml.validation.read_validated_readings` gives them without the
    as-of rule, when the caller has already validated and read it (the demo validates once); default: read here.
    ``tracking_uri``: the MLflow store holding ``model_ref`` (default: ``MLFLOW_TRACKING_URI``, else
    ``sqlite:///./mlflow.db``).
    """
    from retention_ml.features import build_features
    from retention_ml.explain.reasons import HEALTH_META_KEY, HEALTH_META_VALUE
    from retention_ml.explain.spells import lever_context
    from retention_ml.io import staged_files, write_table
    from retention_ml.reports.risk_list import LEAVING_FLAG, NOT_A_DECISION, load_band_config
    from retention_ml.tracking import configure, load_turnover_model
    from retention_ml.artifacts import DATA_READINGS_KEY
    from retention_ml.validation import coverage_gaps, read_validated_readings

    as_of = pd.Timestamp(as_of)
    out_dir = Path(out_dir)
    refuse_output_in_data(out_dir, data_dir)   # before any work, as nothing is ever written into the data folder
    refuse_replacing_a_scoring(out_dir, as_of)
    # Validated without the as-of rule: the extract is normally pulled after the scoring date, so rows dated
    # after it are expected and the features ignore them (point in time); `validate --as-of` takes the
    # extract's pull date. The one later fact used is a recorded leaving date (leaving_date_recorded).
    # The tables come from validation's own read of each file (no second read).
    configure(tracking_uri, for_reading=True)   # the documented default store (and no MLflow download bars) unless told otherwise
    # the model first: a missing store or alias is said in a second, not after a national extract is read (12 s, 1.4 GB)
    model, run_id = load_turnover_model(model_ref)
    tables, readings = data if data is not None else read_validated_readings(data_dir, as_of=None)
    # before any work: data lacking a table the model learnt from is refused, never scored with holes
    check_trained_tables(run_id, data_dir, run_catalogue(run_id), present_tables(data_dir))
    approval = model_approval(run_id)
    horizon = run_horizon_months(run_id)
    bands = load_band_config().for_horizon(horizon)   # annual cut-offs turned into this model's horizon
    if previous:
        survey = PreviousSurvey([Path(previous)], [])
        check_previous(Path(previous), as_of, horizon)   # before any work: a later or other-horizon scoring is refused
    else:
        survey = survey_previous(out_dir, as_of, horizon, run_id) if find_previous_scoring else PreviousSurvey([], [])
    # a table with no (recent) rows for a council leaves its features empty there: said, never silent
    data_warnings = coverage_gaps(tables, as_of=as_of)["message"].tolist()
    ds = build_features(tables, [as_of])
    if len(ds.keys) == 0:
        raise NobodyInPost(f"{data_dir}: nobody is in post at {as_of.date()} (rule: start_date < as_of <= end_date or no end_date)")
    agency = run_population(run_id)
    keep = population_mask(ds.keys, tables["workers"], agency)
    if not keep.any():
        raise NobodyInPost(f"{data_dir}: nobody in the model's population is in post at {as_of.date()} "
                           f"(the model scores {POPULATION_TEXT[agency]})")
    # only the people the model was trained on; explanations are measured from the average of them
    ds_keys, ds_X = ds.keys.loc[keep].reset_index(drop=True), ds.X.loc[keep].reset_index(drop=True)
    keys = _add_manager(ds_keys, tables)
    prev_dir, match, previous_record = _choose_previous(keys, survey, explicit=bool(previous), horizon=horizon,
                                                        run_id=run_id)
    # how each spell began words the levers (relocation support is for someone who came to the council, not a
    # move between its teams): passed beside the keys, not stored
    words_keys = lever_context(keys, tables)
    scores = assemble_scores(model, ds_X, words_keys, context=_team_context(keys, ds_X, tables), catalogue=ds.catalogue,
                             config=bands)
    scores[LEAVING_FLAG] = leaving_date_recorded(scores, tables["workers"])
    if display_names and "display_name" in tables["workers"]:
        names = tables["workers"].drop_duplicates("worker_id").set_index("worker_id")["display_name"]
        scores["display_name"] = scores["worker_id"].map(names)
    prev_run = (read_meta(prev_dir) or {}).get("run_id") if prev_dir is not None else None
    if prev_dir is not None and not (prev_run and prev_run != run_id):
        # only the same people carry a previous risk: an id that now names someone else is "new". Not across a
        # change of model: the change would hold the model's change too, which no reader can tell apart
        carried = scores["worker_id"].map(match["risk"]).astype(float)
        scores["risk_previous"] = carried.where(match["rows"])
    scores["model_ref"], scores["run_id"] = model_ref, run_id
    meta = {
        "as_of": str(as_of.date()), "model_ref": model_ref, "run_id": run_id,
        "horizon_months": horizon,
        "band_cutoffs": bands.cutoffs_record(),
        "leaving_date_recorded": int(scores[LEAVING_FLAG].sum()),
        "data_dir": str(Path(data_dir).resolve()), "scored_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "n_workers": int(len(scores)), "population": population_record(agency, int((~keep).sum())),
        "previous": str(prev_dir) if prev_dir else None,
        "previous_as_of": str(_scoring_meta(prev_dir)[0].date()) if prev_dir else None,
        "previous_run_id": prev_run,   # another model's: no risk carried, and the lists say why (no change shown)
        **previous_record,   # why that previous scoring, and why every other folder beside OUT was passed over
        "data_warnings": data_warnings,
        DATA_READINGS_KEY: readings,   # what was read other than as written, by file, for an audit ({}: nothing)
        "interval": "bootstrap ensemble" if getattr(model, "bootstrap_boosters_", None) else "none (model has no ensemble)",
        "approval": approval,
        HEALTH_META_KEY: HEALTH_META_VALUE,   # rank warns on scorings without it (older ones quoted sickness)
    }
    # All three are written under temporary names first and moved into place together, so a failure
    # (disk full) never leaves scores from one date beside metadata from another.
    # Both carry the statement that the risks never decide anything (csv: a first '#' line; parquet: metadata).
    with staged_files() as stage:
        write_table(scores, stage.path(out_dir / "scores.parquet"), note=NOT_A_DECISION)
        # csv without names: names only ever leave through `rank --names`.
        write_table(scores.drop(columns=["display_name"], errors="ignore"), stage.path(out_dir / "scores.csv"),
                    note=NOT_A_DECISION)
        stage.path(out_dir / "score_meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return ScoreResult(scores=scores, meta=meta, files=stage.targets)
