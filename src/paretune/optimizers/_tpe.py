"""A tree-structured Parzen estimator (TPE): the density-ratio sampler.

Bergstra et al. (2011), "Algorithms for Hyper-Parameter Optimization", NeurIPS: split the
observations into the best ``gamma`` fraction ("good", density ``l``) and the rest ("bad",
density ``g``), draw candidates from ``l`` and keep the one with the largest ``l(x) / g(x)``,
which orders candidates as expected improvement does. Falkner et al. (2018), "BOHB: Robust and
Efficient Hyperparameter Optimization at Scale", ICML, fit the same model on the highest rung of
Hyperband that has enough results.

Each hyperparameter has its own estimator in the unit cube: numeric ones a mixture of normals
truncated to [0, 1] (one per observation, width the larger gap to its neighbours) plus a wide
component centred at 0.5; categorical ones smoothed choice frequencies. Conditional parameters
are handled because an inactive coordinate (NaN) is left out of both the fit and the score.
Infeasible and failed trials always fall into the "bad" group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

from paretune.space import Categorical, Space

DEFAULT_GAMMA = 0.15
MAX_GOOD = 25
DEFAULT_N_CANDIDATES = 24
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


@dataclass(frozen=True)
class _Estimator1D:
    """One column's Parzen estimator: truncated normals (numeric) or choice probabilities."""

    means: NDArray[np.float64]
    sds: NDArray[np.float64]
    log_weights: NDArray[np.float64]
    log_choice_probabilities: NDArray[np.float64] | None

    def logpdf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return the log density at each value of ``u`` (1-D, no NaN), in unit space."""
        if self.log_choice_probabilities is not None:
            k = len(self.log_choice_probabilities)
            index = np.minimum((u * k).astype(int), k - 1)
            return np.asarray(self.log_choice_probabilities[index] + math.log(k), dtype=float)
        z = (u[:, None] - self.means) / self.sds
        mass = special.ndtr((1 - self.means) / self.sds) - special.ndtr(-self.means / self.sds)
        log_component = -0.5 * z**2 - _LOG_SQRT_2PI - np.log(self.sds * mass)
        return np.asarray(special.logsumexp(log_component + self.log_weights, axis=1), dtype=float)

    def sample(self, rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        if self.log_choice_probabilities is not None:
            k = len(self.log_choice_probabilities)
            probabilities = np.exp(self.log_choice_probabilities)
            index = rng.choice(k, size=size, p=probabilities / probabilities.sum())
            return (index + 0.5) / k
        component = rng.choice(len(self.means), size=size, p=np.exp(self.log_weights))
        mean, sd = self.means[component], self.sds[component]
        low, high = special.ndtr(-mean / sd), special.ndtr((1 - mean) / sd)
        quantile = low + rng.random(size) * (high - low)
        draws = mean + sd * special.ndtri(np.clip(quantile, 1e-12, 1 - 1e-12))
        return np.asarray(np.clip(draws, 0.0, 1.0), dtype=float)


def _fit_numeric(values: NDArray[np.float64], cardinality: float) -> _Estimator1D:
    n = len(values)
    means = np.append(values, 0.5)
    order = np.argsort(values)
    padded = np.concatenate([[0.0], values[order], [1.0]])
    gaps = np.maximum(padded[1:-1] - padded[:-2], padded[2:] - padded[1:-1])
    sds = np.empty(n)
    sds[order] = gaps
    min_sd = max(1.0 / min(100, n + 1), 0.5 / cardinality if math.isfinite(cardinality) else 0)
    sds = np.append(np.clip(sds, min_sd, 1.0), 1.0)
    log_weights = np.full(n + 1, -math.log(n + 1))
    return _Estimator1D(means, sds, log_weights, None)


def _fit_categorical(values: NDArray[np.float64], k: int) -> _Estimator1D:
    counts = np.bincount(np.minimum((values * k).astype(int), k - 1), minlength=k).astype(float)
    probabilities = (counts + 1.0 / k) / (len(values) + 1.0)
    empty = np.zeros(0)
    return _Estimator1D(empty, empty, empty, np.log(probabilities))


class ParzenEstimator:
    """Independent per-column estimators of a set of unit-cube points with NaN for inactive."""

    def __init__(self, space: Space, unit: NDArray[np.float64]) -> None:
        self.columns: list[_Estimator1D | None] = []
        for column, name in enumerate(space.hyperparameter_names):
            values = unit[:, column]
            values = values[~np.isnan(values)]
            parameter = space.parameters[name]
            if len(values) == 0:
                self.columns.append(None)
            elif isinstance(parameter, Categorical):
                self.columns.append(_fit_categorical(values, len(parameter.choices)))
            else:
                self.columns.append(
                    _fit_numeric(values, getattr(parameter, "cardinality", math.inf))
                )

    def logpdf(self, unit: NDArray[np.float64]) -> NDArray[np.float64]:
        """Sum the column log densities of each row, skipping NaN and unfitted columns."""
        total = np.zeros(len(unit))
        for column, estimator in enumerate(self.columns):
            values = unit[:, column]
            active = ~np.isnan(values)
            if estimator is not None and active.any():
                total[active] += estimator.logpdf(values[active])
        return total

    def sample(self, rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        """Draw ``size`` points; unfitted columns are uniform."""
        columns = [
            rng.random(size) if estimator is None else estimator.sample(rng, size)
            for estimator in self.columns
        ]
        return np.column_stack(columns)


def split_good_bad(rank_keys: NDArray[np.float64], gamma: float) -> NDArray[np.bool_]:
    """Mark the best ``min(ceil(gamma * n), 25)`` rows (at least one) as "good"."""
    n = len(rank_keys)
    n_good = max(1, min(math.ceil(gamma * n), MAX_GOOD))
    good = np.zeros(n, dtype=bool)
    good[np.argsort(rank_keys, kind="stable")[:n_good]] = True
    return good


def tpe_candidates(
    space: Space,
    unit: NDArray[np.float64],
    rank_keys: NDArray[np.float64],
    rng: np.random.Generator,
    *,
    gamma: float = DEFAULT_GAMMA,
    n_candidates: int = DEFAULT_N_CANDIDATES,
) -> tuple[NDArray[np.float64], ParzenEstimator, ParzenEstimator]:
    """Fit ``l`` and ``g`` on the observations and draw candidates from ``l``.

    Args:
        unit: Observed points, shape (n, d), NaN for inactive coordinates.
        rank_keys: Sort keys of the observations, smaller is better (feasibility included).

    Returns:
        Raw candidate points (n_candidates, d) and the two estimators ``l`` and ``g``.
    """
    good = split_good_bad(rank_keys, gamma)
    good_estimator = ParzenEstimator(space, unit[good])
    bad_estimator = ParzenEstimator(space, unit[~good])
    return good_estimator.sample(rng, n_candidates), good_estimator, bad_estimator


def density_ratio(
    points: NDArray[np.float64], good: ParzenEstimator, bad: ParzenEstimator
) -> NDArray[np.float64]:
    """Return ``log l(x) - log g(x)`` for encoded points (NaN for inactive)."""
    return good.logpdf(points) - bad.logpdf(points)
