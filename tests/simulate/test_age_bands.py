"""Age bands have one definition: the schema's declared workers.age_band values, read by schema.age_band_edges.

The simulator's writer and a flat extract's age column both cut ages at those edges; a copy of the cut-offs in
either would let a 25-year-old be written as under_25 while the schema (and the audit) say 25_29.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from retention_ml.flat import AGE_BAND_EDGES, band_labels
from retention_ml.schema import age_band_edges, load_schemas, schema_dir
from retention_ml.simulate.writer import _age_band


def test_the_simulator_cuts_ages_where_the_schema_does():
    labels = band_labels(age_band_edges())
    assert labels == [v for v in load_schemas()["workers"].column("age_band").allowed_values() if v != "not_known"]
    # either side of every edge: the last day of one band and the first of the next
    ages = np.array([a for edge in age_band_edges() for a in (edge - 0.01, edge)])
    expected = [label for i in range(len(age_band_edges())) for label in (labels[i], labels[i + 1])]
    assert _age_band(ages).tolist() == expected
    assert AGE_BAND_EDGES == age_band_edges()


def _schema_with_age_bands(tmp_path: Path, values: list[str], monkeypatch) -> Path:
    folder = tmp_path / "schema"
    shutil.copytree(schema_dir(), folder)
    path = folder / "tables" / "workers.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(c for c in raw["columns"] if c["name"] == "age_band")["allowed"] = values
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("RETENTION_ML_SCHEMA_DIR", str(folder))
    return path


def test_edges_follow_the_schema(tmp_path, monkeypatch):
    _schema_with_age_bands(tmp_path, ["under_26", "26_34", "35_54", "55_plus", "not_known"], monkeypatch)
    assert age_band_edges() == (26, 35, 55)


@pytest.mark.parametrize("values", [["25_29", "30_plus"], ["under_25", "25_29", "31_39", "40_plus"],
                                    ["under_25", "25_29", "30_39"]])
def test_bands_that_do_not_meet_are_refused_naming_the_file(tmp_path, monkeypatch, values):
    path = _schema_with_age_bands(tmp_path, values, monkeypatch)
    with pytest.raises(ValueError, match="age_band") as err:
        age_band_edges()
    assert str(path) in str(err.value) and "rule:" in str(err.value)
