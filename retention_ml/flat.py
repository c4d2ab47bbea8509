"""One-row-per-employee HR extracts (a left/stayed column, no history), such as the IBM HR sample.

The experiment's ``[flat]`` section maps the extract: which column is the
label (and which value means "left"), which column is the identifier, which
columns to drop, which are categorical (one-hot encoded as ``<column>_<value>``),
which are protected characteristics (kept out of the features, carried in the
keys for fairness audits only) and which leaving driver each column belongs
to (``other`` when not mapped). All remaining columns must be numeric.

Column names are checked against declared stems (:data:`PROTECTED_STEMS`, :data:`ID_STEMS`): a column that
looks like a protected characteristic, a proxy for one, or an identifier must be declared, dropped or
explicitly cleared (``flat.not_protected`` / ``flat.not_id``). Protected columns travel in the keys as the
groups the fairness audit compares: a numeric one with many values (Age) in fixed bands (``flat.bands``, or
the council data's age bands for a column named for age).

There is no time in such an extract, so the training path splits it
stratified at random rather than out of time (see :func:`flat_split`).

Example
-------
>>> ds = load_flat("retention_ml/data/ibm_hr_attrition.csv", exp["flat"])   # doctest: +SKIP
>>> ds.X.shape, float(ds.y.mean())                                          # doctest: +SKIP
((1470, 44), 0.161)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from retention_ml.schema import age_band_edges

__all__ = ["FlatDataset", "load_flat", "flat_frame", "flat_split", "PROTECTED_STEMS", "ID_STEMS", "AGE_BAND_EDGES",
           "protected_looking", "identifier_looking", "name_hits", "band_labels"]


@dataclass
class FlatDataset:
    """``keys`` (worker_id, team_id, protected columns), ``X`` (float), ``y`` (0/1 float), ``catalogue``."""

    keys: pd.DataFrame
    X: pd.DataFrame
    y: pd.Series
    catalogue: pd.DataFrame
    source: str = ""

    @property
    def censoring_report(self) -> pd.DataFrame:
        return pd.DataFrame({"reason": ["none: one row per employee, no horizon"], "n": [0]})


def load_flat(path: str | Path, mapping: dict) -> FlatDataset:
    """Read a CSV or Parquet extract (a UTF-8 byte-order mark is accepted) and map it with :func:`flat_frame`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: flat extract not found")
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, encoding="utf-8-sig")
    return flat_frame(in_record_order(frame, mapping.get("id")), mapping, source=str(path))


def in_record_order(frame: pd.DataFrame, ident: str | None) -> pd.DataFrame:
    """The rows sorted by the id column (or, without one, by a hash of each row's values).

    Splits and folds are drawn over row positions, so without this the same records saved in another order
    gave another test part and other metrics (IBM: test ROC-AUC 0.816 or 0.884 by row order alone).
    """
    if ident is not None and ident in frame.columns:
        return frame.sort_values(ident, kind="stable", na_position="last").reset_index(drop=True)
    order = np.argsort(pd.util.hash_pandas_object(frame, index=False).to_numpy(), kind="stable")
    return frame.iloc[order].reset_index(drop=True)


# Column-name rules of a flat extract, as data. Each stem is a regular expression searched anywhere in the
# normalised column name (see :func:`normalised_name`: "YearBorn" -> "_year_born_", "agegroup" -> "_agegroup_",
# "StaffID" -> "_staff_id_"), so compounds and joined-up words are caught, not only whole words; "_" marks a
# word boundary where a stem needs one. A hit must be declared (flat.protected / flat.id), dropped (flat.drop)
# or cleared by the analyst (flat.not_protected / flat.not_id): a false positive is one line to clear, a
# miss puts a protected characteristic into the model unseen, so the stems err towards catching.
#
# Protected characteristics (Equality Act 2010) and the usual proxies for them in HR extracts.
PROTECTED_STEMS: dict[str, tuple[str, ...]] = {
    "age": ("age", "birth", "born", "dob", "yob", "retire", r"over_?\d\d", r"under_?\d\d", r"\d\d_?plus"),
    "sex": ("sex", "gender", "female", "male", "wom[ae]n", "title", "salutation", "honorific", "pronoun", "patern"),
    "marital or civil partnership status": ("marit", "marri", "spouse", "husband", "wife", "widow", "divorc",
                                            "civil_?partner"),
    "pregnancy and maternity": ("pregn", "matern"),
    "race, ethnicity or nationality": ("ethn", "race", "racial", "bame", "_bme_", "nationa", "citizen"),
    "disability or health": ("disab", "handicap", "impair", "health", "reasonable_?adjust"),
    "religion or belief": ("relig", "belief", "faith"),
    "sexual orientation": ("orientation", "lgb"),
}
# Words that contain a protected stem but name something else ("YearsWithCurrManager", "AgencyWorker",
# "JobTitle"); removed from the name before the stems are searched, so "ManagerAge" is still caught.
NOT_PROTECTED_WORDS = ("manag", "agenc", "agent", "average", "percentage", "stage", "usage", "wage", "engage",
                       "message", "package", "mileage", "leverage", "coverage", "storage", "language", "job_?title")
# Identifiers: worker, team or record ids and payroll or staff numbers are never features (an employee number
# follows hiring order, so it also carries tenure and age).
ID_STEMS: dict[str, tuple[str, ...]] = {
    "identifier": (r"_(id|ids|uuid|guid)_", "payroll", "national_?insurance", r"_(ni|nino|ssn)_",
                   r"(employee|staff|worker|person|personnel|emp|member|user|badge)_?"
                   r"(id|no|num|number|nr|ref|code|key)s?_"),
}
AGE_NAME = r"_age_"  # a column named plainly for age ("Age", "age_years", "EmployeeAge"): banded by default
# The council data's workers.age_band bands (data_schema/tables/workers.yaml): under_25, 25_29, ..., 60_plus.
AGE_BAND_EDGES = age_band_edges()  # read from the schema's declared age_band values, as the simulator writes them
NOT_KNOWN = "not_known"


def normalised_name(name) -> str:
    """``"YearBorn"`` -> ``"_year_born_"``: camel-case, acronym and separator boundaries become ``_``, lower case."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", str(name))
    return "_" + "_".join(t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t) + "_"


def name_hits(columns, stems: dict[str, tuple[str, ...]], *, ignore=()) -> dict[str, tuple[str, str]]:
    """``{column: (rule, matched text)}`` for the columns whose normalised name holds a stem (first rule, first stem).

    ``ignore`` lists words removed from the name first (see :data:`NOT_PROTECTED_WORDS`).

    Example
    -------
    >>> name_hits(["YearBorn", "MonthlyIncome", "IsFemale"], PROTECTED_STEMS, ignore=NOT_PROTECTED_WORDS)
    {'YearBorn': ('age', 'born'), 'IsFemale': ('sex', 'female')}
    """
    skip = re.compile("|".join(ignore)) if ignore else None
    hits = {}
    for col in columns:
        name = normalised_name(col)
        name = skip.sub("", name) if skip else name
        found = ((rule, re.search(stem, name)) for rule, group in stems.items() for stem in group)
        hit = next(((rule, m.group(0).strip("_")) for rule, m in found if m), None)
        if hit:
            hits[col] = hit
    return hits


def protected_looking(columns) -> list[str]:
    """The column names that look like a protected characteristic or a proxy (``YearBorn``, ``Title``, ``IsFemale``)."""
    return list(name_hits(columns, PROTECTED_STEMS, ignore=NOT_PROTECTED_WORDS))


def identifier_looking(columns) -> list[str]:
    """The column names that look like an identifier (``EmployeeNumber``, ``StaffID``, ``PayrollRef``)."""
    return list(name_hits(columns, ID_STEMS))


def _check_names(frame: pd.DataFrame, mapping: dict, source: str) -> None:
    """Refuse protected-looking and identifier-looking columns that are neither declared, dropped nor cleared."""
    label, dropped = mapping["label"], set(mapping.get("drop", []))
    checks = (
        ("protected", PROTECTED_STEMS, NOT_PROTECTED_WORDS, "not_protected",
         "looks like a protected characteristic or a proxy for one, which is never a model input",
         "list it in flat.protected (audited for fairness only) or flat.drop"),
        ("id", ID_STEMS, (), "not_id", "looks like an identifier, which is never a model input",
         "name it as flat.id or list it in flat.drop"),
    )
    problems = []
    for key, stems, ignore, clear_key, what, declare in checks:
        declared = set(mapping.get(key, []) if key == "protected" else [mapping.get("id")])
        cleared = list(mapping.get(clear_key, []))
        hits = name_hits(frame.columns, stems, ignore=ignore)
        stale = [c for c in cleared if c not in hits]
        if stale:
            problems.append(f"flat.{clear_key} lists {stale}, which no rule flags: remove them (it clears "
                            "flagged columns only)")
        for col, (rule, matched) in hits.items():
            if col not in declared | dropped | set(cleared) | {label}:
                problems.append(f"column '{col}' {what} (rule: {rule}, matched '{matched}'): {declare}, or if it is "
                                f"not one, clear it with flat.{clear_key} = [\"{col}\"]")
    if problems:
        raise ValueError(f"{source}: column(s) that a name rule flags are neither declared, dropped nor cleared "
                         "in the experiment's flat section:\n- "
                         + "\n- ".join(problems))


def band_labels(edges) -> list[str]:
    """Labels of the bands cut at ``edges`` (integers), as the council data's age_band writes them.

    Example
    -------
    >>> band_labels(AGE_BAND_EDGES)
    ['under_25', '25_29', '30_39', '40_49', '50_59', '60_plus']
    """
    edges = list(edges)
    return [f"under_{edges[0]}", *(f"{a}_{b - 1}" for a, b in zip(edges, edges[1:])), f"{edges[-1]}_plus"]


def banded(values: pd.Series, edges) -> pd.Series:
    """Numeric values cut into the fixed bands of ``edges`` (left-closed); missing values are ``not_known``."""
    cut = pd.cut(pd.to_numeric(values), bins=[-np.inf, *edges, np.inf], right=False, labels=band_labels(edges))
    return cut.astype(object).where(cut.notna(), NOT_KNOWN)


def _audit_groups(frame: pd.DataFrame, mapping: dict, source: str) -> dict[str, pd.Series]:
    """Each protected column as the groups the fairness audit compares (every one must be auditable).

    A numeric column with more values than the audit takes (Age) is cut into fixed bands: the edges given in
    ``flat.bands``, or for a column named for age the council data's age bands. Fixed, not quantiles of this
    extract, so groups mean the same across runs and data sets and match the council path's age_band.
    """
    from retention_ml.fairness import MAX_LEVELS

    bands = mapping.get("bands", {})
    unknown = sorted(set(bands) - set(mapping.get("protected", [])))
    if unknown:
        raise ValueError(f"{source}: flat.bands names {unknown}, which are not in flat.protected (bands group "
                         "protected columns for the fairness audit only)")
    groups = {}
    for col in mapping.get("protected", []):
        values = frame[col]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if col in bands and not numeric:
            raise ValueError(f"{source}: flat.bands.{col}: column '{col}' is text, bands cut numbers only")
        if col not in bands and numeric and values.nunique() > MAX_LEVELS:
            if not re.search(AGE_NAME, normalised_name(col)):
                raise ValueError(f"{source}: flat.protected column '{col}' is numeric with {values.nunique()} values; "
                                 f"the fairness audit compares at most {MAX_LEVELS} groups: give its band edges "
                                 f"as flat.bands.{col} = [...] (increasing integers)")
            if values.min() < 0 or values.max() > 120:
                raise ValueError(f"{source}: flat.protected column '{col}' is named for age but holds values from "
                                 f"{values.min()} to {values.max()}, not ages in years: give its band edges as "
                                 f"flat.bands.{col} = [...]")
            bands = {**bands, col: AGE_BAND_EDGES}
        groups[col] = banded(values, bands[col]) if col in bands else values
        if groups[col].nunique(dropna=False) > MAX_LEVELS:
            raise ValueError(f"{source}: flat.protected column '{col}' has {groups[col].nunique(dropna=False)} "
                             f"values; the fairness audit compares at most {MAX_LEVELS} groups: recode it into "
                             "fewer groups in the extract (or give numeric band edges in flat.bands)")
    return groups


def flat_frame(frame: pd.DataFrame, mapping: dict, *, source: str = "<frame>") -> FlatDataset:
    """Build features, labels, keys and catalogue from an extract already in memory."""
    from retention_ml.schema import driver_codes

    label = mapping["label"]
    named = [label, mapping.get("id"), mapping.get("group"), *mapping.get("drop", []), *mapping.get("categorical", []),
             *mapping.get("protected", []), *mapping.get("drivers", {}), *mapping.get("not_protected", []),
             *mapping.get("not_id", [])]
    missing = sorted({c for c in named if c and c not in frame.columns})
    if missing:
        raise ValueError(f"{source}: column(s) {missing} named in the experiment's flat section are not in the file")
    _check_names(frame, mapping, source)
    codes = set(driver_codes())
    bad = {c: d for c, d in mapping.get("drivers", {}).items() if d not in codes}
    if bad:
        raise ValueError(f"{source}: flat.drivers uses unknown driver code(s) {bad} (known: {sorted(codes)})")
    raw_label = frame[label].astype(str).str.strip()
    y = pd.Series((raw_label == str(mapping.get("positive", "Yes"))).astype(float).to_numpy(), name="label")
    if y.sum() == 0 or y.sum() == len(y):
        raise ValueError(f"{source}: column '{label}' has no row equal to positive value {mapping.get('positive')!r} (or only such rows)")
    ident = mapping.get("id")
    ids = frame[ident].astype(str) if ident else pd.Series(np.arange(len(frame)).astype(str))
    keys = pd.DataFrame({"worker_id": ("W" + pd.Series(pd.factorize(ids)[0] + 1).astype(str).str.zfill(6)).to_numpy()})
    keys["team_id"] = frame[mapping["group"]].astype(str).to_numpy() if mapping.get("group") else "all"
    for col, groups in _audit_groups(frame, mapping, source).items():
        keys[col] = groups.to_numpy()
    excluded = {label, ident, *mapping.get("drop", []), *mapping.get("protected", [])} - {None}
    categorical = [c for c in mapping.get("categorical", []) if c not in excluded]
    numeric = [c for c in frame.columns if c not in excluded and c not in categorical]
    not_numeric = [c for c in numeric if not pd.api.types.is_numeric_dtype(frame[c])]
    if not_numeric:
        raise ValueError(f"{source}: column(s) {not_numeric} are text; list them in flat.categorical, flat.drop or flat.protected")
    parts = [frame[numeric].astype("float64")]
    origin = dict(zip(numeric, numeric))
    for col in categorical:
        dummies = pd.get_dummies(frame[col].astype(str), prefix=col, prefix_sep="_", dtype="float64")
        parts.append(dummies)
        origin.update({d: col for d in dummies.columns})
    X = pd.concat(parts, axis=1).reset_index(drop=True)
    X.columns = [str(c).replace(" ", "_").replace("&", "and") for c in X.columns]
    origin = {str(k).replace(" ", "_").replace("&", "and"): v for k, v in origin.items()}
    drivers = mapping.get("drivers", {})
    catalogue = pd.DataFrame(
        {
            "feature": list(X.columns),
            "meaning": [f"{origin[c]}" + ("" if origin[c] == c else f" = {c[len(origin[c]) + 1:]} (0/1)") for c in X.columns],
            "unit": ["as in the extract" if origin[c] == c else "0/1" for c in X.columns],
            "driver": [drivers.get(origin[c], "other") for c in X.columns],
            "family": "flat",
            "direction": 0,  # no prior on an arbitrary extract's columns
        }
    )
    return FlatDataset(keys=keys, X=X, y=y, catalogue=catalogue, source=source)


def flat_split(y, *, valid_fraction: float, test_fraction: float, random_state: int) -> dict[str, np.ndarray]:
    """Stratified random train / valid / test row masks (no time in a flat extract)."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    y = np.asarray(y)
    rest, test = train_test_split(idx, test_size=test_fraction, stratify=y, random_state=random_state)
    train, valid = train_test_split(rest, test_size=valid_fraction, stratify=y[rest], random_state=random_state)
    return {name: np.isin(idx, rows) for name, rows in (("train", train), ("valid", valid), ("test", test))}
