"""Configuration validation: normalization, and messages that name each bad key and the fix."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from paretune._errors import SpaceError
from paretune.space import Categorical, Constant, Fidelity, Float, Integer, Space


@pytest.fixture
def space() -> Space:
    return Space(
        {
            "lr": Float(1e-5, 1e-1, log=True),
            "dropout": Float(0.0, 0.5, step=0.1),
            "layers": Integer(1, 8),
            "act": Categorical(["relu", "gelu", 1]),
            "optimizer": Categorical(["adam", "sgd"]),
            "momentum": Float(0.0, 0.99, condition={"optimizer": "sgd"}),
            "seed": Constant(3),
            "epochs": Fidelity(1, 27),
        }
    )


VALID = {"lr": 1e-3, "dropout": 0.2, "layers": 2, "act": "relu", "optimizer": "adam", "seed": 3}


def test_valid_config_normalized(space: Space) -> None:
    config = {
        "seed": 3,
        "lr": np.float64(1e-3),
        "dropout": 0.30000000000000004,
        "layers": np.int64(2),
        "act": np.str_("gelu"),
        "optimizer": "sgd",
        "momentum": 0,
    }
    normalized = space.validate_config(config)
    assert normalized == {
        "lr": 1e-3,
        "dropout": 0.3,
        "layers": 2,
        "act": "gelu",
        "optimizer": "sgd",
        "momentum": 0.0,
        "seed": 3,
    }
    assert list(normalized) == space.hyperparameter_names
    assert type(normalized["lr"]) is float
    assert type(normalized["layers"]) is int
    assert type(normalized["act"]) is str
    assert type(normalized["momentum"]) is float
    assert repr(normalized["dropout"]) == "0.3"


def test_validate_returns_copy(space: Space) -> None:
    config = dict(VALID)
    normalized = space.validate_config(config)
    normalized["layers"] = 5
    assert config["layers"] == 2


def test_integral_float_becomes_int(space: Space) -> None:
    assert space.validate_config({**VALID, "layers": 3.0})["layers"] == 3
    assert type(space.validate_config({**VALID, "layers": 3.0})["layers"]) is int


def test_bound_within_tolerance_snaps(space: Space) -> None:
    assert space.validate_config({**VALID, "lr": 0.1 * (1 + 1e-15)})["lr"] == 0.1


def test_fidelity_allowed_on_request(space: Space) -> None:
    config = space.validate_config({**VALID, "epochs": np.int64(9)}, allow_fidelity=True)
    assert config["epochs"] == 9
    assert type(config["epochs"]) is int


BAD_CONFIGS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown key", {**VALID, "lrr": 0.1}, r"unknown parameter 'lrr'; parameters: \['lr'"),
    (
        "missing key",
        {k: v for k, v in VALID.items() if k != "layers"},
        r"missing value for active parameter 'layers': Integer",
    ),
    (
        "missing constant",
        {k: v for k, v in VALID.items() if k != "seed"},
        r"missing value for active parameter 'seed'",
    ),
    (
        "fidelity not allowed",
        {**VALID, "epochs": 3},
        r"'epochs' is the fidelity, which the optimizer sets",
    ),
    (
        "float above bound",
        {**VALID, "lr": 0.5},
        r"'lr': 0\.5 is outside the bounds \[1e-05, 0\.1\]",
    ),
    ("float as string", {**VALID, "lr": "0.01"}, r"'lr': '0\.01' \(str\) is not a finite number"),
    ("float as bool", {**VALID, "lr": True}, r"'lr': True \(bool\) is not a finite number"),
    ("float nan", {**VALID, "lr": float("nan")}, r"'lr': nan \(float\) is not a finite number"),
    (
        "off step grid",
        {**VALID, "dropout": 0.25},
        r"'dropout': 0\.25 \(float\) is not on the grid 0\.0 \+ k \* 0\.1",
    ),
    ("integer fraction", {**VALID, "layers": 2.5}, r"'layers': 2\.5 \(float\) is not an int"),
    ("integer bool", {**VALID, "layers": True}, r"'layers': True \(bool\) is not an int"),
    (
        "integer above",
        {**VALID, "layers": 9},
        r"'layers': 9 \(int\) is outside the bounds \[1, 8\]",
    ),
    (
        "unknown choice",
        {**VALID, "act": "tanh"},
        r"'act': 'tanh' \(str\) is not one of the choices \['relu', 'gelu', 1\]",
    ),
    (
        "choice wrong type",
        {**VALID, "act": 1.0},
        r"1\.0 \(float\) is not one of.*1 \(int\) is a different type",
    ),
    ("choice bool for int", {**VALID, "act": True}, r"True \(bool\) is not one of"),
    (
        "wrong constant",
        {**VALID, "seed": 4},
        r"'seed': 4 \(int\) differs from the constant's value 3 \(int\)",
    ),
    (
        "inactive present",
        {**VALID, "momentum": 0.5},
        r"'momentum' is inactive because its condition \(optimizer in \['sgd'\]\) "
        r"does not hold; remove it",
    ),
    (
        "active missing",
        {**VALID, "optimizer": "sgd"},
        r"missing value for active parameter 'momentum'",
    ),
    ("list value", {**VALID, "act": ["relu"]}, r"\['relu'\] \(list\) is not a valid value"),
]


@pytest.mark.parametrize(
    ("config", "match"),
    [case[1:] for case in BAD_CONFIGS],
    ids=[case[0] for case in BAD_CONFIGS],
)
def test_bad_config_rejected(space: Space, config: dict[str, Any], match: str) -> None:
    with pytest.raises(SpaceError, match=match):
        space.validate_config(config)


def test_all_problems_listed(space: Space) -> None:
    config = {**VALID, "lr": 5.0, "layers": 0, "extra": 1}
    with pytest.raises(SpaceError) as raised:
        space.validate_config(config)
    message = str(raised.value)
    assert message.startswith("invalid configuration:")
    assert "'lr': 5.0 is outside" in message
    assert "'layers': 0 (int) is outside" in message
    assert "unknown parameter 'extra'" in message


def test_invalid_parent_hides_child_activity(space: Space) -> None:
    config = {**VALID, "optimizer": "adamw", "momentum": 0.5}
    with pytest.raises(SpaceError) as raised:
        space.validate_config(config)
    assert "'optimizer': 'adamw' (str) is not one of" in str(raised.value)
    assert "momentum" not in str(raised.value)


def test_config_not_mapping(space: Space) -> None:
    with pytest.raises(SpaceError, match=r"configuration must be a mapping.*got list"):
        space.validate_config([("lr", 0.1)])  # type: ignore[arg-type]


def test_large_integers_stay_exact() -> None:
    space = Space({"n": Integer(1, 10**18 + 1)})
    assert space.validate_config({"n": 10**18 + 1}) == {"n": 10**18 + 1}
    assert space.validate_config({"n": 10**18 - 1}) == {"n": 10**18 - 1}
    with pytest.raises(SpaceError, match=r"is outside the bounds"):
        space.validate_config({"n": 10**18 + 2})
