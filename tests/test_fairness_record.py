"""The fairness audit a run logs: aggregates the card and the gate read, and no row a scores file or list joins to.

Until now a run logged ``evaluation/test_predictions.parquet``: one row per test snapshot with the person's area,
service, date, protected characteristics, outcome and risk to 3 decimals. Joined with a scores file of that date on
council, service, date and risk, most rows named one person (69% on the national run). A run now logs
``evaluation/fairness_audit.json`` (:func:`retention_ml.fairness.audit_record`) instead.
"""

import json

import numpy as np
import pandas as pd
import pytest

from retention_ml import artifacts, tracking
from retention_ml.disclosure import AUDIT_RISK_DECIMALS, MIN_FAIRNESS_GROUP
from retention_ml.fairness import NUMBER_COLUMNS, audit_fairness
from retention_ml.training import PROTECTED_KEYS, audit_rows

JOIN = ["council_id", "service", "as_of", "risk"]


def _tables(run_id: str) -> dict[str, pd.DataFrame]:
    """Every table in the run's logged evaluation artifacts, as an attacker holding the run reads them: parquet and
    CSV files, and each list of records in a JSON file."""
    out = {}
    for path in tracking.list_artifacts(run_id, artifacts.EVALUATION_DIR):
        if path.endswith((".parquet", ".csv")):
            out[path] = tracking.load_table_artifact(run_id, path)
        elif path.endswith(".json"):
            data = tracking.load_json_artifact(run_id, path)
            stack = [(path, data)]
            while stack:   # lists of records anywhere in the document
                where, value = stack.pop()
                if isinstance(value, dict):
                    stack += [(f"{where}:{k}", v) for k, v in value.items()]
                elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                    out[where] = pd.DataFrame.from_records(value)
    return out


def _named(table: pd.DataFrame, scores: pd.DataFrame) -> int:
    """Rows of ``table`` that carry a protected characteristic and match exactly one scored person on council,
    service, date and (rounded) risk: the join a holder of a scores file or a list makes."""
    if not PROTECTED_KEYS[0] in table.columns or not {"risk", "service", "as_of"} <= set(table.columns):
        return 0
    rows = table.assign(council_id=table["area"].astype(str).str.split("-").str[0] if "area" in table.columns
                        else table.get("council_id"), as_of=pd.to_datetime(table["as_of"]), _row=range(len(table)))
    held = scores.assign(risk=scores["risk"].round(AUDIT_RISK_DECIMALS), as_of=pd.to_datetime(scores["as_of"]))
    pairs = rows.merge(held[[*JOIN, "worker_id"]], on=JOIN)
    return int(pairs.groupby("_row")["worker_id"].nunique().eq(1).sum())


def test_no_logged_evaluation_artifact_names_a_person_beside_a_protected_characteristic(sim_model):
    result, _ = sim_model
    scores = result.predictions[["worker_id", "council_id", "service", "as_of", "risk"]]
    # the attack has the power to name people: the rows runs logged until now give most of them away
    older = audit_rows(result.predictions)
    assert _named(older, scores) > len(older) // 3
    tables = _tables(result.run_id)
    named = {path: _named(t, scores) for path, t in tables.items()}
    assert not any(named.values()), f"logged rows tied to one scored person each: {named}"
    assert artifacts.FAIRNESS_AUDIT in {k.split(":")[0] for k in tables}
    # no table of the run's evaluation holds a person's protected characteristic beside an id or a risk
    for path, t in tables.items():
        if set(PROTECTED_KEYS) & set(t.columns):
            assert not {"person", "worker_id", "risk", "as_of"} & set(t.columns), path
    # every group the record gives a figure for has 20+ people; a smaller one has its name only
    groups = pd.DataFrame(tracking.load_json_artifact(result.run_id, artifacts.FAIRNESS_AUDIT)["groups"])
    numbers = groups[NUMBER_COLUMNS + ["roc_auc_se", "calibration_se"]].notna().any(axis=1)
    # a withheld group's size is left out where subtraction would give the groups under 20 (test_fairness_record_subtraction)
    unsized = groups["people"].isna() & groups["withheld"].astype(bool) & groups["status"].eq("ok")
    assert (groups.loc[numbers & ~unsized, "people"] >= MIN_FAIRNESS_GROUP).all()
    assert groups.loc[~numbers, "status"].eq("too few to assess").all() and (~numbers).any()


def test_the_logged_audit_is_the_audit_of_the_rows_at_any_floor_the_gate_may_set(sim_model):
    """At the logged floor the record gives the card's table and the gate's figures the rows gave, figure for
    figure; at a floor raised after training (a threshold file), the same groups are assessed with the same gate
    figures, and at least the groups the rows would withhold are withheld."""
    from retention_ml.fairness import WITHHELD_KEEPS, audit_from_record

    result, _ = sim_model
    rows = audit_rows(result.predictions)
    record = tracking.load_json_artifact(result.run_id, artifacts.FAIRNESS_AUDIT)
    from_rows, logged = audit_fairness(rows), audit_from_record(record)
    pd.testing.assert_frame_equal(logged.summary(), from_rows.summary())
    pd.testing.assert_frame_equal(logged.shown[from_rows.table.columns], from_rows.shown)
    # the gate's figures, figure for figure; a withheld group's size only where it is logged (below)
    pd.testing.assert_frame_equal(logged.group_shortfalls().drop(columns="people"),
                                  from_rows.group_shortfalls().drop(columns="people"))
    sized = logged.group_shortfalls()["people"].notna()
    assert (logged.group_shortfalls()["people"][sized] == from_rows.group_shortfalls()["people"][sized]).all()
    assert logged.overall == pytest.approx(from_rows.overall, nan_ok=True)
    # a withheld group keeps the gate's figures only, never its rates: the card withholds them
    withheld = logged.table[logged.table["withheld"]]
    # not its leavers (1-4 leavers or stayers is why a group is withheld), rows, rates or expected leavers
    hidden = ["leaving_people", "staying_people", "rows", "observed", "expected", "base_rate", "mean_risk",
              "calibration_ratio", "calibration_difference", "flagged_share"]
    assert len(withheld) and withheld[hidden].isna().all().all()
    # its size, unless the window's total less the logged sizes would give the people of groups under 20
    small = {f for f, v in record["under_floor"].items() if v["people"] == [1, MIN_FAIRNESS_GROUP - 1]}
    assert withheld.loc[~withheld["factor"].isin(small), "people"].notna().all()
    assert withheld.loc[withheld["factor"].isin(small), "people"].isna().all()
    assert not set(hidden) & set(WITHHELD_KEEPS)
    gate = ["factor", "group", "people", "roc_auc", "roc_auc_shortfall", "roc_auc_se", "calibration_gap",
            "calibration_se"]
    unsized = logged.table["people"].isna() & logged.table["status"].eq("ok")
    for floor in (25, 40, 60, 100):
        exact, bounded = audit_fairness(rows, min_group=floor), audit_from_record(record, min_group=floor)
        # the same groups assessed, but a withheld group whose size is not logged, which stays in the gate's checks
        # (it has at least the logged floor; whether it has the raised one is not known): a stricter gate, not a laxer
        pd.testing.assert_series_equal(bounded.table["status"][~unsized], exact.table["status"][~unsized])
        assert bounded.table["status"][unsized].eq("ok").all() and bounded.table["withheld"][unsized].all()
        both = exact.group_shortfalls()[gate].set_index(["factor", "group"])
        mine = bounded.group_shortfalls()[gate].set_index(["factor", "group"]).loc[both.index]
        pd.testing.assert_frame_equal(mine.drop(columns="people"), both.drop(columns="people"))
        assert (mine["people"].isna() | (mine["people"] == both["people"])).all()
        assert (bounded.table["withheld"] >= exact.table["withheld"]).all(), floor
        shown = bounded.shown.index
        pd.testing.assert_frame_equal(bounded.table.loc[shown, from_rows.table.columns], exact.table.loc[shown])
    with pytest.raises(ValueError, match="never logged"):
        audit_from_record(record, min_group=MIN_FAIRNESS_GROUP - 1)


def test_a_raised_floor_withholds_by_the_logged_bounds_where_the_rows_would():
    """A factor with groups of 3, 25, 30 and 200 people: the record keeps the 3 only as "1 to 19". At floor 30 the
    hidden groups (3 + 25 = 28) could be worked out from the total, so a shown group is withheld, as from the rows."""
    from retention_ml.fairness import audit_from_record, audit_record

    sizes = {"a": 3, "b": 25, "c": 30, "d": 200}
    people = [(g, f"{g}{i}") for g, n in sizes.items() for i in range(n)]
    rng = np.random.default_rng(0)
    rows = pd.DataFrame({"person": [p for _, p in people], "area": [g for g, _ in people],
                         "label": (rng.random(len(people)) < 0.3).astype(float), "risk": rng.random(len(people))})
    record = json.loads(json.dumps(audit_record(audit_fairness(rows), rows)))
    assert record["under_floor"]["area"]["people"] == [1, MIN_FAIRNESS_GROUP - 1]   # never the 3
    for floor in (20, 26, 30, 31, 60):
        exact = audit_fairness(rows, min_group=floor).table.set_index("group")
        bounded = audit_from_record(record, min_group=floor).table.set_index("group")
        assert (bounded["withheld"] >= exact["withheld"]).all(), floor
    assert audit_fairness(rows, min_group=30).table.set_index("group").loc["c", "withheld"]
    assert audit_from_record(record, min_group=30).table.set_index("group").loc["c", "withheld"]


def test_the_gate_decides_from_the_aggregates_with_its_own_alpha_and_floor(sim_model):
    """A threshold file with another alpha (and tighter limits, so the alpha matters) or a higher floor gives the
    gate's group checks the run's rows would give, read from the aggregates alone."""
    from retention_ml.promotion import load_thresholds, run_checks

    result, _ = sim_model
    rows = audit_rows(result.predictions)
    assert artifacts.TEST_PREDICTIONS not in tracking.list_artifacts(result.run_id, artifacts.EVALUATION_DIR)
    shipped = load_thresholds()
    decided = set()
    for alpha, floor in ((0.05, 20), (0.5, 20), (0.001, 20), (0.9, 40), (0.5, 60), (0.05, 100)):
        bar = shipped | {"group_family_alpha": alpha, "min_group": floor, "require_card": False,
                         "max_group_roc_auc_shortfall": 0.02, "max_group_calibration_gap": 0.01}
        from_rows = run_checks(result.run_id, bar, audit=audit_fairness(rows, min_group=floor))
        logged = run_checks(result.run_id, bar)
        assert [(c.name, c.passed) for c in logged] == [(c.name, c.passed) for c in from_rows], (alpha, floor)
        if floor == MIN_FAIRNESS_GROUP:   # above it the record may withhold more, so a detail may name fewer
            assert [c.detail for c in logged] == [c.detail for c in from_rows]
        decided.add(tuple(c.passed for c in logged if c.name.startswith("group")))
    assert len(decided) > 1   # the bars tried move the gate's decision: the alpha and floor are applied


def test_the_card_says_what_the_run_logs_and_asks_an_older_run_to_delete_its_rows(sim_model):
    from retention_ml.fairness import logged_audit
    from retention_ml.reports.model_card import _audit_rows_note, build_card

    result, _ = sim_model
    audit, rows = logged_audit(result.run_id)
    assert rows is None
    notes = build_card(result.run_id).context["considerations"]
    note = next(n for n in notes if artifacts.FAIRNESS_AUDIT in n)
    assert "aggregates only" in note and "No row about a person" in note
    assert not [n for n in notes if artifacts.TEST_PREDICTIONS in n]
    older = _audit_rows_note(audit_rows(result.predictions))
    assert artifacts.FAIRNESS_AUDIT in older and "delete this run's test rows" in older
    with pytest.raises(ValueError, match="bootstrap intervals"):
        logged_audit(result.run_id, n_boot=5)


def test_the_test_window_is_logged_for_truth_check(sim_model):
    from retention_ml.fairness import logged_test_window

    result, _ = sim_model
    window = logged_test_window(result.run_id)
    labelled = result.predictions
    assert window == {"dates": sorted(str(d.date()) for d in pd.to_datetime(labelled["as_of"]).unique()),
                      "rows": len(labelled), "leaving_rows": int(labelled["label"].fillna(0).sum())}
