"""Rung and bracket arithmetic (cases C23, C26, C27)."""

from __future__ import annotations

import pytest

import paretune as pt
from paretune.optimizers import FidelityWarning, RungLadder, make_optimizer

from .conftest import make_problem

# Li et al. (2018), Hyperband, Table of Algorithm 1 for R = 81, eta = 3 (n_i per rung per bracket).
HYPERBAND_R81 = [
    (4, (81, 27, 9, 3, 1)),
    (3, (34, 11, 3, 1)),
    (2, (15, 5, 1)),
    (1, (8, 2)),
    (0, (5,)),
]
HYPERBAND_R27 = [(3, (27, 9, 3, 1)), (2, (12, 4, 1)), (1, (6, 2)), (0, (4,))]


@pytest.mark.parametrize(
    ("high", "table", "rungs"),
    [(27, HYPERBAND_R27, (1, 3, 9, 27)), (81, HYPERBAND_R81, (1, 3, 9, 27, 81))],
    ids=["R27", "R81"],
)
def test_brackets_match_hyperband_table(high: int, table: list, rungs: tuple) -> None:
    ladder = RungLadder.build(1, high, eta=3)
    assert ladder.rungs == rungs
    assert [(b.s, b.n_configs) for b in ladder.brackets()] == table


def test_bracket_base_rungs() -> None:
    brackets = RungLadder.build(1, 27, eta=3).brackets()
    assert [b.base_rung for b in brackets] == [0, 1, 2, 3]


def test_integer_rungs_are_ints() -> None:
    rungs = RungLadder.build(1, 8, eta=2).rungs
    assert rungs == (1, 2, 4, 8)
    assert all(type(r) is int for r in rungs)


def test_rounding_rule_integer_eta_float() -> None:
    """A float eta on an int fidelity rounds each rung to the nearest int, halves up."""
    with pytest.warns(FidelityWarning, match="only 4 rungs fit"):
        ladder = RungLadder.build(2, 20, eta=2.5)
    assert ladder.rungs == (2, 5, 13, 20)  # 2 * 2.5**2 = 12.5 rounds up to 13


def test_float_range_first_and_last_rung_exact() -> None:
    """Case C27: the first rung is exactly the minimum and the last exactly the maximum."""
    ladder = RungLadder.build(2.469, 600, eta=3)
    assert ladder.rungs[0] == 2.469
    assert ladder.rungs[-1] == 600
    assert len(ladder.rungs) == 6
    assert ladder.rungs[1] == pytest.approx(7.407)


def test_partial_range_warns_and_uses_endpoints() -> None:
    """Case C26: [80, 200] with eta 3 fits only two rungs."""
    with pytest.warns(FidelityWarning, match="only 2 rungs fit"):
        ladder = RungLadder.build(80, 200, eta=3)
    assert ladder.rungs == (80, 200)


def test_budget_short_of_one_bracket_warns() -> None:
    space = {"x": pt.Float(0, 1), "epochs": pt.Fidelity(0.1, 100)}
    problem = make_problem(space, max_trials=50)
    with pytest.warns(FidelityWarning, match="cannot finish one bracket"):
        make_optimizer("hyperband", problem)


@pytest.mark.parametrize(
    ("low", "high", "eta", "message"),
    [
        (0, 27, 3, "minimum fidelity must be > 0"),
        (1, 27, 1, "eta must be > 1"),
        (1, 27, 0.5, "eta must be > 1"),
        (5, 5, 3, "must be below the maximum"),
        (9, 3, 3, "must be below the maximum"),
    ],
    ids=["min-zero", "eta-one", "eta-below-one", "min-equals-max", "min-above-max"],
)
def test_invalid_ladder_raises(low: float, high: float, eta: float, message: str) -> None:
    with pytest.raises(pt.OptimizerError, match=message):
        RungLadder.build(low, high, eta=eta)


@pytest.mark.parametrize("name", ["asha", "hyperband", "async_hyperband", "priorband"])
def test_invalid_eta_raises_at_construction(name: str) -> None:
    problem = make_problem({"x": pt.Float(0, 1), "epochs": pt.Fidelity(1, 27)})
    with pytest.raises(pt.OptimizerError, match="eta must be > 1, got 1"):
        make_optimizer(name, problem, {"eta": 1})


def test_space_rejects_zero_and_equal_fidelity() -> None:
    with pytest.raises(pt.SpaceError, match="minimum fidelity must be > 0"):
        pt.Fidelity(0, 10)
    with pytest.raises(pt.SpaceError, match="low equals high"):
        pt.Fidelity(5, 5)


def test_min_fidelity_setting_equal_to_max_raises() -> None:
    problem = make_problem({"x": pt.Float(0, 1), "epochs": pt.Fidelity(1, 27)})
    with pytest.raises(pt.OptimizerError, match="below the maximum"):
        make_optimizer("asha", problem, {"min_fidelity": 27})


def test_schedule_without_fidelity_raises() -> None:
    with pytest.raises(pt.OptimizerError, match="needs a Fidelity"):
        make_optimizer("asha", make_problem({"x": pt.Float(0, 1)}))


def test_integer_rounding_not_warned(recwarn: pytest.WarningsRecorder) -> None:
    """2, 6, 18, 52 is as close to steps of 3 as integers get; 1, 3, 9, 27, 52 is not."""
    assert RungLadder.build(2, 52, eta=3).rungs == (2, 6, 18, 52)
    assert not [w for w in recwarn if issubclass(w.category, FidelityWarning)]
    with pytest.warns(FidelityWarning, match="only 5 rungs fit"):
        RungLadder.build(1, 52, eta=3)


def test_partial_range_warning_names_the_minimum() -> None:
    with pytest.warns(FidelityWarning, match=r"optimizer_settings=\{'min_fidelity': 2\}"):
        RungLadder.build(1, 52, eta=3)
    with pytest.warns(FidelityWarning, match="Choose the maximum 81"):
        RungLadder.build(1, 100, eta=3)


def test_fractional_minimum_of_integer_fidelity_raises() -> None:
    problem = make_problem({"x": pt.Float(0, 1), "epochs": pt.Fidelity(1, 52)})
    with pytest.raises(pt.OptimizerError, match=r"invalid min_fidelity 1\.9259.*use 2"):
        make_optimizer("priorband", problem, {"min_fidelity": 1.9259})
