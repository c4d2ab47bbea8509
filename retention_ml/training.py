"""Train one experiment end to end and record everything in MLflow (what it logs: :mod:`retention_ml.artifacts`).

Steps: read the data (validated first when :mod:`retention_ml.validation` is
present) -> snapshots, features and labels (``retention_ml.features.build_dataset``)
or a flat extract (:mod:`retention_ml.flat`) -> split (out of time for
snapshots, stratified for flat extracts) -> optional tuning inside the
training window -> :class:`~retention_ml.model.TurnoverModel` -> baselines and
test-window metrics (:mod:`retention_ml.evaluate`) -> one MLflow run with
parameters, tags, metrics, artifacts, explanations and the pyfunc model,
registered with alias ``candidate``.

Example
-------
>>> result = train_experiment(load_experiment("experiments/ibm_hr.toml"))   # doctest: +SKIP
>>> result.metrics["models"]["lightgbm"]["roc_auc"]["value"]                # doctest: +SKIP
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import subprocess
import tempfile
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from retention_ml import artifacts
from retention_ml.experiment import UNUSED_BY_KIND, unused_by_kind
from retention_ml.io import SUFFIXES
from retention_ml.evaluate import (
    beats_baselines,
    calibration_by_date,
    calibration_plot,
    evaluate_models,
    expected_vs_observed,
    logistic_baseline,
    team_base_rate,
    team_checks,
)
from retention_ml.model import TurnoverModel

__all__ = ["TrainResult", "train_experiment", "data_fingerprint", "snapshot_dates", "PROTECTED_KEYS", "audit_rows"]

PROTECTED_KEYS = ("sex", "age_band", "ethnicity_group", "disability")
PREDICTION_KEYS = ("worker_id", "as_of", "team_id", "council_id", "service", "area", "employment_type")
# The audit rows (audit_rows: one per test snapshot with a run-local pseudonym, never worker_id or a team key) are
# built in memory only; the run logs the fairness audit's aggregates from them (evaluation/fairness_audit.json,
# groups of 20+ people), because a row's date, area, service and risk find the person in a scores file or a
# manager's list, and with them their protected characteristics and whether they left. The card's check of the
# lists' team figures is computed at training and logged in metrics.json (team_checks).
PERSON = "person"
AUDIT_KEYS = ("as_of", "service", "area", "employment_type")
MODEL_KEYS = ("n_estimators", "learning_rate", "num_leaves", "min_child_samples", "subsample", "colsample_bytree",
              "reg_lambda", "extra_trees", "early_stopping_rounds", "cv_folds", "n_bootstrap")


@dataclass
class TrainResult:
    """What a training run produced: the model, the evaluation record, the run and the registered version."""

    model: TurnoverModel
    metrics: dict
    run_id: str | None
    model_version: str | None
    predictions: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> pd.DataFrame:
        """Test-window metrics of LightGBM and the baselines side by side (point values)."""
        return pd.DataFrame({m: {k: v["value"] for k, v in rec.items()} for m, rec in self.metrics["models"].items()})


# -- data --------------------------------------------------------------------------------------------
def data_fingerprint(path: str | Path) -> str:
    """SHA-256 over the table files of a folder (sorted by name) or over one file: changes when any byte does."""
    path = Path(path)
    files = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode())
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def code_version() -> dict[str, str]:
    """Tags that trace a run to the code that made it: the installed package's version (its metadata, not a
    constant in the source) and the git commit, ``<sha>-dirty`` (as ``git describe --dirty``) when the package's
    files had local changes, which ``retention_ml.git_changes`` lists: the commit alone is then not the code."""
    from importlib.metadata import PackageNotFoundError, version

    from retention_ml import __version__

    try:
        package = version("retention-ml")
    except PackageNotFoundError:   # run from a source tree that was never installed
        package = __version__
    commit = (_git("rev-parse", "HEAD") or "").strip() or "unknown"
    # only the package's own files: the code that trained (the experiment file is logged with the run)
    changed = (_git("status", "--porcelain", "--untracked-files=no", "--", ".") or "").splitlines()
    tags = {"retention_ml.package_version": package,
            artifacts.GIT_COMMIT_TAG: f"{commit}-dirty" if changed and commit != "unknown" else commit}
    if changed and commit != "unknown":
        files = [line[3:] for line in changed]
        tags["retention_ml.git_changes"] = f"{len(files)} changed: {', '.join(files)}"[:500]
    return tags


def _optional(module: str, attr: str):
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return None


def read_data(data_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Tables of ``data_dir``; validated first when the validation module exists (stops on errors)."""
    return read_data_and_readings(data_dir)[0]


def read_data_and_readings(data_dir: str | Path) -> tuple[dict[str, pd.DataFrame], dict | None]:
    """:func:`read_data`'s tables and what validation read other than as written, by file (None: not validated)."""
    read_validated = _optional("retention_ml.validation", "read_validated_readings")
    if read_validated is not None:
        return read_validated(data_dir)
    from retention_ml.io import read_tables

    return read_tables(data_dir), None


def snapshot_dates(tables: dict[str, pd.DataFrame], exp: dict) -> list[pd.Timestamp]:
    """Month-start snapshot dates from the experiment's ``[snapshots]`` (defaults from the data).

    Data end = the last ``caseload_history`` month + 1 month. Default start: 12 months
    after the first caseload month (so features have a year of history); default end:
    the last date whose label window is complete (data end - horizon). A start before the
    first caseload month is refused (no history, and only survivors in post).
    """
    months = pd.to_datetime(tables["caseload_history"]["month"])
    first, data_end = months.min(), months.max() + pd.DateOffset(months=1)
    horizon = exp["label"]["horizon_months"]
    snaps = exp["snapshots"]
    start = pd.Timestamp(snaps["start"]) if "start" in snaps else first + pd.DateOffset(months=12)
    if start < first.to_period("M").to_timestamp():
        # Before the data begin a snapshot has no history, and the people in post then are only those still in post
        # when the data begin: survivors, every one a stayer for as long as the gap lasts.
        raise ValueError(f"{exp['source']}: key 'snapshots.start' is {start.date()}, before the data begin "
                         f"({first.date()}, the first caseload_history month): a snapshot before then has no feature "
                         "history and holds only the people still in post when the data begin, none of whom left "
                         f"before then; start on or after {first.date()}, or leave the key out "
                         f"(default {(first + pd.DateOffset(months=12)).date()}: a year of history)")
    end = pd.Timestamp(snaps["end"]) if "end" in snaps else data_end - pd.DateOffset(months=horizon)
    dates = pd.date_range(start.to_period("M").to_timestamp(), end, freq=f"{snaps['frequency_months']}MS")
    if len(dates) == 0:
        raise ValueError(f"{exp['source']}: snapshots from {start.date()} to {end.date()} hold no date (data end {data_end.date()})")
    return list(dates)


@dataclass
class _Prepared:
    keys: pd.DataFrame
    X: pd.DataFrame
    y: pd.Series
    masks: dict
    windows: dict
    catalogue: pd.DataFrame
    censoring_report: pd.DataFrame
    censored: int
    label: dict
    population: str
    tables: dict | None
    readings: dict | None = None   # validation's readings other than as written, by file (artifacts.DATA_READINGS)


def coverage_notes(tables: dict | None) -> list[str]:
    """Warnings for tables that hold no rows for a council's workers: the features they feed are empty there."""
    coverage_gaps = _optional("retention_ml.validation", "coverage_gaps")
    if tables is None or coverage_gaps is None:
        return []
    return coverage_gaps(tables)["message"].tolist()


def check_data_path(exp: dict) -> None:
    """Raise FileNotFoundError naming the file and key when ``data.path`` is not what the kind reads (a folder of
    tables for snapshots, one file for a flat extract): checked before the tracking store is opened, so a run that
    cannot start writes nothing."""
    path = Path(exp["data"]["path"])
    if exp["kind"] == "snapshots" and not path.is_dir():
        what = ("it is a file: give the folder that holds it" if path.is_file() else
                "no such folder: check the path (relative paths start from the folder you run in)")
        raise FileNotFoundError(
            f"{exp['source']}: data.path {path} is not a folder of tables; {what}, e.g. --set data.path=extracts/2025-07"
            " (to try the toolkit without data: `retention-ml simulate --out demo-output/data`)"
        )
    if exp["kind"] == "flat" and not path.is_file():
        raise FileNotFoundError(f"{exp['source']}: data.path {path}: flat extract not found (kind = \"flat\" reads one "
                                "CSV or Excel file; --set data.path=...)")


def _prepare_snapshots(exp: dict, progress, data=None) -> _Prepared:
    from retention_ml.features import build_dataset
    from retention_ml.labels import LabelConfig
    from retention_ml.split import out_of_time_split

    progress("reading data")
    tables, readings = data if data is not None else read_data_and_readings(exp["data"]["path"])
    dates = snapshot_dates(tables, exp)
    label = {"horizon_months": exp["label"]["horizon_months"], "positive_reasons": tuple(exp["label"]["positive_reasons"]),
             "agency": exp["population"]["agency"]}
    progress("building features and labels")
    ds = build_dataset(tables, dates, label_config=LabelConfig(**label))
    keep = ~ds.censored.to_numpy(dtype=bool) & ds.y.notna().to_numpy()
    keys = ds.keys.loc[keep].reset_index(drop=True)
    X = ds.X.loc[keep].reset_index(drop=True).astype("float64")
    y = ds.y.loc[keep].reset_index(drop=True).astype("float64")
    months = pd.to_datetime(tables["caseload_history"]["month"])  # the data's span, for a refusal's wording only
    split = out_of_time_split(keys["as_of"], horizon_months=label["horizon_months"],
                              valid_periods=exp["split"]["valid_periods"], test_periods=exp["split"]["test_periods"],
                              frequency_months=exp["snapshots"]["frequency_months"],
                              data_span=(months.min(), months.max() + pd.DateOffset(months=1)))
    workers = tables.get("workers")
    if workers is not None:
        extra = [c for c in PROTECTED_KEYS if c in workers.columns and c not in keys.columns]
        keys = keys.merge(workers[["worker_id", *extra]].drop_duplicates("worker_id"), on="worker_id", how="left")
    label["positive_reasons"] = list(label["positive_reasons"])
    return _Prepared(keys, X, y, split.masks(), {k: list(v) for k, v in split.windows.items()}, ds.catalogue,
                     ds.censoring_report, int((~keep).sum()), label, f"in post at each snapshot; agency workers: {label['agency']}",
                     tables, readings)


def _prepare_flat(exp: dict, progress) -> _Prepared:
    from sklearn.model_selection import train_test_split

    from retention_ml.flat import load_flat

    progress("reading flat extract")
    ds = load_flat(exp["data"]["path"], exp["flat"])
    # No time in a flat extract: a stratified test part; the model cross-fits on the rest
    # (model.cv_folds), so there is no separate validation part.
    idx = np.arange(len(ds.y))
    _, test = train_test_split(idx, test_size=exp["split"]["test_fraction"], stratify=ds.y, random_state=exp["seed"])
    test = np.isin(idx, test)
    masks = {"train": ~test, "valid": np.zeros(len(idx), bool), "test": test}
    label = {"column": exp["flat"]["label"], "positive": exp["flat"]["positive"], "negative": exp["flat"]["negative"],
             "horizon_months": None}
    return _Prepared(ds.keys, ds.X, ds.y, masks, {"train": [], "valid": [], "test": []}, ds.catalogue,
                     ds.censoring_report, 0, label, "one row per employee (flat extract)", None)


# -- modelling ---------------------------------------------------------------------------------------
def model_params(exp: dict, catalogue: pd.DataFrame | None = None) -> dict:
    """TurnoverModel keyword arguments from the experiment, plus the catalogue's constraints when asked for."""
    params = {k: exp["model"][k] for k in MODEL_KEYS}
    if exp["model"]["constraints"] == "drivers" and catalogue is not None:
        params.update(driver_constraints(catalogue))
    return params


def driver_constraints(catalogue: pd.DataFrame) -> dict:
    """``monotone`` and ``interaction_groups`` for :class:`TurnoverModel` from the feature catalogue.

    Features interact only within their driver, and context features (driver ``other``: FTE,
    contract type) with every driver; each feature's ``direction`` (the domain's prior on how
    risk moves with it) becomes a monotone constraint. The model is then a sum of one function
    per driver, so the SHAP values summed over a driver are that driver's own part of the risk
    rather than a share of cross-driver interactions split by the tree's order of splits. On
    national simulated data (seeds 0 and 3) the true driver reached the top 3 reasons of 1-2 percentage points
    more top-risk-decile leavers at the same ROC-AUC, with about twice the trees (README, Measured).
    """
    monotone = {f: int(d) for f, d in zip(catalogue["feature"], catalogue["direction"]) if int(d) != 0}
    by_driver = {d: list(f) for d, f in catalogue.groupby("driver", sort=False)["feature"]}
    shared = by_driver.pop("other", [])
    groups = [features + shared for features in by_driver.values()] or [shared]
    return {"monotone": monotone, "interaction_groups": groups}


# Tuning ranges (low, high) of the numeric LightGBM settings; extra_trees is searched as on/off.
SEARCH = {"num_leaves": (2, 63), "min_child_samples": (5, 400), "learning_rate": (0.02, 0.2),
          "colsample_bytree": (0.2, 1.0), "subsample": (0.5, 1.0), "reg_lambda": (0.01, 50.0)}


def inner_split(keys: pd.DataFrame, y: pd.Series, exp: dict):
    """Tuning's train / check masks inside the training window (``.train``, ``.valid``).

    An out-of-time split with the same gap rule as the outer one; when the window is too short for a gap, a
    stratified holdout of whole workers: a worker's snapshots (and so one leaving, labelled at several dates)
    are all on one side, or the check would reward remembering people.
    """
    from sklearn.model_selection import StratifiedGroupKFold

    from retention_ml.split import out_of_time_split

    try:
        return out_of_time_split(keys["as_of"], horizon_months=exp["label"]["horizon_months"])
    except ValueError:
        folds = StratifiedGroupKFold(n_splits=3, shuffle=True, random_state=exp["seed"] + 1)
        train, valid = next(folds.split(np.zeros(len(y)), np.asarray(y), groups=keys["worker_id"].to_numpy()))
        rows = np.arange(len(y))
        return types.SimpleNamespace(train=np.isin(rows, train), valid=np.isin(rows, valid))


def tune(X: pd.DataFrame, y: pd.Series, keys: pd.DataFrame, exp: dict, base: dict) -> tuple[dict, dict]:
    """Optuna search inside the training window only; returns (params, report).

    Snapshots: an inner out-of-time split of the training window (same gap rule; a
    stratified holdout of whole workers when the window is too short for it), objective: ROC-AUC on
    the inner validation part. Flat extracts: the model's own cross-fitting over the
    training rows, objective: out-of-fold log-loss of the calibrated probabilities
    (every row used once for checking, as a single small holdout is too noisy to
    choose by; log-loss, a proper score over every row, is a smoother criterion than
    the rank-only ROC-AUC, which on ~1,200 rows moves with a handful of pairs: on the
    IBM HR benchmark it chose settings that scored 0.848 vs 0.842 ROC-AUC out of sample).
    The search covers tree size down to stumps (2 leaves: an additive model, which
    often suits small extracts), extremely randomised split points (``extra_trees``)
    and row and feature subsampling, so it can move from the defaults either way.
    The first trial is the experiment's own setting (the model defaults unless the file
    changes them), so a small budget never ends on a worse random draw than the defaults.
    Reproducible for a fixed seed as long as ``tuning.timeout_seconds`` does not cut it short.
    """
    import optuna
    from sklearn.metrics import roc_auc_score

    inner = inner_split(keys, y, exp) if "as_of" in keys.columns else None

    def objective(trial):
        params = dict(base, n_bootstrap=0,
                      num_leaves=trial.suggest_int("num_leaves", *SEARCH["num_leaves"], log=True),
                      min_child_samples=trial.suggest_int("min_child_samples", *SEARCH["min_child_samples"], log=True),
                      learning_rate=trial.suggest_float("learning_rate", *SEARCH["learning_rate"], log=True),
                      colsample_bytree=trial.suggest_float("colsample_bytree", *SEARCH["colsample_bytree"]),
                      subsample=trial.suggest_float("subsample", *SEARCH["subsample"]),
                      reg_lambda=trial.suggest_float("reg_lambda", *SEARCH["reg_lambda"], log=True),
                      extra_trees=trial.suggest_categorical("extra_trees", [False, True]))
        model = TurnoverModel(**params, random_state=exp["seed"])
        if inner is None:  # flat extract: out-of-fold log-loss of the cross-fitting (maximise its negative)
            model.fit(X, y)
            trial.set_user_attr("roc_auc", model.valid_roc_auc_)
            return -model.valid_log_loss_["after"]
        Xv, yv = X[inner.valid], y[inner.valid]
        model.fit(X[inner.train], y[inner.train], X_valid=Xv, y_valid=yv)
        auc = roc_auc_score(yv, model.predict_proba(Xv)[:, 1])
        trial.set_user_attr("roc_auc", auc)
        return auc

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=exp["seed"]))
    # The first trial is the experiment's own setting (where it lies inside the search space), so the
    # search starts from the defaults and a small budget cannot end on a worse random draw than them.
    start = {k: base[k] for k, (lo, hi) in SEARCH.items() if lo <= base[k] <= hi}
    start["extra_trees"] = bool(base["extra_trees"])
    study.enqueue_trial(start)
    study.optimize(objective, n_trials=exp["tuning"]["trials"], timeout=exp["tuning"]["timeout_seconds"])
    report = {"trials": len(study.trials), "objective": "inner ROC-AUC" if inner is not None else "out-of-fold log-loss",
              "best_inner_roc_auc": study.best_trial.user_attrs["roc_auc"], "best": study.best_params}
    if inner is None:
        report["best_inner_log_loss"] = -study.best_value
    return dict(base, **study.best_params), report


def _evaluation_record(exp, prep: _Prepared, model, risks, y_test, keys_test, ece_before, ece_after, progress) -> dict:
    models = evaluate_models(risks, y_test, workers=keys_test["worker_id"], n_boot=exp["evaluation"]["n_boot"],
                             random_state=exp["seed"], progress=progress)
    counts = {}
    for name, mask in prep.masks.items():
        counts[name] = {"n": int(mask.sum()), "positives": int(prep.y[mask].sum()), "workers": int(prep.keys.loc[mask, "worker_id"].nunique()),
                        # distinct people with a positive label: the evidence the gate's min_test_leavers counts
                        "leavers": int(prep.keys.loc[mask & (prep.y == 1).to_numpy(), "worker_id"].nunique())}
    a, b = model.calibration_
    return {
        "horizon_months": prep.label.get("horizon_months"),
        "label": prep.label,
        "population": prep.population,
        "windows": prep.windows,
        "counts": counts,
        "censored": prep.censored,
        "models": models,
        "beats_baselines": beats_baselines(models),
        "calibration": {"method": "platt", "a": a, "b": b, "checked_on": model.validation_,
                        "ece_valid_before": ece_before, "ece_valid_after": ece_after},
        "teams": expected_vs_observed(keys_test, y_test, risks["lightgbm"]),
        **_team_checks_record(exp, keys_test, y_test, risks["lightgbm"]),
        **_calibration_by_date_record(keys_test, y_test, risks["lightgbm"]),
        "experiment": exp["name"],
        "best_iteration": model.best_iteration_,
    }


def _team_checks_record(exp: dict, keys_test: pd.DataFrame, y_test, risk) -> dict:
    """``{"team_checks": ...}``: the lists' team figures checked per test date (:func:`team_checks`, no team named),
    from the full-precision risks a list computes them from; nothing for a flat extract (no lists)."""
    if exp["kind"] != "snapshots" or not {"as_of", "team_id", "worker_id"} <= set(keys_test.columns):
        return {}
    rows = keys_test[["as_of", "team_id", "worker_id"]].assign(label=np.asarray(y_test, float), risk=np.asarray(risk, float))
    return {"team_checks": team_checks(rows)}


def _calibration_by_date_record(keys_test: pd.DataFrame, y_test, risk) -> dict:
    """``{"calibration_by_date": ...}``: expected against observed leavers at each test date
    (:func:`calibration_by_date`), which the card tabulates and the gate's ``calibration_by_date`` check reads;
    nothing for a flat extract (no dates)."""
    if "as_of" not in keys_test.columns:
        return {}
    return {"calibration_by_date": calibration_by_date(risk, y_test, workers=keys_test["worker_id"],
                                                        dates=keys_test["as_of"])}


def losing_metrics(models: dict, name: str) -> str:
    """The metric(s) LightGBM does not beat baseline ``name`` on, with both values: "average precision 0.042 vs
    0.042 (LightGBM first)". The one wording of a lost comparison (train's warning, the promotion gate's detail)."""
    lgb, base = models["lightgbm"], models[name]
    parts = [f"{label} {lgb[m]['value']:.3f} vs {base[m]['value']:.3f}"
             for m, label in (("roc_auc", "ROC-AUC"), ("average_precision", "average precision"))
             if not lgb[m]["value"] > base[m]["value"]]
    return f"{'; '.join(parts)} (LightGBM first)"


def baseline_note(models: dict, name: str) -> str:
    """Plain words for a baseline LightGBM does not beat: which of the two metrics, with both values."""
    return f"LightGBM does NOT beat the {name} baseline on the test window: {losing_metrics(models, name)}"


def _noop(*_args, **_kw):
    return None


def train_experiment(exp: dict, *, log: bool = True, progress: Callable[[str], None] | None = None,
                     boot_progress: Callable[[int, int], None] | None = None, simulated: bool = False,
                     data: tuple[dict, dict | None] | None = None) -> TrainResult:
    """Run experiment ``exp`` (from :func:`retention_ml.experiment.load_experiment`).

    With ``log=False`` nothing touches MLflow (used by benchmarks); otherwise one
    run is created in the MLflow experiment ``exp['mlflow_experiment']`` (default:
    the experiment's name), and the model is registered with alias ``candidate``.
    ``progress(stage)`` reports stages, ``boot_progress(done, total)`` bootstrap draws.
    ``simulated`` (tag ``retention_ml.simulated``) is a fact about the data folder, not a setting: callers that
    may look at the simulator's output (the train and demo commands) pass what the simulator's writer says of the
    folder (``is_simulator_output``); modelling code never reads the truth.
    ``data``: (tables, readings) of ``exp``'s data folder as :func:`read_data_and_readings` gives them, when the
    caller has already validated and read it (the demo validates once); default: read here.
    """
    progress = progress or _noop
    # Inputs first, then the store: a run that cannot start (no data, invalid data, a store that cannot work)
    # creates no empty mlflow.db; and all of it before minutes of training, not after.
    check_data_path(exp)
    if log:
        from retention_ml import tracking

        tracking.check_store(tracking.tracking_uri(exp.get("tracking_uri")))   # seconds, creates nothing
    prep = _prepare_snapshots(exp, progress, data) if exp["kind"] == "snapshots" else _prepare_flat(exp, progress)
    if log:
        tracking.configure(exp.get("tracking_uri"))
        conflict = tracking.registry_kind_conflict(exp["registered_model"], exp["kind"])
        if conflict:
            raise ValueError(conflict)
    tr, va, te = prep.masks["train"], prep.masks["valid"], prep.masks["test"]
    X_train, y_train, X_valid, y_valid = prep.X[tr], prep.y[tr], prep.X[va], prep.y[va]
    X_test, y_test, keys_test = prep.X[te].reset_index(drop=True), prep.y[te].reset_index(drop=True), prep.keys[te].reset_index(drop=True)
    notes = coverage_notes(prep.tables)
    params, tuning = model_params(exp, prep.catalogue), None
    if exp["tuning"]["trials"] > 0:
        progress(f"tuning ({exp['tuning']['trials']} trials, training window only)")
        params, tuning = tune(X_train, y_train, prep.keys[tr].reset_index(drop=True), exp, params)
    progress("fitting LightGBM")
    # Snapshots: early stopping and calibration on the later validation window; flat extracts
    # (empty validation part): cross-fitting inside the training rows.
    window = {"X_valid": X_valid, "y_valid": y_valid} if va.any() else {}
    # the held-out rows' people, so the held-out ECE's chance level counts a person's rows together
    window["workers_valid"] = prep.keys.loc[va if va.any() else tr, "worker_id"].to_numpy()
    model = TurnoverModel(**params, random_state=exp["seed"]).fit(X_train, y_train, **window)
    ece_before, ece_after = model.valid_ece_["before"], model.valid_ece_["after"]
    progress("fitting baselines")
    logistic = logistic_baseline(exp["seed"]).fit(X_train, y_train)
    risks = {
        "lightgbm": model.predict_proba(X_test)[:, 1],
        "logistic": logistic.predict_proba(X_test)[:, 1],
        "team_base_rate": team_base_rate(prep.keys.loc[tr, "team_id"], y_train, keys_test["team_id"]),
    }
    progress("evaluating on the test window")
    record = _evaluation_record(exp, prep, model, risks, y_test, keys_test, ece_before, ece_after, boot_progress)
    record["calibration"]["ece_valid_chance"] = model.valid_ece_chance_   # read as the test ECE is, beside chance
    if tuning:
        record["tuning"] = tuning
    for name, beaten in record["beats_baselines"].items():
        if not beaten:
            notes.append(baseline_note(record["models"], name))
    predictions = keys_test[[c for c in keys_test.columns if c in PREDICTION_KEYS or c in PROTECTED_KEYS or c in exp["flat"]["protected"]]].copy()
    predictions["label"] = y_test.to_numpy()
    predictions["risk"] = risks["lightgbm"]
    run_id = version = None
    if log:
        run_id, version = _log_run(exp, prep, model, record, predictions, X_test, y_test, keys_test, risks, params, progress,
                                   simulated)
    return TrainResult(model, record, run_id, version, predictions, notes)


# -- tracking ------------------------------------------------------------------------------------------
def audit_rows(predictions: pd.DataFrame, protected=()) -> pd.DataFrame:
    """The test predictions as logged (``evaluation/test_predictions.parquet``): audit rows no list joins to.

    Columns (those present): ``person``, ``as_of``, ``service``, ``area``, ``employment_type``, the
    protected characteristics (:data:`PROTECTED_KEYS` and a flat extract's ``protected``), ``label``, ``risk``
    (rounded to :data:`retention_ml.disclosure.AUDIT_RISK_DECIMALS`: at full precision it is the number a scores
    file holds for the person at that date, a key back to their worker id) and
    :data:`retention_ml.fairness.FLAGGED` (in the top 10% of the labelled rows' risks before rounding).
    ``person`` keeps a person's snapshots together (the audit counts people) but is a fresh random
    numbering at every call (operating-system entropy, no seed, nothing kept), so no other output holds it and
    it cannot be recomputed from anything logged. No team key, not even a pseudonym: ``metrics.json``
    names each team of 5 or more with its people, expected and observed leavers, which a team key's groups of
    rows match, naming the team beside each member's protected characteristics; the card's check of the lists'
    team figures is logged in ``metrics.json`` (``team_checks``) instead. Rows are ordered by value (date, risk, label, then the
    other columns), never by worker id, so the order does not give the ids away either; being by value, it is
    the same in every run of the same experiment, and so are the audit's numbers (ties in risk are broken by
    row order when the top 10% are flagged). Only the ``person`` values differ from run to run.

    Example
    -------
    >>> p = pd.DataFrame({"worker_id": ["W1", "W2", "W1"], "team_id": "T1", "sex": ["f", "m", "f"],
    ...                   "label": [0.0, 1.0, 0.0], "risk": [0.2, 0.1, 0.3]})
    >>> rows = audit_rows(p)
    >>> rows.columns.tolist(), rows["person"].nunique()
    (['person', 'sex', 'label', 'risk', 'top_share_flagged'], 2)
    """
    from retention_ml.disclosure import AUDIT_RISK_DECIMALS
    from retention_ml.evaluate import top_share_mask
    from retention_ml.fairness import FLAGGED

    columns = [c for c in predictions.columns if c in AUDIT_KEYS or c in PROTECTED_KEYS or c in protected]
    keys = {PERSON: _pseudonyms(predictions["worker_id"], "P")}
    # the top 10% over the rows the audit reads (labelled ones), from the risks before rounding
    labelled = predictions["label"].notna().to_numpy()
    flagged = np.zeros(len(predictions), dtype=bool)
    flagged[labelled] = top_share_mask(predictions["risk"].to_numpy(dtype=float)[labelled])
    # rounded, so a risk is no longer the very number a scores file holds for the person at that date
    rows = predictions[[*columns, "label"]].assign(risk=predictions["risk"].astype(float).round(AUDIT_RISK_DECIMALS),
                                                   **{FLAGGED: flagged}, **keys)
    # Last keys the pseudonyms: rows equal in every logged value come in random order, not in id order.
    order = [*[c for c in columns if c == "as_of"], "risk", FLAGGED, "label", *[c for c in columns if c != "as_of"],
             *reversed(keys)]
    return rows.sort_values(order, kind="stable").reset_index(drop=True)[[*keys, *columns, "label", "risk", FLAGGED]]


def _write_audit(rows: pd.DataFrame, path: Path) -> None:
    """Log the fairness audit's aggregates (:func:`retention_ml.fairness.audit_record`), computed here from the
    audit rows, which stay in memory: a row per test snapshot with a person's protected characteristics, area,
    service and risk is tied back to them by anyone holding a scores file or a list of that date."""
    from retention_ml.fairness import audit_fairness, audit_record

    record = audit_record(audit_fairness(rows), rows)
    path.write_text(json.dumps(record, indent=2, sort_keys=True), encoding="utf-8")


def _pseudonyms(ids: pd.Series, prefix: str) -> np.ndarray:
    """A fresh random numbering of ``ids`` ("P07", "G3", ...): one value per id, unseeded on purpose so nothing
    can recompute it from one run to the next."""
    codes, uniques = pd.factorize(ids)
    numbers = np.random.default_rng().permutation(len(uniques))
    width = len(str(max(len(uniques) - 1, 0)))
    return pd.Series(numbers[codes]).astype(str).str.zfill(width).radd(prefix).to_numpy()


def _flat_metrics(record: dict) -> dict[str, float]:
    """The run's MLflow metrics from its evaluation record: every model's test figures with their 95% interval
    (``logistic.roc_auc.low``), so MLflow's compare view shows whether LightGBM beats a baseline beyond the noise,
    as train's table and the card do, and ECE with its chance level (``lightgbm.ece.chance_high``,
    ``.p_value``); calibration, trees and the rows (and leavers) of each window."""
    out = {}
    for name, rec in record["models"].items():
        for metric, figures in rec.items():
            out[f"{name}.{metric}"] = figures["value"]
            out.update({f"{name}.{metric}.{key}": v for key, v in figures.items() if key not in ("value", "undefined")})
    cal = record["calibration"]
    out.update({"calibration.a": cal["a"], "calibration.b": cal["b"], "ece_valid_before": cal["ece_valid_before"],
                "ece_valid_after": cal["ece_valid_after"], "best_iteration": record["best_iteration"]})
    for part, c in record["counts"].items():
        out[f"{part}.n"], out[f"{part}.positives"] = c["n"], c["positives"]
        if "leavers" in c:
            out[f"{part}.leavers"] = c["leavers"]
    return out


# Keys that say where a run is recorded or what it is called, not what it is: left out of the overrides its name
# lists (name is its first word already; data.path is in the tags' fingerprint).
NOT_IN_RUN_NAME = ("name", "data.path", "tracking_uri", "mlflow_experiment", "registered_model", "description")
# Keys of the experiment that are not settings of the run (the file as written, where it is).
NOT_PARAMS = ("source", "source_text", "overrides", "description", "tracking_uri")


def run_params(exp: dict, params: dict) -> dict[str, object]:
    """The run's MLflow parameters: every experiment key the run used, under the dotted name the experiment file and
    ``--set`` use (``population.agency``, ``snapshots.frequency_months``, ``data.path``), so
    ``mlflow.search_runs(filter_string="params.population.agency = 'exclude'")`` finds runs by the key the analyst set.

    ``model.*`` holds the values the model was fitted with (the tuned ones after tuning); ``overrides`` the
    ``--set`` items as given. Keys the run's kind does not use (``retention_ml.experiment.UNUSED_BY_KIND``) are left
    out, so a run's parameters are the settings that made it.

    Example
    -------
    >>> from retention_ml.experiment import experiment_from_dict
    >>> exp = experiment_from_dict({"name": "x", "data": {"path": "/d"}}) | {"overrides": []}
    >>> p = run_params(exp, model_params(exp))
    >>> p["population.agency"], p["snapshots.frequency_months"], "flat.positive" in p
    ('flag', 3, False)
    """
    from retention_ml.tracking import flatten

    settings = {k: v for k, v in exp.items() if k not in NOT_PARAMS}
    # the constraints' detail is the logged feature catalogue (driver, direction)
    settings["model"] = exp["model"] | {k: v for k, v in params.items() if k not in ("monotone", "interaction_groups")}
    kept = {k: v for k, v in flatten(settings).items() if not unused_by_kind(k, exp["kind"])}
    return kept | {"overrides": ";".join(exp.get("overrides", []))}


EFFECTIVE_EXPERIMENT = "experiment_effective.toml"


def experiment_source_name(exp: dict) -> str:
    """The logged name of the experiment file as written: ``experiment`` with the file's own suffix (a YAML file
    stays YAML, so the artifact parses as what it is)."""
    suffix = Path(exp.get("source", "experiment.toml")).suffix.lower()
    return f"experiment{suffix if suffix in ('.yaml', '.yml') else '.toml'}"


def effective_experiment(exp: dict) -> str:
    """The experiment that ran, as TOML: every key validated with its default filled in, the ``--set`` overrides
    applied and ``data.path`` absolute, so ``retention-ml train experiment_effective.toml`` on the same data
    trains the same model (the file as written, with its relative paths and without the overrides, does not)."""
    import tomli_w

    settings = copy.deepcopy({k: v for k, v in exp.items() if k not in ("source", "source_text", "overrides")})
    for unused in UNUSED_BY_KIND[exp["kind"]]:   # the other kind's keys: the file holds only what this run used
        section, _, key = unused.partition(".")
        if key:
            settings.get(section, {}).pop(key, None)
        else:
            settings.pop(section, None)
    head = [f"# The experiment as run: {exp.get('source', '?')}"]
    head += [f"# with --set {o}" for o in exp.get("overrides", [])]
    head += ["# every key this kind of run uses, with its default filled in; train it again with: retention-ml train experiment_effective.toml", ""]
    return "\n".join(head) + tomli_w.dumps(settings)


def run_name(exp: dict) -> str:
    """The run's name in MLflow and ``runs``: the experiment's name and the ``--set`` overrides that change what was
    trained, each key with its section as typed (``council_default label.horizon_months=6 population.agency=exclude``;
    a key set twice once, at the value that ran), so the name is the parameter's own name and pastes back into
    ``--set``; ``n_boot=50`` alone did not say it was the evaluation's bootstrap, not the model's. Not the data path:
    its fingerprint is a tag."""
    changed = {}
    for override in exp.get("overrides", []):
        key, _, value = override.partition("=")
        if key.strip() not in NOT_IN_RUN_NAME:
            changed.pop(key.strip(), None)   # the last --set of a key is the one that ran: it goes last
            changed[key.strip()] = value.strip()
    return " ".join([exp["name"], *(f"{k}={v}" for k, v in changed.items())])[:250]


# Why a flat extract's run has no explanations although evaluation.explain is true (its default): the reasons,
# driver profiles and exit-interview check are built on the snapshot tables, and such a model makes no lists.
FLAT_NOT_EXPLAINED = ("not made: explanations (reasons, SHAP beeswarm, exit-interview check) are made for snapshot "
                      "data; a one-row-per-employee extract's model makes no lists")


def _log_run(exp, prep, model, record, predictions, X_test, y_test, keys_test, risks, params, progress, simulated):
    from retention_ml import tracking
    from retention_ml.schema import schema_version

    tracking.configure(exp.get("tracking_uri"))
    tags = {
        artifacts.DATA_FINGERPRINT_TAG: data_fingerprint(exp["data"]["path"]),
        "retention_ml.schema_version": schema_version(),
        **code_version(),
        artifacts.EXPERIMENT_TAG: exp["name"],
        artifacts.SIMULATED_TAG: "true" if simulated else "false",
        artifacts.KIND_TAG: exp["kind"],
    }
    if exp.get("description"):   # the file's own words on what the run is for: the run page's description in the UI
        tags[tracking.RUN_NOTE_TAG] = exp["description"]
    progress("logging to MLflow")
    run_id = None
    try:
        with tracking.start_run(exp.get("mlflow_experiment", exp["name"]), run_name=run_name(exp), tags=tags) as run:
            run_id = run.info.run_id
            _log_run_contents(run_id, exp, prep, model, record, predictions, X_test, y_test, keys_test, risks, params,
                              progress)
            progress("registering the model")
            version = tracking.log_turnover_model(run_id, model, X_test, registered_model=exp["registered_model"])
    except tracking.MlflowException as exc:
        lost = tracking.lost_server(run_id, exc)   # a server that stopped answering: say which run it left unfinished
        if lost is None:
            raise
        raise lost from exc
    return run_id, str(version.version)


def _log_run_contents(run_id, exp, prep, model, record, predictions, X_test, y_test, keys_test, risks, params, progress):
    """Log a training run's parameters, metrics, files, evaluation and explanations (not the model) to ``run_id``."""
    from retention_ml import tracking

    # the windows are what the data and settings gave: `runs` shows them so a different test window stands out
    windows = {f"window.{part}": " to ".join(dict.fromkeys([str(d)[:10] for d in (dates[0], dates[-1])]))
               for part, dates in prep.windows.items() if dates}
    tracking.log_params(run_id, run_params(exp, params) | windows)
    tracking.log_metrics(run_id, _flat_metrics(record))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = experiment_source_name(exp)
        (tmp / source).write_text(exp["source_text"], encoding="utf-8")
        (tmp / EFFECTIVE_EXPERIMENT).write_text(effective_experiment(exp), encoding="utf-8")
        # measured: the training rows hold a value of the feature (a missing optional table leaves none), so the
        # card and explain say "not measured" instead of reading a driver's zero SHAP as "moves no one's risk"
        has_value = prep.X[prep.masks["train"]].notna().any()
        catalogue = prep.catalogue.assign(measured=prep.catalogue["feature"].isin(has_value.index[has_value]))
        catalogue.to_csv(tmp / artifacts.FEATURE_CATALOGUE, index=False, lineterminator="\n")
        prep.censoring_report.to_csv(tmp / artifacts.CENSORING_REPORT, index=False, lineterminator="\n")
        logged = [source, EFFECTIVE_EXPERIMENT, artifacts.FEATURE_CATALOGUE, artifacts.CENSORING_REPORT]
        if prep.readings is not None:   # an audit sees what was coerced: {} when every value was read as written
            (tmp / artifacts.DATA_READINGS).write_text(json.dumps(prep.readings, indent=2, sort_keys=True), encoding="utf-8")
            logged.append(artifacts.DATA_READINGS)
        for name in logged:
            tracking.log_artifact_file(run_id, tmp / name)
        ev = tmp / "evaluation"
        ev.mkdir()
        fname = artifacts.file_name
        _write_audit(audit_rows(predictions, exp["flat"]["protected"]), ev / fname(artifacts.FAIRNESS_AUDIT))
        calibration_plot(y_test, {k: v for k, v in risks.items() if k != "team_base_rate"}, ev / fname(artifacts.CALIBRATION_PLOT),
                         title=f"{exp['name']}: calibration on the test window")
        model.feature_importance_table().to_csv(ev / fname(artifacts.FEATURE_IMPORTANCE), index=False, lineterminator="\n")
        (ev / fname(artifacts.METRICS_JSON)).write_text(json.dumps(record, indent=2, sort_keys=True, default=str), encoding="utf-8")
        for f in sorted(ev.iterdir()):
            tracking.log_artifact_file(run_id, f, artifacts.EVALUATION_DIR)
    if exp["evaluation"]["explain"] and prep.tables is not None:
        log_explanations = _optional("retention_ml.explain", "log_run_explanations")
        if log_explanations is not None:
            progress("explaining the test window")
            try:
                log_explanations(model, X_test, keys_test, y_test, tables=prep.tables, run_id=run_id,
                                 catalogue=prep.catalogue, random_state=exp["seed"])
                tracking.set_run_tag(run_id, "retention_ml.explanations", "logged")
            except Exception as exc:  # the model and its evaluation stand without explanations; say so on the run
                tracking.set_run_tag(run_id, "retention_ml.explanations", f"failed: {type(exc).__name__}: {exc}"[:250])
                progress(f"explanations failed ({type(exc).__name__}: {exc}); run kept without them")
    elif exp["evaluation"]["explain"]:   # asked for, and the run page would otherwise just lack them
        tracking.set_run_tag(run_id, "retention_ml.explanations", FLAT_NOT_EXPLAINED)


# -- cross-validation benchmark (flat extracts) -----------------------------------------------------
def cross_validate_flat(exp: dict, *, n_splits: int = 5, n_repeats: int = 3,
                        progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Repeated stratified k-fold CV of the default training path on a flat extract.

    Per fold the model is fitted on the fold's training part exactly as
    :func:`train_experiment` fits a flat extract (cross-fitting inside it picks the
    trees and the Platt calibration, then the trees are refitted on all of it); tuning (when ``tuning.trials > 0``) sees only
    the fold's training part. The logistic baseline is fitted on the whole training part.
    Returns one row per fold and model: ``repeat, fold, model, roc_auc, average_precision, brier``, ``constant``
    (every held-out row got the same risk: the model ranked no one) and ``train_rows``.
    Seeds: ``RepeatedStratifiedKFold(random_state=exp['seed'])`` and the model's ``random_state``.
    """
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
    from sklearn.model_selection import RepeatedStratifiedKFold

    from retention_ml.flat import load_flat

    ds = load_flat(exp["data"]["path"], exp["flat"])
    X, y = ds.X, ds.y.to_numpy()
    cv = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=exp["seed"])
    rows, total = [], n_splits * n_repeats
    for i, (tr, te) in enumerate(cv.split(X, y)):
        params = model_params(exp, ds.catalogue)
        if exp["tuning"]["trials"] > 0:
            params, _ = tune(X.iloc[tr].reset_index(drop=True), pd.Series(y[tr]), ds.keys.iloc[tr].reset_index(drop=True)[["worker_id"]], exp, params)
        params["n_bootstrap"] = 0  # intervals are not scored here
        model = TurnoverModel(**params, random_state=exp["seed"]).fit(X.iloc[tr], y[tr])
        logistic = logistic_baseline(exp["seed"]).fit(X.iloc[tr], y[tr])
        for name, risk in (("lightgbm", model.predict_proba(X.iloc[te])[:, 1]), ("logistic", logistic.predict_proba(X.iloc[te])[:, 1])):
            rows.append({"repeat": i // n_splits, "fold": i % n_splits, "model": name,
                         "roc_auc": roc_auc_score(y[te], risk), "average_precision": average_precision_score(y[te], risk),
                         "brier": brier_score_loss(y[te], risk), "constant": bool(np.ptp(risk) < 1e-12),
                         "train_rows": len(tr)})
        if progress:
            progress(i + 1, total)
    return pd.DataFrame(rows)
