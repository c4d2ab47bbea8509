"""The small-group floors are the project's rules, not settings: a config file may raise them, never lower them.

No aggregate for a group under 5 people (lists' team figures), under 20 in fairness tables (the promotion
gate's group checks and the card's tables). Both floors live in retention_ml.disclosure.
"""

from __future__ import annotations

import pytest

from retention_ml import fairness
from retention_ml.promotion import THRESHOLDS_PATH, load_thresholds
from retention_ml.reports import risk_list
from retention_ml.reports.risk_list import default_config_path, load_band_config


def _with_min_group(source, target, value):
    lines = source.read_text(encoding="utf-8").splitlines()
    assert sum(line.startswith("min_group") for line in lines) == 1  # the shipped file sets it once
    target.write_text("\n".join(f"min_group = {value}" if line.startswith("min_group") else line for line in lines),
                      encoding="utf-8")
    return target


@pytest.mark.parametrize("value", [1, 4])
def test_bands_file_below_the_floor_is_refused_naming_file_key_and_rule(tmp_path, value):
    path = _with_min_group(default_config_path(), tmp_path / "bands.toml", value)
    with pytest.raises(ValueError) as err:
        load_band_config(path)
    text = str(err.value)
    assert str(path) in text and "[summary] min_group" in text and "under 5 people" in text


def test_bands_file_may_raise_the_floor(tmp_path):
    assert load_band_config(_with_min_group(default_config_path(), tmp_path / "b.toml", 8)).min_group == 8
    assert load_band_config().min_group == risk_list.MIN_GROUP == 5


@pytest.mark.parametrize("value", [1, 19])
def test_thresholds_below_the_fairness_floor_are_refused_naming_file_key_and_rule(tmp_path, value):
    path = _with_min_group(THRESHOLDS_PATH, tmp_path / "th.toml", value)
    with pytest.raises(ValueError) as err:
        load_thresholds(path)
    text = str(err.value)
    assert str(path) in text and "'min_group'" in text and "under 20 people" in text


def test_thresholds_may_raise_the_fairness_floor(tmp_path):
    assert load_thresholds(_with_min_group(THRESHOLDS_PATH, tmp_path / "th.toml", 30))["min_group"] == 30
    assert load_thresholds()["min_group"] == fairness.MIN_GROUP == 20


def test_rank_with_a_bands_file_below_the_floor_stops_with_exit_2_and_writes_nothing(tmp_path):
    from typer.testing import CliRunner

    from retention_ml.cli import app
    from tests.reports.test_rank_command import _folder

    bands = _with_min_group(default_config_path(), tmp_path / "bands.toml", 1)
    res = CliRunner().invoke(app, ["rank", "--scores", str(_folder(tmp_path)), "--all", "--out", str(tmp_path / "l"),
                                   "--bands", str(bands)])
    assert res.exit_code == 2, res.output
    assert "[summary] min_group = 1 is below 5" in res.output
    assert not (tmp_path / "l").exists() or not any((tmp_path / "l").iterdir())
