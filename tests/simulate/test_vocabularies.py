"""The simulator's labels (sex, roles, services, leaving reasons, commute modes ...) are held to the schema by name.

They are the simulator's own integer codes (its rules test role 3 or EMP_AGENCY), so they are not read from the
schema by position; instead a schema that no longer allows one of them stops `simulate` before anything is
written, naming the schema file, the column and the value.
"""

from __future__ import annotations

import shutil

import pytest
import yaml

from retention_ml.schema import load_schemas, schema_dir
from retention_ml.simulate import simulate
from retention_ml.simulate.writer import check_vocabularies, vocabularies


def test_every_simulated_label_is_allowed_by_the_schema():
    schemas = load_schemas()
    for (table, column), labels in vocabularies().items():
        assert set(labels) <= set(schemas[table].column(column).allowed_values()), (table, column)
    check_vocabularies()


def test_a_schema_that_renames_a_value_stops_the_simulator(tmp_path, monkeypatch):
    folder = tmp_path / "schema"
    shutil.copytree(schema_dir(), folder)
    path = folder / "tables" / "commute.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    mode = next(c for c in raw["columns"] if c["name"] == "mode")
    mode["allowed"] = ["active_travel" if v == "walk_cycle" else v for v in mode["allowed"]]
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    monkeypatch.setenv("RETENTION_ML_SCHEMA_DIR", str(folder))
    out = tmp_path / "sim"
    with pytest.raises(ValueError) as err:
        simulate(out, councils=1, start="2019-01", months=12, seed=1)
    assert str(path) in str(err.value) and "mode" in str(err.value) and "walk_cycle" in str(err.value)
    assert not out.exists()  # nothing half-written
