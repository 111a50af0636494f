"""Random search (uniform or from the priors) and scrambled Sobol sequences."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from paretune._errors import OptimizerError
from paretune.optimizers._base import Optimizer, Problem, Suggestion, sample_unseen, taken_keys
from paretune.trial import TrialRecord


class RandomSearch(Optimizer):
    """Independent draws at the maximum fidelity, never repeating a configuration.

    Args:
        use_priors: Draw from the parameters' priors instead of uniformly (default: uniform).
    """

    name = "random"

    def __init__(self, problem: Problem, *, use_priors: bool = False) -> None:
        super().__init__(problem)
        self.use_priors = bool(use_priors)

    def ask(self, history: Sequence[TrialRecord], trial_id: int) -> Suggestion | None:
        space = self.problem.space
        seen = taken_keys(space, history)
        config = sample_unseen(space, self.rng(trial_id), seen, from_prior=self.use_priors)
        if config is None:
            return None
        return Suggestion(config, fidelity=self.max_fidelity)

    def settings(self) -> dict[str, Any]:
        return {"use_priors": self.use_priors}


class SobolSearch(Optimizer):
    """A scrambled Sobol sequence (low discrepancy), then random draws once it repeats.

    The n-th suggestion is the n-th point of one sequence fixed by the seed, so the design is the
    same after a resume. Points that round onto tried configurations (integers, categoricals) are
    skipped.

    Args:
        n_points: Length of the Sobol design; a power of two keeps its balance properties.
    """

    name = "sobol"

    def __init__(self, problem: Problem, *, n_points: int = 1024) -> None:
        super().__init__(problem)
        if n_points < 1:
            raise OptimizerError(f"n_points must be at least 1, got {n_points}")
        self.n_points = int(n_points)
        self._design: list[dict[str, Any]] | None = None

    def _points(self) -> list[dict[str, Any]]:
        if self._design is None:
            self._design = self.problem.space.sobol(self.n_points, seed=self.problem.seed)
        return self._design

    def ask(self, history: Sequence[TrialRecord], trial_id: int) -> Suggestion | None:
        space = self.problem.space
        seen = taken_keys(space, history)
        indices = [t.system_attrs.get("optimizer", {}).get("sobol_index") for t in history]
        start = max((i for i in indices if isinstance(i, int)), default=-1) + 1
        design = self._points()
        for index in range(start, len(design)):
            if space.config_key(design[index]) not in seen:
                return Suggestion(design[index], self.max_fidelity, info={"sobol_index": index})
        config = sample_unseen(space, self.rng(trial_id), seen)
        if config is None:
            return None
        return Suggestion(config, fidelity=self.max_fidelity)

    def settings(self) -> dict[str, Any]:
        return {"n_points": self.n_points}
