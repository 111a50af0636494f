"""Multi-objective optimizers: NSGA-II and qLogNEHVI.

Random scalarizations (ParEGO) need no optimizer of their own: ``tpe`` and ``gp`` draw fresh
weights for every proposal when a study has several objectives (see ``_ranking``), and the
multi-fidelity schedules promote by non-dominated sorting (multi-objective ASHA).

NSGA-II (Deb et al. 2002, "A fast and elitist multiobjective genetic algorithm: NSGA-II", IEEE
TEC 6(2)) runs here in steady state: every ``ask`` breeds one child from the current elite
population (the best ``population_size`` results by non-dominated rank, then crowding distance)
with binary tournaments, simulated binary crossover and polynomial mutation in the unit cube.
The population defaults to a fifth of ``max_trials`` (between 8 and 50), because a population
of 50 at 100 evaluations leaves NSGA-II no generations to improve on random search.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from paretune._errors import OptimizerError
from paretune.optimizers._base import Optimizer, Problem, Suggestion, sample_unseen
from paretune.optimizers._history import UnitCache, observations_at
from paretune.optimizers._model_based import ModelBasedSearch
from paretune.optimizers._ranking import order_best_first
from paretune.optimizers._samplers import Config, Sampler, SampleRequest
from paretune.trial import TrialRecord

_CHILD_TRIES = 20


def default_population_size(max_trials: int | None) -> int:
    if max_trials is None:
        return 20
    return int(np.clip(max_trials // 5, 8, 50))


def sbx_crossover(
    first: NDArray[np.float64], second: NDArray[np.float64], rng: np.random.Generator, eta: float
) -> NDArray[np.float64]:
    """Return one child of simulated binary crossover (Deb and Agrawal 1995), per coordinate
    with probability 0.5, in [0, 1]."""
    u = rng.random(len(first))
    beta = np.where(
        u <= 0.5, (2 * u) ** (1 / (eta + 1)), (1 / (2 * (1 - u) + 1e-12)) ** (1 / (eta + 1))
    )
    child = 0.5 * ((1 + beta) * first + (1 - beta) * second)
    crossed = rng.random(len(first)) < 0.5
    return np.clip(np.where(crossed, child, first), 0.0, 1.0)


def polynomial_mutation(
    point: NDArray[np.float64], rng: np.random.Generator, eta: float
) -> NDArray[np.float64]:
    """Mutate each coordinate with probability 1/d by a polynomial step (Deb 2001)."""
    d = len(point)
    u = rng.random(d)
    delta = np.where(u < 0.5, (2 * u) ** (1 / (eta + 1)) - 1, 1 - (2 * (1 - u)) ** (1 / (eta + 1)))
    mutate = rng.random(d) < 1.0 / max(d, 1)
    return np.clip(np.where(mutate, point + delta, point), 0.0, 1.0)


class NSGA2Search(Optimizer):
    """Steady-state NSGA-II for cheap objectives.

    Args:
        population_size: Elite population (default: ``max_trials // 5`` between 8 and 50).
        crossover_eta: Distribution index of simulated binary crossover.
        mutation_eta: Distribution index of polynomial mutation.

    Example:
        >>> import paretune as pt
        >>> def evaluate(trial):
        ...     x = trial.config["x"]
        ...     return {"f1": x**2, "f2": (x - 2) ** 2}
        >>> study = pt.run(evaluate, {"x": pt.Float(-1, 3)}, objectives=["f1", "f2"],
        ...                max_trials=50, optimizer="nsga2", executor="inline")  # doctest: +SKIP
    """

    name = "nsga2"

    def __init__(
        self,
        problem: Problem,
        *,
        population_size: int | None = None,
        crossover_eta: float = 15.0,
        mutation_eta: float = 20.0,
    ) -> None:
        super().__init__(problem)
        size = population_size or default_population_size(problem.max_trials)
        if size < 2:
            raise OptimizerError(f"population_size must be at least 2, got {population_size}")
        self.population_size = int(size)
        self.crossover_eta = float(crossover_eta)
        self.mutation_eta = float(mutation_eta)
        self._cache = UnitCache(problem.space)
        self._design: list[Config] | None = None

    def settings(self) -> dict[str, Any]:
        return {
            "population_size": self.population_size,
            "crossover_eta": self.crossover_eta,
            "mutation_eta": self.mutation_eta,
        }

    def ask(self, history: Sequence[TrialRecord], trial_id: int) -> Suggestion | None:
        space = self.problem.space
        seen = self._cache.taken_keys(history)
        rng = self.rng(trial_id)
        observed = observations_at(history, self.problem, self._cache, self.max_fidelity)
        if len(history) < self.population_size or len(observed) < 2:
            config = self._initial(seen, rng)
            return None if config is None else Suggestion(config, self.max_fidelity)
        order = order_best_first(observed)[: self.population_size]
        parents = observed.unit[order]
        parents = np.where(np.isnan(parents), rng.random(parents.shape), parents)
        for _ in range(_CHILD_TRIES):
            first, second = (parents[self._tournament(len(order), rng)] for _ in range(2))
            child = sbx_crossover(first, second, rng, self.crossover_eta)
            config = space.decode(polynomial_mutation(child, rng, self.mutation_eta))
            if space.config_key(config) not in seen:
                return Suggestion(config, self.max_fidelity, info={"sampler": "nsga2"})
        config = sample_unseen(space, rng, seen)
        return None if config is None else Suggestion(config, self.max_fidelity)

    @staticmethod
    def _tournament(n: int, rng: np.random.Generator) -> int:
        """Binary tournament on positions in the best-first order: the lower position wins."""
        return int(min(rng.integers(n, size=2)))

    def _initial(self, seen: set[str], rng: np.random.Generator) -> Config | None:
        space = self.problem.space
        if self._design is None:
            self._design = space.sobol(self.population_size, seed=self.problem.seed)
        for config in self._design:
            if space.config_key(config) not in seen:
                return config
        return sample_unseen(space, rng, seen)


class _NEHVISampler(Sampler):
    name = "qlognehvi"

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.n_min = max(5, len(problem.space.hyperparameter_names) + 1)

    def propose(self, request: SampleRequest) -> tuple[Config | None, dict[str, Any]]:
        if int(request.observed.finite.sum()) < self.n_min:
            return self.random(request)
        from paretune.optimizers._gp import propose_nehvi

        config, info = propose_nehvi(self.problem, request)
        return (config, info) if config is not None else self.random(request)


class EHVISearch(ModelBasedSearch):
    """qLogNEHVI with Gaussian processes (BoTorch) for several objectives and small budgets.

    Example:
        >>> import paretune as pt
        >>> def evaluate(trial):
        ...     x = trial.config["x"]
        ...     return {"f1": x**2, "f2": (x - 2) ** 2}
        >>> study = pt.run(evaluate, {"x": pt.Float(-1, 3)}, objectives=["f1", "f2"],
        ...                max_trials=20, optimizer="ehvi", executor="inline")  # doctest: +SKIP
    """

    name = "ehvi"

    def __init__(self, problem: Problem, *, n_startup: int | None = None) -> None:
        if not problem.is_multi_objective:
            raise OptimizerError(
                "optimizer 'ehvi' needs at least two objectives; with one objective use 'gp'"
            )
        super().__init__(problem, n_startup=n_startup, use_priors=False)

    def _make_sampler(self) -> Sampler:
        return _NEHVISampler(self.problem)

    def settings(self) -> dict[str, Any]:
        return {"n_startup": self.n_startup}
