"""The PriorBand-style sampler: prior, incumbent-local and uniform draws, plus the TPE model.

The mixing weights come from ``priorband_weights`` (see ``_priors``). Once the model rung has
enough results, half of the proposals come from TPE weighted by the prior (piBO), as in
PriorBand's model-based extension (Mallik et al. 2023, Section 6).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from paretune.optimizers._base import Problem
from paretune.optimizers._priors import MUTATION_RATE, MUTATION_SD, priorband_weights
from paretune.optimizers._ranking import order_best_first
from paretune.optimizers._samplers import Config, Sampler, SampleRequest, TPESampler

MODEL_SHARE = 0.5
"""Probability of a TPE proposal once the model rung has enough results."""

_LOCAL_TRIES = 20


class PriorBandSampler(Sampler):
    """Mixes prior, incumbent-local, uniform and model-based proposals.

    Without priors in the space the prior share goes to uniform draws.

    Example:
        >>> from paretune.optimizers import Problem
        >>> from paretune.space import Float, Space
        >>> from paretune.objectives import Objective
        >>> space = Space({"x": Float(0, 1, prior=0.2)})
        >>> sampler = PriorBandSampler(Problem(space, (Objective("loss"),)))
    """

    name = "priorband"

    def __init__(self, problem: Problem, *, model_share: float = MODEL_SHARE) -> None:
        super().__init__(problem)
        self.model_share = model_share
        self.model = TPESampler(problem, use_priors=True)

    @property
    def n_min(self) -> int:
        """Return the number of results that the model rung needs before TPE proposes.

        The schedule reads it to pick the highest rung with that many results.
        """
        return self.model.n_min

    def propose(self, request: SampleRequest) -> tuple[Config | None, dict[str, Any]]:
        space = self.problem.space
        prior_config = space.prior_config()
        if space.has_prior and space.config_key(prior_config) not in request.seen:
            return prior_config, {"sampler": "prior_mode"}
        if len(request.observed) >= self.model.n_min and request.rng.random() < self.model_share:
            return self.model.propose(request)
        incumbent, top_unit = self._incumbent_and_top(request)
        weights = priorband_weights(
            space,
            eta=request.eta,
            base_rung=request.base_rung,
            top_unit=top_unit,
            incumbent=None if incumbent is None else space.encode(incumbent),
        )
        source = weights.draw(request.rng)
        if source == "incumbent" and incumbent is not None:
            return self._local(incumbent, request)
        return self.random(request, from_prior=source == "prior" and space.has_prior)

    def _incumbent_and_top(self, request: SampleRequest) -> tuple[Config | None, np.ndarray | None]:
        """Return the pool's best configuration and its best ``floor(n / eta)`` (unit space)."""
        pool = request.incumbent_pool
        if pool is None or not pool.finite.any():
            return None, None
        order = order_best_first(pool)
        incumbent = pool.trials[order[0]].config
        n_top = max(1, int(len(order) // request.eta))
        top_rows = [i for i in order[:n_top] if pool.finite[i]]
        return incumbent, pool.unit[top_rows] if top_rows else None

    def _local(
        self, incumbent: Config, request: SampleRequest
    ) -> tuple[Config | None, dict[str, Any]]:
        space = self.problem.space
        for _ in range(_LOCAL_TRIES):
            config = space.neighbour(incumbent, request.rng, scale=MUTATION_SD, rate=MUTATION_RATE)
            if space.config_key(config) not in request.seen:
                return config, {"sampler": "incumbent"}
        return self.random(request)
