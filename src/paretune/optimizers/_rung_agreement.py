"""Rung agreement: the Spearman correlation between rungs, measured as results arrive.

Low fidelities can mislead (a learning rate that wins after one epoch may lose after fifty). For
each rung the correlation is measured between the losses of the configurations that also
reached a higher rung, which promotions provide for free. With few pairs the estimate is shrunk
toward 1 (full agreement), so one unlucky pair does not move the budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats

from paretune.optimizers._base import Problem
from paretune.optimizers._history import UnitCache, observations
from paretune.trial import TrialRecord

MIN_PAIRS = 5
"""Pairs needed before a correlation is measured."""

SHRINKAGE_PAIRS = 5.0
"""Weight, in pairs, of the assumption of full agreement."""


def rung_agreement(
    by_rung: Mapping[int, Sequence[TrialRecord]],
    problem: Problem,
    cache: UnitCache,
    top_rung: int,
) -> dict[int, float]:
    """Return the shrunk Spearman correlation of each rung with the highest rung it pairs with.

    Rungs without ``MIN_PAIRS`` configurations in common with a higher rung are left out.
    """
    losses = {rung: _loss_by_root(trials, problem, cache) for rung, trials in by_rung.items()}
    agreement: dict[int, float] = {}
    for rung in range(top_rung):
        low = losses.get(rung, {})
        for higher in range(top_rung, rung, -1):
            high = losses.get(higher, {})
            shared = sorted(set(low) & set(high))
            if len(shared) < MIN_PAIRS:
                continue
            agreement[rung] = _shrunk_spearman(
                np.array([low[k] for k in shared]), np.array([high[k] for k in shared])
            )
            break
    return agreement


def _shrunk_spearman(x: np.ndarray, y: np.ndarray) -> float:
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 1.0
    rho = float(stats.spearmanr(x, y).statistic)
    n = float(len(x))
    return (n * rho + SHRINKAGE_PAIRS) / (n + SHRINKAGE_PAIRS)


def _loss_by_root(
    trials: Sequence[TrialRecord], problem: Problem, cache: UnitCache
) -> dict[int, float]:
    """Map each configuration's first trial id (its lineage root) to its loss at this rung.

    A promoted trial's ``parent_id`` chain leads back to the trial that first ran the
    configuration, so the root id identifies a configuration across rungs.
    """
    observed = observations(trials, problem, cache)
    finite = observed.finite
    if not finite.any():
        return {}
    values = observed.objectives[finite]
    span = np.where(np.ptp(values, axis=0) > 0, np.ptp(values, axis=0), 1.0)
    loss = ((values - values.min(axis=0)) / span).sum(axis=1)
    kept = [t for t, keep in zip(observed.trials, finite, strict=True) if keep]
    return {lineage_root(t): float(v) for t, v in zip(kept, loss, strict=True)}


def lineage_root(trial: TrialRecord) -> int:
    """Return the id of the trial that first ran this configuration (itself without a parent)."""
    lineage = trial.system_attrs.get("optimizer", {}).get("root")
    return int(lineage) if isinstance(lineage, int) else trial.id
