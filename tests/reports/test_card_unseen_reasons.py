"""The card says which stated exit reasons the model cannot see (the taxonomy's drivers with model_visible: false)
and how many interviewed leavers gave one, from alignment.json's share_personal and visible_only: the record held
both and the card printed neither, so a reader took every miss in the alignment table for the model's error and
never learned that a quarter of the national run's interviewed leavers left for reasons no list can name."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retention_ml.explain.alignment import exit_interview_alignment
from retention_ml.explain.drivers import profile_drivers
from retention_ml.schema import driver_codes

HIDDEN = driver_codes(exit_reason=True, model_visible=False)
VISIBLE = [c for c in driver_codes(exit_reason=True, model_visible=True)]


def _record(stated: list[str], seed: int = 0) -> dict:
    """alignment.json as training writes it: one interviewed leaver per stated reason, random model profiles."""
    n = len(stated)
    rng = np.random.default_rng(seed)
    values = pd.DataFrame(rng.normal(0, 1, (n, len(profile_drivers()))), columns=profile_drivers())
    workers = [f"W{i:04d}" for i in range(n)]
    keys = pd.DataFrame({"worker_id": workers, "as_of": pd.Timestamp("2024-01-01")})
    interviews = pd.DataFrame({"worker_id": workers, "primary_reason": stated})
    return exit_interview_alignment(values, keys, pd.Series(np.ones(n)), interviews, n_boot=20)


def test_the_reasons_no_input_shows_are_named_with_their_share_and_the_rates_among_the_others():
    from retention_ml.reports.model_card import _unseen_reasons

    assert HIDDEN == ["personal", "retirement"]
    stated = ["personal"] * 30 + ["retirement"] * 10 + [r for r in VISIBLE for _ in range(20)]
    record = _record(stated)
    text = _unseen_reasons(record)
    n_all, n_visible = len(stated), len(stated) - 40
    assert text.startswith("The model has no input for personal reasons or retirement")
    assert f"{100 * 40 / n_all:.1f}% of the {n_all:,} leavers with an exit interview gave one of them" in text
    visible = record["visible_only"]
    assert (f"Among the other {n_visible:,}, whose stated reason the model can see, top 1 is "
            f"{100 * visible['top1']['value']:.1f}% ({100 * visible['top1']['low']:.1f}% to "
            f"{100 * visible['top1']['high']:.1f}%)") in text


def test_a_withheld_split_is_said_withheld_and_an_older_record_gives_nothing():
    from retention_ml.reports.model_card import _unseen_reasons

    # 3 leavers gave a reason the model cannot see: the split is withheld (a count of 1-4)
    record = _record(["personal"] * 3 + [r for r in VISIBLE for _ in range(20)])
    assert record["share_personal"] is None
    text = _unseen_reasons(record)
    assert "withheld to protect small groups" in text and "%" not in text
    older = {k: v for k, v in record.items() if k not in ("share_personal", "visible_only")}
    assert _unseen_reasons(older) is None


def test_the_national_shaped_card_prints_it_under_the_alignment_table(tmp_path, scratch_store):
    import importlib.util
    import json
    from pathlib import Path

    from retention_ml import artifacts, tracking
    from retention_ml.reports.model_card import build_card, render_html, render_markdown

    repo = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("_unseen_fake_runs", repo / "tests" / "test_promotion.py")
    fake = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fake)
    stated = ["personal"] * 30 + ["retirement"] * 10 + [r for r in VISIBLE for _ in range(20)]
    with scratch_store(tmp_path):
        run = fake.make_fake_run(kind="good")
        path = tmp_path / "alignment.json"
        path.write_text(json.dumps(_record(stated)), encoding="utf-8")
        tracking.log_artifact_file(run, path, artifacts.EXPLANATIONS_DIR)
        card = build_card(run)
        md, html = render_markdown(card), render_html(card)
    explanations = md.split("## Explanations\n", 1)[1].split("\n## ", 1)[0]
    table_end = explanations.index("| Chance |")
    assert explanations.index("The model has no input for personal reasons or retirement") > table_end
    assert "The model has no input for personal reasons or retirement" in html
