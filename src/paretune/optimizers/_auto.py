"""The rules of ``optimizer="auto"``; each returns the optimizer, its settings and the reason."""

from __future__ import annotations

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
                "uniform, TPE) in asynchronous Hyperband"
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
