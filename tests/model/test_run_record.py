"""What a training run records in MLflow and how `retention-ml runs` sets runs side by side (S10-A F2, F3, F7, F10,
F14, F15, F17)."""

import json
import tomllib
from pathlib import Path

import mlflow
import pytest
import yaml
from typer.testing import CliRunner

from retention_ml import tracking, training
from retention_ml.cli import app
from retention_ml.experiment import load_experiment

REPO = Path(__file__).resolve().parents[2]
IBM = REPO / "experiments" / "ibm_hr.toml"
FAST = ["--set", "evaluation.n_boot=10", "--set", "model.n_bootstrap=0", "--set", "tuning.trials=0"]
runner = CliRunner()


def _log_run(name: str, params: dict, metrics: dict | None = None, **tags) -> str:
    """One run in experiment "e" with these params, metrics and tags (beside the experiment tag): its id."""
    from retention_ml import artifacts

    with mlflow.start_run(experiment_id=tracking.get_or_create_experiment("e"), run_name=name,
                          tags={artifacts.EXPERIMENT_TAG: "e", **tags}) as run:
        mlflow.log_params(params)
        mlflow.log_metrics(metrics or {})
    return run.info.run_id


def _table_blocks(ids: dict, monkeypatch) -> dict:
    """`runs`' 80-column table, as each run's folded lines (they begin at its id), by the names in ``ids``."""
    monkeypatch.setenv("COLUMNS", "80")
    res = runner.invoke(app, ["runs"])
    assert res.exit_code == 0, res.output
    blocks = res.stdout.split("\n ")
    return {name: next(b for b in blocks if b.startswith(run_id[:8])) for name, run_id in ids.items()}


def _sim_experiment(tmp_path: Path) -> Path:
    path = tmp_path / "sim.toml"
    path.write_text('name = "sim"\nseed = 3\n[data]\npath = "."\n[model]\nn_bootstrap = 0\n[evaluation]\nn_boot = 10\n'
                    "explain = false\n")
    return path


@pytest.fixture(scope="module")
def sim_runs(sim_dir, tmp_path_factory, scratch_store):
    """Two snapshot runs on the shared simulated data: the default (12-month label, agency flagged, quarterly) and a
    variant with a 6-month label, agency workers excluded and half-yearly snapshots. Yields (store folder, ids)."""
    root = tmp_path_factory.mktemp("runs")
    exp = _sim_experiment(root)
    with scratch_store(root):
        ids = []
        for extra in ([], ["--set", "label.horizon_months=6", "--set", "population.agency=exclude",
                           "--set", "snapshots.frequency_months=6"]):
            res = runner.invoke(app, ["train", str(exp), "--set", f"data.path={sim_dir}", *extra, "--json"])
            assert res.exit_code == 0, res.output
            ids.append(json.loads(res.stdout)["run_id"])
        yield root, ids


def test_params_are_the_experiment_keys_under_their_own_names(sim_runs, sim_dir, scratch_store):
    root, (default, variant) = sim_runs
    with scratch_store(root):
        params = tracking.client().get_run(variant).data.params
        assert params["population.agency"] == "exclude" and params["snapshots.frequency_months"] == "6"
        assert params["label.horizon_months"] == "6" and params["data.path"] == str(Path(sim_dir).resolve())
        assert params["split.valid_periods"] == "1" and params["evaluation.n_boot"] == "10"
        # the old names are gone, and a snapshot run carries no flat-extract keys
        assert not {"label.agency", "data_path", "flat.positive", "split.test_fraction", "model.cv_folds"} & set(params)
        found = mlflow.search_runs(experiment_names=["sim"], filter_string="params.population.agency = 'exclude'")
        assert found["run_id"].tolist() == [variant]
        # the run's name says what it changed (not the data path: that is the fingerprint tag)
        name = tracking.client().get_run(variant).info.run_name
        assert name == "sim label.horizon_months=6 population.agency=exclude snapshots.frequency_months=6"
        assert tracking.client().get_run(default).info.run_name == "sim"


def test_runs_shows_what_differs_and_warns_that_the_runs_are_not_comparable(sim_runs, scratch_store):
    root, (default, variant) = sim_runs
    with scratch_store(root):
        res = runner.invoke(app, ["runs", "--json"])
        assert res.exit_code == 0, res.output
        rows = {r["run_id"]: r for r in json.loads(res.stdout)}
        assert (rows[default]["horizon"], rows[default]["agency"], rows[default]["freq"]) == (12, "flag", 3)
        assert (rows[variant]["horizon"], rows[variant]["agency"], rows[variant]["freq"]) == (6, "exclude", 6)
        assert rows[default]["cmp"] != rows[variant]["cmp"]
        assert rows[default]["test window"] != rows[variant]["test window"]
        assert "horizon differs" in res.stderr and "agency differs" in res.stderr
        # full precision in JSON: the logged metric itself, not a rounded copy
        logged = tracking.client().get_run(default).data.metrics["lightgbm.roc_auc"]
        assert rows[default]["auc"] == pytest.approx(logged, rel=1e-12)


def test_runs_fits_80_columns_with_every_number_whole(sim_runs, scratch_store, monkeypatch):
    root, (default, variant) = sim_runs
    with scratch_store(root):
        monkeypatch.setenv("COLUMNS", "80")
        res = runner.invoke(app, ["runs"])
        assert res.exit_code == 0, res.output
        lines = res.stdout.splitlines()
        assert max(len(line) for line in lines) <= 80
        assert "…" not in res.stdout   # nothing ellipsised
        table = tracking.search_runs()
        for run_id, auc, brier in zip(table["run_id"], table["metrics.lightgbm.roc_auc"], table["metrics.lightgbm.brier"]):
            row = next(line for line in lines if line.strip().startswith(run_id[:8]))
            assert f"{auc:.3f}" in row and f"{brier:.3f}" in row
        assert "horizon=6" in res.stdout and "agency=exclude" in res.stdout
        assert "WARNING: these runs do not all measure the same thing" in res.stdout
        wide = runner.invoke(app, ["runs", "--wide"])
        assert wide.exit_code == 0 and "test leavers" in wide.stdout and default[:8] in wide.stdout


def test_json_records_become_run_metrics(mlflow_store):
    """The headline figures of the truth check and the exit-interview alignment are run metrics (MLflow's compare
    view and `runs` show them), logged where their JSON is logged."""
    with mlflow.start_run() as run:
        pass
    tracking.log_json(run.info.run_id, {"top1": {"value": 0.25}, "top3": {"value": 0.5},
                                        "difference_vs_global": {"top3": {"value": 0.125}}}, "explanations/alignment.json")
    tracking.log_json(run.info.run_id, {"top3": {"value": 0.4}, "top_decile": {"top1": {"value": 0.3},
                                                                               "top3": {"value": 0.7}}},
                      "explanations/truth.json")
    tracking.log_json(run.info.run_id, {"top3": {"value": 0.9}}, "evaluation/other.json")   # not a headline record
    metrics = tracking.client().get_run(run.info.run_id).data.metrics
    assert metrics == {"alignment.top1": 0.25, "alignment.top3": 0.5, "alignment.top3_vs_global": 0.125,
                       "truth.top3": 0.4, "truth.top_decile_top1": 0.3, "truth.top_decile_top3": 0.7}


def test_runs_filters_by_the_experiment_name_it_shows(mlflow_store):
    res = runner.invoke(app, ["train", str(IBM), *FAST, "--set", "mlflow_experiment=hr-trials", "--json"])
    assert res.exit_code == 0, res.output
    run_id = json.loads(res.stdout)["run_id"]
    for name in ("ibm_hr", "hr-trials"):   # the experiment file's name (shown) and the MLflow experiment's
        listed = runner.invoke(app, ["runs", "--experiment", name, "--json"])
        assert listed.exit_code == 0, listed.output
        rows = json.loads(listed.stdout)
        assert [r["run_id"] for r in rows] == [run_id]
        assert (rows[0]["experiment"], rows[0]["mlflow_experiment"]) == ("ibm_hr", "hr-trials")


def test_logged_experiment_keeps_its_format_and_the_effective_one_reproduces_the_run(mlflow_store, tmp_path):
    source = tomllib.loads(IBM.read_text())
    source["data"]["path"] = str((IBM.parent / source["data"]["path"]).resolve())
    path = tmp_path / "ibm.yaml"
    path.write_text(yaml.safe_dump(source))
    overrides = ["evaluation.n_boot=10", "model.n_bootstrap=0", "tuning.trials=0", "model.min_child_samples=30"]
    exp = load_experiment(path, overrides=overrides)
    result = training.train_experiment(exp)
    logged = tracking.list_artifacts(result.run_id)
    assert "experiment.yaml" in logged and "experiment.toml" not in logged
    assert yaml.safe_load((Path(tracking.download_artifact(result.run_id, "experiment.yaml", tmp_path / "a"))).read_text()) == source
    effective = tracking.download_artifact(result.run_id, "experiment_effective.toml", tmp_path / "b")
    again = load_experiment(effective)   # no --set: the overrides are in the file, the data path absolute
    drop = ("source", "source_text", "overrides")
    assert {k: v for k, v in again.items() if k not in drop} == {k: v for k, v in exp.items() if k not in drop}
    assert again["model"]["min_child_samples"] == 30
    rerun = training.train_experiment(again, log=False)
    assert json.dumps(rerun.metrics, sort_keys=True, default=str) == json.dumps(result.metrics, sort_keys=True, default=str)


def test_code_version_says_when_the_package_had_local_changes(monkeypatch):
    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "version", lambda name: "9.9.9" if name == "retention-ml" else "0")
    answers = {"rev-parse": "abc123\n", "status": " M retention_ml/model.py\n M retention_ml/flat.py\n"}
    monkeypatch.setattr(training, "_git", lambda *args: answers[args[0]])
    tags = training.code_version()
    assert tags == {"retention_ml.package_version": "9.9.9", "retention_ml.git_commit": "abc123-dirty",
                    "retention_ml.git_changes": "2 changed: retention_ml/model.py, retention_ml/flat.py"}
    answers["status"] = ""
    assert training.code_version() == {"retention_ml.package_version": "9.9.9", "retention_ml.git_commit": "abc123"}


def test_runs_of_a_store_without_runs_says_so(mlflow_store):
    tracking.get_or_create_experiment("empty")
    for args in (["runs"], ["runs", "--experiment", "empty", "--wide"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 0 and res.exception is None, res.output
        assert "no training runs" in res.stdout
    assert json.loads(runner.invoke(app, ["runs", "--json"]).stdout) == []


def test_runs_shows_every_experiment_key_a_run_changed(tmp_path, scratch_store, monkeypatch):
    """Analyst review S12 F2: runs trained with --set model.learning_rate=0.03 or snapshots.start=... showed nothing in
    `differs` (only the fixed SETTINGS columns), so two runs with different AUCs looked identical."""

    base = {"kind": "snapshots", "seed": "42", "label.horizon_months": "12", "label.positive_reasons": "['resignation']",
            "population.agency": "flag", "snapshots.frequency_months": "3", "model.constraints": "drivers",
            "tuning.trials": "0", "model.learning_rate": "0.07", "model.num_leaves": "15", "window.test": "2022-01-01",
            "data.path": "/d", "overrides": ""}
    changes = {"plain": {}, "slow": {"model.learning_rate": "0.03"}, "early": {"snapshots.start": "2015-01-01"},
               "plain2": {}}
    with scratch_store(tmp_path):
        ids = {name: _log_run(name, base | change, {"lightgbm.roc_auc": 0.7}) for name, change in changes.items()}
        own = _table_blocks(ids, monkeypatch)
        assert "learning_rate=0.03" in own["slow"] and "start=2015-01-01" in own["early"]
        # only the run that departs from the others says so; the usual value is not repeated on every row
        assert "learning_rate" not in own["plain"] + own["early"] and "start=" not in own["plain"] + own["slow"]
        wide = runner.invoke(app, ["runs", "--wide"])
        assert "model.learning_rate" in wide.stdout and "snapshots.start" in wide.stdout
        rows = {r["run_id"]: r for r in json.loads(runner.invoke(app, ["runs", "--json"]).stdout)}
        assert rows[ids["slow"]]["settings"]["model.learning_rate"] == 0.03   # typed as declared (--json)
        assert "data.path" not in rows[ids["slow"]]["settings"]   # the data column's fingerprint says that


def test_runs_shows_the_code_when_runs_were_trained_by_different_code(tmp_path, scratch_store, monkeypatch):
    """Analyst review S12 F5: two national runs with the same settings, data and seed (b3583c9f, 0ea822f5) showed
    different metrics and nothing in `runs` said why: they were trained by different commits."""
    from retention_ml import artifacts

    params = {"kind": "snapshots", "seed": "42", "label.horizon_months": "12", "window.test": "2022-01-01"}
    commits = {"old": "e6519e54c5971b343d29782a71f42e3f12699258", "new": "2b48d253540dd90f3bcb5ecd64857db9963197e4-dirty"}
    with scratch_store(tmp_path):
        ids = {name: _log_run(name, params, **{artifacts.GIT_COMMIT_TAG: commit}) for name, commit in commits.items()}
        own = _table_blocks(ids, monkeypatch)
        assert "code=e6519e54" in own["old"] and "code=2b48d253-dirty" in own["new"]
        rows = {r["run_id"]: r for r in json.loads(runner.invoke(app, ["runs", "--json"]).stdout)}
        assert rows[ids["new"]]["code"] == commits["new"]
        # one commit for every listed run: said once, under the table
        mlflow.MlflowClient().set_tag(ids["old"], artifacts.GIT_COMMIT_TAG, commits["new"])
        res = runner.invoke(app, ["runs"])
        assert "code=" not in res.stdout and "code 2b48d253-dirty" in res.stdout


def test_runs_shows_each_auc_with_its_interval(tmp_path, scratch_store, monkeypatch):
    """Analyst review S14: `runs` listed seed=7 at AUC 0.669 and seed=42 at 0.685 with no interval anywhere (table,
    --wide, --json), though each run logs one ([0.60, 0.74] and [0.63, 0.77]): the listing read as a ranking of
    runs the test window cannot tell apart."""

    params = {"kind": "snapshots", "seed": "42", "label.horizon_months": "12", "window.test": "2022-01-01"}
    figures = {"s42": (0.6848, 0.6278, 0.7660), "s7": (0.6695, 0.6044, 0.7423)}
    with scratch_store(tmp_path):
        ids = {name: _log_run(name, params | {"seed": name[1:]}, {
            "lightgbm.roc_auc": value, "lightgbm.roc_auc.low": low, "lightgbm.roc_auc.high": high,
            "lightgbm.brier": 0.09, "lightgbm.brier.low": 0.07, "lightgbm.brier.high": 0.11,
            "logistic.roc_auc": 0.63, "logistic.roc_auc.low": 0.56, "logistic.roc_auc.high": 0.71})
            for name, (value, low, high) in figures.items()}
        monkeypatch.setenv("COLUMNS", "80")
        res = runner.invoke(app, ["runs"])
        assert res.exit_code == 0, res.output
        lines = res.stdout.splitlines()
        assert max(len(line) for line in lines) <= 80
        for name, run_id in ids.items():
            at = next(i for i, line in enumerate(lines) if line.strip().startswith(run_id[:8]))
            value, low, high = figures[name]
            assert f"{value:.3f}" in lines[at]
            assert f"{low:.2f}-{high:.2f}".replace("0.", ".") in lines[at + 1]   # beneath its value
        assert "95% interval over workers" in res.stdout
        rows = {r["run_id"]: r for r in json.loads(runner.invoke(app, ["runs", "--json"]).stdout)}
        assert (rows[ids["s7"]]["auc low"], rows[ids["s7"]]["auc high"]) == pytest.approx(figures["s7"][1:])
        assert (rows[ids["s42"]]["brier low"], rows[ids["s42"]]["brier high"]) == pytest.approx((0.07, 0.11))
        assert (rows[ids["s42"]]["logistic auc low"], rows[ids["s42"]]["logistic auc high"]) == pytest.approx((0.56, 0.71))
        wide = runner.invoke(app, ["runs", "--wide"])
        assert "auc low" in wide.stdout and "0.6044" in wide.stdout


def test_runs_names_a_changed_driver_mapping_with_its_key(tmp_path, scratch_store, monkeypatch):
    """Analyst review S14: a flat run whose flat.drivers.CommuteKm was removed showed "CommuteKm=-" in differs,
    which did not say that the column's driver, not the column, had changed."""

    base = {"kind": "flat", "seed": "1", "flat.label": "Left", "flat.drivers.Salary": "pay",
            "flat.drivers.CommuteKm": "commute", "data.path": "/d.csv"}
    with scratch_store(tmp_path):
        ids = {name: _log_run(name, params) for name, params in (
            ("mapped", base), ("unmapped", {k: v for k, v in base.items() if "CommuteKm" not in k}), ("mapped2", base))}
        own = _table_blocks(ids, monkeypatch)["unmapped"]
        assert "drivers.CommuteKm=-" in own


def test_the_experiments_description_is_the_runs_description_in_the_ui(mlflow_store):
    # Analyst review S14: the file's `description` was logged nowhere (not a parameter, tag or note), so MLflow's
    # run page showed no word of what the analyst wrote the run for.
    res = runner.invoke(app, ["train", str(IBM), *FAST, "--set", 'description="pilot: stumps only"',
                              "--set", "model.num_leaves=2", "--json"])
    assert res.exit_code == 0, res.output
    tags = tracking.client().get_run(json.loads(res.stdout)["run_id"]).data.tags
    assert tags[tracking.RUN_NOTE_TAG] == "pilot: stumps only"


def test_a_flat_run_says_why_it_has_no_explanations(mlflow_store):
    # Analyst review S14: a flat extract with evaluation.explain = true (the default) logged no explanations, no
    # beeswarm and no tag, while its parameters said explain True; and train's printout said of the extract file
    # that "the folder has no simulator output".
    import re

    res = runner.invoke(app, ["train", str(IBM), *FAST, "--set", "evaluation.explain=true"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.stdout.split())
    assert "Simulated data: no (a one-row-per-employee extract file" in text and "the folder" not in text
    run_id = re.search(r"run ([0-9a-f]{32})", text).group(1)
    assert tracking.client().get_run(run_id).data.tags["retention_ml.explanations"] == training.FLAT_NOT_EXPLAINED
    assert "explanations" not in tracking.list_artifacts(run_id)


def test_runs_json_counts_are_whole_and_its_failure_carries_the_exit_code(tmp_path, scratch_store, monkeypatch):
    # Analyst review S14: `runs --json` gave "test n": 582.0, and its failure lacked the exit_code every other
    # command's JSON failure carries (retention_ml.commands.fail).
    with scratch_store(tmp_path):
        run_id = _log_run("r", {"kind": "snapshots", "window.test": "2022-01-01"}, {"test.n": 582, "test.leavers": 64})
        rows = json.loads(runner.invoke(app, ["runs", "--json"]).stdout)
        assert rows[0]["run_id"] == run_id and rows[0]["test n"] == 582 and rows[0]["test leavers"] == 64
        assert isinstance(rows[0]["test n"], int)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'missing' / 'mlflow.db'}")
    res = runner.invoke(app, ["runs", "--json"])
    assert res.exit_code == 2 and json.loads(res.stdout)["exit_code"] == 2


def test_runs_says_which_run_is_a_repeat_and_whether_it_reproduced(tmp_path, scratch_store, monkeypatch):
    """Analyst review S14: two runs of the same file, data, seed and code (ed17178d, 79ea6046) were two rows nothing
    told apart or tied together, and a re-run that did not reproduce would have looked like another run."""
    from retention_ml import artifacts

    params = {"kind": "snapshots", "seed": "42", "label.horizon_months": "12", "window.test": "2022-01-01",
              "model.learning_rate": "0.07"}
    runs = [("original", params, 0.685), ("again", params, 0.685), ("drifted", params, 0.671),
            ("other seed", params | {"seed": "7"}, 0.669)]
    with scratch_store(tmp_path):
        same = {artifacts.DATA_FINGERPRINT_TAG: "d" * 64, artifacts.GIT_COMMIT_TAG: "c" * 40}
        ids = {name: _log_run(name, logged, {"lightgbm.roc_auc": auc, "lightgbm.brier": 0.09}, **same)
               for name, logged, auc in runs}   # oldest first
        monkeypatch.setenv("COLUMNS", "80")
        res = runner.invoke(app, ["runs"])
        assert res.exit_code == 0, res.output
        lines = res.stdout.splitlines()
        starts = {name: next(i for i, line in enumerate(lines) if line.strip().startswith(run_id[:8]))
                  for name, run_id in ids.items()}
        ends = sorted(starts.values()) + [len(lines)]
        # a run's folded lines, up to the next run's first line; the differs cell folds, so its words are read in order
        blocks = {name: " ".join(" ".join(lines[i:ends[ends.index(i) + 1]]).split()) for name, i in starts.items()}
        assert f"repeat of {ids['original'][:8]}" in blocks["again"] and "differ" not in blocks["again"]
        assert f"repeat of {ids['original'][:8]} (metrics" in blocks["drifted"] and "differ!)" in blocks["drifted"]
        assert "repeat" not in blocks["original"] + blocks["other seed"]
        rows = {r["run_id"]: r for r in json.loads(runner.invoke(app, ["runs", "--json"]).stdout)}
        assert rows[ids["again"]]["repeat of"] == ids["original"] and rows[ids["again"]]["reproduced"] is True
        assert rows[ids["drifted"]]["reproduced"] is False and rows[ids["original"]]["repeat of"] is None
