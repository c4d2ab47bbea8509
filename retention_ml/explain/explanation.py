"""The ``Explanation`` of a set of predictions: SHAP values, driver profiles and reasons.

Example
-------
It needs a trained model, its feature matrix and catalogue, so it is shown, not run as a doctest;
``exp.by_driver()`` holds each row's driver profile:

>>> exp = explain(model, X, catalogue=catalogue).relative_to(keys["as_of"])   # doctest: +SKIP
>>> exp.by_driver().iloc[0]                                 # doctest: +SKIP
>>> exp.reasons(X, keys, k=3).loc[0, "reason_1"]            # doctest: +SKIP
'caseload 27 against a team cap of 20; over the cap in 5 of the last 6 months'
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

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
    base_value : float or ndarray
        Calibrated log-odds of the reference (a float: the trees' training
        cover; one per row after :meth:`relative_to`); ``base_value +
        values.sum(axis=1)`` is each row's calibrated log-odds.
    drivers : Series
        Driver code per feature (index: feature); features without a known driver are ``"other"``.
    catalogue : DataFrame
        The feature catalogue used (feature, meaning, unit, driver, family).
    method : str
        How the values were computed.
    reference : str
        What the values are relative to.
    """

    values: pd.DataFrame
    base_value: float | np.ndarray
    drivers: pd.Series
    catalogue: pd.DataFrame = field(repr=False)
    method: str = METHOD
    reference: str = "the model's training data (TreeSHAP's tree cover)"

    def take(self, rows) -> Explanation:
        """The explanation of some rows (positions), with their base values."""
        rows = np.asarray(rows, dtype=np.intp)
        base = self.base_value if np.ndim(self.base_value) == 0 else np.asarray(self.base_value)[rows]
        return replace(self, values=self.values.iloc[rows], base_value=base)

    def relative_to(self, groups, *, reference_rows=None, name: str = "everyone scored at the same date") -> Explanation:
        """The same explanation measured from the average row of each group (usually each ``as_of`` date).

        Every feature's value has its group mean (over ``reference_rows``, default
        all rows) subtracted, and the base value takes it up, so each row still
        adds up to its calibrated log-odds. Why: TreeSHAP measures from the
        model's training data, years older than the people scored, so a
        driver that has grown for everyone (rents, say) looks personal. For
        trees that use one driver's features only (``model.constraints =
        "drivers"`` allows those plus the few "other" columns) each driver's
        shifted sum is exactly its interventional Shapley value with the
        group's rows as background, the footing the simulator's true
        decomposition is on.

        Parameters
        ----------
        groups : array-like, one label per row
            Rows with the same label share a reference (e.g. ``keys["as_of"]``).
        reference_rows : array-like of int, optional
            Positions that define each group's average, e.g. an unbiased sample
            when leavers were added to the explained rows. Every group needs one.
        name : str
            What the reference is, kept in :attr:`reference` for readers.

        Examples
        --------
        >>> rel = explain(model, X).relative_to(keys["as_of"])   # doctest: +SKIP
        >>> rel.values.mean().abs().max() < 1e-9                  # doctest: +SKIP
        True
        """
        codes, labels = pd.factorize(pd.Series(np.asarray(groups)), sort=True)
        if len(codes) != len(self.values):
            raise ValueError(f"relative_to: {len(codes)} group labels for {len(self.values)} rows (rule: one per row)")
        if (codes < 0).any():
            raise ValueError(f"relative_to: group label missing at row {int(np.flatnonzero(codes < 0)[0])} (rule: every row has one)")
        ref = np.arange(len(codes)) if reference_rows is None else np.asarray(reference_rows, dtype=np.intp)
        values = self.values.to_numpy(dtype="float64")
        sums = np.zeros((len(labels), values.shape[1]))
        np.add.at(sums, codes[ref], values[ref])
        counts = np.bincount(codes[ref], minlength=len(labels))
        if (counts == 0).any():
            raise ValueError(f"relative_to: group {labels[int(np.flatnonzero(counts == 0)[0])]!r} has no reference row "
                             "(rule: every group needs at least one)")
        shift = (sums / counts[:, None])[codes]
        base = np.broadcast_to(np.asarray(self.base_value, dtype="float64"), len(codes)) + shift.sum(axis=1)
        shifted = pd.DataFrame(values - shift, index=self.values.index, columns=self.values.columns)
        return replace(self, values=shifted, base_value=base, reference=name)

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

    def reasons(self, X: pd.DataFrame, context: pd.DataFrame | None = None, k: int = 3, *,
                health: str = "withhold") -> pd.DataFrame:
        """Up to ``k`` plain-language reasons per row, only for drivers that push risk up.

        ``X`` are the same rows that were explained (for the person's values),
        ``context`` optional keys (``months_in_post``, ``role``, ``team_id`` ...)
        in the same row order. See :func:`retention_ml.explain.reasons.reason_table`
        for the columns and ``health`` (``"withhold"``: health data worded without values, as lists show it;
        ``"show"``: with them, for the person themself and the analyst).
        """
        if len(X) != len(self.values):
            raise ValueError(f"reasons: X has {len(X)} rows but {len(self.values)} were explained (rule: same rows, same order)")
        if context is not None and len(context) != len(X):
            raise ValueError(f"reasons: context has {len(context)} rows, X has {len(X)} (rule: same rows, same order)")
        return reason_table(self.values, self.by_driver(), X, context, self.catalogue, self.drivers, k=k, health=health)

    def table(self, X: pd.DataFrame, keys: pd.DataFrame | None = None, k: int = 3, *,
              health: str = "withhold") -> pd.DataFrame:
        """One row per explained row: keys, ``risk``, ``driver_<code>`` profile columns, reasons and levers.

        The layout of the driver and reason columns of ``scores.parquet`` (``retention-ml score``).
        Keys are copied as given (pseudonymous ids only).
        """
        profile = self.by_driver().add_prefix("driver_")
        parts = [] if keys is None else [keys.reset_index(drop=True)]
        parts += [
            self.risk().reset_index(drop=True).to_frame(),
            profile.reset_index(drop=True),
            self.reasons(X, keys, k=k, health=health).reset_index(drop=True),
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
