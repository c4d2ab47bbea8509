"""Experiment files: defaults, unknown keys and bad values name the file and key, --set overrides, paths."""

from pathlib import Path

import pytest

from retention_ml.experiment import ExperimentError, load_experiment, parse_override

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path, text, name="exp.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = 'name = "x"\n[data]\npath = "data"\n'


@pytest.mark.parametrize("name", ["council_default.toml", "ibm_hr.toml"])
def test_shipped_experiments_load(name):
    exp = load_experiment(REPO / "experiments" / name)
    assert exp["name"] == name.removesuffix(".toml")
    assert Path(exp["data"]["path"]).is_absolute()


def test_ibm_data_path_points_at_the_packaged_copy():
    exp = load_experiment(REPO / "experiments" / "ibm_hr.toml")
    assert Path(exp["data"]["path"]).is_file()


def test_defaults_fill_in_and_relative_path_is_against_the_file(tmp_path):
    exp = load_experiment(write(tmp_path, MINIMAL))
    assert exp["label"]["horizon_months"] == 12 and exp["kind"] == "snapshots"
    assert exp["data"]["path"] == str((tmp_path / "data").resolve())


def test_set_path_is_against_the_working_directory(tmp_path, monkeypatch):
    path = write(tmp_path, MINIMAL)
    monkeypatch.chdir(tmp_path.parent)
    exp = load_experiment(path, overrides=["data.path=elsewhere"])
    assert exp["data"]["path"] == str((tmp_path.parent / "elsewhere").resolve())


@pytest.mark.parametrize(
    "text, key",
    [
        (MINIMAL + "[model]\nlerning_rate = 0.1\n", "model.lerning_rate"),
        ("colour = 1\n" + MINIMAL, "colour"),
        (MINIMAL + "[label]\nhorizon_months = 0\n", "label.horizon_months"),
        (MINIMAL + "[label]\nhorizon_months = \"twelve\"\n", "label.horizon_months"),
        (MINIMAL + "[population]\nagency = \"sometimes\"\n", "population.agency"),
        (MINIMAL + "[population]\nagency = \"include\"\n", "population.agency"),
        (MINIMAL + "[label]\npositive_reasons = [\"resignaton\"]\n", "label.positive_reasons"),
        (MINIMAL + "[label]\npositive_reasons = []\n", "label.positive_reasons"),
        (MINIMAL + "[snapshots]\nstart = \"2024-13-01\"\n", "snapshots.start"),
        ("seed = true\n" + MINIMAL, "seed"),
        ('[data]\npath = "d"\n', "name"),
        ('name = "x"\n', "data.path"),
        ('kind = "flat"\n' + MINIMAL, "flat.label"),
    ],
)
def test_bad_files_name_file_and_key(tmp_path, text, key):
    path = write(tmp_path, text)
    with pytest.raises(ExperimentError) as info:
        load_experiment(path)
    assert str(path) in str(info.value) and f"'{key}'" in str(info.value)


def test_unparseable_file_names_the_file(tmp_path):
    path = write(tmp_path, "name = \n")
    with pytest.raises(ExperimentError, match="cannot parse"):
        load_experiment(path)


def test_overrides_are_typed_and_validated(tmp_path):
    path = write(tmp_path, MINIMAL)
    exp = load_experiment(path, overrides=["label.horizon_months=6", "model.learning_rate=0.1", "label.positive_reasons=[\"resignation\", \"other\"]"])
    assert exp["label"]["horizon_months"] == 6 and exp["model"]["learning_rate"] == 0.1
    assert exp["label"]["positive_reasons"] == ["resignation", "other"]
    with pytest.raises(ExperimentError, match="'model.learning_rate'"):
        load_experiment(path, overrides=["model.learning_rate=2"])
    with pytest.raises(ExperimentError, match="'model.nope'"):
        load_experiment(path, overrides=["model.nope=1"])
    with pytest.raises(ExperimentError, match="key=value"):
        load_experiment(path, overrides=["model.learning_rate"])


def test_parse_override_keeps_bare_words_as_text():
    assert parse_override("population.agency=exclude") == (["population", "agency"], "exclude")
    assert parse_override("seed=7") == (["seed"], 7)


def test_yaml_experiment(tmp_path):
    path = write(tmp_path, "name: y\ndata:\n  path: d\nlabel:\n  horizon_months: 6\n", "exp.yaml")
    assert load_experiment(path)["label"]["horizon_months"] == 6


def test_agency_modes_are_the_label_rules_modes(tmp_path):
    # The README documents flag | exclude | only; each must load and reach the label rule unchanged.
    from retention_ml.labels import LabelConfig

    for mode in ("flag", "exclude", "only"):
        exp = load_experiment(write(tmp_path, MINIMAL), overrides=[f"population.agency={mode}"])
        assert LabelConfig(agency=exp["population"]["agency"]).agency == mode


def test_setting_a_section_to_a_value_says_it_is_a_section(tmp_path):
    with pytest.raises(ExperimentError, match="'label' is a section, not a value.*label.horizon_months"):
        load_experiment(write(tmp_path, MINIMAL), overrides=["label=5"])


@pytest.mark.parametrize("value", ["true", "false"])
def test_simulated_is_not_a_setting(tmp_path, value):
    # `data.simulated = true` in council_default.toml told a real council its model was a simulation.
    # Whether data are simulated is read from the folder (retention-ml train); the key is refused with why,
    # in the file and with --set alike.
    with pytest.raises(ExperimentError, match=r"'data.simulated' is no longer a setting.*read from the data folder"):
        load_experiment(write(tmp_path, MINIMAL + f"simulated = {value}\n"))
    with pytest.raises(ExperimentError, match=r"'data.simulated' is no longer a setting"):
        load_experiment(write(tmp_path, MINIMAL), overrides=[f"data.simulated={value}"])


def test_natural_toml_values_of_text_keys_are_taken_as_text(tmp_path):
    # Reviewer S10-A F11: a TOML date (unquoted, as the "YYYY-MM-DD" message asks) and a number for a 1/0
    # outcome column were refused as "must be str"; the same values given with --set parse the same way.
    dated = write(tmp_path, MINIMAL + '[snapshots]\nstart = 2022-01-01\n', "dated.toml")
    exp = load_experiment(dated, overrides=["snapshots.end=2024-06-01"])
    assert exp["snapshots"]["start"] == "2022-01-01" and exp["snapshots"]["end"] == "2024-06-01"
    with pytest.raises(ExperimentError, match="'snapshots.start' must be a date YYYY-MM-DD"):
        load_experiment(dated, overrides=["snapshots.start=2022-01-01T10:00:00"])
    path = tmp_path / "natural.toml"
    path.write_text('name = "n"\nkind = "flat"\n[data]\npath = "x.csv"\n'
                    '[flat]\nlabel = "Left"\npositive = 1\nnegative = 0\n', encoding="utf-8")
    exp = load_experiment(path)
    assert exp["flat"]["positive"] == "1" and exp["flat"]["negative"] == "0"
    assert load_experiment(path, overrides=["flat.positive=true", "flat.negative=false"])["flat"]["positive"] == "True"
    with pytest.raises(ExperimentError, match="'flat.positive' must be str, got 1.5"):
        load_experiment(path, overrides=["flat.positive=1.5"])


FLAT = 'name = "f"\nkind = "flat"\n[data]\npath = "x.csv"\n[flat]\nlabel = "Left"\n'


@pytest.mark.parametrize("text, override, key", [
    (MINIMAL, "split.test_fraction=0.5", "split.test_fraction"),
    (MINIMAL, "model.cv_folds=3", "model.cv_folds"),
    (MINIMAL, 'flat.label="Left"', "flat.label"),
    (FLAT, "label.horizon_months=6", "label.horizon_months"),
    (FLAT, 'population.agency="exclude"', "population.agency"),
    (FLAT, "snapshots.frequency_months=1", "snapshots.frequency_months"),
    (FLAT, "split.test_periods=2", "split.test_periods"),
])
def test_a_key_the_kind_does_not_use_is_refused(tmp_path, text, override, key):
    # Analyst review S12 F1: `train ibm_hr.toml --set label.horizon_months=6` trained the same model as without it
    # under the name "ibm_hr horizon_months=6", and `runs` listed it as another run; in the file or with --set alike.
    with pytest.raises(ExperimentError, match=rf"\(with --set {override}\): key '{key}' is not used when kind"):
        load_experiment(write(tmp_path, text), overrides=[override])
    section, _, name = key.partition(".")
    value = override.partition("=")[2]
    with pytest.raises(ExperimentError, match=rf"exp2.toml: key '{key}' is not used when kind"):
        load_experiment(write(tmp_path, text + f"[{section}]\n{name} = {value}\n", "exp2.toml"))


def test_a_default_value_of_a_key_the_kind_does_not_use_still_loads(tmp_path):
    # experiment_effective.toml of earlier runs lists every key with its default, whatever the kind
    exp = load_experiment(write(tmp_path, MINIMAL + "[split]\ntest_fraction = 0.25\n[model]\ncv_folds = 5\n"))
    assert exp["split"]["test_fraction"] == 0.25
    assert load_experiment(write(tmp_path, FLAT, "f.toml"), overrides=["label.horizon_months=12"])["kind"] == "flat"


@pytest.mark.parametrize("text", [MINIMAL, FLAT])
def test_the_effective_experiment_holds_only_the_keys_its_kind_uses_and_loads_again(tmp_path, text):
    import tomllib

    from retention_ml.experiment import unused_by_kind
    from retention_ml.tracking import flatten
    from retention_ml.training import effective_experiment

    exp = load_experiment(write(tmp_path, text))
    before = repr(exp)
    written = write(tmp_path, effective_experiment(exp), "effective.toml")
    keys = flatten(tomllib.loads(written.read_text()))
    assert keys and not [k for k in keys if unused_by_kind(k, exp["kind"])]
    assert repr(exp) == before   # the experiment itself keeps every key
    drop = ("source", "source_text", "overrides")
    assert {k: v for k, v in load_experiment(written).items() if k not in drop} == {k: v for k, v in exp.items() if k not in drop}


def test_a_snapshot_start_after_its_end_is_refused_in_the_file_and_with_set(tmp_path):
    # Analyst review S12 F4: it reached the data ("could not train: ValueError: snapshots from ... hold no date")
    path = write(tmp_path, MINIMAL + "[snapshots]\nstart = 2021-06-01\nend = 2020-01-01\n")
    with pytest.raises(ExperimentError, match=r"exp.toml: key 'snapshots.start' \(2021-06-01\) is after 'snapshots.end' \(2020-01-01\)"):
        load_experiment(path)
    ok = write(tmp_path, MINIMAL + "[snapshots]\nstart = 2020-01-01\nend = 2020-01-01\n", "ok.toml")
    assert load_experiment(ok)["snapshots"]["end"] == "2020-01-01"
    with pytest.raises(ExperimentError, match=r"with --set snapshots.end=2019-12-01\): key 'snapshots.start'"):
        load_experiment(ok, overrides=["snapshots.end=2019-12-01"])


def test_an_unknown_key_says_where_it_probably_belongs(tmp_path):
    # Analyst review S12 F7: a key written under the wrong [header] (or above the first one) got only the list of
    # the section's known keys, which does not hold it
    above = write(tmp_path, 'name = "x"\nhorizon_months = 6\n[data]\npath = "d"\n', "above.toml")
    with pytest.raises(ExperimentError, match=r"above.toml: unknown key 'horizon_months': did you mean "
                                              r"'label.horizon_months' \(under \[label\]\)\?"):
        load_experiment(above)
    under = write(tmp_path, MINIMAL + "seed = 3\n", "under.toml")
    with pytest.raises(ExperimentError, match=r"unknown key 'data.seed': did you mean the top-level 'seed'"):
        load_experiment(under)
    with pytest.raises(ExperimentError, match=r"unknown key 'model.lerning_rate': did you mean 'model.learning_rate'\?"):
        load_experiment(write(tmp_path, MINIMAL), overrides=["model.lerning_rate=0.1"])
    with pytest.raises(ExperimentError, match=r"unknown key 'model.zzz' \(known: "):
        load_experiment(write(tmp_path, MINIMAL), overrides=["model.zzz=1"])


def test_a_misspelt_section_header_is_named_as_the_section_it_means(tmp_path):
    # '[lable]' got the list of known keys only: the close-spelling search looked at top-level values, not sections.
    path = write(tmp_path, MINIMAL + "[lable]\nhorizon_months = 6\n", "typo.toml")
    with pytest.raises(ExperimentError, match=r"typo.toml: unknown key 'lable': did you mean the section \[label\]\?"):
        load_experiment(path)
    with pytest.raises(ExperimentError, match=r"unknown key 'sed': did you mean 'seed'\?"):   # a value still wins
        load_experiment(write(tmp_path, MINIMAL.replace('name = ', 'sed = 3\nname = ', 1), "sed.toml"))


def test_train_prints_a_bracketed_section_name_as_written(tmp_path):
    # rich read "[label]" in the message as markup and printed nothing in its place
    from typer.testing import CliRunner

    from retention_ml.cli import app

    path = write(tmp_path, 'name = "x"\nhorizon_months = 6\n[data]\npath = "d"\n')
    res = CliRunner().invoke(app, ["train", str(path)])
    assert res.exit_code == 2
    assert "(under [label])" in " ".join(res.output.split())


def test_train_fails_through_the_shared_failure_helper(tmp_path):
    # style: JSON failures via retention_ml.commands.fail (train had its own, without exit_code)
    import json

    from typer.testing import CliRunner

    from retention_ml.cli import app

    res = CliRunner().invoke(app, ["train", str(write(tmp_path, MINIMAL + "zzz = 1\n")), "--json"])
    assert res.exit_code == 2
    assert json.loads(res.stdout) == {"ok": False, "error": json.loads(res.stdout)["error"], "exit_code": 2}
    assert "unknown key 'data.zzz'" in json.loads(res.stdout)["error"]


def test_a_flat_extract_without_registered_model_is_not_registered_as_the_council_model(tmp_path):
    # Analyst review S14: a flat experiment file without registered_model registered as retention-ml-turnover, so in
    # a fresh store `train council_default.toml` was then refused ("holds flat models"), and a promoted flat model
    # would be what score's models:/retention-ml-turnover@champion loads.
    from retention_ml.experiment import FLAT_REGISTERED_MODEL

    flat = load_experiment(write(tmp_path, FLAT))
    assert flat["registered_model"] == FLAT_REGISTERED_MODEL != load_experiment(write(tmp_path, MINIMAL, "s.toml"))["registered_model"]
    named = load_experiment(write(tmp_path, FLAT, "n.toml"), overrides=['registered_model="hr-pilot"'])
    assert named["registered_model"] == "hr-pilot"   # a name the file or --set gives is kept
    assert load_experiment(write(tmp_path, 'registered_model = "retention-ml-turnover"\n' + FLAT, "t.toml"))[
        "registered_model"] == "retention-ml-turnover"   # even the council's, when asked for (the registry check guards it)
