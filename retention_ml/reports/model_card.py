"""Model cards (Mitchell et al., 2019) written from a training run's MLflow record.

Every number in the card is read from the run: ``evaluation/metrics.json`` (CONTRACTS 5),
``evaluation/test_predictions.parquet`` (the fairness audit is recomputed from it with
:func:`retention_ml.fairness.audit_fairness`), ``explanations/*.json|csv`` (CONTRACTS 6),
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
import json
import math
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["ModelCard", "build_card", "render_markdown", "render_html", "write_card", "CARD_DIR", "CARD_TAG"]

CARD_DIR = "model_card"
CARD_TAG = "retention_ml.card"
TEMPLATES = Path(__file__).with_name("templates")
LIBRARIES = ("scikit-learn", "lightgbm", "shap", "mlflow", "fairlearn", "pandas", "numpy")
OPTIONAL_JSON = {"alignment": "explanations/alignment.json", "truth": "explanations/truth.json"}
OPTIONAL_TABLES = {"driver_importance": "explanations/driver_importance.csv",
                   "global_importance": "explanations/global_importance.csv",
                   "censoring": "censoring_report.csv", "catalogue": "feature_catalogue.csv"}
OPTIONAL_IMAGES = {"calibration": "evaluation/calibration.png", "beeswarm": "explanations/beeswarm.png"}
MODEL_LABELS = {"lightgbm": "Turnover model (LightGBM, Platt-calibrated)", "logistic": "Baseline: logistic regression",
                "team_base_rate": "Baseline: team base rate"}
METRIC_LABELS = {"roc_auc": "ROC-AUC", "average_precision": "Average precision", "brier": "Brier score",
                 "ece": "Expected calibration error", "precision_top10": "Precision in top 10%",
                 "recall_top10": "Recall in top 10%"}


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
    return f"{value:.{digits}f}"


def _pct(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{100 * value:.{digits}f}%"


def _calibration_text(cal: dict | None) -> str:
    if not cal:
        return "not recorded"
    return (f"{cal.get('method', '?')} (a = {_num(cal.get('a'))}, b = {_num(cal.get('b'))}); validation ECE "
            f"{_num(cal.get('ece_valid_before'))} before, {_num(cal.get('ece_valid_after'))} after")


def _window(metrics: dict, name: str) -> tuple[str, str]:
    """(first, last) snapshot date of a window; a flat extract has no dates."""
    span = (metrics.get("windows") or {}).get(name) or []
    return (str(span[0]), str(span[-1])) if len(span) else ("n/a (no dates)", "n/a (no dates)")


def _interval(item: dict | None, fmt=_num) -> str:
    if not item or item.get("value") is None:
        return "n/a"
    if item.get("low") is None or item.get("high") is None:
        return fmt(item["value"])
    return f"{fmt(item['value'])} ({fmt(item['low'])} to {fmt(item['high'])})"


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


def _group_plot(audit) -> bytes | None:
    """Observed against predicted leaver rate per assessable group (one panel per factor)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from retention_ml.fairness import FACTOR_LABELS

    ok = audit.shown  # never plot a small or withheld group
    if ok.empty:
        return None
    factors = list(dict.fromkeys(ok["factor"]))
    fig, axes = plt.subplots(len(factors), 1, figsize=(7, 1.0 + 0.45 * len(ok) + 0.4 * len(factors)), squeeze=False,
                             gridspec_kw={"height_ratios": [max(1, (ok["factor"] == f).sum()) for f in factors]})
    for ax, factor in zip(axes[:, 0], factors):
        rows = ok[ok["factor"] == factor]
        pos = np.arange(len(rows))
        ax.barh(pos - 0.2, rows["base_rate"], height=0.4, label="observed leaver rate", color="#1f77b4")
        ax.barh(pos + 0.2, rows["mean_risk"], height=0.4, label="mean predicted risk", color="#ff7f0e")
        ax.set_yticks(pos, rows["group"])
        ax.set_title(FACTOR_LABELS.get(factor, factor), fontsize=9, loc="left")
        ax.tick_params(labelsize=8)
    axes[0, 0].legend(fontsize=7, loc="lower right")
    axes[-1, 0].set_xlabel("share of people leaving within the horizon")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def _fairness_rows(audit) -> dict[str, list[dict]]:
    """Per factor: rows as text, with "too few to assess" in place of every number of a small group."""
    out: dict[str, list[dict]] = {}
    from retention_ml.fairness import TOO_FEW, WITHHELD

    for row in audit.table.to_dict("records"):
        ok = row["status"] == "ok" and not row["withheld"]
        few = WITHHELD if row["withheld"] else TOO_FEW
        auc = (_num(row["roc_auc"]) if not math.isnan(row["roc_auc"]) else row["roc_auc_note"] or "n/a") if ok else few
        if ok and row.get("roc_auc_low") is not None and not math.isnan(row.get("roc_auc_low", float("nan"))):
            auc += f" ({_num(row['roc_auc_low'])} to {_num(row['roc_auc_high'])})"
        out.setdefault(row["factor"], []).append({
            "group": row["group"], "ok": ok,
            "people": f"{int(row['people'])}" if ok else few,
            "rows": f"{int(row['rows'])}" if ok else few,
            "base_rate": (_pct(row["base_rate"]) + (f" ({_pct(row['base_rate_low'])} to {_pct(row['base_rate_high'])})"
                                                    if "base_rate_low" in row else "")) if ok else few,
            "roc_auc": auc,
            "observed": f"{int(row['observed'])}" if ok else few,
            "expected": _num(row["expected"], 1) if ok else few,
            "calibration_ratio": _num(row["calibration_ratio"], 2) if ok else few,
            "calibration_difference": (f"{100 * row['calibration_difference']:+.1f} pts" if ok else few),
            "flagged_share": _pct(row["flagged_share"]) if ok else few,
        })
    return out


def _gap_rows(audit) -> list[dict]:
    from retention_ml.fairness import FACTOR_LABELS

    labels = {"base_rate": ("Base rate", _pct), "roc_auc": ("ROC-AUC", _num),
              "calibration_ratio": ("Calibration ratio (observed / predicted)", lambda v: _num(v, 2)),
              "calibration_difference": ("Calibration difference (observed - predicted rate)",
                                         lambda v: f"{100 * v:+.1f} pts"),
              "flagged_share": ("Share flagged in top 10%", _pct)}
    rows = []
    gaps = audit.shown_gaps()
    for g in gaps[gaps["groups"] >= 2].to_dict("records"):
        label, fmt = labels[g["metric"]]
        rows.append({"factor": FACTOR_LABELS.get(g["factor"], g["factor"]), "metric": label, "gap": fmt(g["gap"]),
                     "high": f"{g['max_group']} ({fmt(g['max_value'])})", "low": f"{g['min_group']} ({fmt(g['min_value'])})"})
    return rows


def _factor_name(factor: str) -> str:
    from retention_ml.fairness import FACTOR_LABELS

    return FACTOR_LABELS[factor].lower() if factor in FACTOR_LABELS else factor


def _considerations(metrics: dict, audit, alignment: dict | None, truth: dict | None, thresholds: dict,
                    simulated: bool) -> list[str]:
    """Ethical considerations and caveats written from this run's own numbers."""
    from retention_ml.fairness import FACTOR_LABELS

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
    ece = mine["ece"]["value"]
    if ece > thresholds["max_ece"]:
        notes.append(f"Risks are poorly calibrated overall: expected calibration error {_num(ece)} exceeds the "
                     f"gate's {_num(thresholds['max_ece'])}. Read the percentages as a ranking, not as probabilities.")
    shortfalls = audit.group_shortfalls()
    shortfalls = shortfalls[~shortfalls["withheld"].astype(bool)]  # never print a withheld group's numbers
    cal = shortfalls.dropna(subset=["calibration_gap"])
    if not cal.empty:
        w = audit.table.loc[cal["calibration_gap"].idxmax()]
        direction = "understates" if w["calibration_difference"] > 0 else "overstates"
        notes.append(
            f"Calibration is worst for {_factor_name(w['factor'])} = {w['group']} "
            f"({int(w['people'])} people): {int(w['observed'])} leavers observed against {_num(w['expected'], 1)} "
            f"predicted ({_pct(w['base_rate'])} against {_pct(w['mean_risk'])}); the model {direction} risk for this "
            f"group{' beyond the gate threshold' if w['calibration_gap'] > thresholds['max_group_calibration_gap'] else ''}.")
    auc = shortfalls.dropna(subset=["roc_auc_shortfall"])
    if not auc.empty:
        w = auc.loc[auc["roc_auc_shortfall"].idxmax()]
        if w["roc_auc_shortfall"] > 0:
            notes.append(
                f"Ranking is weakest for {_factor_name(w['factor'])} = {w['group']}: ROC-AUC "
                f"{_num(w['roc_auc'])} against {_num(audit.overall['roc_auc'])} for everyone"
                f"{' (over the gate threshold)' if w['roc_auc_shortfall'] > thresholds['max_group_roc_auc_shortfall'] else ''}.")
    flagged = audit.worst("flagged_share", shown_only=True)
    if flagged is not None and flagged["gap"] > 0:
        notes.append(
            f"Who gets flagged differs most by {_factor_name(flagged['factor'])}: "
            f"{_pct(flagged['max_value'])} of {flagged['max_group']} are in the top 10% of risk against "
            f"{_pct(flagged['min_value'])} of {flagged['min_group']}. Check whether that mirrors real differences "
            "in leaving (base rates above) before acting on lists.")
    withheld = audit.table[audit.table["withheld"].astype(bool)]
    if not withheld.empty:
        notes.append("Withheld so that small groups cannot be worked out by subtraction: "
                     + "; ".join(f"{_factor_name(r['factor'])} = {r['group']}" for _, r in withheld.iterrows())
                     + ". They are still included in the promotion gate's checks.")
    small = audit.table[~audit.table["status"].eq("ok")]
    if not small.empty:
        listed = "; ".join(f"{_factor_name(f)}: {', '.join(g['group'])}"
                           for f, g in small.groupby("factor", sort=False))
        notes.append(f"Too few people to assess (under {audit.min_group}), so nothing is known about how the model "
                     f"works for them: {listed}.")
    if alignment is None:
        notes.append("No exit-interview alignment was logged for this run: its explanations are unchecked against what "
                     "leavers said.")
    else:
        diff = alignment.get("difference_vs_global", {}).get("top1", {})
        if diff.get("value") is None or diff.get("low") is None or diff["low"] <= 0:
            notes.append(
                f"Per-person explanations do not clearly beat the global baseline: their top driver matches the stated "
                f"exit reason {_pct(alignment['top1']['value'])} of the time against "
                f"{_pct(alignment['global']['top1']['value'])} for the same top driver for everyone "
                f"(difference {_interval(diff, _pct)}). Treat individual reasons as prompts, not findings.")
        if alignment.get("n_with_interview", 0) < 20:
            notes.append(f"Only {alignment.get('n_with_interview', 0)} leavers had an exit interview to check explanations against.")
    if simulated:
        notes.append("Trained and tested on simulated data: the numbers describe the simulator, not any real council.")
    if truth is not None and truth.get("top1", {}).get("value") is not None:
        notes.append(f"On simulated data the top explained driver matched the simulator's true top driver for "
                     f"{_pct(truth['top1']['value'])} of leavers.")
    return notes


def build_card(run_ref: str, *, thresholds: dict | None = None, model_name: str | None = None,
               n_boot: int = 0, random_state: int = 0) -> ModelCard:
    """Gather the card for a run (configure tracking first). ``n_boot`` adds bootstrap intervals per group."""
    from retention_ml import tracking
    from retention_ml.fairness import FACTOR_LABELS, audit_fairness
    from retention_ml.promotion import load_thresholds, registered_version, run_checks

    thresholds = thresholds or load_thresholds()
    run_id = tracking.resolve_run_id(run_ref)
    run = tracking.client().get_run(run_id)
    tags = dict(run.data.tags)
    metrics = tracking.load_json_artifact(run_id, "evaluation/metrics.json")
    predictions = tracking.load_table_artifact(run_id, "evaluation/test_predictions.parquet")
    alignment = _optional(tracking.load_json_artifact, run_id, OPTIONAL_JSON["alignment"])
    truth = _optional(tracking.load_json_artifact, run_id, OPTIONAL_JSON["truth"])
    tables = {k: _optional(tracking.load_table_artifact, run_id, p) for k, p in OPTIONAL_TABLES.items()}
    audit = audit_fairness(predictions, min_group=thresholds["min_group"], n_boot=n_boot, random_state=random_state)
    version = registered_version(run_id, model_name)
    name = version.name if version is not None else (model_name or tracking.DEFAULT_MODEL_NAME)
    if version is not None:  # search results carry no aliases; the version itself does
        version = tracking.client().get_model_version(name, version.version)
    simulated = tags.get("retention_ml.simulated") == "true"
    gate = run_checks(run_id, {**thresholds, "require_card": False}, audit=audit)

    images = {k: b for k, p in OPTIONAL_IMAGES.items() if (b := _read_bytes(run_id, p)) is not None}
    group_png = _group_plot(audit)
    if group_png is not None:
        images["groups"] = group_png

    started = datetime.fromtimestamp(run.info.start_time / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    metric_rows = [{"metric": METRIC_LABELS[m], **{k: _interval(v.get(m)) for k, v in metrics["models"].items()}}
                   for m in METRIC_LABELS if m in metrics["models"].get("lightgbm", {})]
    counts = [{"window": w, "from": _window(metrics, w)[0], "to": _window(metrics, w)[1],
               "n": c["n"], "positives": c["positives"], "workers": c["workers"],
               "base_rate": _pct(c["positives"] / c["n"]) if c["n"] else "n/a"}
              for w, c in metrics.get("counts", {}).items()]
    drivers = tables["driver_importance"]
    top_drivers = ([] if drivers is None else
                   drivers.sort_values("mean_abs_shap", ascending=False).head(8)
                   .assign(mean_abs_shap=lambda d: d["mean_abs_shap"].map(_num)).to_dict("records"))
    censoring = tables["censoring"]
    context = {
        "title": f"Model card: {name}" + (f" version {version.version}" if version is not None else ""),
        "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "details": [
            ("Registered model", name),
            ("Registry version", str(version.version) if version is not None else "not registered"),
            ("Registry aliases", ", ".join(getattr(version, "aliases", []) or []) or "none"),
            ("MLflow run id", run_id),
            ("Experiment", tags.get("retention_ml.experiment", run.info.run_name or "n/a")),
            ("Training window (snapshot dates)", " to ".join(_window(metrics, "train"))),
            ("Validation window", " to ".join(_window(metrics, "valid"))),
            ("Test window", " to ".join(_window(metrics, "test"))),
            ("Data fingerprint", tags.get("retention_ml.data_fingerprint", "not recorded")),
            ("Schema version", tags.get("retention_ml.schema_version", "not recorded")),
            ("retention-ml version", tags.get("retention_ml.package_version", "not recorded")),
            ("Git commit", tags.get("retention_ml.git_commit", "not recorded")),
            ("Simulated data", "yes" if simulated else "no"),
            ("Trained by", tags.get("mlflow.user", run.info.user_id or "not recorded")),
            ("Trained at", started),
            ("Calibration", _calibration_text(metrics.get("calibration"))),
        ],
        "libraries": _library_versions(),
        "horizon": metrics.get("horizon_months"),
        "label": json.dumps(metrics.get("label", {}), sort_keys=True),
        "population": metrics.get("population", "not recorded"),
        "censored": metrics.get("censored", "n/a"),
        "censoring_rows": [] if censoring is None else censoring.astype(str).to_dict("records"),
        "censoring_columns": [] if censoring is None else list(censoring.columns),
        "counts": counts,
        "model_names": [k for k in metrics["models"]],
        "model_labels": MODEL_LABELS,
        "metric_rows": metric_rows,
        "beats": metrics.get("beats_baselines", {}),
        "overall": {"people": audit.overall["people"], "rows": audit.overall["rows"],
                    "roc_auc": _num(audit.overall["roc_auc"]), "base_rate": _pct(audit.overall["base_rate"]),
                    "top_threshold": _pct(audit.overall["top_threshold"])},
        "factor_labels": FACTOR_LABELS,
        "fairness": _fairness_rows(audit),
        "gaps": _gap_rows(audit),
        "min_group": audit.min_group,
        "n_boot": n_boot,
        "top_drivers": top_drivers,
        "alignment": None if alignment is None else {
            "n_leavers": alignment.get("n_leavers"), "n_with_interview": alignment.get("n_with_interview"),
            "top1": _interval(alignment.get("top1"), _pct), "top3": _interval(alignment.get("top3"), _pct),
            "chance_top1": _pct(alignment.get("chance", {}).get("top1")),
            "chance_top3": _pct(alignment.get("chance", {}).get("top3")),
            "global_top1": _interval(alignment.get("global", {}).get("top1"), _pct),
            "global_top3": _interval(alignment.get("global", {}).get("top3"), _pct),
            "diff_top1": _interval(alignment.get("difference_vs_global", {}).get("top1"), _pct),
            "diff_top3": _interval(alignment.get("difference_vs_global", {}).get("top3"), _pct)},
        "truth": None if truth is None else {
            "n_leavers": truth.get("n_leavers"), "top1": _interval(truth.get("top1"), _pct),
            "top3": _interval(truth.get("top3"), _pct), "spearman_mean": _num(truth.get("spearman_mean")),
            "spearman_median": _num(truth.get("spearman_median")),
            # older runs' truth.json has no such block: the card then leaves the sentence out
            "reference_top1": _interval((truth.get("oracle_last_month") or {}).get("top1"), _pct),
            "reference_top3": _interval((truth.get("oracle_last_month") or {}).get("top3"), _pct)},
        "considerations": _considerations(metrics, audit, alignment, truth, thresholds, simulated),
        "thresholds": thresholds,
        "gate": [c.as_dict() for c in gate],
        "images": sorted(images),
    }
    fairness = audit.summary()
    return ModelCard(run_id=run_id, context=context, fairness=fairness, images=images)


def _env(html: bool):
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=html, trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    # A "|" inside a Markdown table cell would split the cell.
    env.filters["cell"] = lambda value: str(value).replace("|", "\\|")
    return env


def render_markdown(card: ModelCard) -> str:
    """The card as Markdown; plots are referenced as PNG files written beside it."""
    return _env(False).get_template("model_card.md.j2").render(**card.context)


def render_html(card: ModelCard) -> str:
    """The card as one self-contained HTML page: plots inline as base64 PNG, no external files."""
    inline = {k: "data:image/png;base64," + base64.b64encode(v).decode("ascii") for k, v in card.images.items()}
    return _env(True).get_template("model_card.html.j2").render(**card.context, inline=inline)


def write_card(run_ref: str, out_dir: str | Path, *, log: bool = True, **kwargs) -> dict[str, Path]:
    """Write model_card.md, model_card.html, fairness.csv and the plots to ``out_dir``.

    With ``log`` they are logged to the run under ``model_card/`` and tag ``retention_ml.card`` is set
    to "written" (the promotion gate looks for both).
    """
    from retention_ml import tracking
    from retention_ml.io import atomic_path

    card = build_card(run_ref, **kwargs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out / "model_card.md", "html": out / "model_card.html", "fairness": out / "fairness.csv"}
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
    return paths
