"""Finite spaces: size and enumeration under conditions, and duplicate keys."""

from __future__ import annotations

import itertools
import math

import pytest

from paretune._errors import SpaceError
from paretune.space import Categorical, Constant, Fidelity, Float, Integer, Space


def _brute_force_size(space: Space) -> int:
    """Count distinct valid configurations by trying every combination of values."""
    grids = [
        [*space[name].grid(), "<absent>"]  # type: ignore[attr-defined]
        for name in space.hyperparameter_names
    ]
    keys = set()
    for values in itertools.product(*grids):
        config = {
            name: value
            for name, value in zip(space.hyperparameter_names, values, strict=True)
            if value != "<absent>"
        }
        try:
            keys.add(space.config_key(config))
        except SpaceError:
            continue
    return len(keys)


def test_three_booleans() -> None:
    space = Space({name: Categorical([True, False]) for name in ("a", "b", "c")})
    configs = list(space.enumerate())
    assert space.is_finite
    assert space.size == 8
    assert len(configs) == 8
    assert len({space.config_key(config) for config in configs}) == 8


def test_three_integers() -> None:
    space = Space({name: Integer(1, 3) for name in ("a", "b", "c")})
    configs = list(space.enumerate())
    assert space.size == 27
    assert configs[0] == {"a": 1, "b": 1, "c": 1}
    assert configs[1] == {"a": 1, "b": 1, "c": 2}
    assert configs[-1] == {"a": 3, "b": 3, "c": 3}
    assert all(type(value) is int for config in configs for value in config.values())


def test_enumerate_is_deterministic(conditional_space: Space) -> None:
    space = Space(
        {
            "optimizer": Categorical(["adam", "sgd"]),
            "nesterov": Categorical([True, False], condition={"optimizer": "sgd"}),
            "layers": Integer(1, 2),
        }
    )
    assert list(space.enumerate()) == list(space.enumerate())
    assert list(space.enumerate()) == [
        {"optimizer": "adam", "layers": 1},
        {"optimizer": "adam", "layers": 2},
        {"optimizer": "sgd", "nesterov": True, "layers": 1},
        {"optimizer": "sgd", "nesterov": True, "layers": 2},
        {"optimizer": "sgd", "nesterov": False, "layers": 1},
        {"optimizer": "sgd", "nesterov": False, "layers": 2},
    ]


def _finite_conditional_space(width: int = 5) -> Space:
    """Return a finite space with AND, OR, clauses and nesting; ``width`` sets integer ranges."""
    return Space(
        {
            "optimizer": Categorical(["adam", "sgd", "rmsprop"]),
            "use_wd": Categorical([True, False]),
            "momentum": Float(
                0.0, 0.9, step=0.9 / (width - 1), condition={"optimizer": ["sgd", "rmsprop"]}
            ),
            "nesterov": Categorical([True, False], condition={"optimizer": "sgd"}),
            "wd": Integer(1, 3, condition={"optimizer": "sgd", "use_wd": True}),
            "beta": Integer(1, 2, condition=[{"optimizer": "adam"}, {"use_wd": False}]),
            "dampening": Integer(1, width, condition={"nesterov": False}),
            "layers": Integer(1, width, condition={"wd": 2}),
            "seed": Constant(0),
            "epochs": Fidelity(1, 27),
        }
    )


def test_size_matches_enumerate_with_conditions() -> None:
    space = _finite_conditional_space()
    configs = list(space.enumerate())
    assert space.size == len(configs)
    assert len({space.config_key(config) for config in configs}) == len(configs)
    for config in configs:
        assert space.validate_config(config) == config
        assert "epochs" not in config


def test_size_matches_brute_force() -> None:
    space = _finite_conditional_space(width=2)
    assert space.size == _brute_force_size(space)


def test_size_of_wide_space_without_listing() -> None:
    space = Space(
        {
            "mode": Categorical(["a", "b"]),
            "x": Integer(1, 1_000_000, condition={"mode": "a"}),
            "y": Integer(1, 1_000_000),
            "z": Integer(1, 1_000_000, condition={"y": [1, 2]}),
        }
    )
    # mode a: x * (y in {1, 2} with z, plus the other y); mode b: the same without x.
    per_mode = 2 * 1_000_000 + (1_000_000 - 2)
    assert space.size == 1_000_000 * per_mode + per_mode


def test_continuous_space_size_infinite() -> None:
    space = Space({"x": Float(0.0, 1.0), "n": Integer(1, 3)})
    assert not space.is_finite
    assert space.size == math.inf
    with pytest.raises(SpaceError, match=r"continuous parameters \['x'\]"):
        space.enumerate()


def test_stepped_float_is_finite() -> None:
    space = Space({"x": Float(0.0, 1.0, step=0.25)})
    assert space.is_finite
    assert space.size == 5
    assert [config["x"] for config in space.enumerate()] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_fidelity_not_counted() -> None:
    space = Space({"c": Categorical(["a", "b", "c"]), "epochs": Fidelity(1, 27)})
    assert space.size == 3


def test_config_key_keeps_types() -> None:
    space = Space({"c": Categorical([1, 2.5, "1", None, False])})
    keys = {space.config_key({"c": value}) for value in (1, 2.5, "1", None, False)}
    assert len(keys) == 5


def test_config_key_canonical() -> None:
    space = Space({"a": Integer(1, 3), "b": Float(0.0, 1.0), "epochs": Fidelity(1, 9)})
    assert space.config_key({"b": 0.5, "a": 2}) == space.config_key({"a": 2, "b": 0.5})
    assert space.config_key({"a": 2, "b": 1}) == '{"a": 2, "b": 1.0}'
    assert space.config_key({"a": 2, "b": -0.0}) == space.config_key({"a": 2, "b": 0.0})
    assert space.config_key({"a": 2, "b": 0.5, "epochs": 3}) == '{"a": 2, "b": 0.5, "epochs": 3}'
