"""Grouping SHAP values into driver profiles, using the feature catalogue's ``driver`` column.

A person's driver profile is, for each driver of the taxonomy
(``data_schema/drivers.yaml``, read through ``retention_ml.schema``), the sum
of the SHAP values of that driver's features. Features whose catalogue driver
is missing, blank or not a model-visible code of the taxonomy go to
``"other"``: shown as such, never dropped, so a profile always adds up to the
same total as the feature values.

Example
-------
>>> drivers = feature_drivers(["caseload_current", "fte"], catalogue)  # doctest: +SKIP
>>> group_by_driver(values, drivers).columns[:2].tolist()               # doctest: +SKIP
['caseload_workload', 'work_life_balance']
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from retention_ml.schema import driver_codes, lever_groups, load_drivers

__all__ = [
    "OTHER",
    "CATALOGUE_COLUMNS",
    "driver_importance",
    "feature_drivers",
    "feature_importance",
    "group_by_driver",
    "profile_drivers",
    "rank_drivers",
    "reason_drivers",
    "reason_levers",
    "resolve_catalogue",
    "unmeasured_drivers",
]

OTHER = "other"
CATALOGUE_COLUMNS = ("feature", "meaning", "unit", "driver", "family")


def profile_drivers() -> list[str]:
    """Columns of a driver profile: the model-visible driver codes in taxonomy order (``other`` included)."""
    codes = driver_codes(model_visible=True)
    return codes if OTHER in codes else [*codes, OTHER]


def reason_drivers() -> list[str]:
    """Drivers a leaver can state and the model can see: what explanations are ranked over for alignment."""
    return [c for c in driver_codes(exit_reason=True, model_visible=True) if c != OTHER]


def driver_levers() -> dict[str, tuple[str, ...]]:
    """Levers per driver code, from the taxonomy (every lever: the data dictionary lists them all)."""
    return {d.code: d.levers for d in load_drivers()}


def reason_levers(codes, people: pd.DataFrame | None = None, *, shown=()) -> np.ndarray:
    """The lever shown beside each reason: its driver's first lever in ``data_schema/drivers.yaml``, or its
    group lever for a person in a group that lever is for, unless an earlier reason of the row already offers it.

    The one lever rule. Reasons carry it (:func:`retention_ml.explain.reasons.reason_table`), scores
    store it and lists, ``explain`` and its JSON show it as stored, so a lever is always that of the
    reason beside it: no reason, no lever. The first lever is the one that fits everyone its driver
    names outside the groups of ``lever_groups`` (an agency worker is not eligible for a retention
    payment; ASYE support is for the newly qualified); a list cell holds one action a manager can take,
    not a menu. ``codes`` holds driver codes (None for an empty reason slot), one per row of ``people``
    (the person's features: a group's member meets its conditions, a feature equal to 1 or below or above a
    number: an experienced joiner in the first two years of the post is settled in, not handed a development
    plan, and someone paid both a supplement and a retention payment is not told to check eligibility for them);
    returns an object array, None where the slot is empty or the driver has no lever (``other``).

    ``shown``: the levers of the row's earlier reasons (one array per slot, aligned with ``codes``). An action
    that answers two drivers is one text in drivers.yaml (``shared_levers``), and a row offers it once, beside
    the first reason it answers (two cells of the same action read as the tool repeating itself): this reason
    then gets its driver's next lever not yet offered or, for a group's member, whose group levers are the ones
    that fit them, their group's next lever not yet offered, or none.

    >>> reason_levers(["commute", None, "other"]).tolist()
    ['Flexible or hybrid working to cut commuting days', None, None]
    >>> reason_levers(["pay", "pay"], pd.DataFrame({"employment_agency": [1, 0]})).tolist()[0]
    'Discuss a permanent post with its pay, progression, support and a development plan'
    >>> reason_levers(["work_life_balance"], shown=[np.array(["Review duty rota, out-of-hours work and time off in lieu"])]).tolist()
    ['Flexible or hybrid working to cut commuting days']
    """
    drivers = load_drivers()
    codes = pd.Series(np.asarray(codes, dtype=object))
    earlier = [pd.Series(np.asarray(s, dtype=object)) for s in shown]
    levers = pd.Series(None, index=codes.index, dtype=object)
    chosen = np.zeros(len(codes), dtype=bool)   # the row's lever is settled (found, or a group's taken)

    def offer(candidate: pd.Series, eligible: np.ndarray) -> None:
        nonlocal chosen
        fresh = candidate.notna().to_numpy() & eligible & ~chosen
        for s in earlier:
            fresh &= (candidate != s).to_numpy()
        levers[fresh] = candidate[fresh]
        chosen |= fresh

    for group, rule in (lever_groups().items() if people is not None else ()):
        if not set(rule.features) <= set(people.columns):
            continue
        member = np.ones(len(codes), dtype=bool)
        for c in rule.conditions:   # every condition holds; NaN (not recorded) meets none
            member &= c.holds(people)
        own = {d.code: dict(d.group_levers)[group] for d in drivers if group in dict(d.group_levers)}
        has = member & codes.isin(list(own)).to_numpy() & ~chosen   # the first group with a lever for this driver wins
        for j in range(max((len(texts) for texts in own.values()), default=0)):   # its first lever not offered yet
            offer(codes.map({code: texts[j] for code, texts in own.items() if len(texts) > j}), has)
        chosen |= has   # only the group's levers fit them: none when all are offered already
    depth = max((len(d.levers) for d in drivers), default=0)
    for j in range(depth):   # everyone else: the driver's levers in order, the first not offered yet
        offer(codes.map({d.code: d.levers[j] for d in drivers if len(d.levers) > j}), np.ones(len(codes), dtype=bool))
    return levers.astype(object).where(levers.notna(), None).to_numpy(dtype=object)


def resolve_catalogue(catalogue: pd.DataFrame | None) -> pd.DataFrame:
    """The feature catalogue: ``catalogue`` when given, else ``retention_ml.features.feature_catalogue()``.

    When the features package is not importable, an empty catalogue is
    returned with a warning (every feature then shows as ``other``).
    """
    if catalogue is None:
        try:
            from retention_ml.features import feature_catalogue
        except ImportError as exc:  # the features package is optional at explain time
            warnings.warn(f"explain: no feature catalogue ({exc}); every feature is grouped under 'other'", stacklevel=3)
            return pd.DataFrame(columns=list(CATALOGUE_COLUMNS))
        catalogue = feature_catalogue()
    missing = [c for c in ("feature", "driver") if c not in catalogue.columns]
    if missing:
        raise ValueError(f"feature catalogue: missing column(s) {missing} (rule: needs feature and driver)")
    out = catalogue.copy()
    for col in CATALOGUE_COLUMNS:
        if col not in out.columns:
            out[col] = ""
    return out.drop_duplicates("feature", keep="last")


def unmeasured_drivers(catalogue: pd.DataFrame | None) -> dict[str, str]:
    """Profile drivers the model had no data for, each with why ("no values from the absence table"), from a run's catalogue.

    A run's logged catalogue says per feature whether the training rows held any value of it (``measured``);
    a family whose optional table was not supplied is all missing there (never invented), so its SHAP values
    are 0 for everyone. Such a driver is "not measured", which is not the same as "moves no one's risk".
    Catalogues without the column (older runs, the package default) give ``{}``.
    """
    if catalogue is None or "measured" not in catalogue.columns:
        return {}
    from retention_ml.features import FAMILIES
    from retention_ml.schema import load_schemas

    cat = catalogue.assign(driver=feature_drivers(catalogue["feature"], catalogue).to_numpy(),
                           measured=catalogue["measured"].astype(str).str.lower().isin(["true", "1"]))
    measured = cat.groupby("driver")["measured"].any()
    schemas = load_schemas()
    optional = {cls.family: [t for t in cls.required_tables if t in schemas and not schemas[t].required]
                for cls in FAMILIES.values()}
    out = {}
    for code in profile_drivers():
        if measured.get(code, False):
            continue
        families = cat.loc[cat["driver"].eq(code), "family"].astype(str)
        tables = list(dict.fromkeys(t for f in families for t in optional.get(f, [])))
        out[code] = (f"no values from the {' or '.join(tables)} table" if tables else
                     "no values in the training data" if len(families) else "no feature for it in this model")
    return out


def feature_drivers(features, catalogue: pd.DataFrame) -> pd.Series:
    """Driver code per feature (index: feature name); unknown, blank or non-taxonomy drivers become ``other``."""
    names = pd.Index(list(features), name="feature")
    known = set(profile_drivers())
    mapped = catalogue.set_index("feature")["driver"].reindex(names)
    mapped = mapped.astype(object).where(mapped.isin(known), OTHER)
    return mapped.rename("driver")


def _indicator(drivers: pd.Series, columns: list[str]) -> np.ndarray:
    # features x drivers 0/1 matrix, so grouping is one matrix product.
    codes = pd.Categorical(drivers.to_numpy(), categories=columns)
    out = np.zeros((len(drivers), len(columns)))
    out[np.arange(len(drivers)), codes.codes] = 1.0
    return out


def group_by_driver(values: pd.DataFrame, drivers: pd.Series) -> pd.DataFrame:
    """Sum of SHAP values per driver: n rows x :func:`profile_drivers` columns (same index as ``values``)."""
    columns = profile_drivers()
    drivers = drivers.reindex(values.columns).fillna(OTHER)
    grouped = values.to_numpy() @ _indicator(drivers, columns)
    return pd.DataFrame(grouped, index=values.index, columns=pd.Index(columns, name="driver"))


def rank_drivers(profile: pd.DataFrame, drivers: list[str] | None = None) -> np.ndarray:
    """Driver codes per row, largest contribution first (n x len(drivers) array of str).

    Ties keep taxonomy order (stable sort), so the ranking is deterministic.
    """
    drivers = list(profile.columns) if drivers is None else drivers
    matrix = profile.loc[:, drivers].to_numpy()
    order = np.argsort(-matrix, axis=1, kind="stable")
    return np.asarray(drivers, dtype=object)[order]


def feature_importance(values: pd.DataFrame, drivers: pd.Series) -> pd.DataFrame:
    """Global importance per feature: ``feature, driver, mean_abs_shap`` (calibrated log-odds), largest first."""
    table = pd.DataFrame(
        {
            "feature": values.columns,
            "driver": drivers.reindex(values.columns).fillna(OTHER).to_numpy(),
            "mean_abs_shap": np.abs(values.to_numpy()).mean(axis=0) if len(values) else 0.0,
        }
    )
    return table.sort_values(["mean_abs_shap", "feature"], ascending=[False, True], ignore_index=True)


def driver_importance(profile: pd.DataFrame) -> pd.DataFrame:
    """Global importance per driver: mean absolute *grouped* value (``driver, mean_abs_shap``), largest first.

    The absolute value is taken after summing a driver's features, so
    features of one driver that pull in opposite directions net out, as they
    do in a person's profile.
    """
    table = pd.DataFrame(
        {"driver": profile.columns.astype(str), "mean_abs_shap": np.abs(profile.to_numpy()).mean(axis=0) if len(profile) else 0.0}
    )
    return table.sort_values(["mean_abs_shap", "driver"], ascending=[False, True], ignore_index=True)
