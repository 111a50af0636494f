"""Gaussian-process Bayesian optimization through BoTorch (imported lazily).

One objective: log expected improvement (Ament et al. 2023, "Unexpected Improvements to Expected
Improvement for Bayesian Optimization", NeurIPS), times a probability of feasibility when there
are constraints and times the prior density to the power ``beta / n`` (piBO) when there are
priors; several objectives with a ParEGO scalarization per trial. ``propose_nehvi`` ranks
candidates by qLogNEHVI (Daulton et al. 2021, "Parallel Bayesian Optimization of Multiple Noisy
Objectives with Expected Hypervolume Improvement", NeurIPS; log form by Ament et al. 2023).

Mixed spaces: the GP works on the unit-cube encoding (a categorical choice is the centre of its
cell, an inactive parameter is the constant ``INACTIVE_VALUE``), and the acquisition is maximized
over a finite set of valid candidates (uniform draws, prior draws and perturbations of the best
configurations, each decoded and re-encoded), so rounding never moves the chosen point.

All torch randomness runs inside ``torch.random.fork_rng`` with a seed drawn from the trial's
generator, so the global torch state is unchanged and the same history gives the same proposal.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from paretune.optimizers._base import Problem
from paretune.optimizers._constraints import constraint_slacks, log_probability_of_feasibility
from paretune.optimizers._history import Observations
from paretune.optimizers._priors import DEFAULT_PIBO_BETA, pibo_exponent, prior_logpdf_many
from paretune.optimizers._ranking import normalize_objectives, order_best_first, scalar_losses
from paretune.optimizers._samplers import Config, Sampler, SampleRequest, pick_unseen

if TYPE_CHECKING:
    import torch

INACTIVE_VALUE = -0.5
"""GP input of an inactive parameter: outside [0, 1], so it never equals an active value."""

N_UNIFORM_CANDIDATES = 512
N_NEHVI_CANDIDATES = 256
N_LOCAL_PER_INCUMBENT = 24
N_INCUMBENTS = 5
LOCAL_SCALES = (0.02, 0.1)
NEHVI_MC_SAMPLES = 32


def gp_features(unit: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.where(np.isnan(unit), INACTIVE_VALUE, unit)


@contextmanager
def seeded_torch(rng: np.random.Generator) -> Iterator[None]:
    """Seed torch from ``rng`` inside a forked RNG state, on one thread; both restored on exit.

    GPs of a few hundred points gain nothing from intra-op threads, and on a loaded machine the
    thread pool made one fit up to 20 times slower (measured with torch 2.13 on 2 cores).
    """
    import torch

    seed = int(rng.integers(2**31 - 1))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        torch.set_num_threads(threads)


def fit_gp(features: NDArray[np.float64], targets: NDArray[np.float64]) -> Any:
    """Fit a SingleTaskGP (Matern 5/2, standardized outcome) by maximum marginal likelihood."""
    import torch
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms.outcome import Standardize
    from gpytorch.mlls import ExactMarginalLogLikelihood

    x = torch.as_tensor(features, dtype=torch.float64)
    y = torch.as_tensor(targets, dtype=torch.float64).reshape(len(features), -1)
    model = SingleTaskGP(x, y, outcome_transform=Standardize(m=y.shape[-1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    return model


def candidate_points(
    problem: Problem,
    observed: Observations,
    rng: np.random.Generator,
    *,
    use_priors: bool,
    n_uniform: int = N_UNIFORM_CANDIDATES,
) -> NDArray[np.float64]:
    """Draw raw candidates: uniform, from the prior, and around the best observed points."""
    space = problem.space
    d = len(space.hyperparameter_names)
    parts = [rng.random((N_UNIFORM_CANDIDATES, d))]
    if use_priors:
        prior = space.encode_many(
            space.sample_many(rng, N_UNIFORM_CANDIDATES // 4, from_prior=True)
        )
        parts.append(np.where(np.isnan(prior), rng.random(prior.shape), prior))
    for row in order_best_first(observed)[:N_INCUMBENTS]:
        centre = gp_features(observed.unit[row])
        for scale in LOCAL_SCALES:
            steps = rng.normal(0.0, scale, (N_LOCAL_PER_INCUMBENT // 2, d))
            local = np.clip(np.where(centre < 0, rng.random(d), centre) + steps, 0.0, 1.0)
            parts.append(local)
    return np.vstack(parts)


class GPSampler(Sampler):
    """Log expected improvement with a Gaussian process; random draws before ``n_min`` results.

    Example:
        >>> from paretune.optimizers import Problem
        >>> from paretune.space import Float, Space
        >>> from paretune.objectives import Objective
        >>> sampler = GPSampler(Problem(Space({"x": Float(0, 1)}), (Objective("loss"),)))
    """

    name = "gp"

    def __init__(
        self,
        problem: Problem,
        *,
        n_min: int | None = None,
        use_priors: bool = False,
        prior_beta: float = DEFAULT_PIBO_BETA,
    ) -> None:
        super().__init__(problem)
        d = len(problem.space.hyperparameter_names)
        self.n_min = n_min if n_min is not None else max(5, d + 1)
        self.use_priors = use_priors and problem.space.has_prior
        self.prior_beta = prior_beta

    def propose(self, request: SampleRequest) -> tuple[Config | None, dict[str, Any]]:
        observed = request.observed.subset(request.observed.finite)
        if len(observed) < self.n_min:
            return self.random(request, from_prior=self.use_priors)
        losses = scalar_losses(observed, request.rng)
        raw = candidate_points(self.problem, observed, request.rng, use_priors=self.use_priors)
        exponent = pibo_exponent(self.prior_beta, request.n_observed_total)
        with seeded_torch(request.rng):
            score = self._scorer(observed, losses, exponent)
            config = pick_unseen(self.problem.space, raw, score, request.seen)
        if config is None:
            return self.random(request)
        return config, {"sampler": "gp"}

    def _scorer(self, observed: Observations, losses: NDArray[np.float64], exponent: float) -> Any:
        import torch
        from botorch.acquisition.analytic import LogExpectedImprovement

        features = gp_features(observed.unit)
        model = fit_gp(features, -losses)
        feasible = observed.violation <= 0
        best = float((-losses[feasible]).max()) if feasible.any() else float((-losses).max())
        acquisition = LogExpectedImprovement(model, best_f=best)
        slack_models = self._slack_models(observed, features)

        def score(points: NDArray[np.float64]) -> NDArray[np.float64]:
            x = torch.as_tensor(gp_features(points), dtype=torch.float64)
            with torch.no_grad():
                values = acquisition(x.unsqueeze(1)).numpy().astype(float)
            values = values + _log_feasibility(slack_models, x)
            if self.use_priors:
                values = values + exponent * prior_logpdf_many(self.problem.space, points)
            return np.asarray(values, dtype=float)

        return score

    def _slack_models(self, observed: Observations, features: NDArray[np.float64]) -> list[Any]:
        models = []
        for constraint in self.problem.constraints:
            slack = constraint_slacks(observed.trials, constraint)
            known = np.isfinite(slack)
            if known.sum() >= 2:
                models.append(fit_gp(features[known], slack[known]))
        return models


def _log_feasibility(models: Sequence[Any], x: torch.Tensor) -> NDArray[np.float64]:
    if not models:
        return np.zeros(len(x))
    import torch

    means, sds = [], []
    with torch.no_grad():
        for model in models:
            posterior = model.posterior(x)
            means.append(posterior.mean.squeeze(-1).numpy())
            sds.append(posterior.variance.clamp_min(1e-12).sqrt().squeeze(-1).numpy())
    return log_probability_of_feasibility(np.column_stack(means), np.column_stack(sds))


def propose_nehvi(problem: Problem, request: SampleRequest) -> tuple[Config | None, dict[str, Any]]:
    """Return the candidate with the largest qLogNEHVI (q = 1), constraints as outcomes."""
    import torch
    from botorch.acquisition.multi_objective.logei import (
        qLogNoisyExpectedHypervolumeImprovement,
    )
    from botorch.acquisition.multi_objective.objective import IdentityMCMultiOutputObjective
    from botorch.sampling.normal import SobolQMCNormalSampler

    observed = request.observed.subset(request.observed.finite)
    n_objectives = observed.objectives.shape[1]
    targets = [-normalize_objectives(observed.objectives)]
    for constraint in problem.constraints:
        slack = constraint_slacks(observed.trials, constraint)
        targets.append(np.where(np.isfinite(slack), slack, -1.0)[:, None])
    features = gp_features(observed.unit)
    raw = candidate_points(
        problem, observed, request.rng, use_priors=False, n_uniform=N_NEHVI_CANDIDATES
    )
    with seeded_torch(request.rng):
        model = fit_gp(features, np.hstack(targets))
        seed = int(request.rng.integers(2**31 - 1))
        acquisition = qLogNoisyExpectedHypervolumeImprovement(
            model=model,
            ref_point=[-1.1] * n_objectives,
            X_baseline=torch.as_tensor(features, dtype=torch.float64),
            sampler=SobolQMCNormalSampler(sample_shape=torch.Size([NEHVI_MC_SAMPLES]), seed=seed),
            objective=IdentityMCMultiOutputObjective(outcomes=list(range(n_objectives))),
            constraints=_nehvi_constraints(n_objectives, len(problem.constraints)),
            prune_baseline=True,
        )

        def score(points: NDArray[np.float64]) -> NDArray[np.float64]:
            x = torch.as_tensor(gp_features(points), dtype=torch.float64).unsqueeze(1)
            with torch.no_grad():
                chunks = [acquisition(x[i : i + 128]) for i in range(0, len(x), 128)]
            return torch.cat(chunks).numpy().astype(float)

        config = pick_unseen(problem.space, raw, score, request.seen)
    return config, {"sampler": "qlognehvi"}


def _nehvi_constraints(n_objectives: int, n_constraints: int) -> list[Any] | None:
    if n_constraints == 0:
        return None
    # BoTorch treats an outcome <= 0 as feasible; a slack >= 0 is feasible, so negate it.
    return [(lambda samples, j=j: -samples[..., n_objectives + j]) for j in range(n_constraints)]
