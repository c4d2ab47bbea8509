"""Score everyone in post at a date with a registered model: risk, per-person interval, driver profile, reasons, levers.

Uses the same feature code as training (``retention_ml.features.build_features``) and writes
``scores.parquet``, ``scores.csv`` and ``score_meta.json`` (CONTRACTS section 4) as one set: all three are
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

KEY_COLUMNS = ["worker_id", "team_id", "council_id", "service", "manager_id", "role", "months_in_post", "as_of"]


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


def find_previous(out_dir: Path, as_of: pd.Timestamp, horizon_months: int | None = None) -> Path | None:
    """The most recent earlier scoring among sibling folders of ``out_dir`` (same parent) with the same horizon.

    A scoring of another horizon answers another question (leaving within 6 months is not leaving within 12),
    so "change since the last scoring" never compares with it.
    """
    parent = Path(out_dir).resolve().parent
    best: tuple[pd.Timestamp, Path] | None = None
    for meta_file in parent.glob("*/score_meta.json"):
        if meta_file.parent == Path(out_dir).resolve():
            continue
        found = _scoring_meta(meta_file.parent)
        if found is None or found[1] != horizon_months:
            continue
        if found[0] < as_of and (best is None or found[0] > best[0]):
            best = (found[0], meta_file.parent)
    return None if best is None else best[1]


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
                          f"which it became by passing every promotion gate check."}
    name, champ = next(iter(champions.items()))
    current = (f"the champion is version {champ.version} (run {champ.run_id})" if champ is not None
               else "no model has passed the promotion gate yet")
    return {"status": "not approved",
            "detail": f"The scored model (run {run_id}) is not the champion of {name} ({current}), so it is not "
                      f"the model the promotion gate approved: {NOT_APPROVED_ADVICE}."}


def _team_context(keys: pd.DataFrame, X: pd.DataFrame, tables: dict) -> pd.DataFrame:
    """Columns the team summary needs: current caseload, FTE (the cap is per full-time post), team cap, target turnover."""
    teams = tables["teams"].set_index("team_id")
    out = pd.DataFrame(index=keys.index)
    out["caseload_current"] = X["caseload_current"].to_numpy() if "caseload_current" in X else np.nan
    workers = tables["workers"].set_index("worker_id")   # one row per spell, worker_id unique (validated)
    out["fte"] = keys["worker_id"].map(workers["fte"]).astype(float).to_numpy() if "fte" in workers else np.nan
    for col in ("caseload_cap", "target_turnover"):
        out[col] = keys["team_id"].map(teams[col]).astype(float).to_numpy() if col in teams else np.nan
    return out


def _add_manager(keys: pd.DataFrame, tables: dict) -> pd.DataFrame:
    if "manager_id" in keys and keys["manager_id"].notna().all():
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


def _levers(reasons: pd.DataFrame, profile: pd.DataFrame) -> pd.DataFrame:
    """lever_i = the first lever (drivers.yaml) of reason i's driver, so levers match the reasons shown."""
    from retention_ml.reports.risk_list import levers_for_drivers
    from retention_ml.schema import load_drivers

    if not all(f"reason_driver_{i}" in reasons for i in (1, 2, 3)):
        return levers_for_drivers(profile, k=3)
    lever_of = {d.code: d.levers[0] for d in load_drivers() if d.levers}
    return pd.DataFrame({f"lever_{i}": reasons[f"reason_driver_{i}"].map(lever_of).fillna("").astype(object) for i in (1, 2, 3)})


def assemble_scores(model, X: pd.DataFrame, keys: pd.DataFrame, *, context: pd.DataFrame | None = None,
                    config=None, catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Risk, interval, band, uncertain mark, driver profile, top-3 reasons and levers for feature rows ``X``.

    ``keys`` are the snapshot keys in the same row order. Reasons come from ``retention_ml.explain``;
    levers are the first lever of each reason's driver in data_schema/drivers.yaml.
    """
    from retention_ml.explain import explain
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
    reasons = ex.reasons(X, keys, k=3).reset_index(drop=True)
    frame = keys.reindex(columns=[c for c in KEY_COLUMNS if c in keys]).copy()
    frame["risk"], frame["risk_low"], frame["risk_high"] = risk, np.minimum(low, risk), np.maximum(high, risk)
    frame["band"] = assign_bands(risk, config=config)
    frame["uncertain"] = straddles_band(frame["risk_low"], frame["risk_high"], config=config)
    frame = pd.concat([frame, profile], axis=1)
    for i in (1, 2, 3):
        frame[f"reason_{i}"] = reasons[f"reason_{i}"].astype(object) if f"reason_{i}" in reasons else None
    frame = pd.concat([frame, _levers(reasons, profile)], axis=1)
    if context is not None:
        frame = pd.concat([frame, context.reset_index(drop=True)], axis=1)
    return frame


def score(model_ref: str, data_dir, as_of, out_dir, *, previous: str | Path | None = None,
          find_previous_scoring: bool = True, display_names: bool = False) -> ScoreResult:
    """Validate ``data_dir``, score everyone in post at ``as_of`` with ``model_ref`` and write the scores.

    Raises :class:`retention_ml.validation.DataValidationError` (with the validator's report) when the
    data fail validation; nothing is written then. ``display_names`` keeps ``display_name`` in
    scores.parquet (never in scores.csv) so that ``rank --names`` can show it; off by default.
    """
    from retention_ml.features import build_features
    from retention_ml.io import read_tables, staged_files, write_table
    from retention_ml.reports.risk_list import LEAVING_FLAG, NOT_A_DECISION, load_band_config
    from retention_ml.tracking import configure, load_turnover_model
    from retention_ml.validation import validate_dir

    as_of = pd.Timestamp(as_of)
    out_dir = Path(out_dir)
    # Validated without the as-of rule: the extract is normally pulled after the scoring date, so rows dated
    # after it are expected and the features ignore them (point in time); `validate --as-of` takes the
    # extract's pull date. The one later fact used is a recorded leaving date (leaving_date_recorded).
    validate_dir(data_dir, as_of=None).raise_for_errors()
    configure(for_reading=True)   # the documented default store (and no MLflow download bars) unless MLFLOW_TRACKING_URI says otherwise
    model, run_id = load_turnover_model(model_ref)
    approval = model_approval(run_id)
    horizon = run_horizon_months(run_id)
    bands = load_band_config().for_horizon(horizon)   # annual cut-offs turned into this model's horizon
    if previous:
        prev_dir = Path(previous)
        check_previous(prev_dir, as_of, horizon)   # before any work: a later or other-horizon scoring is refused
    else:
        prev_dir = find_previous(out_dir, as_of, horizon) if find_previous_scoring else None
    tables = read_tables(data_dir)
    ds = build_features(tables, [as_of])
    if len(ds.keys) == 0:
        raise NobodyInPost(f"{data_dir}: nobody is in post at {as_of.date()} (rule: start_date < as_of <= end_date or no end_date)")
    keys = _add_manager(ds.keys, tables)
    scores = assemble_scores(model, ds.X, keys, context=_team_context(keys, ds.X, tables), catalogue=ds.catalogue,
                             config=bands)
    scores[LEAVING_FLAG] = leaving_date_recorded(scores, tables["workers"])
    if display_names and "display_name" in tables["workers"]:
        names = tables["workers"].drop_duplicates("worker_id").set_index("worker_id")["display_name"]
        scores["display_name"] = scores["worker_id"].map(names)
    if prev_dir is not None:
        prev = pd.read_parquet(prev_dir / "scores.parquet", columns=["worker_id", "risk"]).drop_duplicates("worker_id")
        scores["risk_previous"] = scores["worker_id"].map(prev.set_index("worker_id")["risk"]).astype(float)
    scores["model_ref"], scores["run_id"] = model_ref, run_id
    meta = {
        "as_of": str(as_of.date()), "model_ref": model_ref, "run_id": run_id,
        "horizon_months": horizon,
        "band_cutoffs": bands.cutoffs_record(),
        "leaving_date_recorded": int(scores[LEAVING_FLAG].sum()),
        "data_dir": str(Path(data_dir).resolve()), "scored_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "n_workers": int(len(scores)), "previous": str(prev_dir) if prev_dir else None,
        "previous_as_of": str(_scoring_meta(prev_dir)[0].date()) if prev_dir else None,
        "interval": "bootstrap ensemble" if getattr(model, "bootstrap_boosters_", None) else "none (model has no ensemble)",
        "approval": approval,
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
