"""The promotion gate: alias ``champion`` moves to a run's model only when every check passes.

Checks (thresholds in ``retention_ml/promotion_thresholds.toml``, printed in the model card):

- ``test_leavers``: the test window holds at least ``min_test_leavers`` leavers (distinct people), the
  evidence without which ROC-AUC, average precision and ECE are a draw of a seed (below it the ROC-AUC
  interval is wider than 0.20; ``benchmarks/bench_min_leavers.py``), and the ROC-AUC 95% interval is at most
  ``max_test_auc_interval`` wide: the count is that width's stand-in at one test date, and leavers spread over
  several test dates can leave it wider (``benchmarks/bench_one_council.py``).
- ``card_exists``: the model card was written for the run (tag ``retention_ml.card`` = "written" and
  ``model_card/model_card.md`` logged).
- ``beats_baselines``: better than the logistic and team-base-rate baselines on the test window
  (ROC-AUC and average precision, ``evaluation/metrics.json`` "beats_baselines").
- ``calibration_ece``: test-window expected calibration error at most ``max_ece``, or over it only within its
  chance level (what exactly right risks reach on as many rows; runs logged before it: the bar alone).
- ``calibration_in_the_large``: over the whole test window, observed leavers within a factor
  ``max_calibration_ratio`` of the leavers the risks expect, or outside it only within chance (a person's rows at
  several test dates counted together; ECE averages gaps per risk bin and passes risks that are all a tenth high).
- ``calibration_by_date``: the same at each test date, the latest (nearest deployment) included: a date fails
  when its observed / expected is outside the same bar AND beyond chance over the dates compared (two-sided,
  Bonferroni over the dates at ``group_family_alpha``). The whole-window figure averages the dates, so risks that
  drift month by month can pass it. One test date: the whole window's figure is that date's.
- ``group_roc_auc``: no assessable group's ROC-AUC more than ``max_group_roc_auc_shortfall`` below the ROC-AUC
  expected of it: the one its own risks imply (:func:`retention_ml.fairness.model_based_concordance`: what it would
  be were the model's risks for the group exactly right), less what the whole window falls short of everyone's.
  A group whose risks are alike (one age band, a small area sharing a caseload cap and rent) ranks lower than
  everyone under any model, so its shortfall against the whole window, which the detail and the card still give,
  is no evidence that the model ranks it badly. Runs logged before the reference keep the whole-window rule, said
  in the detail.
- ``group_calibration``: no assessable group's |observed rate - mean predicted risk| above
  ``max_group_calibration_gap``.

Groups under ``min_group`` people are excluded from the gap checks. On any failure nothing changes.

A check that cannot be assessed (no group large enough to compare) reads "not assessable", not "pass", and
does not count as passed: like a failure it keeps the model from becoming champion, because the gate
promotes on evidence and the absence of a check is none. The refusal names it and says why.

Example
-------
>>> result = promote("3f2a...")          # doctest: +SKIP
>>> result.promoted, [c.name for c in result.failed]   # doctest: +SKIP
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from retention_ml import artifacts

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["THRESHOLDS_PATH", "Check", "PromotionResult", "load_thresholds", "run_checks", "promote",
           "CHAMPION_ALIAS", "PromotionError", "count_test_leavers", "registered_version", "too_few_leavers", "NOT_ASSESSABLE",
           "threshold_departures", "thresholds_note", "thresholds_fingerprint", "overall_level", "date_levels",
           "ratio_text"]

THRESHOLDS_PATH = Path(__file__).with_name("promotion_thresholds.toml")
CHAMPION_ALIAS = "champion"
GATE_TAG = "retention_ml.gate"      # model version tag promote sets when every check passed
GATE_PASSED = "passed"
# what the gate reads is named once, in retention_ml.artifacts, beside what training and the card write
CARD_TAG = artifacts.CARD_TAG
CARD_ARTIFACT = artifacts.CARD
METRICS_ARTIFACT = artifacts.METRICS_JSON
AUDIT_ARTIFACT = artifacts.FAIRNESS_AUDIT
PREDICTIONS_ARTIFACT = artifacts.TEST_PREDICTIONS   # runs logged before the audit's aggregates
REQUIRED_KEYS = {"require_card": bool, "require_beats_baselines": bool, "min_test_leavers": int, "max_ece": float,
                 "max_group_roc_auc_shortfall": float, "max_group_calibration_gap": float, "min_group": int,
                 "group_family_alpha": float, "max_calibration_ratio": float, "max_test_auc_interval": float}
# Which way each threshold is the stricter bar, to tell a raised bar from a lowered one. min_group: a higher floor
# leaves more groups out of the gap checks (fewer checked); group_family_alpha: a higher alpha gives a smaller z,
# so more groups fail.
STRICTER_WHEN = {"require_card": "true", "require_beats_baselines": "true", "min_test_leavers": "higher",
                 "max_ece": "lower", "max_group_roc_auc_shortfall": "lower", "max_group_calibration_gap": "lower",
                 "min_group": "lower", "group_family_alpha": "higher", "max_calibration_ratio": "lower",
                 "max_test_auc_interval": "lower"}
# Model version tags promote sets with the pass (the gate's record of the bar the version passed) and the run tag
# the card sets (the bar the card prints); a card must print the bar the gate applies.
THRESHOLDS_TAG = "retention_ml.gate_thresholds"            # JSON of the values used
THRESHOLDS_SOURCE_TAG = "retention_ml.gate_thresholds_source"
THRESHOLDS_NOTE_TAG = "retention_ml.gate_thresholds_note"  # the sentence lists and cards repeat
LOWER_BAR_TAG = "retention_ml.gate_lower_bar"              # "true" when any threshold is below the shipped bar
PROMOTED_BY_TAG = "retention_ml.gate_promoted_by"          # the account that ran promote: who approved, for the card
CARD_THRESHOLDS_TAG = "retention_ml.card_thresholds"       # fingerprint of the thresholds the card printed
NOT_ASSESSABLE = "not assessable"


def more_leavers() -> str:
    """What a council with too few test leavers can do (the gate's refusal and train's warning say it), with the
    months of data each route needs and its catch, as measured on simulated councils of 200-300 social workers
    (README "One council's data"; ``benchmarks/bench_one_council.py``): more test dates took most of them past 40
    leavers and up to 3 of 7 past the gate (1 of 7 with one test date); a consortium's test window holds
    hundreds of leavers, but its risks for one council in it were off on average by up to half, which the gate's
    checks of the pooled window do not see. Monthly snapshots are not offered: they added a few leavers over
    quarterly test dates and none of those models beat the logistic baseline."""
    from retention_ml.split import months_needed   # pandas at call time: the gate module stays light to import

    four, eight = (months_needed(12, frequency_months=3, test_periods=n) for n in (4, 8))
    return ("more test dates, each person counted once however many of them they left after: --set "
            f"split.test_periods=4 (a year of quarterly test dates; {four} months of data with the default 12-month "
            f"horizon) or, with {eight} months or more, --set split.test_periods=8 (two years); the model is then "
            "trained on the years before them only and must still beat both baselines on your council's own leavers. "
            "Or a consortium's model: several councils' extracts in one folder (council, area, team and worker ids "
            "unique across councils; validate refuses a repeated one), trained there and your own extract scored with it "
            "(retention-ml score --data YOUR_EXTRACT); the gate then judges the pooled test window and its areas, not "
            "your council as a whole, whose risks can be too high or too low on average where the pool's are right")


# A flat extract has no snapshots or test periods: only more rows (or a larger test part) give more leavers.
MORE_LEAVERS_FLAT = ("a larger test part (--set split.test_fraction=0.4, leaving fewer rows to train on), a longer "
                     "extract (several years of leavers in one file), or pooling several councils' extracts into one "
                     "training")
NO_VERSION = "run {run_id} has no registered version of model {name!r}: train it (which registers it) first"
# A train that stopped with an error, or lost its tracking server, can leave a registered version behind (it is
# registered before the run ends): its logging may be incomplete, so it is never a model to approve.
UNFINISHED = ("run {run_id} did not finish (status {status}): a train still at work, one that stopped with an error or "
              "one that lost its tracking server. Its record may be incomplete, so the gate does not assess it: train "
              "again and promote the new run")


class PromotionError(RuntimeError):
    """The gate could not run (no such run, no registered version, missing evaluation record)."""


@dataclass
class Check:
    """One gate check: ``name``, whether it ``passed``, and a sentence saying why (with the numbers).

    ``assessable=False``: the data could not show either way; ``passed`` is then False (it does not count
    as passed) and ``status`` reads "not assessable".
    """

    name: str
    passed: bool
    detail: str
    assessable: bool = True

    @property
    def status(self) -> str:
        return "pass" if self.passed else ("FAIL" if self.assessable else NOT_ASSESSABLE)

    def as_dict(self) -> dict:
        return {"name": self.name, "passed": self.passed, "status": self.status, "detail": self.detail}


@dataclass
class PromotionResult:
    run_id: str
    model_name: str
    version: str
    promoted: bool
    checks: list[Check]
    champion_before: str | None
    champion_after: str | None
    thresholds: dict = field(default_factory=dict)
    thresholds_note: str = ""
    departures: list = field(default_factory=list)

    @property
    def lower_bar(self) -> bool:
        """True when a threshold applied is below the shipped bar."""
        return any(d["lower_bar"] for d in self.departures)

    @property
    def failed(self) -> list[Check]:
        """Every check that did not pass: failed, or not assessable (both keep the model from champion)."""
        return [c for c in self.checks if not c.passed]

    @property
    def not_assessable(self) -> list[Check]:
        return [c for c in self.checks if not c.assessable]

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "model_name": self.model_name, "version": self.version,
                "promoted": self.promoted, "checks": [c.as_dict() for c in self.checks],
                "failed": [c.name for c in self.failed], "not_assessable": [c.name for c in self.not_assessable],
                "champion_before": self.champion_before,
                "champion_after": self.champion_after, "thresholds": self.thresholds,
                "thresholds_note": self.thresholds_note, "threshold_departures": self.departures,
                "lower_bar": self.lower_bar}


def registered_version(run_id: str, model_name: str | None = None):
    """The newest registry version logged by ``run_id``: of ``model_name`` when given, else of whichever
    registered model holds it (an experiment may set its own ``registered_model``). None when unregistered."""
    from retention_ml import tracking

    if model_name:
        return tracking.model_version_for_run(run_id, model_name)
    versions = tracking.client().search_model_versions(f"run_id = '{run_id}'")
    return max(versions, key=lambda v: int(v.version), default=None)


def load_thresholds(path: str | Path | None = None) -> dict:
    """Read and check the thresholds file (default: the one shipped in the package)."""
    path = Path(path) if path else THRESHOLDS_PATH
    with open(path, "rb") as fh:
        values = tomllib.load(fh)
    for key, kind in REQUIRED_KEYS.items():
        if key not in values:
            raise ValueError(f"{path}: missing key {key!r} (rule: every gate threshold is set explicitly)")
        if kind is float and isinstance(values[key], int) and not isinstance(values[key], bool):
            values[key] = float(values[key])
        if not isinstance(values[key], kind):
            raise ValueError(f"{path}: key {key!r} = {values[key]!r} is not a {kind.__name__}")
    from retention_ml.fairness import MIN_GROUP  # the fairness floor lives there, once

    if values["max_calibration_ratio"] < 1:
        raise ValueError(f"{path}: key 'max_calibration_ratio' = {values['max_calibration_ratio']} is below 1 (rule: "
                         "a factor either way, observed / expected leavers between 1 / ratio and ratio)")
    if values["min_group"] < MIN_GROUP:
        # The floor is the project's rule, not a setting: a lower one would print (and gate on) the numbers
        # of groups too small to publish.
        raise ValueError(f"{path}: key 'min_group' = {values['min_group']} is below {MIN_GROUP} (rule: no fairness "
                         f"aggregate for a group under {MIN_GROUP} people; a council may raise the floor, not lower it)")
    return values


def thresholds_fingerprint(thresholds: dict) -> str:
    """SHA-256 of the threshold values (not the file's text: comments and order do not change the bar)."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(thresholds, sort_keys=True).encode()).hexdigest()


def threshold_departures(thresholds: dict) -> list[dict]:
    """Each value that differs from the shipped file: ``{"key", "used", "shipped", "lower_bar"}``."""
    shipped = load_thresholds()
    out = []
    for key, stricter in STRICTER_WHEN.items():
        used, base = thresholds[key], shipped[key]
        if used == base:
            continue
        lower = {"true": not used, "higher": used < base, "lower": used > base}[stricter]
        out.append({"key": key, "used": used, "shipped": base, "lower_bar": bool(lower)})
    return out


def _value(v) -> str:
    return str(v).lower() if isinstance(v, bool) else f"{v:g}" if isinstance(v, float) else str(v)


def thresholds_note(thresholds: dict, source: str | Path | None = None) -> str:
    """The one sentence saying which bar was applied: the shipped thresholds, or how these differ from them.

    The registry version, the lists' approval line and the card repeat it, so a bar lowered with
    ``promote --thresholds FILE`` is said wherever the approval is read.
    """
    departures = threshold_departures(thresholds)
    where = f"thresholds from {source}" if source else "thresholds given by the caller"
    if not departures:
        return f"the shipped promotion thresholds ({THRESHOLDS_PATH.name})" + (f", as given in {source}" if source else "")
    parts = [f"{d['key']} {_value(d['used'])} (shipped {_value(d['shipped'])}"
             + (": a LOWER bar than shipped)" if d["lower_bar"] else ": stricter)") for d in departures]
    lower = any(d["lower_bar"] for d in departures)
    return (f"{where}, which {'LOWER the bar below' if lower else 'differ from'} the shipped promotion thresholds "
            f"({THRESHOLDS_PATH.name}): " + "; ".join(parts))


def _card_check(run_id: str, tags: dict, thresholds: dict) -> Check:
    from retention_ml import tracking

    logged = CARD_ARTIFACT in tracking.list_artifacts(run_id, "model_card")
    ok = tags.get(CARD_TAG) == "written" and logged
    if not ok:
        return Check("card_exists", False, f"no model card for this run (tag {CARD_TAG}={tags.get(CARD_TAG)!r}, "
                     f"{CARD_ARTIFACT} {'logged' if logged else 'missing'}): run `retention-ml card --run {run_id}` first")
    # Cards written before the tag existed printed the shipped thresholds (the card had no other source).
    printed = tags.get(CARD_THRESHOLDS_TAG) or thresholds_fingerprint(load_thresholds())
    if printed != thresholds_fingerprint(thresholds):
        return Check("card_exists", False, "the model card prints other thresholds than this gate applies (another "
                     "file, or a card written before the gate had a check it applies now), so evaluators would read a "
                     f"bar the model was not held to: re-write it, `retention-ml card --run {run_id}` (with "
                     "`--thresholds FILE` when promoting with one)")
    return Check("card_exists", True, "model card written and logged, printing the thresholds this gate applies")


def intervals_overlap(models: dict, base: str) -> bool:
    """Whether the turnover model's 95% intervals overlap ``base``'s on both ROC-AUC and average precision: a
    "beaten" baseline the test window cannot tell apart from the model (a point estimate a hair above).
    False when either metric has no interval recorded."""
    mine, other = models.get("lightgbm", {}), models.get(base, {})
    for key in ("roc_auc", "average_precision"):
        a, b = mine.get(key) or {}, other.get(key) or {}
        if None in (a.get("low"), a.get("high"), b.get("low"), b.get("high")):
            return False
        if a["low"] > b["high"] or b["low"] > a["high"]:
            return False
    return True


def chance_z(alpha: float, n_groups: int) -> float:
    """Standard errors a group's gap must exceed to be beyond chance: one-sided Bonferroni for ``alpha`` over
    ``n_groups`` compared (the group checks' rule; the card words the same rule)."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(1 - alpha / max(int(n_groups), 1))


def _baseline_check(metrics: dict) -> Check:
    from retention_ml.training import losing_metrics   # train's wording of a lost comparison: one place

    beats = metrics.get("beats_baselines", {})
    models = metrics.get("models", {})
    parts = []
    for base in ("logistic", "team_base_rate"):
        if beats.get(base):
            m, b = models.get("lightgbm", {}), models.get(base, {})
            values = "; ".join(f"{label} {m.get(k, {}).get('value', float('nan')):.3f} vs {b.get(k, {}).get('value', float('nan')):.3f}"
                               for k, label in (("roc_auc", "ROC-AUC"), ("average_precision", "average precision")))
            close = ("; 95% intervals overlap on both, so the test window cannot tell them apart"
                     if intervals_overlap(models, base) else "")
            parts.append(f"{base}: beaten ({values}, LightGBM first{close})")
        elif base in models and "lightgbm" in models:
            parts.append(f"{base}: NOT beaten on {losing_metrics(models, base)}")
        else:
            parts.append(f"{base}: NOT beaten (no {base} metrics in {METRICS_ARTIFACT})")
    ok = all(beats.get(base) is True for base in ("logistic", "team_base_rate"))
    return Check("beats_baselines", ok, "; ".join(parts))


def count_test_leavers(metrics: dict) -> tuple[int, str]:
    """Leavers in the test window: distinct people (``counts.test.leavers``), or for runs trained before that
    was recorded the positive snapshots (``counts.test.positives``); with the unit, for the wording."""
    test = metrics.get("counts", {}).get("test", {})
    if "leavers" in test:
        return int(test["leavers"]), "leavers"
    return int(test.get("positives", 0)), "leaving snapshots"


def too_few_leavers(window: str, leavers: int, people: int, minimum: int, unit: str = "leavers", *,
                    flat: bool = False) -> str:
    """The one sentence for a window with fewer than ``minimum`` leavers (the gate's detail, train's warning);
    ``flat``: the advice for a one-row-per-employee extract, whose snapshot keys would do nothing."""
    return (f"the {window} window holds {leavers:,} {unit} among {people:,} people; at least {minimum} are needed before "
            f"ROC-AUC, average precision and calibration error mean more than the draw of a seed (with fewer, the "
            f"ROC-AUC 95% interval is wider than 0.20). To get more: {MORE_LEAVERS_FLAT if flat else more_leavers()}")


def leavers_check(metrics: dict, minimum: int, max_width: float, *, flat: bool | None = None) -> Check:
    """Enough leavers, and the ROC-AUC interval they give narrow enough to tell a model at 0.70 from one near 0.60.

    The count is justified by the width it gives at one test date; the same people at several test dates, their
    leavers counted once, can leave the interval wider (40 to 58 leavers over 4 or 12 test dates: 0.15 to 0.25 on
    simulated single councils), so the width the count stands for is checked too. ``flat``: a one-row-per-employee
    extract, for the advice (default: read from the run's label, which names a column in a flat extract)."""
    leavers, unit = count_test_leavers(metrics)
    test = metrics.get("counts", {}).get("test", {})
    people = test.get("workers", test.get("n", 0))
    if flat is None:
        flat = "column" in (metrics.get("label") or {})  # a flat extract's label names its column, not a horizon
    if leavers < minimum:
        return Check("test_leavers", False, too_few_leavers("test", leavers, people, minimum, unit, flat=flat))
    held = f"the test window holds {leavers:,} {unit} among {people:,} people (at least {minimum} needed)"
    auc = metrics.get("models", {}).get("lightgbm", {}).get("roc_auc", {}) or {}
    low, high = auc.get("low"), auc.get("high")
    if low is None or high is None or low != low or high != high:   # missing or NaN: no evidence of the width
        return Check("test_leavers", False, f"{held}, but evaluation/metrics.json has no ROC-AUC interval to show "
                                            f"they are enough (at most {max_width:.2f} wide)")
    width = high - low
    said = f"{held}; its ROC-AUC 95% interval {low:.3f}-{high:.3f} is {width:.3f} wide"
    if width <= max_width:
        return Check("test_leavers", True, f"{said} (at most {max_width:.2f})")
    return Check("test_leavers", False, f"{said}, over the {max_width:.2f} that {minimum} leavers give at one test "
                                        "date: the leavers are too few for the spread of the window (often several "
                                        "test dates of the same people), so a pass would be the draw of a seed. To get "
                                        f"more: {MORE_LEAVERS_FLAT if flat else more_leavers()}")


def _ece_check(metrics: dict, max_ece: float) -> Check:
    """ECE over ``max_ece`` fails only when it is also beyond its chance level (``evaluate.ece_beyond_chance``).

    Noise alone makes ECE positive: exactly right risks on the gate's smallest test window (40 leavers, about 270
    rows at a 15% rate) come out over 0.05 in most samples, so the bar alone would refuse well-calibrated models
    for the size of their window. A run logged before ECE had a chance level keeps the bar alone, and says so.
    """
    from retention_ml.evaluate import ece_beyond_chance

    figures = metrics.get("models", {}).get("lightgbm", {}).get("ece", {}) or {}
    value = figures.get("value")
    if value is None or value != value:  # missing or NaN: cannot show calibration, so it does not pass
        return Check("calibration_ece", False, "no test-window ECE in evaluation/metrics.json")
    said = f"test-window ECE {value:.3f} {'<=' if value <= max_ece else '>'} threshold {max_ece:.3f}"
    beyond = ece_beyond_chance(figures)
    if beyond is None:
        return Check("calibration_ece", value <= max_ece, f"{said} (this run was logged before ECE had a chance "
                     "level, so the threshold alone decides)")
    chance = (f"risks exactly right on this test window reach {figures['chance_high']:.3f} 95 times in 100, "
              f"p = {figures['p_value']:.3f}")
    if value <= max_ece:
        return Check("calibration_ece", True, f"{said} ({'beyond' if beyond else 'within'} chance: {chance})")
    if beyond:
        return Check("calibration_ece", False, f"{said} and beyond chance ({chance})")
    return Check("calibration_ece", True, f"{said} but within chance ({chance}): this test window cannot show the "
                 "risks are off, so the check is not failed on noise; a larger test window would tell")


def overall_level(overall: dict, alpha: float) -> dict:
    """Calibration in the large from the fairness audit's whole-window figures (``rows``, ``people``, ``mean_risk``,
    ``positives`` and ``leavers_se``, the standard error with a person's rows counted together: logged at training
    in ``evaluation/fairness_audit.json``, or computed from an older run's test rows), with the verdict at
    ``alpha`` (:func:`retention_ml.evaluate.level_verdict`): a thresholds file's alpha decides from the logged counts.
    The gate's check and the card's caveat both read it, so they cannot disagree.

    Example
    -------
    >>> level = overall_level({"rows": 1000, "people": 1000, "mean_risk": 0.2, "positives": 150, "leavers_se": 12.6},
    ...                       alpha=0.05)
    >>> round(level["expected"]), round(level["ratio"], 2), level["beyond"]
    (200, 0.75, True)
    """
    from retention_ml.evaluate import level_verdict

    rows = overall["rows"]
    figures = {"rows": rows, "people": overall["people"], "expected": overall["mean_risk"] * rows if rows else 0.0,
               "observed": int(overall["positives"]), "se": overall["leavers_se"]}
    return level_verdict(figures, alpha)


def _level_check(level: dict, max_ratio: float) -> Check:
    """Observed against expected leavers over the whole test window: fails when the ratio is outside
    [1 / ``max_ratio``, ``max_ratio``] AND the gap is beyond chance (``level["beyond"]``), as the ECE check fails
    only beyond its chance level. On the gate's smallest window (about 270 rows, 40 leavers) exactly right risks are
    outside the shipped bar in about 1 sample in 5 (``benchmarks/bench_gate_level.py``), so a check on the ratio
    alone would refuse well-calibrated models for the size of their window."""
    name = "calibration_in_the_large"
    if not level["rows"] or not level["expected"] > 0:
        return Check(name, False, f"{NOT_ASSESSABLE}: no labelled test rows with a risk to add up, so whether the "
                     "risks are right on average is unchecked; it does not count as passed", assessable=False)
    ratio, low = level["ratio"], 1 / max_ratio
    inside = low <= ratio <= max_ratio
    way = "too high" if ratio < 1 else "too low"
    unit = ("one row per person" if level["people"] == level["rows"] else
            f"{level['rows']:,} rows of {level['people']:,} people, a person's rows at several test dates counted together")
    said = (f"over the test window the risks expected {level['expected']:,.1f} leavers and {level['observed']:,} left: "
            f"for every 100 expected, {ratio_text(ratio, max_ratio, per=100)} left (observed / expected "
            f"{ratio_text(ratio, max_ratio)}, {'inside' if inside else 'outside'} the bar {low:.3f} to {max_ratio:.2f})")
    # "p = 1.11e-15" is unreadable to a board: below 0.001 the card says so, as a reader can use it
    p_text = "p < 0.001" if level["p_value"] < 0.001 else f"p = {level['p_value']:.3f}"
    chance = f"{abs(level['z']):.1f} standard errors from exactly right risks, {p_text}, {unit}"
    if inside:
        return Check(name, True, f"{said}; {'beyond' if level['beyond'] else 'within'} chance ({chance})")
    if level["beyond"]:
        return Check(name, False, f"{said} and beyond chance ({chance}): the risks are {way} on average, and so is "
                     "every team's expected leavers on the lists; re-calibrate or re-train on more recent leaving")
    return Check(name, True, f"{said} but within chance ({chance}): this test window cannot show the risks are off "
                 "on average, so the check is not failed on noise; a larger test window would tell")


NO_DATE_RECORD = ("this run did not log expected against observed leavers per test date (trained before "
                  "`evaluation/metrics.json` held `calibration_by_date`), and its test window has several dates")


def date_levels(metrics: dict, overall: dict | None, alpha: float, rows: pd.DataFrame | None = None) -> list[dict] | None:
    """Calibration in the large at each test date (:func:`retention_ml.evaluate.calibration_by_date`), each with its
    verdict (:func:`retention_ml.evaluate.level_verdict`) and ``beyond``: beyond chance two-sided at ``alpha`` over
    all the dates compared (Bonferroni), so a window of 12 monthly dates is not failed by the one date in 12 that
    chance puts far out. The gate's check and the card's table both read it.

    Read from ``metrics.json``'s ``calibration_by_date``; for a run logged before it, from its logged test ``rows``
    (``as_of``, ``person``, ``label``, ``risk``) when it has them, or, when its test window is one date, from the
    audit's whole-window figures (``overall``, :func:`overall_level`), which are that date's. None when none of these
    can give it (older runs with several test dates); ``[]`` for a flat extract (no dates).
    """
    from statistics import NormalDist

    from retention_ml.evaluate import calibration_by_date, level_verdict

    records = metrics.get("calibration_by_date")
    test = list(dict.fromkeys((metrics.get("windows") or {}).get("test") or []))
    if records is None and rows is not None and {"as_of", "person", "label", "risk"} <= set(rows.columns):
        records = calibration_by_date(rows["risk"], rows["label"], workers=rows["person"], dates=rows["as_of"])
    if records is None and len(test) == 1 and overall:
        whole = overall_level(overall, alpha)
        records = [{k: whole[k] for k in ("rows", "people", "expected", "observed", "se")} | {"as_of": str(test[0])[:10]}]
    if records is None:
        return None if test else []
    shown = [r for r in records if r.get("people") is not None]
    z = NormalDist().inv_cdf(1 - alpha / (2 * max(len(shown), 1)))
    out = []
    for r in records:
        if r.get("people") is None:
            out.append(dict(r))
            continue
        level = level_verdict(r, alpha)
        out.append(level | {"z_needed": z, "beyond": bool(level["z"] == level["z"] and abs(level["z"]) > z)})
    return out


def ratio_text(ratio: float, max_ratio: float, *, per: int = 1) -> str:
    """``ratio`` (times ``per``: 100 for "left per 100 expected") to 2 significant places, or 3 where 2 would print it
    equal to an end of the bar [1 / ``max_ratio``, ``max_ratio``] it is on the other side of: 0.8306 against the
    shipped 0.8333 reads 0.831 against 0.833, never "0.83 outside 0.83 to 1.20"."""
    digits = 2 if per == 1 else 0
    for edge in (1 / max_ratio, max_ratio):
        if f"{per * ratio:.{digits}f}" == f"{per * edge:.{digits}f}" and ratio != edge:
            return f"{per * ratio:.{digits + 1}f}"
    return f"{per * ratio:.{digits}f}"


def _dates_check(levels: list[dict] | None, max_ratio: float) -> Check:
    """Observed against expected leavers at each test date: a date fails when its ratio is outside
    [1 / ``max_ratio``, ``max_ratio``] AND beyond chance over the dates compared (:func:`date_levels`), as
    :func:`_level_check` is for the whole window."""
    name = "calibration_by_date"
    if levels is None:
        return Check(name, False, f"{NOT_ASSESSABLE}: {NO_DATE_RECORD}, so whether the risks stay right up to the "
                     "latest test date is unchecked; re-train to log it. It does not count as passed", assessable=False)
    if any(r.get("people") is None for r in levels):
        return Check(name, False, f"{NOT_ASSESSABLE}: a test date holds too few people to publish its figures, so "
                     "calibration by date is unchecked; it does not count as passed", assessable=False)
    levels = [r for r in levels if r["expected"] > 0]
    if not levels:
        return Check(name, False, f"{NOT_ASSESSABLE}: no labelled test rows with a risk to add up at any test date; "
                     "it does not count as passed", assessable=False)
    low = 1 / max_ratio
    bad = [r for r in levels if not low <= r["ratio"] <= max_ratio and r["beyond"]]
    noise = [r for r in levels if not low <= r["ratio"] <= max_ratio and not r["beyond"]]
    each = ", ".join(f"{r['as_of']} {ratio_text(r['ratio'], max_ratio)} ({r['observed']:,} left of "
                     f"{r['expected']:,.1f} expected)" for r in levels)
    if len(levels) == 1:
        said = (f"one test date, so the whole window's figure is that date's and no drift across the test window can "
                f"be seen: {each}")
    else:
        latest = levels[-1]
        said = (f"observed / expected at each of {len(levels)} test dates (bar {low:.3f} to {max_ratio:.2f}): {each}; "
                f"latest date {latest['as_of']} {ratio_text(latest['ratio'], max_ratio)}")
    chance = f"beyond chance means over {levels[0]['z_needed']:.2f} standard errors for {len(levels)} date" + (
        "s" if len(levels) > 1 else "")
    if bad:
        way = "; ".join(f"{r['as_of']}: risks {'too high' if r['ratio'] < 1 else 'too low'} ({abs(r['z']):.1f} "
                        "standard errors)" for r in bad)
        return Check(name, False, f"{said}; outside the bar and beyond chance ({chance}) at {way}: the risks do not "
                     "hold their meaning up to the latest test date; re-calibrate or re-train on more recent leaving")
    if noise:
        return Check(name, True, f"{said}; outside the bar only within chance at "
                     f"{', '.join(r['as_of'] for r in noise)} ({chance}), so not failed on noise")
    which = "every date inside" if len(levels) > 1 else "inside"
    return Check(name, True, f"{said}; {which} the bar {low:.3f} to {max_ratio:.2f}")


def _named(row, value: str) -> str:
    # A withheld group's numbers never appear (the card prints these details).
    # Said, so a name without a figure does not read as a figure left out by mistake.
    return f"{row.factor}={row.group}" + (" (figures withheld in the card)" if row.withheld else f" ({value})")


def _group_checks(audit, thresholds: dict) -> list[Check]:
    """ROC-AUC shortfall and calibration gap per assessable group.

    The ROC-AUC shortfall is the group's observed ROC-AUC below the one expected of it (``reference_shortfall``
    of :meth:`~retention_ml.fairness.FairnessAudit.group_shortfalls`: what its own risks imply, less the whole
    window's own shortfall, which is no group's): the model ranking the group's leavers worse than its risks for
    them say it should, more than it does everyone's. Against the whole window's ROC-AUC (runs logged before the
    reference) a group of alike risks fails with exactly right risks (``benchmarks/bench_group_auc_reference.py``).

    A group fails when its shortfall is over the threshold (material) and too large to be chance: more than z
    standard errors, with z set so that, over all the groups the check compares, a model that is right everywhere
    fails with probability ``group_family_alpha`` at most (Bonferroni). At national size hundreds of areas with a
    handful of leavers each are compared, and on point estimates the worst of them is always ~0.3 below the whole
    window by chance, so no model (the true probabilities included) could pass. Groups over the threshold only
    within their noise are named in the detail, not failed.
    """
    from retention_ml.fairness import MIN_CLASS

    groups = audit.group_shortfalls()
    overall = audit.overall["roc_auc"]
    alpha, floor = thresholds["group_family_alpha"], thresholds["min_group"]
    reference = audit.has_auc_reference()
    if reference:
        window_gap = audit.overall["roc_auc_reference"] - overall
        # the whole window's own shortfall against what everyone's risks imply, which is no group's
        window = (f"{'less' if window_gap > 0 else 'plus'} the whole window's {abs(window_gap):.3f} "
                  f"{'below' if window_gap > 0 else 'above'} what everyone's imply")

        def worst(w, limit):
            return (f"ROC-AUC {w.roc_auc:.3f} vs {w.roc_auc_expected:.3f} expected ({w.roc_auc_reference:.3f} its own "
                    f"risks imply, {window}; shortfall "
                    f"{w.reference_shortfall:.3f}, standard error {w.roc_auc_se:.3f}, threshold {limit:.3f}; "
                    f"{overall:.3f} for the whole window)")
    else:
        def worst(w, limit):
            return (f"ROC-AUC {w.roc_auc:.3f} vs {overall:.3f} overall (shortfall {w.roc_auc_shortfall:.3f}, "
                    f"standard error {w.roc_auc_se:.3f}, threshold {limit:.3f})")
    roc = _group_check(
        "group_roc_auc", groups, "reference_shortfall" if reference else "roc_auc_shortfall", "roc_auc_se", "roc_auc",
        "shortfall", thresholds["max_group_roc_auc_shortfall"], alpha,
        too_few=f"{floor}+ people with {MIN_CLASS}+ leavers and {MIN_CLASS}+ stayers) to compare ROC-AUC, so ranking "
                "by group is unchecked",
        worst=worst)
    if roc.assessable:
        roc.detail += _unchecked_ranking(groups) + _old_auc_errors(audit) + ("" if reference else OLD_AUC_REFERENCE)
    calibration = _group_check(
        "group_calibration", groups, "calibration_gap", "calibration_se", "calibration_gap", "gap",
        thresholds["max_group_calibration_gap"], alpha,
        too_few=f"{floor}+ people) to compare calibration",
        # the card's group tables give the same gap in percentage points ("+14.9 pp"): said in both units here
        worst=lambda w, limit: f"|observed - predicted| leaver rate {w.calibration_gap:.3f} "
                               f"({100 * w.calibration_gap:.1f} pp), standard error {w.calibration_se:.3f} "
                               f"({100 * w.calibration_se:.1f} pp; threshold {limit:.3f}, {100 * limit:.1f} pp)")
    return [roc, calibration]


# Said when a run's logged audit lacks the ROC-AUC its groups' own risks imply: the whole-window rule applies, as when
# the run was trained (stricter than the rule with the reference on groups whose risks are alike, laxer on groups whose
# risks are more spread than everyone's).
OLD_AUC_REFERENCE = ("; shortfalls against the whole window's ROC-AUC: this run's audit record (logged by an earlier "
                     "version of retention-ml) lacks the ROC-AUC each group's own risks imply, so a group whose risks are "
                     "alike can fail here however well the model ranks it; re-train to judge each group against its own")


def _old_auc_errors(audit) -> str:
    """Said when the ROC-AUC standard errors are those an earlier version of retention-ml logged on a window of several test
    dates (Hanley and McNeil on people; :func:`retention_ml.fairness.clustered_auc_standard_error` since), which
    the record cannot recompute: the verdict is the logged one, and how far off it may be is measured."""
    table = audit.table
    several = (table["rows"] > table["people"]).any()
    if audit.logged_floor is None or "effective_people" in table.columns or not several:
        return ""
    return ("; standard errors as an earlier version of retention-ml logged them (Hanley and McNeil on the people who left "
            "and stayed, which on a window of several test dates can be too narrow or too wide: "
            "benchmarks/bench_group_auc_se.py measures how far); re-train for standard errors that count a "
            "person's rows together")


def _group_check(name: str, groups: pd.DataFrame, value: str, se: str, shown: str, measure: str, limit: float,
                 alpha: float, *, too_few: str, worst) -> Check:
    """One group check on ``value`` (a shortfall or gap, ``se`` its standard error): not assessable without a
    group that has it, else the worst group described by ``worst(row, limit)`` (only ``measure`` over or within
    the threshold for a group withheld in the card) and the evidence test of :func:`_evidence_check`."""
    assessed = groups.dropna(subset=[value])
    if assessed.empty:
        return Check(name, False, f"{NOT_ASSESSABLE}: no group large enough ({too_few}; it does not count as passed",
                     assessable=False)
    row = assessed.loc[assessed[value].idxmax()]
    text = f"worst group {row.factor}={row.group}" + (
        f" (withheld in the card; {measure} {'over' if row[value] > limit else 'within'} threshold {limit:.3f})"
        if row.withheld else f": {worst(row, limit)}")
    return _evidence_check(name, assessed, value, se, limit, alpha, shown, text)


def _unchecked_ranking(groups: pd.DataFrame, shown: int = 12) -> str:
    """The groups (of min_group+ people) whose ranking the check could not judge: too few leavers or stayers for a
    ROC-AUC. A pass says nothing about them, so the detail names them, protected characteristics first."""
    from retention_ml.fairness import MIN_CLASS, protected_factors

    missing = groups[groups["roc_auc"].isna()]
    if missing.empty:
        return ""
    protected = set(protected_factors(missing["factor"].unique()))
    missing = missing.assign(_order=~missing["factor"].isin(protected)).sort_values("_order", kind="stable")
    withheld = missing["withheld"].astype(bool)
    named = missing[~withheld]  # a withheld group is not described in the card, not even by a bound
    names = [f"{r.factor}={r.group}" for r in named.head(shown).itertuples()]
    more = f" and {len(named) - shown} more" if len(named) > shown else ""
    if withheld.any():
        more += f" (and {int(withheld.sum())} group{'s' if withheld.sum() > 1 else ''} withheld in the card)"
    listed = f": {', '.join(names)}{more}" if names else more
    return (f"; ranking NOT checked for {len(missing)} of {len(groups)} groups (fewer than {MIN_CLASS} leavers or "
            f"{MIN_CLASS} stayers, so a pass says nothing about them){listed}")


def _evidence_check(name: str, groups: pd.DataFrame, value: str, se: str, limit: float, alpha: float, shown: str,
                    text: str) -> Check:
    """Fail on the groups whose ``value`` is over ``limit`` and over z standard errors (z: Bonferroni for
    ``alpha`` over these groups, one-sided); name the rest that are over the limit only within their noise."""
    z = chance_z(alpha, len(groups))
    over = groups[groups[value] > limit]
    bad = over[over[value] > z * over[se]]
    noise = over.drop(bad.index)
    if len(bad):
        text += "; over threshold beyond chance: " + ", ".join(_named(r, f"{getattr(r, shown):.3f}") for r in bad.itertuples())
    if len(noise):
        # A group withheld in the card is counted, never named, when it did not fail: naming it would tell the
        # reader it is over the threshold (a bound on a figure the card withholds). A failed one must be named.
        hidden = noise["withheld"].astype(bool)
        named = noise[~hidden]
        names = [_named(r, f"{getattr(r, shown):.3f}") for r in named.head(10).itertuples()]
        more = [f"{len(named) - 10} more"] if len(named) > 10 else []
        if hidden.any():
            more.append(f"{int(hidden.sum())} group{'s' if hidden.sum() > 1 else ''} withheld in the card")
        text += (f"; over threshold within chance ({z:.2f} standard errors for {len(groups)} groups, not failed): "
                 + ", ".join(names) + (" and " if names and more else "") + " and ".join(more))
    return Check(name, bad.empty, text)


def run_checks(run_id: str, thresholds: dict | None = None, *, audit=None, rows=None) -> list[Check]:
    """Evaluate every gate check for ``run_id`` (configure tracking first). Changes nothing.

    ``audit`` (a :class:`~retention_ml.fairness.FairnessAudit` of the run with the same ``min_group``) saves reading
    it again when the caller already has one; otherwise it is the run's logged audit at the thresholds' floor
    (:func:`retention_ml.fairness.logged_audit`: ``evaluation/fairness_audit.json``, or an older run's test rows).
    ``rows``: an older run's logged test rows when the caller has read them with ``audit``.
    """
    from retention_ml import tracking
    from retention_ml.fairness import logged_audit

    thresholds = thresholds or load_thresholds()
    try:
        metrics = tracking.load_json_artifact(run_id, METRICS_ARTIFACT)
        if audit is None or audit.min_group != thresholds["min_group"]:
            # the logged aggregates (or an older run's rows) at this bar's floor; its alpha applies below
            audit, rows = logged_audit(run_id, min_group=thresholds["min_group"])
    except Exception as exc:  # MLflow raises its own types for a missing artifact
        raise PromotionError(f"run {run_id}: cannot read {METRICS_ARTIFACT} / {AUDIT_ARTIFACT} (or, for runs logged "
                             f"before it, {PREDICTIONS_ARTIFACT}): {exc}") from exc
    checks = [leavers_check(metrics, thresholds["min_test_leavers"], thresholds["max_test_auc_interval"])]
    if thresholds["require_card"]:
        checks.append(_card_check(run_id, tracking.run_tags(run_id), thresholds))
    if thresholds["require_beats_baselines"]:
        checks.append(_baseline_check(metrics))
    checks.append(_ece_check(metrics, thresholds["max_ece"]))
    checks.append(_level_check(overall_level(audit.overall, thresholds["group_family_alpha"]),
                               thresholds["max_calibration_ratio"]))
    levels = date_levels(metrics, audit.overall, thresholds["group_family_alpha"], rows)
    if levels != []:   # a flat extract has no dates to compare
        checks.append(_dates_check(levels, thresholds["max_calibration_ratio"]))
    checks.extend(_group_checks(audit, thresholds))
    return checks


def promote(run_ref: str, *, thresholds: dict | None = None, model_name: str | None = None,
            dry_run: bool = False, source: str | Path | None = None) -> PromotionResult:
    """Run the gate for ``run_ref`` and set alias ``champion`` on its registered version if every check passes.

    A pass is recorded on the version (tags and description) with the thresholds applied, from ``source``
    (the file they were read from), and whether any lowers the shipped bar (:func:`thresholds_note`).

    Raises :class:`PromotionError` when the gate cannot run (no such run, no registered version, missing
    evaluation). On a failed check nothing in the registry changes.
    """
    from retention_ml import tracking

    thresholds = thresholds or load_thresholds()
    try:
        run_id = tracking.resolve_run_id(run_ref)
    except Exception as exc:
        raise PromotionError(f"no run {run_ref!r} in the tracking store: {exc}") from exc
    status = tracking.client().get_run(run_id).info.status
    if status != "FINISHED":
        raise PromotionError(UNFINISHED.format(run_id=run_id, status=status))
    version = registered_version(run_id, model_name)
    if version is None:
        raise PromotionError(NO_VERSION.format(run_id=run_id, name=model_name or "any registered model"))
    name = version.name
    before = tracking.alias_version(CHAMPION_ALIAS, name)
    before = None if before is None else str(before.version)
    checks = run_checks(run_id, thresholds)
    ok = all(c.passed for c in checks)
    if ok and not dry_run:
        # The tag is the gate's own record: an alias can be moved by hand in the MLflow UI, a pass cannot.
        _record_pass(name, str(version.version), thresholds, source)
        tracking.set_alias(CHAMPION_ALIAS, version.version, name)
    after = tracking.alias_version(CHAMPION_ALIAS, name)
    return PromotionResult(run_id=run_id, model_name=name, version=str(version.version), promoted=ok and not dry_run,
                           checks=checks, champion_before=before,
                           champion_after=None if after is None else str(after.version), thresholds=thresholds,
                           thresholds_note=thresholds_note(thresholds, source),
                           departures=threshold_departures(thresholds))


def _record_pass(name: str, version: str, thresholds: dict, source: str | Path | None) -> None:
    """Tag (and describe) ``version`` as passed, with the bar it passed; a lower bar than shipped is said."""
    import json
    from datetime import datetime, timezone

    from retention_ml import tracking

    note = thresholds_note(thresholds, source)
    lower = any(d["lower_bar"] for d in threshold_departures(thresholds))
    by = _account()
    tags = {GATE_TAG: GATE_PASSED, THRESHOLDS_TAG: json.dumps(thresholds, sort_keys=True),
            THRESHOLDS_SOURCE_TAG: str(source) if source else "shipped", THRESHOLDS_NOTE_TAG: note,
            LOWER_BAR_TAG: "true" if lower else "false", PROMOTED_BY_TAG: by}
    for key, value in tags.items():
        tracking.client().set_model_version_tag(name, version, key, value)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    tracking.client().update_model_version(name, version, description=(
        f"Champion since {when} (promoted by {by}): passed every promotion gate check (retention-ml promote) "
        f"under {note}."))


def _account() -> str:
    """The account running promote, as MLflow names a run's user (mlflow.user): who approved, on the record."""
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no login name in a bare container: say so rather than invent one
        return "unknown account"
