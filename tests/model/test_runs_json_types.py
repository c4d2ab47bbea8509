"""`retention-ml runs --json` gives each setting the type the experiment file declares: MLflow keeps parameters as
text, and the listing gave "horizon": "6", "seed": "42" beside "test n": 956, so a machine reader had to cast."""

import json

import mlflow
from typer.testing import CliRunner

from retention_ml import tracking
from retention_ml.cli import app
from retention_ml.experiment import experiment_from_dict
from retention_ml.training import model_params, run_params

runner = CliRunner()


def _logged_params(**keys) -> dict[str, str]:
    """A council run's parameters as training logs them (every experiment key, as MLflow stores them: text)."""
    exp = experiment_from_dict({"name": "x", "data": {"path": "/d"}, "seed": 42, **keys}) | {"overrides": []}
    return {k: str(v) for k, v in run_params(exp, model_params(exp)).items()} | {"window.test": "2023-01-01"}


def test_runs_json_gives_settings_their_declared_types(tmp_path, scratch_store):
    with scratch_store(tmp_path):
        experiment = tracking.get_or_create_experiment("e")
        ids = {}
        for name, params in {"council": _logged_params(label={"horizon_months": 6}),
                             # a flat run has no horizon: the council run's 6 must not become 6.0 beside its null
                             "flat": {"kind": "flat", "seed": "7", "model.learning_rate": "0.05",
                                      "window.test": "holdout"}}.items():
            with mlflow.start_run(experiment_id=experiment, run_name=name) as run:
                mlflow.log_params(params)
                mlflow.log_metrics({"test.n": 956, "test.leavers": 80})
            ids[name] = run.info.run_id
        res = runner.invoke(app, ["runs", "--json"])
    assert res.exit_code == 0, res.output
    rows = {r["run_id"]: r for r in json.loads(res.stdout)}
    council, flat = rows[ids["council"]], rows[ids["flat"]]
    top = {k: council[k] for k in ("kind", "horizon", "leaving", "agency", "freq", "constraints", "trials", "seed")}
    assert top == {"kind": "snapshots", "horizon": 6, "leaving": ["resignation"], "agency": "flag", "freq": 3,
                   "constraints": "drivers", "trials": 0, "seed": 42}
    assert type(council["horizon"]) is int and type(council["seed"]) is int and council["test n"] == 956
    assert flat["horizon"] is None and flat["seed"] == 7
    own = council["settings"]
    assert own["label.horizon_months"] == 6 and type(own["model.n_estimators"]) is int
    assert own["model.learning_rate"] == 0.07 and own["model.reg_lambda"] == 5.0
    assert own["evaluation.explain"] is True and own["model.extra_trees"] is False
    assert own["label.positive_reasons"] == ["resignation"] and own["population.agency"] == "flag"
    assert flat["settings"]["model.learning_rate"] == 0.05
    assert all(not isinstance(v, str) or not v.replace(".", "").isdigit() for v in own.values())


def test_a_value_that_does_not_read_as_its_declared_type_stays_as_logged():
    from retention_ml.commands.runs import typed_setting

    assert typed_setting("seed", "new") == "new"                   # an older or hand-logged run
    assert typed_setting("label.horizon_months", "6.0") == "6.0"   # not a whole number: not silently cut
    assert typed_setting("flat.positive", "1") == "1"              # declared as text, number or boolean: as logged
    assert typed_setting("overrides", "seed=3") == "seed=3"        # not an experiment key


def test_runs_help_says_json_settings_are_typed():
    res = runner.invoke(app, ["runs", "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    assert "--json gives each setting the type the experiment file declares" in " ".join(res.stdout.split())


def test_runs_table_names_the_leaving_reasons_not_their_python_list(tmp_path, scratch_store):
    """The narrow table read "leaving ['resignation']" (footer) and "leaving=['resignation', 'retirement']"."""
    from retention_ml.schema import load_schemas

    other = next(r for r in load_schemas()["workers"].column("leaving_reason").allowed_values() if r != "resignation")
    with scratch_store(tmp_path):
        experiment = tracking.get_or_create_experiment("e")
        for name, reasons in {"one": ["resignation"], "two": ["resignation", other]}.items():
            with mlflow.start_run(experiment_id=experiment, run_name=name):
                mlflow.log_params(_logged_params(label={"positive_reasons": reasons}))
        table = runner.invoke(app, ["runs"], env={"COLUMNS": "200"})
        alone = runner.invoke(app, ["runs", "--experiment", "e"], env={"COLUMNS": "200"})
        wide = runner.invoke(app, ["runs", "--wide"])
    assert table.exit_code == 0, table.output
    text = " ".join(table.stdout.split())
    assert f"leaving=resignation+{other}" in text and "leaving=resignation " in text
    assert "['" not in table.stdout
    assert f"leaving differs (resignation+{other}: " in text and "; resignation: " in text   # the warning, newest first
    assert "['" not in alone.stdout
    assert wide.exit_code == 0 and "['" not in wide.stdout and f"resignation+{other}" in wide.stdout


def test_a_flat_runs_band_edges_are_a_list_of_numbers_in_json(tmp_path, scratch_store):
    """flat.bands.<column> was logged as text ("[25, 35, 45]") and stayed text under --json, unlike every other key."""
    with scratch_store(tmp_path):
        experiment = tracking.get_or_create_experiment("e")
        with mlflow.start_run(experiment_id=experiment, run_name="flat") as run:
            mlflow.log_params({"kind": "flat", "seed": "7", "flat.bands.Age": str([25, 35, 45]),
                               "flat.drivers.OverTime": "work_life_balance", "window.test": "holdout"})
        res = runner.invoke(app, ["runs", "--json"])
    assert res.exit_code == 0, res.output
    (row,) = [r for r in json.loads(res.stdout) if r["run_id"] == run.info.run_id]
    assert row["settings"]["flat.bands.Age"] == [25, 35, 45]
    assert row["settings"]["flat.drivers.OverTime"] == "work_life_balance"
    from retention_ml.commands.runs import typed_setting

    assert typed_setting("flat.bands.Age", "25-35") == "25-35"   # not a list: as logged
