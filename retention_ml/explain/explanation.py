"""The ``Explanation`` of a set of predictions: SHAP values, driver profiles and reasons.

Example
-------
>>> exp = explain(model, X, catalogue=catalogue)            # doctest: +SKIP
>>> exp.by_driver().iloc[0]                                 # driver profile of the first row
>>> exp.reasons(X, keys, k=3).loc[0, "reason_1"]            # doctest: +SKIP
'caseload 27 against a team cap of 20; over the cap in 5 of the last 6 months'
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from retention_ml.explain import drivers as _drivers
from retention_ml.explain.reasons import reason_table
from retention_ml.explain.values import METHOD, shap_values

__all__ = ["Explanation", "explain"]


@dataclass
class Explanation:
    """SHAP explanation of calibrated turnover-risk predictions.

    Attributes
    ----------
    values : DataFrame
        n rows x features, exact TreeSHAP values on the calibrated log-odds scale.
    base_value : float
        Calibrated log-odds of the average row; ``base_value + values.sum(axis=1)``
        is each row's calibrated log-odds.
    drivers : Series
        Driver code per feature (index: feature); features without a known driver are ``"other"``.
    catalogue : DataFrame
        The feature catalogue used (feature, meaning, unit, driver, family).
    method : str
        How the values were computed.
    """

    values: pd.DataFrame
    base_value: float
    drivers: pd.Series
    catalogue: pd.DataFrame = field(repr=False)
    method: str = METHOD

    def log_odds(self) -> pd.Series:
        """Calibrated log-odds per row, rebuilt from the values (equals the model's)."""
        return pd.Series(self.base_value + self.values.to_numpy().sum(axis=1), index=self.values.index, name="log_odds")

    def risk(self) -> pd.Series:
        """Calibrated probability per row (the model's ``predict_proba(X)[:, 1]``)."""
        return pd.Series(1.0 / (1.0 + np.exp(-self.log_odds().to_numpy())), index=self.values.index, name="risk")

    def by_driver(self) -> pd.DataFrame:
        """Driver profile: n rows x driver codes (taxonomy order, ``other`` last), sums of SHAP values."""
        return _drivers.group_by_driver(self.values, self.drivers)

    def top_drivers(self, k: int = 3, *, include_other: bool = False) -> pd.DataFrame:
        """The ``k`` drivers with the largest contribution per row (columns ``driver_1..k``)."""
        profile = self.by_driver()
        codes = [c for c in profile.columns if include_other or c != _drivers.OTHER]
        ranked = _drivers.rank_drivers(profile, codes)[:, :k]
        return pd.DataFrame(ranked, index=profile.index, columns=[f"driver_{i + 1}" for i in range(ranked.shape[1])])

    def reasons(self, X: pd.DataFrame, context: pd.DataFrame | None = None, k: int = 3) -> pd.DataFrame:
        """Up to ``k`` plain-language reasons per row, only for drivers that push risk up.

        ``X`` are the same rows that were explained (for the person's values),
        ``context`` optional keys (``months_in_post``, ``role``, ``team_id`` ...)
        in the same row order. See :func:`retention_ml.explain.reasons.reason_table`
        for the columns.
        """
        if len(X) != len(self.values):
            raise ValueError(f"reasons: X has {len(X)} rows but {len(self.values)} were explained (rule: same rows, same order)")
        if context is not None and len(context) != len(X):
            raise ValueError(f"reasons: context has {len(context)} rows, X has {len(X)} (rule: same rows, same order)")
        return reason_table(self.values, self.by_driver(), X, context, self.catalogue, self.drivers, k=k)

    def table(self, X: pd.DataFrame, keys: pd.DataFrame | None = None, k: int = 3) -> pd.DataFrame:
        """One row per explained row: keys, ``risk``, ``driver_<code>`` profile columns, reasons and levers.

        The layout of the driver and reason columns of ``scores.parquet``
        (CONTRACTS section 4). Keys are copied as given (pseudonymous ids only).
        """
        profile = self.by_driver().add_prefix("driver_")
        parts = [] if keys is None else [keys.reset_index(drop=True)]
        parts += [
            self.risk().reset_index(drop=True).to_frame(),
            profile.reset_index(drop=True),
            self.reasons(X, keys, k=k).reset_index(drop=True),
        ]
        out = pd.concat(parts, axis=1)
        out.columns = [str(c) for c in out.columns]
        return out

    def feature_importance(self) -> pd.DataFrame:
        """Global importance by feature: ``feature, driver, mean_abs_shap``."""
        return _drivers.feature_importance(self.values, self.drivers)

    def driver_importance(self) -> pd.DataFrame:
        """Global importance by driver: ``driver, mean_abs_shap`` (of the grouped values)."""
        return _drivers.driver_importance(self.by_driver())

    def summary(self) -> pd.DataFrame:
        """Driver importance with each driver's label and number of features."""
        table = self.driver_importance()
        labels = {d.code: d.label for d in _drivers.load_drivers()}
        counts = self.drivers.value_counts()
        return table.assign(
            label=table["driver"].map(labels), n_features=table["driver"].map(counts).fillna(0).astype(int)
        )


def explain(
    model, X: pd.DataFrame, *, catalogue: pd.DataFrame | None = None, chunk_rows: int | None = None, progress=None
) -> Explanation:
    """Explain ``model``'s calibrated predictions for the rows of ``X``.

    Parameters
    ----------
    model : TurnoverModel-like
        ``booster_``, ``calibration_`` (a, b) and ``feature_names_in_``.
    X : DataFrame
        Feature rows; columns beyond the model's features are ignored.
    catalogue : DataFrame, optional
        Feature catalogue (feature, meaning, unit, driver, family); default
        ``retention_ml.features.feature_catalogue()``.
    chunk_rows, progress : optional
        Compute SHAP values in chunks and report ``progress(done, total)``
        (see :func:`retention_ml.explain.values.shap_values`).

    Returns
    -------
    Explanation
    """
    values, base = shap_values(model, X, chunk_rows=chunk_rows, progress=progress)
    cat = _drivers.resolve_catalogue(catalogue)
    return Explanation(values=values, base_value=base, drivers=_drivers.feature_drivers(values.columns, cat), catalogue=cat)
