"""Tests of the training loop: schedules, continuation and a plain-loop comparison."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from paretune.pipelines.data import DatasetSpec
from paretune.pipelines.evaluation import PipelineEvaluation
from paretune.pipelines.models import ModelSpec, build_model
from paretune.pipelines.search_space import default_config
from paretune.pipelines.training import Trainer, TrainingSettings, learning_rate_factor
from paretune.trial import Trial

TABULAR = ModelSpec("tabular", 6, (4,), None, 3)
IMAGE = ModelSpec("image", 64, (), (1, 8, 8), 3)
ARCHITECTURE = {
    "depth": 2, "width": 16, "channels": 4, "activation": "gelu", "normalization": "batchnorm",
    "dropout": 0.2, "initialization": "default", "embedding_dim": 3, "shape": "brick",
}  # fmt: skip


def _inputs(spec: ModelSpec) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    if spec.kind == "image":
        x = torch.randn(96, 1, 8, 8, generator=generator)
    else:
        x = torch.randn(96, 6, generator=generator)
        x[:, 5] = torch.randint(0, 4, (96,), generator=generator).float()
    return x, torch.randint(0, 3, (96,), generator=generator)


def _trainer(spec: ModelSpec, config: dict[str, Any], settings: TrainingSettings, seed: int):
    x, y = _inputs(spec)
    model = build_model(spec, config, torch.Generator().manual_seed(seed))
    return Trainer(model, settings, x, y, max_epochs=27, seed=seed)


COCKTAILS = [
    ("resnet sgd mixup swa lookahead", TABULAR, {"family": "resnet"},
     TrainingSettings(optimizer="sgd", mixup_alpha=0.4, swa=True, lookahead_steps=3,
                      grad_clip_norm=1.0, label_smoothing=0.1, batch_size=32)),
    ("resnet_cnn cutmix augmentation", IMAGE, {"family": "resnet_cnn"},
     TrainingSettings(schedule="onecycle", mixup_alpha=0.3, cutmix_alpha=1.0, swa=True,
                      shift=1, flip=True, cutout=3, batch_size=32)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "family", "settings"), [c[1:] for c in COCKTAILS], ids=[c[0] for c in COCKTAILS]
)
def test_continuation_9_to_27_equals_straight_run(
    spec: ModelSpec, family: dict[str, str], settings: TrainingSettings, tmp_path: Path
) -> None:
    config = {**ARCHITECTURE, **family}
    straight = _trainer(spec, config, settings, seed=5)
    while straight.epoch < 27:
        straight.train_epoch()

    first = _trainer(spec, config, settings, seed=5)
    while first.epoch < 9:
        first.train_epoch()
    torch.save(first.state_dict(), tmp_path / "checkpoint.pt")
    resumed = _trainer(spec, config, settings, seed=123)
    resumed.load_state_dict(torch.load(tmp_path / "checkpoint.pt", weights_only=False))
    while resumed.epoch < 27:
        resumed.train_epoch()

    expected = straight.final_model().state_dict()
    actual = resumed.final_model().state_dict()
    for name, tensor in expected.items():
        assert torch.equal(tensor, actual[name]), name


def test_evaluation_continuation_is_charged_extra_epochs(tmp_path: Path) -> None:
    evaluate = PipelineEvaluation(DatasetSpec("wine"), ("error",), max_epochs=9)
    config = default_config("tabular")
    curves: list[float] = []
    parent = Trial(id=1, config=config, fidelity=3, dir=tmp_path / "1", seed=7,
                   report_function=lambda _id, step, _values: curves.append(step))  # fmt: skip
    evaluate(parent)
    child = Trial(id=2, config=config, fidelity=9, dir=tmp_path / "2", seed=8, parent_id=1,
                  parent_dir=tmp_path / "1", parent_fidelity=3,
                  report_function=lambda _id, step, _values: curves.append(step))  # fmt: skip
    continued = evaluate(child)
    straight = evaluate(Trial(id=3, config=config, fidelity=9, dir=tmp_path / "3", seed=7))
    assert child.fidelity_spent == 6
    assert curves == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert continued["error"] == straight["error"]
    assert continued["log_loss"] == straight["log_loss"]


@pytest.mark.parametrize("schedule", ["cosine", "onecycle", "step", "constant"])
def test_schedules_stay_in_unit_range(schedule: str) -> None:
    factors = [learning_rate_factor(step, 100, schedule, 10) for step in range(100)]
    assert all(0.0 < f <= 1.0 for f in factors)
    assert max(factors) == pytest.approx(1.0, abs=1e-3)


def test_cosine_warmup_then_decay() -> None:
    assert learning_rate_factor(0, 100, "cosine", 10) == pytest.approx(0.1)
    assert learning_rate_factor(10, 100, "cosine", 10) == pytest.approx(1.0)
    assert learning_rate_factor(99, 100, "cosine", 10) < 0.01


def test_training_reduces_loss() -> None:
    config = {**ARCHITECTURE, "family": "mlp", "dropout": 0.0}
    trainer = _trainer(TABULAR, config, TrainingSettings(batch_size=16), seed=0)
    first = trainer.train_epoch()
    for _ in range(15):
        last = trainer.train_epoch()
    assert last < first


def test_checkpoint_from_other_schedule_rejected() -> None:
    config = {**ARCHITECTURE, "family": "mlp"}
    state = _trainer(TABULAR, config, TrainingSettings(), seed=0).state_dict()
    state["max_epochs"] = 9
    with pytest.raises(ValueError, match="max_epochs=9"):
        _trainer(TABULAR, config, TrainingSettings(), seed=0).load_state_dict(state)
