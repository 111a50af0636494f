"""Optimizers: ask/tell strategies, each a function of the trial history and the seed."""

from __future__ import annotations

from typing import Any

from paretune._errors import OptimizerError
from paretune.optimizers._auto import choose
from paretune.optimizers._base import Optimizer, Problem, Suggestion, sample_unseen, taken_keys
from paretune.optimizers._fidelity import Bracket, FidelityWarning, RungLadder
from paretune.optimizers._hyperband import (
    ASHA,
    BOHB,
    MOASHA,
    AsyncHyperband,
    Hyperband,
    MultiFidelitySearch,
    PriorBand,
    SuccessiveHalving,
)
from paretune.optimizers._model_based import GPSearch, ModelBasedSearch, TPESearch
from paretune.optimizers._multiobjective import EHVISearch, NSGA2Search
from paretune.optimizers._random import RandomSearch, SobolSearch

OPTIMIZERS: dict[str, type[Optimizer]] = {}


def register_optimizer(cls: type[Optimizer]) -> type[Optimizer]:
    """Add ``cls`` to the registry under ``cls.name`` (usable as a class decorator)."""
    OPTIMIZERS[cls.name] = cls
    return cls


for _cls in (
    RandomSearch,
    SobolSearch,
    TPESearch,
    GPSearch,
    NSGA2Search,
    EHVISearch,
    SuccessiveHalving,
    Hyperband,
    BOHB,
    ASHA,
    MOASHA,
    AsyncHyperband,
    PriorBand,
):
    register_optimizer(_cls)


def choose_optimizer(problem: Problem) -> tuple[str, dict[str, Any], str]:
    """Pick the optimizer for ``optimizer="auto"``; return its name, settings and the reason.

    The rules, first match wins (the reason names the rule and is logged and stored with the
    study):

    1. A fidelity, priors and a budget of at most 5 reference runs (``max_reference_runs``):
       "tpe" at full fidelity (draws from the prior, then TPE weighted by it), because such a
       budget buys only a few full trainings.
    2. A fidelity and several objectives: "mo_asha" (promotion by non-dominated sorting, TPE
       on random scalarizations for new configurations).
    3. A fidelity and priors: "priorband" (Hyperband with the PriorBand-style mix of prior,
       incumbent-local, uniform and TPE proposals).
    4. A fidelity: "async_hyperband" with TPE fitted on the highest rung with enough results.
       Rules 2-4 keep only the top three rungs of the ladder for budgets of at most 10
       reference runs. Otherwise, when the fidelity range is not a whole power of 3, they
       start the rungs at ``max / 3**s`` (the largest whole number ``s`` of steps that fits),
       so that every step is a factor 3: 2, 6, 18, 52 for the range 1 to 52.
    5. A finite space of at most 64 configurations: "random" (every configuration once).
    6. Several objectives: "ehvi" (qLogNEHVI) for max_trials <= 60 and at most 4 workers;
       "nsga2" for max_trials >= 1000; otherwise "tpe" on random ParEGO scalarizations.
    7. One objective, max_trials <= 100 and at most 4 workers: "gp" (log expected
       improvement, piBO-weighted with priors).
    8. Otherwise: "tpe" (piBO-weighted with priors).

    Example:
        >>> from paretune.objectives import Objective
        >>> from paretune.space import Fidelity, Float, Space
        >>> space = Space({"x": Float(0, 1), "epochs": Fidelity(1, 27)})
        >>> choose_optimizer(Problem(space, (Objective("loss"),)))[0]
        'async_hyperband'
    """
    return choose(problem)


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
        raise OptimizerError(
            f"invalid settings {settings!r} for optimizer {name!r}: {error}"
        ) from error


__all__ = [
    "ASHA",
    "BOHB",
    "MOASHA",
    "OPTIMIZERS",
    "AsyncHyperband",
    "Bracket",
    "EHVISearch",
    "FidelityWarning",
    "GPSearch",
    "Hyperband",
    "ModelBasedSearch",
    "MultiFidelitySearch",
    "NSGA2Search",
    "Optimizer",
    "PriorBand",
    "Problem",
    "RandomSearch",
    "RungLadder",
    "SobolSearch",
    "SuccessiveHalving",
    "Suggestion",
    "TPESearch",
    "choose_optimizer",
    "make_optimizer",
    "register_optimizer",
    "sample_unseen",
    "taken_keys",
]
