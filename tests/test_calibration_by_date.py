"""Calibration in the large at each test date: the whole-window figure averages the dates, so risks right at the
first date and too high at the latest (nearest deployment) passed the gate. Training logs the counts per date
(``metrics.json`` ``calibration_by_date``), the gate checks each date against the same bar, beyond chance over the
dates compared, and the card tabulates them, or says why it cannot (one test date; an older run)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.evaluate import calibration_by_date
from retention_ml.promotion import _dates_check, _level_check, date_levels, load_thresholds, overall_level
from retention_ml.fairness import audit_fairness

THRESHOLDS = load_thresholds()
BAR, ALPHA = THRESHOLDS["max_calibration_ratio"], THRESHOLDS["group_family_alpha"]
DATES = ["2023-01-01", "2023-04-01", "2023-07-01", "2023-10-01"]


def _rows(left_per_date: list[int], people: int = 4_000, risk: float = 0.15) -> pd.DataFrame:
    """The same ``people`` at each date of :data:`DATES` with one ``risk``; at date i the first ``left_per_date[i]``
    are labelled leaving."""
    frames = [pd.DataFrame({"person": [f"P{i}" for i in range(people)], "as_of": d, "risk": risk,
                            "label": (np.arange(people) < left).astype(float)})
              for d, left in zip(DATES, left_per_date)]
    return pd.concat(frames, ignore_index=True)


def _records(rows: pd.DataFrame) -> list[dict]:
    return calibration_by_date(rows["risk"], rows["label"], workers=rows["person"], dates=rows["as_of"])


def test_counts_per_date_add_up_to_the_window():
    rows = _rows([600, 600, 560, 420])
    recs = _records(rows)
    assert [r["as_of"] for r in recs] == DATES
    assert [r["observed"] for r in recs] == [600, 600, 560, 420]
    assert all(abs(r["expected"] - 600) < 1e-6 and r["people"] == 4_000 for r in recs)
    assert sum(r["observed"] for r in recs) == rows["label"].sum()
    assert abs(recs[0]["se"] - np.sqrt(4_000 * 0.15 * 0.85)) < 1e-9   # one row per person at a date: binomial


def test_a_date_under_the_floor_withholds_every_date():
    rows = pd.concat([_rows([60], people=400), _rows([0, 1], people=4)[lambda f: f["as_of"] == DATES[1]]])
    recs = _records(rows)
    assert [r["people"] for r in recs] == [None, None]
    assert all(set(r) == {"as_of", "people"} for r in recs)


def test_drift_to_the_latest_date_passes_the_whole_window_and_fails_by_date():
    """Right at the first three dates, a third too high at the latest: the whole window (0.92) is inside the bar."""
    rows = _rows([600, 600, 600, 400])
    whole = _level_check(overall_level(audit_fairness(rows, factors=[]).overall, ALPHA), BAR)
    assert whole.passed                                             # the premise: the old gate passed it
    levels = date_levels({"calibration_by_date": _records(rows), "windows": {"test": [DATES[0], DATES[-1]]}},
                         None, ALPHA)
    check = _dates_check(levels, BAR)
    assert not check.passed and check.assessable
    assert "2023-10-01: risks too high" in check.detail and "latest date 2023-10-01 0.67" in check.detail


def test_outside_the_bar_only_within_chance_is_not_failed():
    rows = _rows([30, 30, 30, 20], people=200)                      # 30 expected; 20 left at the last date: 0.67
    levels = date_levels({"calibration_by_date": _records(rows)}, None, ALPHA)
    assert levels[-1]["ratio"] < 1 / BAR and not levels[-1]["beyond"]
    check = _dates_check(levels, BAR)
    assert check.passed and "within chance at 2023-10-01" in check.detail


def test_chance_allows_for_the_number_of_dates_compared():
    """A date 2.3 standard errors out is beyond chance alone, not among 4 dates (Bonferroni, two-sided)."""
    rows = _rows([600, 600, 600, 600 - 52])                        # se 22.6: z -2.3
    one = date_levels({"calibration_by_date": _records(rows)[-1:]}, None, ALPHA)
    four = date_levels({"calibration_by_date": _records(rows)}, None, ALPHA)
    assert one[0]["beyond"] and not four[-1]["beyond"]
    assert four[-1]["z_needed"] > one[0]["z_needed"]


def test_older_runs_one_date_from_the_audit_several_from_rows_or_not_assessable():
    rows = _rows([600, 600, 600, 400])
    overall = audit_fairness(rows[rows["as_of"] == DATES[0]], factors=[]).overall
    single = date_levels({"windows": {"test": [DATES[0], DATES[0]]}}, overall, ALPHA)
    assert [(r["as_of"], r["observed"]) for r in single] == [(DATES[0], 600)]
    assert "one test date" in _dates_check(single, BAR).detail
    from_rows = date_levels({"windows": {"test": [DATES[0], DATES[-1]]}}, None, ALPHA, rows)
    assert [r["observed"] for r in from_rows] == [600, 600, 600, 400]
    missing = date_levels({"windows": {"test": [DATES[0], DATES[-1]]}}, None, ALPHA)
    assert missing is None
    check = _dates_check(missing, BAR)
    assert not check.passed and not check.assessable and "re-train" in check.detail
    assert date_levels({"windows": {"test": []}}, overall, ALPHA) == []      # a flat extract: no dates, no check


def test_card_tabulates_each_date_or_says_what_is_missing():
    from retention_ml.reports.model_card import DATES_TITLE, _date_blocks

    rows = _rows([600, 600, 600, 400])
    levels = date_levels({"calibration_by_date": _records(rows)}, None, ALPHA)
    context = {"flat": False, "date_levels": levels, "thresholds": THRESHOLDS, "horizon": 12,
               "windows": {"valid": ["2022-01-01", "2022-01-01"]}, "images": []}
    blocks = _date_blocks(context)
    assert blocks[0]["text"] == DATES_TITLE
    table = next(b for b in blocks if b["kind"] == "table")
    assert [r["cells"][0] for r in table["rows"]] == DATES
    last = table["rows"][-1]["cells"]
    assert last[3] == "400" and last[4].startswith("67 (") and "beyond chance (risks too high)" in last[5]
    assert "went from 100 to 67" in blocks[-1]["text"]
    one = _date_blocks(context | {"date_levels": levels[:1]})
    assert "cannot show whether the risks drift" in one[-1]["text"] and "12 months later" in one[-1]["text"]
    old = _date_blocks(context | {"date_levels": None})
    assert "Not shown" in old[-1]["text"] and "Train the experiment again" in old[-1]["text"]


def test_training_logs_the_counts_per_test_date(sim_model):
    """What the gate and the card read, logged at training from the test predictions (same rows, same risks)."""
    from retention_ml import artifacts, tracking

    result, _ = sim_model
    logged = tracking.load_json_artifact(result.run_id, artifacts.METRICS_JSON)["calibration_by_date"]
    p = result.predictions
    assert logged == _records(p.rename(columns={"worker_id": "person"}))
    assert [r["as_of"] for r in logged] == sorted(p["as_of"].astype(str).str[:10].unique())
    assert sum(r["observed"] for r in logged) == int(p["label"].sum())


def test_evaluators_cautions_name_drift_or_its_absence():
    from retention_ml.reports.model_card import _date_limit

    rows = _rows([600, 600, 600, 400])
    levels = date_levels({"calibration_by_date": _records(rows)}, None, ALPHA)
    assert "off beyond chance at 2023-10-01 (67 left for every 100 expected)" in _date_limit(levels, BAR)
    assert "is one date (2023-01-01)" in _date_limit(levels[:1], BAR)
    assert "did not log" in _date_limit(None, BAR)
    steady = date_levels({"calibration_by_date": _records(_rows([600, 610, 590, 600]))}, None, ALPHA)
    assert _date_limit(steady, BAR) is None


def test_a_ratio_just_outside_the_bar_never_prints_as_its_end():
    """National seed 0, 4 quarterly test dates: 3,933 left of 4,734.9 expected at the latest, 0.8306 against the
    bar's 0.8333. To 2 places both are 0.83; "0.83 outside the bar 0.83 to 1.20" reads as a contradiction."""
    from retention_ml.promotion import ratio_text

    assert ratio_text(3933 / 4734.9, 1.2) == "0.831" and ratio_text(3933 / 4734.9, 1.2, per=100) == "83.1"
    assert ratio_text(0.89, 1.2) == "0.89" and ratio_text(0.89, 1.2, per=100) == "89"
    assert ratio_text(1.2, 1.2) == "1.20"


def test_the_plot_is_drawn_for_several_dates_only():
    from retention_ml.reports.model_card import _dates_plot

    levels = date_levels({"calibration_by_date": _records(_rows([600, 600, 600, 400]))}, None, ALPHA)
    assert _dates_plot(levels, BAR).startswith(b"\x89PNG")
    assert _dates_plot(levels[:1], BAR) is None and _dates_plot(None, BAR) is None


def test_in_brief_gives_the_totals_verdict_and_the_latest_date():
    """The brief gave the window's two counts alone (4,412 expected, 3,933 left), and with an ECE within chance it
    added "nothing here says the percentages cannot be read as chances" even when the total was off beyond chance."""
    from retention_ml.reports.model_card import _chances_brief

    rows = _rows([600, 600, 600, 400])
    ov = audit_fairness(rows, factors=[]).overall
    levels = date_levels({"calibration_by_date": _records(rows)}, None, ALPHA)
    ece_within = {"value": 0.01, "chance": 0.008, "chance_high": 0.012, "p_value": 0.3}
    text = _chances_brief(ece_within, ov, "snapshots", levels, ALPHA)
    assert "For every 100 expected, 92 left: the risks are too high on average, beyond chance." in text
    assert "At the latest test date (2023-10-01) 67 left for every 100 expected" in text
    assert "nothing here says" not in text and "the total above is the gap to read" in text
    steady = _rows([600, 600, 600, 600])
    calm = _chances_brief(ece_within, audit_fairness(steady, factors=[]).overall, "snapshots",
                          date_levels({"calibration_by_date": _records(steady)}, None, ALPHA), ALPHA)
    assert "within what chance gives exactly right risks" in calm and "nothing here says" in calm
