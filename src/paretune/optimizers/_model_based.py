"""Model-based search at the maximum fidelity: TPE and Gaussian-process BO.

The first ``n_startup`` trials come from a scrambled Sobol design (or, with priors, the prior's
configuration and then draws from the prior, as piBO starts); after that the model proposes.
With several objectives every proposal scalarizes them with fresh ParEGO weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from paretune._errors import OptimizerError
from paretune.optimizers._base import Optimizer, Problem, Suggestion, sample_unseen
from paretune.optimizers._history import UnitCache, observations_at
from paretune.optimizers._priors import DEFAULT_PIBO_BETA
from paretune.optimizers._samplers import Sampler, SampleRequest, TPESampler
from paretune.trial import TrialRecord


class ModelBasedSearch(Optimizer):
    """Base class: a startup design, then proposals of ``self.sampler``."""

    name: ClassVar[str] = "model_based"

    def __init__(
        self,
        problem: Problem,
        *,
        n_startup: int | None = None,
        use_priors: bool | None = None,
        prior_beta: float = DEFAULT_PIBO_BETA,
    ) -> None:
        super().__init__(problem)
        if n_startup is not None and n_startup < 1:
            raise OptimizerError(f"n_startup must be at least 1, got {n_startup}")
        if not prior_beta > 0:
            raise OptimizerError(f"prior_beta must be > 0, such as 10, got {prior_beta!r}")
        self.use_priors = problem.space.has_prior if use_priors is None else bool(use_priors)
        self.prior_beta = float(prior_beta)
        self.sampler = self._make_sampler()
        self.n_startup = int(n_startup) if n_startup is not None else int(self.sampler_n_min())
        self._cache = UnitCache(problem.space)
        self._design: list[dict[str, Any]] | None = None

    def _make_sampler(self) -> Sampler:
        raise NotImplementedError

    def sampler_n_min(self) -> int:
        return int(getattr(self.sampler, "n_min", 10))

    def settings(self) -> dict[str, Any]:
        return {
            "n_startup": self.n_startup,
            "use_priors": self.use_priors,
            "prior_beta": self.prior_beta,
        }

    def ask(self, history: Sequence[TrialRecord], trial_id: int) -> Suggestion | None:
        space = self.problem.space
        seen = self._cache.taken_keys(history)
        if space.is_finite and len(seen) >= space.size:
            return None
        rng = self.rng(trial_id)
        if len(history) < self.n_startup:
            config, info = self._startup(seen, rng)
        else:
            observed = observations_at(history, self.problem, self._cache, self.max_fidelity)
            request = SampleRequest(observed, len(observed), seen, rng, trial_id)
            config, info = self.sampler.propose(request)
        if config is None:
            return None
        return Suggestion(config, fidelity=self.max_fidelity, info=info)

    def _startup(self, seen: set[str], rng: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        space = self.problem.space
        if self.use_priors:
            prior_config = space.prior_config()
            if space.config_key(prior_config) not in seen:
                return prior_config, {"sampler": "prior_mode"}
            return sample_unseen(space, rng, seen, from_prior=True), {"sampler": "prior"}
        if self._design is None:
            self._design = space.sobol(self.n_startup, seed=self.problem.seed)
        for config in self._design:
            if space.config_key(config) not in seen:
                return config, {"sampler": "sobol"}
        return sample_unseen(space, rng, seen), {"sampler": "uniform"}


class TPESearch(ModelBasedSearch):
    """TPE (density ratio) at the maximum fidelity; piBO-weighted with priors.

    Example:
        >>> import paretune as pt
        >>> study = pt.run(lambda t: {"loss": t.config["x"] ** 2}, {"x": pt.Float(-1, 1)},
        ...                objectives=["loss"], max_trials=30, optimizer="tpe",
        ...                executor="inline")  # doctest: +SKIP
    """

    name = "tpe"

    def _make_sampler(self) -> Sampler:
        return TPESampler(self.problem, use_priors=self.use_priors, prior_beta=self.prior_beta)


class GPSearch(ModelBasedSearch):
    """Gaussian-process BO with log expected improvement (BoTorch), for small budgets.

    Example:
        >>> import paretune as pt
        >>> study = pt.run(lambda t: {"loss": t.config["x"] ** 2}, {"x": pt.Float(-1, 1)},
        ...                objectives=["loss"], max_trials=15, optimizer="gp",
        ...                executor="inline")  # doctest: +SKIP
    """

    name = "gp"

    def _make_sampler(self) -> Sampler:
        from paretune.optimizers._gp import GPSampler

        return GPSampler(self.problem, use_priors=self.use_priors, prior_beta=self.prior_beta)
