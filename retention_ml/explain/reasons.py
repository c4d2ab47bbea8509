"""Plain-language reasons with the person's own values, from the templates in ``reasons.yaml``.

Reasons are chosen per driver: the drivers that push this person's risk up
by at least :data:`MIN_REASON_VALUE` (grouped SHAP value, ``other`` excluded
because nothing can be done about it), largest first, at most ``k``. Each
reason is written from the template of that driver's strongest upward feature
whose value is recorded for the person, filled with the person's feature
values and context (``months_in_post``, ``role`` ...), and carries the
driver's lever (:func:`retention_ml.explain.drivers.reason_levers`: its first lever in
``data_schema/drivers.yaml``). Drivers that lower risk are
never offered as reasons.

Health data (features computed from a table with a column flagged ``health: true`` in ``data_schema/``,
:func:`health_features`) is special category data: with ``health="withhold"`` (scores, hence every list a
manager or head of service reads) its reasons take the ``withheld`` wording of ``reasons.yaml``, which names
the driver with no figure, date or duration; ``health="show"`` (``explain``: the person's own view and the
analyst's file) keeps the values. The model's inputs are the same either way.

One-hot features (``commute_mode_*``, ``employment_*``) push risk up either
by being 1 ("commutes by car") or by being 0 ("does not commute by car"):
their templates carry ``when: 1`` / ``when: 0`` so a bus commuter is never
told "commutes by car" because *not* driving raised their risk.

Rendering is vectorised per feature and template: the rows that need a
template are formatted column by column and joined as whole Series, so
explaining tens of thousands of people takes well under a second per reason
slot.

Example
-------
>>> table = reason_table(values, profile, X, context, catalogue, k=3)   # doctest: +SKIP
>>> table.loc[0, "reason_1"]                                           # doctest: +SKIP
'caseload 27 against a team cap of 20; over the cap in 5 of the last 6 months'
"""

from __future__ import annotations

import fnmatch
import re
import string
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

import numpy as np
import pandas as pd
import yaml

from retention_ml.explain.drivers import OTHER, reason_levers
from retention_ml.schema import AGENCY

__all__ = ["FORMAT_KINDS", "HEALTH_META_KEY", "HEALTH_META_VALUE", "HEALTH_MODES", "MIN_REASON_VALUE", "RankedReasonDrivers", "Template", "first_reason_drivers", "health_features", "load_offer_conditions", "load_templates", "load_withheld", "no_reason_line", "offer_rule_features", "rank_reason_drivers", "reason_table", "render_feature_reasons", "templates_for", "withheld_reason_texts"]

FORMAT_KINDS = ("int", "whole", "duration", "num1", "pct", "change", "more_less", "gbp", "minutes", "cases_trend", "text",
                "label")
# "duration" (months): "less than a month", then complete months under 2 years, complete years under 10, then
# only "more than 10 years". A manager reads "qualified 226 months ago" slowly, and to the month it is a proxy for age (a protected characteristic).
DURATION_YEARS_FROM, DURATION_CAP_YEARS = 24, 10

# Smallest driver contribution offered as a reason (calibrated log-odds; exp(0.05) = 1.051, odds up 5%).
MIN_REASON_VALUE = 0.05


WHEN_VALUES = (None, 0, 1, "missing")

# "withhold": health data is worded without values (lists); "show": with them (the person, the analyst).
HEALTH_MODES = ("withhold", "show")
# score_meta.json key and value: these scores' reasons word health data without figures, so lists may carry them.
HEALTH_META_KEY, HEALTH_META_VALUE = "health_data_in_reasons", "withheld"
# A health feature the withheld wordings do not cover: the driver only, never the catalogue's "<meaning>: <value>".
WITHHELD_FALLBACK = "{label} (from health records, which lists do not show)"
WITHHELD_NO_DRIVER = "A reason"   # the fallback's label for a health feature of no known driver


class Template(NamedTuple):
    """One reason template: ``text`` with ``{field:kind}`` slots; ``when`` 0 or 1 restricts it to rows whose
    feature value is 0 or 1 (one-hot features), ``"missing"`` to rows where it is not recorded (an agency
    worker has no spinal point), None means any value."""

    text: str
    when: int | str | None = None


def _parse_template(key: str, entry) -> Template:
    if isinstance(entry, str):
        template = Template(entry)
    elif isinstance(entry, dict) and set(entry) <= {"text", "when"} and isinstance(entry.get("text"), str) and entry.get("when", None) in WHEN_VALUES:
        template = Template(entry["text"], entry.get("when"))
    else:
        raise ValueError(f"reasons.yaml: template for {key!r} must be a string or {{text: ..., when: 0|1|missing}}, got {entry!r}")
    for _, field, spec, _ in string.Formatter().parse(template.text):
        if field is not None and (spec or "text") not in FORMAT_KINDS:
            raise ValueError(f"reasons.yaml: template for {key!r} uses unknown kind {spec!r} (rule: one of {FORMAT_KINDS})")
    return template


@lru_cache(maxsize=None)
def _load_templates_text(text: str) -> dict[str, tuple[Template, ...]]:
    raw = yaml.safe_load(text)
    out = {}
    for key, templates in (raw.get("templates") or {}).items():
        templates = [templates] if isinstance(templates, (str, dict)) else list(templates)
        out[str(key)] = tuple(_parse_template(str(key), t) for t in templates)
    return out


def _reasons_text(path=None) -> str:
    if path is None:
        return resources.files("retention_ml.explain").joinpath("reasons.yaml").read_text(encoding="utf-8")
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def load_templates(path=None) -> dict[str, tuple[Template, ...]]:
    """Templates keyed by feature name or glob (``commute_mode_*``), from ``path`` or the packaged ``reasons.yaml``."""
    return _load_templates_text(_reasons_text(path))


@lru_cache(maxsize=None)
def _load_withheld_text(text: str) -> dict[str, tuple[Template, ...]]:
    out = {}
    for key, templates in (yaml.safe_load(text).get("withheld") or {}).items():
        templates = [templates] if isinstance(templates, (str, dict)) else list(templates)
        parsed = tuple(_parse_template(str(key), t) for t in templates)
        for t in parsed:   # a field would put a figure back on the list
            if any(field is not None for _, field, _, _ in string.Formatter().parse(t.text)):
                raise ValueError(f"reasons.yaml: withheld wording for {key!r} holds a field: {t.text!r} "
                                 "(rule: health data is named, never quoted, on a list)")
        out[str(key)] = parsed
    return out


def load_withheld(path=None) -> dict[str, tuple[Template, ...]]:
    """The list wordings of health-data features (``withheld`` in reasons.yaml): keyed like templates, no fields."""
    return _load_withheld_text(_reasons_text(path))


def health_features(schemas=None, families=None) -> frozenset[str]:
    """Features computed from a table with a column flagged ``health: true`` in ``data_schema/tables``.

    The flag is declared once, on the column (``absence.sickness_days``); a feature is health data when any
    table it is computed from (its family's ``input_tables``) holds such a column. ``schemas`` and
    ``families`` default to the data dictionary and the feature families.
    """
    from retention_ml.schema import load_schemas

    if families is None:
        from retention_ml.features.build import FAMILIES as families
    schemas = load_schemas() if schemas is None else schemas
    health_tables = {name for name, table in schemas.items() if any(c.health for c in table.columns)}
    return frozenset(feature for family in families.values() for feature, tables in family.input_tables().items()
                     if health_tables & set(tables))


@lru_cache(maxsize=None)
def _load_requirements_text(text: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in (yaml.safe_load(text).get("requires") or {}).items()}


def load_requirements(path=None) -> dict[str, str]:
    """Driver -> feature that must be above 0 for the driver to be anyone's reason (``requires`` in reasons.yaml)."""
    return _load_requirements_text(_reasons_text(path))


@lru_cache(maxsize=None)
def _load_offer_conditions_text(text: str) -> dict:
    from retention_ml.schema import feature_condition

    raw = yaml.safe_load(text).get("requires_one_of") or {}
    out = {}
    for code, conditions in raw.items():
        where = f"reasons.yaml: requires_one_of {code!r}"
        if not isinstance(conditions, list) or not conditions:
            raise ValueError(f"{where} is {conditions!r} (rule: a list of conditions, one of which must hold)")
        out[str(code)] = tuple(feature_condition(c, where) for c in conditions)
    return out


def load_offer_conditions(path=None) -> dict:
    """Driver -> conditions (:class:`retention_ml.schema.LeverCondition`) one of which must hold for the driver to be
    a person's reason (``requires_one_of`` in reasons.yaml): a caseload under the cap, never over it in a year and
    not rising leaves nothing true of the person to say."""
    return _load_offer_conditions_text(_reasons_text(path))


def offer_rule_features(path=None) -> list[str]:
    """The features :func:`rank_reason_drivers` reads besides the profile (``requires`` and ``requires_one_of``):
    scores carry them, so a reader of stored scores (the service overview) applies the same rule."""
    names = list(load_requirements(path).values())
    names += [c.feature for conditions in load_offer_conditions(path).values() for c in conditions]
    return list(dict.fromkeys(names))


def templates_for(feature: str, templates: dict[str, tuple[Template, ...]]) -> tuple[tuple[Template, ...], str]:
    """The templates for ``feature`` and the part of its name matched by ``*`` (``""`` for exact keys)."""
    if feature in templates:
        return templates[feature], ""
    for key, found in templates.items():
        if "*" in key and fnmatch.fnmatchcase(feature, key):
            prefix = key.split("*", 1)[0]
            return found, feature[len(prefix):].replace("_", " ")
    return (), ""


def _format(values: pd.Series, kind: str) -> pd.Series:
    """Format one column for text, vectorised (``kind`` from :data:`FORMAT_KINDS`)."""
    if kind == "text":
        return values.astype(str)
    if kind == "label":
        return values.astype(str).str.replace("_", " ", regex=False)
    v = pd.to_numeric(values, errors="coerce").astype("float64")
    if kind == "int":
        return v.round().astype("int64").astype(str)
    if kind == "whole":   # complete units (months in post), as the lists' "Months in post" column counts them
        return np.floor(v).astype("int64").astype(str)
    if kind == "duration":
        months, years = np.floor(v), np.floor(v / 12)
        # under one complete month: "0 months in this post" read as a mistake to the manager of a new starter
        text = np.select([months < 1, months < DURATION_YEARS_FROM, years < DURATION_CAP_YEARS],
                         ["less than a month", months.astype("int64").astype(str) + " months",
                          years.astype("int64").astype(str) + " years"],
                         f"more than {DURATION_CAP_YEARS} years")
        return pd.Series(text, index=v.index)
    if kind == "num1":
        return v.round(1).map("{:.1f}".format).str.removesuffix(".0")
    if kind == "pct":
        return (v * 100).round().astype("int64").astype(str) + "%"
    if kind == "change":
        words = pd.Series(np.where(v >= 0, "up ", "down "), index=v.index)
        return words + _shown_change(v, kind).abs().astype("int64").astype(str) + "%"
    if kind == "more_less":   # a gap as a fraction: "84% more", "3% less"; "-3% more" read as a typo
        shown = (v * 100).round()
        words = np.select([shown > 0, shown < 0], [" more", " less"], "")
        size = shown.abs().astype("int64").astype(str) + "%"
        return pd.Series(np.where(shown == 0, "about the same", size + words), index=v.index)
    if kind == "gbp":
        return "GBP " + v.round().map("{:,.0f}".format)
    if kind == "minutes":
        words = pd.Series(np.where(v >= 0, " minutes longer", " minutes shorter"), index=v.index)
        return _shown_change(v, kind).abs().astype("int64").astype(str) + words
    if kind == "cases_trend":
        shown = v.round(1)
        size = shown.abs().map("{:.1f}".format).str.removesuffix(".0")
        words = np.select([shown > 0, shown < 0], ["rising by ", "falling by "], "")
        return pd.Series(np.where(shown == 0, "steady", words + size + " cases a month"), index=v.index)
    raise ValueError(f"unknown format kind {kind!r}")


CHANGE_KINDS = {"minutes": 1.0, "change": 100.0}   # kind -> scale at which the value is shown


def _shown_change(values: pd.Series, kind: str) -> pd.Series:
    """The change as the reader would see it (rounded minutes or percent); NaN stays NaN."""
    return (pd.to_numeric(values, errors="coerce").astype("float64") * CHANGE_KINDS[kind]).round()


def _fields(template: str) -> list[tuple[str, str, str]]:
    return [(lit, field, spec or "text") for lit, field, spec, _ in string.Formatter().parse(template)]


# "1 months" -> "1 month" (also "1 new cases", "1 supervision sessions"), and "-1 cases" alike.
_SINGULAR = re.compile(r"(?<![\d.])(-?1 )((?:new |supervision )?)(month|case|day|colleague|session|minute)s\b")


def _render(template: str, frame: pd.DataFrame) -> pd.Series:
    out = pd.Series("", index=frame.index, dtype=object)
    for literal, field, kind in _fields(template):
        out = out + literal
        if field is not None:
            out = out + _format(frame[field], kind)
    return out.str.replace(_SINGULAR, r"\1\2\3", regex=True)


def _fallback(feature: str, values: pd.Series, catalogue: pd.DataFrame) -> pd.Series:
    # No template: say what the feature is and the person's value, from the catalogue.
    row = catalogue.loc[catalogue["feature"] == feature]
    meaning = str(row["meaning"].iloc[0]) if len(row) and str(row["meaning"].iloc[0]).strip() else feature.replace("_", " ")
    unit = str(row["unit"].iloc[0]).strip() if len(row) else ""
    unit = "" if unit in ("", "nan", "None") else " " + unit
    return (meaning + ": " + _format(values, "num1") + unit).where(values.notna(), meaning + ": not recorded")


def render_feature_reasons(
    feature: str, frame: pd.DataFrame, templates: dict[str, tuple[Template, ...]], catalogue: pd.DataFrame,
    *, fallback: str | None = None,
) -> pd.Series:
    """Reason text for ``feature`` on every row of ``frame`` (features and context columns).

    The first template whose fields are all present and known on a row (and
    whose ``when`` matches the row's feature value) is used for that row; rows
    no template fits get ``fallback`` or, without one, the catalogue fallback.
    A change field (:data:`CHANGE_KINDS`) is shown only when it is not 0 and, for a field other than
    ``feature`` itself, only when it rises (longer, up): a companion fact never argues against the reason.
    """
    found, suffix = templates_for(feature, templates)
    frame = frame.assign(_suffix=suffix) if suffix else frame
    out = pd.Series(pd.NA, index=frame.index, dtype=object)
    todo = pd.Series(True, index=frame.index)
    for template in found:
        if isinstance(template, str):  # templates passed in by hand
            template = Template(template)
        names = [f for _, f, _ in _fields(template.text) if f is not None]
        if any(n not in frame.columns for n in names):
            continue
        usable = todo & frame[names].notna().all(axis=1)
        for _, name, kind in _fields(template.text):
            if kind in CHANGE_KINDS:  # "0 minutes longer" says nothing: leave it to a template without the change
                shown = _shown_change(frame[name], kind)
                # beside another feature's reason, only a change that adds to it: "commute of 54 minutes each way,
                # 48 minutes shorter than a year ago" (133 commute reasons on the national lists at 2024-01-01)
                # and "rent ... down 1% in a year" (36) read as arguing against the reason they stood in
                usable &= shown != 0 if name == feature else shown > 0
        if template.when == "missing":
            usable &= frame[feature].isna()
        elif template.when is not None:
            value = pd.to_numeric(frame[feature], errors="coerce")
            usable &= (value >= 0.5) if template.when == 1 else (value < 0.5)
        if usable.any():
            out[usable] = _render(template.text, frame.loc[usable, names])
            todo &= ~usable
    if todo.any():
        out[todo] = fallback if fallback is not None else _fallback(feature, frame.loc[todo, feature], catalogue)
    return out


def _lead_features(values: pd.DataFrame, drivers: pd.Series, codes: list[str], known: pd.DataFrame) -> pd.DataFrame:
    """Per row and driver, the feature whose template words the reason (None when none pushes risk up).

    The feature with the largest positive SHAP value among those whose value is
    recorded for the person; only when every upward feature is missing does a
    missing one lead. A reason states a fact the manager can check, and "no
    spinal point recorded" is a weaker fact than the salary beside it.
    """
    lead = pd.DataFrame(None, index=values.index, columns=codes, dtype=object)
    for code in codes:
        cols = drivers.index[drivers.to_numpy() == code]
        if len(cols) == 0:
            continue
        block = values.loc[:, cols].to_numpy()
        positive = block > 0
        # Known values first, then by size: the SHAP values are far below the offset.
        score = np.where(positive, block + _KNOWN_FIRST * known.loc[:, cols].to_numpy(), -np.inf)
        best = np.argmax(score, axis=1)
        lead[code] = np.where(positive.any(axis=1), np.asarray(cols, dtype=object)[best], None)
    return lead


_KNOWN_FIRST = 1e6


def _with_derived_fields(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` plus fields templates may use that no feature holds as such (:func:`_own_cap`,
    :func:`_cap_history`, :func:`_part_time_rent`, :func:`_pay_additions`, :func:`_agency_pays`, :func:`_progression_in_post`,
    :func:`_agency_fields`)."""
    return _agency_fields(_progression_in_post(_agency_pays(_pay_additions(_part_time_rent(_cap_history(_own_cap(frame)))))))


def _hours_from_caseload(frame: pd.DataFrame) -> pd.Series:
    """Contracted hours as a share of full time, read back from the caseload features (caseload / (team cap x
    FTE)): known only for someone holding cases, and NaN where the caseload features are absent."""
    if not {"caseload_current", "caseload_to_cap", "caseload_cap"} <= set(frame.columns):
        return pd.Series(np.nan, index=frame.index)
    num = {c: pd.to_numeric(frame[c], errors="coerce").astype("float64")
           for c in ("caseload_current", "caseload_to_cap", "caseload_cap")}
    return num["caseload_current"] / (num["caseload_to_cap"] * num["caseload_cap"]).where(lambda v: v > 0)


def _recorded_fte(frame: pd.DataFrame) -> pd.Series:
    """``fte``, the contracted hours in force at the scoring date that scoring and ``explain`` pass as context
    (:func:`retention_ml.scoring.hours_in_force`: the hours the caseload and housing features pro-rate with);
    NaN where it is not recorded or not passed."""
    if "fte" not in frame.columns:
        return pd.Series(np.nan, index=frame.index)
    fte = pd.to_numeric(frame["fte"], errors="coerce").astype("float64")
    return fte.where(fte > 0)


def _own_cap(frame: pd.DataFrame) -> pd.DataFrame:
    """``caseload_cap_own``: the cap for the person's hours (team cap x FTE), only where it differs from the
    team cap (part-time staff). The over-cap features count months above this pro-rata cap, so "over the cap ...
    (caseload 10, cap 16)" read as under it for someone on 0.5 FTE; their templates name it, and full-time staff
    keep the shorter words. The hours are the recorded ``fte`` where given, else read back from
    ``caseload_to_cap`` (= caseload / pro-rata cap), the same number for anyone holding cases.
    """
    if "caseload_cap" not in frame.columns:
        return frame
    cap = pd.to_numeric(frame["caseload_cap"], errors="coerce").astype("float64")
    fte = _recorded_fte(frame)
    own = (cap * fte).round(1)
    if {"caseload_current", "caseload_to_cap"} <= set(frame.columns):
        cases = pd.to_numeric(frame["caseload_current"], errors="coerce").astype("float64")
        ratio = pd.to_numeric(frame["caseload_to_cap"], errors="coerce").astype("float64")
        own = own.where(fte.notna(), (cases / ratio.where(ratio > 0)).round(1))
    return frame.assign(caseload_cap_own=own.where((own - cap).abs() >= 0.05))


# A caseload this share of the cap or more is shown as 100% or more ("pct" rounds to whole percent): at or over it.
_AT_CAP = 0.995
# A 6-month trend above this is shown as "rising by 0.1 cases a month" or more ("cases_trend" rounds to 0.1).
_RISING = 0.05


def _cap_history(frame: pd.DataFrame) -> pd.DataFrame:
    """Where the person's caseload stands against their cap, each field missing where it does not apply:
    ``caseload_to_cap_at_or_over`` (at or over the cap now), ``caseload_over_cap_months_12m_under_now`` (under it
    now, over it in some of the last 12 months) and ``caseload_rising_6m`` (the 6-month trend, where rising).

    "caseload 10 is 62% of the team's cap of 16 per full-time post: the lower a cap, the more each case counts
    against it" read as "no problem here" (1,456 of 2,571 such reasons on the national team lists at 2024-01-01
    were under 100%); of the cap-led reasons under the cap over everyone scored there, 1,478 of 1,711 had been
    over it in the last 12 months (peak above it), which the words now say; those with a rising caseload say
    that, and the rest are not offered (reasons.yaml requires_one_of).
    """
    if "caseload_to_cap" not in frame.columns:
        return frame
    ratio = pd.to_numeric(frame["caseload_to_cap"], errors="coerce").astype("float64")
    out = {"caseload_to_cap_at_or_over": ratio.where(ratio >= _AT_CAP)}
    if "caseload_over_cap_months_12m" in frame.columns:
        over_12m = pd.to_numeric(frame["caseload_over_cap_months_12m"], errors="coerce").astype("float64")
        out["caseload_over_cap_months_12m_under_now"] = over_12m.where((ratio < _AT_CAP) & (over_12m > 0))
    if "caseload_trend_6m" in frame.columns:
        trend = pd.to_numeric(frame["caseload_trend_6m"], errors="coerce").astype("float64")
        out["caseload_rising_6m"] = trend.where(trend > _RISING)
    return frame.assign(**out)


# Contracted hours this far below full time are part-time for the words (hours are recorded to 2 decimals).
_PART_TIME_BELOW = 0.995


def _part_time_rent(frame: pd.DataFrame) -> pd.DataFrame:
    """``part_time_hours`` (their hours as a share of full time) and ``housing_rent_to_full_time_pay`` (the
    rent against the take-home pay of the same post full-time), for part-timers only.

    ``housing_rent_to_pay`` is the rent against the take-home pay for the person's own hours (salary x FTE
    plus supplement and retention payment, features/housing.py), so "median rent ... is 124% of their
    estimated take-home pay" was true and read as impossible: 577 of the 753 such reasons of 100% or more on the
    national lists at 2024-01-01 were part-timers'. Their hours are the recorded ``fte`` (the hours the housing
    feature used), else read back from the caseload features, which know them only for case-holders (a part-timer
    holding no cases, or with no caseload recorded, read "108% of their take-home pay" with no hours); the
    full-time pay from the pay features the housing feature reads too (salary plus supplement and retention payment).
    """
    if not {"housing_rent_to_pay", "pay_salary_fte"} <= set(frame.columns):
        return frame
    fte = _recorded_fte(frame)
    hours = fte.where(fte.notna(), _hours_from_caseload(frame)).round(2)
    part = hours.where((hours > 0) & (hours < _PART_TIME_BELOW))
    additions = sum(pd.to_numeric(frame[c], errors="coerce").astype("float64").fillna(0.0)
                    for c in ("pay_supplement", "pay_retention_payment") if c in frame.columns)
    salary = pd.to_numeric(frame["pay_salary_fte"], errors="coerce").astype("float64")
    rent_to_pay = pd.to_numeric(frame["housing_rent_to_pay"], errors="coerce").astype("float64")
    full_time = rent_to_pay * (salary * part + additions) / (salary + additions).where(lambda v: v > 0)
    return frame.assign(part_time_hours=part, housing_rent_to_full_time_pay=full_time.where(part.notna()))


def _pay_additions(frame: pd.DataFrame) -> pd.DataFrame:
    """``pay_additions``: the market supplement and retention payment the person gets, or that they get none.

    "salary GBP 38,904 a year" alone did not say whether that is low; the pay reasons put it beside what
    is added to it (the pay the agency gap is measured against) and the pay measures the lever checks. Missing
    where either is not recorded, and for agency workers, whom neither measure is for (their templates fall
    through to words without it).
    """
    if not {"pay_supplement", "pay_retention_payment"} <= set(frame.columns):
        return frame
    supplement = pd.to_numeric(frame["pay_supplement"], errors="coerce").astype("float64")
    retention = pd.to_numeric(frame["pay_retention_payment"], errors="coerce").astype("float64")
    has_s, has_r = supplement.round() > 0, retention.round() > 0
    s_text = "a market supplement of " + _format(supplement, "gbp")
    r_text = "a retention payment of " + _format(retention, "gbp")
    text = pd.Series(np.select([has_s & has_r, has_s, has_r],
                               [s_text + " and " + r_text, s_text + " and no retention payment",
                                r_text + " and no market supplement"],
                               "no market supplement or retention payment"), index=frame.index, dtype=object)
    known = supplement.notna() & retention.notna() & ~_agency(frame)
    return frame.assign(pay_additions=text.where(known))


def _agency_pays(frame: pd.DataFrame) -> pd.DataFrame:
    """``agency_pays``: what agency work at the council pays against the person's full-time pay, in words true of
    them ("agency work at this council pays 84% more"; missing where ``pay_agency_gap`` is).

    The council's agency day rate is a qualified social worker's (``agency_rates.day_rate``): for someone with no
    social work qualification (``months_since_qualified`` not recorded where the feature is there) it is what
    agencies pay a qualified social worker, not what agency work would pay them.
    """
    if "pay_agency_gap" not in frame.columns:
        return frame
    known = pd.to_numeric(frame["pay_agency_gap"], errors="coerce").notna()
    gap = pd.Series(np.nan, index=frame.index, dtype=object)
    gap[known] = _format(frame.loc[known, "pay_agency_gap"], "more_less")
    unqualified = frame["months_since_qualified"].isna() if "months_since_qualified" in frame.columns \
        else pd.Series(False, index=frame.index)
    text = ("agency work at this council pays " + gap).where(~unqualified, "agencies here pay a qualified social worker " + gap)
    return frame.assign(agency_pays=text.where(known))


def _agency(frame: pd.DataFrame) -> pd.Series:
    """True for the rows of agency workers: the ``employment_agency`` feature is 1, or the context's
    ``employment_type`` is agency (for a model without the one-hot feature)."""
    agency = pd.Series(False, index=frame.index)
    if "employment_agency" in frame.columns:
        agency |= pd.to_numeric(frame["employment_agency"], errors="coerce").eq(1)
    if "employment_type" in frame.columns:
        agency |= frame["employment_type"].astype(str).eq(AGENCY)
    return agency


def _agency_fields(frame: pd.DataFrame) -> pd.DataFrame:
    """Agency workers' own words for pay and progression, each field missing for everyone else.

    ``agency_day_rate``: their day rate (``pay_history.annual_salary`` is the day rate x the working days of
    :data:`retention_ml.features.pay.WORKING_DAYS` for them): "salary GBP 79,200 a year" called a day rate a
    salary. The council's typical agency day rate is not offered beside it: the agency gap lowers every agency
    worker's risk in the model, so it is no part of their pay reason (reasons.yaml).
    ``agency_months_without_progression``: their time in post with no progression, since an agency worker is not
    on the council's grades ("no progression or promotion in 5 years" read as one withheld).
    """
    from retention_ml.features.pay import WORKING_DAYS

    agency = _agency(frame)
    if not agency.any():
        return frame
    out = {}
    if "pay_salary_fte" in frame.columns:
        day = pd.to_numeric(frame["pay_salary_fte"], errors="coerce").astype("float64") / WORKING_DAYS
        out["agency_day_rate"] = day.where(agency)
    if "months_in_post_without_progression" in frame.columns:
        out["agency_months_without_progression"] = frame["months_in_post_without_progression"].where(agency)
    return frame.assign(**out)


# months_since_progression counts from the spell's start when pay never rose in it; within this of the time in
# post, there was no progression (both count from the same start; 0.0 apart in the national data).
_SAME_START_MONTHS = 0.5


def _progression_in_post(frame: pd.DataFrame) -> pd.DataFrame:
    """``months_since_progression_in_post`` (a progression happened in this post) and
    ``months_in_post_without_progression`` (none did: the time in post), each missing where the other applies.

    ``months_since_progression`` counts from the start of the post when there was no progression in it, so
    "5 years since the last progression or promotion" claimed one that never happened (319 of 355 such
    reasons on the national lists at 2024-01-01, most for agency workers).
    """
    if not {"months_since_progression", "tenure_months"} <= set(frame.columns):
        return frame
    since = pd.to_numeric(frame["months_since_progression"], errors="coerce").astype("float64")
    tenure = pd.to_numeric(frame["tenure_months"], errors="coerce").astype("float64")
    none = since >= tenure - _SAME_START_MONTHS   # False where either is missing
    had = since < tenure - _SAME_START_MONTHS
    return frame.assign(months_since_progression_in_post=since.where(had),
                        months_in_post_without_progression=tenure.where(none))


def _withheld_wordings(drivers: pd.Series) -> dict[str, tuple[dict[str, tuple[Template, ...]], str]]:
    """Health feature -> (its withheld templates, the fallback naming its driver): how a list words its reasons."""
    from retention_ml.schema import load_drivers

    labels = {d.code: d.label for d in load_drivers()}
    wordings = load_withheld()
    return {feature: ({feature: templates_for(feature, wordings)[0]},
                      WITHHELD_FALLBACK.format(label=labels.get(drivers.get(feature), WITHHELD_NO_DRIVER)))
            for feature in health_features() if feature in drivers.index}


def withheld_reason_texts() -> frozenset[str]:
    """Every wording a list can give a reason led by a health-data feature (:func:`health_features`).

    Scoring words exactly those reasons (the ``health`` flag in data_schema/ decides which) from ``withheld``
    in reasons.yaml, whose wordings hold no field (:func:`load_withheld`), or from :data:`WITHHELD_FALLBACK`
    with a driver's label: a closed set, and no other reason uses it. So a list's reason cell is health-derived
    exactly when its text is in it; the lists read it to leave such reasons off low-band rows
    (:func:`retention_ml.reports.risk_list.drop_health_reasons`), as the scores keep the words, not the feature.
    """
    from retention_ml.schema import load_drivers

    worded = {t.text for templates in load_withheld().values() for t in templates}
    labels = [d.label for d in load_drivers()] + [WITHHELD_NO_DRIVER]
    return frozenset(worded | {WITHHELD_FALLBACK.format(label=label) for label in labels})


class RankedReasonDrivers(NamedTuple):
    """The drivers a row's reasons can be about, strongest first (:func:`rank_reason_drivers`)."""

    codes: list[str]        # the drivers a reason can be about: the profile's, without "other"
    order: np.ndarray       # n x min(k, len(codes)): positions in ``codes``, strongest first (ties: profile order)
    values: np.ndarray      # the contributions at those positions (-inf where a required feature is not above 0)
    offered: np.ndarray     # True where the slot's driver raises the risk by at least ``min_value``


def rank_reason_drivers(profile: pd.DataFrame, features: pd.DataFrame, *, k: int = 3,
                        min_value: float = MIN_REASON_VALUE) -> RankedReasonDrivers:
    """The one rule for which drivers a row's reasons are about, used by :func:`reason_table` and by every
    reader of stored profiles that needs a reason's driver (the service overview's most common driver).

    ``profile``: driver contributions per row (columns: driver codes; "other" is never a reason, nothing can be
    done about it). ``features``: the same rows' feature values, for the ``requires`` of reasons.yaml (a driver
    is offered only where its feature is above 0). A slot is offered when its driver pushes the risk up by at
    least ``min_value``; :func:`reason_table` then words it from the driver's strongest upward feature, which
    always exists there (a driver's contribution is the sum of its features').
    """
    codes = [c for c in profile.columns if c != OTHER]
    matrix = profile.loc[:, codes].to_numpy().copy()
    for code, feature in load_requirements().items():
        if code in codes and feature in features.columns:
            # e.g. no caseload reason (nor its lever) for someone who holds no cases
            holds = pd.to_numeric(features[feature], errors="coerce").to_numpy() > 0
            matrix[~holds, codes.index(code)] = -np.inf
    for code, conditions in load_offer_conditions().items():
        if code in codes and all(c.feature in features.columns for c in conditions):
            # e.g. no caseload reason for someone under their cap, never over it in a year and not rising: the
            # model's push then comes from the team's low cap, and nothing true of the person can be said
            holds = np.logical_or.reduce([c.holds(features) for c in conditions])
            matrix[~holds, codes.index(code)] = -np.inf
    order = np.argsort(-matrix, axis=1, kind="stable")[:, :k]
    values = np.take_along_axis(matrix, order, axis=1)
    return RankedReasonDrivers(codes=codes, order=order, values=values, offered=(values >= min_value) & (values > 0))


def first_reason_drivers(profile: pd.DataFrame, features: pd.DataFrame) -> np.ndarray:
    """Per row, the driver code its first reason is about (:func:`rank_reason_drivers`), or None (no reason)."""
    ranked = rank_reason_drivers(profile, features, k=1)
    if ranked.order.shape[1] == 0:
        return np.full(len(profile), None, dtype=object)
    return np.where(ranked.offered[:, 0], np.asarray(ranked.codes, dtype=object)[ranked.order[:, 0]], None)


def reason_table(
    values: pd.DataFrame,
    profile: pd.DataFrame,
    X: pd.DataFrame,
    context: pd.DataFrame | None,
    catalogue: pd.DataFrame,
    drivers: pd.Series,
    *,
    k: int = 3,
    min_value: float = MIN_REASON_VALUE,
    templates: dict[str, tuple[str, ...]] | None = None,
    health: str = "withhold",
) -> pd.DataFrame:
    """Up to ``k`` reasons per row, only for drivers that push risk up by at least ``min_value``.

    ``min_value`` is on the calibrated log-odds scale (default 0.05: the driver
    raises the odds of leaving by at least 5%, ``exp(0.05) = 1.051``); smaller
    pushes are offered as nobody's reason, because a manager cannot act on them.

    Returns a DataFrame (same index as ``values``) with, for i in 1..k:
    ``reason_i`` (text), ``reason_driver_i`` (driver code), ``reason_feature_i``
    (the feature whose template was used), ``reason_value_i`` (the driver's
    grouped SHAP value, calibrated log-odds) and ``lever_i`` (the driver's
    lever, :func:`~retention_ml.explain.drivers.reason_levers`). Missing slots are null.

    ``health`` (:data:`HEALTH_MODES`): ``"withhold"`` words a reason led by a health-data feature
    (:func:`health_features`) from ``withheld`` in reasons.yaml, with no figure; ``"show"`` quotes the values,
    for the person themself and the analyst. Which drivers and features lead is the same either way.
    """
    if health not in HEALTH_MODES:
        raise ValueError(f"reason_table: health={health!r} (rule: one of {HEALTH_MODES})")
    templates = load_templates() if templates is None else templates
    withheld = _withheld_wordings(drivers) if health == "withhold" else {}
    ranked = rank_reason_drivers(profile, X, k=k, min_value=min_value)
    codes, order, top_values = ranked.codes, ranked.order, ranked.values
    top_codes = np.asarray(codes, dtype=object)[order]
    known = X.reindex(columns=values.columns).notna().set_axis(values.index)
    lead = _lead_features(values, drivers, codes, known)
    lead_matrix = lead.to_numpy()[np.arange(len(lead))[:, None], order] if len(codes) else np.empty((len(values), 0))

    frame = X.reset_index(drop=True)
    if context is not None:
        ctx = context.reset_index(drop=True)
        frame = pd.concat([frame, ctx.loc[:, [c for c in ctx.columns if c not in frame.columns]]], axis=1)
    frame = _with_derived_fields(frame)

    out: dict[str, np.ndarray] = {}
    slots = min(k, len(codes))
    for i in range(k):
        text = np.full(len(values), None, dtype=object)
        driver_col = np.full(len(values), None, dtype=object)
        feature_col = np.full(len(values), None, dtype=object)
        value_col = np.full(len(values), np.nan)
        if i < slots:
            ok = ranked.offered[:, i] & pd.notna(lead_matrix[:, i])
            driver_col[ok] = top_codes[ok, i]
            feature_col[ok] = lead_matrix[ok, i]
            value_col[ok] = top_values[ok, i]
            # One vectorised render per feature over all rows that need it.
            for feature in pd.unique(feature_col[ok]):
                rows = np.flatnonzero(feature_col == feature)
                if feature in withheld:
                    wording, fallback = withheld[feature]
                    rendered = render_feature_reasons(feature, frame.iloc[rows], wording, catalogue, fallback=fallback)
                else:
                    rendered = render_feature_reasons(feature, frame.iloc[rows], templates, catalogue)
                text[rows] = rendered.to_numpy()
        n = i + 1
        out[f"reason_{n}"] = text
        out[f"reason_driver_{n}"] = driver_col
        out[f"reason_feature_{n}"] = feature_col
        out[f"reason_value_{n}"] = value_col
        # an action already offered beside an earlier reason of the row is not offered again
        out[f"lever_{n}"] = reason_levers(driver_col, frame, shown=[out[f"lever_{j}"] for j in range(1, n)])
    return pd.DataFrame(out, index=values.index)


def no_reason_line(drivers: list[dict]) -> str:
    """Why a person has no reason, true of their profile: no driver pushes risk up; or none by the least a reason
    needs (:data:`MIN_REASON_VALUE`); or one does, with no words for this person (a caseload driver for someone
    holding no cases). ``drivers``: the person's driver profile, as ``retention-ml explain``'s record holds it
    (dicts of ``driver`` code, ``label`` and ``shap``, calibrated log-odds)."""
    import math

    up = [d for d in drivers if d["driver"] != OTHER and d["shap"] > 0]
    if not up:
        return "No driver pushes this person's risk above the average."
    top = max(up, key=lambda d: d["shap"])
    largest = f"the largest is {top['label']} ({top['shap']:+.3f})"
    if top["shap"] < MIN_REASON_VALUE:
        return (f"No driver pushes this person's risk up by enough to offer as a reason (at least "
                f"{MIN_REASON_VALUE:+.2f}, odds up {math.expm1(MIN_REASON_VALUE):.0%}): {largest}.")
    return f"No reason can be worded from this person's values for the drivers that push their risk up: {largest}."
