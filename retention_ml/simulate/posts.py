"""The posts people fill: the councils' establishment, the scenario's extra funded posts and agency-only posts.

A post (a "slot") belongs to one team for the whole run; these arrays are indexed by post.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retention_ml.simulate.config import Scenario
from retention_ml.simulate.councils import World, stratified_normal

__all__ = ["Posts", "establishment"]

AGENCY_ONLY_MEDIAN = 0.02  # median share of a council's posts that are agency-only (lognormal, sd 1 on the log scale)
AGENCY_ONLY_MAX = 0.15


@dataclass
class Posts:
    """Per-post arrays: ``team`` (team index), ``fte`` (full-time equivalent of the post, 0-1), ``manager``
    (the team manager's post), ``active`` (funded now: the scenario's extra posts open at its ``policy_start``;
    changed in place when they do), ``agency_only`` (locums engaged on top of the establishment, never filled
    permanently) and ``council`` (council index, from the team)."""

    team: np.ndarray
    fte: np.ndarray
    manager: np.ndarray
    active: np.ndarray
    agency_only: np.ndarray
    council: np.ndarray

    def __len__(self) -> int:
        return len(self.team)

    def holding_posts(self, n_t: int) -> np.ndarray:
        """FTE of funded case-holding posts per team (managers and agency-only posts excluded)."""
        return np.bincount(self.team, weights=self.fte * (~self.manager) * self.active * ~self.agency_only,
                           minlength=n_t)


def _append(team, fte, manager, active, new_team, *, new_active: bool):
    """The post arrays with full-time, non-manager posts in ``new_team`` added at the end."""
    n = len(new_team)
    return (np.concatenate([team, new_team]), np.concatenate([fte, np.ones(n)]),
            np.concatenate([manager, np.zeros(n, bool)]), np.concatenate([active, np.full(n, new_active)]))


def establishment(rng: np.random.Generator, world: World, scenario: Scenario) -> Posts:
    """The world's posts, plus the scenario's extra funded posts (``extra_posts_share`` of each team's posts,
    dormant until ``policy_start``), plus agency-only posts: about a fifth of agency use nationally is not
    vacancy cover (DfE agency cover rate ~80%), so each council engages locums on a share of its posts
    (median 2%, at most 15%)."""
    n_t = len(world.team_council)
    team, fte, manager = world.slot_team, world.slot_fte, world.slot_manager
    active = np.ones(len(team), bool)
    if scenario.extra_posts_share > 0:
        extra = np.round(np.bincount(team, minlength=n_t) * scenario.extra_posts_share).astype(int)
        team, fte, manager, active = _append(team, fte, manager, active, np.repeat(np.arange(n_t), extra),
                                             new_active=False)
    share = np.clip(np.exp(stratified_normal(rng, np.log(AGENCY_ONLY_MEDIAN), 1.0, world.n_councils)), 0,
                    AGENCY_ONLY_MAX)
    n_agency_only = rng.binomial(np.bincount(team, minlength=n_t), share[world.team_council])
    n_before = len(team)
    team, fte, manager, active = _append(team, fte, manager, active, np.repeat(np.arange(n_t), n_agency_only),
                                         new_active=True)
    agency_only = np.arange(len(team)) >= n_before
    return Posts(team=team, fte=fte, manager=manager, active=active, agency_only=agency_only,
                 council=world.team_council[team])
