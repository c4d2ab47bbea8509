"""``retention-ml runs``: training runs side by side, with what differs between them and which can be compared."""

from __future__ import annotations

import json
import typer

from retention_ml.commands import TrackingUriOption

HELP = """List training runs (newest first) side by side: what each run changed (its name holds the --set overrides), the settings that differ between the listed runs (column differs: horizon, leaving reasons, agency, snapshot frequency, constraints, tuning trials and seed on every row when they vary, then any other experiment key, such as learning_rate or snapshots.start, on the rows whose value departs from what most listed runs have), and its key test-window metrics: LightGBM ROC-AUC (its 95% interval over workers beneath it: two runs whose intervals overlap are not told apart by the test window), average precision, Brier, and how well its explanations agree with the truth (simulated data: true driver among the top 3 reasons of top-risk-decile leavers) and with exit interviews (stated reason among the top 3), plus the registered model version with its aliases.

The same settings, data and seed give the same metrics only with the same code: when the listed runs were trained by different code (the git commit, -dirty with local changes), differs says so (code=...). A run with the same code, data, seed and every experiment key as an older listed run says "repeat of <id>", and "(metrics differ!)" when it did not reproduce that run's test metrics (--json: repeat of, reproduced).

Runs are comparable only when they answer the same question on the same people: same kind, label (horizon, leaving reasons), population (agency workers), data (fingerprint) and test window. Each run gets a letter (cmp, beside the run id); runs with different letters measure different things, and a warning under the table says what differs. A 6-month model's Brier is not better than a 12-month model's: it is a different question.

The table fits an 80-column terminal (and a pipe or file): the settings every listed run shares are printed once under it. --wide shows every column (experiment, MLflow experiment, start time, code, each setting, test window and rows, all metrics with their intervals, data fingerprint, and one column per other experiment key that differs); --json gives every column at full precision (each model metric with its interval, e.g. auc low and auc high; the baselines' for runs logged since they are), with every experiment key a run logged under settings. MLflow keeps a run's parameters as text; --json gives each setting the type the experiment file declares for it (retention_ml.experiment.SPEC): numbers as numbers ("horizon": 12, "model.learning_rate": 0.07), true/false as booleans ("evaluation.explain": true), lists as lists ("leaving": ["resignation"], a flat extract's "flat.bands.Age": [25, 35, 45]); other settings, and a value that does not read as its declared type, stay as logged.

ECE (expected calibration error, --wide and --json) is shown without its interval: noise alone makes it positive, the more so on a small test window, and a bootstrap range around it (logged in MLflow as ece.low/high) sits above the truth and can leave out its own value. Beside it, ece chance is what risks exactly right reach on the run's test window 95 times in 100 (an ECE under it is within chance) and ece p how often they reach the run's ECE (under 0.05: off beyond chance). Runs logged before this have neither.

Reads the tracking store (sqlite:///./mlflow.db unless MLFLOW_TRACKING_URI says otherwise).

Exit codes: 0 listed (also when the experiment has no runs yet), 2 could not run: no store at the tracking URI (it is not created by looking), a tracking server that does not answer within seconds, an experiment name the store does not hold, or an unreadable store.

\b
Examples:
  retention-ml runs
  retention-ml runs --experiment council_default
  retention-ml runs --wide
  retention-ml runs --json
"""

# metric -> column label, in the order shown; NARROW are the ones shown without --wide
COLUMNS = {
    "lightgbm.roc_auc": "auc",
    "lightgbm.average_precision": "ap",
    "lightgbm.brier": "brier",
    "lightgbm.ece": "ece",
    "lightgbm.precision_top10": "prec@10%",
    "lightgbm.recall_top10": "rec@10%",
    "logistic.roc_auc": "logistic auc",
    "team_base_rate.roc_auc": "team-rate auc",
    "truth.top_decile_top3": "truth top3",
    "truth.top_decile_top1": "truth top1",
    "alignment.top3": "exit top3",
    "alignment.top3_vs_global": "exit vs global",
}
NARROW = ("auc", "ap", "brier", "truth top3", "exit top3")
# The metrics a run logs with their 95% bootstrap interval over workers (``<metric>.low`` / ``.high``): each gets
# ``<label> low`` and ``<label> high`` beside it, so two runs' figures are read with their noise, not as a ranking.
INTERVALS = {label: metric for metric, label in COLUMNS.items()
             if metric.split(".")[0] in ("lightgbm", "logistic", "team_base_rate")   # the baselines' since S14
             and label not in ("ece",)}
# ECE is shown without its interval (noise alone makes it positive, and a bootstrap around it sits above the truth): beside it, its
# chance level (``lightgbm.ece.chance_high``: what risks exactly right reach on the test window 95 times in 100)
# and how often they reach the run's ECE (``.p_value``; under 0.05: off beyond chance). Older runs logged neither.
CHANCE = {"ece chance": "lightgbm.ece.chance_high", "ece p": "lightgbm.ece.p_value"}
# run parameter -> column label: the settings an analyst varies between runs. Older runs logged some under other
# names (before the parameters took the experiment's own key names): read those when the new name is absent.
SETTINGS = {
    "kind": "kind",
    "label.horizon_months": "horizon",
    "label.positive_reasons": "leaving",
    "population.agency": "agency",
    "snapshots.frequency_months": "freq",
    "model.constraints": "constraints",
    "tuning.trials": "trials",
    "seed": "seed",
}
OLD_PARAM_NAMES = {"population.agency": "label.agency", "data.path": "data_path"}
# What makes two runs' metrics measure the same thing: the same question (kind, label, population) asked of the
# same data on the same test rows.
COMPARED_ON = ("kind", "horizon", "leaving", "agency", "test window", "data")


# The root --help's command list shows this; the full first paragraph (800+ characters) filled a screen there.
SHORT_HELP = ("List training runs side by side: what each changed, which are comparable, test-window metrics with "
              "their intervals, and the registered version with its aliases.")


def register(app: typer.Typer) -> None:
    app.command("runs", help=HELP, short_help=SHORT_HELP)(runs)


UNFINISHED_NOTE = ("RUNNING: a train still at work, or one that lost its tracking server and never finished; FAILED: "
                   "a train that stopped with an error. Neither run is a model to score or promote: train again.")


def runs_table(experiment: str | None = None, tracking_uri: str | None = None):
    """DataFrame: one row per run (newest first): run_id, name, experiment, mlflow_experiment, start_time, the
    :data:`SETTINGS`, test window and rows, the :data:`COLUMNS` metrics (full precision), registered, data (the full
    fingerprint), ``settings`` (every experiment key the run logged, dotted name -> value as logged) and ``cmp``
    (runs with the same letter are comparable, :data:`COMPARED_ON`)."""
    import pandas as pd

    from retention_ml import artifacts, tracking

    uri = tracking.configure(tracking_uri, for_reading=True)   # looking never creates an empty store where the user expected theirs
    names = {e.experiment_id: e.name for e in tracking.client().search_experiments()}
    frame = tracking.search_runs()
    if not frame.empty and experiment is not None:
        # the name shown (the experiment file's) or the MLflow experiment's (they differ with mlflow_experiment = ...)
        own = _column(frame, f"tags.{artifacts.EXPERIMENT_TAG}")
        frame = frame[own.eq(experiment) | frame["experiment_id"].map(names).eq(experiment)]
    if experiment is not None and frame.empty and experiment not in names.values():
        known = sorted(set(names.values()) | set(_column(tracking.search_runs(), f"tags.{artifacts.EXPERIMENT_TAG}").dropna()))
        raise LookupError(f"no experiment named {experiment!r} in {uri} (experiments: {', '.join(known) or 'none'})")
    metrics = [c for label in COLUMNS.values()
               for c in ([label, f"{label} low", f"{label} high"] if label in INTERVALS
                         else [label, *CHANCE] if label == "ece" else [label])]
    columns = ["run_id", "cmp", "name", "experiment", "mlflow_experiment", "start_time", "code", *SETTINGS.values(),
               "test window", "test n", "test leavers", *metrics, "registered", "status", "data", "repeat of",
               "reproduced", "settings"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    out = pd.DataFrame({
        "run_id": frame["run_id"],
        "name": _column(frame, "tags.mlflow.runName"),
        "experiment": _column(frame, f"tags.{artifacts.EXPERIMENT_TAG}"),
        "mlflow_experiment": frame["experiment_id"].map(names),
        "start_time": frame["start_time"].astype(str).str.slice(0, 19),
        # same settings, data and seed give the same metrics only with the same code: a figure that moved between
        # two runs that differ in nothing else moved with the code
        "code": _column(frame, f"tags.{artifacts.GIT_COMMIT_TAG}"),
    })
    for param, label in SETTINGS.items():
        out[label] = _param(frame, param)
    out["test window"] = _param(frame, "window.test")
    out["test n"] = _column(frame, "metrics.test.n")
    out["test leavers"] = _column(frame, "metrics.test.leavers").fillna(_column(frame, "metrics.test.positives"))
    for metric, label in COLUMNS.items():
        out[label] = _column(frame, f"metrics.{metric}")
        if label in INTERVALS:
            out[f"{label} low"] = _column(frame, f"metrics.{metric}.low")
            out[f"{label} high"] = _column(frame, f"metrics.{metric}.high")
    for label, metric in CHANCE.items():
        out[label] = _column(frame, f"metrics.{metric}")
    out["settings"] = _settings(frame)
    versions = _registered_versions()
    out["registered"] = out["run_id"].map(lambda run_id: versions.get(run_id, ""))
    out["status"] = _column(frame, "status")   # FINISHED; RUNNING (or a train that lost its server), FAILED
    out["data"] = _column(frame, f"tags.{artifacts.DATA_FINGERPRINT_TAG}")
    out["cmp"] = comparable_groups(out)
    out[["repeat of", "reproduced"]] = repeats(out)
    return out[columns].reset_index(drop=True)


def _column(frame, name: str):
    import pandas as pd

    return frame[name] if name in frame else pd.Series(index=frame.index, dtype=object)


def _param(frame, name: str):
    """Parameter ``name`` of each run, from its older name for runs logged before the parameters were renamed."""
    value = _column(frame, f"params.{name}")
    old = OLD_PARAM_NAMES.get(name)
    return value.fillna(_column(frame, f"params.{old}")) if old else value


def _settings(frame):
    """Each run's experiment keys as logged (``model.learning_rate`` -> ``"0.03"``): every parameter of an experiment
    section (:data:`retention_ml.experiment.SPEC`) except data.path, whose fingerprint is the ``data`` column."""
    from retention_ml.experiment import SPEC

    sections = {s for s in SPEC if s not in (None, "data")}
    names = sorted(c for c in frame.columns if c.startswith("params.") and c[len("params."):].split(".")[0] in sections)
    return [{n[len("params."):]: v for n, v in zip(names, row) if isinstance(v, str)}
            for row in frame[names].itertuples(index=False)]


def _declared_type(key: str):
    """The type the experiment file declares for dotted ``key`` (``seed``, ``model.learning_rate``; an entry of a table
    key, ``flat.bands.Age``, by :data:`retention_ml.experiment.ENTRY_TYPES`), or None for a key it does not declare
    or declares with several types (``flat.positive``: text, number or boolean)."""
    from retention_ml.experiment import ENTRY_TYPES, SPEC

    section, _, name = key.rpartition(".")
    table = tuple(section.split(".", 1))
    if table in ENTRY_TYPES:
        return ENTRY_TYPES[table]
    declared = SPEC.get(section or None, {}).get(name)
    return declared[0] if declared and isinstance(declared[0], type) else None


def typed_setting(key: str, logged):
    """A logged parameter (MLflow keeps text) as the type the experiment declares for ``key``: ``"12"`` -> 12,
    ``"0.07"`` -> 0.07, ``"False"`` -> False, ``"['resignation']"`` -> ["resignation"]; as logged when the key is
    not declared with one type or the text does not read as it (a value logged by an older run)."""
    import ast

    kind = _declared_type(key)
    if not isinstance(logged, str) or kind is None or kind is str:
        return logged
    if kind is bool:
        return {"True": True, "False": False}.get(logged, logged)
    try:
        value = kind(logged) if kind in (int, float) else ast.literal_eval(logged)
    except (ValueError, SyntaxError):
        return logged
    return value if isinstance(value, kind) else logged


def _typed_json(table):
    """The table for --json: the :data:`SETTINGS` columns and each run's ``settings`` with their declared types
    (:func:`typed_setting`), the counts as whole numbers."""
    import pandas as pd

    # object columns: a run without the setting (another kind, an older run) must not turn 12 into 12.0 beside it
    typed = {label: pd.Series([typed_setting(param, v) for v in table[label]], index=table.index, dtype=object)
             for param, label in SETTINGS.items()}
    typed["settings"] = [{k: typed_setting(k, v) for k, v in own.items()} for own in table["settings"]]
    # counts are whole people (a run logged before they were has none): never 956.0
    typed |= {c: table[c].astype("Int64") for c in ("test n", "test leavers")}
    return table.assign(**typed)


def other_varying(table) -> list[str]:
    """Experiment keys outside :data:`SETTINGS` whose values differ between the listed runs (``model.learning_rate``,
    ``snapshots.start``): among the runs whose kind uses the key, a run without it (an optional key left unset, a run
    logged before the key existed) counts as :data:`MISSING`."""
    from retention_ml.experiment import unused_by_kind

    known = set(SETTINGS) | {OLD_PARAM_NAMES[k] for k in SETTINGS if k in OLD_PARAM_NAMES}
    keys = sorted({k for settings in table["settings"] for k in settings} - known)
    varying = []
    for key in keys:
        values = {settings.get(key, MISSING) for settings, kind in zip(table["settings"], _text(table["kind"]))
                  if kind not in ("snapshots", "flat") or not unused_by_kind(key, kind)}
        if len(values) > 1:
            varying.append(key)
    return varying


def _brief(value: str) -> str:
    """A logged value as the narrow table shows it: a tuned float to 4 significant digits (--wide and --json
    have it whole), anything else as logged."""
    try:
        number = float(value)
    except ValueError:
        return value
    return value if number.is_integer() or "." not in value else f"{number:.4g}"


def _differs(table, settings: list[str], others: list[str]):
    """Each run's cell of the ``differs`` column: ``label=value`` for the :data:`SETTINGS` that vary, then the other
    experiment keys (:func:`other_varying`) where this run departs from what most listed runs (of the kinds that use
    the key) have, without their section (``learning_rate=0.03``, ``drivers.CommuteKm=-``; the dotted name when two
    share it)."""
    from collections import Counter

    from retention_ml.experiment import unused_by_kind

    kinds = _text(table["kind"]).tolist()
    uses = lambda key, kind: kind not in ("snapshots", "flat") or not unused_by_kind(key, kind)  # noqa: E731
    usual = {key: Counter(own.get(key, MISSING) for own, kind in zip(table["settings"], kinds) if uses(key, kind))
             .most_common(1)[0][0] for key in others}
    # a key without its section (learning_rate, drivers.CommuteKm: a bare "CommuteKm=-" did not say it was the
    # column's driver), the whole dotted name when two share that
    short = {key: key.split(".", 1)[-1] for key in others}
    seen = Counter(short.values())
    label = {key: key if seen[short[key]] > 1 else short[key] for key in others}
    cells = []
    for row, own, kind in zip(_text(table[settings]).itertuples(index=False), table["settings"], kinds):
        extra = [f"{label[k]}={_brief(own.get(k, MISSING))}" for k in others
                 if uses(k, kind) and own.get(k, MISSING) != usual[k]]
        cells.append(" ".join([*(f"{c}={_short(c, v)}" for c, v in zip(settings, row)), *extra]))
    return cells


def repeats(table):
    """Two columns: ``repeat of`` (the run id of the oldest listed run with the same code, data, kind, seed and every
    experiment key: the same data, file and seed give the same model only with the same code; ``None`` for an
    original) and ``reproduced`` (whether its test metrics are that run's: a re-run that did not reproduce says so)."""
    import json

    import pandas as pd

    metrics = ["auc", "ap", "brier"]
    key = [json.dumps([code, data, kind, seed, own], sort_keys=True, default=str) for code, data, kind, seed, own in
           zip(_text(table["code"]), _text(table["data"]), _text(table["kind"]), _text(table["seed"]), table["settings"])]
    figures = _text(table[metrics]).agg("|".join, axis=1).tolist()
    first: dict[str, int] = {}
    original, reproduced = [None] * len(table), [None] * len(table)
    for i in reversed(range(len(table))):   # newest first: the oldest run with a key is the original
        j = first.setdefault(key[i], i)
        if j != i:
            original[i], reproduced[i] = table["run_id"].iloc[j], figures[i] == figures[j]
    return pd.DataFrame({"repeat of": original, "reproduced": reproduced}, index=table.index)


def comparable_groups(table):
    """A letter per run: runs with the same :data:`COMPARED_ON` values (missing counts as a value) share one,
    the newest run's group is A."""
    import pandas as pd

    key = _text(table[list(COMPARED_ON)]).agg("|".join, axis=1)
    codes, _ = pd.factorize(key)
    return pd.Series([_letter(c) for c in codes], index=table.index)


MISSING = "-"   # a setting or figure an older run (or the other kind of data) does not have


def _text(values):
    """Cells as text, a missing value as :data:`MISSING` (pandas' ``astype(str)`` keeps NaN in its string dtype)."""
    return values.astype(object).where(values.notna(), MISSING).astype(str)


def _letter(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else f"Z{i - 25}"


def comparability_warning(table) -> str | None:
    """Plain words when the listed runs do not all measure the same thing: which of :data:`COMPARED_ON` differ,
    with each value's runs (8-character ids)."""
    if table["cmp"].nunique() <= 1:
        return None
    parts = []
    for col in COMPARED_ON:
        values = _text(table[col])
        if values.nunique() > 1:
            shown = "; ".join(f"{_short(col, v)}: {', '.join(table.loc[values.eq(v), 'run_id'].str.slice(0, 8))}"
                              for v in dict.fromkeys(values))
            parts.append(f"{col} differs ({shown})")
    return ("these runs do not all measure the same thing, so their metrics are not comparable across letters in "
            "column cmp: " + "; ".join(parts) + ". Compare runs with the same letter.")


def _short(col: str, value: str) -> str:
    if col == "leaving":   # logged as a Python list ("['resignation']"): a reader wants the reasons, not the repr
        reasons = typed_setting("label.positive_reasons", value)
        return "+".join(map(str, reasons)) if isinstance(reasons, list) else value
    if col == "code":   # a commit's first 8 hex digits name it in a listing, as git log --oneline does
        return value[:8] + ("-dirty" if value.endswith("-dirty") else "")
    return value[:10] if col == "data" else value


def _registered_versions() -> dict[str, str]:
    """run id -> "name vN @alias ..." for every registered model version in the store."""
    from retention_ml import tracking

    client = tracking.client()
    # search_model_versions leaves aliases empty; the registered models carry them.
    alias_of: dict[tuple[str, str], list[str]] = {}
    for model in client.search_registered_models():
        for alias, version in (model.aliases or {}).items():
            alias_of.setdefault((model.name, str(version)), []).append(alias)
    out: dict[str, str] = {}
    for v in client.search_model_versions():
        aliases = "".join(f" @{a}" for a in sorted(alias_of.get((v.name, str(v.version)), [])))
        text = f"{v.name} v{v.version}{aliases}"
        out[v.run_id] = f"{out[v.run_id]}; {text}" if v.run_id in out else text
    return out


def shared_and_varying(table) -> tuple[dict[str, str], list[str]]:
    """(setting -> the value every listed run shares, the settings whose values differ), over :data:`SETTINGS`,
    the experiment, the test window and the data."""
    columns = ["experiment", "mlflow_experiment", "code", *SETTINGS.values(), "test window", "data"]
    shared, varying = {}, []
    for col in columns:
        values = _text(table[col])
        if values.nunique() == 1:
            shared[col] = _short(col, values.iloc[0])
        else:
            varying.append(col)
    return shared, varying


def _cell(value, digits: int) -> str:
    if isinstance(value, float):
        return "" if value != value else (f"{value:.{digits}f}" if abs(value) < 10 else f"{value:.0f}")
    return "" if value is None else str(value)


def _with_interval(value, low, high) -> str:
    """The narrow table's AUC cell: the value, and under it its 95% interval (``0.685`` / ``.63-.77``)."""
    if value != value or value is None:
        return ""
    if low != low or high != high or low is None or high is None:   # a run logged without its interval
        return f"{value:.3f}"
    return f"{value:.3f}\n" + f"{low:.2f}-{high:.2f}".replace("0.", ".")


INTERVAL_NOTE = ("auc: LightGBM's test-window ROC-AUC, its 95% interval over workers beneath; where two runs with one "
                 "letter have overlapping intervals, the test window cannot tell them apart (a seed alone moves it).")


def _view(table, wide: bool, title: str):
    """The rich table: narrow (fits 80 columns: borderless, the settings that differ between the listed runs in one
    folded column, short headers) or ``wide`` (every column, 4 decimals)."""
    from rich import box
    from rich.table import Table

    shared, varying = shared_and_varying(table)
    shown = table.assign(run_id=table["run_id"].str.slice(0, 8), start_time=table["start_time"].str.slice(0, 16),
                         data=_text(table["data"]).str.slice(0, 10))
    if wide:
        view = Table(title=title)
        others = other_varying(table)   # one column per other experiment key that differs, in place of the dict
        for key in others:
            shown[key] = [own.get(key, MISSING) for own in table["settings"]]
        shown["leaving"] = [_short("leaving", v) for v in _text(shown["leaving"])]   # the reasons, not a list's repr
        columns, digits, headers = [c for c in table.columns if c != "settings"] + others, 4, {}
    else:
        view = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
        # the test window and data are in the warning; the code after the settings
        settings = [c for c in varying if c in SETTINGS.values()] + [c for c in varying if c == "code"]
        shown["code"] = [_short("code", v) for v in _text(shown["code"])]
        again = [f"repeat of {r[:8]}" + ("" if same else " (metrics differ!)") if isinstance(r, str) else ""
                 for r, same in zip(table["repeat of"], table["reproduced"])]
        shown["differs"] = [" ".join(filter(None, [cell, note])) for cell, note in
                            zip(_differs(shown, settings, other_varying(table)), again)]
        # the model's name is the same on every row of an experiment; its version and aliases tell rows apart
        shown["model"] = shown["registered"].str.replace(r"^\S+ (v\d+)", r"\1", regex=True)
        # a run that did not finish is no model to score or promote, whatever it registered: said in its row
        unfinished = shown["status"].ne("FINISHED")
        shown.loc[unfinished, "model"] = (shown["model"] + " " + shown["status"]).str.strip()[unfinished]
        metrics = [c for c in NARROW if shown[c].notna().any()]
        shown["auc"] = [_with_interval(*v) for v in zip(shown["auc"], shown["auc low"], shown["auc high"])]
        # the comparability letter beside the run id: one column fewer, so 80 columns hold the table
        shown["run_id"] = shown["run_id"] + " " + shown["cmp"]
        columns, digits = ["run_id", "differs", *metrics, "model"], 3
        headers = {"run_id": "run  cmp", "truth top3": "truth\ntop3", "exit top3": "exit\ntop3"}
    numeric = (set(COLUMNS.values()) | {f"{c} {end}" for c in INTERVALS for end in ("low", "high")} | set(CHANCE)
               | {"test n", "test leavers"})
    for col in columns:
        header = headers.get(col, col)
        if col in numeric:   # a number is never cut short: the text columns fold instead
            width = max(len(line) for line in header.split("\n"))
            view.add_column(header, justify="right", no_wrap=True, min_width=max(width, digits + 2))
        else:
            view.add_column(header, overflow="fold", min_width={"cmp": 3, "differs": 17, "model": 10, "run_id": 10}.get(col, 8),
                            max_width=10 if col == "model" else None)   # "v4 @champion" in two lines; the settings get the rest
    for row in shown[columns].itertuples(index=False):
        view.add_row(*[_cell(v, digits) for v in row])
    return view, shared


def runs(
    experiment: str = typer.Option(None, "--experiment", help="Only runs of this experiment: the experiment file's name (shown in the table) or the MLflow experiment it was logged to (mlflow_experiment), e.g. council_default."),
    wide: bool = typer.Option(False, "--wide", help="Every column (needs a wide terminal; the default fits 80 columns)."),
    json_out: bool = typer.Option(False, "--json", help="Print every column of every run as JSON records, metrics at full precision, settings with the types the experiment file declares (numbers, booleans, lists)."),
    tracking_uri: TrackingUriOption = None,
) -> None:
    from rich.console import Console

    from retention_ml.commands import fail, wide_enough

    try:
        table = runs_table(experiment, tracking_uri)
    except Exception as exc:  # store unreachable or corrupt: could not run
        fail(str(exc) if json_out else f"cannot read runs: {exc}", 2, json_out=json_out, style=None)
    warning = comparability_warning(table) if len(table) else None   # nothing to compare in an empty store
    if json_out:
        records = json.loads(_typed_json(table).to_json(orient="records", double_precision=15))
        typer.echo(json.dumps(records, indent=2))
        if warning:
            typer.echo(f"WARNING: {warning}", err=True)
        return
    console = Console()
    if table.empty:   # a store (or experiment) with no runs yet is not a failure
        console.print(f"no training runs{' of ' + experiment if experiment else ''} yet: "
                      "retention-ml train EXPERIMENT logs one")
        return
    view, shared = _view(table, wide, f"training runs{' of ' + experiment if experiment else ''} (test window)")
    # --wide asked for every column: as wide as they need (scroll or pipe to `less -S`), never squeezed to nothing;
    # the default table fits 80 columns by design (its text columns fold), piped too
    (wide_enough(console, view, always=True) if wide else console).print(view)
    if not wide and table["auc low"].notna().any():
        console.print(INTERVAL_NOTE)
    if table["status"].ne("FINISHED").any():
        console.print(UNFINISHED_NOTE)
    if not wide:
        console.print("All listed runs: " + ", ".join(f"{k} {v}" for k, v in shared.items() if v != MISSING),
                      soft_wrap=False)
    if warning:
        console.print(f"[bold yellow]WARNING: {warning}[/bold yellow]")
