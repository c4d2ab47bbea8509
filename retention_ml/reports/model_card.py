"""Model cards (Mitchell et al., 2019) written from a training run's MLflow record.

Every number in the card is read from the run (paths: :mod:`retention_ml.artifacts`): ``evaluation/metrics.json`` (written by training),
``evaluation/fairness_audit.json`` (the fairness audit's aggregates; an older run's test rows are recomputed with
:func:`retention_ml.fairness.audit_fairness`), ``explanations/*.json|csv``,
``censoring_report.csv``, run tags and the registry. Nothing is typed in. The ethical
considerations are generated from those numbers (worst-calibrated group, baselines not beaten,
explanations no better than the global baseline, groups too small to assess).

Example
-------
>>> card = build_card("3f2a...")                          # doctest: +SKIP
>>> paths = write_card("3f2a...", "card-out", log=True)   # doctest: +SKIP
"""

from __future__ import annotations

import base64
import io
import math
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from retention_ml import artifacts

__all__ = ["ModelCard", "build_card", "gate_checks", "render_markdown", "render_html", "save_card", "write_card",
           "CARD_DIR", "CARD_TAG"]

CARD_DIR = artifacts.CARD_DIR
CARD_TAG = artifacts.CARD_TAG
TEMPLATES = Path(__file__).with_name("templates")
LIBRARIES = ("scikit-learn", "lightgbm", "shap", "mlflow", "fairlearn", "pandas", "numpy")
OPTIONAL_JSON = {"alignment": artifacts.ALIGNMENT, "truth": artifacts.TRUTH}
# Records logged before alignment withheld small groups carry no "small_groups" note: say so rather than claim it.
OLD_ALIGNMENT_NOTE = ("This run's alignment record was logged before small groups were withheld: its "
                      "explanations/alignment.json may hold counts of fewer than 5 leavers per stated reason; do not "
                      "share that file.")
OPTIONAL_TABLES = {"driver_importance": artifacts.DRIVER_IMPORTANCE, "global_importance": artifacts.GLOBAL_IMPORTANCE,
                   "censoring": artifacts.CENSORING_REPORT, "catalogue": artifacts.FEATURE_CATALOGUE}
OPTIONAL_IMAGES = {"calibration": artifacts.CALIBRATION_PLOT, "beeswarm": artifacts.BEESWARM}
MODEL_LABELS = {"lightgbm": "Turnover model (LightGBM, Platt-calibrated)", "logistic": "Baseline: logistic regression",
                "team_base_rate": "Baseline: team base rate"}
METRIC_LABELS = {"roc_auc": "ROC-AUC", "average_precision": "Average precision", "brier": "Brier score",
                 "ece": "Expected calibration error", "precision_top10": "Precision in top 10%",
                 "recall_top10": "Recall in top 10%"}


# A short gloss beside each metric where the card first shows it; the glossary says more.
METRIC_GLOSSES = {"roc_auc": "Chance that a leaver gets a higher risk than a stayer: 0.5 is a coin toss, 1 is perfect",
                  "average_precision": "How well leavers are packed at the top of the list: higher is better; a list "
                                       "in random order scores about the leaver rate",
                  "brier": "Average squared gap between risk and what happened (1 left, 0 stayed): lower is better",
                  "ece": "Average gap between predicted risk and the share who actually left: lower is better. Noise "
                         "alone makes it positive, so no range is given: in brackets, its chance level, the most that "
                         "risks exactly right reach on this test window 95 times in 100 (under it: within chance)",
                  "precision_top10": "Of the 10% with the highest risk, the share who left",
                  "recall_top10": "Of all leavers, the share who were in the top 10% of risk"}
GLOSSARY = [
    ("Snapshot", "one worker at one date. The model looks only at what was known at that date and estimates whether "
                 "the person leaves voluntarily within the horizon (the following months)."),
    ("Risk", "the model's estimated chance that a person leaves within the horizon, as a percentage."),
    ("Leaver rate (base rate)", "the share of snapshots that were followed by voluntary leaving."),
    ("Percentage points (pp)", "the difference between two percentages: 10% against 6% is a gap of 4 pp. "
                               "Differences between rates are always given in pp, never in %."),
    ("ROC-AUC", "if you pick one leaver and one stayer at random, the chance that the model gave the leaver the higher "
                "risk. 0.5 is no better than tossing a coin; 1 is a perfect ranking."),
    ("ROC-AUC its own risks imply (model-based concordance)",
     "the ROC-AUC a group would have if the model's risks for its people were exactly right: every pair of a likely "
     "leaver and a likely stayer in the group, weighted by how likely that pair is, counted as ranked right when the "
     "leaver has the higher risk (the measure of van Klaveren and others). When a group's people have alike risks (one age "
     "band, a small area where everyone has the same caseload cap and rent), it is near 0.5: ranking within that "
     "group is harder for any model, so its ROC-AUC below everyone's is not by itself a sign of unfair treatment (unless "
     "the model gave alike risks to people whose chances differ, which these figures cannot show: ask whether they "
     "differ in what drives leaving). A group's ROC-AUC well below its own figure is such a sign: the model ranks its "
     "leavers worse than its own risks say it should. The "
     "promotion gate judges each group against this figure (less however far the whole window falls short of "
     "what everyone's risks imply: a shortfall every group shares is no group's)."),
    ("Average precision", "how well the leavers are packed at the top of the model's list, averaged over every list "
                          "length. A list in random order scores about the leaver rate; higher is better."),
    ("Precision and recall in the top 10%", "of the 10% of people with the highest risk, the share who left "
                                            "(precision); of all leavers, the share who were in that top 10% (recall)."),
    ("Brier score", "the average of (risk - outcome) squared, where the outcome is 1 for a leaver and 0 for a stayer. "
                    "0 is perfect; lower is better."),
    ("Expected calibration error (ECE)", "people are grouped by their risk, and in each group the average risk is "
                                         "compared with the share who actually left. ECE is the average of those gaps: "
                                         "0.05 means risks are off by about 5 pp on average. Lower is better. "
                                         "Each group's share who left is itself a small sample, so ECE comes out "
                                         "above 0 even when every risk is exactly right, and the more so the fewer "
                                         "the people ({ece_noise}). Its chance level says how far: the test window's outcomes are "
                                         "drawn again and again from the model's own risks, as if they were exactly "
                                         "right, and ECE is measured each time; 95% of those ECEs are at or under "
                                         "the chance level. An ECE under it is within chance (consistent with "
                                         "risks that can be read as chances); one above it is off beyond chance. "
                                         "A range from resampling the people is not given for ECE: it sits above "
                                         "the truth and can even leave out the ECE measured."),
    ("Calibration (Platt scaling)", "the model's raw scores are turned into percentages with an S-shaped curve "
                                    "fitted on rows the trees were not fitted on (the validation window; for a "
                                    "one-row-per-employee extract, out-of-fold rows of cross-fitting), so that risks "
                                    "match how many people actually "
                                    "left. a and b are the curve's two fitted constants, shown so the step can be "
                                    "checked; they need no interpretation."),
    ("Calibration ratio and difference (group tables)", "observed leavers divided by predicted leavers (the sum of "
                                                        "risks), and the observed minus the predicted leaver rate in "
                                                        "pp. A ratio above 1, or a positive difference, means the "
                                                        "model understates the group's risk. \"Within chance\" beside "
                                                        "a group: its gap is no larger than risks exactly right give "
                                                        "a group of its size, by the promotion gate's rule for the "
                                                        "groups it compares; \"beyond chance\": larger. With no one "
                                                        "left a group's ratio is 0 whatever its risks, and in a small "
                                                        "group that is often chance."),
    ("Beyond chance (base rate and share flagged, Largest gap per metric)",
     "if leaving (or being flagged) did not depend on the group, every group's share would still differ from the "
     "whole test window's, the more so the fewer its people, and among hundreds of small areas some would land "
     "near 0% and some far above. \"Within chance\" beside a group's share: it is no further from the whole "
     "window's than that, by the promotion gate's rule for the groups compared (a person's rows at several test "
     "dates counted together); \"beyond chance\": further. A gap between two groups within chance is no "
     "evidence that they differ."),
    ("95% interval", "the range in brackets. The evaluation is repeated on resamples of the people, and 95% of the "
                     "results fall in this range; a wide range means few people and an uncertain number."),
    ("SHAP value", "how much one driver pushed one person's risk up or down, compared with everyone scored at the "
                   "same date. It is measured on the model's internal scale (log-odds), which is only for comparing "
                   "drivers with each other: 0 means no effect, bigger means more effect."),
    ("Mean absolute SHAP", "the average size of a driver's SHAP value over everyone, ignoring whether it pushed risk "
                           "up or down: how much that driver moves people's risk overall."),
    ("Top 1 and top 3 match", "the share of leavers whose stated exit reason (or, on simulated data, true reason) is "
                              "the model's first driver for them (top 1), or among its first three (top 3)."),
    ("Spearman rank correlation", "how alike two orderings of the drivers are: 1 is the same order, 0 unrelated, "
                                  "-1 reversed."),
]
# The glossary's example of ECE from noise alone: people at this leaver rate, risks spread as in
# benchmarks/bench_ece_chance.py (log-odds normal, sd 0.8), each with exactly right risks. The figures are measured
# by the chance-level function the card's own ECE is read against (_ece_noise), never typed.
ECE_NOISE_RATE, ECE_NOISE_SPREAD, ECE_NOISE_PEOPLE = 0.15, 0.8, (370, 2000)
WINDOW_LABELS = {"train": "Training", "valid": "Validation", "test": "Test"}
CENSORING_COLUMNS = {"as_of": "Snapshot date", "reason": "Outcome", "n": "Snapshots", "horizon_months": "Horizon (months)",
                     "window": "Window", "censored": "Censored"}
CHECK_LABELS = {"beats_baselines": "Beats both baselines", "calibration_ece": "Overall calibration (ECE)",
                "calibration_in_the_large": "Risks right on average (expected against observed leavers)",
                "calibration_by_date": "Risks right on average at each test date",
                "group_roc_auc": "Ranking within each group (ROC-AUC)",
                "group_calibration": "Calibration within each group", "card_exists": "Model card written",
                "test_leavers": "Enough leavers in the test window"}
# Who gets which list (retention-ml rank); the intended use and the ethical considerations both say it.
MANAGER_GETS = "the list of their own team or teams, without themselves"
# A flat-extract model (one row per employee) cannot score anyone: `score` needs the council's snapshot tables.
FLAT_USE = ("**For:** analysis only: HR analysts and evaluators, to see which columns of a one-row-per-employee "
            "extract go with leaving and how well they rank the leavers in it. This model was trained on such an "
            "extract, has no dates and cannot score anyone (`retention-ml score` needs the council's snapshot "
            "tables), so it gives team managers and heads of service no lists.")
FLAT_LISTS = ("This model makes no lists: it was trained on a one-row-per-employee extract and cannot score anyone; "
              "its test predictions carry pseudonymous ids only.")
HEAD_GETS = ("the list of their service's team managers (`retention-ml rank --service`) and the list of their "
             "service's teams with no manager recorded")
AGENCY_TEXT = {"flag": "agency workers included and marked, so results can be checked for them separately",
               "exclude": "agency workers left out", "only": "agency workers only"}
CALIBRATION_METHODS = {"platt": "Platt scaling", "isotonic": "isotonic regression"}
# An optional table: without it there is nothing to check explanations against, and nothing to tabulate.
NO_INTERVIEWS = ("No exit interviews in the data: explanations could not be checked against what leavers said "
                 "(the exit_interviews table was not supplied, or no test-window leaver had one).")
NOT_MEASURED = "not measured"
NOT_RECORDED = "not recorded"
TEAM_CHECK_TITLE = "Team figures on the lists, checked on the test window"
DATES_TITLE = "Risks as chances, test date by test date"
NO_TEAM_KEY = ("Not checked: this run's logged test predictions hold no team key (runs trained before the team "
               "pseudonym was logged), so the lists' team figures cannot be compared with what happened. Train the "
               "experiment again to check them.")
FLAT_EXPLANATIONS = ("No per-person explanations: SHAP explanations, driver importance and the exit-interview "
                     "check are made for snapshot data, and a model of a one-row-per-employee extract makes no lists "
                     "to give reasons on.")
FLAT_NO_TEAMS = "Not applicable: a model of a flat extract has no managers' lists with team figures."


@dataclass
class ModelCard:
    """Everything the card shows, gathered from one run. ``context`` feeds the templates."""

    run_id: str
    context: dict
    fairness: pd.DataFrame
    images: dict[str, bytes]


# -- formatting (the only place numbers become text) ---------------------------------------------
def _num(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"   # thousands marked as in the prose: a table's 3,730.5 reads as its sentence's


def _count(value) -> str:
    """A count of people, rows, teams or leavers, thousands marked ("37,924") in tables and prose alike."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{int(value):,}"


def _pct(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{100 * value:.{digits}f}%"


def _ece_noise(people: int, *, rate: float, random_state: int = 0) -> float:
    """The ECE that exactly right risks show on average on ``people`` people at leaver rate ``rate``: the mean of
    :func:`retention_ml.evaluate.ece_chance`'s draws, the function behind the chance level beside the run's ECE."""
    from scipy.special import expit, logit

    from retention_ml.evaluate import ece_chance

    risk = expit(np.random.default_rng(random_state).normal(logit(rate), ECE_NOISE_SPREAD, people))
    return float(ece_chance(risk, workers=np.arange(people), random_state=random_state).mean())


def _glossary() -> list[tuple[str, str]]:
    """:data:`GLOSSARY` with its ECE example measured (:func:`_ece_noise`)."""
    small, large = ECE_NOISE_PEOPLE
    rate = ECE_NOISE_RATE
    noise = (f"about {_num(_ece_noise(small, rate=rate), 2)} for {_count(small)} people at a {_pct(rate, 0)} leaver "
             f"rate, {_num(_ece_noise(large, rate=rate), 2)} for {_count(large)}")
    return [(term, meaning.replace("{ece_noise}", noise)) for term, meaning in GLOSSARY]


def _calibration_text(cal: dict | None) -> str:
    if not cal:
        return "not recorded"
    method = cal.get("method", "?")
    constants = (f" (fitted constants a = {_num(cal.get('a'))}, b = {_num(cal.get('b'))})"
                 if cal.get("a") is not None else "")
    # where training fitted and checked it (TurnoverModel.validation_): a flat extract has no validation window
    checked = cal.get("checked_on", "validation window")
    where = re.sub(r" \(\d+ rows\)$", "", checked)
    # training writes "validation window (37881 rows)": the count marked as every other count of the card
    checked = re.sub(r"\((\d+) rows\)$", lambda m: f"({_count(int(m.group(1)))} rows)", checked)
    return (f"{CALIBRATION_METHODS.get(method, method)}: raw scores turned into risks by a curve fitted on the "
            f"{where}{constants}; expected calibration error (ECE, the average gap between risk and the share who "
            f"left) on the {checked} {_num(cal.get('ece_valid_before'))} before, "
            f"{_num(cal.get('ece_valid_after'))} after{_valid_chance_text(cal)}")


def _valid_chance_text(cal: dict) -> str:
    """The held-out ECE after calibration against its chance level; nothing for runs logged before it."""
    from retention_ml.evaluate import ece_beyond_chance

    after = (cal.get("ece_valid_chance") or {}).get("after")
    beyond = ece_beyond_chance(after)
    if beyond is None:
        return ""
    return (f" ({'beyond' if beyond else 'within'} chance: risks exactly right reach {_num(after['chance_high'])} on "
            "as many rows 95 times in 100)")


def _group_label(value) -> str:
    """A group code as readers write it: 25_29 -> 25-29, not_known -> not known, C001-East unchanged."""
    text = str(value)
    return text.replace("_", "-") if re.fullmatch(r"\d+_\d+", text) else text.replace("_", " ")


def _driver_label(code: str) -> str:
    """The driver's label from data_schema/drivers.yaml (the one taxonomy); an unknown code made readable."""
    from retention_ml.schema import load_drivers

    labels = {d.code: d.label for d in load_drivers()}
    return labels.get(code, _group_label(code).capitalize())


def _population_text(population) -> str:
    """training.py writes "...; agency workers: flag": the mode becomes words."""
    return re.sub(r"agency workers: (\w+)", lambda m: AGENCY_TEXT.get(m.group(1), m.group(0)), str(population))


def _label_text(label: dict, horizon) -> str:
    if "positive_reasons" in label:
        reasons = " or ".join(_group_label(r) for r in label["positive_reasons"])
        # agency handling is already in the population sentence
        return (f"a snapshot counts as a leaver when the person left voluntarily within {horizon} months of the "
                f"snapshot date (leaving reasons counted: {reasons}).")
    if "column" in label:
        return (f"a row counts as a leaver when the extract's column {label['column']} is {label.get('positive')} "
                "(the extract's own definition and period).")
    return "not recorded."


def gate_detail_text(detail: str) -> str:
    """The gate's detail names groups as factor=code and baselines by code: shown as words."""
    from retention_ml.fairness import FACTOR_LABELS

    def group(m):
        return f"{FACTOR_LABELS[m.group(1)].lower()} {_group_label(m.group(2))}"

    detail = re.sub(rf"\b({'|'.join(FACTOR_LABELS)})=([\w-]+)", group, detail)
    return re.sub(r"\b(logistic|team_base_rate):", lambda m: MODEL_LABELS[m.group(1)].lower() + ":", detail)


def _window(metrics: dict, name: str) -> str:
    """A window's snapshot dates as read: "first to last", or the one date; a flat extract has no dates."""
    span = (metrics.get("windows") or {}).get(name) or []
    if not len(span):
        return "n/a (no dates)"
    first, last = str(span[0]), str(span[-1])
    return first if first == last else f"{first} to {last}"


def _auc_width_text(thresholds: dict) -> str:
    """The gate's bar on the test window's ROC-AUC interval, in the card's thresholds sentence (none in a bar
    recorded before the gate had it)."""
    width = thresholds.get("max_test_auc_interval")
    return "" if width is None else f", and its ROC-AUC 95% interval at most {width:.2f} wide"


def _pp(value, signed: bool = False) -> str:
    """A difference between two rates, in percentage points (never "%": 7% against 5% is 2 pp, not 2%)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{100 * value:{'+' if signed else ''}.1f} pp"


def _interval(item: dict | None, fmt=_num) -> str:
    if not item or item.get("value") is None:
        return "n/a"
    if "chance_high" in item:   # ECE: its chance level, not a range (retention_ml.evaluate.ece_chance)
        return f"{fmt(item['value'])} (chance {fmt(item['chance_high'])})"
    if item.get("low") is None or item.get("high") is None:
        return fmt(item["value"])
    return f"{fmt(item['value'])} ({fmt(item['low'])} to {fmt(item['high'])})"


def _metric_cell(metric: str, item: dict | None) -> str:
    """A test-window metric with its 95% interval; ECE with its chance level, or alone for a run logged before
    chance levels were (its percentile interval sat above the truth and could leave out its own value)."""
    if metric == "ece" and item and "chance_high" not in item:
        return _num(item.get("value"))
    return _interval(item)


# -- reading the run -----------------------------------------------------------------------------
def _optional(loader, run_id: str, path: str):
    try:
        return loader(run_id, path)
    except Exception:  # absent artifact: the card says so instead of failing
        return None


def _read_bytes(run_id: str, path: str) -> bytes | None:
    from retention_ml import tracking

    try:
        with tempfile.TemporaryDirectory() as tmp:
            return tracking.download_artifact(run_id, path, tmp).read_bytes()
    except Exception:
        return None


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for lib in LIBRARIES:
        try:
            out[lib] = version(lib)
        except PackageNotFoundError:
            out[lib] = "not installed"
    return out


def _dates_plot(levels: list[dict] | None, max_ratio: float) -> bytes | None:
    """Left per 100 expected at each test date with its 95% interval, against the gate's bar (shaded), as PNG; None
    with fewer than 2 dates to show (one point shows no drift; the table says so)."""
    shown = [r for r in levels or [] if r.get("people") is not None and r["expected"] > 0]
    if len(shown) < 2:
        return None
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    ratio = np.array([100 * r["ratio"] for r in shown])
    half = np.array([196 * r["se"] / r["expected"] for r in shown])
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    ax.axhspan(100 / max_ratio, 100 * max_ratio, color="0.9", label="the gate's bar")
    ax.axhline(100, color="grey", linestyle="--", linewidth=1, label="risks exactly right")
    ax.errorbar(range(len(shown)), ratio, yerr=half, marker="o", capsize=3, label="left per 100 expected (95%)")
    ax.set_xticks(range(len(shown)), [r["as_of"] for r in shown], fontsize=8)
    ax.set_xlabel("test date")
    ax.set_ylabel("left per 100 expected")
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def _group_plot(audit) -> bytes | None:
    """Observed against predicted leaver rate per assessable group (one panel per factor), as PNG."""
    import matplotlib.pyplot as plt

    fig = _group_figure(audit)
    if fig is None:
        return None
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


# A council-wide card has one bar pair per area or team (300 at national size, a 140-inch picture nobody reads);
# past this many groups a factor's panel shows those furthest from calibration for their size, the rest stay in
# the table. For their size, because the raw gap of a group of 20 is mostly noise (the gate judges it so too).
MAX_PLOTTED_GROUPS = 12
# A group table longer than this (about a printed page) is moved to an appendix after the Approval table: the
# national card's Area table (hundreds of rows) sat between the group tables and Ethical considerations, the Promotion
# gate and Approval, so a board member paged through every area to reach them.
APPENDIX_ROWS = 40


def _plotted_groups(shown: pd.DataFrame) -> pd.DataFrame:
    """The rows the group plot draws: every group of a factor, or the MAX_PLOTTED_GROUPS whose calibration gap is
    the most standard errors from zero.

    Adds ``groups_in_factor`` (how many assessable groups the factor has) so a panel can say what it leaves out.
    """
    from retention_ml.fairness import calibration_standard_error

    if shown.empty:
        return shown.assign(groups_in_factor=pd.Series(dtype="int64"))
    # the audit's own standard error counts a person's rows together (several test dates); a table from elsewhere
    # may lack it, and then its rows are taken as people
    se = (shown["calibration_se"] if "calibration_se" in shown.columns
          else calibration_standard_error(shown["mean_risk"], shown["rows"]))
    z = shown["calibration_gap"] / se
    shown = shown.assign(groups_in_factor=shown.groupby("factor", sort=False)["group"].transform("size"),
                         _order=np.arange(len(shown)), _z=z)
    z_rank = shown.groupby("factor", sort=False)["_z"].rank(method="first", ascending=False)
    return shown[z_rank <= MAX_PLOTTED_GROUPS].sort_values("_order").drop(columns=["_order", "_z"])


def _group_figure(audit):
    """The group plot's figure; the legend sits above all panels so it never covers a bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    from retention_ml.fairness import FACTOR_LABELS

    ok = _plotted_groups(audit.shown)  # never plot a small or withheld group
    if ok.empty:
        return None
    factors = list(dict.fromkeys(ok["factor"]))
    height = 1.0 + 0.45 * len(ok) + 0.4 * len(factors)
    fig, axes = plt.subplots(len(factors), 1, figsize=(7, height), squeeze=False,
                             gridspec_kw={"height_ratios": [max(1, (ok["factor"] == f).sum()) for f in factors]})
    for ax, factor in zip(axes[:, 0], factors):
        rows = ok[ok["factor"] == factor]
        pos = np.arange(len(rows))
        ax.barh(pos - 0.2, rows["base_rate"], height=0.4, label="observed leaver rate", color="#1f77b4")
        ax.barh(pos + 0.2, rows["mean_risk"], height=0.4, label="mean predicted risk", color="#ff7f0e")
        ax.set_yticks(pos, rows["group"].map(_group_label))
        title, total = FACTOR_LABELS.get(factor, factor), int(rows["groups_in_factor"].iloc[0])
        if total > len(rows):
            title += f": the {len(rows)} of {total} groups furthest from calibration for their size (all in the table)"
        ax.set_title(title, fontsize=9, loc="left")
        ax.tick_params(labelsize=8)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))  # readers read rates as percentages
    axes[-1, 0].set_xlabel("share of people leaving within the horizon")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / height))  # the top 0.35 inch is the legend's
    return fig


def _calibration_chance(audit, alpha: float) -> dict[tuple[str, str], bool]:
    """Per shown group (factor, group): whether its observed - predicted leaver rate is beyond chance by the gate's
    own rule (its standard error if the risks were right, Bonferroni over the groups compared: the
    ``group_calibration`` check's z), so a table cell and the gate read a group alike."""
    from retention_ml.promotion import chance_z

    groups = audit.group_shortfalls().dropna(subset=["calibration_gap"])
    z = chance_z(alpha, len(groups))
    return {(r.factor, r.group): bool(r.calibration_gap > z * r.calibration_se) for r in groups.itertuples()}


def _share_chance(audit, alpha: float) -> dict[str, dict[tuple[str, str], bool]]:
    """Per share metric (base rate, flagged share), per shown group: whether its share is beyond chance from the whole
    window's (:func:`retention_ml.fairness.share_chance`); a metric the run's record cannot read is left out."""
    from retention_ml.fairness import SHARE_METRICS, share_chance

    out = {}
    for metric in SHARE_METRICS:
        frame = share_chance(audit, metric, alpha)
        if frame is not None:
            out[metric] = {(r.factor, r.group): bool(r.beyond) for r in frame.itertuples()}
    return out


def _ratio_cell(row: dict, beyond: bool | None) -> str:
    """A group's observed / predicted leavers. With no one left the ratio is 0 whatever the risks, and in a group of
    20-30 people at 5% risk nobody leaving is common: the cell says so and whether it is beyond chance, so a board
    does not read "0.00" as the model being wholly wrong about the group."""
    ratio = _num(row["calibration_ratio"], 2)
    if row["observed"] != 0 or beyond is None:
        return ratio
    return (f"{ratio} (no one left, {_num(row['expected'], 1)} expected: "
            f"{'beyond chance' if beyond else 'within chance'})")


def _fairness_rows(audit, alpha: float = 0.05) -> dict[str, list[dict]]:
    """Per factor: rows as text. A small group's row says "too few to assess" (or why it is withheld) once, in its
    first cell, and leaves the others blank: no number of it is shown, and a table of hundreds of areas, printed, is
    not pages of one phrase repeated in every cell of such a row. ``alpha``: the gate's family error rate, for the
    chance reading of a group in which no one left (:func:`_ratio_cell`)."""
    out: dict[str, list[dict]] = {}
    from retention_ml.fairness import TOO_FEW, WITHHELD

    chance = _calibration_chance(audit, alpha)
    for row in audit.table.to_dict("records"):
        ok = row["status"] == "ok" and not row["withheld"]
        few = ""
        auc = (_num(row["roc_auc"]) if not math.isnan(row["roc_auc"]) else row["roc_auc_note"] or "n/a") if ok else few
        if ok and row.get("roc_auc_low") is not None and not math.isnan(row.get("roc_auc_low", float("nan"))):
            auc += f" ({_num(row['roc_auc_low'])} to {_num(row['roc_auc_high'])})"
        out.setdefault(row["factor"], []).append({
            "group": _group_label(row["group"]), "ok": ok,
            "people": _count(row["people"]) if ok else WITHHELD if row["withheld"] else TOO_FEW,
            "rows": _count(row["rows"]) if ok else few,
            "base_rate": (_pct(row["base_rate"]) + (f" ({_pct(row['base_rate_low'])} to {_pct(row['base_rate_high'])})"
                                                    if "base_rate_low" in row else "")) if ok else few,
            "roc_auc": auc,
            "roc_auc_reference": _reference_cell(row) if ok else few,
            "observed": _count(row["observed"]) if ok else few,
            "expected": _num(row["expected"], 1) if ok else few,
            "calibration_ratio": _ratio_cell(row, chance.get((row["factor"], row["group"]))) if ok else few,
            "calibration_difference": _pp(row["calibration_difference"], signed=True) if ok else few,
            "flagged_share": _pct(row["flagged_share"]) if ok else few,
        })
    return out


def _reference_cell(row: dict) -> str:
    """A shown group's ROC-AUC its own risks imply; "not recorded" for a run logged before the figure."""
    if "roc_auc_reference" not in row:
        return "not recorded"
    return "n/a" if math.isnan(row["roc_auc"]) or math.isnan(row["roc_auc_reference"]) else _num(row["roc_auc_reference"])


def _gap_rows(audit, alpha: float = 0.05) -> list[dict]:
    """The largest gap per factor and metric. The ends of a calibration gap say whether each group is off beyond
    chance (the gate's rule, :func:`_calibration_chance`), and the ends of a base-rate or flagged-share gap whether
    each group's share is beyond chance from the whole window's (:func:`_share_chance`): among hundreds of small
    areas the extremes are the groups chance put furthest out (0 of 1 expected leaver; 7 of 3), and a board should
    not read their spread as the model's."""
    from retention_ml.fairness import FACTOR_LABELS

    chance = _calibration_chance(audit, alpha)
    shares = _share_chance(audit, alpha)

    def end(factor, group, value: str, metric: str) -> str:
        beyond = (chance.get((factor, group)) if metric.startswith("calibration")
                  else shares.get(metric, {}).get((factor, group)))
        mark = "" if beyond is None else f"; {'beyond' if beyond else 'within'} chance"
        return f"{_group_label(group)} ({value}{mark})"

    # (label, format of each group's value, format of the gap): a gap between two rates is in percentage points
    labels = {"base_rate": ("Base rate", _pct, _pp), "roc_auc": ("ROC-AUC", _num, _num),
              "calibration_ratio": ("Calibration ratio (observed / predicted)", lambda v: _num(v, 2),
                                    lambda v: _num(v, 2)),
              "calibration_difference": ("Calibration difference (observed - predicted rate)",
                                         lambda v: _pp(v, signed=True), _pp),
              "flagged_share": ("Share flagged in top 10%", _pct, _pp)}
    rows = []
    gaps = audit.shown_gaps()
    for g in gaps[gaps["groups"] >= 2].to_dict("records"):
        label, fmt, gap_fmt = labels[g["metric"]]
        rows.append({"factor": FACTOR_LABELS.get(g["factor"], g["factor"]), "metric": label, "gap": gap_fmt(g["gap"]),
                     "high": end(g["factor"], g["max_group"], fmt(g["max_value"]), g["metric"]),
                     "low": end(g["factor"], g["min_group"], fmt(g["min_value"]), g["metric"])})
    return rows


def _driver_rows(importance: pd.DataFrame, unmeasured: dict[str, str]) -> list[dict]:
    """Every driver, largest effect first; one the model had no data for says so (last), never "0.000"."""
    gone = importance["driver"].isin(list(unmeasured))
    rows = importance.assign(gone=gone).sort_values(["gone", "mean_abs_shap"], ascending=[True, False], kind="stable")
    return [{"driver": r["driver"], "mean_abs_shap": (f"{NOT_MEASURED} ({unmeasured[r['driver']]})" if r["gone"]
                                                      else _num(r["mean_abs_shap"]))} for r in rows.to_dict("records")]


def _factor_name(factor: str) -> str:
    from retention_ml.fairness import FACTOR_LABELS

    return FACTOR_LABELS[factor].lower() if factor in FACTOR_LABELS else factor


GAP_DATE = "none: a gap, so that no label window runs into the next window"


def _used_for(as_of: str, windows: dict) -> str:
    """Which window a censoring-report date fed (training, validation, test), or that it fed none: dates between
    windows are left out so a window's leaving is never seen while building an earlier one."""
    for name, span in windows.items():
        if span and len(span) == 2 and str(span[0])[:10] <= str(as_of)[:10] <= str(span[1])[:10]:
            return WINDOW_LABELS.get(name, name).lower()
    return GAP_DATE


def _censoring_text(censoring: pd.DataFrame) -> list[dict]:
    """The censoring report's rows as text, its counts (snapshots, horizon) marked as every other count."""
    counts = [k for k in censoring.columns if pd.api.types.is_integer_dtype(censoring[k])]
    text = censoring.astype(str)
    for k in counts:
        text[k] = censoring[k].map(_count)
    return text.to_dict("records")


def _window_rates(metrics: dict) -> str:
    """The leaver rate of each window, oldest first ("11.8% in the training window, ..."): how leaving moved."""
    counts = metrics.get("counts", {})
    return ", ".join(f"{_pct(counts[w]['positives'] / counts[w]['n'])} in the {WINDOW_LABELS[w].lower()} window"
                     for w in ("train", "valid", "test") if counts.get(w, {}).get("n"))


def _overall_level_note(metrics: dict, audit, alpha: float) -> str | None:
    """Whether the model's risks are right on average over the whole test window: predicted against observed
    leavers, judged against chance (two-sided ``alpha``, the gate's error rate) by the gate's own computation,
    :func:`retention_ml.promotion.overall_level` on the audit's whole-window figures (a person's rows counted
    together). ECE averages gaps per risk bin and can pass while every risk is a tenth
    too high, which every team's "expected leavers" on the lists then carries. None when the gap is within
    chance."""
    from retention_ml.promotion import overall_level

    ov = audit.overall
    rows, observed, mean_risk = ov["rows"], ov["positives"], ov["mean_risk"]
    if not rows or not mean_risk or math.isnan(mean_risk):
        return None
    if not overall_level(ov, alpha)["beyond"]:
        return None
    gap = ov["base_rate"] - mean_risk
    expected = mean_risk * rows
    ratio = observed / expected
    over = gap < 0
    return (f"Risks are {'too high' if over else 'too low'} on average, beyond chance: over the whole test window the "
            f"model expected {expected:,.0f} leavers and {observed:,} left ({_pct(ov['base_rate'])} against a mean "
            f"predicted risk of {_pct(mean_risk)}; observed / predicted {ratio:.2f}). Each team's expected leavers on "
            f"the lists are then {'too high' if over else 'too low'}: for every 100 leavers it expected, about "
            f"{round(100 * ratio)} left. The leaver rate "
            f"was {_window_rates(metrics)}: the risks follow the leaving of the years the model learned from "
            "(its calibration was fitted on the validation window), so when a council's leaving moves (pay, caseload "
            "policy, the labour market) they drift with it. Re-train, and re-issue this card, when it does.")


def _ece_note(figures: dict, max_ece: float) -> str | None:
    """The caveat an ECE over the gate's bar calls for, read against its chance level: beyond chance, the risks
    are not chances; within chance, this test window is too small to tell (never "poorly calibrated" on noise)."""
    from retention_ml.evaluate import ece_beyond_chance

    value, beyond = figures["value"], ece_beyond_chance(figures)
    if value <= max_ece:
        return None
    said = f"expected calibration error {_num(value)} exceeds the gate's {_num(max_ece)}"
    if beyond is False:
        return (f"Calibration cannot be judged on this test window: {said}, but risks exactly right would reach "
                f"{_num(figures['chance_high'])} on as few people 95 times in 100 (p = {_num(figures['p_value'], 2)}), "
                "so the gap may be noise alone (the gate fails an ECE over its bar only beyond chance, so not this one). Until a larger "
                "test window shows otherwise, read the percentages as a ranking, not as probabilities.")
    chance = "" if beyond is None else (f", beyond chance (risks exactly right reach {_num(figures['chance_high'])} "
                                        "95 times in 100)")
    return (f"Risks are poorly calibrated overall: {said}{chance}. Read the percentages as a ranking, not as "
            "probabilities.")


def _narrow_wins(metrics: dict) -> list[str]:
    """Baselines the model "beats" only on point estimates: the 95% intervals overlap on both ranking metrics."""
    from retention_ml.promotion import intervals_overlap

    models = metrics["models"]
    return [base for base, beaten in metrics.get("beats_baselines", {}).items()
            if beaten and base in models and intervals_overlap(models, base)]


def _narrow_win_note(metrics: dict, base: str) -> str:
    """A baseline beaten only on point estimates, with the numbers, and what (if anything) the model adds."""
    models = metrics["models"]
    mine, other = models["lightgbm"], models[base]
    name = MODEL_LABELS.get(base, base).removeprefix("Baseline: ")
    note = (f"The model beats the {name} baseline only narrowly: ROC-AUC {_interval(mine['roc_auc'])} against "
            f"{_interval(other['roc_auc'])}, average precision {_interval(mine['average_precision'])} against "
            f"{_interval(other['average_precision'])}. The 95% intervals overlap, so this test window cannot tell "
            f"the two apart: the simpler {name} may rank people as well, and the gate's \"beats\" rests on the "
            "point estimates.")
    from retention_ml.evaluate import ece_beyond_chance

    a, b = mine.get("ece") or {}, other.get("ece") or {}
    if ece_beyond_chance(a) is False and ece_beyond_chance(b):
        note += (f" The turnover model's risks are within chance of right (expected calibration error {_interval(a)}) "
                 f"and the {name}'s are off beyond chance ({_interval(b)}), so its percentages and teams' expected "
                 "leavers are nearer what happened.")
    return note


def _ranking_notes(audit, every: pd.DataFrame, thresholds: dict, alpha: float) -> list[str]:
    """The groups ranked worst, in words a board reads: the one furthest below what is expected of it (what the gate
    judges: what its own risks imply, less the whole window's own shortfall) and, when another, the one furthest
    below the whole window, each with its observed ROC-AUC, the ROC-AUC its own risks imply and the whole window's,
    and what the difference means (:func:`_ranking_reading`). A run logged before the reference: the group furthest
    below the whole window, read as the gate then reads it, and why no more can be said."""
    shown = every[~every["withheld"].astype(bool)].dropna(subset=["roc_auc"])   # never a withheld group's numbers
    if shown.empty:
        return []
    limit, whole = thresholds["max_group_roc_auc_shortfall"], audit.overall["roc_auc"]
    compared = int(every["roc_auc"].notna().sum())

    def name(w) -> str:
        return f"{_factor_name(w['factor'])} = {_group_label(w['group'])} ({_count(w['people'])} people)"

    if not audit.has_auc_reference():
        w = shown.loc[shown["roc_auc_shortfall"].idxmax()]
        if not w["roc_auc_shortfall"] > 0:
            return []
        return [f"Ranking is weakest for {name(w)}: ROC-AUC {_num(w['roc_auc'])} against {_num(whole)} for everyone"
                + _against_gate(w["roc_auc_shortfall"], w["roc_auc_se"], limit, compared, alpha)
                + f". {NO_AUC_REFERENCE}"]
    everyone = audit.overall["roc_auc_reference"]
    window = (f"{_num(whole)} for everyone, whose risks imply {_num(everyone)}" if abs(everyone - whole) >= 0.0005
              else f"{_num(whole)} for everyone")

    def expected(w) -> str:
        # what the gate compares with, said only when the whole window's own gap moves it off the group's figure
        if abs(everyone - whole) < 0.0005:
            return f"where its own risks imply {_num(w['roc_auc_reference'])} ({window})"
        return (f"where {_num(w['roc_auc_expected'])} is expected of it: its own risks imply "
                f"{_num(w['roc_auc_reference'])}, and everyone ranks {_num(abs(whole - everyone))} "
                f"{'above' if whole > everyone else 'below'} what their risks imply ({window})")

    notes = []
    worst = shown.loc[shown["reference_shortfall"].idxmax()]
    if worst["reference_shortfall"] > 0:
        notes.append(f"Ranking against what its own risks imply is weakest for {name(worst)}: ROC-AUC "
                     f"{_num(worst['roc_auc'])} {expected(worst)}: {_ranking_reading(worst, everyone, limit)}"
                     + _against_gate(worst["reference_shortfall"], worst["roc_auc_se"], limit, compared, alpha) + ".")
    lowest = shown.loc[shown["roc_auc_shortfall"].idxmax()]
    if lowest["roc_auc_shortfall"] > limit and lowest.name != worst.name:
        notes.append(f"Furthest below everyone's ranking: {name(lowest)}, ROC-AUC {_num(lowest['roc_auc'])} against "
                     f"{window}, where its own risks imply {_num(lowest['roc_auc_reference'])}: "
                     f"{_ranking_reading(lowest, everyone, limit)}"
                     + _against_gate(lowest["reference_shortfall"], lowest["roc_auc_se"], limit, compared, alpha) + ".")
    return notes


# Said for a run whose logged audit predates the ROC-AUC each group's own risks imply.
NO_AUC_REFERENCE = ("This run's record (logged by an earlier version of retention-ml) does not hold the ROC-AUC each "
                    "group's own risks imply, so whether a group ranks low because the model ranks it badly or because "
                    "its people's risks are alike cannot be told here, and the gate judged each group against everyone; "
                    "re-train to see it")


def _ranking_reading(w, everyone: float, limit: float) -> str:
    """What a group's observed ROC-AUC against the one expected of it, and its own risks' against everyone's
    (``everyone``: the ROC-AUC the whole window's risks imply), mean in words."""
    if w["reference_shortfall"] > limit:
        return "the model ranks this group's leavers worse than its own risks say it should"
    how = ("about as well as those risks allow" if w["reference_shortfall"] <= limit / 2
           else f"{_num(w['reference_shortfall'])} below what is expected of it, under the gate's {_num(limit, 2)}")
    if everyone - w["roc_auc_reference"] > limit:
        return (f"this group's risks are alike, so ranking within it is harder for any model, and the model ranks it "
                f"{how} (or the model cannot tell its people apart: the figures cannot say which; ask whether they "
                "differ in what drives leaving)")
    return f"the model ranks it {how.replace('those risks', 'its own risks')}"


def _against_gate(gap: float, se: float, limit: float, compared: int, alpha: float) -> str:
    """A worst group's gap read against the gate's rule, so the sentence cannot contradict a pass: over the
    threshold beyond chance (the gate fails it) or only within chance for its size (it does not)."""
    from retention_ml.promotion import chance_z

    if not gap > limit:
        return ", within the gate threshold"
    z = chance_z(alpha, compared)
    if gap > z * se:
        return ", over the gate threshold and beyond chance for its size: the gate fails the model on it"
    return (f": over the gate threshold, but within what chance gives a group of its size (the gap is "
            f"{gap / se:.1f} standard errors; with {compared} groups compared, beyond chance starts at {z:.1f}), so the "
            "gate does not fail the model on it. Watch this group at the next re-training")


# a factor with more groups than this is counted in the card's prose, its groups named in fairness.csv
MAX_NAMED_GROUPS = 12


def _groups_named(rows: pd.DataFrame) -> str:
    """Groups per factor in words; a factor with many (hundreds of areas) by its count, not a wall of names."""
    return "; ".join(f"{_factor_name(f)}: " + (", ".join(g["group"].map(_group_label)) if len(g) <= MAX_NAMED_GROUPS
                                                else f"{len(g)} groups (named in fairness.csv)")
                     for f, g in rows.groupby("factor", sort=False))


def _protected_flagging(audit, alpha: float = 0.05) -> str | None:
    """Per protected characteristic, the groups flagged most and least often, each beside the share who left: what
    a union representative asks first, and what the all-factor "largest gap" (small areas' noise at national
    size) never shows. None when no protected characteristic has two groups that may be shown."""
    from retention_ml.fairness import protected_factors

    shown = audit.shown
    shares = _share_chance(audit, alpha)

    def mark(metric: str, r) -> str:
        beyond = shares.get(metric, {}).get((r["factor"], r["group"]))
        return "" if beyond is None else f", {'beyond' if beyond else 'within'} chance"

    parts, over = [], []
    for factor in protected_factors(shown["factor"].unique()):
        g = shown[shown["factor"].eq(factor)].dropna(subset=["flagged_share"])
        if len(g) < 2:
            continue
        over += [f"{_factor_name(factor)} {_group_label(r['group'])} ({_pct(r['flagged_share'])} flagged, "
                 f"{_pct(r['base_rate'])} left)" for r in g.to_dict("records") if _flagged_not_leaving(shares, r, audit)]
        hi, lo = g.loc[g["flagged_share"].idxmax()], g.loc[g["flagged_share"].idxmin()]
        parts.append(f"{_factor_name(factor)}: {_group_label(hi['group'])} {_pct(hi['flagged_share'])}"
                     f"{mark('flagged_share', hi)} ({_pct(hi['base_rate'])} left{mark('base_rate', hi)}), "
                     f"{_group_label(lo['group'])} {_pct(lo['flagged_share'])}{mark('flagged_share', lo)} "
                     f"({_pct(lo['base_rate'])} left{mark('base_rate', lo)})")
    if not parts:
        return None
    from retention_ml.fairness import NO_SHARE_CHANCE

    missing = NO_SHARE_CHANCE.format(what="shares flagged and leaving")
    chance = (" Beside each share, whether it is further from the whole window's than chance puts a group of its "
              "size (Glossary: Beyond chance)." if shares else f" {missing[0].upper()}{missing[1:]}.")
    if over:
        chance += (" Flagged more often than the whole window beyond chance, while not leaving more often beyond "
                   "chance: " + "; ".join(over) + ". Their members reach managers' lists more than their leaving "
                   "shows: ask why before the lists are used.")
    return (f"By protected characteristic, the groups put in the top {round(100 * audit.top_share)}% of risk most and "
            "least often, each with the share of the group who actually left: " + "; ".join(parts) + "." + chance + " A group "
            "flagged more often should also leave more often; where it does not, its members reach managers' lists "
            "more than their leaving warrants. These characteristics are never inputs: a gap comes through "
            "inputs linked to them (for example time since qualifying and age).")


def _flagged_not_leaving(shares: dict, row: dict, audit) -> bool:
    """A group flagged more often than the whole window beyond chance whose leaver rate is not above the whole
    window's beyond chance (both by :func:`_share_chance`); False when either reading is missing."""
    key = (row["factor"], row["group"])
    flagged, left = shares.get("flagged_share", {}).get(key), shares.get("base_rate", {}).get(key)
    if flagged is None or left is None:
        return False
    whole = audit.overall["flagged"] / audit.overall["rows"]
    return bool(flagged and row["flagged_share"] > whole and not (left and row["base_rate"] > audit.overall["base_rate"]))


def _uncompared_protected(audit) -> list[str]:
    """The protected characteristics audited whose groups the card cannot compare: fewer than two groups shown
    (every other one withheld to protect a small group or under the fairness floor), so its tables say nothing."""
    from retention_ml.fairness import protected_factors

    shown = audit.shown.groupby("factor")["group"].nunique()
    return [f for f in protected_factors(audit.table["factor"].unique()) if shown.get(f, 0) < 2]


def _uncompared_note(audit) -> str | None:
    """Said where evaluators read first: a protected characteristic the audit could compare no groups of has not
    been checked at all, though its tables (all "withheld" or "too few") and the input check read as if it had."""
    factors = _uncompared_protected(audit)
    if not factors:
        return None
    names = " or ".join(", ".join(_factor_name(f) for f in factors).rsplit(", ", 1))
    return (f"Nothing in this card shows how the model treats people by {names}: no two groups could be compared "
            f"(every group, or all but one, withheld to protect a small group or under {audit.min_group} people). "
            f"More people in the test window are needed before anyone can say the model is fair by "
            f"{'it' if len(factors) == 1 else 'them'}.")


def _cannot_show(audit, test_window: str, flat: bool) -> list[str]:
    """What the group tables cannot show, in words a board, a data protection officer and a union can act on: each
    point follows from how :func:`retention_ml.fairness.audit_fairness` computes them (one factor at a time, on the
    test window, against who left), not from any figure."""
    factors = [_factor_name(f) for f in dict.fromkeys(audit.table["factor"])]
    if not factors:
        return []
    points = [
        f"Groups are compared one characteristic at a time ({', '.join(factors)}). A group defined by two at once (for "
        "example disabled workers aged 50-59, or Black women) is not checked, and could fare worse than either table "
        "shows.",
        f"They describe the people in the test window ({test_window}) only. Who is in the workforce, and how the model "
        "treats them, changes; nothing re-checks them until the next re-training, when this card is written again.",
        "They check the risks against who actually left. If a group leaves more because of how it is treated at work, "
        "the model learns that as higher risk through the inputs that go with the group, and these tables would call "
        "the risks right: a fair calibration is not "
        "a fair workplace. Read the base rates too: a group that leaves far more often is a question about the "
        "workplace, not about the model.",
    ]
    if not flat:
        points.append("They say nothing about what happens after a list is read: whether the conversations offered, "
                      "and the levers pulled, are as supportive for one group as for another is for the council to "
                      "monitor.")
    if audit.table["group"].astype(str).eq("not_known").any():
        points.append("A \"not known\" group mixes people who chose not to say with records never filled in: its figures "
                      "describe no defined group of people.")
    return points


def _questions(audit) -> list[str]:
    """Questions the card cannot answer and the readers should put before the model is used; the first ones carry
    this run's own unchecked groups and characteristics, so a reader sees what the audit left open."""
    unassessed = audit.table["withheld"].astype(bool) | ~audit.table["status"].eq("ok")
    questions = []
    if (unchecked := int(unassessed.sum())):
        questions.append(f"{_count(unchecked)} of the {_count(len(audit.table))} groups audited are withheld or too few to assess "
                         "(Quantitative analyses by group): how will the council find out whether the model works for "
                         "the people in them?")
    if (uncompared := _uncompared_protected(audit)):
        names = " or ".join(", ".join(_factor_name(f) for f in uncompared).rsplit(", ", 1))
        questions.append(f"No two groups by {names} could be compared: on what evidence would the model be called "
                         "fair by " + ("it?" if len(uncompared) == 1 else "them?"))
    return questions + [
        "What is the lawful basis, and where is the DPIA (its reference goes in the Approval table)? Does it cover "
        "sickness absence as health data, and the fairness audit's groups as special category data?",
        "How and when are staff told that the model exists, what it reads about them and how to see, correct or "
        "object to their entry (A worker's own entry)?",
        "Who receives each list, who else may see it, how long is it kept, and how is a list that was passed on "
        "recorded?",
        "What stops a list being used for anything but a supportive conversation (selection, discipline, "
        "performance, redundancy), and who checks?",
        "When is the model re-trained and this card written again, and who watches the groups named under Ethical "
        "considerations in the meantime?",
    ]


def _audit_rows_note(predictions: pd.DataFrame) -> str | None:
    """What the run's logged audit rows hold and how many of them a scores file of their date singles out: the
    share of rows alone in their date, area, service, employment type and (rounded) risk. None without protected
    characteristics in the rows (nothing special to say)."""
    from retention_ml.disclosure import AUDIT_RISK_DECIMALS
    from retention_ml.fairness import FLAGGED, audit_factors, protected_factors
    from retention_ml.training import AUDIT_KEYS   # what the rows keep besides protected characteristics and risk

    protected = protected_factors(audit_factors(predictions))   # a flat extract's own audit columns too
    if not protected or "risk" not in predictions.columns or predictions.empty:
        return None
    # a holder of a scores file and the HR extract reads these for a person too: with the risk, they tie a row back
    keys = [c for c in AUDIT_KEYS if c in predictions.columns]
    alone = int((predictions.groupby([*keys, "risk"], dropna=False)["risk"].transform("size") == 1).sum())
    name = {"as_of": "date"}
    held = ", ".join(c.replace("_", " ") for c in [*protected, *[k for k in keys if k != "as_of"]])
    # runs logged before the audit rows were rounded carry no flag column and risks at full precision
    risk = f"to {AUDIT_RISK_DECIMALS} decimals" if FLAGGED in predictions.columns else "at full precision"
    where = "".join(name.get(k, k.replace("_", " ")) + ", " for k in keys).removesuffix(", ")
    return (f"The run's logged test rows (`{artifacts.TEST_PREDICTIONS}`, read by this card and the gate) are "
            f"pseudonymous, not anonymous: each of the {len(predictions):,} holds a person's {held}, whether they "
            f"left and their risk {risk}. {alone:,} of them ({alone / len(predictions):.0%}) are alone in their "
            f"{where}{' and ' if keys else ''}risk, so anyone who can read or work out a person's risk (a scores "
            "file of that date, or the model and the extract) could tie them, with their protected characteristics, "
            "back to the person. Keep the run's artifacts to those who run the audit (MLflow permissions) and cover "
            "them in the DPIA as special category data; evaluators read this card, not the rows. Runs trained now "
            f"log the audit's aggregates instead (`{artifacts.FAIRNESS_AUDIT}`, no row about a person): train the "
            "experiment again, and once its card is written delete this run's test rows (or the run).")


def _audit_record_note(audit) -> str | None:
    """What a run that logs the audit's aggregates holds about protected characteristics, for the DPO and the
    unions. None without a protected characteristic in the audit (nothing special to say)."""
    from retention_ml.fairness import protected_factors

    protected = protected_factors(audit.table["factor"].unique())
    if not protected:
        return None
    names = [_factor_name(f) for f in protected]
    held = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
    return (f"The run logs the fairness audit as aggregates only (`{artifacts.FAIRNESS_AUDIT}`, read by this card and "
            f"the gate): per group of {audit.logged_floor or audit.min_group} or more people, its people, rows, leavers, the group figures "
            f"with their standard errors and the flagged share (a group withheld above: its size and the "
            "gate's figures only, and not its size where the window's total less the other sizes would give the "
            f"people of groups under {audit.logged_floor or audit.min_group}); a smaller group only by name. No row about a person "
            f"is logged, so nothing in the run ties a person's {held} to their list entry or their risk. The groups' "
            "figures are still special category data about the workforce: keep the run's artifacts to those who "
            "run the audit (MLflow permissions) and cover them in the DPIA.")


def _team_record_note(metrics: dict) -> str | None:
    """The other per-group figures a run logs: each test-window team's expected and observed leavers by team id
    (:func:`retention_ml.evaluate.expected_vs_observed`), which this card never names but whoever can read the
    run's artifacts can. Said beside the audit's note so a DPO scoping MLflow access sees both."""
    from retention_ml.disclosure import MIN_PEOPLE

    teams = metrics.get("teams") or []
    if not teams:
        return None
    floor = (metrics.get("team_checks") or {}).get("min_people", MIN_PEOPLE)
    return (f"The run also logs, in `{artifacts.METRICS_JSON}`, {len(teams):,} test-window "
            f"team{'s' if len(teams) != 1 else ''} of {floor} or more people by team id{_fewer_logged(metrics)}, "
            "each with its people and its "
            "expected and observed leavers (teams are never named in this card). Anyone who can read the run's "
            "artifacts can see how many left each team: give them the same permissions as the audit.")


def _fewer_logged(metrics: dict) -> str:
    """Why the run logs fewer teams than the card checks at its one test date: both count teams of 5 or more, but the
    logged teams sit beside this card's area and service totals, so a team whose figures would give away a smaller
    team's by subtraction from them is left out too (:func:`retention_ml.evaluate.expected_vs_observed`); the check
    publishes only the whole window's total. Nothing when the two agree or the window has several dates."""
    dates = (metrics.get("team_checks") or {}).get("dates") or []
    checked = dates[0].get("teams", 0) if len(dates) == 1 else 0
    logged = len(metrics.get("teams") or [])
    if checked <= logged:
        return ""
    return (f" (fewer than the {_count(checked)} checked in \"{TEAM_CHECK_TITLE}\": a team is also left out here when "
            "subtracting its figures from its area's or service's totals would give away a smaller team's)")


def _own_entry(flat: bool) -> list[str]:
    """How a worker sees and challenges what the tool says about them: the commands behind a subject access
    request and the rights a union representative will ask about. Static words: the tool does what they name."""
    if flat:
        return ["This model scores no one and makes no lists: there is no entry about a person to see or "
                "challenge. The extract it was trained on is personal data all the same; the council's DPIA says how "
                "staff are told and how they can object."]
    return [
        "**See it.** Any worker may ask what the tool holds and says about them (a subject access request, UK GDPR "
        "Article 15). The analyst runs `retention-ml explain --run <this model> --data <the extract scored> --as-of "
        "<the scoring date> --worker <their id> --inputs --lists-log <the scoring folder>`: their risk and the band "
        "their list showed, who read their row, the reasons in words (with their own sickness days, which the lists "
        "never show), every value the model used about them with its meaning, and every list that held their row "
        "and whom it was for. The council adds the purposes, how long it keeps the lists and anyone a list was "
        "passed on to.",
        "**Correct it.** A value that is wrong (a caseload, a pay point, a commute, sickness days) is corrected in "
        "the HR or case-management system it came from (right to rectification, Article 16); the next extract and "
        "scoring use the corrected value, and the worker can see that with the same command. Past scorings and "
        "the record of which lists held their row are not rewritten: `retention-ml find-worker <their id> "
        "<the scoring and lists folders>` names every output file that holds their id (it only reads), for the "
        "council to decide what to keep, correct or remove (erasure, Article 17) under its retention schedule.",
        "**Challenge it.** A worker may say the reasons do not fit them: that is the conversation a list is for, "
        "and the list entry is never a finding about them. They may object to the processing (Article 21); the "
        "DPIA says how an objection is handled. No decision about anyone may rest on the model (Article 22): if "
        "one seems to, they can ask the data protection officer, and complain to the Information Commissioner's "
        "Office.",
    ]


def _approval(version, gate: list, run_id: str) -> dict:
    """The model's approval as the registry held it when the card was written, in the words lists use
    (:func:`retention_ml.scoring.model_approval`: the alias champion on a version the gate passed), with when it
    became champion (promote's record on the version), beside the gate's verdict."""
    from retention_ml.scoring import model_approval

    approval = model_approval(run_id)
    # the lists' words are about a scoring; the card is about the model, read when the card is written
    detail = approval["detail"].replace("The scored model", "This model").replace(" at scoring time", " now")
    description = (getattr(version, "description", None) or "").strip()
    since = description if approval["status"] == "approved" and description.startswith("Champion since") else ""
    failed = [CHECK_LABELS.get(g.name, g.name).lower() for g in gate if not g.passed]
    return {"status": approval["status"], "detail": detail, "since": since,
            "gate": ("passes every check the card can judge" if not failed else "fails: " + ", ".join(failed))}


def _considerations(metrics: dict, audit, alignment: dict | None, truth: dict | None, thresholds: dict,
                    simulated: bool) -> list[str]:
    """Ethical considerations and caveats written from this run's own numbers (the whole window's expected leavers
    judged per person, from the audit's logged figures): each says where the model is weaker or unchecked. What is
    withheld or logged to protect people is not a weakness of the model: :func:`_withheld_note` and the notes on
    what the run logs follow these, and the brief counts only these."""
    notes = []
    models = metrics["models"]
    mine = models["lightgbm"]
    for base, beaten in metrics.get("beats_baselines", {}).items():
        if not beaten:
            notes.append(
                f"The model does NOT beat the {MODEL_LABELS.get(base, base).removeprefix('Baseline: ')} baseline on the "
                f"test window (ROC-AUC {_num(mine['roc_auc']['value'])} against {_num(models[base]['roc_auc']['value'])}; "
                f"average precision {_num(mine['average_precision']['value'])} against "
                f"{_num(models[base]['average_precision']['value'])}). Its lists add nothing over that simpler rule; "
                "do not use it.")
    if (note := _ece_note(mine["ece"], thresholds["max_ece"])) is not None:
        notes.append(note)
    if (level := _overall_level_note(metrics, audit, thresholds.get("group_family_alpha", 0.05))) is not None:
        notes.append(level)
    notes += [_narrow_win_note(metrics, base) for base in _narrow_wins(metrics)]
    every = audit.group_shortfalls()
    shortfalls = every[~every["withheld"].astype(bool)]  # never print a withheld group's numbers
    alpha = thresholds.get("group_family_alpha", 0.05)
    cal = shortfalls.dropna(subset=["calibration_gap"])
    if not cal.empty:
        i = cal["calibration_gap"].idxmax()
        w = audit.table.loc[i]
        direction = "understates" if w["calibration_difference"] > 0 else "overstates"
        notes.append(
            f"Calibration is worst for {_factor_name(w['factor'])} = {_group_label(w['group'])} "
            f"({_count(w['people'])} people): {_count(w['observed'])} leavers observed against {_num(w['expected'], 1)} "
            f"predicted ({_pct(w['base_rate'])} against {_pct(w['mean_risk'])}); the model {direction} risk for this "
            "group" + _against_gate(cal.loc[i, "calibration_gap"], cal.loc[i, "calibration_se"],
                                    thresholds["max_group_calibration_gap"],
                                    int(every["calibration_gap"].notna().sum()), alpha) + ".")
    notes += _ranking_notes(audit, every, thresholds, alpha)
    if (uncompared := _uncompared_note(audit)) is not None:
        notes.append(uncompared)
    if (protected := _protected_flagging(audit, alpha)) is not None:
        notes.append(protected)
    flagged = audit.worst("flagged_share", shown_only=True)
    from retention_ml.fairness import protected_factors

    # a protected characteristic's largest gap is already in the bullet above: said once
    if flagged is not None and flagged["gap"] > 0 and not (protected and protected_factors([flagged["factor"]])):
        notes.append(
            f"Who gets flagged differs most by {_factor_name(flagged['factor'])}: "
            f"{_pct(flagged['max_value'])} of {_group_label(flagged['max_group'])} are in the top 10% of risk against "
            f"{_pct(flagged['min_value'])} of {_group_label(flagged['min_group'])}. "
            + _spread_chance(audit, flagged, alpha) + "Check whether that mirrors real differences "
            "in leaving (base rates above) before acting on lists.")
    small = audit.table[~audit.table["status"].eq("ok")]
    if not small.empty:
        listed = _groups_named(small)
        notes.append(f"Too few people to assess (under {audit.min_group}), so nothing is known about how the model "
                     f"works for them: {listed}.")
    if alignment is None:
        notes.append("No exit-interview alignment was logged for this run: its explanations are unchecked against what "
                     "leavers said.")
    elif not alignment.get("n_with_interview"):
        notes.append("Per-person explanations are unchecked against what leavers said: there were no exit interviews "
                     "in the data to compare them with. Treat individual reasons as prompts, not findings.")
    else:
        notes += _alignment_notes(alignment)
        if alignment.get("n_with_interview", 0) < 20:
            notes.append(f"Only {alignment.get('n_with_interview', 0)} leavers had an exit interview to check explanations against.")
    if simulated:
        notes.append("Trained and tested on simulated data: the numbers describe the simulator, not any real council.")
    if truth is not None and truth.get("top1", {}).get("value") is not None:
        notes.append(f"On simulated data the top explained driver matched the simulator's true top driver for "
                     f"{_pct(truth['top1']['value'])} of leavers.")
    return notes


def _funnel_counts(frame: pd.DataFrame, verb: tuple[str, str], whole: str) -> str:
    """How many of ``frame``'s groups (:func:`retention_ml.fairness.share_chance`) sit above and below the whole
    window's share beyond chance; ``verb``: its singular and plural ("is flagged", "are flagged")."""
    above, below = int((frame["beyond"] & (frame["value"] > frame["whole"])).sum()), \
        int((frame["beyond"] & (frame["value"] < frame["whole"])).sum())
    if not above and not below:
        return f"none {verb[0]} more or less often than the whole window's {whole} beyond chance for its size"
    return (f"{above:,} {verb[0] if above == 1 else verb[1]} more often than the whole window's {whole} beyond "
            f"chance for {'its' if above == 1 else 'their'} size and {below:,} less often")


def _spread_chance(audit, worst: pd.Series, alpha: float) -> str:
    """A chance reading of a factor's most and least flagged groups, for a board: is each end further from the whole
    window's share than chance puts a group of its size, and how many of the factor's groups are (a funnel over the
    groups; the gate's rule for the groups compared). Said as missing when the run's record cannot give it."""
    from retention_ml.fairness import NO_SHARE_CHANCE, share_chance

    flagged = share_chance(audit, "flagged_share", alpha)
    if flagged is None:
        text = NO_SHARE_CHANCE.format(what="shares flagged")
        return text[0].upper() + text[1:] + ". "
    left = share_chance(audit, "base_rate", alpha)
    factor = worst["factor"]
    mine = flagged[flagged["factor"].eq(factor)].set_index("group")
    whole = _pct(mine["whole"].iloc[0])

    def end(group) -> str:
        r = mine.loc[group]
        return (f"{_group_label(group)}'s {_pct(r['value'])} is {'beyond' if r['beyond'] else 'within'} chance for its "
                f"{_count(r['people'])} people (chance alone puts a group of that size between {_pct(r['low'])} and "
                f"{_pct(r['high'])})")

    text = (f"Read against chance (if being flagged did not depend on the group, the whole window's {whole} with "
            f"{mine['threshold'].iloc[0]:.2f} standard errors either side, the gate's rule for the "
            f"{len(flagged):,} groups compared): {end(worst['max_group'])}; {end(worst['min_group'])}. Of the "
            f"{len(mine):,} {_factor_name(factor)} groups shown, " + _funnel_counts(mine.reset_index(), ("is flagged", "are flagged"), whole))
    if left is not None:
        theirs = left[left["factor"].eq(factor)]
        text += (f"; by the same rule {_funnel_counts(theirs, ('leaves', 'leave'), _pct(theirs['whole'].iloc[0]))} (base rates)"
                 if len(theirs) else "")
    return text + ". "


def _withheld_note(audit) -> str | None:
    """The groups whose figures the card withholds to protect people (still in the gate's checks), or None."""
    withheld = audit.table[audit.table["withheld"].astype(bool)]
    if withheld.empty:
        return None
    from retention_ml.disclosure import MIN_PEOPLE

    # fairness._withhold_few_leavers: 1 to 4 leavers (or stayers) name a person; 0 names nobody and is shown
    return (f"Withheld because 1 to {MIN_PEOPLE - 1} people in the group left (or stayed), or so that such "
            f"a group, or one under {audit.min_group} people, cannot be worked out by subtraction: "
            + _groups_named(withheld) + ". They are still included in the promotion gate's checks. A group "
            "in which nobody left (or nobody stayed) is shown: its 0 is about no one person.")


ALIGNMENT_WITHHELD = "withheld (small groups)"


def _aligned(alignment: dict, *keys: str, fmt=_pct) -> str:
    """One figure of alignment.json as text. Records that withhold small groups hold null for a withheld figure:
    said as withheld, not "n/a" (older records, without the note, have no such nulls)."""
    item = alignment
    for key in keys:
        item = (item or {}).get(key)
    value = item.get("value") if isinstance(item, dict) else item
    if value is None and "small_groups" in alignment:
        return ALIGNMENT_WITHHELD
    return _interval(item, fmt) if isinstance(item, dict) or item is None else fmt(item)


def _shown_difference(alignment: dict, key: str) -> dict | None:
    """``difference_vs_global[key]`` as the card prints it: its value is the difference of the two rates as printed
    (to 0.1%), its interval as logged. The logged difference is exact, but the model's and the global rates are
    rounded one by one, so 32.59% against 24.55% printed as 32.6%, 24.5% and 8.0 pp reads as an arithmetic slip to a
    reader who checks by subtraction (8.1); the printed figure is then the one they can check, within 0.1 pp of the
    logged one (the interval is the bootstrap's, not a subtraction)."""
    diff = (alignment.get("difference_vs_global") or {}).get(key)
    mine = (alignment.get(key) or {}).get("value")
    every = ((alignment.get("global") or {}).get(key) or {}).get("value")
    if not isinstance(diff, dict) or diff.get("value") is None or mine is None or every is None:
        return diff
    printed = round(float(_pct(mine).rstrip("%")) - float(_pct(every).rstrip("%")), 1) + 0.0   # + 0.0: never -0.0
    return diff | {"value": printed / 100}


def _alignment_notes(alignment: dict) -> list[str]:
    """Whether per-person explanations beat the same drivers for everyone, on the first driver or, when that
    comparison is withheld to protect small groups (alignment.json holds null), on the first three."""
    for key, words in (("top1", ("their top driver matches the stated exit reason", "the same top driver")),
                       ("top3", ("the stated exit reason is among their first three drivers",
                                 "the same three drivers"))):
        diff = _shown_difference(alignment, key) or {}
        if diff.get("value") is None:
            continue
        withheld = (" The comparison on the first driver alone is withheld to protect small groups."
                    if key == "top3" else "")
        if diff.get("low") is not None and diff["low"] > 0:
            return [withheld.strip()] if withheld else []
        return [f"Per-person explanations do not clearly beat the global baseline: {words[0]} "
                f"{_pct((alignment.get(key) or {}).get('value'))} of the time against "
                f"{_pct((alignment.get('global', {}).get(key) or {}).get('value'))} for {words[1]} for everyone "
                f"(difference {_interval(diff, _pp)}). Treat individual reasons as prompts, not findings.{withheld}"]
    return ["Per-person explanations could not be compared with the global baseline: the comparison is withheld "
            "to protect small groups (too few leavers per stated reason). Treat individual reasons as prompts, not "
            "findings."]


def _unseen_reasons(alignment: dict | None) -> str | None:
    """What no explanation can match: the stated reasons the model has no input for (the taxonomy's drivers with
    ``model_visible: false``), the share of interviewed leavers who gave one, and top 1 / top 3 among the others
    (alignment.json's ``share_personal`` and ``visible_only``). None when the record holds neither."""
    from retention_ml.schema import driver_codes

    if not alignment or "share_personal" not in alignment or not alignment.get("n_with_interview"):
        return None
    hidden = " or ".join(_driver_label(code).lower() for code in driver_codes(exit_reason=True, model_visible=False))
    share = alignment.get("share_personal")
    visible = alignment.get("visible_only") or {}
    text = (f"The model has no input for {hidden} (nothing it reads measures them), so no explanation and no list "
            "ever names them, and a person low on a list may still leave for them: ")
    if share is None:
        return text + ("how many leavers gave one of them in an exit interview is withheld to protect small groups "
                       "(too few leavers per stated reason).")
    text += (f"{_pct(share)} of the {alignment['n_with_interview']:,} leavers with an exit interview gave one of them, "
             "and count as misses in the table above.")
    if visible.get("n") is None:  # a record from before the split was logged
        return text
    return text + (f" Among the other {visible['n']:,}, whose stated reason the model can see, top 1 is "
                   f"{_aligned(alignment, 'visible_only', 'top1')} and top 3 {_aligned(alignment, 'visible_only', 'top3')}.")


def _protected_sentence(c: dict) -> str:
    """Which protected characteristics this run's audit covers, and which it could not, with the reason."""
    audited = c.get("protected_audited", [])
    ev = c.get("inputs") or {}
    where = ("nowhere in the model's inputs (checked under Model inputs)" if ev.get("features") is not None
             and not ev.get("protected") and not ev.get("looking") and not ev.get("cleared") else "not meant as model inputs (see Model inputs)")
    text = (f"Protected characteristics audited here: {', '.join(audited)}; they are used for this audit and {where}."
            if audited else "No protected characteristic was recorded for this run's test "
            "window, so none is audited here.")
    missing = c.get("not_audited", {})
    if missing:
        text += " Not audited: " + "; ".join(f"{col} ({why})" for col, why in missing.items()) + "."
    return text


def _param_list(params: dict, key: str) -> list[str]:
    """A list-valued experiment key as training logs it (``"['Gender', 'Age']"``); empty when absent."""
    import ast

    try:
        value = ast.literal_eval(params.get(key, "[]"))
    except (ValueError, SyntaxError):
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else []


def _codes(names) -> str:
    """Column and feature names as code (they are identifiers, not words)."""
    return ", ".join(f"`{n}`" for n in names)


def _input_evidence(catalogue: pd.DataFrame | None, params: dict) -> dict:
    """What the model's inputs are and whether any is, or looks like, a protected characteristic.

    Read from the run (its feature catalogue and experiment keys), so the card shows its evidence rather than
    asserting it: ``protected`` = inputs that are a declared protected column (data_schema/ or a flat extract's
    ``flat.protected``) or one of its 0/1 columns; ``looking`` = inputs whose name looks like a protected
    characteristic or a proxy (retention_ml.flat's check); ``cleared`` = those an analyst cleared with
    ``flat.not_protected``, which the board should see named.
    """
    from retention_ml.fairness import protected_columns
    from retention_ml.flat import protected_looking

    if catalogue is None or "feature" not in catalogue.columns:
        return {"features": None, "declared": [], "protected": [], "looking": [], "cleared": []}
    features = [str(f) for f in catalogue["feature"]]
    # a flat extract's 0/1 columns are judged by the extract column they come from (its meaning reads
    # "JobRole = Healthcare Representative (0/1)"), as training judged it, not by the value in their name
    meanings = catalogue["meaning"].astype(str) if "meaning" in catalogue.columns else pd.Series([""] * len(features))
    origin = {f: (m.split(" = ", 1)[0] if m.endswith("(0/1)") and " = " in m else f) for f, m in zip(features, meanings)}
    declared = sorted(set(protected_columns()) | set(_param_list(params, "flat.protected")))
    protected = [f for f in features if origin[f] in declared or f in declared]
    cleared_keys = set(_param_list(params, "flat.not_protected"))
    looking = set(protected_looking(sorted(set(origin.values()))))
    hits = [f for f in features if origin[f] in looking and f not in protected]
    cleared = [f for f in hits if origin[f] in cleared_keys]
    return {"features": features, "declared": declared, "protected": protected,
            "looking": [f for f in hits if f not in cleared], "cleared": cleared}


def _health_inputs(catalogue: pd.DataFrame | None) -> list[str] | None:
    """Meanings of the run's inputs that are health data (the data_schema ``health`` flag) and held values in
    training; None without a logged catalogue."""
    from retention_ml.explain.reasons import health_features

    if catalogue is None or "feature" not in catalogue.columns:
        return None
    rows = catalogue[catalogue["feature"].astype(str).isin(health_features())]
    if "measured" in rows.columns:
        rows = rows[rows["measured"].astype(str).str.lower().isin(["true", "1"])]
    meanings = rows["meaning"] if "meaning" in rows.columns else rows["feature"]
    return [str(m) for m in meanings]


# Beside a health-data input in the Model inputs table: what a data protection officer and a union look for first.
HEALTH_MARK = "health data (UK GDPR Article 9), and can be linked to a disability"


def _input_meaning(row: dict) -> str:
    """An input's meaning for the Model inputs table, with :data:`HEALTH_MARK` when it reads a column the schema
    flags as health data (the flag, not the name, decides)."""
    from retention_ml.explain.reasons import health_features

    meaning = str(row.get("meaning", ""))
    return f"{meaning} (**{HEALTH_MARK}**)" if str(row.get("feature", "")) in health_features() else meaning


def _health_text(inputs: list[str] | None) -> str:
    """What the lists show and withhold of health data, and who sees the values (the DPIA line)."""
    from retention_ml.explain.reasons import load_withheld

    worded = next((t.text for found in load_withheld().values() for t in found), None)
    if inputs is None:
        which = "No feature catalogue was logged for this run, so the card cannot say which inputs are health data."
    elif not inputs:
        return "None of this model's inputs is health data (none read a column flagged as health data)."
    else:
        which = "This model's health-data inputs: " + "; ".join(m[:1].lower() + m[1:] for m in inputs) + "."
    return (f"{which} The lists (every format, for team managers and heads of service alike) name it only as a "
            "driver in words without figures" + (f' ("{worded}")' if worded else "") + ": never a number of days, a "
            "date or a duration. The person's own explanation (`retention-ml explain --worker`, for a subject access "
            "request) and the analyst's explanation file show the values, which the model uses as inputs.")


def _inputs_blocks(c: dict) -> list[dict]:
    """The Model inputs section: every input with its meaning, and the protected-characteristic check's result."""
    ev, rows = c["inputs"], c["input_rows"]
    if ev["features"] is None:
        return [_h("Model inputs", "model-inputs"),
                _p("No feature catalogue was logged for this run, so the card cannot show what the model reads, "
                   "nor check that no protected characteristic is among its inputs.", "notice")]
    declared = ", ".join(f"`{d}`" for d in ev["declared"])
    out = [_h("Model inputs", "model-inputs")]
    if ev["protected"] or ev["looking"]:
        out.append(_p("Protected characteristic among the inputs: "
                      + "; ".join(filter(None, [
                          f"{_codes(ev['protected'])} (declared protected)" if ev["protected"] else "",
                          f"{_codes(ev['looking'])} (the name looks like a protected characteristic or a proxy "
                          "for one)" if ev["looking"] else ""]))
                      + ". The model must not be used until it is retrained without them.", "notice"))
    else:
        out.append(_p(f"Checked when this card was written, from the run's feature catalogue: none of the "
                      f"{len(ev['features'])} inputs is a column declared protected ({declared}) or one of its 0/1 "
                      "columns, and none has a name that looks like a protected characteristic or a proxy for one "
                      "(the check a one-row-per-employee extract passes before training)"
                      + (", except those the analyst cleared (below)." if ev["cleared"] else ".")))
    if ev["cleared"]:
        out.append(_p(f"Inputs whose name looks like a protected characteristic or a proxy, which the analyst "
                      f"cleared as not protected (`flat.not_protected`): {_codes(ev['cleared'])}. The board "
                      "should check that each is what the analyst says.", "notice"))
    health = [row[0] for row in rows if HEALTH_MARK in str(row[1])]
    out += [_p("An input can still carry a protected characteristic indirectly"
               + (f" (sickness absence, {', '.join(health)}, can be linked to a disability; time in post and since "
                  "qualifying, to age)" if health else "")
               + ": the tables by group below show whether risks differ between groups."),
            _table(["Input", "What it measures", "Unit", "Leaving driver"], rows, id="inputs")]
    return out


def _in_100(share) -> str:
    """A share as a lay reader counts it: "about 9 in every 100" (natural frequencies, not decimals)."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "n/a"
    n = round(100 * share)
    return "fewer than 1 in every 100" if n == 0 and share > 0 else f"about {n} in every 100"


def _gate_verdict(gate: list, aliases: list[str]) -> str:
    """The gate's verdict in one sentence a board can act on (the card's gate runs without its own card check)."""
    from retention_ml.promotion import CHAMPION_ALIAS

    failed = [CHECK_LABELS.get(g.name, g.name).lower() for g in gate if not g.passed and g.assessable]
    unassessed = [CHECK_LABELS.get(g.name, g.name).lower() for g in gate if not g.assessable]
    if not failed and not unassessed:
        return ("**Verdict: the model passes every check of the promotion gate** (last section)"
                + (" and is the approved model (registry alias champion)." if CHAMPION_ALIAS in aliases else
                   "; it is not approved until `retention-ml promote` has moved the alias champion to it, and "
                   "every list scored from it before that is marked NOT APPROVED."))
    why = "; ".join(filter(None, [f"failed: {', '.join(failed)}" if failed else "",
                                  f"could not be checked: {', '.join(unassessed)}" if unassessed else ""]))
    return (f"**Verdict: the model does NOT pass the promotion gate ({why}), so it must not be used for managers' "
            "lists.** The last section says why, with the numbers, and what would change it.")


def _protected_brief(ev: dict) -> str:
    """One sentence on protected characteristics and the inputs, only as strong as the evidence behind it."""
    if ev["features"] is None:
        return ("No feature catalogue was logged for this run, so the card cannot show that sex, age, ethnicity and "
                "disability are kept out of its inputs.")
    if ev["protected"] or ev["looking"]:
        return "**Its inputs include a protected characteristic or a name that looks like one (Model inputs).**"
    if ev["cleared"]:
        return (f"**Its inputs include {_codes(ev['cleared'])}, whose name looks like a protected characteristic "
                "or a proxy for one; the analyst cleared them as not protected (Model inputs).**")
    return ("Sex, age, ethnicity and disability are used only to check fairness, never as inputs (the check is "
            "under Model inputs).")


def _fairness_brief(audit, gate: list) -> str | None:
    """The protected characteristics' group figures in two numbers a reader can carry (how far the share who left
    sat from the predicted risk, and the range of ROC-AUC) with the groups at either end, and the gate's reading of
    the group checks. None when no protected characteristic has two groups shown (said by :func:`_uncompared_note`)."""
    from retention_ml.fairness import protected_factors

    shown = audit.shown
    rows = shown[shown["factor"].isin(protected_factors(shown["factor"].unique()))]
    rows = rows[rows.groupby("factor")["group"].transform("size") >= 2]
    if rows.empty:
        return None
    factors = list(dict.fromkeys(rows["factor"]))
    names = " and ".join(", ".join(_factor_name(f) for f in factors).rsplit(", ", 1))

    def who(r) -> str:
        return f"{_factor_name(r['factor'])} {_group_label(r['group'])}"

    text = f"**By protected characteristic** ({names}; {len(rows)} groups shown):"
    cal = rows.dropna(subset=["calibration_difference"])
    if not cal.empty:
        lo, hi = cal.loc[cal["calibration_difference"].idxmin()], cal.loc[cal["calibration_difference"].idxmax()]
        if hi["calibration_difference"] < 0:
            text += (f" fewer left than the risks predicted in every group, by {_pp(-hi['calibration_difference'])} "
                     f"({who(hi)}) to {_pp(-lo['calibration_difference'])} ({who(lo)});")
        elif lo["calibration_difference"] > 0:
            text += (f" more left than the risks predicted in every group, by {_pp(lo['calibration_difference'])} "
                     f"({who(lo)}) to {_pp(hi['calibration_difference'])} ({who(hi)});")
        else:
            text += (f" the share who left minus the predicted risk ran from {_pp(lo['calibration_difference'], True)} "
                     f"({who(lo)}, risks too high) to {_pp(hi['calibration_difference'], True)} ({who(hi)}, too low);")
    auc = rows.dropna(subset=["roc_auc"])
    if not auc.empty:
        lo, hi = auc.loc[auc["roc_auc"].idxmin()], auc.loc[auc["roc_auc"].idxmax()]
        text += (f" ranking (ROC-AUC) ran from {_num(lo['roc_auc'])} ({who(lo)}) to {_num(hi['roc_auc'])} ({who(hi)}), "
                 f"against {_num(audit.overall['roc_auc'])} for everyone.")
    checks = [g for g in gate if g.name in ("group_roc_auc", "group_calibration")]
    if checks:
        words = {"group_roc_auc": "ranking", "group_calibration": "calibration"}
        status = {"pass": "passed", "FAIL": "FAILED"}
        text += (" The gate's checks within groups (every factor, areas included): "
                 + ", ".join(f"{words[g.name]} {status.get(g.status, g.status)}" for g in checks)
                 + " (Promotion gate).")
    return text.rstrip(";") if text.endswith(";") else text


def _unchecked_brief(audit) -> str:
    """How many assessable groups had too few leavers or stayers to check the model's ranking for them."""
    ok = audit.table[audit.table["status"].eq("ok")]
    missing = int(ok["roc_auc"].isna().sum())
    return (f"; for {missing} of the {len(ok)} groups large enough to audit, too few people left (or stayed) to "
            "check how well it ranks them (Promotion gate)" if missing else "")


def _team_checks(predictions: pd.DataFrame, flat: bool, metrics: dict) -> dict:
    """The lists' expected leavers and interval per team, checked per test date (:func:`team_checks`): as training
    logged them in ``metrics.json``, or, for runs logged before that, from the audit rows' team key with the shipped
    list settings; or why not (a flat model, an older run without team key)."""
    from retention_ml.evaluate import team_checks

    if flat:
        return {"missing": FLAT_NO_TEAMS}
    if "team_checks" in metrics:   # the rows hold no team key since it was logged here
        return metrics["team_checks"]
    if not {"team", "team_id"} & set(predictions.columns) or "as_of" not in predictions.columns:
        return {"missing": NO_TEAM_KEY}
    return team_checks(predictions)


def _linked_teams(rows: pd.DataFrame, teams: list[dict]) -> int:
    """How many of ``metrics.json``'s named teams exactly one group of ``rows`` by their team pseudonym matches on
    snapshot rows, leavers and expected leavers (within the rounding of the logged risks and of ``expected``, which
    such runs logged to 3 decimals)."""
    groups = rows[rows["label"].notna()].groupby("team").agg(n=("risk", "size"), sum_risk=("risk", "sum"),
                                                             observed=("label", "sum"))
    named = pd.DataFrame(teams)
    pairs = named[["team_id", "n", "observed", "expected"]].merge(groups, on=["n", "observed"])
    pairs = pairs[(pairs["sum_risk"] - pairs["expected"]).abs() <= 0.0005 * (pairs["n"] + 1)]
    return int(pairs.groupby("team_id").size().eq(1).sum())


def _team_key_note(predictions: pd.DataFrame, metrics: dict) -> str | None:
    """For a run logged while the audit rows carried a team pseudonym: how many of the teams ``metrics.json`` names
    that pseudonym gives away, and what to do. None when nothing links (runs logged since hold no team key)."""
    teams = metrics.get("teams") or []
    if "team" not in predictions.columns or not {"risk", "label"} <= set(predictions.columns) or not teams:
        return None
    linked = _linked_teams(predictions, teams)
    if not linked:
        return None
    return (f"**This run's logged test rows name {_count(linked)} of the {_count(len(teams))} teams in its `{artifacts.METRICS_JSON}` "
            "beside their members' protected characteristics.** The rows carry a team pseudonym, and grouped by it "
            f"each of those {_count(linked)} teams is the only group with its rows, leavers and expected leavers as "
            f"`{artifacts.METRICS_JSON}` lists them under the team's id: a reader of the run learns, for a named team "
            "of a few people, each member's sex, age band, ethnicity, disability and whether they left. Runs "
            "trained since hold no team key. Limit this run's artifacts to those who run the audit, train the "
            "experiment again and retire this run (its card and gate figures come back the same).")


def _miss(item: dict | None) -> str:
    return "none" if item is None else f"{_num(item['expected'], 1)} expected, {_count(item['observed'])} left"


def _team_check_rows(checks: dict) -> list[list[str]]:
    return [[d["as_of"], _count(d["teams"]),
             *([f"{_count(d['inside'])} ({_pct(d['coverage'], 0)}, 95% interval {_pct(d['coverage_low'], 0)} to "
                f"{_pct(d['coverage_high'], 0)}; the risks imply {_pct(d['implied_coverage'], 0)})",
                f"{_count(d['below'])} (the risks imply {_num(d['implied_below'], 0)})",
                f"{_count(d['above'])} (the risks imply {_num(d['implied_above'], 0)})",
                f"{_num(d['mean_expected'], 2)} vs {_num(d['mean_observed'], 2)}", _miss(d["over"]), _miss(d["under"])]
               if d["teams"] else ["n/a"] * 6)]
            for d in checks["dates"]]


def _too_high_note(dates: list[dict]) -> str:
    """Risks too high hardly show in coverage: a small team's range starts at 0 leavers, so nobody falls below it."""
    high = [d for d in dates if d["mean_observed"] < d["mean_expected"]]
    if not high:
        return ""
    d = min(high, key=lambda d: d["mean_observed"] / d["mean_expected"])
    return (f" Coverage hardly shows risks that are too high, since most small teams' ranges start at 0 leavers: at "
            f"{d['as_of']} the lists would have expected {_num(d['mean_expected'], 2)} leavers per team on average and "
            f"{_num(d['mean_observed'], 2)} left (for every 100 expected, about {round(100 * d['mean_observed'] / d['mean_expected'])} "
            "left). Ethical considerations says so when risks are too high (or too low) on average over the whole "
            "test window beyond chance; when it does not, the gap is within chance.")


def team_check_verdict(checks: dict, horizon) -> str:
    """What the coverage means for a manager reading the team line of a list, in words."""
    level = checks["level"]
    dates = [d for d in checks["dates"] if d["teams"]]
    if not dates:
        return (f"No team had {checks['min_people']} or more people at a test date, so the team figures could not be "
                "checked.")
    period = f"the next {horizon} months" if horizon else "the horizon"
    low = [d for d in dates if d["coverage_high"] < level]
    under = [d for d in dates if d["coverage"] < level and d not in low]
    if low:
        worst = min(low, key=lambda d: d["coverage"])
        too_many = "more" if worst["above"] > worst["below"] else "fewer"
        return (f"**The team ranges on the lists are too narrow.** At {', '.join(d['as_of'] for d in low)} only "
                f"{_pct(worst['coverage'], 0)} of teams had a number of leavers inside the {_pct(level, 0)} range their "
                f"list would have shown, below {_pct(level, 0)} beyond chance. A manager should read the range on "
                f"their list as narrower than what really happens: the count over {period} falls outside it for "
                f"{_in_100(1 - worst['coverage'])} teams rather than {_in_100(1 - level)}, most often with "
                f"{too_many} leavers than the range. People in a team do not leave independently (a manager leaving, "
                "a restructure), which the range does not allow for.")
    if under:
        return (f"Fewer than {_pct(level, 0)} of teams fell inside their range at "
                f"{', '.join(d['as_of'] for d in under)}, but within what chance gives for this many teams: the ranges "
                "on the lists are not shown to be too narrow. A manager should still read the range as a guide, "
                "not a promise.")
    fewest = min(dates, key=lambda d: (d["coverage"], d["coverage_low"]))
    held = (f"At least {_pct(level, 0)} of teams had a number of leavers inside the range their list would have shown "
            f"at every test date: a manager can read the range on the list as holding the real count over {period} for "
            f"{_in_100(fewest['coverage'])} teams here (the fewest at any test date; on {_count(fewest['teams'])} teams, as few "
            f"as {_in_100(fewest['coverage_low']).removeprefix('about ')} is within chance).")
    held += _too_high_note(dates)
    clustered = [d for d in dates if d["coverage_high"] < d["implied_coverage"]]
    if not clustered:
        return held
    worst = min(clustered, key=lambda d: d["coverage"] - d["implied_coverage"])
    return (held + f" The range is in whole people, so the risks themselves imply more than {_pct(level, 0)} inside "
            f"({_pct(worst['implied_coverage'], 0)} at {worst['as_of']}), and fewer teams than that were inside, "
            f"beyond chance ({_pct(worst['coverage'], 0)}; {_count(worst['above'])} teams had more leavers than their range "
            f"where the risks imply {_num(worst['implied_above'], 0)}): leaving clusters in some teams (a manager "
            "leaving, a restructure), which a range built from each person's risk alone does not allow for. A manager "
            "should read a count above the range as possible, not as a sign the list was wrong.")


def _gap_pp(ece_value: float) -> str:
    """An ECE in the summary's unit: the average gap between risk and the share who left, in percentage points
    (the summary reads the ECE and its chance level side by side, so both in pp, never one as 0.005)."""
    return f"{100 * ece_value:.1f} pp"


def _level_brief(ov: dict, levels: list[dict] | None, alpha: float | None) -> tuple[str, bool]:
    """The window's leavers per 100 expected and whether that is beyond chance (the gate's computation), and the
    latest test date's when there are several: a board reads the total's verdict here, not only its two counts.
    Also whether the total is off beyond chance (False when it cannot be told)."""
    from retention_ml.promotion import overall_level

    if alpha is None or not ov.get("rows") or not ov.get("mean_risk"):
        return "", False
    level = overall_level(ov, alpha)
    way = "too high" if level["ratio"] < 1 else "too low"
    text = (f"For every 100 expected, {100 * level['ratio']:.0f} left: "
            + (f"the risks are {way} on average, beyond chance. " if level["beyond"] else
               "within what chance gives exactly right risks. "))
    shown = [r for r in levels or [] if r.get("people") is not None and r["expected"] > 0]
    if len(shown) > 1:
        text += (f"At the latest test date ({shown[-1]['as_of']}) {100 * shown[-1]['ratio']:.0f} left for every 100 "
                 f"expected ({DATES_TITLE}). ")
    return text, bool(level["beyond"])


def _chances_brief(ece: dict | None, ov: dict, unit: str, levels: list[dict] | None = None,
                   alpha: float | None = None) -> str:
    """Can the percentages be read as chances? The window's expected against observed leavers (with its verdict and,
    with several test dates, the latest date's: :func:`_level_brief`), and ECE read against its chance level
    (:func:`retention_ml.evaluate.ece_chance`), in words."""
    from retention_ml.evaluate import ece_beyond_chance

    level_text, level_off = _level_brief(ov, levels, alpha)
    text = (f"**Risks as chances:** over the test window the risks added up to {ov['mean_risk'] * ov['rows']:,.0f} "
            f"leavers and {ov['positives']:,} left. ") + level_text
    beyond, gap = ece_beyond_chance(ece), f"about {_gap_pp(ece['value'])}" if ece else "n/a"
    if beyond is None:
        return text + (f"Across groups of similar risk, risk and the share who left differ by {gap} on average (expected "
                       "calibration error; this run was logged before its chance level was).")
    if beyond:
        return text + (f"Across groups of similar risk, risk and the share who left differ by {gap} on average (expected "
                       f"calibration error), more than chance gives on {ov['rows']:,} {unit} (exactly right risks reach "
                       f"{_gap_pp(ece['chance_high'])} 95 times in 100): read a percentage as a chance that is off by "
                       "about that much.")
    return text + (f"Across groups of similar risk, risk and the share who left differ by {gap} on average (expected "
                   f"calibration error), within what chance gives on {ov['rows']:,} {unit} even for exactly right risks "
                   f"(up to {_gap_pp(ece['chance_high'])} 95 times in 100)"
                   + ("; the total above is the gap to read." if level_off
                      else ": nothing here says the percentages cannot be read as chances."))


def _in_brief(c: dict, gate: list, aliases: list[str], audit, metrics: dict, n_inputs: int | None) -> list[str]:
    """The card's first section: verdict, what the model does, how good (in natural frequencies), who is affected,
    what it must not be used for and its limits, every number from the run."""
    ov, mine = audit.overall, metrics["models"]["lightgbm"]
    unit = "people" if ov["rows"] == ov["people"] or c["flat"] else "snapshots (one person at one date)"
    horizon = f"within {c['horizon']} months" if c["horizon"] else "in the extract's period"
    precision = mine.get("precision_top10") or {}
    interval = (f" (95% interval {round(100 * precision['low'])} to {round(100 * precision['high'])})"
                if precision.get("low") is not None and precision.get("high") is not None else "")
    simpler = {k: (metrics["models"].get(k, {}).get("precision_top10") or {}).get("value")
               for k in ("logistic", "team_base_rate")}
    rules = {"logistic": "a plain logistic regression on the same inputs",
             "team_base_rate": "the simpler rule of giving everyone their team's leaving rate"}
    against = " and ".join(f"{_in_100(v)} for {rules[k]}" for k, v in simpler.items() if v is not None)
    inputs = f"{n_inputs} facts" if n_inputs else "facts"
    items = [
        _gate_verdict(gate, aliases),
        ("**What it does:** " + (f"from {inputs} in the columns of a one-row-per-employee extract (listed under "
                                 "Model inputs), it estimates each employee's chance of leaving; it cannot score "
                                 "anyone, so it makes no lists." if c["flat"] else
                                 f"for each social worker in post at a date, it estimates the chance that they leave "
                                 f"voluntarily {horizon}, from {inputs} in the council's HR and case records "
                                 "(listed under Model inputs), and puts a risk band and the main reasons on the list "
                                 "of their own manager.")),
        (f"**How good it is** on the test window ({_window(metrics, 'test')}: {ov['rows']:,} {unit} at a later date than any "
         f"the model was built on): {ov['positives']:,} of them were followed by leaving {horizon}, "
         f"{_in_100(ov['base_rate'])}. Of the {ov['flagged']:,} the model put in its top 10% (the top of a list), "
         f"{ov['flagged_positives']:,} left: {_in_100(ov['flagged_positives'] / ov['flagged'] if ov['flagged'] else None)}"
         f"{interval}"
         + (f", against {against}" if against else "")
         + f". The other {ov['positives'] - ov['flagged_positives']:,} who left were further down the list. Given one person who left and one who stayed, it gives the one who left the higher "
         f"risk {_in_100(ov['roc_auc']).removeprefix('about ').replace(' in every 100', ' times in 100')} "
         "(50 would be a coin toss)."),
        _chances_brief(mine.get("ece"), ov, unit.split(" (")[0], c.get("date_levels"),
                       c["thresholds"].get("group_family_alpha")),
        (f"**Who is affected:** {'the employees in the extract' if c['flat'] else 'every worker in the population'} "
         f"({c['population']}): {ov['people']:,} people in the test window. " + _protected_brief(c["inputs"])
         + (f" **{uncompared}**" if (uncompared := _uncompared_note(audit)) else "")),
        *([fairness] if (fairness := _fairness_brief(audit, gate)) else []),
        ("**It must not be used** to decide anything about a person (recruitment, discipline, performance, "
         "redundancy, pay, promotion), nor to decide anything automatically. It supports a conversation and never "
         "decides; " + (FLAT_LISTS[0].lower() + FLAT_LISTS[1:] if c["flat"] else
                        "a manager's list holds only their own team.")),
        ("**Limits:** " + _limits_count(len(c["limits"]), len(c["protection"])) + _unchecked_brief(audit) + ("; it was trained and tested on simulated data, so its numbers describe the simulator, "
                           "not a real council." if c.get("simulated") else ".")),
    ]
    return items


def _limits_count(limits: int, protection: int) -> str:
    """The brief's count of Ethical considerations' limits, which come first there; the protection notes after them
    (withheld groups, what the run logs) are counted apart, so each count is what it claims."""
    if not limits:
        head = "no point under Ethical considerations says the model is weaker or unchecked"
    elif limits == 1:
        head = "the first point under Ethical considerations says where the model is weaker or unchecked"
    else:
        head = f"the first {limits} points under Ethical considerations say where the model is weaker or unchecked"
    if not protection:
        return head
    where = " after them" if limits else ""
    rest = f"the 1 point{where} says" if protection == 1 else f"the {protection} points{where} say"
    return head + f" ({rest} what is withheld or logged to protect people)"


def build_card(run_ref: str, *, thresholds: dict | None = None, model_name: str | None = None,
               n_boot: int = 0, random_state: int = 0, boot_progress=None,
               thresholds_source: str | Path | None = None) -> ModelCard:
    """Gather the card for a run (configure tracking first). ``n_boot`` adds bootstrap intervals per group;
    ``boot_progress(done, total)`` counts its resamples (:func:`retention_ml.fairness.audit_fairness`).
    ``thresholds`` (read from ``thresholds_source``) is the gate the card prints and checks; how it differs
    from the shipped bar is said (:func:`retention_ml.promotion.thresholds_note`)."""
    from retention_ml import tracking
    from retention_ml.explain.drivers import unmeasured_drivers
    from retention_ml.fairness import FACTOR_LABELS, logged_audit, protected_factors
    from retention_ml.promotion import (date_levels, load_thresholds, registered_version, run_checks,
                                        threshold_departures, thresholds_note)

    thresholds = thresholds or load_thresholds()
    run_id = tracking.resolve_run_id(run_ref)
    run = tracking.client().get_run(run_id)
    tags = dict(run.data.tags)
    metrics = tracking.load_json_artifact(run_id, artifacts.METRICS_JSON)
    alignment = _optional(tracking.load_json_artifact, run_id, OPTIONAL_JSON["alignment"])
    truth = _optional(tracking.load_json_artifact, run_id, OPTIONAL_JSON["truth"])
    tables = {k: _optional(tracking.load_table_artifact, run_id, p) for k, p in OPTIONAL_TABLES.items()}
    # the logged aggregates; an older run's rows (predictions), recomputed as before and named in a note
    audit, predictions = logged_audit(run_id, min_group=thresholds["min_group"], n_boot=n_boot,
                                      random_state=random_state, progress=boot_progress)
    version = registered_version(run_id, model_name)
    name = version.name if version is not None else (model_name or tracking.DEFAULT_MODEL_NAME)
    if version is not None:  # search results carry no aliases; the version itself does
        version = tracking.client().get_model_version(name, version.version)
    simulated = tags.get(artifacts.SIMULATED_TAG) == "true"
    flat = tags.get(artifacts.KIND_TAG) == "flat"
    gate = run_checks(run_id, {**thresholds, "require_card": False}, audit=audit, rows=predictions)

    images = {k: b for k, p in OPTIONAL_IMAGES.items() if (b := _read_bytes(run_id, p)) is not None}
    group_png = _group_plot(audit)
    if group_png is not None:
        images["groups"] = group_png

    started = datetime.fromtimestamp(run.info.start_time / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    metric_rows = [{"metric": METRIC_LABELS[m], "gloss": METRIC_GLOSSES[m],
                    **{k: _metric_cell(m, v.get(m)) for k, v in metrics["models"].items()}}
                   for m in METRIC_LABELS if m in metrics["models"].get("lightgbm", {})]
    # "positives" are leaving snapshots: a leaver counts once per snapshot before leaving (5 quarterly dates in
    # training), so they are shown as such, beside the distinct people who left (older runs did not record them)
    counts = [{"window": WINDOW_LABELS.get(w, w), "dates": _window(metrics, w),
               "n": _count(c["n"]), "positives": _count(c["positives"]), "workers": _count(c["workers"]),
               "leavers": _count(c["leavers"]) if "leavers" in c else NOT_RECORDED,
               "base_rate": _pct(c["positives"] / c["n"]) if c["n"] else "n/a"}
              for w, c in metrics.get("counts", {}).items()]
    drivers = tables["driver_importance"]
    unmeasured = unmeasured_drivers(tables["catalogue"])
    top_drivers = [] if drivers is None else _driver_rows(drivers, unmeasured)
    censoring = tables["censoring"]
    context = {
        "title": f"Model card: {name}" + (f" version {version.version}" if version is not None else ""),
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "details": [
            ("Registered model", name),
            ("Registry version", str(version.version) if version is not None else "not registered"),
            ("Registry aliases", ", ".join(getattr(version, "aliases", []) or []) or "none"),
            ("MLflow run id", run_id),
            ("Experiment", tags.get(artifacts.EXPERIMENT_TAG, run.info.run_name or "n/a")),
            ("Training window (snapshot dates)", _window(metrics, "train")),
            ("Validation window", "none: the trees and the calibration were chosen by cross-fitting on the training "
                                  "rows" if flat else _window(metrics, "valid")),
            ("Test window", _window(metrics, "test")),
            ("Data fingerprint", tags.get(artifacts.DATA_FINGERPRINT_TAG, "not recorded")),
            ("Schema version", tags.get("retention_ml.schema_version", "not recorded")),
            ("retention-ml version", tags.get("retention_ml.package_version", "not recorded")),
            ("Git commit", tags.get(artifacts.GIT_COMMIT_TAG, "not recorded")),
            ("Simulated data", "yes" if simulated else "no"),
            ("Trained by", tags.get("mlflow.user", run.info.user_id or "not recorded")),
            ("Trained at", started),
            ("Calibration", _calibration_text(metrics.get("calibration"))),
        ],
        "libraries": _library_versions(),
        "glossary": _glossary(),
        "flat": flat,
        "horizon": metrics.get("horizon_months"),
        "label": _label_text(metrics.get("label") or {}, metrics.get("horizon_months")),
        "population": _population_text(metrics.get("population", "not recorded")),
        "censored": metrics.get("censored", "n/a"),
        "censoring_rows": [] if censoring is None else _censoring_text(censoring),
        "censoring_columns": [] if censoring is None else list(censoring.columns),
        "windows": metrics.get("windows") or {},
        "counts": counts,
        "model_names": [k for k in metrics["models"]],
        "model_labels": MODEL_LABELS,
        "metric_rows": metric_rows,
        "beats": metrics.get("beats_baselines", {}),
        "narrow_wins": _narrow_wins(metrics),
        "overall": {"people": audit.overall["people"], "rows": audit.overall["rows"],
                    "roc_auc": _num(audit.overall["roc_auc"]), "base_rate": _pct(audit.overall["base_rate"]),
                    "top_threshold": _pct(audit.overall["top_threshold"])},
        "factor_labels": FACTOR_LABELS,
        "fairness": _fairness_rows(audit, thresholds["group_family_alpha"]),
        "protected_audited": [FACTOR_LABELS.get(f, f) for f in protected_factors(audit.table["factor"].unique())],
        "not_audited": audit.not_audited,
        "gaps": _gap_rows(audit, thresholds["group_family_alpha"]),
        "min_group": audit.min_group,
        "n_boot": n_boot,
        "top_drivers": top_drivers,
        "not_measured": [f"{_driver_label(code)} ({why})" for code, why in unmeasured.items()],
        "alignment": None if alignment is None else {
            "n_leavers": alignment.get("n_leavers"), "n_with_interview": alignment.get("n_with_interview"),
            "top1": _aligned(alignment, "top1"), "top3": _aligned(alignment, "top3"),
            "chance_top1": _aligned(alignment, "chance", "top1"), "chance_top3": _aligned(alignment, "chance", "top3"),
            "global_top1": _aligned(alignment, "global", "top1"), "global_top3": _aligned(alignment, "global", "top3"),
            # the difference of the two rates as printed beside it (_shown_difference), so a reader's subtraction checks
            **{f"diff_{k}": _aligned(alignment | {"shown": {k: _shown_difference(alignment, k)}}, "shown", k, fmt=_pp)
               for k in ("top1", "top3")},
            "small_groups": alignment.get("small_groups", OLD_ALIGNMENT_NOTE),
            "unseen": _unseen_reasons(alignment)},
        "truth": None if truth is None else {
            "n_leavers": truth.get("n_leavers"), "top1": _interval(truth.get("top1"), _pct),
            "top3": _interval(truth.get("top3"), _pct), "spearman_mean": _num(truth.get("spearman_mean")),
            "spearman_median": _num(truth.get("spearman_median")),
            # older runs' truth.json has no such block: the card then leaves the sentence out
            "reference_top1": _interval((truth.get("oracle_last_month") or {}).get("top1"), _pct),
            "reference_top3": _interval((truth.get("oracle_last_month") or {}).get("top3"), _pct)},
        # Ethical considerations: first the limits (where the model is weaker or unchecked; the brief counts them),
        # then what is withheld or logged to protect people, which is not a weakness of the model
        "limits": _considerations(metrics, audit, alignment, truth, thresholds, simulated),
        "protection": [note] if (note := _withheld_note(audit)) is not None else [],
        "questions": _questions(audit),
        "cannot_show": _cannot_show(audit, _window(metrics, "test"), flat),
        "thresholds": thresholds,
        # how this bar differs from the shipped one (None: it is the shipped one), said above the thresholds
        "thresholds_note": thresholds_note(thresholds, thresholds_source) if threshold_departures(thresholds) else None,
        "lower_bar": any(d["lower_bar"] for d in threshold_departures(thresholds)),
        "gate": [c.as_dict() for c in gate],
        "images": sorted(images),
    }
    context["simulated"] = simulated
    context["date_levels"] = None if flat else date_levels(metrics, audit.overall, thresholds["group_family_alpha"],
                                                          predictions)
    if (dates_png := _dates_plot(context["date_levels"], thresholds["max_calibration_ratio"])) is not None:
        images["calibration-by-date"] = dates_png
        context["images"] = sorted(images)
    if (drift := _date_limit(context["date_levels"], thresholds["max_calibration_ratio"])) is not None:
        # beside the whole window's level, which it qualifies
        at = next((i + 1 for i, t in enumerate(context["limits"]) if t.startswith("Risks are")), 0)
        context["limits"].insert(at, drift)
    context["team_checks"] = _team_checks(pd.DataFrame() if predictions is None else predictions, flat, metrics)
    narrow = [d["as_of"] for d in context["team_checks"].get("dates", []) if d["teams"] and d["coverage_high"] < d["level"]]
    if narrow:  # the evaluators' list of cautions names it too, not only the section
        context["limits"].append(f"The team ranges on the lists are too narrow at {', '.join(narrow)}: see "
                                 f"{TEAM_CHECK_TITLE}.")
    rows_note = _audit_record_note(audit) if predictions is None else _audit_rows_note(predictions)
    if rows_note is not None:
        context["protection"].append(rows_note)
    if (team_record := _team_record_note(metrics)) is not None:
        context["protection"].append(team_record)
    if predictions is not None and (team_note := _team_key_note(predictions, metrics)) is not None:
        context["protection"].append(team_note)
    catalogue = tables["catalogue"]
    context["health_inputs"] = _health_inputs(catalogue)
    context["inputs"] = _input_evidence(catalogue, dict(run.data.params))
    context["input_rows"] = [] if catalogue is None or "feature" not in catalogue.columns else [
        [f"`{r.get('feature', '')}`", _input_meaning(r), r.get("unit", ""), _driver_label(str(r.get("driver", "other")))]
        for r in catalogue.astype(object).where(catalogue.notna(), "").to_dict("records")]
    if context["inputs"]["protected"] or context["inputs"]["looking"]:
        context["limits"].insert(0, "Its inputs include a protected characteristic or a name that looks "
                                    "like one (Model inputs): do not use it until it is retrained without.")
    context["considerations"] = context["limits"] + context["protection"]
    context["in_brief"] = _in_brief(context, gate, list(getattr(version, "aliases", []) or []), audit, metrics,
                                    None if catalogue is None else len(catalogue))
    context["approval"] = _approval(version, gate, run_id)
    context["blocks"] = _blocks(context)
    fairness = audit.summary()
    return ModelCard(run_id=run_id, context=context, fairness=fairness, images=images)


# -- the card's text, once: both renderers walk the same blocks, so Markdown and HTML cannot drift --
# A block is {"kind": "h" | "p" | "ul" | "table" | "img", ...}. Text may carry **bold** and `code`; each renderer
# turns that into its own markup (the HTML one after escaping).
def _h(text: str, id: str | None = None, level: int = 2) -> dict:
    return {"kind": "h", "level": level, "text": text, "id": id}


def _p(text: str, style: str = "") -> dict:
    return {"kind": "p", "text": text, "style": style}


def _ul(items: list[str], id: str | None = None) -> dict:
    return {"kind": "ul", "items": list(items), "id": id}


def _table(header: list[str], rows: list, id: str | None = None, attrs: dict | None = None) -> dict:
    """``rows``: lists of cells, or {"cells": [...], "muted": bool} (muted = a small group's greyed cells)."""
    rows = [r if isinstance(r, dict) else {"cells": r, "muted": False} for r in rows]
    return {"kind": "table", "header": header, "rows": [{"cells": [str(c) for c in r["cells"]], "muted": r["muted"]}
                                                        for r in rows], "id": id, "attrs": attrs or {}}


def _img(name: str, alt: str, images: list[str], missing: str | None = None, id: str | None = None) -> list[dict]:
    if name in images:
        return [{"kind": "img", "name": name, "alt": alt, "id": id}]
    return [_p(missing)] if missing else []


def _months_between(first: str, last: str) -> int:
    a, b = pd.Timestamp(first), pd.Timestamp(last)
    return (b.year - a.year) * 12 + b.month - a.month


def _date_row(r: dict, max_ratio: float) -> list[str]:
    """One test date: people, expected and observed leavers, left per 100 expected with its 95% interval (the count's
    standard error if the risks were exactly right, over the expected count) and the verdict against the gate's bar."""
    from retention_ml.promotion import ratio_text

    ratio, half = r["ratio"], 1.96 * r["se"] / r["expected"]
    inside = 1 / max_ratio <= ratio <= max_ratio
    way = "risks too high" if ratio < 1 else "risks too low"
    verdict = ("inside the bar" if inside else "outside the bar") + (
        f"; beyond chance ({way})" if r["beyond"] else "; within chance")
    return [r["as_of"], _count(r["people"]), f"{r['expected']:,.1f}", _count(r["observed"]),
            f"{ratio_text(ratio, max_ratio, per=100)} ({100 * max(ratio - half, 0):.0f} to {100 * (ratio + half):.0f})",
            verdict]


def _date_verdict(c: dict, levels: list[dict]) -> str:
    """What the dates show about drift, or, with one test date, that they cannot show it and what can be said."""
    from retention_ml.promotion import ratio_text

    def per100(r: dict) -> str:
        return ratio_text(r["ratio"], c["thresholds"]["max_calibration_ratio"], per=100)

    valid = (c.get("windows") or {}).get("valid") or []
    calibrated = (f" The risks were calibrated on the validation window ({valid[-1]}), where the fit makes the leavers "
                  "expected match those who left in total." if valid else "")
    if len(levels) == 1:
        r = levels[0]
        after = (f", {_months_between(str(valid[-1]), r['as_of'])} months later," if valid else "")
        return (f"The test window is one date ({r['as_of']}), so this card cannot show whether the risks drift over "
                f"the months nearest deployment.{calibrated} At the test date{after} {per100(r)} left for "
                "every 100 expected. A model scored after its test date is further still from the leaving it was "
                "calibrated on: re-check it as outcomes come in, or train with more test dates "
                "(`--set split.test_periods=4`) to see the risks date by date.")
    first, last = levels[0], levels[-1]
    return (f"From the first test date ({first['as_of']}) to the latest ({last['as_of']}, nearest deployment), the "
            f"leavers per 100 expected went from {per100(first)} to {per100(last)}.{calibrated} "
            "The gate fails a date outside the bar only beyond chance over the dates compared (Promotion gate).")


def _date_limit(levels: list[dict] | None, max_ratio: float) -> str | None:
    """The evaluators' caution about calibration over time: a date off beyond chance and outside the bar, one test
    date (drift unseen), or no record; None when every date of several was checked and none is off."""
    from retention_ml.promotion import ratio_text

    if levels is None:
        return (f"Whether the risks stay right up to the latest test date is unchecked: this run did not log its "
                f"leavers per test date (see {DATES_TITLE}); re-train to check it.")
    levels = [r for r in levels if r.get("people") is not None and r["expected"] > 0]
    if not levels:
        return None
    if len(levels) == 1:
        return (f"Whether the risks drift over the months nearest deployment is unchecked: the test window is one date "
                f"({levels[0]['as_of']}), so the risks were checked at that one date only (see "
                f"{DATES_TITLE}).")
    off = [r for r in levels if r["beyond"] and not 1 / max_ratio <= r["ratio"] <= max_ratio]
    if not off:
        return None
    return ("The risks are off beyond chance at " + ", ".join(
        f"{r['as_of']} ({ratio_text(r['ratio'], max_ratio, per=100)} left for every 100 expected)" for r in off)
        + f": they do not keep their meaning over the test window (see {DATES_TITLE}).")


def _date_blocks(c: dict) -> list[dict]:
    """Calibration in the large at each test date (:func:`retention_ml.promotion.date_levels`), or why not."""
    levels = c.get("date_levels")
    if c["flat"]:
        return []
    b = [_h(DATES_TITLE, "calibration-by-date")]
    if levels is None:
        from retention_ml.promotion import NO_DATE_RECORD
        return b + [_p(f"Not shown: {NO_DATE_RECORD}. Train the experiment again to see the risks date by date.")]
    if any(r.get("people") is None for r in levels):
        return b + [_p("Not shown: a test date holds too few people to publish its figures.")]
    levels = [r for r in levels if r["expected"] > 0]
    if not levels:
        return b + [_p("Not shown: no labelled test rows with a risk at any test date.")]
    bar = c["thresholds"]["max_calibration_ratio"]
    period = f"{c['horizon']} months" if c["horizon"] else "the horizon"
    return b + [
        _p("A risk of 20% can be read as a 1 in 5 chance only if, of 100 people given it, about 20 leave: over the "
           "whole test window, and at its latest date too, nearest the months the model will be used, since leaving "
           "moves with pay, caseloads and the labour market. At each test date: the leavers the risks expected (their "
           f"sum), the people who left within {period}, and how many left for every 100 expected, with its 95% "
           "interval (from how far the count strays by chance when the risks are exactly right). The gate's bar: "
           f"{100 / bar:.1f} to {100 * bar:.0f} per 100 expected."),
        _table(["Test date", "People", "Leavers expected", "Left", "Left per 100 expected (95% interval)",
                "Against the bar"], [_date_row(r, bar) for r in levels], id="calibration-by-date-table"),
        *_img("calibration-by-date", "Left per 100 expected at each test date with its 95% interval (the table "
              "above), against the gate's bar (shaded) and risks exactly right (dashed)", c["images"]),
        _p(_date_verdict(c, levels)),
    ]


def _team_check_blocks(c: dict) -> list[dict]:
    checks = c["team_checks"]
    b = [_h(TEAM_CHECK_TITLE, "team-figures")]
    if "missing" in checks:
        return b + [_p(checks["missing"])]
    level, floor = _pct(checks["level"], 0), checks["min_people"]
    period = f"{c['horizon']} months" if c["horizon"] else "the horizon"
    b += [
        _p(f"Every manager's list shows the team's expected leavers over {period} and a range meant to hold the real "
           f"number {level} of the time (`retention-ml rank`). Here the same calculation, by the same function, is applied to the people of "
           f"each team of at least {floor} at each test date, and set beside how many of them left within "
           f"{period}. If the risks are right, the share of teams inside their range is what the risks themselves imply "
           f"(shown beside it): {level} or more, since the range is in whole people. Fewer leavers than the range "
           "means the list's risks were too high for that team; more, too low."),
        _table(["Test date", "Teams checked", f"Inside the {level} range (share)", "Fewer left than the range",
                "More left than the range", "Mean expected vs observed per team", "Largest over-prediction",
                "Largest under-prediction"], _team_check_rows(checks), id="team-figures-table"),
        _p(team_check_verdict(checks, c["horizon"])),
        _p(f"Teams of fewer than {floor} people are not checked and never shown"
           + (f" ({', '.join(_count(d['withheld']) for d in checks['dates'])} teams at the test "
              f"date{'s' if len(checks['dates']) > 1 else ''}, with any more withheld so that they cannot be worked out "
              "by subtraction)" if any(d["withheld"] for d in checks["dates"]) else "")
           + "; no team is named. The check counts everyone in post in the team at the date, its manager too, whom "
             "the lists leave out. The 95% interval of the share is the Wilson score interval over the teams checked (it counts teams rather than resampling them, so a share of 100% still has a range below it)."),
    ]
    return b


def _blocks(c: dict) -> list[dict]:
    """Every heading, sentence and table of the card, in order."""
    from retention_ml.fairness import MIN_CLASS

    run_id = c["details"][3][1]
    b: list[dict] = [
        _p(f"Generated {c['generated']} by `retention-ml card` from the MLflow record of run `{run_id}`. "
           "Every number below is read from that run.", "meta"),
        _p("This model supports conversations; it never decides anything about a person.", "notice"),
        _h("In brief", "in-brief"),
        _ul(c["in_brief"], id="in-brief-items"),
        _h("Model details", "model-details"),
        _table(["Item", "Value"], [[k, v] for k, v in c["details"]], id="details"),
        _p("Library versions where the card was written: "
           + ", ".join(f"{lib} {ver}" for lib, ver in c["libraries"].items()) + "."),
        _h("Intended use", "intended-use"),
        _ul([FLAT_USE, "**Primary users:** HR analysts and evaluators (governance boards, data protection officers, "
                       "trade unions)."] if c["flat"] else
            ["**For:** HR analysts, heads of service and team managers, to prompt supportive conversations about "
             "workload, pay, development and other levers with the people on their lists, and to plan "
             "team-level action (caseload caps, supplements, supervision).",
             "**Primary users:** HR analysts (who train and compare models), team managers (who "
             f"get {MANAGER_GETS}) and heads of service (who get {HEAD_GETS}), and evaluators (governance boards, "
             "data protection officers, trade unions)."]),
        _h("Out of scope", "out-of-scope"),
        _ul(["Any decision about an individual: recruitment, discipline, performance management, redundancy, pay or "
             "promotion.",
             "Any automated decision. The predictions are about employees and are personal data; a decision based "
             "solely on automated processing with legal or similarly significant effects is restricted by **UK GDPR "
             "Article 22**. A human must always decide, and the score must never be the reason.",
             "Use without a **data protection impact assessment (DPIA)**: one is expected before the model is used on "
             "real staff data, covering lawful basis, transparency to staff, retention and who sees the lists, and "
             "any **health data** among its inputs: sickness absence is special category data (UK GDPR Article 9) "
             f"and needs its own condition for processing. {_health_text(c.get('health_inputs'))}",
             f"Workers outside the population the model was trained on ({c['population']})"
             + (f", or other horizons than {c['horizon']} months." if c["horizon"] else ".")]),
        _h("How to read these numbers", "glossary"),
        _p("The card is written for readers who are not data scientists. These are the measures it uses:"),
        _ul([f"**{term}:** {meaning}" for term, meaning in c["glossary"]], id="glossary-terms"),
    ]
    ov = c["overall"]
    names = c["model_names"]
    beats = "; ".join(f"{c['model_labels'].get(m, m)}: **{'yes' if ok else 'NO'}**"
                      + (" (only on the point estimates: the 95% intervals overlap, see Ethical considerations)"
                         if m in c.get("narrow_wins", []) else "") for m, ok in c["beats"].items())
    b += [
        _h("Factors and metrics", "metrics"),
        _p(f"Test window: {_count(ov['rows'])} {'rows' if c['flat'] else 'snapshots'} of {_count(ov['people'])} people, observed leaver rate {ov['base_rate']}. "
           "Values are for the test window with 95% bootstrap intervals over workers. The turnover model is compared "
           "with two simpler rules (baselines); it is only worth using if it does better than both."),
        _table(["Metric", *[c["model_labels"].get(m, m) for m in names], "What it means"],
               [[r["metric"], *[r[m] for m in names], r["gloss"]] for r in c["metric_rows"]], id="metrics-table"),
        _p(f"Beats the baselines (ROC-AUC and average precision): {beats}."),
        *_img("calibration", "Calibration on the test window: the test snapshots split into 10 equal groups by "
               "predicted risk, each point a group's mean predicted risk (across) against the share who left (up), "
               "one line per model; points on the dashed diagonal are well calibrated (the expected calibration "
               "error in the table above sums up the gaps)", c["images"],
              "No calibration plot was logged for this run.", id="calibration-plot"),
        *_date_blocks(c),
        *_team_check_blocks(c),
        _h("Evaluation and training data", "data"),
        _ul([f"Population: {c['population']}.",
             f"Label: {c['label']}",
             "Snapshots whose horizon runs past the end of the data are censored (excluded, never labelled as "
             f"stayers): {_count(c['censored']) if isinstance(c['censored'], int) else c['censored']}.",
             *([f"Drivers not measured: the training data held no value for any of their features, so the model "
                f"could not learn whether they matter (not that they do not): {'; '.join(c['not_measured'])}."]
               if c["not_measured"] else [])]),
        _p("A person in post at several snapshot dates is in several snapshots, so a leaver is counted once in "
           "\"People who left\" and once per snapshot in \"Snapshots followed by leaving\"; the base rate is the "
           "share of snapshots followed by leaving."),
        _table(["Window", "Snapshot dates", "Snapshots", "Snapshots followed by leaving", "People", "People who left",
                "Base rate"],
               [[w["window"], w["dates"], w["n"], w["positives"], w["workers"], w["leavers"], w["base_rate"]]
                for w in c["counts"]], id="windows"),
    ]
    if c["censoring_rows"]:
        cols = c["censoring_columns"]
        used = "as_of" in cols and bool(c.get("windows"))  # which window each date fed, gaps said as such
        b += [_p("Censoring report (snapshots per date, whether they could be labelled"
                 + (", and which window they were used in" if used else "") + "):"),
              _table([CENSORING_COLUMNS.get(k, _group_label(k).capitalize()) for k in cols]
                     + (["Used in window"] if used else []),
                     [[_group_label(r[k]) if k == "reason" else r[k] for k in cols]
                      + ([_used_for(r["as_of"], c["windows"])] if used else []) for r in c["censoring_rows"]],
                     id="censoring")]
    boot = (f" Intervals in brackets: 95%, {c['n_boot']} bootstrap resamples of test-window snapshots (fairlearn "
            "MetricFrame)." if c["n_boot"] else "")
    b += _inputs_blocks(c)
    b += [
        _h("Quantitative analyses by group", "groups"),
        _p(_protected_sentence(c) + f" Groups with fewer than {c['min_group']} people are shown as \"too few to "
           "assess\". \"Flagged\" = in the top 10% of risk across the whole test window (risk at or above "
           f"{ov['top_threshold']}; the same rows as precision and recall in the top 10%). Calibration compares observed with predicted leavers (sum of risks); ratio above "
           "1 means the model understates risk for the group. ROC-AUC needs at least "
           f"{MIN_CLASS} leavers and {MIN_CLASS} stayers in a group. \"ROC-AUC its own risks imply\": the ROC-AUC the "
           "group would have if the model's risks for its people were exactly right (Glossary); a group whose risks "
           "are alike has a low one under any model, so its ROC-AUC is read against this, not against everyone's."
           f"{boot}"),
    ]
    head = ["Group", "People", "Base rate", "ROC-AUC", "ROC-AUC its own risks imply", "Observed leavers",
            "Predicted leavers", "Ratio", "Difference", "Flagged in top 10%"]
    keys = ["people", "base_rate", "roc_auc", "roc_auc_reference", "observed", "expected", "calibration_ratio",
            "calibration_difference", "flagged_share"]
    appendix: list[dict] = []
    for factor, rows in c["fairness"].items():
        label, slug = c["factor_labels"].get(factor, factor), re.sub(r"[^A-Za-z0-9]+", "-", factor).lower()
        table = _table(head, [{"cells": [r["group"], *[r[k] for k in keys]], "muted": not r["ok"]} for r in rows],
                       attrs={"class": "fairness", "data-factor": factor})
        if len(rows) <= APPENDIX_ROWS:
            b += [_h(label, f"groups-{slug}", level=3), table]
            continue
        title = f"Appendix: all {_count(len(rows))} {label.lower()} groups"
        b += [_h(label, f"groups-{slug}", level=3),
              _p(f"{_count(len(rows))} groups, too many to read here: their table, with the columns above, is the last "
                 f"section of this card ({title}). The groups the checks name are under Ethical considerations and "
                 f"Promotion gate; Largest gap per metric is taken over all of them, and the plot below shows the "
                 f"{MAX_PLOTTED_GROUPS} furthest from calibration for their size.")]
        appendix += [_h(title, f"appendix-{slug}"),
                     _p(f"Every group of {label.lower()}, with the columns and rules of Quantitative analyses by group."),
                     table]
    b += [_h("Largest gap per metric", "largest-gaps", level=3),
          _table(["Factor", "Metric", "Largest gap", "Highest", "Lowest"],
                 [[g["factor"], g["metric"], f"**{g['gap']}**", g["high"], g["low"]] for g in c["gaps"]], id="gaps"),
          *_img("groups", "Observed against predicted leaver rate by group (a factor with more than "
                 f"{MAX_PLOTTED_GROUPS} groups: those furthest from calibration for their size); the same numbers are in the "
                 "group tables", c["images"], id="groups-plot"),
          *([_h("What these tables cannot show", "cannot-show", level=3), _ul(c["cannot_show"], id="cannot-show-items")]
            if c.get("cannot_show") else []),
          _h("Explanations", "explanations"),
          _p(FLAT_EXPLANATIONS if c["flat"] else
             "The reasons on the lists come from SHAP values: for each person, how much each driver pushed their risk "
             "up or down. Each person's SHAP values are measured from the average of everyone scored at the same date, "
             "so a reason says what sets this person apart from the workforce at that date, not from the years the "
             "model was trained on.")]
    if c["top_drivers"]:
        b += [_p("All drivers, by how much they move people's risk overall (mean absolute SHAP value on the "
                 "calibrated log-odds scale; only for comparing drivers with each other, 0.000 = moves no one's risk "
                 "to three decimals" + (f"; \"{NOT_MEASURED}\" = the training data held no value for the driver"
                                        if c["not_measured"] else "") + "):"),
              _table(["Driver", "Average effect on risk (mean absolute SHAP, log-odds)"],
                     [[_driver_label(d["driver"]), d["mean_abs_shap"]] for d in c["top_drivers"]], id="drivers")]
    else:
        b.append(_p("No driver importance was logged for this run."))
    a = c["alignment"]
    if a and not a["n_with_interview"]:
        b.append(_p(NO_INTERVIEWS))
    elif a:
        b += [_p(f"Exit-interview alignment: of {_count(a['n_leavers'])} leavers, {_count(a['n_with_interview'])} gave a reason in an "
                 "exit interview. Top 1: the share of them whose stated reason is the model's first driver for them; "
                 "top 3: the share whose stated reason is among its first three. " + a["small_groups"]),
              _table(["", "Top 1", "Top 3"],
                     [["Model's per-person drivers", a["top1"], a["top3"]],
                      ["Global baseline (same drivers for everyone)", a["global_top1"], a["global_top3"]],
                      ["Difference vs global", a["diff_top1"], a["diff_top3"]],
                      ["Chance", a["chance_top1"], a["chance_top3"]]], id="alignment")]
        if a.get("unseen"):
            b.append(_p(a["unseen"]))
    else:
        b.append(_p("No exit-interview alignment was logged for this run."))
    t = c["truth"]
    if t:
        b.append(_p(f"Agreement with the simulator's true drivers ({_count(t['n_leavers'])} leavers): top 1 {t['top1']}, "
                    f"top 3 {t['top3']}; how alike the model's and the true ordering of all drivers are (Spearman rank "
                    f"correlation, 1 = same order, 0 = unrelated): mean {t['spearman_mean']}, median "
                    f"{t['spearman_median']}."))
        if t["reference_top1"] != "n/a":
            b.append(_p("For reference, the simulator's true decomposition in the last month recorded before the "
                        f"snapshot, ranked the same way, scores top 1 {t['reference_top1']}, top 3 "
                        f"{t['reference_top3']} against the same truth; it is not a limit, because people often leave "
                        "in a month when a volatile driver such as sickness has spiked."))
    th = c["thresholds"]
    b += [*_img("beeswarm", "Each driver's effect on each person's risk (SHAP beeswarm: one dot per person)", c["images"]),
          _h("Ethical considerations", "ethics"),
          _ul([*c["considerations"], FLAT_LISTS if c["flat"] else f"A team manager gets {MANAGER_GETS}: nobody holds a supportive conversation with themselves, and "
               f"theirs belongs to their own manager or head of service. A head of service gets {HEAD_GETS}. No list "
               "holds workers of another manager's team or another service; worker ids are pseudonymous."], id="considerations"),
          _h("Caveats and recommendations", "caveats"),
          _ul(["Re-train and re-issue this card when the data, the label definition or the population change; check "
               "calibration by group again after any policy change (pay, caseload caps) because it shifts who leaves.",
               "Tell staff the model exists, what it uses and what it is for, before it is used."]),
          *([_h("Questions to ask before use", "questions"),
             _p("The card cannot answer these; the governance board, the data protection officer and the trade union "
                "representative should have the answers before signing the Approval table."),
             _ul(c["questions"], id="questions-items")] if c.get("questions") and not c["flat"] else []),
          _h("A worker's own entry: seeing and challenging it", "own-entry"),
          _ul(_own_entry(c["flat"]), id="own-entry-items"),
          _h("Promotion gate", "gate"),
          *([_p(f"This card applies {c['thresholds_note']}.", "notice" if c.get("lower_bar") else "")]
            if c.get("thresholds_note") else []),
          _p(f"Thresholds ({'as said above' if c.get('thresholds_note') else '`retention_ml/promotion_thresholds.toml`'}): at least {th.get('min_test_leavers', 'n/a')} leavers in "
             f"the test window{_auc_width_text(th)}; ECE at most {th['max_ece']} (an ECE over it fails only when also beyond its chance level); "
             f"over the whole test window, for every 100 leavers the risks expect, between "
             f"{100 / th['max_calibration_ratio']:.0f} and {100 * th['max_calibration_ratio']:.0f} left (observed / "
             f"expected within a factor {th['max_calibration_ratio']} either way; outside it fails only when also "
             "beyond chance, a person's rows counted together); no group's ROC-AUC "
             f"more than {th['max_group_roc_auc_shortfall']} below what its own risks imply (less however far the "
             "whole window falls short of what everyone's risks imply, which is no group's; runs logged before that "
             "figure: below the whole window's); no group's |observed - "
             f"predicted| leaver rate above {th['max_group_calibration_gap']} ({_pp(th['max_group_calibration_gap'])}; a group fails only when it is also "
             f"beyond chance for its size, family-wise error {th.get('group_family_alpha', 'n/a')} over the groups "
             "compared); must "
             "beat both baselines: "
             f"{'yes' if th['require_beats_baselines'] else 'no'}; a card must exist: "
             f"{'yes' if th['require_card'] else 'no'}; groups under {th['min_group']} people excluded. A check "
             "the data cannot assess reads \"not assessable\" and does not count as passed."),
          _table(["Check", "Result", "Detail"],
                 [[CHECK_LABELS.get(g["name"], _group_label(g["name"])),
                   "pass" if g["passed"] else ("not assessable" if g.get("status") == "not assessable" else "**FAIL**"),
                   gate_detail_text(g["detail"])] for g in c["gate"]], id="gate-checks")]
    ap = c["approval"]
    b += [_h("Approval", "approval"),
          _ul([f"**Promotion gate** when this card was written (without its own check that a card exists): {ap['gate']}.",
               f"**Registry** when this card was written: **{ap['status'].upper()}**. {ap['detail']}"
               + (f" {ap['since']}" if ap["since"] else ""),
               "The gate checks numbers; whether the model may be used is the council's decision. Record it below "
               "(or in the minutes that hold it) before any list reaches a manager, and write the card again after "
               "`retention-ml promote`, so the registry line above reads as approved."], id="approval-items"),
          _table(["Who", "Name", "Date", "Decision and conditions"],
                 [["Governance board", "", "", ""], ["Data protection officer (DPIA reference)", "", "", ""],
                  ["Trade union representative (consulted)", "", "", ""]], id="sign-off")]
    return b + appendix


def _inline_html(text):
    """Escape, then turn the blocks' **bold** and `code` into tags (a ``markupsafe.Markup``)."""
    import markupsafe

    out = str(markupsafe.escape(str(text)))
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return markupsafe.Markup(out)


def _env(html: bool):
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=html, trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    # A "|" inside a Markdown table cell would split the cell.
    env.filters["cell"] = lambda value: str(value).replace("|", "\\|")
    env.filters["inline"] = _inline_html if html else str
    return env


def render_markdown(card: ModelCard) -> str:
    """The card as Markdown; plots are referenced as PNG files written beside it."""
    return _env(False).get_template("model_card.md.j2").render(**card.context).rstrip("\n") + "\n"


def render_html(card: ModelCard) -> str:
    """The card as one self-contained HTML page: plots inline as base64 PNG, no external files."""
    inline = {k: "data:image/png;base64," + base64.b64encode(v).decode("ascii") for k, v in card.images.items()}
    return _env(True).get_template("model_card.html.j2").render(**card.context, inline=inline)


def gate_checks(card: ModelCard) -> list[dict]:
    """The promotion gate's checks as the card's table shows them: check, label, passed, detail in words."""
    return [{"check": g["name"], "label": CHECK_LABELS.get(g["name"], _group_label(g["name"])),
             "passed": bool(g["passed"]), "detail": gate_detail_text(g["detail"])} for g in card.context["gate"]]


def write_card(run_ref: str, out_dir: str | Path, *, log: bool = True, **kwargs) -> dict[str, Path]:
    """Write model_card.md, model_card.html, fairness.csv and the plots to ``out_dir``.

    With ``log`` they are logged to the run under ``model_card/`` and tag ``retention_ml.card`` is set
    to "written" (the promotion gate looks for both). ``kwargs`` go to :func:`build_card`.
    """
    return save_card(build_card(run_ref, **kwargs), out_dir, log=log)


def save_card(card: ModelCard, out_dir: str | Path, *, log: bool = True) -> dict[str, Path]:
    """Write (and with ``log`` log) an already built card; see :func:`write_card`."""
    from retention_ml import tracking
    from retention_ml.io import atomic_path
    from retention_ml.promotion import CARD_THRESHOLDS_TAG, thresholds_fingerprint

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fname = artifacts.file_name
    paths = {"markdown": out / fname(artifacts.CARD), "html": out / fname(artifacts.CARD_HTML),
             "fairness": out / fname(artifacts.CARD_FAIRNESS)}
    with atomic_path(paths["markdown"]) as tmp:
        Path(tmp).write_text(render_markdown(card), encoding="utf-8")
    with atomic_path(paths["html"]) as tmp:
        Path(tmp).write_text(render_html(card), encoding="utf-8")
    with atomic_path(paths["fairness"]) as tmp:
        card.fairness.to_csv(tmp, index=False, lineterminator="\n")
    for name, data in card.images.items():
        paths[name] = out / f"{name}.png"
        with atomic_path(paths[name]) as tmp:
            Path(tmp).write_bytes(data)
    if log:
        for path in paths.values():
            tracking.log_artifact_file(card.run_id, path, CARD_DIR)
        tracking.set_run_tag(card.run_id, CARD_TAG, "written")
        # the gate's card check compares this with the thresholds it applies: the card must print the bar used
        tracking.set_run_tag(card.run_id, CARD_THRESHOLDS_TAG, thresholds_fingerprint(card.context["thresholds"]))
    return paths
