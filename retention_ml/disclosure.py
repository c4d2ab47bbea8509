"""The small-group floors every published figure follows: one place, imported by each module that publishes.

Figures about a handful of people identify them. So no aggregate (a count, a rate, expected against observed
leavers, a reason's share) is shown for a group of fewer than :data:`MIN_PEOPLE` people, and a fairness table,
whose per-group rates are compared across protected characteristics, needs :data:`MIN_FAIRNESS_GROUP`. A
council's settings may raise a floor (the list's bands file, the promotion thresholds), never lower it.

Example
-------
>>> from retention_ml.disclosure import MIN_PEOPLE, MIN_FAIRNESS_GROUP
>>> MIN_PEOPLE, MIN_FAIRNESS_GROUP
(5, 20)
"""

from __future__ import annotations

__all__ = ["MIN_PEOPLE", "MIN_FAIRNESS_GROUP"]

# Teams on a list's summary, per-team expected vs observed on the card, stated exit reasons in alignment.
MIN_PEOPLE = 5
# Groups in the fairness audit (the card's fairness table and the promotion gate's group checks).
MIN_FAIRNESS_GROUP = 20
