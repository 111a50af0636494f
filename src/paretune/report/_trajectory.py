"""The search trajectory: the best feasible value, or the hypervolume of the feasible Pareto
front, after each finished trial, against cumulative cost and wall time."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from paretune.objectives import (
    hypervolume,
    infer_reference_point,
    minimization_matrix,
    non_dominated_mask,
)
from paretune.report._data import ReportData, Unavailable
from paretune.trial import TrialRecord


@dataclass(frozen=True)
class Trajectory:
    """One point per finished trial, in the order the trials finished.

    Attributes:
        trial_ids: The trial that finished at each point.
        cost: Cumulative cost (seconds unless the evaluation set ``trial.cost``).
        wall: Seconds from the first trial's start to this trial's end.
        value: Best feasible value so far (one objective) or the hypervolume so far (several);
            NaN before the first feasible trial.
        label: What ``value`` measures, for the axis title.
        reference_value: The same measure for the default configuration alone, or None.
        reference_point: The hypervolume reference point in minimization form, or None.
    """

    trial_ids: list[int]
    cost: NDArray[np.float64]
    wall: NDArray[np.float64]
    value: NDArray[np.float64]
    label: str
    reference_value: float | None
    reference_point: NDArray[np.float64] | None


def finished_in_order(data: ReportData) -> list[TrialRecord]:
    finished = [t for t in data.trials if t.status.is_finished and t.finished_at is not None]
    return sorted(finished, key=lambda t: (t.finished_at or 0.0, t.id))


def compute_trajectory(data: ReportData) -> Trajectory | Unavailable:
    """Compute the trajectory, or say why there is none."""
    order = finished_in_order(data)
    if not order:
        return Unavailable("no trial has finished, so there is no trajectory")
    starts = [t.started_at or t.created_at for t in data.trials]
    origin = min((s for s in starts if s is not None), default=order[0].finished_at or 0.0)
    cost = np.cumsum([t.cost or 0.0 for t in order])
    wall = np.array([(t.finished_at or origin) - origin for t in order])
    if len(data.objectives) == 1:
        value, label, reference = _best_so_far(data, order)
        point = None
    else:
        value, label, reference, point = _hypervolume_so_far(data, order)
    return Trajectory([t.id for t in order], cost, wall, value, label, reference, point)


def _best_so_far(
    data: ReportData, order: list[TrialRecord]
) -> tuple[NDArray[np.float64], str, float | None]:
    objective = data.objectives[0]
    best = math.nan
    values = np.empty(len(order))
    for i, trial in enumerate(order):
        if data.is_feasible(trial):
            candidate = trial.value(objective.name)
            if math.isnan(best) or objective.sign * candidate < objective.sign * best:
                best = candidate
        values[i] = best
    reference = data.reference
    default = None
    if reference is not None and math.isfinite(reference.value(objective.name)):
        default = reference.value(objective.name)
    return values, f"best {objective.name} so far ({objective.direction})", default


def _hypervolume_so_far(
    data: ReportData, order: list[TrialRecord]
) -> tuple[NDArray[np.float64], str, float | None, NDArray[np.float64] | None]:
    feasible = [t for t in order if data.is_feasible(t)]
    values = np.full(len(order), math.nan)
    if not feasible:
        return values, "hypervolume of the feasible front", None, None
    all_points = minimization_matrix(feasible, data.objectives)
    reference_point = infer_reference_point(all_points, data.objectives)
    front = np.zeros((0, len(data.objectives)))
    current = math.nan
    for i, trial in enumerate(order):
        if data.is_feasible(trial):
            point = minimization_matrix([trial], data.objectives)
            # Recompute only when the new point enters the front, which keeps 1,000 trials fast.
            if not len(front) or not _dominated(point[0], front):
                front = np.vstack([front, point])
                front = front[non_dominated_mask(front)]
                current = hypervolume(front, reference_point)
        values[i] = current
    default = None
    reference = data.reference
    if reference is not None and data.is_feasible(reference):
        default = hypervolume(minimization_matrix([reference], data.objectives), reference_point)
    return values, "hypervolume of the feasible front", default, reference_point


def _dominated(point: NDArray[np.float64], front: NDArray[np.float64]) -> bool:
    return bool(np.any(np.all(front <= point, axis=1) & np.any(front < point, axis=1)))
