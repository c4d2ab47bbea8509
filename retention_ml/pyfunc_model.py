"""The registered model's pyfunc face, logged as MLflow *models-from-code* (nothing of it is pickled).

MLflow runs this file when it loads the model (``mlflow.pyfunc.load_model("models:/<name>@champion")``,
``mlflow models serve``); the package never imports it. It sits inside ``retention_ml`` because the
logged model carries a copy of the whole package (``code_paths`` in
:func:`retention_ml.tracking.log_turnover_model`): the fitted
:class:`~retention_ml.model.TurnoverModel` artifact can only be read back where ``retention_ml.model``
can be imported, and the package is not on any package index, so the model brings its own.

``predict(features) -> risk``: the calibrated probability of leaving within the label horizon.
"""

import joblib
import pandas as pd

import mlflow


class TurnoverPyfunc(mlflow.pyfunc.PythonModel):
    """pyfunc wrapper around a fitted TurnoverModel (the run artifact ``turnover_model``)."""

    def load_context(self, context):
        self.model = joblib.load(context.artifacts["turnover_model"])

    # The DataFrame hint keeps MLflow from guessing a schema; the signature comes from an input example.
    def predict(self, context, model_input: pd.DataFrame, params=None):
        return self.model.predict_proba(model_input)[:, 1]


mlflow.models.set_model(TurnoverPyfunc())
