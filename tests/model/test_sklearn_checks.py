"""scikit-learn's own estimator checks on TurnoverModel (binary classifier tags)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from retention_ml.model import TurnoverModel


# Small settings so the ~55 checks on tiny arrays stay fast and can grow trees at all.
@parametrize_with_checks([TurnoverModel(n_estimators=30, min_child_samples=2, early_stopping_rounds=10)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
