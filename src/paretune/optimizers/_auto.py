"""The rules of ``optimizer="auto"``; each returns the optimizer, its settings and the reason."""

from __future__ import annotations

import math
from typing import Any

from paretune.optimizers._base import Problem

SMALL_FINITE_SPACE = 64
"""Finite spaces up to this size are enumerated in random order."""

GP_MAX_TRIALS = 100
"""Up to this many trials (and few workers) a Gaussian process is worth its overhead."""

EHVI_MAX_TRIALS = 60
"""qLogNEHVI's cost grows with the Pareto front: up to this many trials."""

NSGA2_MIN_TRIALS = 1000
"""From this many trials of a cheap multi-objective problem NSGA-II has generations to use."""

GP_MAX_WORKERS = 4

SHORT_LADDER_REFERENCE_RUNS = 10
"""Up to this many reference runs of budget, multi-fidelity schedules use a short ladder."""

SHORT_LADDER_RUNGS = 3
"""Rungs kept for such budgets: for 27 epochs and eta 3, rungs at 3, 9 and 27."""

PRIOR_SAMPLING_REFERENCE_RUNS = 5
"""Up to this many reference runs, a space with priors is searched at full fidelity only."""

AUTO_ETA = 3
"""The reduction factor of the schedules that ``auto`` picks (their default)."""

Choice = tuple[str, dict[str, Any], str]


def choose(problem: Problem) -> Choice:
    """Apply the rules in order; see ``paretune.optimizers.choose_optimizer``."""
    space = problem.space
    budget = problem.max_trials
    if space.fidelity is not None:
        return _choose_multi_fidelity(problem)
    if space.is_finite and space.size <= SMALL_FINITE_SPACE:
        return (
            "random",
            {},
            (
                f"a finite space of {space.size:g} configurations (at most {SMALL_FINITE_SPACE}): "
                "random order, no repeats"
            ),
        )
    if problem.is_multi_objective:
        return _choose_multi_objective(problem)
    small = budget is not None and budget <= GP_MAX_TRIALS
    if small and problem.n_workers <= GP_MAX_WORKERS:
        priors = " weighted by the priors (piBO)" if space.has_prior else ""
        return (
            "gp",
            {},
            (
                f"no fidelity and a small budget (max_trials={budget} <= {GP_MAX_TRIALS}): "
                f"Gaussian-process BO with log expected improvement{priors}"
            ),
        )
    priors = " weighted by the priors (piBO)" if space.has_prior else ""
    return "tpe", {}, f"no fidelity and a large or open budget: TPE{priors}, fast per suggestion"


def _choose_multi_fidelity(problem: Problem) -> Choice:
    runs = problem.max_reference_runs
    if problem.space.has_prior and runs is not None and runs <= PRIOR_SAMPLING_REFERENCE_RUNS:
        return _prior_sampling(runs)
    name, settings, reason = _multi_fidelity_schedule(problem)
    short = _short_ladder(problem)
    aligned = _aligned_minimum(problem)
    if short is not None:
        settings = {**settings, "min_fidelity": short}
        reason += (
            f"; a budget of {problem.max_reference_runs:g} reference runs starts rungs at "
            f"{short:g} so that several trials can reach full fidelity"
        )
    elif aligned is not None:
        settings = {**settings, "min_fidelity": aligned}
        reason += (
            f"; rungs start at {aligned:g} so that each step is a factor {AUTO_ETA} up to the "
            "maximum fidelity"
        )
    return name, settings, reason


def _prior_sampling(runs: float) -> Choice:
    """Return TPE at full fidelity, which starts with draws from the expert prior.

    A budget of a few reference runs pays for only a few full trainings. A ladder spends much
    of it on short trials, and in the built-in pipeline it finished only one or two models.
    Draws from the prior cost about as much as the default configuration. So most of the
    budget buys full models near a configuration that is known to work. TPE weighted by the
    prior (piBO) takes over once it has enough results.
    """
    return (
        "tpe",
        {},
        (
            f"a fidelity, expert priors and a budget of {runs:g} reference runs (at most "
            f"{PRIOR_SAMPLING_REFERENCE_RUNS}): full-fidelity trials drawn from the prior (TPE's "
            "startup phase; TPE weighted by the priors takes over once it has enough results), so "
            "the budget buys finished models"
        ),
    )


def _short_ladder(problem: Problem) -> int | float | None:
    """Return a raised minimum fidelity for budgets of a few reference runs, or None.

    A Hyperband ladder from 1 to 27 epochs needs about four reference runs per bracket before a
    single model reaches full fidelity, and short trials also pay fixed costs (data loading,
    scoring) that the fidelity does not count. With at most ``SHORT_LADDER_REFERENCE_RUNS``
    reference runs, the ladder keeps its top ``SHORT_LADDER_RUNGS`` rungs only.
    """
    fidelity = problem.space.fidelity
    runs = problem.max_reference_runs
    if fidelity is None or runs is None or runs > SHORT_LADDER_REFERENCE_RUNS:
        return None
    low = float(fidelity.high) / float(AUTO_ETA) ** (SHORT_LADDER_RUNGS - 1)
    if low <= float(fidelity.low):
        return None
    if isinstance(fidelity.high, int):
        return max(1, round(low))
    return low


def _aligned_minimum(problem: Problem) -> int | float | None:
    """Return ``max / eta**s`` when it lies above the minimum fidelity, or None.

    ``s = floor(log_eta(max / min))`` is the number of whole steps of ``eta`` that fit. With
    the range 1 to 52 the ladder from the minimum would be 1, 3, 9, 27, 52, whose last step is
    a factor 1.9 only, and one more bracket of 1-epoch trials. Starting at 52 / 27 (rounded
    to 2 for an integer fidelity) gives 2, 6, 18, 52, the ladder that the rung-range warning
    recommends. On the LCBench suite it ranked better than the ladder from 1 (see
    docs/benchmarks.md).
    """
    fidelity = problem.space.fidelity
    if fidelity is None:
        return None
    low, high = float(fidelity.low), float(fidelity.high)
    steps = math.floor(math.log(high / low) / math.log(AUTO_ETA) + 1e-9)
    if steps < 1:
        return None
    aligned = high / float(AUTO_ETA) ** steps
    if isinstance(fidelity.high, int):
        rounded = math.floor(aligned + 0.5)
        return rounded if rounded > low else None
    return aligned if aligned > low * (1 + 1e-9) else None


def _multi_fidelity_schedule(problem: Problem) -> Choice:
    if problem.is_multi_objective:
        return (
            "mo_asha",
            {"sampler": "tpe"},
            (
                "a fidelity and several objectives: multi-objective ASHA (non-dominated sorting) "
                "with TPE on random scalarizations"
            ),
        )
    if problem.space.has_prior:
        return (
            "priorband",
            {},
            (
                "a fidelity and expert priors: PriorBand-style sampling (prior, incumbent-local, "
                "uniform, TPE) in Hyperband"
            ),
        )
    return (
        "async_hyperband",
        {},
        (
            "a fidelity without priors: asynchronous Hyperband with TPE on the highest rung with "
            "enough results"
        ),
    )


def _choose_multi_objective(problem: Problem) -> Choice:
    budget = problem.max_trials
    if budget is not None and budget <= EHVI_MAX_TRIALS and problem.n_workers <= GP_MAX_WORKERS:
        return (
            "ehvi",
            {},
            (
                f"several objectives, no fidelity and a small budget (max_trials={budget} <= "
                f"{EHVI_MAX_TRIALS}): qLogNEHVI with Gaussian processes"
            ),
        )
    if budget is not None and budget >= NSGA2_MIN_TRIALS:
        return (
            "nsga2",
            {},
            (
                f"several objectives and a large budget (max_trials={budget} >= "
                f"{NSGA2_MIN_TRIALS}): NSGA-II"
            ),
        )
    return "tpe", {}, "several objectives: TPE on random ParEGO scalarizations"
