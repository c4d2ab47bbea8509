"""Workforce simulator: synthetic council HR extracts in the input schema, with known ground truth.

Where things are (data flows down the list; the modelling code never imports any of it):

- ``config``: the scenario (policy knobs, checked) and the DfE national figures it is calibrated to.
- ``councils``: the world that does not change with people (councils, areas, teams, posts).
- ``posts``: the posts people fill (establishment, the scenario's extra posts, agency-only posts).
- ``paths``: what the months bring from outside (calendar, demand, housing costs, agency day rates).
- ``pay``, ``hazard``: salary scales; the monthly leaving hazard by driver.
- ``workforce``: the monthly engine (hiring, cases, sickness, supervision, leaving, moves).
- ``exits``, ``writer``, ``truth``: exit-interview reasons, the tables and the truth, written to disk.
- ``calibration``, ``truth_check``: the DfE comparison; explanations checked against the truth.

Every random draw comes from one generator in a fixed order, so the same seed gives the same bytes;
``tests/simulate/test_pinned_output.py`` holds the output to the last bit.

Example
-------
>>> from retention_ml.simulate import simulate
>>> paths = simulate("sim/", councils=2, months=24, seed=7)   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from retention_ml.simulate.config import Scenario, is_month, load_scenario
from retention_ml.simulate.councils import build_world
from retention_ml.simulate.workforce import run_months
from retention_ml.simulate.writer import build_tables, write_all

__all__ = ["Scenario", "load_scenario", "run", "simulate"]


def run(*, councils: int = 150, start: str = "2019-01", months: int = 72, seed: int = 0,
        scenario: Scenario | None = None, progress=None, year_fit: dict | None = None):
    """Simulate in memory; returns (tables, truth, Simulation). ``year_fit``: see :func:`run_months`."""
    if not is_month(start):  # numpy reads "2019-01-15" as January 2019: a day given would be dropped unsaid
        raise ValueError(f"start {start!r} must be a month written YYYY-MM")
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
