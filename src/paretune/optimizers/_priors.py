"""Expert priors in search: piBO weighting and the PriorBand-style sampling mix.

piBO (Hvarfner et al. 2022, "piBO: Augmenting Acquisition Functions with User Beliefs for
Bayesian Optimization", ICLR) multiplies the acquisition by ``pi(x) ** (beta / n)``, the prior
density raised to a power that decays with the number of observations ``n``. In log space the
acquisition gains ``(beta / n) * log pi(x)``, so a wrong prior is forgotten as data arrive.

PriorBand (Mallik et al. 2023, "PriorBand: Practical Hyperparameter Optimization in the Age of
Deep Learning", NeurIPS) draws each new configuration from one of three sources: the prior, a
mutation of the incumbent (each hyperparameter moves with probability 0.5), or the uniform
distribution. The uniform share is
``1 / (1 + eta**r)`` for a bracket that starts at rung ``r``. The rest is split between the prior
and the incumbent in proportion to the rank-weighted likelihood of the best ``1 / eta`` of the
highest rung with at least ``eta`` results under each of them. The incumbent's distribution is
the prior's shape moved to the incumbent, so the two differ only in where they are centred. A
misleading prior loses its share once the incumbent explains the good results better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

from paretune.space import Categorical, Float, Integer, Space
from paretune.space._priors import categorical_prior_weight, unit_sd

DEFAULT_PIBO_BETA = 10.0
"""piBO's beta: the prior's exponent is beta / n after n observations."""

MUTATION_RATE = 0.5
"""Probability that an incumbent-local sample moves each hyperparameter (PriorBand's mutation)."""

MUTATION_SD = 0.25
"""Unit-space standard deviation of a moved hyperparameter in an incumbent-local sample."""


def pibo_exponent(beta: float, n_observations: int) -> float:
    """Return piBO's exponent ``beta / n`` of the prior density (``beta`` while n is 0)."""
    return beta / max(n_observations, 1)


def prior_logpdf_many(
    space: Space, unit: NDArray[np.float64], *, centre: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Return the prior's log density at each row of ``unit`` (n, d), vectorized.

    Parameters without a prior and NaN (inactive) coordinates contribute 0, as in
    ``Space.prior_logpdf_unit``. With ``centre`` (a unit-space row), each prior keeps its
    spread but is centred there instead; a NaN coordinate of ``centre`` leaves it in place.
    """
    total = np.zeros(len(unit))
    for column, name in enumerate(space.hyperparameter_names):
        parameter = space.parameters[name]
        if not getattr(parameter, "has_prior", False):
            continue
        values = unit[:, column]
        active = ~np.isnan(values)
        moved = None if centre is None or np.isnan(centre[column]) else float(centre[column])
        if isinstance(parameter, Float | Integer):
            total[active] += _truncated_normal_logpdf(values[active], parameter, moved)
        elif isinstance(parameter, Categorical):
            total[active] += _categorical_logpdf(values[active], parameter, moved)
    return total


def _truncated_normal_logpdf(
    u: NDArray[np.float64], parameter: Float | Integer, centre: float | None
) -> NDArray[np.float64]:
    if parameter.prior is None:
        return np.zeros(len(u))
    mean = parameter.to_unit(parameter.prior) if centre is None else centre
    sd = unit_sd(parameter.confidence)
    mass = special.ndtr((1.0 - mean) / sd) - special.ndtr((0.0 - mean) / sd)
    z = (u - mean) / sd
    return np.asarray(-0.5 * z**2 - math.log(sd * math.sqrt(2 * math.pi) * mass), dtype=float)


def _categorical_logpdf(
    u: NDArray[np.float64], parameter: Categorical, centre: float | None
) -> NDArray[np.float64]:
    k = len(parameter.choices)
    weight = categorical_prior_weight(parameter.confidence, k)
    others = (1.0 - weight) / max(k - 1, 1)
    index = np.minimum((u * k).astype(int), k - 1)
    mode = parameter.index(parameter.prior) if centre is None else min(int(centre * k), k - 1)
    probability = np.where(index == mode, weight, others)
    return np.asarray(np.log(probability * k), dtype=float)


@dataclass(frozen=True)
class SourceWeights:
    """Probabilities of the PriorBand sources; they sum to 1."""

    prior: float
    incumbent: float
    uniform: float

    def draw(self, rng: np.random.Generator) -> str:
        """Return "prior", "incumbent" or "uniform" with these probabilities."""
        draw = rng.random()
        if draw < self.uniform:
            return "uniform"
        if draw < self.uniform + self.prior:
            return "prior"
        return "incumbent"


def priorband_weights(
    space: Space,
    *,
    eta: float,
    base_rung: int,
    top_unit: NDArray[np.float64] | None,
    incumbent: NDArray[np.float64] | None,
) -> SourceWeights:
    """Return the source probabilities for a new configuration of a bracket at ``base_rung``.

    ``top_unit`` contains the best configurations (best first, the incumbent among them) of the
    highest rung with at least ``eta`` results; without them or without an incumbent the prior
    takes the whole non-uniform share.
    """
    uniform = 1.0 / (1.0 + eta**base_rung)
    rest = 1.0 - uniform
    if top_unit is None or incumbent is None or len(top_unit) == 0:
        return SourceWeights(prior=rest, incumbent=0.0, uniform=uniform)
    rank_weights = np.arange(len(top_unit), 0, -1, dtype=float)
    rank_weights /= rank_weights.sum()
    log_prior = prior_logpdf_many(space, top_unit)
    log_incumbent = prior_logpdf_many(space, top_unit, centre=incumbent)
    prior_score = float(np.dot(rank_weights, np.exp(np.clip(log_prior, -50, 50))))
    incumbent_score = float(np.dot(rank_weights, np.exp(np.clip(log_incumbent, -50, 50))))
    share = prior_score / (prior_score + incumbent_score) if prior_score + incumbent_score else 0.5
    return SourceWeights(prior=rest * share, incumbent=rest * (1 - share), uniform=uniform)
