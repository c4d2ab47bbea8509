"""The turnover classifier: LightGBM with Platt calibration on the raw margin.

:class:`TurnoverModel` predicts the calibrated probability that a worker leaves
voluntarily within the label horizon. The gradient-boosted trees are fitted on
the training window and early-stopped on the validation window (or, without one, on
cross-fitting folds of the training rows); a Platt
sigmoid ``p = 1 / (1 + exp(-(a * margin + b)))`` is then fitted on the same
validation window. Because the calibration is linear on the log-odds scale,
SHAP values of the raw margin, multiplied by ``a``, stay exactly additive on
the calibrated log-odds (``retention_ml.explain`` relies on this).

An optional bootstrap ensemble (``n_bootstrap > 0``) gives per-person
intervals through :meth:`TurnoverModel.predict_interval`: each member is
refitted on a bootstrap resample of the training rows with the main model's
number of trees and calibrated on the validation window.

Predictions support a conversation with a worker; they never decide anything
about a person.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

__all__ = ["TurnoverModel", "fit_platt", "expit"]


def expit(z: np.ndarray) -> np.ndarray:
    """Logistic function, numerically safe for large ``|z|``."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype="float64")))


def fit_platt(margin: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Fit ``P(y=1) = expit(a * margin + b)`` by (almost) unpenalised maximum likelihood; return ``(a, b)``."""
    lr = LogisticRegression(C=1e6, max_iter=1000)
    lr.fit(np.asarray(margin, dtype="float64").reshape(-1, 1), np.asarray(y, dtype=int))
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def _as_frame(X, names=None) -> pd.DataFrame:
    import scipy.sparse

    if scipy.sparse.issparse(X):
        raise TypeError("TurnoverModel: sparse input is not supported; pass a dense DataFrame of features")
    if isinstance(X, pd.DataFrame):
        # Feature names are strings (LightGBM and MLflow signatures need them); integer labels become "0", "1" ...
        return X if all(isinstance(c, str) for c in X.columns) else X.rename(columns=str)
    arr = np.asarray(X)
    if np.iscomplexobj(arr):
        raise ValueError("TurnoverModel: Complex data not supported")
    if arr.ndim != 2:
        raise ValueError(
            f"TurnoverModel: X must be 2-dimensional, got shape {arr.shape}. Reshape your data, "
            "e.g. X.reshape(-1, 1) for a single feature or X.reshape(1, -1) for a single row"
        )
    arr = arr.astype("float64")
    if names is not None and arr.shape[1] != len(names):
        raise ValueError(f"X has {arr.shape[1]} features, but TurnoverModel is expecting {len(names)} features as input")
    cols = names if names is not None else [f"x{i}" for i in range(arr.shape[1])]
    return pd.DataFrame(arr, columns=cols)


def _labels(y, what: str, classes=None) -> tuple[np.ndarray, np.ndarray]:
    """``(y as 0/1 ints, classes)``; the second class (sorted) is "left". Censored (missing) labels are refused."""
    import warnings

    from sklearn.exceptions import DataConversionWarning
    from sklearn.utils.multiclass import type_of_target

    if y is None:
        raise ValueError(f"TurnoverModel requires y to be passed, but the target {what} is None")
    y = y.to_numpy() if isinstance(y, pd.Series) else np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(f"A column-vector {what} was passed when a 1d array was expected", DataConversionWarning, stacklevel=3)
        y = y.ravel()
    missing = pd.isna(y)
    if missing.any():
        raise ValueError(
            f"TurnoverModel: {what} holds {int(missing.sum())} missing labels "
            "(rule: censored snapshots are dropped before fitting, never labelled 0)"
        )
    kind = type_of_target(y, input_name=what, raise_unknown=True)
    if kind == "continuous":
        raise ValueError(f"TurnoverModel: Unknown label type: continuous ({what} must be 0/1)")
    if kind != "binary":
        raise ValueError(f"TurnoverModel: Only binary classification is supported. The type of the target is {kind}.")
    found = np.unique(y)
    classes = found if classes is None else classes
    if len(found) < 2 and what == "y":
        raise ValueError(f"TurnoverModel: {what} holds only one class ({found.tolist()}); need leavers and stayers")
    unknown = ~np.isin(found, classes)
    if unknown.any():
        raise ValueError(f"TurnoverModel: {what} holds labels {found[unknown].tolist()} not seen in y {classes.tolist()}")
    return (y == classes[1]).astype(int), classes


class TurnoverModel(ClassifierMixin, BaseEstimator):
    """Calibrated LightGBM probability of leaving voluntarily within the horizon.

    Parameters
    ----------
    n_estimators : int, default 500
        Upper bound on boosting rounds; early stopping on the validation window picks the number.
    learning_rate : float, default 0.07
        Chosen with ``n_estimators`` so that small models keep SHAP fast: early stopping lands at
        40-150 trees on simulated council data without constraints (validation ROC-AUC within 0.001
        of the old 0.03 / 2000-tree setting, which used ~400), and at 191-246 on national data with
        the default driver constraints (the README's Measured section).
    num_leaves : int, default 15
    min_child_samples : int, default 100
        Minimum rows per leaf (snapshots).
    subsample, colsample_bytree : float, default 0.8
        Row and feature fractions per tree.
    reg_lambda : float, default 5.0
        L2 penalty on leaf values.
    extra_trees : bool, default False
        Extremely randomised split points (LightGBM ``extra_trees``): smoother, lower-variance
        fits on small data; on one national-size simulated data set it cost 0.0015 test ROC-AUC, so off by default
        (tuning can switch it on).
    early_stopping_rounds : int, default 50
        Rounds without a lower validation log-loss before boosting stops.
    cv_folds : int, default 5
        Without a validation window: folds of the cross-fitting that picks the trees and the
        calibration (see :meth:`fit`).
    monotone : dict of str to int, optional
        Feature name -> +1 (predicted risk never falls as the value rises), -1 (never rises)
        or 0; features not named are free.
    interaction_groups : list of list of str, optional
        Feature names that may share a branch of a tree; a feature may sit in several groups.
        With one group per driver, the model is a sum of one function per driver (plus shared
        context features), so each driver's SHAP values are that driver's own part of the risk.
    n_bootstrap : int, default 0
        Members of the bootstrap ensemble used by :meth:`predict_interval` (0: no intervals).
    random_state : int, default 0
        Seeds LightGBM and the bootstrap; same data + seed -> same model.
    n_jobs : int, default 1
        LightGBM threads (1 keeps results bit-for-bit reproducible).

    Attributes
    ----------
    booster_ : lightgbm.Booster
    best_iteration_ : int
    calibration_ : tuple of float
        Platt ``(a, b)``: calibrated log-odds = ``a * raw margin + b``.
    feature_names_in_ : ndarray of str
    n_features_in_ : int
    classes_ : ndarray
        The two labels seen in ``y`` (sorted); the second means "left" (normally ``[0, 1]``).
    bootstrap_boosters_ : list of lightgbm.Booster
    bootstrap_calibrations_ : list of tuple
    valid_log_loss_, valid_ece_ : dict
        Held-out log-loss and expected calibration error of the uncalibrated (``before``) and
        calibrated (``after``) probabilities (validation window, or out-of-fold when cross-fitted).
    valid_ece_chance_ : dict
        Each of those ECEs with its chance level (``before``/``after`` -> ``value``, ``chance``, ``chance_high``,
        ``p_value``: :func:`retention_ml.evaluate.ece_chance`), so a held-out ECE of a few hundred rows is read
        against what exactly right risks show on as many (about 0.05 on 330 rows), not as miscalibration.
    valid_roc_auc_ : float
        Held-out ROC-AUC on the same rows (used by tuning on flat extracts).
    validation_ : str
        What the trees were early-stopped and calibrated on.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"caseload": rng.normal(18, 4, 800)})
    >>> y = pd.Series((rng.random(800) < expit((X.caseload - 22) / 3)).astype(float))
    >>> m = TurnoverModel(n_estimators=50).fit(X[:600], y[:600], X_valid=X[600:], y_valid=y[600:])
    >>> m.predict_proba(X[:3]).shape
    (3, 2)
    """

    def __init__(
        self,
        n_estimators: int = 500,
        *,
        learning_rate: float = 0.07,
        num_leaves: int = 15,
        min_child_samples: int = 100,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 5.0,
        extra_trees: bool = False,
        early_stopping_rounds: int = 50,
        cv_folds: int = 5,
        monotone: dict | None = None,
        interaction_groups: list | None = None,
        n_bootstrap: int = 0,
        random_state: int = 0,
        n_jobs: int = 1,
    ):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.extra_trees = extra_trees
        self.early_stopping_rounds = early_stopping_rounds
        self.cv_folds = cv_folds
        self.monotone = monotone
        self.interaction_groups = interaction_groups
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # leave / stay only
        tags.input_tags.allow_nan = True  # LightGBM routes missing values itself
        return tags

    # -- fitting ---------------------------------------------------------------------------------
    def _lgb_params(self, seed: int) -> dict:
        return {
            "objective": "binary",
            # Early stopping watches exactly one metric, the validation log-loss (a proper score, so it
            # stops when probabilities stop improving, not only the ranking).
            "metric": "binary_logloss",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1 else 0,
            "feature_fraction": self.colsample_bytree,
            "lambda_l2": self.reg_lambda,
            "extra_trees": bool(self.extra_trees),
            "seed": seed,
            "num_threads": self.n_jobs,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
            **self._constraints(),
        }

    def _constraints(self) -> dict:
        """LightGBM's positional monotone and interaction constraints from the named ones."""
        names = list(self.feature_names_in_)
        index = {n: i for i, n in enumerate(names)}
        out = {}
        if self.monotone:
            out["monotone_constraints"] = [int(self.monotone.get(n, 0)) for n in names]
        if self.interaction_groups:
            out["interaction_constraints"] = [sorted(index[n] for n in group) for group in self.interaction_groups if group]
        return out

    def _check_constraints(self) -> None:
        known = set(self.feature_names_in_)
        monotone = dict(self.monotone or {})
        bad = {n: v for n, v in monotone.items() if v not in (-1, 0, 1)}
        if bad:
            raise ValueError(f"TurnoverModel: monotone directions must be -1, 0 or 1, got {bad}")
        groups = [list(g) for g in (self.interaction_groups or [])]
        unknown = sorted((set(monotone) | {n for g in groups for n in g}) - known)
        if unknown:
            raise ValueError(f"TurnoverModel: constraints name features not in X: {unknown}")
        if groups and (free := sorted(known - {n for g in groups for n in g})):
            # LightGBM would silently never split on a feature outside every group
            raise ValueError(f"TurnoverModel: features in no interaction group: {free}")

    def fit(self, X, y, *, X_valid=None, y_valid=None, workers_valid=None) -> "TurnoverModel":
        """Fit the trees on ``(X, y)``, early-stop and calibrate on ``(X_valid, y_valid)``.

        Without a validation window the trees and the calibration come from
        ``cv_folds``-fold cross-fitting over the training rows, and the final trees
        are refitted on all of them (fine for flat extracts, which have no time; for
        snapshots pass the later window from :mod:`retention_ml.split`).

        ``workers_valid``: the person behind each held-out row (``X_valid``'s, or ``X``'s when cross-fitted), so the
        held-out ECE's chance level draws one outcome per person; None: each row its own person (exact for a flat
        extract and for a validation window of one date). It changes no fitted tree or calibration constant.
        """
        import lightgbm as lgb

        X = _as_frame(X)
        if X.shape[0] == 0:
            raise ValueError(f"TurnoverModel: Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required.")
        if X.shape[1] == 0:
            raise ValueError(f"TurnoverModel: Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
        y_arr, self.classes_ = _labels(y, "y")
        if len(X) != len(y_arr):
            raise ValueError(f"TurnoverModel: X has {len(X)} rows but y has {len(y_arr)}")
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = X.shape[1]
        self._check_constraints()
        held = len(y_arr) if X_valid is None else len(X_valid)
        if workers_valid is not None and len(workers_valid) != held:
            raise ValueError(f"TurnoverModel: workers_valid has {len(workers_valid)} entries for {held} held-out rows")
        if X_valid is None:
            return self._fit_crossfitted(self._matrix(X), y_arr, workers_valid)
        X_valid = _as_frame(X_valid, list(X.columns))
        yv, _ = _labels(y_valid, "y_valid", self.classes_)
        Xt = self._matrix(X)
        Xv = self._matrix(X_valid)
        train = lgb.Dataset(Xt, y_arr, feature_name=list(self.feature_names_in_), free_raw_data=True)
        valid = lgb.Dataset(Xv, yv, reference=train)
        self.booster_ = lgb.train(
            self._lgb_params(self.random_state),
            train,
            num_boost_round=self.n_estimators,
            valid_sets=[valid],
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, first_metric_only=True, verbose=False)],
        )
        self.best_iteration_ = int(self.booster_.best_iteration or self.booster_.current_iteration())
        # Keep only the trees early stopping chose, so every consumer (SHAP included) sees one model.
        self.booster_ = lgb.Booster(model_str=self.booster_.model_to_string(num_iteration=self.best_iteration_))
        self._calibrate(self.booster_.predict(Xv, raw_score=True), yv, workers_valid)
        self.validation_ = f"validation window ({len(yv)} rows)"
        self._fit_bootstrap(Xt, y_arr, Xv, yv)
        return self

    def _calibrate(self, margin: np.ndarray, y: np.ndarray, workers=None) -> None:
        """Platt map from held-out margins; log-loss and ECE (with its chance level over ``workers``, default one
        person per row) of the held-out rows before and after it."""
        from sklearn.metrics import roc_auc_score

        from retention_ml.evaluate import _chance_level, ece, ece_chance

        self.calibration_ = fit_platt(margin, y)
        before, after = expit(margin), expit(self.calibration_[0] * margin + self.calibration_[1])
        self.valid_log_loss_ = {"before": _log_loss(y, before), "after": _log_loss(y, after)}
        self.valid_ece_ = {"before": ece(y, before), "after": ece(y, after)}
        workers = np.arange(len(y)) if workers is None else np.asarray(workers)
        # its own generator (ece_chance seeds one from random_state), so the fitted model is the same with or without
        self.valid_ece_chance_ = {k: _chance_level(self.valid_ece_[k], ece_chance(p, workers=workers,
                                                                                    random_state=self.random_state))
                                  for k, p in (("before", before), ("after", after))}
        self.valid_roc_auc_ = float(roc_auc_score(y, margin)) if 0 < y.sum() < len(y) else float("nan")

    def _fit_crossfitted(self, M: np.ndarray, y: np.ndarray, workers=None) -> "TurnoverModel":
        """No validation window (flat extracts): ``cv_folds``-fold cross-fitting, then refit on every row.

        The folds boost side by side (``lightgbm.cv``); the number of trees is where their mean
        validation log-loss is lowest; the Platt map is fitted on the out-of-fold margins at that
        number; the final booster is trained on all rows with that many trees (the scheme of
        scikit-learn's ``CalibratedClassifierCV(ensemble=False)``). Every row thus serves both
        fitting and held-out checking, which matters for small extracts (a few thousand rows).
        """
        import lightgbm as lgb
        from sklearn.model_selection import StratifiedKFold

        if self.cv_folds < 2:
            raise ValueError(f"TurnoverModel: cv_folds must be >= 2 without a validation window, got {self.cv_folds}")
        folds = list(StratifiedKFold(self.cv_folds, shuffle=True, random_state=self.random_state).split(M, y))
        names = list(self.feature_names_in_)
        params = self._lgb_params(self.random_state)
        result = lgb.cv(
            params,
            lgb.Dataset(M, y, feature_name=names, free_raw_data=False),
            num_boost_round=self.n_estimators,
            folds=folds,
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, first_metric_only=True, verbose=False)],
            return_cvbooster=True,
        )
        self.best_iteration_ = int(len(result["valid binary_logloss-mean"]))
        oof = np.empty(len(y))
        for (_, held), booster in zip(folds, result["cvbooster"].boosters):
            oof[held] = booster.predict(M[held], raw_score=True, num_iteration=self.best_iteration_)
        self.booster_ = lgb.train(params, lgb.Dataset(M, y, feature_name=names), num_boost_round=self.best_iteration_)
        self._calibrate(oof, y, workers)
        self.validation_ = f"{self.cv_folds}-fold cross-fitting ({len(y)} rows)"
        self._fit_bootstrap(M, y, None, None)
        return self

    def _fit_bootstrap(self, Xt, yt, Xv, yv) -> None:
        import lightgbm as lgb

        self.bootstrap_boosters_, self.bootstrap_calibrations_ = [], []
        rng = np.random.default_rng(self.random_state)
        for k in range(self.n_bootstrap):
            rows = rng.integers(0, len(yt), len(yt))
            member = lgb.train(
                self._lgb_params(self.random_state + 1 + k),
                lgb.Dataset(Xt[rows], yt[rows], feature_name=list(self.feature_names_in_)),
                num_boost_round=self.best_iteration_,
            )
            self.bootstrap_boosters_.append(member)
            if Xv is None:  # cross-fitted: calibrate each member on the rows its resample left out
                out = np.setdiff1d(np.arange(len(yt)), rows)
                self.bootstrap_calibrations_.append(fit_platt(member.predict(Xt[out], raw_score=True), yt[out]))
            else:
                self.bootstrap_calibrations_.append(fit_platt(member.predict(Xv, raw_score=True), yv))

    # -- prediction ------------------------------------------------------------------------------
    def _matrix(self, X) -> np.ndarray:
        X = _as_frame(X, list(getattr(self, "feature_names_in_", [])) or None)
        if hasattr(self, "feature_names_in_"):
            missing = [c for c in self.feature_names_in_ if c not in X.columns]
            if missing:
                raise ValueError(f"TurnoverModel: X lacks feature column(s) {missing[:10]} the model was trained on")
            X = X.loc[:, list(self.feature_names_in_)]
        return X.to_numpy(dtype="float64", na_value=np.nan)

    def decision_function(self, X) -> np.ndarray:
        """Calibrated log-odds of leaving: ``a * raw margin + b``."""
        check_is_fitted(self, "booster_")
        a, b = self.calibration_
        return a * self.booster_.predict(self._matrix(X), raw_score=True) + b

    def predict_proba(self, X) -> np.ndarray:
        """``[:, 1]`` = calibrated probability of leaving voluntarily within the horizon."""
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        """The "left" class where the calibrated probability is at least 0.5 (rarely useful: rank by risk instead)."""
        left = self.predict_proba(X)[:, 1] >= 0.5  # checks fitted first
        return self.classes_[left.astype(int)]

    def predict_interval(self, X, level: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
        """Per-row ``(low, high)`` central ``level`` interval of the risk over the bootstrap ensemble.

        Raises ``ValueError`` when the model was fitted with ``n_bootstrap=0``.
        """
        check_is_fitted(self, "booster_")
        if not getattr(self, "bootstrap_boosters_", None):
            raise ValueError("TurnoverModel.predict_interval: fitted with n_bootstrap=0; refit with n_bootstrap >= 2")
        M = self._matrix(X)
        risks = np.vstack(
            [expit(a * b.predict(M, raw_score=True) + c) for b, (a, c) in zip(self.bootstrap_boosters_, self.bootstrap_calibrations_)]
        )
        tail = (1.0 - level) / 2.0
        return np.quantile(risks, tail, axis=0), np.quantile(risks, 1.0 - tail, axis=0)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "booster_")
        return np.asarray(["risk"], dtype=object)

    @property
    def feature_importances_(self) -> np.ndarray:
        """Total gain per feature (order of ``feature_names_in_``)."""
        check_is_fitted(self, "booster_")
        return self.booster_.feature_importance(importance_type="gain")

    def feature_importance_table(self) -> pd.DataFrame:
        """DataFrame ``feature, gain, splits`` sorted by gain, descending."""
        check_is_fitted(self, "booster_")
        table = pd.DataFrame(
            {
                "feature": list(self.feature_names_in_),
                "gain": self.booster_.feature_importance(importance_type="gain"),
                "splits": self.booster_.feature_importance(importance_type="split"),
            }
        )
        return table.sort_values(["gain", "feature"], ascending=[False, True], ignore_index=True)

    @property
    def summary(self) -> pd.DataFrame:
        """One-column table of what was fitted: trees, calibration, validation log-loss, ensemble size."""
        check_is_fitted(self, "booster_")
        a, b = self.calibration_
        rows = {
            "features": self.n_features_in_,
            "trees (early-stopped)": self.best_iteration_,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "platt a": round(a, 4),
            "platt b": round(b, 4),
            "valid log-loss before calibration": round(self.valid_log_loss_["before"], 5),
            "valid log-loss after calibration": round(self.valid_log_loss_["after"], 5),
            "bootstrap members": len(self.bootstrap_boosters_),
            "random_state": self.random_state,
        }
        return pd.DataFrame({"value": pd.Series(rows, dtype=object)})

    def print_summary(self) -> None:
        print(self.summary.to_string())


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
