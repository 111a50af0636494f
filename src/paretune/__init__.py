"""paretune: joint, multi-objective optimization of deep-learning pipelines.

Example:
    >>> import paretune as pt
    >>> space = pt.Space({"x": pt.Float(-5.0, 5.0), "n": pt.Integer(1, 4)})
    >>> def evaluate(trial):
    ...     return {"loss": (trial.config["x"] - 1.0) ** 2 + trial.config["n"]}
    >>> study = pt.run(evaluate, space, objectives=["loss"], max_trials=10, executor="inline")
"""

from __future__ import annotations

import logging
from typing import Any

from paretune._errors import (
    BudgetError,
    DataError,
    ExecutorError,
    ObjectiveError,
    OptimizerError,
    ParetuneError,
    SpaceError,
    StorageError,
    StudyMismatchError,
)
from paretune.budget import Budget
from paretune.objectives import Constraint, Objective, hypervolume
from paretune.optimizers import Optimizer, Problem, Suggestion, register_optimizer
from paretune.space import Categorical, Constant, Fidelity, Float, Integer, Space
from paretune.study import Study, create_study, load_study, run
from paretune.trial import Trial, TrialRecord, TrialStatus

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

# Names whose modules import torch or plotly are loaded on first use, so ``import paretune``
# stays fast in worker processes and for users who only run the engine.
_LAZY = {
    "ParetuneClassifier": "paretune.pipelines",
    "report": "paretune.report",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'paretune' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)


__all__ = [
    "Budget",
    "BudgetError",
    "Categorical",
    "Constant",
    "Constraint",
    "DataError",
    "ExecutorError",
    "Fidelity",
    "Float",
    "Integer",
    "Objective",
    "ObjectiveError",
    "Optimizer",
    "OptimizerError",
    "ParetuneClassifier",
    "ParetuneError",
    "Problem",
    "Space",
    "SpaceError",
    "StorageError",
    "Study",
    "StudyMismatchError",
    "Suggestion",
    "Trial",
    "TrialRecord",
    "TrialStatus",
    "__version__",
    "create_study",
    "hypervolume",
    "load_study",
    "register_optimizer",
    "report",
    "run",
]
