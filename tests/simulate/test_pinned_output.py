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
        '_truth/driver_means': '2897c9d1953d496d',
        '_truth/leavers': 'f8bbbb6a95b2d791',
        '_truth/worker_months': '8cd541d99b4d406a',
        'absence': '0e68e2a44813d2b6',
        'agency_rates': '44dc633e90af862b',
        'caseload_history': '32f58b5139f3e148',
        'commute': '359ed3cbf80ef54b',
        'exit_interviews': '1124c720380e607d',
        'housing_costs': '14d3141858e9dd80',
        'pay_bands': '6c56e4d01bb9576e',
        'pay_history': 'f818d5ff8862f9a2',
        'supervision': '530d37cf53b1ff92',
        'teams': '8ee3219c8eac0c6b',
        'workers': '66691d2274bcc837',
    },
    'scenario': {
        '_truth/driver_means': '8a358d9001a812cb',
        '_truth/leavers': 'fdb0e6f1409a0ca4',
        '_truth/worker_months': '9a95949ed57bb0db',
        'absence': '5729ef7b16660d91',
        'agency_rates': 'b660954d77c27b80',
        'caseload_history': '2d1d524e1f7e2571',
        'commute': '110d11762f8c0ad3',
        'exit_interviews': 'f1b350d5c9409632',
        'housing_costs': '38547eb9e3af4e7d',
        'pay_bands': '6c56e4d01bb9576e',
        'pay_history': '6765edf2dd211985',
        'supervision': '0bcf200682d50463',
        'team_history': '832b3fbd3f00e7b1',
        'teams': 'e9a55667b4cd10fb',
        'workers': '5de7e776495f858f',
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
