"""Samplers of new configurations, shared by the plain and the multi-fidelity optimizers.

A sampler proposes one configuration that is not in ``seen`` from observations of a single
fidelity (the maximum, or the highest rung with enough results, as in BOHB). It is a pure
function of its inputs and of the generator it receives.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from paretune.optimizers._base import Problem, sample_unseen
from paretune.optimizers._constraints import feasibility_rank_keys
from paretune.optimizers._history import Observations
from paretune.optimizers._priors import (
    DEFAULT_PIBO_BETA,
    pibo_exponent,
    prior_logpdf_many,
)
from paretune.optimizers._ranking import scalar_losses
from paretune.optimizers._tpe import (
    DEFAULT_GAMMA,
    DEFAULT_N_CANDIDATES,
    density_ratio,
    tpe_candidates,
)
from paretune.space import Space

Config = dict[str, Any]


@dataclass
class SampleRequest:
    """Everything a sampler may read for one proposal.

    Attributes:
        observed: Observations at the fidelity the model is fitted on (may be empty).
        n_observed_total: Observations at every fidelity, for piBO's decay.
        seen: Config keys already tried at any fidelity; a proposal must not be among them.
        rng: The generator of this trial (``Optimizer.rng(trial_id)``).
        trial_id: The id the new trial will get (seeds torch in the GP sampler).
        base_rung: The rung a new configuration starts at (0 without a schedule).
        eta: The schedule's reduction factor (PriorBand's uniform share).
        incumbent_pool: Observations at the highest rung with at least ``eta`` results (and at
            least 2), for PriorBand's incumbent and its prior-against-incumbent weighting.
    """

    observed: Observations
    n_observed_total: int
    seen: set[str]
    rng: np.random.Generator
    trial_id: int
    base_rung: int = 0
    eta: float = 3.0
    incumbent_pool: Observations | None = None


class Sampler(abc.ABC):
    """Base class of the samplers; ``propose`` returns a configuration and what produced it."""

    name: ClassVar[str]

    def __init__(self, problem: Problem) -> None:
        self.problem = problem

    @abc.abstractmethod
    def propose(self, request: SampleRequest) -> tuple[Config | None, dict[str, Any]]:
        """Propose a configuration not in ``request.seen`` (None when the space is exhausted)."""

    def random(
        self, request: SampleRequest, *, from_prior: bool = False
    ) -> tuple[Config | None, dict[str, Any]]:
        config = sample_unseen(self.problem.space, request.rng, request.seen, from_prior=from_prior)
        return config, {"sampler": "prior" if from_prior else "uniform"}


class RandomSampler(Sampler):
    """Uniform draws."""

    name = "random"

    def propose(self, request: SampleRequest) -> tuple[Config | None, dict[str, Any]]:
        return self.random(request)


def pick_unseen(
    space: Space,
    raw_points: NDArray[np.float64],
    score: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    seen: set[str],
) -> Config | None:
    """Decode candidates, score their encodings and return the best one not in ``seen``.

    Decoding rounds integers and categoricals and drops inactive parameters, so the score is
    computed on what would really be evaluated.
    """
    configs = [space.decode(point) for point in raw_points]
    encoded = np.array([space.encode(config) for config in configs])
    scores = score(encoded)
    for index in np.argsort(-scores, kind="stable"):
        config = configs[int(index)]
        key = space.config_key(config)
        if key not in seen:
            return config
    return None


class TPESampler(Sampler):
    """TPE proposals once ``n_min`` observations exist, random draws before.

    With ``use_priors`` the density ratio is weighted by the prior as in piBO, and the first
    proposal is the prior's configuration.

    Example:
        >>> from paretune.optimizers import Problem
        >>> from paretune.space import Float, Space
        >>> from paretune.objectives import Objective
        >>> sampler = TPESampler(Problem(Space({"x": Float(0, 1)}), (Objective("loss"),)))
    """

    name = "tpe"

    def __init__(
        self,
        problem: Problem,
        *,
        n_min: int | None = None,
        use_priors: bool = False,
        prior_beta: float = DEFAULT_PIBO_BETA,
        gamma: float = DEFAULT_GAMMA,
        n_candidates: int = DEFAULT_N_CANDIDATES,
    ) -> None:
        super().__init__(problem)
        d = len(problem.space.hyperparameter_names)
        self.n_min = n_min if n_min is not None else max(6, d + 2)
        self.use_priors = use_priors and problem.space.has_prior
        self.prior_beta = prior_beta
        self.gamma = gamma
        self.n_candidates = n_candidates

    def propose(self, request: SampleRequest) -> tuple[Config | None, dict[str, Any]]:
        observed = request.observed
        if len(observed) < self.n_min:
            return self.random(request, from_prior=self.use_priors)
        keys = feasibility_rank_keys(scalar_losses(observed, request.rng), observed.violation)
        space = self.problem.space
        raw, good, bad = tpe_candidates(
            space,
            observed.unit,
            keys,
            request.rng,
            gamma=self.gamma,
            n_candidates=self.n_candidates,
        )
        exponent = pibo_exponent(self.prior_beta, request.n_observed_total)
        if self.use_priors:
            prior_draws = space.sample_many(
                request.rng, max(4, self.n_candidates // 4), from_prior=True
            )
            raw = np.vstack([raw, _fill_nan(space.encode_many(prior_draws), request.rng)])

        def score(points: NDArray[np.float64]) -> NDArray[np.float64]:
            ratio = density_ratio(points, good, bad)
            if not self.use_priors:
                return ratio
            return ratio + exponent * prior_logpdf_many(space, points)

        config = pick_unseen(space, raw, score, request.seen)
        if config is None:
            return self.random(request)
        return config, {"sampler": "tpe"}


def _fill_nan(unit: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.float64]:
    """Give inactive coordinates a uniform value, so a decoded point is complete."""
    filled = unit.copy()
    mask = np.isnan(filled)
    filled[mask] = rng.random(int(mask.sum()))
    return filled


def make_sampler(name: str, problem: Problem, *, use_priors: bool) -> Sampler:
    """Build the sampler ``name``: "random", "tpe", "gp" or "priorband"."""
    if name == "tpe":
        return TPESampler(problem, use_priors=use_priors)
    if name == "gp":
        from paretune.optimizers._gp import GPSampler

        return GPSampler(problem, use_priors=use_priors)
    if name == "priorband":
        from paretune.optimizers._priorband import PriorBandSampler

        return PriorBandSampler(problem)
    return RandomSampler(problem)
