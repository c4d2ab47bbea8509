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

The outcome column must hold ``flat.positive`` or ``flat.negative`` on every row, ``flat.id`` one row per
employee, and no feature may record the outcome (:data:`OUTCOME_STEMS` by name, or one column alone separating
leavers with ROC-AUC >= :data:`LEAK_AUC`; cleared with ``flat.not_outcome``). A protected date of birth is
audited as age bands at ``flat.as_of``.

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
           "protected_looking", "identifier_looking", "name_hits", "band_labels", "OUTCOME_STEMS", "LEAK_AUC",
           "single_column_auc", "label_text", "ages_from_birth_dates"]


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
    gave another test part and other metrics (IBM: test ROC-AUC 0.816 or 0.884 by row order alone). The
    index keeps each row's position in the file (0 = first row under the header), so errors can name rows.
    """
    frame = frame.reset_index(drop=True)
    if ident is not None and ident in frame.columns:
        return frame.sort_values(ident, kind="stable", na_position="last")
    order = np.argsort(pd.util.hash_pandas_object(frame, index=False).to_numpy(), kind="stable")
    return frame.iloc[order]


def _row_numbers(frame: pd.DataFrame) -> np.ndarray:
    """Each row's number as errors name it: 1 = the first row under the header (the index + 1 when it holds
    file positions, as :func:`in_record_order` leaves it; else the position in the frame + 1)."""
    index = frame.index
    return (index.to_numpy() if pd.api.types.is_integer_dtype(index) else np.arange(len(index))) + 1


def _rows_text(rows, limit: int = 10) -> str:
    rows = sorted(int(r) for r in rows)
    return ", ".join(map(str, rows[:limit])) + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


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
# Names that are a protected characteristic itself, not a proxy: flat.not_protected cannot clear them (a column
# called Gender is the characteristic, whatever the analyst believes; a board reading the card must be able to
# trust that no such column is an input).
CHARACTERISTIC_STEMS: dict[str, tuple[str, ...]] = {
    "a protected characteristic itself": (r"_age_", "birth", "_dob_", "_sex_", "gender", "marital", "ethnic",
                                          "_race_", "disab", "religio", "sexual_?orientation", "pregnan"),
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
# Outcome columns: what an HR system records when or after someone leaves (reason, notice, leaving date,
# destination). In the extract they sit next to the label and give it away: the model learns "has a leaving
# reason" and scores ROC-AUC 1.000 on the test part. The flat extract's point-in-time rule: a feature holds only
# what was known before anyone left. Cleared with flat.not_outcome when a column is in fact known beforehand
# (a contractual notice period, a fixed-term contract's planned end date). "leave" alone is not a stem: annual,
# sick and parental leave are legitimate inputs.
OUTCOME_STEMS: dict[str, tuple[str, ...]] = {
    "outcome": ("leaver", "leaving", "_left_", "_leave_?date", "resign", "terminat", "dismiss", "redundan", "notice",
                "exit", "separat", "destination", r"last_?(working_?)?day", "end_?date"),
}
# The data rule beside the name rule: a feature column whose value, or whether it is blank, alone separates
# leavers from stayers with ROC-AUC >= LEAK_AUC is refused as an outcome column, whatever its name. No single
# honest predictor of leaving comes near: on the IBM sample the strongest single column (TotalWorkingYears)
# reaches 0.656 (single_column_auc), on the reviewer's council extract Caseload 0.732, and whole published
# models 0.79-0.85. Checked only when both classes have at least LEAK_MIN_CLASS rows: a column of random numbers
# reached 0.95 in none of 500,000 draws with 10 leavers among 300, but in 1 of 750 with 3 leavers (1 in 25 for
# a 30-column extract), so a smaller extract would be refused by chance.
LEAK_AUC = 0.95
LEAK_MIN_CLASS = 10
AGE_NAME = r"_age_"
# A date of birth (what HR systems export instead of an age): audited as age bands at flat.as_of, never an input.
BIRTH_NAME = r"birth|born|_dob_"
# Date formats a date of birth may be written in: ISO, or day first as UK HR systems write it (05/09/1986 is
# 5 September); every filled value must parse in one of them, so a month-first file is refused, not misread.
BIRTH_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")  # a column named plainly for age ("Age", "age_years", "EmployeeAge"): banded by default
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
        if key == "protected":
            for col in name_hits(cleared, CHARACTERISTIC_STEMS, ignore=ignore):
                problems.append(f"flat.not_protected cannot clear '{col}': its name is a protected characteristic "
                                f"itself, not a proxy (rule: characteristic); {declare}")
                cleared.remove(col)
        for col, (rule, matched) in hits.items():
            if col not in declared | dropped | set(cleared) | {label}:
                problems.append(f"column '{col}' {what} (rule: {rule}, matched '{matched}'): {declare}, or if it is "
                                f"not one, clear it with flat.{clear_key} = [\"{col}\"]")
    if problems:
        raise ValueError(f"{source}: column(s) that a name rule flags are neither declared, dropped nor cleared "
                         "in the experiment's flat section:\n- "
                         + "\n- ".join(problems))


# Keys that keep a column out of the model, and what the column then is; a column one of them names cannot also
# be given a feature's role (flat.drivers, flat.categorical).
NOT_A_FEATURE = {
    "label": "the outcome",
    "id": "the identifier",
    "protected": "a protected characteristic, audited for fairness only",
    "drop": "dropped",
}


def _check_roles(mapping: dict, source: str) -> None:
    """Refuse a column that ``flat.drivers`` or ``flat.categorical`` treat as a feature while another key keeps it out.

    Such a mapping trained without a word: the column stayed out and its driver or encoding was ignored, so the
    experiment file (logged with the run, read by the board) said that ``Sex`` was a model input about pay.
    """
    held = {}
    for key in NOT_A_FEATURE:
        for col in ([mapping.get(key)] if key in ("label", "id") else mapping.get(key, [])):
            if col:
                held.setdefault(col, key)
    problems = []
    for key, columns in (("drivers", list(mapping.get("drivers", {}))), ("categorical", mapping.get("categorical", []))):
        for col in (c for c in columns if c in held):
            other = held[col]
            entry = f"flat.drivers.{col}" if key == "drivers" else f"'{col}' from flat.categorical"
            # only a dropped column may become a feature; the outcome, the id and a protected column never do
            instead = ", or take it out of flat.drop to make it a feature" if other == "drop" else ""
            problems.append(f"column '{col}' is named in flat.{key} (a feature's role), but flat.{other} keeps it out "
                            f"of the model ({NOT_A_FEATURE[other]}): remove {entry}{instead}")
    if problems:
        raise ValueError(f"{source}: the experiment's flat section gives a column two roles, so a key would be "
                         "ignored:\n- " + "\n- ".join(problems))


def label_text(values: pd.Series) -> pd.Series:
    """The outcome column as text to compare with ``flat.positive`` / ``flat.negative``: stripped, ``""`` where
    blank, whole numbers without a decimal part (a 1/0 column with one blank cell is read as 1.0 / 0.0 / NaN).

    Example
    -------
    >>> label_text(pd.Series([1.0, 0.0, np.nan])).tolist(), label_text(pd.Series([" Yes", None])).tolist()
    (['1', '0', ''], ['Yes', ''])
    """
    if pd.api.types.is_bool_dtype(values):
        return values.astype(str)
    if pd.api.types.is_numeric_dtype(values) and (values.dropna() % 1 == 0).all():
        values = values.astype("Int64")
    return values.astype("string").str.strip().fillna("").astype(object)


def _outcome(frame: pd.DataFrame, mapping: dict, source: str) -> pd.Series:
    """The 0/1 label; every row must hold flat.positive (left) or flat.negative (stayed), as written.

    A blank or otherwise spelt outcome ("", "yes", "Y") was once trained and tested as "stayed": a blank is an
    outcome not known (the snapshot path's censored rows, never labelled stayers), a spelling is a recode the
    analyst must choose, so both are refused with the rows named.
    """
    label = mapping["label"]
    positive, negative = str(mapping.get("positive", "Yes")), str(mapping.get("negative", "No"))
    text = label_text(frame[label])
    known = text.isin([positive, negative]).to_numpy()
    counts = text.value_counts()
    shown = lambda v: "blank" if v == "" else repr(v)  # noqa: E731
    if not known.all():
        rows = _row_numbers(frame)
        lines = [f"{shown(v)} on {n} row(s): {_rows_text(rows[(text == v).to_numpy()])}"
                 for v, n in counts.items() if v not in (positive, negative)]
        raise ValueError(
            f"{source}: column '{label}' (flat.label, the outcome) must hold flat.positive = {positive!r} (left) or "
            f"flat.negative = {negative!r} (stayed) on every row, but holds\n- " + "\n- ".join(lines)
            + "\n(rows counted from 1 under the header; all its values: "
            + ", ".join(f"{shown(v)} {n}" for v, n in counts.items())
            + "). A blank or unknown outcome is not 'stayed': recode those rows in the extract, remove the rows "
              "whose outcome is not known, or set flat.positive / flat.negative to the spelling the extract uses.")
    y = pd.Series((text == positive).astype(float).to_numpy(), name="label")
    if y.sum() == 0 or y.sum() == len(y):
        raise ValueError(f"{source}: column '{label}' holds only {shown(text.iloc[0])} ({len(y)} rows): a model needs "
                         f"both leavers (flat.positive = {positive!r}) and stayers (flat.negative = {negative!r})")
    return y


def _check_ids(frame: pd.DataFrame, ident: str | None, source: str) -> None:
    """One row per employee: a blank or repeated flat.id is refused with its rows.

    Rows are split at random into training and test parts, so a person on two rows could land on both sides
    and the test would reward memorising them (the reviewer's 100 repeated rows: 7 in 10 of the test people).
    """
    if not ident:
        return
    ids = frame[ident].astype("string").str.strip()
    rows = _row_numbers(frame)
    blank = (ids.isna() | (ids == "")).to_numpy()
    repeated = ids.duplicated(keep=False).to_numpy() & ~blank
    problems = []
    if blank.any():
        problems.append(f"it is blank on {blank.sum()} row(s): {_rows_text(rows[blank])}")
    if repeated.any():
        groups = pd.Series(rows[repeated]).groupby(ids[repeated].to_numpy(), sort=True).agg(list)
        shown = "; ".join(f"{k!r} on rows {_rows_text(v)}" for k, v in list(groups.items())[:10])
        more = f"; and {len(groups) - 10} more ids" if len(groups) > 10 else ""
        problems.append(f"{len(groups)} id(s) are on more than one row: {shown}{more}")
    if problems:
        raise ValueError(f"{source}: column '{ident}' (flat.id) must name each employee on exactly one row: "
                         + "; ".join(problems) + " (rows counted from 1 under the header). Remove the repeated rows "
                         "or fill the missing ids in the extract: a person on two rows can land in both the training "
                         "and the test part, and the test then rewards memorising them.")


def single_column_auc(frame: pd.DataFrame, y: pd.Series) -> pd.DataFrame:
    """How well each column alone separates ``y``: ROC-AUC folded to >= 0.5 (0.5 = not at all, 1 = perfectly).

    Numeric columns: their values as a score, blanks ranked lowest and then highest (the better counts), so
    a column filled in only for leavers scores 1. Other columns: the best single value (blank included) as a
    0/1 score, never a score learnt from the labels, so a column of unique text scores about 0.5, not 1.
    Returns ``auc``, ``blank_leavers`` and ``blank_stayers`` (shares) and ``value`` (text: the best value).
    """
    left = y.to_numpy() == 1
    n1, n0 = int(left.sum()), int((~left).sum())
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    out = pd.DataFrame(index=pd.Index(frame.columns, name="column"))
    values = frame[numeric].astype("float64").reset_index(drop=True)
    best = pd.Series(0.5, index=numeric)
    for fill in (-np.inf, np.inf):
        ranks = values.fillna(fill).rank()
        auc = (ranks[left].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)
        best = np.maximum(best, np.maximum(auc, 1 - auc))
    out.loc[numeric, "auc"] = best
    out["value"] = ""
    for col in (c for c in frame.columns if c not in numeric):
        text = frame[col].astype("string").str.strip().fillna("").to_numpy()
        share = pd.crosstab(text, left, normalize="columns").reindex(columns=[True, False], fill_value=0.0)
        gap = (share[True] - share[False]).abs()
        out.loc[col, ["auc", "value"]] = [0.5 + gap.max() / 2, gap.idxmax()]
    out["auc"] = out["auc"].astype("float64")
    blank = frame.isna().to_numpy() | (frame.astype("string").apply(lambda c: c.str.strip()) == "").fillna(False).to_numpy()
    out["blank_leavers"] = blank[left].mean(axis=0)
    out["blank_stayers"] = blank[~left].mean(axis=0)
    return out


def _check_outcome_columns(frame: pd.DataFrame, features: list[str], y: pd.Series, mapping: dict, source: str) -> None:
    """Refuse feature columns that record the outcome: by name (:data:`OUTCOME_STEMS`) or by data (one column
    alone separating leavers from stayers with ROC-AUC >= :data:`LEAK_AUC`), unless dropped or cleared with
    ``flat.not_outcome``."""
    cleared = list(mapping.get("not_outcome", []))
    names = name_hits(frame.columns, OUTCOME_STEMS)
    checked = [c for c in dict.fromkeys([*features, *cleared]) if c in frame.columns]
    scores = single_column_auc(frame[checked], y)
    enforced = min(int(y.sum()), int(len(y) - y.sum())) >= LEAK_MIN_CLASS
    separating = set(scores.index[scores["auc"] >= LEAK_AUC])
    problems = []
    stale = [c for c in cleared if c not in names and c not in separating]
    if stale:
        problems.append(f"flat.not_outcome lists {stale}, which no rule flags: remove them (it clears flagged "
                        "columns only)")
    for col in features:
        if col in cleared:
            continue
        why = []
        if col in names:
            why.append(f"its name looks like an outcome recorded when or after someone leaves (rule: outcome, "
                       f"matched '{names[col][1]}')")
        if enforced and col in separating:
            r = scores.loc[col]
            value = f", value {r['value']!r} (or blank)" if r["value"] else ""
            why.append(f"alone it separates leavers from stayers with ROC-AUC {r['auc']:.3f} (threshold "
                       f"{LEAK_AUC}; blank for {r['blank_leavers']:.0%} of leavers and {r['blank_stayers']:.0%} of "
                       f"stayers{value})")
        if why:
            problems.append(f"column '{col}': " + " and ".join(why) + f": list it in flat.drop, or if it is known "
                            f"before anyone leaves, keep it with flat.not_outcome = [\"{col}\"]")
    if problems:
        raise ValueError(f"{source}: column(s) that would tell the model the outcome (a feature may hold only what "
                         "was known before anyone left):\n- " + "\n- ".join(problems))


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


def ages_from_birth_dates(values: pd.Series, as_of: str, *, column: str, source: str, rows=None) -> pd.Series:
    """Whole years of age at ``as_of`` from dates of birth written in one of :data:`BIRTH_FORMATS` (blank: NaN).

    Example
    -------
    >>> ages_from_birth_dates(pd.Series(["05/09/1986", "01/03/1990", ""]), "2024-03-01", column="DOB", source="x").tolist()
    [37.0, 34.0, nan]
    """
    text = values.astype("string").str.strip().fillna("")
    filled = (text != "").to_numpy()
    rows = np.arange(1, len(text) + 1) if rows is None else np.asarray(rows)
    parsed = None
    for fmt in BIRTH_FORMATS:
        attempt = pd.to_datetime(text.where(filled, None), format=fmt, errors="coerce")
        if attempt.notna().to_numpy()[filled].all():
            parsed = attempt
            break
    if parsed is None:
        bad = max((pd.to_datetime(text.where(filled, None), format=f, errors="coerce") for f in BIRTH_FORMATS),
                  key=lambda a: a.notna().sum())
        unread = filled & bad.isna().to_numpy()
        raise ValueError(f"{source}: flat.protected column '{column}' is named for a date of birth, but not every "
                         f"filled value is a date in one format of {list(BIRTH_FORMATS)} (day first): row(s) "
                         f"{_rows_text(rows[unread])} (e.g. {text[unread].iloc[0]!r}); write the dates in one of "
                         "them, or drop the column")
    when = pd.Timestamp(as_of)
    age = (when.year - parsed.dt.year
           - ((parsed.dt.month > when.month) | ((parsed.dt.month == when.month) & (parsed.dt.day > when.day))))
    impossible = (age < 0) | (age > 120)
    if impossible.any():
        raise ValueError(f"{source}: flat.protected column '{column}' gives ages outside 0-120 at flat.as_of = "
                         f"{as_of} on row(s) {_rows_text(rows[impossible.to_numpy()])}: check those dates and flat.as_of")
    return age.astype("float64")


def _audit_groups(frame: pd.DataFrame, mapping: dict, source: str, rows=None) -> dict[str, pd.Series]:
    """Each protected column as the groups the fairness audit compares (every one must be auditable).

    A numeric column with more values than the audit takes (Age) is cut into fixed bands: the edges given in
    ``flat.bands``, or for a column named for age the council data's age bands. Fixed, not quantiles of this
    extract, so groups mean the same across runs and data sets and match the council path's age_band.
    A text column named for a date of birth becomes age at ``flat.as_of`` (the date the extract was taken) in
    the same bands: for the audit only, since a protected column is never a model input.
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
        if not numeric and re.search(BIRTH_NAME, normalised_name(col)):
            if not mapping.get("as_of"):
                raise ValueError(f"{source}: flat.protected column '{col}' holds dates of birth: set flat.as_of = "
                                 "\"YYYY-MM-DD\" (the date the extract was taken) to audit it as age bands at that "
                                 "date, or drop it with flat.drop")
            values = ages_from_birth_dates(values, mapping["as_of"], column=col, source=source, rows=rows)
            numeric = True
            bands = bands if col in bands else {**bands, col: AGE_BAND_EDGES}
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
             *mapping.get("not_id", []), *mapping.get("not_outcome", [])]
    missing = sorted({c for c in named if c and c not in frame.columns})
    if missing:
        raise ValueError(f"{source}: column(s) {missing} named in the experiment's flat section are not in the file")
    _check_roles(mapping, source)
    _check_names(frame, mapping, source)
    codes = set(driver_codes())
    bad = {c: d for c, d in mapping.get("drivers", {}).items() if d not in codes}
    if bad:
        raise ValueError(f"{source}: flat.drivers uses unknown driver code(s) {bad} (known: {sorted(codes)})")
    ident = mapping.get("id")
    _check_ids(frame, ident, source)
    y = _outcome(frame, mapping, source)
    rows = _row_numbers(frame)  # as errors name them; from here the frame's rows are positions
    frame = frame.reset_index(drop=True)
    ids = frame[ident].astype(str) if ident else pd.Series(np.arange(len(frame)).astype(str))
    keys = pd.DataFrame({"worker_id": ("W" + pd.Series(pd.factorize(ids)[0] + 1).astype(str).str.zfill(6)).to_numpy()})
    keys["team_id"] = frame[mapping["group"]].astype(str).to_numpy() if mapping.get("group") else "all"
    for col, groups in _audit_groups(frame, mapping, source, rows).items():
        keys[col] = groups.to_numpy()
    excluded = {label, ident, *mapping.get("drop", []), *mapping.get("protected", [])} - {None}
    categorical = [c for c in mapping.get("categorical", []) if c not in excluded]
    numeric = [c for c in frame.columns if c not in excluded and c not in categorical]
    _check_outcome_columns(frame, [*numeric, *categorical], y, mapping, source)
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
