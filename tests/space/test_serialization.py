"""Dictionaries, JSON and YAML: exact round trips, the hand-written schema, error messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from paretune._errors import SpaceError
from paretune.space import (
    Categorical,
    Constant,
    Fidelity,
    Float,
    Integer,
    Space,
    config_from_json,
    config_to_json,
)

USER_YAML = """\
lr: {type: float, low: 1.0e-5, high: 1.0e-1, log: true, prior: 1.0e-3, confidence: medium}
layers: {type: integer, low: 1, high: 8}
act: {type: categorical, choices: [relu, gelu]}
momentum: {type: float, low: 0.0, high: 0.99, condition: {optimizer: sgd}}
optimizer: {type: categorical, choices: [adam, sgd]}
epochs: {type: fidelity, low: 1, high: 27}
seed_const: {type: constant, value: 3}
"""


def _tricky_space() -> Space:
    return Space(
        {
            "c": Categorical([2.0, 3, "3", None, True], prior=2.0, confidence=0.3),
            "k": Constant(1.0),
            "flag": Constant(True, condition={"c": [2.0, 3]}),
            "x": Float(
                0, 1, step=0.25, prior=0.5, confidence="high", condition=[{"c": None}, {"c": True}]
            ),
            "n": Integer(1, 64, log=True, prior=8, confidence=0.0),
            "epochs": Fidelity(1.0, 27.0, log=False),
        }
    )


def test_user_yaml_schema() -> None:
    space = Space.from_yaml(USER_YAML)
    assert space == Space(
        {
            "lr": Float(1e-5, 1e-1, log=True, prior=1e-3, confidence="medium"),
            "layers": Integer(1, 8),
            "act": Categorical(["relu", "gelu"]),
            "momentum": Float(0.0, 0.99, condition={"optimizer": "sgd"}),
            "optimizer": Categorical(["adam", "sgd"]),
            "epochs": Fidelity(1, 27),
            "seed_const": Constant(3),
        }
    )
    assert space.fidelity_name == "epochs"
    assert space.fidelity == Fidelity(1, 27)
    assert space.names[-1] == "seed_const"
    assert "epochs" not in space.hyperparameter_names


def test_yaml_from_file(tmp_path: Path) -> None:
    path = tmp_path / "space.yaml"
    path.write_text(USER_YAML, encoding="utf-8")
    assert Space.from_yaml(path) == Space.from_yaml(USER_YAML)
    assert Space.from_yaml(str(path)) == Space.from_yaml(USER_YAML)


def test_yaml_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpaceError, match=r"cannot read the space file .*missing\.yaml"):
        Space.from_yaml(tmp_path / "missing.yaml")


@pytest.mark.parametrize("make", [lambda: Space.from_yaml(USER_YAML), _tricky_space])
def test_round_trips_exact(make: Any) -> None:
    space = make()
    assert Space.from_dict(space.to_dict()) == space
    assert Space.from_json(space.to_json()) == space
    assert Space.from_yaml(space.to_yaml()) == space
    assert hash(Space.from_json(space.to_json())) == hash(space)


def test_round_trip_keeps_choice_types() -> None:
    loaded = Space.from_json(_tricky_space().to_json())
    choices = loaded["c"].choices  # type: ignore[attr-defined]
    assert [type(choice) for choice in choices] == [float, int, str, type(None), bool]
    assert type(loaded["c"].prior) is float  # type: ignore[attr-defined]
    assert type(loaded["k"].value) is float  # type: ignore[attr-defined]
    assert type(loaded["epochs"].low) is float  # type: ignore[attr-defined]
    assert loaded["c"].confidence == 0.3  # type: ignore[attr-defined]


def test_round_trip_survives_lossy_json_reader() -> None:
    """Tagged floats survive a reader that parses 2.0 as the integer 2, as JavaScript does."""
    space = _tricky_space()

    def lossy_float(text: str) -> float | int:
        number = float(text)
        return int(number) if number.is_integer() else number

    loaded = json.loads(space.to_json(), parse_float=lossy_float)
    assert Space.from_dict(loaded) == space


def test_to_dict_is_json_safe_and_tagged() -> None:
    data = _tricky_space().to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert data["c"]["choices"] == [{"float": 2.0}, 3, "3", None, True]
    assert data["k"] == {"type": "constant", "value": {"float": 1.0}}
    assert data["flag"]["condition"] == {"c": [{"float": 2.0}, 3]}
    assert data["x"]["condition"] == [{"c": None}, {"c": True}]
    assert data["epochs"] == {
        "type": "fidelity",
        "low": {"float": 1.0},
        "high": {"float": 27.0},
        "log": False,
    }


def test_to_yaml_is_readable() -> None:
    text = Space({"layers": Integer(1, 8), "lr": Float(1e-5, 1e-1, log=True)}).to_yaml()
    assert text == (
        "layers: {type: integer, low: 1, high: 8}\n"
        "lr: {type: float, low: 1.0e-05, high: 0.1, log: true}\n"
    )


def test_equality_depends_on_order() -> None:
    first = Space({"a": Integer(1, 2), "b": Integer(1, 2)})
    second = Space({"b": Integer(1, 2), "a": Integer(1, 2)})
    assert first != second
    assert first == Space({"a": Integer(1, 2), "b": Integer(1, 2)})
    assert first != Space({"a": Integer(1, 2), "b": Integer(1, 3)})
    assert len({first, Space({"a": Integer(1, 2), "b": Integer(1, 2)})}) == 1


def test_space_mapping_protocol() -> None:
    space = Space.from_yaml(USER_YAML)
    assert len(space) == 7
    assert list(space) == space.names
    assert space["layers"] == Integer(1, 8)
    assert "lr" in space
    assert "nope" not in space
    assert dict(space.parameters) == {name: space[name] for name in space}
    with pytest.raises(TypeError):
        space.parameters["x"] = Integer(1, 2)  # type: ignore[index]


BAD_ENTRIES: list[tuple[str, str, str]] = [
    (
        "unknown key",
        "lr: {type: float, low: 0.0, high: 1.0, prio: 0.5}",
        r"parameter 'lr': unknown key 'prio' for type 'float'; did you mean 'prior'\? "
        r"allowed keys: \['type', 'low', 'high', 'log', 'step', 'prior', 'confidence', "
        r"'condition'\]",
    ),
    (
        "range key",
        "n: {type: integer, range: [1, 10]}",
        r"parameter 'n': unknown key 'range'.*allowed keys: \['type', 'low', 'high'",
    ),
    (
        "low as list",
        "n: {type: integer, low: [1, 10], high: 20}",
        r"parameter 'n': .*range given as a list",
    ),
    ("missing high", "n: {type: integer, low: 1}", r"parameter 'n': missing key 'high'"),
    (
        "unknown type",
        "n: {type: int, low: 1, high: 2}",
        r"parameter 'n': unknown type 'int'; use one of \['float', 'integer'",
    ),
    ("missing type", "n: {low: 1, high: 2}", r"parameter 'n': unknown type None"),
    ("not a mapping", "n: 3", r"parameter 'n': expected a mapping"),
    (
        "integer float bounds",
        "n: {type: integer, low: 0.5, high: 1.5}",
        r"parameter 'n': Integer\(0\.5, 1\.5\): bounds of an Integer must be ints",
    ),
    (
        "yaml exponent string",
        "lr: {type: float, low: 1e-5, high: 1.0e-1}",
        r"parameter 'lr': low is the string '1e-5'.*write 1\.0e-5",
    ),
    (
        "prior outside",
        "lr: {type: float, low: 1.0e-5, high: 1.0e-1, log: true, prior: 1.0}",
        r"parameter 'lr': .*invalid prior: 1\.0 is outside the bounds",
    ),
    (
        "log zero",
        "lr: {type: float, low: 0.0, high: 1.0, log: true}",
        r"parameter 'lr': .*log scale needs bounds > 0",
    ),
    (
        "zero spread",
        "x: {type: float, low: 0.0, high: 1.0, prior: 0.5, confidence: 1.0}",
        r"parameter 'x': .*zero spread",
    ),
    (
        "fidelity prior",
        "epochs: {type: fidelity, low: 1, high: 27, prior: 9}",
        r"parameter 'epochs': Fidelity takes no prior",
    ),
    (
        "fidelity condition",
        "epochs: {type: fidelity, low: 1, high: 27, condition: {a: 1}}",
        r"parameter 'epochs': Fidelity takes no condition",
    ),
    (
        "fidelity typo",
        "epochs: {type: fidelity, low: 1, hihg: 27}",
        r"unknown key 'hihg'.*allowed keys: \['type', 'low', 'high', 'log'\]",
    ),
    (
        "duplicate choices",
        "c: {type: categorical, choices: [1, 1.0]}",
        r"parameter 'c': .*duplicate choices 1 and 1\.0",
    ),
    ("constant key", "k: {type: constant, choices: [1]}", r"parameter 'k': unknown key 'choices'"),
    (
        "unknown parent",
        "x: {type: float, low: 0.0, high: 1.0, condition: {opt: sgd}}",
        r"condition of 'x' refers to unknown parameter 'opt'",
    ),
    ("top-level list", "- a\n- b", r"space must be a mapping from parameter name"),
    ("invalid yaml", "a: {type: float", r"invalid YAML"),
]


@pytest.mark.parametrize(
    ("text", "match"),
    [case[1:] for case in BAD_ENTRIES],
    ids=[case[0] for case in BAD_ENTRIES],
)
def test_bad_yaml_rejected(text: str, match: str) -> None:
    with pytest.raises(SpaceError, match=match):
        Space.from_yaml(text)


def test_bad_json_rejected() -> None:
    with pytest.raises(SpaceError, match=r"invalid JSON"):
        Space.from_json("{not json")


def test_from_dict_non_string_name() -> None:
    with pytest.raises(SpaceError, match=r"parameter names must be strings"):
        Space.from_dict({1: {"type": "integer", "low": 1, "high": 2}})  # type: ignore[dict-item]


def test_config_json_round_trip_types() -> None:
    config = {
        "a": 1,
        "b": 1.0,
        "c": True,
        "d": None,
        "e": "1",
        "f": np.int64(4),
        "g": np.float32(0.5),
    }
    loaded = config_from_json(config_to_json(config))
    assert loaded == {"a": 1, "b": 1.0, "c": True, "d": None, "e": "1", "f": 4, "g": 0.5}
    assert [type(value) for value in loaded.values()] == [
        int,
        float,
        bool,
        type(None),
        str,
        int,
        float,
    ]


def test_config_json_rejects_non_finite() -> None:
    with pytest.raises(SpaceError, match=r"'x': inf is not finite"):
        config_to_json({"x": float("inf")})


def test_config_json_rejects_non_object() -> None:
    with pytest.raises(SpaceError, match=r"must be a JSON object, got list"):
        config_from_json("[1, 2]")
