"""The simulator's output is pinned: a refactor that reorders a random draw or an arithmetic step changes it.

Same seed, same bytes (test_output.py) only compares a run with itself; this compares with the output the
simulator gave when the pin was last set. Each table (and each truth table) is hashed from its columns,
dtypes and values written with ``repr`` precision, so a difference in the last bit of a float shows.

When the simulator is meant to change (a new rule, a recalibration), print the new pins and paste them here,
saying in the commit why the output changed::

    python tests/simulate/test_pinned_output.py
"""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from retention_ml.simulate import Scenario, run

# Two small runs that between them pass every branch of the monthly engine: the plain one starts in
# October (reporting years change mid-run, an April pay round); the scenario one opens extra posts, caps
# caseloads, pays supplements and a retention payment from its policy month and adds a referral shock.
CASES = {
    "plain": dict(councils=2, start="2019-10", months=14, seed=7),
    "scenario": dict(councils=3, start="2019-01", months=16, seed=3, scenario=Scenario.from_dict({
        "policy_start": "2019-09", "caseload_cap": 16, "retention_payment": 1500, "market_supplement": 2000,
        "extra_posts_share": 0.1, "referral_shock": 0.3, "shock_start": "2019-05", "shock_councils": 2,
        "hazard_scale": 1.2})),
}

PINNED = {
    'plain': {
        '_truth/driver_means': 'a36056e4848e1b47',
        '_truth/leavers': 'c5524ebd6cb74f38',
        '_truth/worker_months': '8271bb4cd8462033',
        'absence': '36375d6b4be717a1',
        'agency_rates': '44dc633e90af862b',
        'caseload_history': '4357503eea4942e2',
        'commute': 'b1593a6dae0a855a',
        'exit_interviews': '96c3720cf9811762',
        'housing_costs': '14d3141858e9dd80',
        'pay_bands': '6c56e4d01bb9576e',
        'pay_history': '6a4320394e1ac677',
        'supervision': '24be5ee6ff938342',
        'teams': '2a34f2c4f277fe64',
        'workers': '0cd3f9cff5eabbf4',
    },
    'scenario': {
        '_truth/driver_means': '9e9a2c9cba97f70d',
        '_truth/leavers': '2b61455f83748890',
        '_truth/worker_months': '69a1457321b8bdd3',
        'absence': '286b5bca6f6e5fa8',
        'agency_rates': 'b660954d77c27b80',
        'caseload_history': '38372466c39abbb0',
        'commute': '3f0243b74a32c5cd',
        'exit_interviews': '99349900d5147216',
        'housing_costs': '38547eb9e3af4e7d',
        'pay_bands': '6c56e4d01bb9576e',
        'pay_history': 'ca930e89a08af50a',
        'supervision': '5dbb89b0daf043fb',
        'team_history': '832b3fbd3f00e7b1',
        'teams': '546bc5320218a05b',
        'workers': '2528a3ceb2b86686',
    },
}


def frame_digest(frame: pd.DataFrame) -> str:
    """sha256 of a table's column names, dtypes and values (floats to the last bit), row order included."""
    head = "|".join(f"{name}:{dtype}" for name, dtype in frame.dtypes.items())
    body = frame.to_csv(index=False, float_format=None, date_format="%Y-%m-%d %H:%M:%S")
    return hashlib.sha256((head + "\n" + body).encode("utf-8")).hexdigest()[:16]


def digests(case: str) -> dict[str, str]:
    """Digest of every input table and every truth table (``_truth/`` names) of one pinned case."""
    tables, truth, _ = run(**CASES[case])
    out = {name: frame_digest(frame) for name, frame in tables.items()}
    out.update({f"_truth/{name}": frame_digest(frame) for name, frame in truth.items()})
    return dict(sorted(out.items()))


@pytest.mark.parametrize("case", sorted(CASES))
def test_simulator_output_matches_the_pin(case):
    got = digests(case)
    assert set(got) == set(PINNED[case]), "tables added or removed: update the pin (see the module docstring)"
    changed = sorted(name for name in got if got[name] != PINNED[case][name])
    assert not changed, f"simulator output changed in {changed}; if meant, re-pin (see the module docstring)"


def test_the_digest_sees_the_last_bit_of_a_float_and_the_row_order():
    frame = pd.DataFrame({"x": [0.1, 0.2], "n": [1, 2]})
    nudged = frame.assign(x=[0.1, 0.2 + 2**-54 * 2])
    assert nudged["x"].iloc[1] != frame["x"].iloc[1]
    assert frame_digest(nudged) != frame_digest(frame)
    assert frame_digest(frame.iloc[::-1]) != frame_digest(frame)
    assert frame_digest(frame.astype({"n": "int32"})) != frame_digest(frame)


if __name__ == "__main__":
    print("PINNED = {")
    for name in sorted(CASES):
        print(f"    {name!r}: {{")
        for table, digest in digests(name).items():
            print(f"        {table!r}: {digest!r},")
        print("    },")
    print("}")
