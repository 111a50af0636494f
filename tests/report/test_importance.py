"""fANOVA on the random-forest surrogate, local importance and budget correlation."""

from __future__ import annotations

import math

import numpy as np
import pytest

import paretune as pt
from paretune.report._data import Unavailable
from paretune.report._fidelity import BudgetCorrelation, budget_correlation
from paretune.report._importance import Importance, compute_importance
from paretune.trial import TrialRecord, TrialStatus

from .conftest import uniform_rng

SPACE = pt.Space({"a": pt.Float(0.0, 1.0), "b": pt.Float(0.0, 1.0), "c": pt.Float(0.0, 1.0)})


def records(function: object, n: int = 300) -> list[TrialRecord]:
    rng = uniform_rng()
    points = rng.random((n, 3))
    return [
        TrialRecord(
            id=i + 1,
            config={"a": float(a), "b": float(b), "c": float(c)},
            status=TrialStatus.COMPLETED,
            values={"y": float(function(a, b, c))},  # type: ignore[operator]
        )
        for i, (a, b, c) in enumerate(points)
    ]


def importance_of(function: object, local: dict[str, float] | None = None) -> Importance:
    anchor = None if local is None else (1, local, None)
    result = compute_importance(SPACE, records(function), "y", local_config=anchor, seed=0)
    assert isinstance(result, Importance)
    return result


def test_additive_function_main_effects() -> None:
    """For y = 10a + b the variance shares are 100/101 and 1/101; c explains nothing."""
    result = importance_of(lambda a, b, c: 10 * a + b)
    assert result.fraction_of("a") == pytest.approx(100 / 101, abs=0.06)
    assert result.fraction_of("b") == pytest.approx(1 / 101, abs=0.03)
    assert (result.fraction_of("c") or 0.0) < 0.03
    assert result.interactions < 0.08


def test_pure_interaction_has_small_main_effects() -> None:
    result = importance_of(lambda a, b, c: (a - 0.5) * (b - 0.5))
    assert result.interactions > 0.6
    assert max(result.main_effects) < 0.2


def test_local_importance_around_point() -> None:
    """Around a = 0.9, y = a * b depends on b strongly; b's local share exceeds c's."""
    result = importance_of(lambda a, b, c: a * b, local={"a": 0.9, "b": 0.5, "c": 0.5})
    assert result.local is not None
    names = [f.name for f in result.features]
    assert result.local[names.index("b")] > 0.3
    assert result.local[names.index("c")] < 0.1
    assert result.local.sum() == pytest.approx(1.0)


def test_partial_dependence_follows_function() -> None:
    result = importance_of(lambda a, b, c: 10 * a)
    dependence = result.partial_dependence[0]
    assert dependence.feature.name == "a"
    assert dependence.mean[-1] - dependence.mean[0] > 7.0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1.0] * 3, "needs at least 6 completed trials"),
        ([2.0] * 10, "have the same y"),
    ],
    ids=["too-few", "constant-target"],
)
def test_importance_unavailable(values: list[float], message: str) -> None:
    trials = [
        TrialRecord(
            id=i + 1,
            config={"a": i / 10, "b": 0.5, "c": 0.5},
            status=TrialStatus.COMPLETED,
            values={"y": v},
        )
        for i, v in enumerate(values)
    ]
    result = compute_importance(SPACE, trials, "y", local_config=None, seed=0)
    assert isinstance(result, Unavailable)
    assert message in result.reason


def curve_trial(trial_id: int, quality: float, steps: list[int]) -> TrialRecord:
    curve = [(float(s), {"error": quality + 1.0 / s}) for s in steps]
    return TrialRecord(
        id=trial_id,
        config={"q": quality},
        fidelity=steps[-1],
        status=TrialStatus.COMPLETED,
        values={"error": curve[-1][1]["error"]},
        learning_curve=curve,
    )


def test_budget_correlation_preserved_ranking() -> None:
    trials = [curve_trial(i, q, [1, 3, 9]) for i, q in enumerate([0.1, 0.4, 0.2, 0.3], start=1)]
    result = budget_correlation(trials, "error")
    assert isinstance(result, BudgetCorrelation)
    assert result.levels == [1.0, 3.0, 9.0]
    assert np.allclose(result.correlation, 1.0)
    assert result.shared[0, 2] == 4


def test_budget_correlation_needs_two_levels() -> None:
    trials = [curve_trial(i, q, [9]) for i, q in enumerate([0.1, 0.4, 0.2], start=1)]
    result = budget_correlation(trials, "error")
    assert isinstance(result, Unavailable)
    assert "at two or more fidelities" in result.reason


def test_budget_correlation_nan_when_too_few_shared() -> None:
    trials = [
        curve_trial(1, 0.1, [1, 3]),
        curve_trial(2, 0.2, [1, 3]),
        curve_trial(3, 0.3, [1, 3]),
        curve_trial(4, 0.4, [1]),
        curve_trial(5, 0.5, [9]),
        curve_trial(6, 0.6, [9]),
        curve_trial(7, 0.7, [9]),
    ]
    result = budget_correlation(trials, "error")
    assert isinstance(result, BudgetCorrelation)
    assert math.isnan(result.correlation[0, 2])
    assert result.correlation[0, 1] == pytest.approx(1.0)
