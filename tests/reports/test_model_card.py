"""Model card: written from the run's record (numbers recomputed here), small groups never numbers,
self-contained HTML rendered in headless Chromium, considerations from the model's own numbers."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retention_ml import tracking

REPO = Path(__file__).resolve().parents[2]
# The fake-run builder lives with the gate tests (one definition for both test modules).
_spec = importlib.util.spec_from_file_location("_h7_fake_runs", REPO / "tests" / "test_promotion.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)


@pytest.fixture(scope="module")
def cards(tmp_path_factory, scratch_store):
    """A good run (card via the CLI, logged) and a run that loses to logistic without alignment (card, not logged)."""
    from typer.testing import CliRunner

    from retention_ml.cli import app
    from retention_ml.reports.model_card import write_card

    root = tmp_path_factory.mktemp("cards")
    with scratch_store(root):
        good = fake.make_fake_run(kind="good", pyfunc=True)
        loses = fake.make_fake_run(kind="loses_to_logistic", with_alignment=False)
        result = CliRunner().invoke(app, ["card", "--run", good, "--out", str(root / "good"), "--json"])
        assert result.exit_code == 0, result.output
        written = json.loads(result.stdout)
        paths = write_card(loses, root / "loses", log=False)
        yield {"root": root, "good": good, "loses": loses, "cli": written,
               "good_md": (root / "good" / "model_card.md").read_text(encoding="utf-8"),
               "good_html": (root / "good" / "model_card.html").read_text(encoding="utf-8"),
               "loses_md": paths["markdown"].read_text(encoding="utf-8"),
               "loses_html": paths["html"].read_text(encoding="utf-8"),
               "fairness": pd.read_csv(root / "good" / "fairness.csv", dtype=str)}


def test_card_is_logged_to_the_run_with_tag(cards):
    assert cards["cli"]["written"] and cards["cli"]["logged"]
    logged = set(tracking.list_artifacts(cards["good"], "model_card"))
    assert {"model_card/model_card.md", "model_card/model_card.html", "model_card/fairness.csv"} <= logged
    assert tracking.run_tags(cards["good"])["retention_ml.card"] == "written"
    # not logged when asked not to
    assert tracking.run_tags(cards["loses"]).get("retention_ml.card") is None
    assert tracking.load_table_artifact(cards["good"], "model_card/fairness.csv").shape == cards["fairness"].shape


def test_card_command_cannot_run_without_a_run(cards, tmp_path):
    from typer.testing import CliRunner

    from retention_ml.cli import app

    result = CliRunner().invoke(app, ["card", "--run", "0123456789abcdef0123456789abcdef", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 2 and json.loads(result.stdout)["written"] is False


def test_numbers_are_the_runs_own(cards):
    md = cards["good_md"]
    metrics = tracking.load_json_artifact(cards["good"], "evaluation/metrics.json")
    preds = tracking.load_table_artifact(cards["good"], "evaluation/test_predictions.parquet")
    auc = metrics["models"]["lightgbm"]["roc_auc"]
    assert f"| ROC-AUC | {auc['value']:.3f} ({auc['low']:.3f} to {auc['high']:.3f}) |" in md
    assert f"{metrics['models']['logistic']['roc_auc']['value']:.3f}" in md
    assert f"stayers): {metrics['censored']}." in md
    test = metrics["counts"]["test"]
    assert f"| Test | 2024-01-01 to 2024-02-01 | {test['n']:,} | {test['positives']:,} | {test['workers']:,} |" in md
    # one group row recomputed independently of the fairness module
    female = preds[preds["sex"] == "female"]
    expected_row = (f"| female | {female['worker_id'].nunique()} | {100 * female['label'].mean():.1f}% | ")
    assert expected_row in md
    assert f"| {int(female['label'].sum())} | {female['risk'].sum():.1f} | {female['label'].sum() / female['risk'].sum():.2f} |" in md
    flagged = preds["risk"].rank(method="first", ascending=False) <= -(-len(preds) // 10)
    assert f"| {100 * flagged[preds['sex'] == 'female'].mean():.1f}% |" in md
    assert f"{metrics['calibration']['a']:.3f}" in md and "sha256:fake" in md
    truth = tracking.load_json_artifact(cards["good"], "explanations/truth.json")
    reference = truth["oracle_last_month"]["top3"]
    assert (f"top 3 {100 * reference['value']:.1f}% ({100 * reference['low']:.1f}% to {100 * reference['high']:.1f}%) "
            "against the same truth") in md


def test_small_groups_are_never_numbers(cards):
    md = cards["good_md"]
    for group in ("not known", "mixed"):  # 8 and 12 people in the fake run
        row = next(line for line in md.splitlines() if line.startswith(f"| {group} |"))
        cells = [c.strip() for c in row.strip("|").split("|")][1:]
        assert cells and cells[0] == "too few to assess" and not any(cells[1:]), row  # said once, no number
    fair = cards["fairness"]
    small = fair[fair["group"].isin(["not_known", "mixed"])]
    assert len(small) == 2
    assert (small.drop(columns=["factor", "group", "status"]) == "too few to assess").all().all()
    assert not re.search(r"\bnot known \(|\bmixed \(", md)  # never in the gap table either
    # 8 not_known = all - female - male: the smaller shown group (male) is withheld too, and never in the gaps
    male = next(line for line in md.splitlines() if line.startswith("| male |"))
    male_cells = [c.strip() for c in male.strip("|").split("|")][1:]
    assert male_cells[0] == "withheld to protect a small group" and not any(male_cells[1:])  # said once, no number
    assert not re.search(r"(?<!fe)male \(\d|(?<!fe)male: ", md)  # named at most, never with a number


def test_considerations_come_from_the_numbers(cards):
    from retention_ml.fairness import MIN_GROUP

    preds = tracking.load_table_artifact(cards["good"], "evaluation/test_predictions.parquet")
    worst = None
    for factor in ("sex", "age_band", "ethnicity_group", "disability", "employment_type", "service", "area"):
        g = preds.groupby(factor).agg(people=("worker_id", "nunique"), y=("label", "mean"), p=("risk", "mean"))
        small_total = g.loc[g["people"] < MIN_GROUP, "people"].sum()
        g = g[g["people"] >= MIN_GROUP]
        if 0 < small_total < MIN_GROUP:  # complementary suppression: smallest shown group withheld
            g = g.drop(g["people"].idxmin())
        gap = (g["y"] - g["p"]).abs()
        if worst is None or gap.max() > worst[2]:
            worst = (factor, gap.idxmax(), gap.max())
    ethics = cards["good_md"].split("## Ethical considerations")[1].split("## Caveats")[0]
    assert f"= {worst[1]} (" in ethics and "Calibration is worst for" in ethics
    assert "too few people to assess" in ethics.lower() and "not known" in ethics and "mixed" in ethics
    assert "do not clearly beat the global baseline" in ethics  # fake alignment's interval includes 0
    assert "simulated data" in ethics
    loses = cards["loses_md"].split("## Ethical considerations")[1]
    assert "does NOT beat the logistic regression baseline" in loses
    assert "No exit-interview alignment was logged" in loses
    assert "| Beats both baselines | **FAIL** |" in cards["loses_md"]


@pytest.mark.parametrize("which", ["good", "loses"])
def test_readers_see_words_not_codes(cards, which):
    """Evaluators are not data scientists: no internal code (snake_case, JSON) outside `code` marks."""
    md = cards[f"{which}_md"]
    prose = re.sub(r"`[^`]*`", "", md)
    assert not re.findall(r"\b[a-z0-9]+_[a-z0-9_]+\b", prose)
    assert "{" not in prose and "agency workers: flag" not in prose
    assert "| Caseload and workload | 0.410 |" in md  # the driver label from data_schema/drivers.yaml
    assert "| 25-29 |" in md and "| not known |" in md
    assert "leaving reasons counted: resignation" in md


def test_jargon_is_explained(cards):
    md = cards["good_md"]
    glossary = md.split("## How to read these numbers")[1].split("\n## ")[0]
    for term in ("ROC-AUC", "Average precision", "Brier score", "Expected calibration error (ECE)", "Calibration (Platt scaling)",
                 "SHAP value", "Mean absolute SHAP", "Spearman", "Percentage points (pp)", "95% interval"):
        assert f"- **{term}" in glossary, term
    # every metric row carries its gloss where it is first shown
    header = next(line for line in md.splitlines() if line.startswith("| Metric |"))
    assert header.rstrip().endswith("| What it means |")
    rows = [line for line in md.splitlines() if line.startswith(("| ROC-AUC |", "| Brier score |", "| Expected cal"))]
    assert len(rows) == 3 and all(len(r.split(" | ")[-1]) > 20 for r in rows)
    assert "Platt scaling: raw scores turned into risks by a curve" in md and "Spearman rank correlation, 1 = same order" in md


def test_differences_between_rates_are_in_percentage_points(cards):
    md = cards["good_md"]
    assert " pts" not in md
    gaps = [line for line in md.splitlines() if line.startswith(("| Age band |", "| Area |", "| Service type |"))]
    rate_gaps = [g for g in gaps if "| Base rate |" in g or "| Share flagged in top 10% |" in g
                 or "| Calibration difference" in g]
    assert rate_gaps and all(re.search(r"\| \*\*\d+\.\d pp\*\* \|", g) for g in rate_gaps), rate_gaps
    # the base-rate gap is the highest minus the lowest group's rate, in points
    for g in (g for g in rate_gaps if "| Base rate |" in g):
        gap, high, low = re.findall(r"(\d+\.\d)(?: pp|%)", g)[:3]
        assert abs(float(high) - float(low) - float(gap)) <= 0.11, g
    row = next(line for line in md.splitlines() if line.startswith("| Difference vs global |"))
    assert "%" not in row and row.count(" pp") == 6  # value, low and high for top 1 and top 3
    assert "(difference +2.0 pp" in md or "(difference 2.0 pp" in md  # fake alignment: 0.02 (-0.03 to 0.07)


def test_every_driver_and_single_dates(cards, tmp_path):
    """Drivers are never cut at a fixed count, and a one-date window reads as that date."""
    from retention_ml.reports.model_card import write_card
    from retention_ml.schema import load_drivers

    drivers = load_drivers()
    assert len(drivers) > 8  # more than the old cut-off
    run = fake.make_fake_run(kind="good")
    importance = pd.DataFrame({"driver": [d.code for d in drivers],
                               "mean_abs_shap": [0.0 if i % 3 else 0.1 * i for i in range(len(drivers))]})
    importance.to_csv(tmp_path / "driver_importance.csv", index=False)
    tracking.log_artifact_file(run, tmp_path / "driver_importance.csv", "explanations")
    metrics = tracking.load_json_artifact(run, "evaluation/metrics.json")
    metrics["windows"]["valid"] = ["2022-07-01", "2022-07-01"]
    tracking.log_json(run, metrics, "evaluation/metrics.json")
    md = write_card(run, tmp_path / "card", log=False)["markdown"].read_text(encoding="utf-8")
    table = md.split("| Driver |")[1].split("\n\n")[0]
    assert all(f"| {d.label} |" in table for d in drivers)
    assert table.count("| 0.000 |") == sum(importance["mean_abs_shap"] == 0)
    assert "| Validation window | 2022-07-01 |" in md and "2022-07-01 to 2022-07-01" not in md
    assert "| Validation | 2022-07-01 |" in md


def test_group_plot_legend_covers_no_bar(cards):
    from retention_ml.fairness import audit_fairness
    from retention_ml.reports.model_card import _group_figure

    preds = tracking.load_table_artifact(cards["good"], "evaluation/test_predictions.parquet")
    fig = _group_figure(audit_fairness(preds))
    fig.canvas.draw()
    legends = fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert len(legends) == 1
    box = legends[0].get_window_extent()
    bars = [p.get_window_extent() for ax in fig.axes for p in ax.patches]
    assert len(bars) > 10
    assert not any(box.overlaps(b) for b in bars)
    assert not any(box.overlaps(ax.get_window_extent()) for ax in fig.axes)  # clear of every panel


def test_intended_use_and_thresholds_are_stated(cards):
    from retention_ml.promotion import load_thresholds

    md = cards["good_md"]
    assert "UK GDPR Article 22" in md and "data protection impact assessment" in md
    # sickness absence is health data: the DPIA line names it
    assert "**health data**" in md and "special category data (UK GDPR Article 9)" in md
    assert "never decides anything about a person" in md
    t = load_thresholds()
    assert f"ECE at most {t['max_ece']} (an ECE over it fails only when also beyond its chance level)" in md and f"above {t['max_group_calibration_gap']}" in md
    for section in ("Model details", "Intended use", "Out of scope", "Factors and metrics", "Evaluation and training data",
                    "Quantitative analyses by group", "Explanations", "Ethical considerations", "Caveats and recommendations"):
        assert f"## {section}" in md


@pytest.mark.parametrize("which", ["good_md", "good_html"])
def test_who_gets_which_list_matches_the_list_rules(cards, which):
    """A manager gets their own team(s) without themselves; a head of service their service's team managers
    (rank --service) and teams with no manager recorded. The old 'own team only' wording contradicted this."""
    from html import unescape

    text = unescape(re.sub(r"<[^>]+>|`", "", cards[which]))
    assert "own team only" not in text and "for their own team only" not in text
    for said in ("team managers (who get the list of their own team or teams, without themselves)",
                 "heads of service (who get the list of their service's team managers (retention-ml rank --service) "
                 "and the list of their service's teams with no manager recorded)",
                 "A team manager gets the list of their own team or teams, without themselves",
                 "A head of service gets the list of their service's team managers"):
        assert said in text, said


def test_card_json_says_predictions_never_decide(cards):
    """What machines forward (card --json) carries the same statement as the card people read."""
    from retention_ml.reports.risk_list import NOT_A_DECISION

    assert cards["cli"]["note"] == NOT_A_DECISION


def test_card_json_has_the_gate_checks_the_card_shows(cards):
    """--json's help promises the gate checks: they are there, and they are the card's table, row for row."""
    gate = cards["cli"]["gate"]
    assert gate["checks"] and {"check", "label", "passed", "detail"} <= set(gate["checks"][0])
    assert gate["failed"] == [c["check"] for c in gate["checks"] if not c["passed"]]
    md = cards["good_md"]
    table = md[md.index("## Promotion gate"):]
    for c in gate["checks"]:
        result = "pass" if c["passed"] else "**FAIL**"
        assert f"| {c['label']} | {result} | {c['detail'].replace('|', chr(92) + '|')} |" in table, c


def test_html_is_self_contained(cards):
    html = cards["good_html"]
    assert not re.search(r"""(src|href)=["'](https?:|//|[^"'#d])""", html)
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) >= 2  # calibration plot from the run + the group plot
    assert all(base64.b64decode(img)[:8] == b"\x89PNG\r\n\x1a\n" for img in images)
    assert html.count("too few to assess") == cards["good_md"].count("too few to assess")


def _sentences(units) -> Counter:
    """Every sentence or table cell of a card's text, whitespace-normalised."""
    out = Counter()
    for unit in units:
        for sentence in re.split(r"(?<=[.;:])\s+", " ".join(unit.split())):
            if sentence:
                out[sentence] += 1
    return out


def _markdown_text(md: str) -> Counter:
    units = []
    for line in md.splitlines():
        line = line.strip()
        if not line or re.fullmatch(r"\|(?:-+\|)+", line):
            continue
        if line.startswith("|"):  # a table row: its cells (an escaped \| stays inside a cell)
            units += [_plain(c.replace("\\|", "|")) for c in re.split(r"(?<!\\)\|", line.strip("|"))]
            continue
        line = re.sub(r"^(#+|-|>)\s+", "", line)
        line = re.sub(r"^!\[(.*)\]\([^)]*\)$", r"\1", line)  # an image: its alt text
        units.append(_plain(line))
    return _sentences(units)


def _plain(text: str) -> str:
    """Markdown's **bold**, `code` and *emphasis* marks off."""
    text = text.strip().replace("**", "").replace("`", "")
    return text[1:-1] if len(text) > 1 and text.startswith("*") and text.endswith("*") else text


def _html_text(html: str) -> Counter:
    from html.parser import HTMLParser

    class Text(HTMLParser):
        blocks = {"h1", "h2", "h3", "p", "li", "th", "td"}

        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.units, self.open, self.in_body = [], None, False

        def handle_starttag(self, tag, attrs):
            self.in_body |= tag == "body"
            if tag == "img":
                self.units.append(dict(attrs).get("alt", ""))
            elif tag in self.blocks and self.in_body:
                self.open = []

        def handle_endtag(self, tag):
            if tag in self.blocks and self.open is not None:
                self.units.append("".join(self.open))
                self.open = None

        def handle_data(self, data):
            if self.open is not None:
                self.open.append(data)

    parser = Text()
    parser.feed(html)
    return _sentences(parser.units)


@pytest.mark.parametrize("which", ["good", "loses"])
def test_markdown_and_html_say_the_same(cards, which):
    """The two cards are one text: every sentence and table cell of one is in the other, as often."""
    md, html = _markdown_text(cards[f"{which}_md"]), _html_text(cards[f"{which}_html"])
    assert len(md) > 100
    assert md - html == Counter() and html - md == Counter(), (sorted(md - html), sorted(html - md))


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not on PATH: the browser check needs it")
def test_html_renders_in_headless_chromium(cards, tmp_path):
    page = cards["root"] / "good" / "model_card.html"
    base = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=60)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert '<h1 id="title">Model card: retention-ml-turnover version 1</h1>' in dom.stdout
    assert dom.stdout.count('class="fairness"') == 7
    shot = tmp_path / "card.png"
    subprocess.run([*base, f"--screenshot={shot}", "--window-size=1200,2000", page.as_uri()],
                   capture_output=True, text=True, timeout=60)
    assert shot.exists() and shot.stat().st_size > 10_000  # a rendered page, not a blank one


def test_card_on_a_real_training_run(ibm_model, scratch_store, tmp_path):
    """A real (small) flat run through H4's training: the card builds and the gate judges it honestly."""
    from retention_ml.promotion import promote
    from retention_ml.reports.model_card import write_card

    # the session's IBM run, in its own store; nothing has promoted the IBM model there
    result = ibm_model.result
    with scratch_store(ibm_model.root):
        md = write_card(result.run_id, tmp_path / "card")["markdown"].read_text(encoding="utf-8")
        auc = result.metrics["models"]["lightgbm"]["roc_auc"]
        assert f"| ROC-AUC | {auc['value']:.3f} ({auc['low']:.3f} to {auc['high']:.3f}) |" in md
        assert "### Gender" in md  # the extract's own audit column is audited
        gate = promote(result.run_id)
        beats = result.metrics["beats_baselines"]
        assert ("beats_baselines" in [c.name for c in gate.failed]) == (not all(beats.values()))
        assert gate.promoted == (not gate.failed)
        # the IBM experiment registers under its own name (experiments/ibm_hr.toml registered_model)
        assert (tracking.alias_version("champion", gate.model_name) is not None) == gate.promoted


def test_group_plot_shows_a_many_valued_factor_by_its_worst_calibrated_groups_for_their_size():
    from retention_ml.fairness import audit_fairness
    from retention_ml.reports.model_card import MAX_PLOTTED_GROUPS, _group_figure, _group_label

    rng = np.random.default_rng(0)
    # 30 areas: 20 large ones whose risk is off by 1-20 points, 10 of 20 people off by 30 points (the largest raw
    # gaps, but 20 people is mostly noise: fewer standard errors than the large areas' worst gaps)
    sizes = [400] * 20 + [20] * 10
    offsets = [i / 100 for i in range(1, 21)] + [0.30] * 10
    area = np.concatenate([[f"area_{i:02d}"] * n for i, n in enumerate(sizes)])
    offset = np.concatenate([[o] * n for o, n in zip(offsets, sizes)])
    label = (rng.random(len(area)) < 0.2).astype(int)
    # exactly 5 leavers in each small area: fewer would withhold it (fairness._withhold_few_leavers)
    small = np.flatnonzero(np.repeat(np.array(sizes) == 20, sizes)).reshape(10, 20)
    label[small] = 0
    label[small[:, :5]] = 1
    risk = np.clip(0.2 + offset + rng.normal(0, 0.01, len(area)), 0.01, 0.99)
    preds = pd.DataFrame({"person": np.arange(len(area)).astype(str), "label": label, "risk": risk, "area": area,
                          "sex": np.where(np.arange(len(area)) % 2, "female", "male")})
    audit = audit_fairness(preds)
    fig = _group_figure(audit)
    panels = {ax.get_title(loc="left").split(":")[0]: ax for ax in fig.axes}
    area_ax, sex_ax = panels["Area"], panels["Sex"]
    assert f"the {MAX_PLOTTED_GROUPS} of 30 groups furthest from calibration for their size" in area_ax.get_title(loc="left")
    assert len(area_ax.patches) == 2 * MAX_PLOTTED_GROUPS  # an observed and a predicted bar per group
    shown = {t.get_text() for t in area_ax.get_yticklabels()}
    table = audit.shown[audit.shown["factor"] == "area"]
    z = table["calibration_gap"] / np.sqrt(table["mean_risk"] * (1 - table["mean_risk"]) / table["rows"])
    expected = {_group_label(g) for g in table.loc[z.nlargest(MAX_PLOTTED_GROUPS).index, "group"]}
    assert shown == expected
    assert shown != {_group_label(g) for g in table.nlargest(MAX_PLOTTED_GROUPS, "calibration_gap")["group"]}
    assert len(sex_ax.patches) == 4 and ":" not in sex_ax.get_title(loc="left")  # a small factor keeps every group
    assert fig.get_size_inches()[1] < 20  # 30 areas would have drawn a 16-inch panel on its own


def test_card_json_carries_the_team_check_as_the_card_reads_it(cards):
    """`card --json` gives the lists' team-range check beside the gate's checks, with the figures the card prints."""
    checks = cards["cli"]["team_checks"]
    assert checks["level"] == 0.8 and checks["dates"]
    for d in checks["dates"]:
        row = next(line for line in cards["good_md"].splitlines() if line.startswith(f"| {d['as_of']} | {d['teams']} |"))
        assert f"| {d['inside']} ({round(100 * d['coverage'])}%" in row


def test_group_plot_ranks_groups_by_the_audits_own_standard_error_which_counts_a_persons_rows_together():
    """With several test dates a person's rows move together: the audit's ``calibration_se`` is wider than the
    rows-as-people formula for the groups of repeated people, and the plot must pick its groups by it."""
    from retention_ml.fairness import calibration_standard_error
    from retention_ml.reports.model_card import MAX_PLOTTED_GROUPS, _plotted_groups

    n = MAX_PLOTTED_GROUPS + 4
    shown = pd.DataFrame({"factor": "area", "group": [f"area_{i:02d}" for i in range(n)], "rows": 400,
                          "mean_risk": 0.2, "calibration_gap": np.linspace(0.01, 0.05, n)})
    rows_as_people = calibration_standard_error(shown["mean_risk"], shown["rows"])
    # the four largest gaps belong to groups of people seen at several dates: four times the error
    shown["calibration_se"] = rows_as_people * np.where(np.arange(n) >= n - 4, 4.0, 1.0)
    picked = set(_plotted_groups(shown)["group"])
    by_audit = set(shown.loc[(shown["calibration_gap"] / shown["calibration_se"]).nlargest(MAX_PLOTTED_GROUPS).index, "group"])
    assert picked == by_audit
    assert picked != set(shown.nlargest(MAX_PLOTTED_GROUPS, "calibration_gap")["group"])
