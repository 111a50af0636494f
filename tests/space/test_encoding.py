"""Unit-cube encoding: cell centres, log scales, round trips, NaN for inactive, prior densities."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from paretune._errors import SpaceError
from paretune.space import Categorical, Constant, Fidelity, Float, Integer, Space


def test_encode_cell_centres() -> None:
    space = Space(
        {
            "c": Categorical(["a", "b", "c", "d"]),
            "n": Integer(1, 4),
            "s": Float(0.0, 1.0, step=0.5),
            "k": Constant("x"),
            "x": Float(-1.0, 1.0),
            "epochs": Fidelity(1, 9),
        }
    )
    unit = space.encode({"c": "c", "n": 1, "s": 1.0, "k": "x", "x": 0.5, "epochs": 3})
    assert unit.dtype == np.float64
    assert unit.shape == (5,)
    assert unit.tolist() == [2.5 / 4, 0.5 / 4, 2.5 / 3, 0.5, 0.75]


def test_encode_log_scales() -> None:
    space = Space({"lr": Float(1e-4, 1e-2, log=True), "n": Integer(1, 10, log=True)})
    unit = space.encode({"lr": 1e-3, "n": 1})
    assert unit[0] == pytest.approx(0.5)
    # Integer 1 owns the cell from log(0.5) to log(1.5), out of log(0.5) to log(10.5).
    expected = (math.log(1.5) - math.log(0.5)) / 2 / (math.log(10.5) - math.log(0.5))
    assert unit[1] == pytest.approx(expected)


def test_encode_inactive_is_nan(conditional_space: Space) -> None:
    unit = conditional_space.encode({"optimizer": "adam", "use_wd": True, "beta": 0.9})
    columns = dict(zip(conditional_space.hyperparameter_names, unit, strict=True))
    assert math.isnan(columns["momentum"])
    assert math.isnan(columns["wd"])
    assert math.isnan(columns["dampening"])
    assert not math.isnan(columns["beta"])


def test_round_trip_samples(mixed_space: Space, rng: np.random.Generator) -> None:
    for config in mixed_space.sample_many(rng, 300):
        unit = mixed_space.encode(config)
        assert np.all((unit >= 0.0) & (unit <= 1.0))
        assert mixed_space.decode(unit) == config


def test_round_trip_conditional(conditional_space: Space, rng: np.random.Generator) -> None:
    for config in conditional_space.sample_many(rng, 300):
        assert conditional_space.decode(conditional_space.encode(config)) == config


def test_round_trip_every_grid_value() -> None:
    space = Space(
        {
            "n": Integer(1, 1000, log=True),
            "m": Integer(-5, 5),
            "s": Float(-1.0, 2.0, step=0.1),
        }
    )
    for n in range(1, 1001):
        assert space.decode(space.encode({"n": n, "m": 0, "s": 0.3}))["n"] == n
    for s in space["s"].grid():  # type: ignore[attr-defined]
        assert space.decode(space.encode({"n": 1, "m": 0, "s": s}))["s"] == s


def test_step_grid_values_are_clean() -> None:
    grid = Float(0.0, 1.0, step=0.1).grid()
    assert grid == (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
    assert repr(grid[3]) == "0.3"


def test_decode_integer_cells_equal_width() -> None:
    space = Space({"n": Integer(1, 4)})
    points = np.linspace(0.0, 1.0, 4001)[:-1]
    counts = np.bincount([space.decode(np.array([u]))["n"] for u in points])[1:]
    assert counts.tolist() == [1000, 1000, 1000, 1000]


def test_decode_clips_outside_unit() -> None:
    space = Space({"x": Float(0.0, 2.0), "c": Categorical(["a", "b"])})
    assert space.decode(np.array([-3.0, 5.0])) == {"x": 0.0, "c": "b"}
    assert space.decode(np.array([np.inf, -np.inf])) == {"x": 2.0, "c": "a"}


def test_decode_drops_inactive_nan(conditional_space: Space) -> None:
    unit = np.full(len(conditional_space.hyperparameter_names), np.nan)
    unit[0] = 0.1  # optimizer: adam
    unit[1] = 0.1  # use_wd: True
    unit[5] = 0.5  # beta
    assert conditional_space.decode(unit) == {
        "optimizer": "adam",
        "use_wd": True,
        "beta": pytest.approx(0.7495),
    }


def test_decode_nan_on_active_rejected() -> None:
    space = Space({"x": Float(0.0, 1.0)})
    with pytest.raises(SpaceError, match=r"coordinate of active parameter 'x' is NaN"):
        space.decode(np.array([np.nan]))


@pytest.mark.parametrize("shape", [(0,), (3,), (1, 2)])
def test_decode_wrong_shape(shape: tuple[int, ...]) -> None:
    space = Space({"x": Float(0.0, 1.0), "y": Float(0.0, 1.0)})
    with pytest.raises(SpaceError, match=r"has shape \(2,\)"):
        space.decode(np.zeros(shape))


def test_encode_many_shape(mixed_space: Space, rng: np.random.Generator) -> None:
    configs = mixed_space.sample_many(rng, 7)
    unit = mixed_space.encode_many(configs)
    assert unit.shape == (7, 6)
    assert np.array_equal(unit[3], mixed_space.encode(configs[3]))
    assert mixed_space.encode_many([]).shape == (0, 6)


def test_encode_rejects_invalid_config() -> None:
    space = Space({"x": Float(0.0, 1.0)})
    with pytest.raises(SpaceError, match=r"'x': 2\.0 is outside the bounds"):
        space.encode({"x": 2.0})


def test_prior_logpdf_uniform_is_zero() -> None:
    space = Space({"x": Float(0.0, 1.0), "c": Categorical(["a", "b"])})
    assert not space.has_prior
    assert space.prior_logpdf_unit(np.array([0.3, 0.8])) == 0.0


def test_prior_logpdf_matches_truncnorm() -> None:
    space = Space(
        {
            "x": Float(0.0, 1.0, prior=0.2, confidence="high"),
            "y": Float(0.0, 1.0),
            "c": Categorical(["a", "b", "c"], prior="b", confidence="medium"),
        }
    )
    assert space.has_prior
    sd = 0.125
    density_x = stats.truncnorm.logpdf(0.3, (0 - 0.2) / sd, (1 - 0.2) / sd, loc=0.2, scale=sd)
    # Choice "b" has probability 0.75 in a cell of width 1/3.
    expected = density_x + math.log(0.75 * 3)
    assert space.prior_logpdf_unit(np.array([0.3, 0.9, 0.5])) == pytest.approx(expected)
    other = density_x + math.log(0.125 * 3)
    assert space.prior_logpdf_unit(np.array([0.3, 0.9, 0.1])) == pytest.approx(other)


def test_prior_logpdf_ignores_nan() -> None:
    space = Space({"x": Float(0.0, 1.0, prior=0.5), "y": Float(0.0, 1.0, prior=0.5)})
    full = space.prior_logpdf_unit(np.array([0.5, 0.5]))
    half = space.prior_logpdf_unit(np.array([0.5, np.nan]))
    assert half == pytest.approx(full / 2)


def test_prior_logpdf_highest_at_prior() -> None:
    space = Space({"lr": Float(1e-5, 1e-1, log=True, prior=1e-3)})
    at_prior = space.prior_logpdf_unit(space.encode({"lr": 1e-3}))
    away = space.prior_logpdf_unit(space.encode({"lr": 1e-5}))
    assert at_prior > away


def test_prior_config() -> None:
    space = Space(
        {
            "lr": Float(1e-5, 1e-1, log=True),
            "wd": Float(0.0, 0.1, prior=0.01),
            "n": Integer(1, 9),
            "act": Categorical(["relu", "gelu"]),
            "opt": Categorical(["adam", "sgd"], prior="sgd"),
            "momentum": Float(0.0, 0.9, prior=0.9, condition={"opt": "sgd"}),
            "beta": Float(0.5, 0.9, condition={"opt": "adam"}),
            "k": Constant(None),
            "epochs": Fidelity(1, 27),
        }
    )
    config = space.prior_config()
    assert config == {
        "lr": pytest.approx(1e-3),
        "wd": 0.01,
        "n": 5,
        "act": "relu",
        "opt": "sgd",
        "momentum": 0.9,
        "k": None,
    }
    assert space.validate_config(config) == config


@pytest.mark.parametrize("prior", [1e-5, 1e-3, 1e-1])
@pytest.mark.parametrize(("confidence", "sd"), [("low", 0.5), ("high", 0.125), (0.99, 0.005)])
def test_prior_logpdf_across_unit(prior: float, confidence: str | float, sd: float) -> None:
    space = Space({"lr": Float(1e-5, 1e-1, log=True, prior=prior, confidence=confidence)})
    mean = space.encode({"lr": prior})[0]
    reference = stats.truncnorm((0 - mean) / sd, (1 - mean) / sd, loc=mean, scale=sd)
    for u in np.linspace(0.0, 1.0, 41):
        expected = reference.logpdf(u)
        assert space.prior_logpdf_unit(np.array([u])) == pytest.approx(expected, rel=1e-9)
