"""Conditions: AND, OR, several clauses, nested inactivity, and validation by Space."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from paretune._errors import SpaceError
from paretune.space import Categorical, Constant, Fidelity, Float, Integer, Space


def test_or_of_values(conditional_space: Space) -> None:
    assert conditional_space.is_active("momentum", {"optimizer": "sgd", "use_wd": True})
    assert conditional_space.is_active("momentum", {"optimizer": "rmsprop", "use_wd": True})
    assert not conditional_space.is_active("momentum", {"optimizer": "adam", "use_wd": True})


def test_and_of_parents(conditional_space: Space) -> None:
    assert conditional_space.is_active("wd", {"optimizer": "sgd", "use_wd": True})
    assert not conditional_space.is_active("wd", {"optimizer": "sgd", "use_wd": False})
    assert not conditional_space.is_active("wd", {"optimizer": "adam", "use_wd": True})


def test_clauses_combined_with_or(conditional_space: Space) -> None:
    assert conditional_space.is_active("beta", {"optimizer": "adam", "use_wd": True})
    assert conditional_space.is_active("beta", {"optimizer": "sgd", "use_wd": False})
    assert not conditional_space.is_active("beta", {"optimizer": "sgd", "use_wd": True})


def test_inactive_parent_deactivates_child(conditional_space: Space) -> None:
    # dampening needs nesterov == False, and nesterov exists only for sgd.
    sgd = {"optimizer": "sgd", "use_wd": True, "nesterov": False}
    adam = {"optimizer": "adam", "use_wd": True, "nesterov": False}
    assert conditional_space.is_active("dampening", sgd)
    assert not conditional_space.is_active("nesterov", adam)
    assert not conditional_space.is_active("dampening", adam)


def test_active_names_in_space_order(conditional_space: Space) -> None:
    config = {"optimizer": "sgd", "use_wd": False, "nesterov": False}
    assert conditional_space.active_names(config) == [
        "optimizer",
        "use_wd",
        "momentum",
        "nesterov",
        "beta",
        "dampening",
    ]


def test_condition_values_match_type() -> None:
    space = Space(
        {
            "flag": Categorical([1, "x"]),
            "child": Float(0.0, 1.0, condition={"flag": 1}),
        }
    )
    assert space.is_active("child", {"flag": 1})
    assert not space.is_active("child", {"flag": "x"})
    assert not space.is_active("child", {"flag": 1.0})


def test_condition_on_integer_and_constant() -> None:
    space = Space(
        {
            "layers": Integer(1, 4),
            "mode": Constant("fast"),
            "width2": Integer(8, 64, condition={"layers": [2, 3, 4], "mode": "fast"}),
        }
    )
    assert space.is_active("width2", {"layers": 3, "mode": "fast"})
    assert not space.is_active("width2", {"layers": 1, "mode": "fast"})


def test_samples_respect_conditions(conditional_space: Space, rng: np.random.Generator) -> None:
    for config in conditional_space.sample_many(rng, 300):
        assert set(config) == set(conditional_space.active_names(config))
        assert conditional_space.validate_config(config) == config
    optimizers = {config["optimizer"] for config in conditional_space.sample_many(rng, 300)}
    assert optimizers == {"adam", "sgd", "rmsprop"}


def test_is_active_unknown_name(conditional_space: Space) -> None:
    with pytest.raises(SpaceError, match=r"'epochs' is not a hyperparameter"):
        conditional_space.is_active("epochs", {})


BAD_SPACES: list[tuple[str, Callable[[], Space], str]] = [
    (
        "unknown parent",
        lambda: Space({"lr": Float(0.0, 1.0, condition={"optimiser": "sgd"})}),
        r"condition of 'lr' refers to unknown parameter 'optimiser'",
    ),
    (
        "unknown parent close match",
        lambda: Space(
            {
                "optimizer": Categorical(["sgd"]),
                "lr": Float(0.0, 1.0, condition={"optimiser": "sgd"}),
            }
        ),
        r"did you mean 'optimizer'\?",
    ),
    (
        "condition on itself",
        lambda: Space({"a": Categorical(["x"], condition={"a": "x"})}),
        r"condition of 'a' refers to itself",
    ),
    (
        "two-parameter cycle",
        lambda: Space(
            {
                "a": Categorical(["x", "y"], condition={"b": "x"}),
                "b": Categorical(["x", "y"], condition={"a": "x"}),
            }
        ),
        r"conditions form a cycle: a -> b -> a",
    ),
    (
        "three-parameter cycle",
        lambda: Space(
            {
                "a": Categorical(["x"], condition={"c": "x"}),
                "b": Categorical(["x"], condition={"a": "x"}),
                "c": Categorical(["x"], condition=[{"b": "x"}]),
            }
        ),
        r"cycle: a -> c -> b -> a",
    ),
    (
        "value parent cannot take",
        lambda: Space(
            {
                "optimizer": Categorical(["adam", "sgd"]),
                "momentum": Float(0.0, 1.0, condition={"optimizer": "sdg"}),
            }
        ),
        r"condition of 'momentum' uses a value that 'optimizer' cannot take: 'sdg'",
    ),
    (
        "value of wrong type",
        lambda: Space(
            {
                "flag": Categorical([True, False]),
                "x": Float(0.0, 1.0, condition={"flag": 1}),
            }
        ),
        r"'flag' cannot take: 1 \(int\) is not one of the choices \[True, False\]",
    ),
    (
        "value outside integer bounds",
        lambda: Space(
            {
                "layers": Integer(1, 4),
                "x": Float(0.0, 1.0, condition={"layers": [2, 9]}),
            }
        ),
        r"'layers' cannot take: 9 \(int\) is outside the bounds \[1, 4\]",
    ),
    (
        "condition on fidelity",
        lambda: Space(
            {
                "epochs": Fidelity(1, 27),
                "x": Float(0.0, 1.0, condition={"epochs": 9}),
            }
        ),
        r"condition of 'x' refers to the fidelity 'epochs'",
    ),
    (
        "two fidelities",
        lambda: Space({"x": Float(0, 1), "a": Fidelity(1, 2), "b": Fidelity(1, 3)}),
        r"at most one fidelity, got \['a', 'b'\]",
    ),
    ("only fidelity", lambda: Space({"epochs": Fidelity(1, 27)}), r"at least one parameter"),
    ("empty space", lambda: Space({}), r"at least one parameter"),
    (
        "plain dict parameter",
        lambda: Space({"x": {"type": "float", "low": 0.0, "high": 1.0}}),  # type: ignore[dict-item]
        r"parameter 'x' must be a Float.*use Space\.from_dict",
    ),
    ("non-string name", lambda: Space({1: Float(0, 1)}), r"non-empty strings, got 1 \(int\)"),
    ("list of parameters", lambda: Space([Float(0, 1)]), r"mapping from name to parameter"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(
    ("build", "match"),
    [case[1:] for case in BAD_SPACES],
    ids=[case[0] for case in BAD_SPACES],
)
def test_bad_space_rejected(build: Callable[[], Space], match: str) -> None:
    with pytest.raises(SpaceError, match=match):
        build()


def test_parent_declared_after_child() -> None:
    space = Space(
        {
            "momentum": Float(0.0, 1.0, condition={"optimizer": "sgd"}),
            "optimizer": Categorical(["adam", "sgd"]),
        }
    )
    assert space.names == ["momentum", "optimizer"]
    assert space.decode(np.array([0.3, 0.9])) == {"momentum": 0.3, "optimizer": "sgd"}
    assert space.decode(np.array([0.3, 0.1])) == {"optimizer": "adam"}
