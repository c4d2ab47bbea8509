"""Synthetic data for the model tests: a known logistic world, fixed seeds."""

import numpy as np
import pandas as pd
import pytest


def make_world(n: int, seed: int) -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    """Features, labels and the true probabilities of a world where caseload and pay drive leaving."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "caseload_current": rng.normal(18, 5, n),
        "pay_salary_fte": rng.normal(40000, 5000, n),
        "tenure_months": rng.exponential(40, n),
        "noise": rng.normal(size=n),
    })
    X.loc[rng.random(n) < 0.05, "pay_salary_fte"] = np.nan
    logit = -2.0 + 0.15 * (X.caseload_current - 18) - 0.6 * (X.tenure_months < 12) + 0.00005 * (40000 - X.pay_salary_fte.fillna(40000))
    p = 1 / (1 + np.exp(-logit.to_numpy()))
    y = pd.Series((rng.random(n) < p).astype(float))
    return X, y, p


@pytest.fixture(scope="session")
def world():
    """train / valid / test parts of one synthetic world."""
    parts = [make_world(n, seed) for n, seed in ((3000, 1), (1500, 2), (1500, 3))]
    return parts


@pytest.fixture()
def mlflow_store(tmp_path, monkeypatch):
    """MLflow pointed at tmp_path (never the repository)."""
    from retention_ml import tracking

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.chdir(tmp_path)
    tracking.configure()
    return tmp_path
