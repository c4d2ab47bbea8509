"""The held-out ECE behind the Platt map (train's "ECE a -> b", the card's Calibration row) has its chance level, as
the test ECE does; computing it changes no fitted tree or constant (calibration review, finding 8)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from retention_ml.commands.train import _valid_chance
from retention_ml.model import TurnoverModel, expit
from retention_ml.reports.model_card import _calibration_text


def _data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"caseload": rng.normal(18, 4, n), "tenure": rng.normal(5, 2, n)})
    y = pd.Series((rng.random(n) < expit((X.caseload - 22) / 3)).astype(float))
    return X, y


def test_the_held_out_ece_has_its_chance_level_and_the_model_is_unchanged():
    X, y = _data(900, 0)
    Xv, yv = _data(330, 1)
    plain = TurnoverModel(n_estimators=40, random_state=3).fit(X, y, X_valid=Xv, y_valid=yv)
    people = np.repeat(np.arange(110), 3)      # 110 people, 3 held-out rows each
    grouped = TurnoverModel(n_estimators=40, random_state=3).fit(X, y, X_valid=Xv, y_valid=yv, workers_valid=people)
    assert grouped.calibration_ == plain.calibration_ and grouped.valid_ece_ == plain.valid_ece_
    assert np.array_equal(grouped.predict_proba(X), plain.predict_proba(X))
    for k in ("before", "after"):
        figures = plain.valid_ece_chance_[k]
        assert figures["value"] == plain.valid_ece_[k] and 0 < figures["chance"] <= figures["chance_high"]
        assert 0 < figures["p_value"] <= 1
    # a person's rows drawn together: the chance level is higher than for as many independent people
    assert grouped.valid_ece_chance_["after"]["chance_high"] > plain.valid_ece_chance_["after"]["chance_high"]


def test_a_cross_fitted_model_has_it_too_and_a_wrong_length_is_refused():
    X, y = _data(600, 2)
    model = TurnoverModel(n_estimators=30, cv_folds=3).fit(X, y)
    assert model.valid_ece_chance_["after"]["value"] == model.valid_ece_["after"]
    with pytest.raises(ValueError, match="workers_valid has 5 entries for 600 held-out rows"):
        TurnoverModel(n_estimators=30, cv_folds=3).fit(X, y, workers_valid=np.arange(5))


def test_train_and_the_card_read_it_beside_its_chance_level():
    within = {"value": 0.034, "chance": 0.035, "chance_high": 0.05, "p_value": 0.4, "undefined": 0}
    cal = {"method": "platt", "a": 1.0, "b": 0.0, "checked_on": "validation window (329 rows)",
           "ece_valid_before": 0.034, "ece_valid_after": 0.034, "ece_valid_chance": {"before": within, "after": within}}
    assert _valid_chance(cal) == " (chance 0.0500: within chance)"
    assert "0.034 after (within chance: risks exactly right reach 0.050 on as many rows 95 times in 100)" in \
        _calibration_text(cal)
    beyond = {**within, "p_value": 0.005}
    assert "beyond chance" in _valid_chance({**cal, "ece_valid_chance": {"after": beyond}})
    old = {k: v for k, v in cal.items() if k != "ece_valid_chance"}     # a run logged before it
    assert _valid_chance(old) == "" and _calibration_text(old).endswith("0.034 after")
