"""Shared fixtures for the search-space tests."""

from __future__ import annotations

import numpy as np
import pytest

from paretune.space import Categorical, Constant, Fidelity, Float, Integer, Space


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def conditional_space() -> Space:
    """Return a space with AND, OR, several clauses and a nested condition."""
    return Space(
        {
            "optimizer": Categorical(["adam", "sgd", "rmsprop"]),
            "use_wd": Categorical([True, False]),
            "momentum": Float(0.0, 0.99, condition={"optimizer": ["sgd", "rmsprop"]}),
            "nesterov": Categorical([True, False], condition={"optimizer": "sgd"}),
            "wd": Float(1e-6, 1e-2, log=True, condition={"optimizer": "sgd", "use_wd": True}),
            "beta": Float(0.5, 0.999, condition=[{"optimizer": "adam"}, {"use_wd": False}]),
            "dampening": Float(0.0, 0.5, condition={"nesterov": False}),
            "epochs": Fidelity(1, 27),
        }
    )


@pytest.fixture
def mixed_space() -> Space:
    """Return an unconditional space with every parameter type and a fidelity."""
    return Space(
        {
            "lr": Float(1e-5, 1e-1, log=True, prior=1e-3),
            "dropout": Float(0.0, 0.5, step=0.1),
            "layers": Integer(1, 8),
            "width": Integer(16, 1024, log=True, prior=128),
            "act": Categorical(["relu", "gelu", None, 1, 2.5, False]),
            "seed": Constant(3),
            "epochs": Fidelity(1, 27),
        }
    )
