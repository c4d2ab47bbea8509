"""SHAP explanations grouped by leaving driver, reasons in words, and checks against exit interviews.

Public surface:

- :func:`explain` -> :class:`Explanation` (exact TreeSHAP on the calibrated log-odds scale,
  driver profiles, reasons with levers).
- :func:`exit_interview_alignment`: how often the model's top drivers match what leavers said.
- :func:`log_run_explanations`: global importance, beeswarm and alignment logged to an MLflow run.

Explanations describe what the model learnt; they support a conversation and
never decide anything about a person.
"""

from retention_ml.explain.explanation import Explanation, explain

__all__ = ["Explanation", "explain", "exit_interview_alignment", "log_run_explanations"]


def __getattr__(name):
    # Imported on first use: alignment needs scipy-free numpy only, logging pulls in matplotlib and MLflow.
    if name == "exit_interview_alignment":
        from retention_ml.explain.alignment import exit_interview_alignment

        return exit_interview_alignment
    if name == "log_run_explanations":
        from retention_ml.explain.logging import log_run_explanations

        return log_run_explanations
    raise AttributeError(name)
