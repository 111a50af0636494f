"""Random search (uniform or from the priors) and scrambled Sobol sequences."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from paretune._errors import OptimizerError
from paretune.optimizers._base import ConfigKeyIndex, Optimizer, Problem, Suggestion, sample_unseen
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
        self._keys = ConfigKeyIndex(problem.space)

    def ask(self, history: Sequence[TrialRecord], trial_id: int) -> Suggestion | None:
        space = self.problem.space
        rng = self.rng(trial_id)
        if not space.is_finite:
            # A repeated draw from a space with a continuous parameter has probability zero.
            return Suggestion(space.sample(rng, from_prior=self.use_priors), self.max_fidelity)
        seen = self._keys.update(history)
        config = sample_unseen(space, rng, seen, from_prior=self.use_priors)
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
        self._keys = ConfigKeyIndex(problem.space)
        self._next_index = _NextSobolIndex()

    def _points(self) -> list[dict[str, Any]]:
        if self._design is None:
            self._design = self.problem.space.sobol(self.n_points, seed=self.problem.seed)
        return self._design

    def ask(self, history: Sequence[TrialRecord], trial_id: int) -> Suggestion | None:
        space = self.problem.space
        seen = self._keys.update(history)
        start = self._next_index.update(history)
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


class _NextSobolIndex:
    """The index after the largest ``sobol_index`` in a growing history, read incrementally."""

    def __init__(self) -> None:
        self.next_index = 0
        self._seen_ids: list[int] = []

    def update(self, history: Sequence[TrialRecord]) -> int:
        count = len(self._seen_ids)
        if len(history) < count or (count and history[count - 1].id != self._seen_ids[-1]):
            self.next_index, self._seen_ids, count = 0, [], 0
        for trial in history[count:]:
            index = trial.system_attrs.get("optimizer", {}).get("sobol_index")
            if isinstance(index, int):
                self.next_index = max(self.next_index, index + 1)
            self._seen_ids.append(trial.id)
        return self.next_index
