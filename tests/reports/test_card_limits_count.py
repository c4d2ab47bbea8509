"""The brief's "Limits" counts the Ethical considerations that say where the model is weaker or unchecked, not
every bullet there.

The demo's card said "15 points under Ethical considerations say where the model is weaker or unchecked" over 15
bullets of which three were not weaknesses: the groups withheld to protect people, what the fairness audit logs
and which team figures the run logs. The limits now come first and the brief counts them; the protection notes
follow, counted apart.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest


REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_cardnits_limits_fake_runs", REPO / "tests" / "test_promotion.py")
fake = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake)

# How each protection note begins (model_card._withheld_note, _audit_record_note / _audit_rows_note,
# _team_record_note): none says the model is weaker.
PROTECTION = ("Withheld because", "The run logs", "The run's logged test rows", "The run also logs",
              "**This run's logged test rows name")


@pytest.fixture(scope="module")
def card(tmp_path_factory, scratch_store):
    from retention_ml.reports.model_card import write_card

    root = tmp_path_factory.mktemp("limits")
    with scratch_store(root):
        run = fake.make_fake_run(kind="good")
        return write_card(run, root / "card", log=False)["markdown"].read_text(encoding="utf-8")


def _considerations(md: str) -> list[str]:
    section = md.split("## Ethical considerations", 1)[1].split("\n## ", 1)[0]
    bullets = [line[2:] for line in section.splitlines() if line.startswith("- ")]
    return bullets[:-1]   # the last says who gets which list: neither a limit nor counted


def test_the_brief_counts_the_limits_and_they_come_first(card):
    brief = next(line for line in card.splitlines() if line.startswith("- **Limits:**"))
    count = int(re.search(r"\*\*Limits:\*\* (?:the first )?(\d+) points", brief).group(1))
    bullets = _considerations(card)
    protection = [b for b in bullets if b.startswith(PROTECTION)]
    assert protection, "the fake run's card should hold a protection note for this test to mean anything"
    assert count == len(bullets) - len(protection)
    assert not any(b.startswith(PROTECTION) for b in bullets[:count])   # the first N are the limits
    assert f"(the {len(protection)} points after them say what is withheld or logged to protect people)" in brief


@pytest.mark.parametrize("limits, protection, words", [
    (0, 0, "no point under Ethical considerations says the model is weaker or unchecked"),
    (1, 1, "the first point under Ethical considerations says where the model is weaker or unchecked "
           "(the 1 point after them says what is withheld or logged to protect people)"),
    (0, 2, "no point under Ethical considerations says the model is weaker or unchecked "
           "(the 2 points say what is withheld or logged to protect people)"),
])
def test_the_count_reads_right_for_none_and_one(limits, protection, words):
    from retention_ml.reports.model_card import _limits_count

    assert _limits_count(limits, protection) == words
