"""Sampling: uniform, from priors, Sobol designs and neighbours; values keep types and bounds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

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


def _assert_all_ints_in(values: list[object], low: int, high: int) -> None:
    for value in values:
        assert type(value) is int, f"{value!r} is {type(value).__name__}, not int"
        assert low <= value <= high


def test_integer_values_are_python_ints(rng: np.random.Generator) -> None:
    """Case C14: uniform, prior, Sobol and decoded values are ints in [300, 600]."""
    space = Space({"n": Integer(300, 600)})
    prior_space = Space({"n": Integer(300, 600, prior=600, confidence="high")})

    _assert_all_ints_in([c["n"] for c in space.sample_many(rng, 200)], 300, 600)
    _assert_all_ints_in(
        [c["n"] for c in prior_space.sample_many(rng, 200, from_prior=True)], 300, 600
    )
    _assert_all_ints_in([c["n"] for c in space.sobol(200, seed=3)], 300, 600)
    _assert_all_ints_in([space.decode(u)["n"] for u in rng.random((200, 1))], 300, 600)
    _assert_all_ints_in([space.decode(np.array([u]))["n"] for u in (0.0, 1.0, -5.0, 7.0)], 300, 600)
    _assert_all_ints_in(
        [space.neighbour({"n": 600}, rng, scale=0.5)["n"] for _ in range(200)], 300, 600
    )


def test_integer_sampling_covers_range(rng: np.random.Generator) -> None:
    values = [c["n"] for c in Space({"n": Integer(1, 3)}).sample_many(rng, 300)]
    assert set(values) == {1, 2, 3}


def _assert_c15_values(config: dict[str, object]) -> None:
    x, n = config["x"], config["n"]
    assert type(x) is float
    assert -3.07596 <= x <= 0.32121
    assert type(n) is int
    assert 1 <= n <= 10


def test_sobol_design_survives_json() -> None:
    """Case C15: a Sobol design saved and loaded through JSON keeps bounds and types."""
    space = Space({"x": Float(-3.07596, 0.32121), "n": Integer(1, 10, log=True)})
    loaded_space = Space.from_json(space.to_json())
    assert loaded_space == space

    design = space.sobol(64, seed=7)
    for config in design:
        _assert_c15_values(config)
        loaded = config_from_json(config_to_json(config))
        _assert_c15_values(loaded)
        assert loaded == config
        assert loaded_space.validate_config(loaded) == config
    assert {config["n"] for config in design} == set(range(1, 11))


def test_decode_hits_bounds_exactly() -> None:
    """Case C15: the unit corners decode to the bounds, not 0.32121000000000002."""
    space = Space({"x": Float(-3.07596, 0.32121), "n": Integer(1, 10, log=True)})
    assert space.decode(np.array([1.0, 1.0])) == {"x": 0.32121, "n": 10}
    assert repr(space.decode(np.array([1.0, 1.0]))["x"]) == "0.32121"
    assert space.decode(np.array([0.0, 0.0])) == {"x": -3.07596, "n": 1}
    log_space = Space({"y": Float(1.0, 10.0, log=True)})
    assert log_space.decode(np.array([0.0])) == {"y": 1.0}
    assert log_space.decode(np.array([1.0])) == {"y": 10.0}
    for u in np.linspace(0.0, 1.0, 1001):
        assert 1.0 <= log_space.decode(np.array([u]))["y"] <= 10.0


def test_sobol_is_seeded_and_prefix_stable() -> None:
    space = Space({"x": Float(0.0, 1.0), "c": Categorical(["a", "b"])})
    assert space.sobol(10, seed=1) == space.sobol(10, seed=1)
    assert space.sobol(10, seed=1) != space.sobol(10, seed=2)
    assert space.sobol(10, seed=1) == space.sobol(16, seed=1)[:10]
    assert space.sobol(0, seed=1) == []
    assert len(space.sobol(1, seed=1)) == 1


def test_sobol_stratifies_unit_cube() -> None:
    space = Space({"x": Float(0.0, 1.0), "y": Float(0.0, 1.0)})
    design = space.sobol(64, seed=0)
    for name in ("x", "y"):
        counts = np.histogram([config[name] for config in design], bins=8, range=(0, 1))[0]
        assert counts.tolist() == [8] * 8


def test_prior_on_bound_samples_inside(rng: np.random.Generator) -> None:
    """Case C16: a prior exactly on the bound 1e-1 samples inside the bounds."""
    space = Space({"lr": Float(1e-5, 1e-1, log=True, prior=1e-1, confidence="high")})
    values = np.array([c["lr"] for c in space.sample_many(rng, 2000, from_prior=True)])
    assert values.min() >= 1e-5
    assert values.max() <= 1e-1
    # Half a normal with sd 0.125 in unit space: the median lies about 0.084 below the top.
    unit_median = np.median(np.log(values / 1e-5) / np.log(1e4))
    assert unit_median == pytest.approx(1 - 0.6745 * 0.125, abs=0.02)


@pytest.mark.parametrize(("confidence", "sd"), [("low", 0.5), ("medium", 0.25), ("high", 0.125)])
def test_prior_spread_follows_confidence(
    confidence: str, sd: float, rng: np.random.Generator
) -> None:
    space = Space({"x": Float(0.0, 1.0, prior=0.5, confidence=confidence)})
    values = np.array([c["x"] for c in space.sample_many(rng, 4000, from_prior=True)])
    truncated = stats.truncnorm((0 - 0.5) / sd, (1 - 0.5) / sd, loc=0.5, scale=sd)
    assert values.std() == pytest.approx(truncated.std(), rel=0.05)
    assert stats.kstest(values, truncated.cdf).pvalue > 0.001


def test_partial_priors_keep_uniform_parameters_uniform(rng: np.random.Generator) -> None:
    """Case C18: parameters without a prior stay uniform when sampling from the prior."""
    space = Space(
        {
            "lr": Float(1e-5, 1e-1, log=True, prior=1e-3),
            "act": Categorical(["relu", "gelu", "silu"]),
            "epochs": Fidelity(1, 27),
            "dropout": Float(0.0, 0.5),
            "wd": Float(0.0, 0.1, prior=0.01, confidence="high"),
        }
    )
    configs = space.sample_many(rng, 3000, from_prior=True)
    assert all("epochs" not in config for config in configs)

    dropout = [config["dropout"] for config in configs]
    assert stats.kstest(dropout, stats.uniform(0.0, 0.5).cdf).pvalue > 0.01
    counts = [
        sum(config["act"] == choice for config in configs) for choice in ("relu", "gelu", "silu")
    ]
    assert stats.chisquare(counts).pvalue > 0.01

    # The parameters with a prior are far from uniform, so the test can tell them apart.
    wd = [config["wd"] for config in configs]
    assert stats.kstest(wd, stats.uniform(0.0, 0.1).cdf).pvalue < 1e-6
    log_lr = [np.log10(config["lr"]) for config in configs]
    assert stats.kstest(log_lr, stats.uniform(-5.0, 4.0).cdf).pvalue < 1e-6
    assert np.median(log_lr) == pytest.approx(-3.0, abs=0.1)


def test_uniform_sampling_ignores_priors(rng: np.random.Generator) -> None:
    space = Space({"x": Float(0.0, 1.0, prior=0.9, confidence="high")})
    values = [config["x"] for config in space.sample_many(rng, 2000)]
    assert stats.kstest(values, stats.uniform(0.0, 1.0).cdf).pvalue > 0.01


def test_log_float_uniform_in_log(rng: np.random.Generator) -> None:
    space = Space({"lr": Float(1e-5, 1e-1, log=True)})
    log_lr = [np.log10(config["lr"]) for config in space.sample_many(rng, 2000)]
    assert stats.kstest(log_lr, stats.uniform(-5.0, 4.0).cdf).pvalue > 0.01


def test_sampling_is_seeded(mixed_space: Space) -> None:
    first = mixed_space.sample_many(np.random.default_rng(5), 20, from_prior=True)
    second = mixed_space.sample_many(np.random.default_rng(5), 20, from_prior=True)
    assert first == second
    assert (
        mixed_space.sample(np.random.default_rng(5))
        == mixed_space.sample_many(np.random.default_rng(5), 1)[0]
    )


def test_samples_have_declared_types(mixed_space: Space, rng: np.random.Generator) -> None:
    for config in mixed_space.sample_many(rng, 200, from_prior=True):
        assert type(config["lr"]) is float
        assert type(config["dropout"]) is float
        assert config["dropout"] in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
        assert type(config["layers"]) is int
        assert type(config["width"]) is int
        assert 16 <= config["width"] <= 1024
        assert config["seed"] == 3
        assert "epochs" not in config
        assert mixed_space.validate_config(config) == config


def test_categorical_choices_keep_types(rng: np.random.Generator) -> None:
    space = Space({"c": Categorical([None, 1, 2.5, False, "a"])})
    drawn = {(type(c["c"]), c["c"]) for c in space.sample_many(rng, 200)}
    assert drawn == {(type(None), None), (int, 1), (float, 2.5), (bool, False), (str, "a")}


def test_sample_many_zero(mixed_space: Space, rng: np.random.Generator) -> None:
    assert mixed_space.sample_many(rng, 0) == []


@pytest.mark.parametrize("n", [-1, 2.5, True, "3"])
def test_sample_many_bad_count(n: object, mixed_space: Space, rng: np.random.Generator) -> None:
    with pytest.raises(SpaceError, match=r"number of configurations must be an int >= 0"):
        mixed_space.sample_many(rng, n)  # type: ignore[arg-type]


def test_sample_requires_generator(mixed_space: Space) -> None:
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        mixed_space.sample(0)  # type: ignore[arg-type]


def test_neighbour_stays_close(rng: np.random.Generator) -> None:
    space = Space({"x": Float(0.0, 1.0), "c": Categorical(["a", "b", "c", "d"]), "k": Constant(1)})
    moves = [space.neighbour({"x": 0.5, "c": "a", "k": 1}, rng, scale=0.05) for _ in range(2000)]
    xs = np.array([move["x"] for move in moves])
    assert xs.std() == pytest.approx(0.05, rel=0.1)
    changed = np.mean([move["c"] != "a" for move in moves])
    assert changed == pytest.approx(0.05, abs=0.015)
    assert {move["k"] for move in moves} == {1}


def test_neighbour_fills_newly_active(rng: np.random.Generator) -> None:
    space = Space(
        {
            "optimizer": Categorical(["adam", "sgd"]),
            "momentum": Float(0.0, 0.99, condition={"optimizer": "sgd"}),
        }
    )
    moves = [space.neighbour({"optimizer": "adam"}, rng, scale=1.0) for _ in range(50)]
    assert all(space.validate_config(move) == move for move in moves)
    assert any("momentum" in move for move in moves)


@pytest.mark.parametrize("scale", [0.0, -0.1, float("nan"), "big"])
def test_neighbour_bad_scale(scale: object, rng: np.random.Generator) -> None:
    space = Space({"x": Float(0.0, 1.0)})
    with pytest.raises(SpaceError, match=r"scale must be a number > 0"):
        space.neighbour({"x": 0.5}, rng, scale=scale)  # type: ignore[arg-type]


def test_neighbour_rate_probability(rng: np.random.Generator) -> None:
    space = Space({"x": Float(0.0, 1.0), "y": Float(0.0, 1.0)})
    moves = [space.neighbour({"x": 0.5, "y": 0.5}, rng, scale=0.2, rate=0.3) for _ in range(2000)]
    for name in ("x", "y"):
        moved = np.mean([move[name] != 0.5 for move in moves])
        assert moved == pytest.approx(0.3, abs=0.04)


@pytest.mark.parametrize("rate", [0.0, 1.5, -0.2, float("nan"), True])
def test_neighbour_bad_rate(rate: object, rng: np.random.Generator) -> None:
    space = Space({"x": Float(0.0, 1.0)})
    with pytest.raises(SpaceError, match=r"rate must be a number in \(0, 1\]"):
        space.neighbour({"x": 0.5}, rng, scale=0.1, rate=rate)  # type: ignore[arg-type]
