"""Promotion gate: champion moves only when every check passes; a failing run is refused by name.

Runs here are FAKE but schema-faithful training records (what training and explanation logging write) logged to an MLflow
store in tmp_path with a registered model version aliased "candidate". ``make_fake_run`` is also
used by tests/reports/test_model_card.py.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retention_ml import tracking

SEED = 20261123
SERVICES = ["referral_assessment", "safeguarding", "children_in_care"]


def fake_predictions(*, kind: str = "good", n_workers: int = 600, seed: int = SEED) -> pd.DataFrame:
    """Two test-window snapshots per worker with audit columns; ``risk`` is the true probability for "good".

    Small groups on purpose: sex=not_known (8 people) and ethnicity_group=mixed (12 people).
    ``kind="miscalibrated_group"`` triples the odds of area South (its calibration gap fails the gate) and lowers
    North's so the whole window still expects as many leavers as the true risks (calibration in the large passes);
    ``kind="too_high_overall"`` puts every risk 40% above the true one (calibration in the large fails, no group
    and not ECE, which the fake metrics set);
    ``kind="unfair_ranking"`` shuffles South's risks (its ROC-AUC shortfall fails the gate).
    """
    rng = np.random.default_rng(seed)
    w = pd.DataFrame({"worker_id": [f"W{i:05d}" for i in range(n_workers)]})
    w["sex"] = np.where(np.arange(n_workers) < 8, "not_known", rng.choice(["female", "male"], n_workers, p=[0.78, 0.22]))
    w["ethnicity_group"] = np.where((np.arange(n_workers) >= 8) & (np.arange(n_workers) < 20), "mixed",
                                    rng.choice(["white", "black", "asian"], n_workers, p=[0.7, 0.15, 0.15]))
    w["age_band"] = rng.choice(["25_29", "30_39", "40_49", "50_59"], n_workers)
    w["disability"] = rng.choice(["yes", "no"], n_workers, p=[0.15, 0.85])
    w["employment_type"] = rng.choice(["permanent", "agency"], n_workers, p=[0.85, 0.15])
    w["service"] = rng.choice(SERVICES, n_workers)
    w["area"] = rng.choice(["North", "South"], n_workers)
    w["team_id"] = "T" + pd.Series(rng.integers(0, 30, n_workers)).astype(str)
    w["council_id"] = "C1"
    w["caseload"] = rng.normal(18, 5, n_workers)
    rows = pd.concat([w.assign(as_of=pd.Timestamp("2024-01-01")), w.assign(as_of=pd.Timestamp("2024-02-01"))],
                     ignore_index=True)
    logit = -2.0 + 0.25 * (rows["caseload"] - 18) + 0.6 * (rows["employment_type"] == "agency")
    p = 1 / (1 + np.exp(-logit.to_numpy()))
    rows["label"] = (rng.random(len(rows)) < p).astype(float)
    rows["risk"] = p
    if kind == "unfair_ranking":  # South's risks shuffled among South: same level, no ranking (ROC-AUC ~0.5)
        south = np.flatnonzero(rows["area"].to_numpy() == "South")
        rows.loc[rows.index[south], "risk"] = rng.permutation(p[south])
    if kind == "too_high_overall":
        rows["risk"] = np.minimum(p * 1.4, 0.99)
    if kind == "miscalibrated_group":
        from scipy.optimize import brentq

        south = (rows["area"] == "South").to_numpy()
        rows.loc[south, "risk"] = 1 / (1 + np.exp(-(logit[south] + np.log(3))))
        north = 1 / (1 + np.exp(-logit[~south].to_numpy()))
        shift = brentq(lambda c: rows.loc[south, "risk"].sum() + (north / (north + (1 - north) * np.exp(c))).sum()
                       - p.sum(), 0.0, 10.0)
        rows.loc[~south, "risk"] = north / (north + (1 - north) * np.exp(shift))
    cols = ["worker_id", "as_of", "team_id", "council_id", "service", "area", "employment_type", "label", "risk",
            "sex", "age_band", "ethnicity_group", "disability"]
    return rows[cols]


def _interval(value: float) -> dict:
    return {"value": value, "low": value - 0.02, "high": value + 0.02}


def _ece(value: float, chance_high: float = 0.03) -> dict:
    """ECE as training logs it: with its chance level (beyond chance when above ``chance_high``), no interval."""
    return {"value": value, "chance": chance_high * 0.7, "chance_high": chance_high,
            "p_value": 0.005 if value > chance_high else 0.4, "undefined": 0}


def fake_metrics(predictions: pd.DataFrame, *, kind: str = "good") -> dict:
    """metrics.json as training writes it; lightgbm numbers computed from the predictions."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    from retention_ml.evaluate import calibration_by_date

    y, p = predictions["label"].to_numpy(), predictions["risk"].to_numpy()
    auc, ap = roc_auc_score(y, p), average_precision_score(y, p)
    ece = 0.12 if kind == "high_ece" else 0.015
    mine = {"roc_auc": _interval(auc), "average_precision": _interval(ap), "brier": _interval(brier_score_loss(y, p)),
            "ece": _ece(ece), "precision_top10": _interval(0.4), "recall_top10": _interval(0.3)}
    logistic_auc = auc + 0.03 if kind == "loses_to_logistic" else auc - 0.05
    logistic = {k: dict(v) for k, v in mine.items()}
    logistic["roc_auc"] = _interval(logistic_auc)
    logistic["average_precision"] = _interval(ap - 0.03)
    team = {k: dict(v) for k, v in mine.items()}
    team["roc_auc"], team["average_precision"] = _interval(0.55), _interval(y.mean() + 0.01)
    counts = {"train": {"n": 5000, "positives": 700, "workers": 2600},
              "valid": {"n": 1200, "positives": 160, "workers": 610},
              "test": {"n": int(len(y)), "positives": int(y.sum()), "workers": int(predictions["worker_id"].nunique())}}
    return {
        "horizon_months": 12, "label": {"horizon_months": 12, "positive_reasons": ["resignation"], "agency": "flag"},
        "population": "social workers in post at each monthly snapshot",
        "windows": {"train": ["2021-01-01", "2022-06-01"], "valid": ["2022-07-01", "2022-12-01"],
                    "test": ["2024-01-01", "2024-02-01"]},
        "counts": counts, "censored": 321,
        "models": {"lightgbm": mine, "logistic": logistic, "team_base_rate": team},
        "beats_baselines": {"logistic": kind != "loses_to_logistic", "team_base_rate": True},
        "calibration": {"method": "platt", "a": 0.93, "b": -0.12, "ece_valid_before": 0.041, "ece_valid_after": 0.012},
        "teams": [{"team_id": "T1", "n": 40, "expected": 5.5, "observed": 6}],
        # expected against observed leavers per test date, as training logs them from the same rows
        "calibration_by_date": calibration_by_date(p, y, workers=predictions["worker_id"], dates=predictions["as_of"]),
    }


def fake_alignment() -> dict:
    return {"n_leavers": 180, "n_with_interview": 120, "top1": _interval(0.31), "top3": _interval(0.62),
            "chance": {"top1": 0.1, "top3": 0.3}, "global": {"top1": _interval(0.29), "top3": _interval(0.60)},
            "difference_vs_global": {"top1": {"value": 0.02, "low": -0.03, "high": 0.07},
                                     "top3": {"value": 0.02, "low": -0.02, "high": 0.06}},
            "by_driver": [{"driver": "caseload_workload", "n": 40, "top1": 0.5, "top3": 0.8}],
            "confusion": [{"model_top_driver": "caseload_workload", "stated_reason": "caseload_workload", "n": 20}],
            "share_personal": 0.2}


def _png(path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    fig.savefig(path, dpi=50)
    plt.close(fig)
    return path


def _register_quickly(run_id: str) -> None:
    """A registry version pointing at the run (no pyfunc logged): the gate only needs the version and its run."""
    from mlflow.exceptions import MlflowException

    name = tracking.DEFAULT_MODEL_NAME
    try:
        tracking.client().get_registered_model(name)
    except MlflowException:
        tracking.client().create_registered_model(name)
    version = tracking.client().create_model_version(name, source=f"runs:/{run_id}/model", run_id=run_id)
    tracking.set_alias("candidate", version.version)


def log_evaluation(run_id: str, predictions: pd.DataFrame, metrics: dict, *, plot: bool = False) -> None:
    """Log evaluation/test_predictions.parquet and metrics.json (and a calibration.png) to the run, as training
    names them: all the gate reads."""
    with tempfile.TemporaryDirectory() as tmp:
        ev = Path(tmp) / "evaluation"
        ev.mkdir()
        predictions.to_parquet(ev / "test_predictions.parquet", index=False)
        (ev / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
        if plot:
            _png(ev / "calibration.png")
        for f in sorted(ev.iterdir()):
            tracking.log_artifact_file(run_id, f, "evaluation")


def make_fake_run(*, kind: str = "good", experiment: str = "fake", with_alignment: bool = True,
                  pyfunc: bool = False) -> str:
    """Log a fake training run (configure tracking first) and register a model version with alias candidate.

    ``pyfunc=True`` logs and registers a real (dummy logistic) pyfunc model through ``tracking.log_turnover_model``;
    otherwise the version is created directly in the registry, which is several times faster.
    """
    from sklearn.linear_model import LogisticRegression

    preds = fake_predictions(kind=kind)
    tags = {"retention_ml.data_fingerprint": "sha256:fake", "retention_ml.schema_version": "1",
            "retention_ml.package_version": "0.0-test", "retention_ml.git_commit": "deadbeef",
            "retention_ml.experiment": experiment, "retention_ml.simulated": "true"}
    with tracking.start_run(experiment, run_name=f"{experiment}-{kind}", tags=tags) as run:
        run_id = run.info.run_id
        log_evaluation(run_id, preds, fake_metrics(preds, kind=kind), plot=True)
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            ex = tmp / "explanations"
            ex.mkdir()
            if with_alignment:
                (ex / "alignment.json").write_text(json.dumps(fake_alignment()), encoding="utf-8")
            (ex / "truth.json").write_text(json.dumps({"n_leavers": 180, "top1": _interval(0.55), "top3": _interval(0.8),
                                                       "spearman_mean": 0.61, "spearman_median": 0.64,
                                                       "oracle_last_month": {"top1": _interval(0.6), "top3": _interval(0.83)}}),
                                           encoding="utf-8")
            pd.DataFrame({"driver": ["caseload_workload", "pay", "other"], "mean_abs_shap": [0.41, 0.22, 0.05]}).to_csv(
                ex / "driver_importance.csv", index=False)
            for f in sorted(ex.iterdir()):
                tracking.log_artifact_file(run_id, f, "explanations")
            pd.DataFrame({"feature": ["caseload_current"], "meaning": ["open cases"], "unit": ["cases"],
                          "driver": ["caseload_workload"], "family": ["caseload"]}).to_csv(tmp / "feature_catalogue.csv", index=False)
            pd.DataFrame({"window": ["test"], "censored": [321]}).to_csv(tmp / "censoring_report.csv", index=False)
            tracking.log_artifact_file(run_id, tmp / "feature_catalogue.csv")
            tracking.log_artifact_file(run_id, tmp / "censoring_report.csv")
        if pyfunc:
            X = pd.DataFrame({"caseload_current": np.linspace(5, 30, 40), "tenure_months": np.linspace(1, 100, 40)})
            dummy = LogisticRegression().fit(X, (X["caseload_current"] > 18).astype(int))
            tracking.log_turnover_model(run_id, dummy, X)
        else:
            _register_quickly(run_id)
    return run_id


@pytest.fixture(scope="module")
def store(tmp_path_factory, scratch_store):
    """One tmp MLflow store with runs: good, loses_to_logistic, miscalibrated_group, high_ece (cards written)."""
    from retention_ml.reports.model_card import write_card

    root = tmp_path_factory.mktemp("mlflow")
    with scratch_store(root):
        runs = {kind: make_fake_run(kind=kind, pyfunc=kind == "good")
                for kind in ("good", "loses_to_logistic", "miscalibrated_group", "unfair_ranking", "high_ece",
                             "too_high_overall")}
        runs["no_card"] = make_fake_run(kind="good")
        for kind, run_id in runs.items():
            if kind != "no_card":
                write_card(run_id, root / "cards" / kind)
        yield runs


def test_thresholds_file_is_complete_and_checked(tmp_path):
    from retention_ml.promotion import load_thresholds

    values = load_thresholds()
    assert 0 < values["max_ece"] < 0.2 and values["min_group"] == 20
    broken = tmp_path / "t.toml"
    broken.write_text("max_ece = 0.05\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing key 'require_card'"):
        load_thresholds(broken)


FAILING = {"loses_to_logistic": "beats_baselines", "miscalibrated_group": "group_calibration",
           # too high at every test date as well as over the window: both checks fail
           "too_high_overall": ("calibration_in_the_large", "calibration_by_date"),
           "unfair_ranking": "group_roc_auc",
           "high_ece": "calibration_ece", "no_card": "card_exists"}


@pytest.fixture(scope="module")
def gate_results(store):
    """Promote the good run first, then try every failing run; champion version after each attempt."""
    from retention_ml.promotion import promote

    good = promote(store["good"])
    results, champions = {"good": good}, {}
    for kind in FAILING:
        results[kind] = promote(store[kind])
        champions[kind] = tracking.alias_version("champion")
    champions["candidate"] = tracking.alias_version("candidate")
    return results, champions


def test_good_run_is_promoted_then_failing_runs_leave_champion_unchanged(store, gate_results):
    results, champions = gate_results
    assert results["good"].promoted and not results["good"].failed
    assert results["good"].champion_before is None and results["good"].champion_after == results["good"].version
    for kind, check in FAILING.items():
        result = results[kind]
        assert not result.promoted
        assert [c.name for c in result.failed] == ([check] if isinstance(check, str) else list(check)), (kind, result.as_dict())
        # nothing changed: champion still the good run's version after every refusal
        assert champions[kind].run_id == store["good"]
        assert result.champion_after == results["good"].version
    # the gate never touches the candidate alias
    assert champions["candidate"].run_id == store["no_card"]
    # the pass is recorded on the promoted version, and only there (approval reads it)
    from retention_ml import tracking
    from retention_ml.promotion import GATE_PASSED, GATE_TAG

    tags = {r: (tracking.model_version_for_run(store[r]).tags or {}).get(GATE_TAG) for r in ("good", *FAILING)}
    assert tags["good"] == GATE_PASSED and not any(tags[k] for k in FAILING)


def test_failed_check_names_the_group_and_numbers(gate_results):
    results, _ = gate_results
    detail = next(c.detail for c in results["miscalibrated_group"].failed)
    assert "area=South" in detail and "threshold 0.100" in detail
    assert "logistic: NOT beaten" in results["loses_to_logistic"].failed[0].detail
    ranking = results["unfair_ranking"].failed[0].detail
    assert "area=South" in ranking and "shortfall" in ranking
    assert "retention-ml card --run" in results["no_card"].failed[0].detail
    level = results["too_high_overall"].failed[0].detail
    assert "outside the bar 0.833 to 1.20" in level and "beyond chance" in level and "too high on average" in level
    assert "1,200 rows of 600 people, a person's rows at several test dates counted together" in level


def test_stricter_thresholds_refuse_the_good_run(store):
    from retention_ml.promotion import load_thresholds, run_checks

    strict = {**load_thresholds(), "min_test_leavers": 100_000, "max_ece": 0.001}
    checks = {c.name: c for c in run_checks(store["good"], strict)}
    failed = {name: c.detail for name, c in checks.items() if not c.passed}
    # the card (written with the shipped thresholds) must be re-written to print the bar applied
    assert list(failed) == ["test_leavers", "card_exists"] and "prints other thresholds" in failed["card_exists"]
    # a stricter ECE bar still fails only an ECE beyond chance: the good run's 0.015 is within its chance level
    assert "within chance" in checks["calibration_ece"].detail


def test_promote_command_exit_codes_and_json(store):
    from typer.testing import CliRunner

    from retention_ml.cli import app

    runner = CliRunner()
    ok = runner.invoke(app, ["promote", store["good"], "--json", "--dry-run"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["failed"] == []
    refused = runner.invoke(app, ["promote", store["high_ece"], "--json"])
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["failed"] == ["calibration_ece"]
    missing = runner.invoke(app, ["promote", "0123456789abcdef0123456789abcdef"])
    assert missing.exit_code == 2 and isinstance(missing.exception, SystemExit)


def test_promote_prints_the_checks_in_the_cards_words(store):
    # an analyst reads the terminal as a board reads the card: words, not codes (--json keeps the codes)
    from typer.testing import CliRunner

    from retention_ml.cli import app
    from retention_ml.reports.model_card import CHECK_LABELS

    refused = CliRunner().invoke(app, ["promote", store["high_ece"]], terminal_width=200)
    assert refused.exit_code == 1
    text = " ".join(refused.output.split())
    assert CHECK_LABELS["calibration_ece"] in text and CHECK_LABELS["test_leavers"] in text
    assert "calibration_ece" not in text and "test_leavers" not in text


def test_run_without_registered_version_cannot_be_promoted(store):
    from retention_ml.promotion import PromotionError, promote

    with tracking.start_run("fake", run_name="unregistered") as run:
        run_id = run.info.run_id
    with pytest.raises(PromotionError, match="no registered version"):
        promote(run_id)


@pytest.mark.parametrize("status", ["RUNNING", "FAILED"])
def test_a_run_that_did_not_finish_is_not_assessed_even_with_a_version_and_a_card(store, tmp_path, status):
    """A train that lost its server or failed after registering leaves a version whose record may be incomplete."""
    from retention_ml.promotion import PromotionError, promote
    from retention_ml.reports.model_card import write_card

    run_id = make_fake_run(kind="good")
    write_card(run_id, tmp_path / "card")
    assert promote(run_id, dry_run=True).checks   # finished, the same run is assessed
    tracking.client().update_run(run_id, status=status)
    with pytest.raises(PromotionError, match=f"did not finish \\(status {status}\\)"):
        promote(run_id, dry_run=True)


def test_run_registered_under_its_own_model_name_is_found(store, gate_results, tmp_path):
    """An experiment may register under its own name; the gate finds the run's version without being told."""
    from retention_ml.promotion import promote

    run_id = make_fake_run(kind="good", experiment="other")
    # move this run's version to another registered model name
    tracking.client().create_registered_model("other-model")
    tracking.client().create_model_version("other-model", source=f"runs:/{run_id}/model", run_id=run_id)
    tracking.client().delete_model_version(tracking.DEFAULT_MODEL_NAME, tracking.model_version_for_run(run_id).version)
    from retention_ml.reports.model_card import write_card

    write_card(run_id, tmp_path / "card")
    result = promote(run_id)
    assert result.model_name == "other-model" and result.promoted
    assert tracking.alias_version("champion", "other-model").run_id == run_id
    # the default model's champion is untouched
    assert tracking.alias_version("champion").run_id == store["good"]


def test_missing_or_nan_ece_does_not_pass():
    from retention_ml.promotion import _ece_check

    assert not _ece_check({}, 0.05).passed
    assert not _ece_check({"models": {"lightgbm": {"ece": {"value": float("nan")}}}}, 0.05).passed
    assert _ece_check({"models": {"lightgbm": {"ece": {"value": 0.05}}}}, 0.05).passed  # at the threshold passes


def test_departures_from_the_shipped_thresholds_say_which_way_the_bar_moved():
    from retention_ml.promotion import load_thresholds, threshold_departures, thresholds_note

    shipped = load_thresholds()
    assert threshold_departures(shipped) == [] and "shipped" in thresholds_note(shipped)
    stricter = threshold_departures({**shipped, "max_ece": 0.01, "min_test_leavers": 80, "group_family_alpha": 0.1})
    assert [d["key"] for d in stricter] == ["min_test_leavers", "max_ece", "group_family_alpha"]
    assert not any(d["lower_bar"] for d in stricter)
    looser = {**shipped, "require_beats_baselines": False, "max_group_roc_auc_shortfall": 0.9, "min_group": 30}
    assert [(d["key"], d["lower_bar"]) for d in threshold_departures(looser)] == [
        ("require_beats_baselines", True), ("max_group_roc_auc_shortfall", True), ("min_group", True)]
    note = thresholds_note(looser, "lenient.toml")
    assert "lenient.toml" in note and "LOWER the bar" in note and "max_group_roc_auc_shortfall 0.9 (shipped 0.1" in note


def test_a_pass_under_a_lowered_bar_is_recorded_on_the_version_the_lists_and_the_card(store, gate_results, tmp_path):
    """promote --thresholds with a looser bar: the card must print that bar, and the registry version, the
    approval every list repeats and the card all say it is below the shipped one (S10-A F13)."""
    from retention_ml.promotion import LOWER_BAR_TAG, THRESHOLDS_TAG, load_thresholds, promote
    from retention_ml.reports.model_card import write_card
    from retention_ml.reports.risk_list import approval_line
    from retention_ml.scoring import model_approval

    run_id = make_fake_run(kind="loses_to_logistic", experiment="lowered")
    # its own registered model, so the module's champion is untouched
    tracking.client().create_registered_model("lowered-model")
    tracking.client().create_model_version("lowered-model", source=f"runs:/{run_id}/model", run_id=run_id)
    tracking.client().delete_model_version(tracking.DEFAULT_MODEL_NAME, tracking.model_version_for_run(run_id).version)
    lenient = {**load_thresholds(), "require_beats_baselines": False}
    assert not promote(run_id).promoted   # the shipped bar refuses it (loses to the logistic baseline)
    write_card(run_id, tmp_path / "shipped_card")
    refused = promote(run_id, thresholds=lenient, source="lenient.toml")
    # a card printing the shipped bar cannot stand for a pass under another one
    assert not refused.promoted and [c.name for c in refused.failed] == ["card_exists"]
    assert "--thresholds FILE" in refused.failed[0].detail
    paths = write_card(run_id, tmp_path / "card", thresholds=lenient, thresholds_source="lenient.toml")
    card = paths["markdown"].read_text(encoding="utf-8")
    assert "LOWER the bar" in card and "require_beats_baselines false (shipped true: a LOWER bar" in card
    result = promote(run_id, thresholds=lenient, source="lenient.toml")
    assert result.promoted and result.lower_bar and result.as_dict()["lower_bar"] is True
    version = tracking.alias_version("champion", "lowered-model")
    assert version.tags[LOWER_BAR_TAG] == "true" and json.loads(version.tags[THRESHOLDS_TAG]) == lenient
    assert "LOWER the bar" in version.description and "lenient.toml" in version.description
    approval = model_approval(run_id)
    assert approval["status"] == "approved" and "require_beats_baselines false (shipped true" in approval["detail"]
    assert "LOWER the bar" in approval_line({"approval": approval})[1]
    # a pass under the shipped bar says so, and records no lower bar
    good = tracking.alias_version("champion")
    assert good.run_id == store["good"] and good.tags[LOWER_BAR_TAG] == "false"
    assert "shipped promotion thresholds" in model_approval(store["good"])["detail"]
