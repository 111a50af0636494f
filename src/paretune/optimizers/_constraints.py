"""Feasibility helpers: infeasible trials never rank above feasible ones.

Every optimizer orders results with ``feasibility_rank_keys``: feasible trials by their loss,
then infeasible ones by their total constraint violation. Model-based search additionally
weights its acquisition by a probability of feasibility (``log_probability_of_feasibility``),
computed from Gaussian predictions of each constraint metric, as in Gardner et al. (2014),
"Bayesian Optimization with Inequality Constraints", ICML.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import special

from paretune.objectives import Constraint, total_violation
from paretune.trial import TrialRecord


def violations(
    trials: Sequence[TrialRecord], constraints: Sequence[Constraint]
) -> NDArray[np.float64]:
    """Return each trial's total constraint violation (0 when feasible, inf when missing)."""
    if not constraints:
        return np.zeros(len(trials))
    return np.array([total_violation(t.values, constraints) for t in trials], dtype=float)


def feasibility_rank_keys(
    losses: NDArray[np.float64], violation: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Return sort keys: feasible rows keep their loss order, infeasible rows come after.

    Infeasible rows are ordered by violation (smaller first), so ``argsort`` of the keys gives
    "best first" with every feasible row ahead of every infeasible one.
    """
    keys = np.asarray(losses, dtype=float).copy()
    infeasible = violation > 0
    if not infeasible.any():
        return keys
    order = np.argsort(np.argsort(keys, kind="stable"), kind="stable").astype(float)
    keys = order  # ranks 0..n-1 among all rows
    n = float(len(keys))
    finite_violation = np.where(np.isfinite(violation), violation, np.finfo(float).max)
    violation_rank = np.argsort(np.argsort(finite_violation, kind="stable"), kind="stable")
    keys[infeasible] = n + violation_rank[infeasible]
    return keys


def constraint_slacks(trials: Sequence[TrialRecord], constraint: Constraint) -> NDArray[np.float64]:
    """Return ``bound - value`` per trial for the violated side (>= 0 means feasible).

    A two-sided constraint returns the smaller of the two slacks. A missing value gives NaN.
    """
    slack = np.full(len(trials), np.inf)
    values = np.array([t.value(constraint.name) for t in trials], dtype=float)
    if constraint.upper is not None:
        slack = np.minimum(slack, constraint.upper - values)
    if constraint.lower is not None:
        slack = np.minimum(slack, values - constraint.lower)
    return slack


def log_probability_of_feasibility(
    slack_mean: NDArray[np.float64], slack_sd: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Return ``sum_c log P(slack_c >= 0)`` for Gaussian predictions of shape (n, n_constraints).

    Independent constraints multiply: log Phi(mean / sd) summed over the columns.
    """
    z = slack_mean / np.maximum(slack_sd, 1e-9)
    return np.asarray(special.log_ndtr(z).sum(axis=-1), dtype=float)
