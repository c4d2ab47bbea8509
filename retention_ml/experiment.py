"""Experiment files: what to train on, how to split, which model settings, where to track.

An experiment is one TOML (or YAML) file in ``experiments/``. Every key is
declared once in :data:`SPEC` with its type, default and rule; unknown keys
and bad values are errors that name the file and the key. ``--set key=value``
overrides (``split.test_periods=2``, ``model.learning_rate=0.05``) are parsed
as TOML values (so ``true``, ``3``, ``"text"``, ``["a", "b"]`` all work; a bare
word is taken as text) and validated by the same rules.

Paths: a relative ``data.path`` written in the file is resolved against the
file's own folder (so ``experiments/council_default.toml`` says
``../demo-output/data``); a relative path given with ``--set`` is resolved
against the current working directory.

Example
-------
>>> exp = load_experiment("experiments/council_default.toml", overrides=["label.horizon_months=6"])  # doctest: +SKIP
>>> exp["label"]["horizon_months"]                                                                   # doctest: +SKIP
6
"""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

from retention_ml.labels import AGENCY_MODES

__all__ = ["ExperimentError", "SPEC", "load_experiment", "parse_override", "experiment_from_dict", "defaults"]


class ExperimentError(ValueError):
    """A bad experiment file or override; the message names the file and key."""


def _choice(*options):
    def check(v):
        return None if v in options else f"must be one of {list(options)}"

    return check


def _leaving_reasons(v):
    """Each reason must be a ``workers.leaving_reason`` value the schema allows (a typo would silently empty the label)."""
    from retention_ml.schema import load_schemas

    allowed = list(load_schemas()["workers"].column("leaving_reason").allowed_values() or ())
    if not v:
        return f"must name at least one of {allowed}"
    unknown = [r for r in v if r not in allowed]
    return f"{unknown} not among workers.leaving_reason values {allowed}" if unknown else None


def _at_least(lo):
    return lambda v: None if v >= lo else f"must be >= {lo}"


def _between(lo, hi):
    return lambda v: None if lo < v <= hi else f"must be in ({lo}, {hi}]"


def _date(v):
    try:
        dt.date.fromisoformat(str(v))
    except ValueError:
        return "must be a date YYYY-MM-DD"
    return None


_NONE = object()  # "no default": the key is optional and absent unless given

# section -> key -> (type(s), default, rule or None). Section None = top level.
SPEC: dict[str | None, dict[str, tuple]] = {
    None: {
        "name": (str, _NONE, None),
        "description": (str, "", None),
        "kind": (str, "snapshots", _choice("snapshots", "flat")),
        "seed": (int, 0, _at_least(0)),
        "tracking_uri": (str, _NONE, None),
        "registered_model": (str, "retention-ml-turnover", None),
        "mlflow_experiment": (str, _NONE, None),
    },
    "data": {
        "path": (str, _NONE, None),
    },
    "snapshots": {
        "start": ((str, dt.date), _NONE, _date),
        "end": ((str, dt.date), _NONE, _date),
        "frequency_months": (int, 3, _at_least(1)),
    },
    "label": {
        "horizon_months": (int, 12, _at_least(1)),
        "positive_reasons": (list, ["resignation"], _leaving_reasons),
    },
    "population": {
        "agency": (str, "flag", _choice(*AGENCY_MODES)),
    },
    "split": {
        "valid_periods": (int, 1, _at_least(1)),
        "test_periods": (int, 1, _at_least(1)),
        "test_fraction": (float, 0.25, _between(0, 0.9)),
    },
    "model": {
        "n_estimators": (int, 500, _at_least(1)),
        "learning_rate": (float, 0.07, _between(0, 1)),
        "num_leaves": (int, 15, _at_least(2)),
        "min_child_samples": (int, 100, _at_least(1)),
        "subsample": (float, 0.8, _between(0, 1)),
        "colsample_bytree": (float, 0.8, _between(0, 1)),
        "reg_lambda": (float, 5.0, _at_least(0)),
        "extra_trees": (bool, False, None),
        "early_stopping_rounds": (int, 50, _at_least(1)),
        "cv_folds": (int, 5, _at_least(2)),
        "constraints": (str, "drivers", _choice("drivers", "none")),
        "n_bootstrap": (int, 10, _at_least(0)),
    },
    "tuning": {
        "trials": (int, 0, _at_least(0)),
        "timeout_seconds": (int, 600, _at_least(1)),
    },
    "evaluation": {
        "n_boot": (int, 200, _at_least(10)),
        "explain": (bool, True, None),
    },
    "flat": {
        "label": (str, _NONE, None),
        # The outcome column's two values, as written in the extract; any other value (a blank, "yes") is refused.
        "positive": ((str, int, bool), "Yes", None),
        "negative": ((str, int, bool), "No", None),
        "id": (str, _NONE, None),
        "drop": (list, [], None),
        "categorical": (list, [], None),
        "protected": (list, [], None),
        "group": (str, _NONE, None),
        "drivers": (dict, {}, None),
        # Columns a name rule flags (retention_ml.flat.PROTECTED_STEMS / ID_STEMS) that the analyst has checked
        # are not protected characteristics / not identifiers: the one line that clears a false positive.
        "not_protected": (list, [], None),
        "not_id": (list, [], None),
        # Columns an outcome rule flags (retention_ml.flat.OUTCOME_STEMS, or one column alone separating leavers
        # from stayers) that the analyst has checked are known before anyone leaves.
        "not_outcome": (list, [], None),
        # The date the extract was taken: a protected date-of-birth column is audited as age bands at this date.
        "as_of": ((str, dt.date), _NONE, _date),
        # Band edges (increasing integers) that group a numeric protected column for the fairness audit.
        "bands": (dict, {}, None),
    },
}
# What each entry of a table key holds (``flat.drivers.<column>`` a driver code, ``flat.bands.<column>`` a list of
# band edges): checked when the file is read, and read by `runs --json` to type the parameters logged per entry.
ENTRY_TYPES = {("flat", "drivers"): str, ("flat", "bands"): list}
REQUIRED = [(None, "name"), ("data", "path")]
# A flat extract's model when the file names none: never the council model's name. Under the shared default, the
# first kind trained into a store took the name and training the other kind there was refused, and a flat model
# promoted under it would be what `score --model models:/retention-ml-turnover@champion` loads.
FLAT_REGISTERED_MODEL = "retention-ml-flat"
# Keys that mean nothing for the other kind of data (a flat extract has no dates, so no snapshots, label window or
# population; snapshots split by time and validate on a window, so no test part or cross-fitting folds). Set to
# anything but its default they are refused: a run named "ibm_hr horizon_months=6" that trained the same model
# as without it would be compared as a different one. Training leaves them out of the run's parameters.
UNUSED_BY_KIND = {
    "snapshots": ("flat", "split.test_fraction", "model.cv_folds"),
    "flat": ("snapshots", "label", "population", "split.valid_periods", "split.test_periods"),
}
# Keys that were settings once and are now facts read elsewhere: an old file gets the reason, not "unknown key".
RETIRED = {
    ("data", "simulated"): "is no longer a setting: whether the data are simulated is read from the data folder "
                           "(`retention-ml simulate` marks the folders it writes), so a real extract "
                           "can never be called simulated; delete the line",
}


def defaults() -> dict:
    """The experiment with every default filled in (no name or data path)."""
    out: dict = {}
    for section, keys in SPEC.items():
        target = out if section is None else out.setdefault(section, {})
        for key, (_, default, _) in keys.items():
            if default is not _NONE:
                target[key] = copy.deepcopy(default)
    return out


def _as_text(value) -> str:
    """A value TOML wrote without quotes, as the text a text key holds: ``2022-01-01`` -> ``"2022-01-01"``,
    ``1`` -> ``"1"``, ``true`` -> ``"True"`` (how pandas writes a true/false column as text)."""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _check_value(where: str, key: str, value: Any, spec: tuple) -> Any:
    # A type written as a tuple (str, *others): the key holds text, and the others are values TOML parses from
    # natural unquoted writing (snapshots.start = 2022-01-01 is a TOML date, also what --set gives; flat.positive
    # = 1 for a 1/0 outcome column), taken as their text rather than refused.
    typ, _, rule = spec
    if isinstance(typ, tuple):
        typ, accepted = typ[0], typ[1:]
        if isinstance(value, accepted) and not isinstance(value, typ):
            value = _as_text(value)
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if typ is not bool and isinstance(value, bool) or not isinstance(value, typ):
        raise ExperimentError(f"{where}: key '{key}' must be {typ.__name__}, got {value!r}")
    if typ is list and not all(isinstance(v, str) for v in value):
        raise ExperimentError(f"{where}: key '{key}' must be a list of strings, got {value!r}")
    problem = rule(value) if rule else None
    if problem:
        raise ExperimentError(f"{where}: key '{key}' {problem}, got {value!r}")
    return value


def _hint(key: str, section: str | None) -> str:
    """Where an unknown key probably belongs: the section that holds a key of that name (a line written under the
    wrong [header], or above the first one), else a close spelling in the same section."""
    import difflib

    homes = [s for s, keys in SPEC.items() if s != section and key in keys]
    if homes:
        return ": did you mean " + " or ".join(f"'{s}.{key}' (under [{s}])" if s else
                                               f"the top-level '{key}' (above the first [section])" for s in homes) + "?"
    # at the top level a section's name is a candidate too: '[lable]' is a misspelt [label]
    names = list(SPEC[section]) + ([s for s in SPEC if s] if section is None else [])
    close = difflib.get_close_matches(key, names, n=1)
    if close and section is None and close[0] in SPEC:
        return f": did you mean the section [{close[0]}]?"
    return f": did you mean '{section + '.' if section else ''}{close[0]}'?" if close else ""


def experiment_from_dict(raw: dict, *, where: str = "<experiment>") -> dict:
    """Validate ``raw`` against :data:`SPEC` and return it with defaults filled in."""
    out = defaults()
    for key, value in raw.items():
        if isinstance(value, dict) and key in SPEC and key is not None:
            for sub, subval in value.items():
                if (key, sub) in RETIRED:
                    raise ExperimentError(f"{where}: key '{key}.{sub}' {RETIRED[key, sub]}")
                if sub not in SPEC[key]:
                    raise ExperimentError(f"{where}: unknown key '{key}.{sub}'{_hint(sub, key)} (known: {sorted(SPEC[key])})")
                out[key][sub] = _check_value(where, f"{key}.{sub}", subval, SPEC[key][sub])
        elif key in SPEC[None]:
            out[key] = _check_value(where, key, value, SPEC[None][key])
        elif key in SPEC:
            raise ExperimentError(f"{where}: '{key}' is a section, not a value: set one of its keys, "
                                  f"e.g. '{key}.{next(iter(SPEC[key]), 'key')}' (keys: {sorted(SPEC[key])})")
        else:
            known = sorted(SPEC[None]) + sorted(k for k in SPEC if k)
            raise ExperimentError(f"{where}: unknown key '{key}'{_hint(key, None)} (known: {known})")
    for section, key in REQUIRED:
        holder = out if section is None else out[section]
        if key not in holder:
            raise ExperimentError(f"{where}: required key '{key if section is None else section + '.' + key}' is missing")
    if out["flat"]["positive"] == out["flat"]["negative"]:
        raise ExperimentError(f"{where}: keys 'flat.positive' and 'flat.negative' are both {out['flat']['positive']!r}: "
                              "they are the outcome column's value for a leaver and for a stayer")
    if out["kind"] == "flat" and "registered_model" not in raw:
        out["registered_model"] = FLAT_REGISTERED_MODEL
    if out["kind"] == "flat" and "label" not in out["flat"]:
        raise ExperimentError(f"{where}: key 'flat.label' is required when kind = \"flat\"")
    for k, v in out["flat"]["drivers"].items():
        if not isinstance(v, ENTRY_TYPES[("flat", "drivers")]):
            raise ExperimentError(f"{where}: key 'flat.drivers.{k}' must be a driver code (str), got {v!r}")
    _check_flat_declarations(out["flat"], where)
    _check_used_by_kind(raw, out["kind"], where)
    snaps = out["snapshots"]
    if "start" in snaps and "end" in snaps and dt.date.fromisoformat(snaps["start"]) > dt.date.fromisoformat(snaps["end"]):
        raise ExperimentError(f"{where}: key 'snapshots.start' ({snaps['start']}) is after 'snapshots.end' "
                              f"({snaps['end']}): the snapshot dates run from start to end")
    return out


def unused_by_kind(key: str, kind: str) -> bool:
    """Whether dotted ``key`` (``split.test_fraction``, ``flat.drivers.OverTime``) is one ``kind`` does not use."""
    return any(key == u or key.startswith(u + ".") for u in UNUSED_BY_KIND[kind])


def _check_used_by_kind(raw: dict, kind: str, where: str) -> None:
    """A key set (in the file or with --set) to other than its default that ``kind`` does not use is refused.
    A default value is let through: the experiment_effective.toml of earlier runs lists every key."""
    other = next(k for k in UNUSED_BY_KIND if k != kind)
    base = defaults()
    for section, values in raw.items():
        if section not in SPEC or section is None or not isinstance(values, dict):
            continue
        for key, value in values.items():
            dotted = f"{section}.{key}"
            default = base.get(section, {}).get(key, _NONE)
            if unused_by_kind(dotted, kind) and _check_value(where, dotted, value, SPEC[section][key]) != default:
                raise ExperimentError(f"{where}: key '{dotted}' is not used when kind = \"{kind}\" (it applies to "
                                      f"kind = \"{other}\"), so it would change nothing in the model (only the run's name): "
                                      "delete it, or set kind")


def _check_flat_declarations(flat: dict, where: str) -> None:
    """Band edges are increasing integers; a cleared column is not also declared protected, id or dropped."""
    for col, edges in flat["bands"].items():
        integers = isinstance(edges, ENTRY_TYPES[("flat", "bands")]) and all(isinstance(e, int) and not isinstance(e, bool) for e in edges)
        if not integers or not edges or any(a >= b for a, b in zip(edges, edges[1:])):
            raise ExperimentError(f"{where}: key 'flat.bands.{col}' must be a list of increasing integers "
                                  f"(band edges, e.g. [25, 30, 40, 50, 60]), got {edges!r}")
    for key, declared in (("not_protected", {"protected": flat["protected"]}), ("not_id", {"id": [flat.get("id")]}),
                          ("not_outcome", {})):
        for other, names in {**declared, "drop": flat["drop"]}.items():
            both = sorted(set(flat[key]) & set(names))
            if both:
                declared_as = "dropped" if other == "drop" else f"declared {other}"
                raise ExperimentError(f"{where}: keys 'flat.{key}' and 'flat.{other}' both name {both}: a column is "
                                      f"either cleared ({key}) or {declared_as}")


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"a.b=value"`` -> ``(["a", "b"], value)``; value parsed as TOML, else kept as text."""
    if "=" not in text:
        raise ExperimentError(f"--set {text!r}: expected key=value, e.g. --set split.test_periods=2")
    key, _, raw = text.partition("=")
    key = key.strip()
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key.split("."), value


def load_experiment(path: str | Path, *, overrides: list[str] | tuple[str, ...] = ()) -> dict:
    """Read, override and validate an experiment file.

    Returns a dict with every section filled in plus ``source`` (absolute path of
    the file), ``source_text`` (the file as written) and ``overrides``; ``data.path``
    is made absolute per the module's path rule.
    """
    path = Path(path)
    if not path.is_file():
        raise ExperimentError(f"{path}: experiment file not found")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            raw = yaml.safe_load(text) or {}
        else:
            raw = tomllib.loads(text)
    except Exception as exc:  # parse errors of either format: name the file
        raise ExperimentError(f"{path}: cannot parse experiment file: {exc}") from exc
    if not isinstance(raw, dict):
        raise ExperimentError(f"{path}: experiment file must hold a table of keys")
    exp = experiment_from_dict(raw, where=str(path))
    data_from_set = False
    for item in overrides:
        keys, value = parse_override(item)
        if len(keys) > 3 or not keys[0]:
            raise ExperimentError(f"--set {item!r}: unknown key '{'.'.join(keys)}'")
        patched = copy.deepcopy(raw)
        holder = patched
        for k in keys[:-1]:
            holder = holder.setdefault(k, {})
            if not isinstance(holder, dict):
                raise ExperimentError(f"--set {item!r}: unknown key '{'.'.join(keys)}'")
        holder[keys[-1]] = value
        exp = experiment_from_dict(patched, where=f"{path} (with --set {item})")
        raw = patched
        data_from_set |= keys == ["data", "path"]
    data_path = Path(exp["data"]["path"]).expanduser()
    if not data_path.is_absolute():
        data_path = (Path.cwd() if data_from_set else path.resolve().parent) / data_path
    exp["data"]["path"] = str(data_path.resolve())
    exp["source"] = str(path.resolve())
    exp["source_text"] = text
    exp["overrides"] = list(overrides)
    return exp
