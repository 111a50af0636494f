"""Objectives, constraints and Pareto utilities."""

from __future__ import annotations

import math

import numpy as np
import pytest

from paretune import Constraint, Objective, ObjectiveError
from paretune.objectives import (
    as_objectives,
    best_trial,
    crowding_distance,
    hypervolume,
    infer_reference_point,
    minimization_matrix,
    non_dominated_mask,
    non_dominated_ranks,
    pareto_front,
)
from paretune.trial import TrialStatus
from tests.conftest import make_trial


@pytest.mark.parametrize(
    ("text", "name", "direction"),
    [("loss", "loss", "minimize"), ("acc:max", "acc", "maximize"), ("err:min", "err", "minimize")],
)
def test_objective_parse(text: str, name: str, direction: str) -> None:
    objective = Objective.parse(text)
    assert (objective.name, objective.direction) == (name, direction)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Objective("loss", "lowest"), "invalid direction 'lowest'"),
        (lambda: Objective("my loss"), "invalid objective name 'my loss'"),
        (lambda: Objective("loss", reference=math.nan), "is not finite"),
        (lambda: Constraint("lat"), "has no bound"),
        (lambda: Constraint("lat", upper=1, lower=2), "lower=2 > upper=1"),
        (lambda: Constraint.parse("lat < 1"), "write NAME<=VALUE or NAME>=VALUE"),
        (lambda: Constraint.parse("lat<=fast"), "invalid bound 'fast' in constraint"),
        (lambda: as_objectives([]), "no objective given"),
        (lambda: as_objectives(["a", "a:max"]), r"repeated: \['a'\]"),
    ],
)
def test_invalid_definitions(build, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ObjectiveError, match=message):
        build()


def test_constraint_parse_and_violation() -> None:
    upper = Constraint.parse("latency_ms<=1")
    lower = Constraint.parse("x>=5")
    assert upper == Constraint("latency_ms", upper=1.0)
    assert upper.violation(0.5) == 0.0
    assert upper.violation(1.5) == 0.5
    assert lower.violation(-10) == 15.0
    assert lower.violation(math.nan) == math.inf


def test_pareto_front_ignores_failed_and_infeasible() -> None:
    objectives = (Objective("f1"), Objective("f2"))
    trials = [
        make_trial(1, {"f1": 1.0, "f2": 3.0, "c": 0.0}),
        make_trial(2, {"f1": 2.0, "f2": 2.0, "c": 0.0}),
        make_trial(3, {"f1": 3.0, "f2": 3.0, "c": 0.0}),
        make_trial(4, {"f1": 0.0, "f2": 0.0, "c": 5.0}),
        make_trial(5, {"f1": -1.0, "f2": -1.0}, status=TrialStatus.FAILED),
        make_trial(6, {"f1": 2.0, "f2": 2.0, "c": 0.0}),
    ]
    front = pareto_front(trials, objectives, [Constraint("c", upper=1.0)])
    assert [t.id for t in front] == [1, 2, 6]


def test_maximized_objective_flips_sign() -> None:
    objectives = (Objective("acc", "maximize"), Objective("latency"))
    trials = [
        make_trial(1, {"acc": 0.9, "latency": 2.0}),
        make_trial(2, {"acc": 0.8, "latency": 3.0}),
    ]
    assert [t.id for t in pareto_front(trials, objectives)] == [1]
    np.testing.assert_array_equal(minimization_matrix(trials, objectives)[0], [-0.9, 2.0])


def test_best_trial_prefers_lower_id_on_ties() -> None:
    trials = [
        make_trial(1, {"loss": 0.3}),
        make_trial(2, {"loss": 0.1}),
        make_trial(3, {"loss": 0.1}),
    ]
    best = best_trial(trials, Objective("loss"))
    assert best is not None and best.id == 2


def test_non_dominated_sorting_ranks() -> None:
    points = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0], [4.0, 4.0], [1.0, 2.0]])
    np.testing.assert_array_equal(non_dominated_ranks(points), [0, 0, 1, 2, 0])
    np.testing.assert_array_equal(non_dominated_mask(points), [True, True, False, False, True])


def test_crowding_distance_boundaries_are_infinite() -> None:
    points = np.array([[0.0, 4.0], [1.0, 2.0], [2.0, 1.0], [4.0, 0.0]])
    distance = crowding_distance(points)
    assert math.isinf(distance[0]) and math.isinf(distance[3])
    assert distance[1] == pytest.approx((2.0 - 0.0) / 4 + (4.0 - 1.0) / 4)


def test_hypervolume_two_and_three_objectives() -> None:
    assert hypervolume(np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([3.0, 3.0])) == 3.0
    cube = np.array([[0.0, 0.0, 0.0]])
    assert hypervolume(cube, np.array([1.0, 2.0, 3.0])) == pytest.approx(6.0)
    # A point outside the reference box contributes nothing.
    assert hypervolume(np.array([[4.0, 0.0]]), np.array([3.0, 3.0])) == 0.0


def test_reference_point_signs_follow_directions() -> None:
    objectives = (Objective("acc", "maximize"), Objective("loss"), Objective("lat", reference=10.0))
    points = np.array([[-0.9, 1.0, 2.0], [-0.5, 3.0, 4.0]])
    reference = infer_reference_point(points, objectives)
    assert reference[0] == pytest.approx(-0.5 + 0.04)
    assert reference[1] == pytest.approx(3.0 + 0.2)
    assert reference[2] == 10.0
