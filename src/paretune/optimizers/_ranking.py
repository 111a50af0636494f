"""Ordering results best first, for one or several objectives, feasibility first.

* One objective: by its value in minimization form.
* Several objectives: by non-dominated sorting (Deb et al. 2002, "A fast and elitist
  multiobjective genetic algorithm: NSGA-II", IEEE TEC 6(2)); within a front by crowding
  distance, larger first, or by an epsilon-net (greedy farthest-point order in normalized
  objective space), the two tie-breaks of multi-objective ASHA (Schmucker et al. 2021,
  "Multi-objective Asynchronous Successive Halving", arXiv:2106.12639).
* Random scalarizations (ParEGO, Knowles 2006, "ParEGO: a hybrid algorithm with on-line
  landscape approximation for expensive multiobjective optimization problems", IEEE TEC 10(1)):
  augmented Chebyshev ``max_j(w_j f_j) + rho * sum_j(w_j f_j)`` with ``rho = 0.05`` on objectives
  normalised to [0, 1] by their observed ranges, weights drawn uniformly from the simplex.

Feasible results always come before infeasible ones, which come before failed ones.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from paretune.objectives import crowding_distance, non_dominated_ranks
from paretune.optimizers._history import Observations

TieBreak = Literal["crowding", "epsnet"]
TIE_BREAKS: tuple[TieBreak, ...] = ("crowding", "epsnet")
PAREGO_RHO = 0.05


def normalize_objectives(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Scale each column to [0, 1] by its finite observed range; inf rows stay inf."""
    finite = np.all(np.isfinite(values), axis=1)
    if not finite.any():
        return values.copy()
    low = values[finite].min(axis=0)
    span = values[finite].max(axis=0) - low
    span = np.where(span > 0, span, 1.0)
    return np.asarray((values - low) / span, dtype=float)


def parego_losses(values: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.float64]:
    """Scalarize (n, m) minimization values with one random ParEGO weight vector."""
    weights = rng.dirichlet(np.ones(values.shape[1]))
    normalized = normalize_objectives(values)
    weighted = normalized * weights
    losses = weighted.max(axis=1) + PAREGO_RHO * weighted.sum(axis=1)
    return np.where(np.all(np.isfinite(values), axis=1), losses, np.inf)


def scalar_losses(
    observed: Observations, rng: np.random.Generator | None = None
) -> NDArray[np.float64]:
    """Return one loss per row: the objective, or a ParEGO scalarization of several.

    ``rng`` draws the ParEGO weights and is required when there are several objectives.
    """
    if observed.objectives.shape[1] == 1:
        return np.asarray(observed.objectives[:, 0], dtype=float)
    if rng is None:
        raise ValueError("several objectives need a generator for the ParEGO weights")
    return parego_losses(observed.objectives, rng)


def order_best_first(observed: Observations, *, tie_break: TieBreak = "crowding") -> list[int]:
    """Return row indices best first: feasible, then infeasible by violation, then failed."""
    finite = observed.finite
    feasible = finite & (observed.violation <= 0)
    feasible_rows = np.flatnonzero(feasible)
    ordered = [int(i) for i in feasible_rows[_order_rows(observed.objectives[feasible], tie_break)]]
    infeasible_rows = np.flatnonzero(finite & ~feasible)
    by_violation = np.argsort(observed.violation[infeasible_rows], kind="stable")
    ordered += [int(i) for i in infeasible_rows[by_violation]]
    ordered += [int(i) for i in np.flatnonzero(~finite)]
    return ordered


def _order_rows(values: NDArray[np.float64], tie_break: TieBreak) -> NDArray[np.int64]:
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    if values.shape[1] == 1:
        return np.argsort(values[:, 0], kind="stable")
    ranks = non_dominated_ranks(values)
    order: list[int] = []
    for rank in np.unique(ranks):
        members = np.flatnonzero(ranks == rank)
        if tie_break == "epsnet":
            within = _epsilon_net_order(normalize_objectives(values)[members])
        else:
            distance = crowding_distance(values[members])
            within = np.argsort(-distance, kind="stable")
        order += [int(members[i]) for i in within]
    return np.array(order, dtype=np.int64)


def _epsilon_net_order(points: NDArray[np.float64]) -> NDArray[np.int64]:
    """Greedy farthest-point order: start at the best first objective, then the point farthest
    (Euclidean) from every point chosen so far."""
    n = len(points)
    chosen = [int(np.argmin(points[:, 0]))]
    nearest = np.linalg.norm(points - points[chosen[0]], axis=1)
    while len(chosen) < n:
        nearest[chosen] = -1.0
        following = int(np.argmax(nearest))
        chosen.append(following)
        nearest = np.minimum(nearest, np.linalg.norm(points - points[following], axis=1))
    return np.array(chosen, dtype=np.int64)
