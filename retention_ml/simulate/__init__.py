"""Workforce simulator: synthetic council HR extracts in the input schema, with known ground truth.

Example
-------
>>> from retention_ml.simulate import simulate
>>> paths = simulate("sim/", councils=2, months=24, seed=7)   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from retention_ml.simulate.config import Scenario, load_scenario
from retention_ml.simulate.councils import build_world
from retention_ml.simulate.workforce import run_months
from retention_ml.simulate.writer import build_tables, write_all

__all__ = ["Scenario", "load_scenario", "run", "simulate"]


def run(*, councils: int = 150, start: str = "2019-01", months: int = 72, seed: int = 0,
        scenario: Scenario | None = None, progress=None, year_fit: dict | None = None):
    """Simulate in memory; returns (tables, truth, Simulation). ``year_fit``: see :func:`run_months`."""
    scenario = scenario or Scenario()
    scenario.check_window(start, months)
    rng = np.random.default_rng(seed)
    world = build_world(rng, councils, caseload_cap=scenario.caseload_cap if scenario.policy_start is None else None)
    sim = run_months(world, scenario, np.datetime64(start, "M").astype("datetime64[D]"), months, rng, progress=progress,
                     year_fit=year_fit)
    tables, truth = build_tables(sim, np.random.default_rng([seed, 1]))
    return tables, truth, sim


def simulate(out: str | Path, *, councils: int = 150, start: str = "2019-01", months: int = 72, seed: int = 0,
             scenario: Scenario | None = None, progress=None) -> list[Path]:
    """Simulate and write every input table into ``out`` and the truth into ``out/_truth``."""
    tables, truth, _ = run(councils=councils, start=start, months=months, seed=seed, scenario=scenario, progress=progress)
    return write_all(tables, truth, out)
