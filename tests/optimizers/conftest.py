"""Factories for optimizer tests: problems, synthetic histories and cheap evaluations."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pytest

from paretune.objectives import Constraint, Objective
from paretune.optimizers import Problem
from paretune.space import Space
from paretune.trial import Trial, TrialRecord, TrialStatus


def make_problem(
    space: Space | Mapping[str, Any],
    objectives: tuple[str, ...] = ("loss",),
    constraints: tuple[Constraint, ...] = (),
    **options: Any,
) -> Problem:
    space = space if isinstance(space, Space) else Space(dict(space))
    return Problem(space, tuple(Objective(o) for o in objectives), constraints, **options)


def completed(
    trial_id: int,
    config: dict[str, Any],
    values: dict[str, float],
    *,
    fidelity: int | float | None = None,
    info: dict[str, Any] | None = None,
    parent_id: int | None = None,
) -> TrialRecord:
    return TrialRecord(
        id=trial_id,
        config=config,
        fidelity=fidelity,
        status=TrialStatus.COMPLETED,
        values=values,
        parent_id=parent_id,
        system_attrs={"optimizer": info} if info else {},
    )


def curve_loss(trial: Trial) -> dict[str, float]:
    """A learning-curve-like loss: better with more fidelity, best near x = 0.3."""
    x = float(trial.config["x"])
    fidelity = float(trial.fidelity or 1)
    return {"loss": (x - 0.3) ** 2 + 1.0 / fidelity}


def continue_from_parent(trial: Trial) -> dict[str, float]:
    """Load the parent's checkpoint (so only extra fidelity is charged), save one, return loss."""
    trial.load_parent_checkpoint()
    trial.save_checkpoint({"fidelity": trial.fidelity})
    return curve_loss(trial)


@pytest.fixture
def tmp_storage(tmp_path: Any) -> Any:
    return tmp_path / "study"


__all__ = ["completed", "continue_from_parent", "curve_loss", "make_problem", "math"]
