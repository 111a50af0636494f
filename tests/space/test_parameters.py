"""Parameter construction: valid definitions, rejected definitions and their messages."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from paretune._errors import SpaceError
from paretune.space import Categorical, Constant, Fidelity, Float, Integer, Parameter, Space

BAD_PARAMETERS: list[tuple[str, Callable[[], object], str]] = [
    # Bounds.
    ("integer range as list", lambda: Integer([1, 10]), r"range given as a list \[1, 10\]"),
    ("integer range as tuple", lambda: Integer((1, 10)), r"Integer\(1, 10\)"),
    ("float range as list", lambda: Float([0.0, 1.0]), r"pass low and high as"),
    ("list low with high", lambda: Integer([1, 10], 20), r"range given as a list"),
    ("integer float bounds", lambda: Integer(0.5, 1.5), r"Integer\(0\.5, 1\.5\).*must be ints"),
    ("integer integral float", lambda: Integer(1, 8.0), r"high=8\.0 \(float\)"),
    ("integer bool bound", lambda: Integer(False, 3), r"low=False \(bool\)"),
    ("float string bound", lambda: Float("0", 1.0), r"low must be a finite number"),
    ("float bool bound", lambda: Float(True, 2.0), r"low must be a finite number"),
    ("float infinite bound", lambda: Float(0.0, math.inf), r"high must be a finite number"),
    ("float nan bound", lambda: Float(math.nan, 1.0), r"low must be a finite number"),
    ("low above high", lambda: Float(2.0, 1.0), r"low 2\.0 must be < high 1\.0; swap"),
    ("integer low above high", lambda: Integer(9, 3), r"low 9 must be < high 3"),
    ("low equals high", lambda: Integer(3, 3), r"use Constant\(3\)"),
    ("float low equals high", lambda: Float(0.5, 0.5), r"use Constant\(0\.5\)"),
    # Log scale.
    ("log with zero low", lambda: Float(0.0, 1.0, log=True), r"log scale needs bounds > 0"),
    ("log with negative low", lambda: Float(-1.0, 1.0, log=True), r"low=-1\.0"),
    ("integer log zero", lambda: Integer(0, 10, log=True), r"use a low such as 1 "),
    ("log not bool", lambda: Float(1.0, 2.0, log="yes"), r"log must be True or False"),
    # Step.
    ("zero step", lambda: Float(0.0, 1.0, step=0.0), r"step must be a finite number > 0"),
    ("negative step", lambda: Float(0.0, 1.0, step=-0.1), r"got -0\.1"),
    ("step not dividing", lambda: Float(0.0, 1.0, step=0.3), r"does not divide.*high=0\.9"),
    ("step wider than range", lambda: Float(0.0, 1.0, step=2.0), r"does not divide"),
    ("step with log", lambda: Float(1.0, 2.0, log=True, step=0.5), r"cannot be combined"),
    # Priors and confidence.
    (
        "prior outside log bounds",
        lambda: Float(1e-5, 1e-1, log=True, prior=1.0),
        r"Float\(1e-05, 0\.1\): invalid prior: 1\.0 is outside the bounds \[1e-05, 0\.1\]",
    ),
    ("prior below bounds", lambda: Integer(1, 8, prior=0), r"invalid prior: 0 \(int\) is outside"),
    ("integer prior not int", lambda: Integer(1, 8, prior=2.5), r"2\.5 \(float\) is not an int"),
    ("prior off step grid", lambda: Float(0.0, 1.0, step=0.5, prior=0.3), r"not on the grid"),
    ("prior zero spread", lambda: Float(0.0, 1.0, prior=0.5, confidence=1.0), r"zero spread"),
    ("confidence above one", lambda: Integer(1, 8, prior=3, confidence=2), r"outside \[0, 1\)"),
    ("negative confidence", lambda: Float(0.0, 1.0, confidence=-0.1), r"outside \[0, 1\)"),
    ("unknown confidence", lambda: Float(0.0, 1.0, confidence="certain"), r"unknown confidence"),
    ("bool confidence", lambda: Float(0.0, 1.0, confidence=True), r"confidence must be one of"),
    ("categorical bad prior", lambda: Categorical(["a"], prior="b"), r"'b' \(str\) is not one"),
    (
        "categorical prior wrong type",
        lambda: Categorical(["a", 1.0], prior=1),
        r"1 \(int\) is not one of the choices.*1\.0 \(float\) is a different type",
    ),
    # Choices.
    ("empty choices", lambda: Categorical([]), r"choices are empty"),
    ("string choices", lambda: Categorical("abc"), r"choices must be a list"),
    ("set choices", lambda: Categorical({"a", "b"}), r"choices must be a list"),
    ("duplicate strings", lambda: Categorical(["a", "a"]), r"duplicate choices 'a' and 'a'"),
    ("int and float dup", lambda: Categorical([1, 1.0]), r"1, 1\.0 and True count as duplicates"),
    ("int and bool dup", lambda: Categorical([1, True]), r"duplicate choices 1 and True"),
    ("nan choice", lambda: Categorical([0.5, math.nan]), r"NaN is not a valid value"),
    ("list choice", lambda: Categorical([[1, 2]]), r"is not a valid value"),
    ("constant nan", lambda: Constant(math.inf), r"inf is not a valid value"),
    # Fidelity.
    ("fidelity prior", lambda: Fidelity(1, 27, prior=9), r"Fidelity takes no prior"),
    ("fidelity condition", lambda: Fidelity(1, 27, condition={"a": 1}), r"takes no condition"),
    ("fidelity zero minimum", lambda: Fidelity(0, 27), r"minimum fidelity must be > 0, got 0"),
    ("fidelity equal bounds", lambda: Fidelity(5, 5), r"use Constant"),
    ("fidelity range as list", lambda: Fidelity([1, 27]), r"range given as a list"),
    # Conditions.
    ("empty condition", lambda: Float(0.0, 1.0, condition={}), r"invalid condition clause"),
    ("empty clause list", lambda: Float(0.0, 1.0, condition=[]), r"invalid condition"),
    ("empty value list", lambda: Float(0.0, 1.0, condition={"a": []}), r"lists no values"),
    ("condition on nan", lambda: Float(0.0, 1.0, condition={"a": math.nan}), r"not finite"),
    ("condition string", lambda: Float(0.0, 1.0, condition="a"), r"invalid condition 'a'"),
]


@pytest.mark.parametrize(
    ("build", "match"),
    [case[1:] for case in BAD_PARAMETERS],
    ids=[case[0] for case in BAD_PARAMETERS],
)
def test_bad_parameter_rejected(build: Callable[[], object], match: str) -> None:
    with pytest.raises(SpaceError, match=match):
        build()


def test_prior_exactly_on_bound_valid() -> None:
    """Case C16: a prior on the upper bound is valid."""
    parameter = Float(1e-5, 1e-1, log=True, prior=1e-1)
    assert parameter.prior == 1e-1


def test_float_bounds_become_floats() -> None:
    parameter = Float(0, 1, prior=1)
    assert type(parameter.low) is float
    assert type(parameter.high) is float
    assert type(parameter.prior) is float


def test_integer_accepts_numpy_bounds() -> None:
    parameter = Integer(np.int64(1), np.int32(8), prior=np.int64(3))
    assert type(parameter.low) is int
    assert type(parameter.high) is int
    assert type(parameter.prior) is int


def test_fidelity_type_follows_bounds() -> None:
    assert Fidelity(1, 27).is_integer
    assert type(Fidelity(1, 27).low) is int
    assert not Fidelity(0.1, 100).is_integer
    assert type(Fidelity(0.1, 100).high) is float
    assert Fidelity(1, 27).log
    assert not Fidelity(1, 27, log=False).log


def test_categorical_keeps_choice_types() -> None:
    parameter = Categorical(["a", 2, 2.5, True, None, np.int64(7)])
    assert [type(choice) for choice in parameter.choices] == [
        str,
        int,
        float,
        bool,
        type(None),
        int,
    ]


@pytest.mark.parametrize(
    ("confidence", "sd"),
    [("low", 0.5), ("medium", 0.25), ("high", 0.125), (0.0, 0.5), (0.5, 0.25), (0.75, 0.125)],
)
def test_confidence_maps_to_unit_sd(confidence: str | float, sd: float) -> None:
    from paretune.space._priors import unit_sd

    assert unit_sd(Float(0.0, 1.0, prior=0.5, confidence=confidence).confidence) == sd


@pytest.mark.parametrize(
    ("confidence", "weight"),
    [("low", 0.5), ("medium", 0.75), ("high", 0.9), (0.0, 0.25), (0.6, 0.7)],
)
def test_categorical_prior_weight(confidence: str | float, weight: float, rng) -> None:
    parameter = Categorical(["a", "b", "c", "d"], prior="b", confidence=confidence)
    space = Space({"x": parameter})
    draws = [config["x"] for config in space.sample_many(rng, 20000, from_prior=True)]
    share = draws.count("b") / len(draws)
    assert share == pytest.approx(weight, abs=0.015)
    others = [draws.count(choice) / len(draws) for choice in ("a", "c", "d")]
    assert others == pytest.approx([(1 - weight) / 3] * 3, abs=0.015)


def test_parameters_compare_by_type() -> None:
    assert Categorical([1, "a"]) != Categorical([True, "a"])
    assert Categorical([1.0, "a"]) != Categorical([1, "a"])
    assert Constant(1) != Constant(1.0)
    assert Constant(1) != Constant(True)
    assert Float(0, 1) == Float(0.0, 1.0)
    assert Float(0.0, 1.0) != Integer(0, 1)
    assert Float(0.0, 1.0, condition={"a": 1}) == Float(0.0, 1.0, condition={"a": [1]})
    assert Float(0.0, 1.0, condition={"a": 1}) != Float(0.0, 1.0, condition={"a": True})
    assert hash(Categorical(["a", 1])) == hash(Categorical(["a", 1]))


def test_parameters_are_frozen() -> None:
    parameter = Float(0.0, 1.0)
    with pytest.raises(AttributeError):
        parameter.low = 0.5  # type: ignore[misc]


def test_parameter_is_base_class() -> None:
    for parameter in (Float(0, 1), Integer(0, 1), Categorical(["a"]), Constant(1), Fidelity(1, 2)):
        assert isinstance(parameter, Parameter)
