"""The declarative table schemas and the driver taxonomy in ``data_schema/``.

This module is the only reader of ``data_schema/``; everything else asks it.
Schemas are data: one YAML file per table under ``data_schema/tables/`` and
the taxonomy of leaving drivers in ``data_schema/drivers.yaml``.

Example
-------
>>> from retention_ml.schema import load_schemas, load_drivers
>>> schemas = load_schemas()
>>> schemas["workers"].primary_key
['worker_id']
>>> "caseload_workload" in {d.code for d in load_drivers()}
True
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

__all__ = [
    "ColumnSpec",
    "Driver",
    "ForeignKey",
    "PatternWarning",
    "RowCheck",
    "TableSchema",
    "age_band_edges",
    "driver_codes",
    "LeverCondition",
    "LeverGroup",
    "feature_condition",
    "AGENCY",
    "lever_groups",
    "load_drivers",
    "load_schemas",
    "schema_dir",
    "schema_version",
]

COLUMN_TYPES = ("string", "integer", "float", "boolean", "date", "month")

#: the workers table's employment_type code for agency workers (data_schema/tables/workers.yaml): features, labels,
#: reasons and lists tell agency workers from the council's own staff by it
AGENCY = "agency"


def schema_dir() -> Path:
    """Folder holding the schemas: ``$RETENTION_ML_SCHEMA_DIR`` or the repository's ``data_schema/``."""
    override = os.environ.get("RETENTION_ML_SCHEMA_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[1] / "data_schema"


@dataclass(frozen=True)
class PatternWarning:
    """A pattern a column's values should not match; each value that matches is a warning named ``rule``.

    ``pattern`` is RE2 syntax (matched with Arrow, vectorised), for example ``\\p{L}\\s+\\p{L}``: letters either
    side of a space, which is how a person's name looks where a pseudonymous id is expected.
    """

    pattern: str
    rule: str
    message: str


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a table: its type, nullability, allowed values or range, and meaning."""

    name: str
    type: str
    description: str
    required: bool = True
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    allowed_from: str | None = None
    min: float | None = None
    max: float | None = None
    unit: str | None = None
    not_after_as_of: bool = False
    protected: bool = False
    personal: bool = False
    # Special category health data (UK GDPR Art. 9): reasons from features computed from its table are worded
    # without values on every list (retention_ml.explain.reasons.health_features).
    health: bool = False
    list_separator: str | None = None
    # Patterns a value should not match, each a warning of its own rule (YAML: one mapping, or a list of them).
    warn_if_matches: tuple[PatternWarning, ...] = ()
    # Rule name -> how to fix it, appended to that rule's messages for this column (e.g. not_null on pay_band).
    hints: dict[str, str] = field(default_factory=dict, compare=False)
    # Names HR and case-management systems give this column (contract_type for employment_type): a header so named
    # is never read as the column, but validate names the likely rename.
    also_called: tuple[str, ...] = field(default=(), compare=False)

    def allowed_values(self) -> tuple[str, ...] | None:
        """Allowed values, resolving ``allowed_from: drivers.<flag>`` against the taxonomy."""
        if self.allowed is not None:
            return self.allowed
        if self.allowed_from is not None:
            source, _, flag = self.allowed_from.partition(".")
            if source != "drivers":
                raise ValueError(f"column {self.name}: unknown allowed_from source {source!r}")
            return tuple(d.code for d in load_drivers() if getattr(d, flag))
        return None


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str
    column: str
    hint: str = ""  # what to do about a broken reference, added to its message


@dataclass(frozen=True)
class RowCheck:
    """A comparison between two columns of the same row, for example end_date >= start_date.

    Rows where either side is missing pass. ``allow_other`` lists employment types
    (or other values of the row) exempt from the check; it is matched against
    ``employment_type`` when that column exists. ``op`` is a comparison (``<=``, ``>=``, ``<``, ``>``, ``==``,
    ``!=``) or ``not_contains``: the column's value must not hold the other's (letters and digits compared, case
    ignored), for example a worker id that holds the worker's name. ``rule`` names the failure in reports.
    """

    column: str
    op: str
    other: str
    message: str
    allow_other: tuple[str, ...] = ()
    rule: str = "row_check"


@dataclass(frozen=True)
class TableSchema:
    """Schema of one input table, loaded from ``data_schema/tables/<name>.yaml``."""

    name: str
    version: int
    required: bool
    description: str
    primary_key: list[str]
    columns: tuple[ColumnSpec, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    row_checks: tuple[RowCheck, ...] = ()
    default_rows: tuple[dict, ...] = ()  # the table's content when an optional table is not given
    # Rule name -> how to fix it, appended to that rule's table-level messages (e.g. duplicate_key on workers).
    hints: dict[str, str] = field(default_factory=dict, compare=False)
    # Date column of a worker's row that must fall within the worker's spell (workers.start_date..end_date,
    # compared as calendar months); rows outside are warnings (rule outside_spell).
    within_spell: str | None = None
    # True when the table has a row for every month (per worker, council or area): with an as-of date, a council
    # whose latest row is long before it was not refreshed (rule no_recent_rows). Not for tables whose months
    # without an event have no row (absence, supervision).
    every_month: bool = False
    path: Path = field(default=Path(), compare=False)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")

    @property
    def id_columns(self) -> list[str]:
        """Text columns that identify a row or point at another table's (primary and foreign key columns):
        compared exactly, so the readers take spaces around their values off (rule id_spaces)."""
        keys = set(self.primary_key) | {c for fk in self.foreign_keys for c in fk.columns}
        return [c.name for c in self.columns if c.name in keys and c.type == "string" and not c.list_separator]

    @property
    def protected_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.protected]

    def default_frame(self):
        """The ``default_rows`` as a DataFrame with this table's columns, or None when it declares none."""
        if not self.default_rows:
            return None
        return pd.DataFrame(list(self.default_rows), columns=self.column_names)


@dataclass(frozen=True)
class Driver:
    """One leaving driver: shared by exit-interview codes, the simulator's truth and explanations."""

    code: str
    label: str
    description: str
    exit_reason: bool
    model_visible: bool
    levers: tuple[str, ...]
    #: levers shown instead of the driver's for a group of people (:func:`lever_groups`) they do not fit: per
    #: group, its levers in order (a row gets the first not yet offered beside an earlier reason)
    group_levers: tuple[tuple[str, tuple[str, ...]], ...] = ()


def _column(raw: dict, table: str) -> ColumnSpec:
    unknown = set(raw) - set(ColumnSpec.__dataclass_fields__)
    if unknown:
        raise ValueError(f"schema {table}: column {raw.get('name')!r} has unknown keys {sorted(unknown)}")
    if raw.get("type") not in COLUMN_TYPES:
        raise ValueError(f"schema {table}: column {raw.get('name')!r} has type {raw.get('type')!r}; expected one of {COLUMN_TYPES}")
    raw = dict(raw)
    if raw.get("allowed") is not None:
        raw["allowed"] = tuple(str(v) for v in raw["allowed"])
    raw["also_called"] = tuple(str(v) for v in raw.get("also_called") or ())
    warns = raw.get("warn_if_matches") or ()
    raw["warn_if_matches"] = tuple(PatternWarning(**w) for w in ([warns] if isinstance(warns, dict) else warns))
    return ColumnSpec(**raw)


def _table(path: Path) -> TableSchema:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    name = raw["table"]
    fks = tuple(
        ForeignKey(tuple(fk["columns"]), fk["references"]["table"], fk["references"]["column"], str(fk.get("hint", "")))
        for fk in raw.get("foreign_keys", [])
    )
    checks = tuple(
        RowCheck(c["column"], c["op"], c["other"], c["message"], tuple(c.get("allow_other", ())), c.get("rule", "row_check"))
        for c in raw.get("row_checks", [])
    )
    return TableSchema(
        name=name,
        version=int(raw["version"]),
        required=bool(raw.get("required", True)),
        description=" ".join(str(raw.get("description", "")).split()),
        primary_key=list(raw["primary_key"]),
        columns=tuple(_column(c, name) for c in raw["columns"]),
        foreign_keys=fks,
        row_checks=checks,
        default_rows=tuple(dict(r) for r in raw.get("default_rows", [])),
        hints=dict(raw.get("hints") or {}),
        within_spell=raw.get("within_spell"),
        every_month=bool(raw.get("every_month", False)),
        path=path,
    )


@lru_cache(maxsize=None)
def _load_schemas(folder: str) -> dict[str, TableSchema]:
    tables = [_table(p) for p in sorted(Path(folder, "tables").glob("*.yaml"))]
    return {t.name: t for t in tables}


def load_schemas() -> dict[str, TableSchema]:
    """All table schemas, keyed by table name (sorted by name)."""
    return dict(_load_schemas(str(schema_dir())))


@lru_cache(maxsize=None)
def _load_drivers(folder: str) -> tuple[Driver, ...]:
    raw = yaml.safe_load(Path(folder, "drivers.yaml").read_text(encoding="utf-8"))
    return tuple(
        Driver(
            code=d["code"],
            label=d["label"],
            description=" ".join(d["description"].split()),
            exit_reason=bool(d["exit_reason"]),
            model_visible=bool(d["model_visible"]),
            levers=tuple(d.get("levers", [])),
            group_levers=_group_levers(d, raw.get("lever_groups") or {}),
        )
        for d in raw["drivers"]
    )


def _group_levers(driver: dict, groups: dict) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(group, its levers in order): a group's entry in drivers.yaml is one lever or a list of them."""
    levers = dict(driver.get("group_levers") or {})
    unknown = set(levers) - set(groups)
    if unknown:
        raise ValueError(f"drivers.yaml: driver {driver['code']!r} has group_levers for {sorted(unknown)}, "
                         f"which lever_groups does not declare (declared: {sorted(groups)})")
    out = []
    for group, entry in levers.items():
        texts = (entry,) if isinstance(entry, str) else tuple(entry) if isinstance(entry, list) else ()
        if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
            raise ValueError(f"drivers.yaml: driver {driver['code']!r} group_levers {group!r} is {entry!r} "
                             "(rule: a lever's text, or a list of them)")
        out.append((group, texts))
    return tuple(out)


@dataclass(frozen=True)
class LeverCondition:
    """One condition on a person's feature: equal to 1 (no bound), or recorded and ``below`` / ``above`` a number."""

    feature: str
    below: float | None = None
    above: float | None = None

    def holds(self, people: pd.DataFrame):
        """Per row of ``people`` (feature columns), whether the condition holds; NaN (not recorded) meets none."""
        import numpy as np

        value = pd.to_numeric(people[self.feature], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        return value < self.below if self.below is not None else value > self.above if self.above is not None \
            else value == 1

    def rule(self) -> str:
        if self.below is not None:
            return f"`{self.feature}` below {self.below:g}"
        if self.above is not None:
            return f"`{self.feature}` above {self.above:g}"
        return f"`{self.feature}` is 1"


@dataclass(frozen=True)
class LeverGroup:
    """Who a group lever is for (``drivers.yaml`` lever_groups): the people who meet every condition
    (``employment_agency`` is 1; ``tenure_months`` below 24: new in post; a supplement and a retention
    payment both above 0)."""

    conditions: tuple[LeverCondition, ...]

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(c.feature for c in self.conditions)

    def rule(self) -> str:
        """The membership rule in words, for the data dictionary."""
        return " and ".join(c.rule() for c in self.conditions)


_BOUNDS = ("below", "above")


def feature_condition(raw, where: str) -> LeverCondition:
    """A condition on a feature as drivers.yaml's lever groups and reasons.yaml's ``requires_one_of`` write it;
    ``where`` names the file and entry for the error."""
    return _lever_condition(where, raw, where=where)


def _lever_condition(name: str, raw, *, where: str | None = None) -> LeverCondition:
    if isinstance(raw, str):
        return LeverCondition(raw)
    if isinstance(raw, dict) and isinstance(raw.get("feature"), str) and len(raw) == 2 \
            and len(set(raw) & set(_BOUNDS)) == 1:
        bound = next(b for b in _BOUNDS if b in raw)
        if isinstance(raw[bound], (int, float)) and not isinstance(raw[bound], bool):
            return LeverCondition(raw["feature"], **{bound: float(raw[bound])})
    raise ValueError(f"{where or f'drivers.yaml: lever group {name!r}'} has the condition {raw!r} (rule: a feature name, whose "
                     "value 1 marks a member, or {feature: <name>, below: <number>} or {feature: <name>, above: "
                     "<number>}; a list of them must all hold)")


def _lever_group(name: str, raw) -> LeverGroup:
    conditions = raw if isinstance(raw, list) and raw else [raw]
    return LeverGroup(tuple(_lever_condition(name, c) for c in conditions))


@lru_cache(maxsize=None)
def _lever_groups(folder: str) -> dict[str, LeverGroup]:
    raw = yaml.safe_load(Path(folder, "drivers.yaml").read_text(encoding="utf-8"))
    return {str(name): _lever_group(str(name), rule) for name, rule in (raw.get("lever_groups") or {}).items()}


def lever_groups() -> dict[str, LeverGroup]:
    """Group -> who is in it (:class:`LeverGroup`), in the order groups are tried (``drivers.yaml`` lever_groups)."""
    return _lever_groups(str(schema_dir()))


def load_drivers() -> tuple[Driver, ...]:
    """The driver taxonomy, in the order declared in ``data_schema/drivers.yaml``."""
    return _load_drivers(str(schema_dir()))


def driver_codes(*, exit_reason: bool | None = None, model_visible: bool | None = None) -> list[str]:
    """Driver codes, optionally filtered by the ``exit_reason`` / ``model_visible`` flags."""
    return [
        d.code
        for d in load_drivers()
        if (exit_reason is None or d.exit_reason == exit_reason)
        and (model_visible is None or d.model_visible == model_visible)
    ]


def age_band_edges() -> tuple[int, ...]:
    """The ages where the declared ``workers.age_band`` values cut (left-closed): one definition of the age bands.

    The schema's allowed values are the source: ``under_25, 25_29, ..., 60_plus`` (and ``not_known``) cut at
    25, 30, ..., 60. The simulator writes its age bands and a flat extract bands an age column with these edges,
    so both say what the schema declares. A value that does not follow that pattern is refused, naming the file.

    Example
    -------
    >>> age_band_edges()
    (25, 30, 40, 50, 60)
    """
    table = load_schemas()["workers"]
    labels = [v for v in table.column("age_band").allowed_values() if v != "not_known"]
    problem = f"{table.path}: column age_band, allowed values {labels}"
    rule = "rule: under_<age>, then <from>_<to> bands each starting where the last ended, then <age>_plus"
    first = re.fullmatch(r"under_(\d+)", labels[0]) if labels else None
    last = re.fullmatch(r"(\d+)_plus", labels[-1]) if len(labels) > 1 else None
    if first is None or last is None:
        raise ValueError(f"{problem}: {rule}")
    edges = [int(first[1])]
    for label in labels[1:-1]:
        band = re.fullmatch(r"(\d+)_(\d+)", label)
        if band is None or int(band[1]) != edges[-1] or int(band[2]) < int(band[1]):
            raise ValueError(f"{problem}: {label!r} breaks the {rule}")
        edges.append(int(band[2]) + 1)
    if int(last[1]) != edges[-1]:
        raise ValueError(f"{problem}: {labels[-1]!r} breaks the {rule}")
    return tuple(edges)


# Fields that hold words for a reader (a description, a fix, the names other systems give a column, a unit, a
# message, a driver's label and levers) or where a schema was read from: none changes how an extract is read.
_WORDS_ONLY = frozenset({"description", "hints", "hint", "also_called", "unit", "message", "label", "levers",
                         "group_levers", "path"})


def _what_reads(item) -> dict:
    """A schema dataclass as plain data without :data:`_WORDS_ONLY` fields (nested dataclasses alike).

    Every other field is kept, so a field added later counts towards the version until it is named here."""
    return asdict(item, dict_factory=lambda pairs: {k: v for k, v in pairs if k not in _WORDS_ONLY})


def schema_version() -> str:
    """A version string for the whole input schema: the sum of the table versions plus a short content hash.

    Logged with every model (tag ``retention_ml.schema_version``) so a model can be matched to the schema it was
    trained on. The hash covers what decides how an extract is read: each table's columns with their types,
    nullability, allowed values, ranges and flags, its keys, row checks, patterns and default rows, and each
    driver's code and flags. It leaves out words for the reader (descriptions, hints, messages, units, the names
    other systems give a column, drivers' labels and levers), so editing those keeps the version; comments and
    layout never counted. Nothing refuses a run over its version: ``card`` shows the one the run logged.
    """
    schemas = load_schemas()
    content = {"tables": [_what_reads(t) for t in schemas.values()], "drivers": [_what_reads(d) for d in load_drivers()]}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode())
    return f"{sum(t.version for t in schemas.values())}-{digest.hexdigest()[:10]}"
