"""The model card as a governance board reads it: a first section in plain words (verdict, what the model does,
how good in natural frequencies, who is affected, what it must not be used for), windows counted in people who
left as well as leaving snapshots. Numbers are recomputed here from the run's logged predictions."""

from __future__ import annotations

import importlib.util
import json
import re
import tempfile
from pathlib import Path

import pytest

from retention_ml import tracking

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_board_fake_runs", REPO / "tests" / "test_promotion.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)


def _relog_metrics(run_id: str, **changes) -> dict:
    """Re-log the run's metrics.json with ``changes`` applied (top-level keys), as a newer training writes it."""
    metrics = tracking.load_json_artifact(run_id, "evaluation/metrics.json") | changes
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "metrics.json"
        path.write_text(json.dumps(metrics), encoding="utf-8")
        tracking.log_artifact_file(run_id, path, "evaluation")
    return metrics


@pytest.fixture(scope="module")
def runs(tmp_path_factory, scratch_store):
    from retention_ml.reports.model_card import build_card, render_html, render_markdown

    root = tmp_path_factory.mktemp("board")
    with scratch_store(root):
        good = fake.make_fake_run(kind="good")
        loses = fake.make_fake_run(kind="loses_to_logistic")
        counts = tracking.load_json_artifact(good, "evaluation/metrics.json")["counts"]
        preds = tracking.load_table_artifact(good, "evaluation/test_predictions.parquet")
        leavers = {"train": 610, "valid": 150,
                   "test": int(preds.loc[preds["label"] == 1, "worker_id"].nunique())}
        _relog_metrics(good, counts={w: c | {"leavers": leavers[w]} for w, c in counts.items()})
        card = build_card(good)
        yield {"good": good, "preds": preds, "leavers": leavers, "good_html": render_html(card),
               "good_md": render_markdown(card), "loses_md": render_markdown(build_card(loses))}


def _section(md: str, heading: str) -> str:
    return md.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


def test_the_card_opens_with_a_plain_summary_whose_numbers_are_the_runs(runs):
    md = runs["good_md"]
    assert md.index("## In brief") < md.index("## Model details")
    brief = " ".join(_section(md, "In brief").split())
    preds = runs["preds"]
    n = len(preds)
    flagged = preds["risk"].rank(method="first", ascending=False) <= -(-n // 10)
    hits, left = int(preds.loc[flagged, "label"].sum()), int(preds["label"].sum())
    assert f"{n:,} snapshots (one person at one date)" in brief  # 1,200: thousands marked  # two test dates per person in the fake run
    assert f"{left:,} of them were followed by leaving within 12 months, about {round(100 * left / n)} in every 100" in brief
    assert (f"Of the {int(flagged.sum())} the model put in its top 10% (the top of a list), {hits} left: "
            f"about {round(100 * hits / flagged.sum())} in every 100") in brief
    assert f"The other {left - hits} who left were further down the list" in brief
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(preds["label"], preds["risk"])
    assert f"the higher risk {round(100 * auc)} times in 100 (50 would be a coin toss)" in brief
    assert f"{preds['worker_id'].nunique()} people in the test window" in brief
    assert "too few people left (or stayed) to check" not in brief  # every fake group has a ROC-AUC
    assert "never decides" in brief and "must not be used" in brief
    # the good fake run passes every check the card can judge, but nobody has promoted it
    assert "passes every check of the promotion gate" in brief and "NOT APPROVED" in brief


def test_a_refused_model_says_so_first_with_the_failed_check_in_words(runs):
    brief = " ".join(_section(runs["loses_md"], "In brief").split())
    assert brief.startswith("- **Verdict: the model does NOT pass the promotion gate (failed: beats both baselines)")
    assert "must not be used for managers' lists" in brief


def test_windows_count_people_who_left_apart_from_leaving_snapshots(runs):
    md = runs["good_md"]
    counts = tracking.load_json_artifact(runs["good"], "evaluation/metrics.json")["counts"]
    assert "| Window | Snapshot dates | Snapshots | Snapshots followed by leaving | People | People who left | Base rate |" in md
    train, test = counts["train"], counts["test"]
    assert f"| Training | 2021-01-01 to 2022-06-01 | {train['n']:,} | {train['positives']:,} | {train['workers']:,} | 610 |" in md
    assert test["positives"] > runs["leavers"]["test"]  # two snapshots per person: the two counts differ
    assert f"| {test['positives']:,} | {test['workers']:,} | {runs['leavers']['test']} |" in md
    # a run logged before people who left were counted says so instead of inventing a number
    older = _section(runs["loses_md"], "Evaluation and training data")
    assert "| not recorded |" in older


def _relog_catalogue(run_id: str, rows: list[dict]) -> None:
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "feature_catalogue.csv"
        pd.DataFrame(rows).to_csv(path, index=False)
        tracking.log_artifact_file(run_id, path)


CASELOAD = {"feature": "caseload_current", "meaning": "open cases", "unit": "cases", "driver": "caseload_workload",
            "family": "caseload"}


@pytest.fixture(scope="module")
def input_cards(tmp_path_factory, scratch_store):
    """Cards for runs whose inputs hold a protected column, a cleared protected-looking column, or neither."""
    from retention_ml.reports.model_card import build_card, render_markdown

    root = tmp_path_factory.mktemp("inputs")
    with scratch_store(root):
        clean = fake.make_fake_run(kind="good")
        protected = fake.make_fake_run(kind="good")
        _relog_catalogue(protected, [CASELOAD, {"feature": "sex_female", "meaning": "sex = female (0/1)",
                                                "unit": "0/1", "driver": "other", "family": "flat"}])
        cleared = fake.make_fake_run(kind="good")
        _relog_catalogue(cleared, [CASELOAD,
                                   {"feature": "Title_Dr", "meaning": "Title = Dr (0/1)", "unit": "0/1",
                                    "driver": "other", "family": "flat"},
                                   {"feature": "JobRole_Healthcare_Representative", "unit": "0/1", "driver": "other",
                                    "meaning": "JobRole = Healthcare_Representative (0/1)", "family": "flat"}])
        tracking.client().log_param(cleared, "flat.not_protected", "['Title']")
        yield {k: render_markdown(build_card(r)) for k, r in
               {"clean": clean, "protected": protected, "cleared": cleared}.items()}


def test_the_card_lists_the_inputs_and_shows_the_protected_check(input_cards):
    inputs = _section(input_cards["clean"], "Model inputs")
    assert "| `caseload_current` | open cases | cases | Caseload and workload |" in inputs
    assert "none of the 1 inputs is a column declared protected (`age_band`, `disability`, `ethnicity_group`, `sex`)" in inputs
    md = input_cards["clean"]
    assert "never as inputs (the check is under Model inputs)" in _section(md, "In brief")
    assert "nowhere in the model's inputs (checked under Model inputs)" in md


def test_a_protected_input_is_said_first_never_denied(input_cards):
    md = input_cards["protected"]
    assert "> **Protected characteristic among the inputs: `sex_female` (declared protected)." in md
    assert "Its inputs include a protected characteristic" in _section(md, "In brief")
    assert "Its inputs include a protected characteristic" in _section(md, "Ethical considerations")
    assert "nowhere in the model's inputs" not in md and "never as inputs" not in md


def test_a_protected_looking_input_the_analyst_cleared_is_named_for_the_board(input_cards):
    md = input_cards["cleared"]
    inputs = _section(md, "Model inputs")
    assert "cleared as not protected (`flat.not_protected`): `Title_Dr`." in inputs
    assert "Protected characteristic among the inputs" not in inputs  # JobRole_Healthcare_... judged as JobRole
    assert "Its inputs include `Title_Dr`" in _section(md, "In brief")
    assert "nowhere in the model's inputs" not in md and "never as inputs" not in md


def _contrast(hex_colour: str, background: str = "#ffffff") -> float:
    """WCAG 2 contrast ratio of two sRGB colours."""
    def luminance(h: str) -> float:
        c = [int(h.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((luminance(hex_colour), luminance(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_html_tables_read_well_on_a_screen_reader(runs):
    """Each table is named by its heading, its header cells are column headers and each row opens with a row
    header, so a screen reader announces "Sex table, female row, ROC-AUC column" instead of bare numbers."""
    from html.parser import HTMLParser

    class Tables(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.ids, self.tables, self.links, self.part = set(), [], [], None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if "id" in a and tag in ("h2", "h3"):
                self.ids.add(a["id"])
            if tag == "a":
                self.links.append(a.get("href", ""))
            if tag == "table":
                self.tables.append({"label": a.get("aria-labelledby"), "head": [], "rows": []})
            elif tag in ("thead", "tbody"):
                self.part = tag
            elif tag == "tr" and self.tables:
                (self.tables[-1]["head"] if self.part == "thead" else self.tables[-1]["rows"]).append([])
            elif tag in ("th", "td") and self.tables:
                rows = self.tables[-1]["head"] if self.part == "thead" else self.tables[-1]["rows"]
                rows[-1].append((tag, a.get("scope")))

    parser = Tables()
    parser.feed(runs["good_html"])
    assert len(parser.tables) >= 10
    for table in parser.tables:
        assert table["label"] in parser.ids, table["label"]
        assert len(table["head"]) == 1 and all(cell == ("th", "col") for cell in table["head"][0])
        assert table["rows"] and all(row[0] == ("th", "row") and all(c[0] == "td" for c in row[1:])
                                     for row in table["rows"])
    assert parser.links and all(link.lstrip("#") in parser.ids for link in parser.links)  # section links resolve


def test_html_contrast_print_and_alt_text(runs):
    html = runs["good_html"]
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    for rule in ("body", "td.few"):
        colour = re.search(rf"(?m)^{re.escape(rule)} {{[^}}]*?\bcolor: (#[0-9a-fA-F]{{6}})", style).group(1)
        assert _contrast(colour) >= 4.5, (rule, colour, _contrast(colour))
    printed = style.split("@media print", 1)[1]
    assert "thead { display: table-header-group; }" in printed  # headers repeat on every printed page
    assert re.search(r"tr, img[^{]*{ break-inside: avoid; }", printed)
    alts = dict(re.findall(r'<img id="([^"]+)" alt="([^"]+)"', html))
    assert "dashed diagonal" in alts["calibration-plot"] and "same numbers are in the group tables" in alts["groups-plot"]


def test_the_summary_counts_groups_whose_ranking_could_not_be_checked():
    spec = importlib.util.spec_from_file_location("_unchecked", REPO / "tests" / "test_promotion_unchecked.py")
    unchecked = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(unchecked)
    from retention_ml.fairness import audit_fairness
    from retention_ml.reports.model_card import _unchecked_brief

    audit = audit_fairness(unchecked._predictions())  # black (2 leavers) and the withheld male group: no ROC-AUC
    assert _unchecked_brief(audit) == ("; for 2 of the 5 groups large enough to audit, too few people left (or "
                                       "stayed) to check how well it ranks them (Promotion gate)")


def test_a_withheld_alignment_comparison_is_said_withheld_never_compared_with_n_a(tmp_path, scratch_store):
    """The demo card read 'matches the stated exit reason 40.0% of the time against n/a ... (difference n/a)'
    when alignment.json withheld the global top-1 figure to protect small groups."""
    from retention_ml.reports.model_card import build_card, render_markdown

    empty = {"value": None, "low": None, "high": None}
    record = fake.fake_alignment() | {
        "global": {"top1": empty, "top3": {"value": 0.4, "low": 0.2, "high": 0.67}},
        "difference_vs_global": {"top1": empty, "top3": {"value": 0.067, "low": -0.2, "high": 0.33}},
        "chance": {"top1": None, "top3": None}, "small_groups": "Stated reasons given by fewer than 5 leavers ..."}
    with scratch_store(tmp_path):
        run = fake.make_fake_run(kind="good")
        path = tmp_path / "alignment.json"
        path.write_text(json.dumps(record), encoding="utf-8")
        tracking.log_artifact_file(run, path, "explanations")
        md = render_markdown(build_card(run))
    ethics = " ".join(_section(md, "Ethical considerations").split())
    assert "n/a" not in ethics
    # the difference printed is that of the two rates printed (model_card._shown_difference), the interval as logged
    assert ("the stated exit reason is among their first three drivers 62.0% of the time against 40.0% for the same "
            "three drivers for everyone (difference 22.0 pp (-20.0 pp to 33.0 pp))") in ethics
    assert "The comparison on the first driver alone is withheld to protect small groups." in ethics
    assert "| Global baseline (same drivers for everyone) | withheld (small groups) | 40.0% (20.0% to 67.0%) |" in md
    assert "| Chance | withheld (small groups) | withheld (small groups) |" in md
