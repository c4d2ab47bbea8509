"""Numbers in the model card. Counts read the same in its tables as in its prose, thousands marked ("32,137",
"3,730.5"), in Markdown and HTML alike, while fairness.csv, a machine file, keeps its plain numbers; the glossary's
example figures are measured, not typed."""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_counts_fake_runs", REPO / "tests" / "test_promotion.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)

# a bare run of 4+ digits that is not part of a date, an id, a hash or the decimals of a number
BARE = re.compile(r"(?<![\w.,-])\d{4,}(?![\w-])")


@pytest.fixture(scope="module")
def card(tmp_path_factory, scratch_store):
    """A fake run of 8,000 workers (16,000 test snapshots), so groups, windows and the gate hold counts of 1,000+."""
    from retention_ml.reports.model_card import build_card, render_html, render_markdown, save_card

    root = tmp_path_factory.mktemp("counts")
    with scratch_store(root), pytest.MonkeyPatch.context() as mp:
        mp.setattr(fake, "fake_predictions", functools.partial(fake.fake_predictions, n_workers=8000))
        built = build_card(fake.make_fake_run(kind="good"))
        paths = save_card(built, root / "card", log=False)
        yield {"card": built, "md": render_markdown(built), "html": render_html(built),
               "csv": paths["fairness"].read_text(encoding="utf-8")}


def _md_cells(md: str) -> list[str]:
    return [cell.strip() for line in md.splitlines() if line.startswith("|") for cell in line.strip("|").split("|")]


def _html_cells(html: str) -> list[str]:
    return re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", html, flags=re.S)


def test_every_count_in_the_card_tables_is_marked_in_thousands(card):
    md_cells, html_cells = _md_cells(card["md"]), _html_cells(card["html"])
    assert md_cells and html_cells
    for cells in (md_cells, html_cells):
        bare = sorted({cell for cell in cells if BARE.search(cell)})
        assert not bare, f"counts without thousands separators in table cells: {bare[:5]}"
    female = card["card"].fairness.query("factor == 'sex' and group == 'female'").iloc[0]
    assert female["people"] >= 1000 and female["expected"] >= 1000   # the rows below hold 4-digit figures
    row = f"| female | {int(female['people']):,} | "
    assert row in card["md"]
    assert f"| {int(female['observed']):,} | {female['expected']:,.1f} |" in card["md"]
    assert f"<td>{int(female['people']):,}</td>" in card["html"]
    test = next(r for r in card["card"].context["counts"] if r["window"] == "Test")
    assert test["n"] == "16,000"


def test_the_prose_marks_counts_as_the_tables_do(card):
    prose = [line for line in card["md"].splitlines() if line and not line.startswith(("|", "!["))]
    bare = [m.group(0) for line in prose for m in BARE.finditer(line)]
    assert not bare, f"counts without thousands separators in the card's sentences: {bare[:5]}"
    assert "Test window: 16,000 snapshots of 8,000 people" in card["md"]


def test_fairness_csv_keeps_plain_numbers_for_machines(card):
    """The card's CSV is the audit table as it was: numbers a program reads, with no separator inside them."""
    assert card["csv"] == card["card"].fairness.to_csv(index=False, lineterminator="\n")
    female = card["card"].fairness.query("factor == 'sex' and group == 'female'").iloc[0]
    line = next(line for line in card["csv"].splitlines() if line.startswith("sex,female,"))
    assert float(female["people"]) >= 1000 and line.split(",")[4] == str(female["people"])   # 6270.0, as before


def test_the_glossary_example_of_ece_from_noise_is_measured_not_typed(card, monkeypatch):
    """The "about 0.05 for 370 people" of the ECE entry comes from the chance-level function the run's own ECE is read
    against: other sizes give other figures, and each is that function's mean ECE for exactly right risks."""
    import numpy as np
    from scipy.special import expit, logit

    from retention_ml.evaluate import ece_chance
    from retention_ml.reports import model_card

    def measured(people: int, rate: float) -> str:
        risk = expit(np.random.default_rng(0).normal(logit(rate), model_card.ECE_NOISE_SPREAD, people))
        return f"{ece_chance(risk, workers=np.arange(people), random_state=0).mean():.2f}"

    ece_entry = next(line for line in card["md"].splitlines() if line.startswith("- **Expected calibration error"))
    assert f"about {measured(370, 0.15)} for 370 people at a 15% leaver rate, {measured(2000, 0.15)} for 2,000)" in ece_entry
    monkeypatch.setattr(model_card, "ECE_NOISE_PEOPLE", (150, 10000))
    monkeypatch.setattr(model_card, "ECE_NOISE_RATE", 0.3)
    glossary = dict(model_card._glossary())["Expected calibration error (ECE)"]
    assert f"about {measured(150, 0.3)} for 150 people at a 30% leaver rate, {measured(10000, 0.3)} for 10,000)" in glossary
    assert measured(150, 0.3) != measured(10000, 0.3)   # fewer people, more noise: the example shows it


def test_the_teams_the_run_logs_are_squared_with_the_teams_the_card_checks():
    """The national card checked 4,406 teams of 5 or more under Team figures and said the run logs "4,302 test-window
    teams of 5 or more people": both true (the log also leaves out teams its area and service totals would give
    away), but a board member read two counts of the same teams. The note says why they differ."""
    from retention_ml.reports.model_card import TEAM_CHECK_TITLE, _team_record_note

    teams = [{"team_id": f"T{i}", "people": 6, "n": 6, "expected": 1.0, "observed": 1, "leavers": 1} for i in range(1200)]
    checks = {"level": 0.8, "min_people": 5, "dates": [{"as_of": "2024-01-01", "teams": 1250, "withheld": 40}]}
    note = _team_record_note({"teams": teams, "team_checks": checks})
    assert note.startswith("The run also logs, in `evaluation/metrics.json`, 1,200 test-window teams of 5 or more "
                           f"people by team id (fewer than the 1,250 checked in \"{TEAM_CHECK_TITLE}\": ")
    same = _team_record_note({"teams": teams, "team_checks": {**checks, "dates": [{**checks["dates"][0], "teams": 1200}]}})
    assert "fewer than" not in same and "1,200 test-window teams of 5 or more people by team id, each" in same


def test_a_withheld_or_small_group_row_says_so_once_and_shows_no_number(card):
    """The national Area table printed "withheld to protect a small group" in all 8 cells of each of its 116 withheld
    rows (and "too few to assess" 8 times in each of 18 more): pages of one phrase on paper. Said once, in the
    People column; the other cells blank, in Markdown and HTML."""
    from retention_ml.fairness import TOO_FEW, WITHHELD

    rows = [r for rows in card["card"].context["fairness"].values() for r in rows if not r["ok"]]
    assert rows   # the fake run holds small groups (8 and 12 people) and one withheld beside them
    md_rows = [line for line in card["md"].splitlines() if line.startswith("| ") and (WITHHELD in line or TOO_FEW in line)
               and line.count("|") == 11]
    assert len(md_rows) == len(rows)
    for line in md_rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1] in (WITHHELD, TOO_FEW) and cells[2:] == [""] * 8, line
    html_rows = [r for r in re.findall(r'<tr>.*?</tr>', card["html"]) if 'class="few"' in r]
    assert len(html_rows) == len(rows)
    assert all(sum(r.count(p) for p in (WITHHELD, TOO_FEW)) == 1 for r in html_rows)


def test_the_gates_calibration_gap_is_given_in_the_group_tables_unit(card):
    """The gate said "|observed - predicted| leaver rate 0.149 ... (threshold 0.100)" where the group tables say
    "+14.9 pp": a number without the unit the rest of the card reads it in. Both units now, the same figure."""
    gate = next(line for line in card["md"].splitlines() if line.startswith("| Calibration within each group |"))
    from retention_ml.fairness import FACTOR_LABELS

    factors = "|".join(label.lower() for label in FACTOR_LABELS.values())
    m = re.search(rf"worst group ({factors}) ([\w -]+?): \\\|observed - predicted\\\| leaver rate (\d\.\d{{3}}) \((\d+\.\d) pp\), "
                  r"standard error \d\.\d{3} \(\d+\.\d pp; threshold 0\.100, 10\.0 pp\)", gate)
    assert m, gate
    assert m.group(4) == f"{100 * float(m.group(3)):.1f}"
    row = next(line for line in card["md"].splitlines() if line.startswith(f"| {m.group(2)} |"))
    assert row.split("|")[9].strip().lstrip("+-") == f"{m.group(4)} pp"   # the Difference column of that group
    assert "leaver rate above 0.1 (10.0 pp; a group fails only" in card["md"]


def test_the_gates_p_values_read_without_scientific_notation():
    """The national card's gate said "8.0 standard errors from exactly right risks, p = 1.11e-15": a board member
    reads no such number. Below 0.001 it says "p < 0.001"; otherwise three decimals."""
    from retention_ml.promotion import _level_check

    level = {"ratio": 0.89, "people": 100, "rows": 100, "expected": 4412.2, "observed": 3933, "z": -8.0,
             "p_value": 1.11e-15, "beyond": True}
    detail = _level_check(level, 1.2).detail
    assert "8.0 standard errors from exactly right risks, p < 0.001, one row per person" in detail
    assert "e-" not in detail
    detail = _level_check({**level, "z": -2.1, "p_value": 0.0357}, 1.2).detail
    assert "p = 0.036," in detail


def test_a_group_table_too_long_to_print_in_place_is_the_cards_last_section(card, monkeypatch):
    """The national Area table (443 rows) sat between the group tables and Ethical considerations, the gate and
    Approval: printed, a board member paged through every area to reach them. A table over APPENDIX_ROWS rows is
    moved after the Approval table, with a pointer where it stood; a short one stays in place."""
    from retention_ml.reports import model_card

    monkeypatch.setattr(model_card, "APPENDIX_ROWS", 3)   # the fake run's age bands (4) and services move; sex stays
    built = model_card.build_card(card["card"].run_id)
    md, html = model_card.render_markdown(built), model_card.render_html(built)
    ages = built.context["fairness"]["age_band"]
    title = f"## Appendix: all {len(ages)} age band groups"
    assert len(ages) > 3 and title in md
    body, appendix = md.split("\n## Approval\n", 1)
    assert title in appendix and title not in body
    assert f"### Age band\n\n{len(ages)} groups, too many to read here" in body
    for r in ages:   # each row once, in the appendix
        assert md.count(f"| {r['group']} | {r['people']} |") == 1 and f"| {r['group']} | {r['people']} |" in appendix
    sex = built.context["fairness"]["sex"]
    assert len(sex) <= 3 and all(f"| {r['group']} | {r['people']} |" in body for r in sex if r["ok"])
    assert html.index('id="approval"') < html.index('id="appendix-age-band"') and 'href="#appendix-age-band"' in html
    assert "Appendix" not in card["md"]   # at the shipped length the fake run's tables all stay in place
