"""Optimizers: ask/tell strategies, each a function of the trial history and the seed."""

from __future__ import annotations

from typing import Any

from paretune._errors import OptimizerError
from paretune.optimizers._base import Optimizer, Problem, Suggestion, sample_unseen, taken_keys
from paretune.optimizers._random import RandomSearch, SobolSearch

OPTIMIZERS: dict[str, type[Optimizer]] = {}


def register_optimizer(cls: type[Optimizer]) -> type[Optimizer]:
    """Add ``cls`` to the registry under ``cls.name`` (usable as a class decorator)."""
    OPTIMIZERS[cls.name] = cls
    return cls


for _cls in (RandomSearch, SobolSearch):
    register_optimizer(_cls)


def choose_optimizer(problem: Problem) -> tuple[str, dict[str, Any], str]:
    """Pick the optimizer for ``optimizer="auto"``; return its name, settings and the reason."""
    if problem.space.is_finite and problem.space.size <= 64:
        return "random", {}, "a finite space of at most 64 configurations: random order, no repeats"
    return "sobol", {}, "space-filling Sobol design"


def make_optimizer(
    name: str, problem: Problem, settings: dict[str, Any] | None = None
) -> tuple[Optimizer, str]:
    """Build optimizer ``name`` ("auto" resolves through ``choose_optimizer``).

    Returns the optimizer and the reason it was chosen (for "auto") or "requested by the user".
    """
    reason = "requested by the user"
    settings = dict(settings or {})
    if name == "auto":
        name, auto_settings, reason = choose_optimizer(problem)
        settings = {**auto_settings, **settings}
    cls = OPTIMIZERS.get(name)
    if cls is None:
        raise OptimizerError(
            f"unknown optimizer {name!r}: choose 'auto' or one of {sorted(OPTIMIZERS)}"
        )
    try:
        return cls(problem, **settings), reason
    except TypeError as error:
        raise OptimizerError(f"invalid settings {settings!r} for optimizer {name!r}: {error}") from error


__all__ = [
    "OPTIMIZERS",
    "Optimizer",
    "Problem",
    "RandomSearch",
    "SobolSearch",
    "Suggestion",
    "choose_optimizer",
    "make_optimizer",
    "register_optimizer",
    "sample_unseen",
    "taken_keys",
]
