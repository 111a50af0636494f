"""The ask/tell protocol: an optimizer is a function of the trial history and the seed."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from paretune.objectives import Constraint, Objective
from paretune.space import Space
from paretune.trial import TrialRecord


@dataclass(frozen=True)
class Problem:
    """The study as an optimizer receives it: space, objectives, seed and budget, no storage."""

    space: Space
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...] = ()
    seed: int = 0
    n_workers: int = 1
    max_trials: int | None = None
    max_fidelity_total: float | None = None
    max_reference_runs: float | None = None

    @property
    def is_multi_objective(self) -> bool:
        return len(self.objectives) > 1


@dataclass(frozen=True)
class Suggestion:
    """A configuration to evaluate at a fidelity, optionally continuing a parent trial.

    ``info`` is stored in the trial's ``system_attrs["optimizer"]`` (for example the bracket and
    rung of a multi-fidelity schedule), so the next ``ask`` can read it back from the history.
    """

    config: dict[str, Any]
    fidelity: int | float | None = None
    parent_id: int | None = None
    info: dict[str, Any] = field(default_factory=dict)


class Optimizer(abc.ABC):
    """Base class of every optimizer.

    ``ask`` receives the whole history (finished, running and interrupted trials, ordered by id)
    and the id the new trial will get. The optimizer keeps no state that the history and its seed
    do not determine, so a resumed or restarted study continues exactly where it was. ``ask``
    returns None when it has nothing to propose until running trials finish; when nothing is
    running either, the study ends with "search space exhausted".
    """

    name: ClassVar[str]

    def __init__(self, problem: Problem) -> None:
        self.problem = problem

    @abc.abstractmethod
    def ask(self, history: Sequence[TrialRecord], trial_id: int) -> Suggestion | None:
        """Propose the next trial."""

    def settings(self) -> dict[str, Any]:
        """Return the JSON-safe settings that rebuild this optimizer (stored with the study)."""
        return {}

    def rng(self, trial_id: int) -> np.random.Generator:
        """Return the generator for the suggestion of ``trial_id``: same seed, same stream."""
        return np.random.default_rng([self.problem.seed, trial_id])

    @property
    def max_fidelity(self) -> int | float | None:
        fidelity = self.problem.space.fidelity
        return None if fidelity is None else fidelity.high


class ConfigKeyIndex:
    """The config keys of a history, updated incrementally as the history grows.

    The study hands every ``ask`` the same list, ordered by id and only ever appended to, so only
    the new tail is read: O(new trials) per call instead of O(all trials). When the list is not an
    extension of the one seen before (another study, a restart), the index is rebuilt.
    """

    def __init__(self, space: Space) -> None:
        self.space = space
        self.keys: set[str] = set()
        self._seen_ids: list[int] = []

    def update(self, history: Sequence[TrialRecord]) -> set[str]:
        count = len(self._seen_ids)
        if len(history) < count or (count and history[count - 1].id != self._seen_ids[-1]):
            self.keys, self._seen_ids, count = set(), [], 0
        for trial in history[count:]:
            self.keys.add(self.space.config_key(trial.config))
            self._seen_ids.append(trial.id)
        return self.keys


def taken_keys(space: Space, history: Sequence[TrialRecord]) -> set[str]:
    """Return the config keys already tried, queued or in flight (failed ones count too)."""
    return {space.config_key(t.config) for t in history}


def sample_unseen(
    space: Space,
    rng: np.random.Generator,
    seen: set[str],
    *,
    from_prior: bool = False,
    tries: int = 64,
) -> dict[str, Any] | None:
    """Draw a configuration not in ``seen``; None when a finite space is exhausted.

    Random draws come first. When they keep hitting tried configurations of a finite space, the
    remaining ones are enumerated and one is drawn uniformly, so exhaustion is detected exactly.
    """
    if space.is_finite and len(seen) >= space.size:
        return None
    for _ in range(tries):
        config = space.sample(rng, from_prior=from_prior)
        if space.config_key(config) not in seen:
            return config
    if not space.is_finite:
        return config  # A continuous space: a repeated draw is vanishingly unlikely.
    remaining = [c for c in space.enumerate() if space.config_key(c) not in seen]
    if not remaining:
        return None
    return remaining[int(rng.integers(len(remaining)))]
