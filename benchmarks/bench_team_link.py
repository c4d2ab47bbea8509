"""Can a run's `metrics.json` name the teams of its audit rows when the rows carry no team key?

For each team `evaluation/metrics.json` names (rows ``n``, leavers ``observed``, ``expected``), a reader who knows
the team's area and service (the council's own structure chart; `teams.csv` here) looks among the audit rows
of that area and service for the sets of ``n`` rows with ``observed`` leavers and risks summing to ``expected``
(within the rounding of the rows' 3-decimal risks and of ``expected``). A team with exactly one such set is named
beside its members' protected characteristics. Printed per precision of ``expected`` (``none``: size and leavers
only, which anyone in the council knows), so the difference is what ``expected`` adds. Ask only for precisions at
or below the run's own: runs trained since expected went to 1 decimal give 0 at 3 (the slack assumes 3). Counting the sets is a
dynamic programme over (rows taken, leavers, sum of risk in thousandths) per area and service.

Measured (session 15, national run b3583c9f, 37,920 rows, 4,289 named teams; teams.csv of /tmp/me/nat0): one set
for 699 teams with ``expected`` to 3 decimals, 659 to 1 decimal, 656 from size and leavers alone. Demo: 2 of 35
all three ways.

Usage
-----
    .venv/bin/python benchmarks/bench_team_link.py <run artifacts folder> <data folder with teams.csv> [--decimals 3 1 none]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from retention_ml import artifacts

UNIT = 1000   # the audit rows' risks are logged to 3 decimals


def matching_sets(risk_units: np.ndarray, leaving: np.ndarray, n: int, observed: int, low: int, high: int) -> float:
    """How many sets of ``n`` rows hold ``observed`` leavers and a sum of risk (in units) within [low, high]."""
    total = int(risk_units.sum()) + 1
    ways = np.zeros((n + 1, observed + 1, total))
    ways[0, 0, 0] = 1
    for r, left in zip(risk_units, leaving):
        if left > observed:
            continue
        ways[1:, left:, r:] += ways[:n, :observed + 1 - left, :total - r].copy()
    return float(ways[n, observed, max(low, 0):min(high, total - 1) + 1].sum())


def named_teams(rows: pd.DataFrame, teams: pd.DataFrame, decimals: int | None) -> int:
    """Teams with exactly one matching set of rows in their area and service."""
    cells = {key: cell for key, cell in rows.groupby(["area", "service"])}
    one = 0
    for team in teams.itertuples():
        cell = cells.get((team.area, team.service))
        if cell is None:
            continue
        if decimals is None:
            low, high = 0, 10 ** 9
        else:
            centre, slack = round(team.expected, decimals) * UNIT, team.n * 0.5 + 0.5 * 10 ** (3 - decimals)
            low, high = int(np.ceil(centre - slack)), int(np.floor(centre + slack))
        one += matching_sets(np.rint(cell["risk"].to_numpy() * UNIT).astype(int), cell["label"].to_numpy().astype(int),
                             int(team.n), int(team.observed), low, high) == 1
    return one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a run's artifacts folder (holds evaluation/)")
    parser.add_argument("data", type=Path, help="the data folder (teams.csv: each team's area and service)")
    parser.add_argument("--decimals", nargs="+", default=["3", "1", "none"])
    args = parser.parse_args()
    teams = pd.DataFrame(json.loads((args.run / artifacts.METRICS_JSON).read_text())["teams"])
    teams = teams.join(pd.read_csv(args.data / "teams.csv").set_index("team_id")[["area", "service"]], on="team_id")
    rows = pd.read_parquet(args.run / artifacts.TEST_PREDICTIONS)
    for d in args.decimals:
        decimals = None if d == "none" else int(d)
        print(f"expected to {d} decimals: {named_teams(rows, teams, decimals)} of {len(teams)} named teams are the one "
              "matching set of rows in their area and service")


if __name__ == "__main__":
    main()
