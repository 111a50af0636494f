"""Tests of preprocessing, model families, augmentation, metrics and the search space."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from paretune._errors import DataError
from paretune.pipelines import augment
from paretune.pipelines.metrics import (
    METRICS,
    MetricContext,
    check_metric_names,
    compute_metrics,
    expected_calibration_error,
)
from paretune.pipelines.models import FAMILIES, ModelSpec, attach_generator, build_model
from paretune.pipelines.preprocessing import ImagePreprocessor, TabularPreprocessor
from paretune.pipelines.search_space import build_space, default_config

from .conftest import make_frame


@pytest.mark.parametrize("encoding", ["onehot", "embedding"])
@pytest.mark.parametrize("scaling", ["standard", "quantile"])
def test_preprocessor_handles_unseen_and_missing(scaling: str, encoding: str) -> None:
    train = make_frame().drop(columns="label")
    pre = TabularPreprocessor.fit(train, scaling=scaling, categorical_encoding=encoding)
    new = pd.DataFrame({"x": [None, 0.5], "z": [1.0, 2.0], "city": ["tokyo", None],
                        "group": ["a", "b"]})  # fmt: skip
    matrix = pre.transform(new)
    assert matrix.shape == (2, pre.n_features)
    assert np.isfinite(matrix).all()
    if encoding == "embedding":
        assert matrix[0, 2] == 0.0  # the unseen city maps to the unknown code


def test_preprocessor_missing_column_raises() -> None:
    train = make_frame().drop(columns="label")
    pre = TabularPreprocessor.fit(train, scaling="standard", categorical_encoding="onehot")
    with pytest.raises(DataError, match="Column 'city' is missing"):
        pre.transform(train.drop(columns="city"))


def test_image_preprocessor_rejects_other_shape() -> None:
    pre = ImagePreprocessor.fit(np.ones((4, 1, 8, 8), dtype=np.float32))
    with pytest.raises(DataError, match="trained on"):
        pre.transform(np.ones((2, 1, 7, 8), dtype=np.float32))


BASE = {"depth": 2, "width": 12, "channels": 4, "activation": "silu", "dropout": 0.1,
        "normalization": "layernorm", "embedding_dim": 3, "shape": "funnel"}  # fmt: skip


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("scheme", ["default", "kaiming_normal", "xavier_uniform", "orthogonal"])
def test_families_build_deterministically(family: str, scheme: str) -> None:
    image = FAMILIES[family].kind == "image"
    spec = ModelSpec("image" if image else "tabular", 5, () if image else (3,),
                     (1, 8, 8) if image else None, 4)  # fmt: skip
    config = {**BASE, "family": family, "initialization": scheme}
    first = build_model(spec, config, torch.Generator().manual_seed(0))
    second = build_model(spec, config, torch.Generator().manual_seed(0))
    x = torch.zeros(3, 1, 8, 8) if image else torch.zeros(3, 5)
    assert first.eval()(x).shape == (3, 4)
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_dropout_needs_attached_generator() -> None:
    spec = ModelSpec("tabular", 3, (), None, 2)
    model = build_model(spec, {**BASE, "family": "mlp", "initialization": "default"},
                        torch.Generator().manual_seed(0))  # fmt: skip
    with pytest.raises(RuntimeError, match="attach_generator"):
        model.train()(torch.zeros(2, 3))
    attach_generator(model, torch.Generator().manual_seed(0))
    assert model(torch.zeros(2, 3)).shape == (2, 2)


def test_augmentations_keep_shape_and_content() -> None:
    generator = torch.Generator().manual_seed(0)
    images = torch.arange(2 * 16, dtype=torch.float32).reshape(2, 1, 4, 4) + 1
    assert torch.equal(augment.random_shift(images, 0, generator), images)
    shifted = augment.random_shift(images, 1, generator)
    assert shifted.shape == images.shape
    assert set(shifted.unique().tolist()) <= set(images.unique().tolist()) | {0.0}
    assert (augment.cutout(images, 2, generator) == 0).sum() > 0
    rng = np.random.default_rng(0)
    mixed, partners, lam = augment.cutmix(images, 1.0, rng, generator)
    assert 0.0 <= lam <= 1.0
    assert sorted(partners.tolist()) == [0, 1]
    assert mixed.shape == images.shape


def _context(probabilities: list[list[float]], labels: list[int], groups=None) -> MetricContext:
    model = torch.nn.Linear(2, 2)
    return MetricContext(
        probabilities=np.asarray(probabilities), labels=np.asarray(labels),
        sensitive=None if groups is None else np.asarray(groups), model=model,
        inputs=torch.zeros(len(labels), 2), train_time_s=1.5,
    )  # fmt: skip


def test_ece_matches_hand_computation() -> None:
    # Two rows at confidence 0.9 (one right), two at 0.6 (both right): ECE = 0.5*0.4 + 0.5*0.4.
    context = _context([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.4, 0.6]], [0, 1, 1, 1])
    assert expected_calibration_error(context) == pytest.approx(0.4)


def test_fairness_and_cost_metrics() -> None:
    context = _context([[0.2, 0.8], [0.2, 0.8], [0.8, 0.2], [0.8, 0.2]], [1, 0, 1, 0],
                       groups=["m", "m", "f", "f"])  # fmt: skip
    values = compute_metrics(["dp_difference", "eo_difference", "params", "flops",
                              "latency_ms", "throughput", "energy_j", "train_time_s"],
                             context)  # fmt: skip
    assert values["dp_difference"] == pytest.approx(1.0)
    assert values["eo_difference"] == pytest.approx(1.0)
    assert values["params"] == 6
    assert values["flops"] == 8  # 2 x 2 x 2 for one sample through a 2x2 linear layer
    assert values["latency_ms"] > 0
    assert values["throughput"] > 0
    assert values["energy_j"] > 0
    assert context.notes["energy_source"] in {"rapl", "estimate"}
    assert values["train_time_s"] == 1.5


def test_metric_directions_and_checks() -> None:
    assert METRICS["throughput"].direction == "maximize"
    assert METRICS["error"].direction == "minimize"
    with pytest.raises(DataError, match="Pass --sensitive"):
        check_metric_names(["dp_difference"], has_sensitive=False, n_classes=2)
    with pytest.raises(DataError, match="binary targets"):
        check_metric_names(["eo_difference"], has_sensitive=True, n_classes=3)
    with pytest.raises(DataError, match="Unknown objective or constraint metric 'speed'"):
        check_metric_names(["speed"], has_sensitive=False, n_classes=2)


@pytest.mark.parametrize(
    ("kind", "families", "shape"),
    [("tabular", None, None), ("tabular", ["resnet"], None), ("image", None, (1, 28, 28)),
     ("image", ["cnn"], (3, 8, 8))],
)  # fmt: skip
def test_default_config_is_prior_config(kind: str, families, shape) -> None:
    space = build_space(kind, max_epochs=9, families=families, image_shape=shape)
    assert space.prior_config() == default_config(kind, families=families, image_shape=shape)


def test_space_samples_are_valid_and_conditional() -> None:
    space = build_space("tabular")
    for seed in range(20):
        config = space.sample(np.random.default_rng(seed))
        assert ("momentum" in config) == (config["optimizer"] == "sgd")
        assert ("shape" in config) == (config["family"] == "mlp")


def test_family_of_other_kind_rejected() -> None:
    with pytest.raises(DataError, match="model family 'cnn' does not accept tabular data"):
        build_space("tabular", families=["cnn"])


def test_unknown_family_rejected() -> None:
    with pytest.raises(DataError, match="unknown model family 'mlpx': for tabular data use"):
        build_space("tabular", families=["mlpx"])
