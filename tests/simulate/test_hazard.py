"""The true hazard is written and read by driver code, so the order of data_schema/drivers.yaml is not load-bearing."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from retention_ml.schema import schema_dir
from retention_ml.simulate import hazard
from retention_ml.simulate.hazard import HAZARD_DRIVERS, contributions

# One worker per hazard driver, each with only that driver's input raised (the rest at neutral values), so
# every driver has a row where it alone stands out and a mislabelled column cannot hide.
_NEUTRAL = dict(load_ratio=0.65, over_cap_12m=0.0, absence_3m=0.0, agency_gap=0.7, tenure=60.0, asye=False,
                since_progression=0.0, since_supervision=1.0, commute=35.0, rent_share=0.45, rent_growth=0.0,
                team_left_3m=0.0, team_agency=0.15, frailty=0.0, life_event=False, agency=False)
_RAISED = {"caseload_workload": {"load_ratio": 1.5}, "work_life_balance": {"absence_3m": 15.0},
           "pay": {"agency_gap": 1.3}, "career_progression": {"since_progression": 70.0},
           "supervision_management": {"since_supervision": 9.0}, "commute": {"commute": 110.0},
           "housing_cost": {"rent_share": 0.9}, "team_instability": {"team_left_3m": 0.5},
           "personal": {"frailty": 1.5}}
_STATE_CODE = """
import json, sys
import numpy as np
from retention_ml.simulate.hazard import HAZARD_DRIVERS, contributions
state = {k: np.array(v) for k, v in json.loads(sys.argv[1]).items()}
print(json.dumps({"order": list(HAZARD_DRIVERS), "by_driver": dict(zip(HAZARD_DRIVERS, contributions(state).T.tolist()))}))
"""


def _state() -> dict:
    rows = [{**_NEUTRAL, **raised} for raised in _RAISED.values()]
    return {k: [row[k] for row in rows] for k in _NEUTRAL}


def _by_driver_here() -> dict:
    values = contributions({k: np.array(v) for k, v in _state().items()})
    return dict(zip(HAZARD_DRIVERS, values.T.tolist()))


def test_each_drivers_input_moves_its_own_column():
    by_driver = _by_driver_here()
    for i, code in enumerate(_RAISED):
        column = np.array(by_driver[code])
        assert column.argmax() == i, f"{code}: its column is largest where its input is raised"


def test_reordered_drivers_yaml_keeps_every_contribution_under_its_own_driver(tmp_path):
    # Reverse the drivers in a copy of the schema (same taxonomy, other order) and compute the hazard in a
    # fresh interpreter (HAZARD_DRIVERS is read from drivers.yaml at import): each driver's values must not move.
    schema = tmp_path / "schema"
    shutil.copytree(schema_dir(), schema)
    raw = yaml.safe_load((schema / "drivers.yaml").read_text(encoding="utf-8"))
    raw["drivers"] = raw["drivers"][::-1]
    (schema / "drivers.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    env = {**os.environ, "RETENTION_ML_SCHEMA_DIR": str(schema)}
    done = subprocess.run([sys.executable, "-c", _STATE_CODE, json.dumps(_state())], env=env, cwd=Path(__file__).parent,
                          capture_output=True, text=True, check=True)
    there = json.loads(done.stdout)
    assert there["order"] == list(HAZARD_DRIVERS)[::-1]        # the reorder took effect
    assert there["by_driver"] == _by_driver_here()


@pytest.mark.parametrize("drivers", [(*HAZARD_DRIVERS[:-1], "new_driver", "personal"), HAZARD_DRIVERS[1:]],
                         ids=["declared_without_formula", "formula_not_declared"])
def test_a_driver_set_the_hazard_does_not_know_is_an_error_naming_drivers_yaml(monkeypatch, drivers):
    monkeypatch.setattr(hazard, "HAZARD_DRIVERS", tuple(drivers))
    with pytest.raises(ValueError, match=r"drivers\.yaml.*(new_driver|caseload_workload)"):
        contributions({k: np.array(v) for k, v in _state().items()})
