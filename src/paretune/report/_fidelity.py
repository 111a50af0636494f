"""Budget correlation: how well the ranking of configurations at a low fidelity predicts their
ranking at a higher one.

A configuration's value at a fidelity comes from a completed trial run to that fidelity, or
from a learning-curve point at that step when the curve reports the objective. For each pair of
fidelity levels, the Spearman rank correlation is taken over the configurations seen at both.
A correlation near 1 means cheap low-fidelity trials already rank configurations as the full
budget would, so multi-fidelity search is safe; a low one means early stopping may discard
configurations that would have won.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import spearmanr

from paretune.report._data import Unavailable
from paretune.trial import TrialRecord, TrialStatus

MIN_SHARED = 3
"""Minimum number of configurations seen at both fidelities for a correlation to be computed."""
MAX_LEVELS = 6


@dataclass(frozen=True)
class BudgetCorrelation:
    """Spearman correlations between fidelity levels for one objective.

    ``correlation[a, b]`` is NaN where fewer than ``MIN_SHARED`` configurations were seen at
    both levels; ``shared[a, b]`` counts those configurations.
    """

    objective: str
    levels: list[float]
    correlation: NDArray[np.float64]
    shared: NDArray[np.int64]


def values_by_fidelity(
    trials: Sequence[TrialRecord], objective: str
) -> dict[float, dict[str, float]]:
    """Map each fidelity level to the objective value of every configuration seen there."""
    table: dict[float, dict[str, float]] = defaultdict(dict)
    for trial in trials:
        key = json.dumps(trial.config, sort_keys=True, default=str)
        for step, metrics in trial.learning_curve:
            value = metrics.get(objective)
            if value is not None and math.isfinite(value):
                table[float(step)][key] = float(value)
        if trial.status is TrialStatus.COMPLETED and trial.fidelity is not None:
            value = trial.value(objective)
            if math.isfinite(value):
                table[float(trial.fidelity)][key] = value
    return table


def budget_correlation(
    trials: Sequence[TrialRecord], objective: str
) -> BudgetCorrelation | Unavailable:
    """Compute rank correlations of ``objective`` across fidelity levels."""
    table = values_by_fidelity(trials, objective)
    levels = sorted(level for level, seen in table.items() if len(seen) >= MIN_SHARED)
    if len(levels) < 2:
        return Unavailable(
            f"a budget correlation needs {objective} of at least {MIN_SHARED} configurations "
            "at two or more fidelities (final values or learning-curve points); "
            f"the study has {len(levels)} such fidelity level(s)"
        )
    levels = _spread(levels)
    size = len(levels)
    correlation = np.full((size, size), np.nan)
    shared = np.zeros((size, size), dtype=np.int64)
    for a in range(size):
        for b in range(size):
            common = sorted(set(table[levels[a]]) & set(table[levels[b]]))
            shared[a, b] = len(common)
            correlation[a, b] = _spearman(
                [table[levels[a]][k] for k in common], [table[levels[b]][k] for k in common]
            )
    return BudgetCorrelation(objective, levels, correlation, shared)


def _spread(levels: list[float]) -> list[float]:
    """Keep at most ``MAX_LEVELS`` levels spread evenly by rank, the lowest and highest included."""
    if len(levels) <= MAX_LEVELS:
        return levels
    picks = np.unique(np.round(np.linspace(0, len(levels) - 1, MAX_LEVELS)).astype(int))
    return [levels[i] for i in picks]


def _spearman(first: list[float], second: list[float]) -> float:
    if len(first) < MIN_SHARED or np.ptp(first) == 0.0 or np.ptp(second) == 0.0:
        return math.nan
    return float(spearmanr(first, second).statistic)
