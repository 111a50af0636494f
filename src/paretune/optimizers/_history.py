"""Observations for models: finished trials as unit-cube points, objective values and violations."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from paretune.optimizers._base import Problem
from paretune.optimizers._constraints import violations
from paretune.space import Space
from paretune.trial import TrialRecord, TrialStatus

_FAILED = frozenset({TrialStatus.FAILED, TrialStatus.TIMEOUT})


@dataclass(frozen=True)
class Observations:
    """Finished trials of one fidelity, in a form models read.

    ``objectives`` is in minimization form with shape (n, n_objectives); rows of failed trials
    are +inf, so they rank last. ``violation`` is 0 for feasible rows and > 0 otherwise.
    """

    trials: tuple[TrialRecord, ...]
    unit: NDArray[np.float64]
    objectives: NDArray[np.float64]
    violation: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.trials)

    @property
    def finite(self) -> NDArray[np.bool_]:
        """Rows whose every objective is finite (completed trials)."""
        return np.asarray(np.all(np.isfinite(self.objectives), axis=1), dtype=bool)

    def subset(self, mask: NDArray[np.bool_]) -> Observations:
        trials = tuple(t for t, keep in zip(self.trials, mask, strict=True) if keep)
        return Observations(trials, self.unit[mask], self.objectives[mask], self.violation[mask])


class UnitCache:
    """Memoized ``Space.encode`` and config keys per trial id: a trial's configuration never
    changes.

    The cache only saves time; results are identical with an empty cache.
    """

    def __init__(self, space: Space) -> None:
        self.space = space
        self._unit: dict[int, NDArray[np.float64]] = {}
        self._key: dict[int, str] = {}

    def taken_keys(self, history: Sequence[TrialRecord]) -> set[str]:
        """Return ``taken_keys(space, history)``, memoizing each trial's config key."""
        keys = set()
        for trial in history:
            key = self._key.get(trial.id)
            if key is None:
                key = self.space.config_key(trial.config)
                self._key[trial.id] = key
            keys.add(key)
        return keys

    def unit(self, trial: TrialRecord) -> NDArray[np.float64]:
        cached = self._unit.get(trial.id)
        if cached is None:
            cached = self.space.encode(trial.config)
            self._unit[trial.id] = cached
        return cached


def is_observed(trial: TrialRecord) -> bool:
    """True for trials whose result a model can learn from: completed or failed."""
    return trial.status is TrialStatus.COMPLETED or trial.status in _FAILED


def objective_row(trial: TrialRecord, problem: Problem) -> list[float]:
    """Return the trial's objectives in minimization form; +inf when failed or not finite."""
    row = []
    for objective in problem.objectives:
        value = trial.value(objective.name) if trial.status is TrialStatus.COMPLETED else math.nan
        row.append(objective.sign * value if math.isfinite(value) else math.inf)
    return row


def observations(trials: Sequence[TrialRecord], problem: Problem, cache: UnitCache) -> Observations:
    """Stack the observed trials among ``trials`` (order kept)."""
    kept = tuple(t for t in trials if is_observed(t))
    d = len(problem.space.hyperparameter_names)
    unit = np.array([cache.unit(t) for t in kept], dtype=float).reshape(len(kept), d)
    values = np.array([objective_row(t, problem) for t in kept], dtype=float)
    values = values.reshape(len(kept), len(problem.objectives))
    violation = violations(kept, problem.constraints)
    return Observations(kept, unit, values, violation)


def observations_at(
    history: Sequence[TrialRecord],
    problem: Problem,
    cache: UnitCache,
    fidelity: int | float | None,
) -> Observations:
    """Return the observations at one fidelity (all of them when the space has none)."""
    if fidelity is None:
        return observations(history, problem, cache)
    target = float(fidelity)
    at_fidelity = [
        t
        for t in history
        if t.fidelity is not None and math.isclose(float(t.fidelity), target, rel_tol=1e-9)
    ]
    return observations(at_fidelity, problem, cache)
