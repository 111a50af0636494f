"""The training loop: optimizer, schedule, regularization cocktail and exact continuation.

Schedules, stochastic weight averaging and lookahead are defined over ``max_epochs``, the largest
fidelity of the search, not over the epochs a trial trains to. A checkpoint contains everything
that changes during training (weights, optimizer, schedule step, SWA average, lookahead weights,
torch and NumPy generator states, epoch), so continuing a run from epoch 9 to 27 gives the same
weights, bit for bit on the CPU, as a run straight to 27 with the same seed.
"""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from paretune.pipelines import augment
from paretune.pipelines.models import PipelineModel, attach_generator

logger = logging.getLogger(__name__)

# One-cycle (Smith & Topin 2019, "Super-convergence"): the learning rate rises from lr / 25 to lr
# over the first 30 % of the steps, then falls to lr / 1e4. These are torch's OneCycleLR defaults.
ONE_CYCLE_RISE = 0.3
ONE_CYCLE_START_DIVISOR = 25.0
ONE_CYCLE_END_DIVISOR = 1e4
# The step schedule multiplies the learning rate by STEP_GAMMA at these shares of the steps.
STEP_MILESTONES = (0.5, 0.75)
STEP_GAMMA = 0.1
# SWA averages the weights after each epoch from this share of max_epochs on (Izmailov et al.
# 2018, "Averaging Weights Leads to Wider Optima and Better Generalization").
SWA_START = 0.75
EVALUATION_BATCH = 4096


@dataclass(frozen=True)
class TrainingSettings:
    """The training hyperparameters of one configuration, with their defaults."""

    optimizer: str = "adamw"
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    momentum: float = 0.9
    nesterov: bool = True
    batch_size: int = 64
    schedule: str = "cosine"
    warmup_fraction: float = 0.05
    grad_clip_norm: float | None = None
    label_smoothing: float = 0.0
    mixup_alpha: float | None = None
    cutmix_alpha: float | None = None
    swa: bool = False
    lookahead_steps: int | None = None
    lookahead_alpha: float = 0.5
    shift: int = 0
    flip: bool = False
    cutout: int = 0

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TrainingSettings:
        """Read the settings from a configuration; inactive conditional keys may be absent."""
        get = config.get
        return cls(
            optimizer=str(get("optimizer", "adamw")),
            learning_rate=float(get("learning_rate", 3e-3)),
            weight_decay=float(get("weight_decay", 1e-4)),
            momentum=float(get("momentum", 0.9)),
            nesterov=bool(get("nesterov", True)),
            batch_size=int(get("batch_size", 64)),
            schedule=str(get("schedule", "cosine")),
            warmup_fraction=float(get("warmup_fraction", 0.0)),
            grad_clip_norm=float(get("grad_clip_norm", 1.0)) if get("grad_clip") else None,
            label_smoothing=float(get("label_smoothing", 0.0)),
            mixup_alpha=float(get("mixup_alpha", 0.2)) if get("mixup") else None,
            cutmix_alpha=float(get("cutmix_alpha", 1.0)) if get("cutmix") else None,
            swa=bool(get("swa", False)),
            lookahead_steps=int(get("lookahead_steps", 5)) if get("lookahead") else None,
            lookahead_alpha=float(get("lookahead_alpha", 0.5)),
            shift=int(get("shift", 0)),
            flip=bool(get("flip", False)),
            cutout=int(get("cutout", 0)),
        )


def learning_rate_factor(step: int, total_steps: int, schedule: str, warmup_steps: int) -> float:
    """Return the multiplier of the base learning rate at ``step`` (0-based) of ``total_steps``."""
    if schedule == "onecycle":
        return _one_cycle_factor(step, total_steps)
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
    if schedule == "step":
        return float(STEP_GAMMA ** sum(progress >= m for m in STEP_MILESTONES))
    return 1.0


def _one_cycle_factor(step: int, total_steps: int) -> float:
    rise = max(1, int(ONE_CYCLE_RISE * total_steps))
    start, end = 1.0 / ONE_CYCLE_START_DIVISOR, 1.0 / ONE_CYCLE_END_DIVISOR
    if step < rise:
        return start + (1.0 - start) * 0.5 * (1.0 - math.cos(math.pi * step / rise))
    progress = min(1.0, (step - rise) / max(1, total_steps - rise))
    return end + (1.0 - end) * 0.5 * (1.0 + math.cos(math.pi * progress))


def build_optimizer(model: nn.Module, settings: TrainingSettings) -> torch.optim.Optimizer:
    """Create the optimizer that ``settings.optimizer`` names."""
    params = model.parameters()
    lr, decay = settings.learning_rate, settings.weight_decay
    if settings.optimizer == "sgd":
        return torch.optim.SGD(
            params,
            lr=lr,
            momentum=settings.momentum,
            nesterov=settings.nesterov,
            weight_decay=decay,
        )
    if settings.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=decay)
    return torch.optim.AdamW(params, lr=lr, weight_decay=decay)


class Trainer:
    """Train a ``PipelineModel`` epoch by epoch, with checkpoints for exact continuation.

    Args:
        model: The model to train in place.
        settings: Optimizer, schedule and regularization settings.
        inputs: Preprocessed training inputs: ``(n, features)`` or ``(n, channels, h, w)``.
        labels: Training class codes, shape ``(n,)``.
        max_epochs: The epochs over which the schedule, SWA and warmup are defined.
        seed: Seed of the trainer's torch and NumPy generators (shuffling, dropout, mixing).

    Example:
        >>> trainer = Trainer(model, TrainingSettings(), x, y, max_epochs=27, seed=0)
        >>> while trainer.epoch < 9:
        ...     trainer.train_epoch()
        >>> state = trainer.state_dict()  # a later Trainer.load_state_dict(state) continues
    """

    def __init__(
        self,
        model: PipelineModel,
        settings: TrainingSettings,
        inputs: torch.Tensor,
        labels: torch.Tensor,
        *,
        max_epochs: int,
        seed: int,
    ) -> None:
        self.model = model
        self.settings = settings
        self.inputs, self.labels = inputs, labels
        self.max_epochs = max_epochs
        self.batch_size = max(1, min(settings.batch_size, len(inputs)))
        # The incomplete last batch is dropped, so batch norm never receives a batch of one row.
        self.steps_per_epoch = max(1, len(inputs) // self.batch_size)
        self.total_steps = self.steps_per_epoch * max_epochs
        self.warmup_steps = int(settings.warmup_fraction * self.total_steps)
        self.swa_start_epoch = max(1, int(SWA_START * max_epochs))
        self.generator = torch.Generator().manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.optimizer = build_optimizer(model, settings)
        self.epoch = 0
        self.step = 0
        self.swa_params: list[torch.Tensor] | None = None
        self.swa_count = 0
        self.slow_params: list[torch.Tensor] | None = None
        if settings.lookahead_steps:
            self.slow_params = [p.detach().clone() for p in model.parameters()]
        self.is_image = inputs.dim() == 4
        attach_generator(model, self.generator)

    def train_epoch(self) -> float:
        """Train one epoch over shuffled full batches; return the mean training loss."""
        self.model.train()
        order = torch.randperm(len(self.inputs), generator=self.generator)
        total = torch.zeros(())
        for batch in range(self.steps_per_epoch):
            rows = order[batch * self.batch_size : (batch + 1) * self.batch_size]
            total += self._train_step(self.inputs[rows], self.labels[rows])
        self.epoch += 1
        self._update_swa()
        return float(total) / self.steps_per_epoch

    def _train_step(self, inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        factor = learning_rate_factor(
            self.step, self.total_steps, self.settings.schedule, self.warmup_steps
        )
        for group in self.optimizer.param_groups:
            group["lr"] = self.settings.learning_rate * factor
        if self.is_image:
            inputs = self._augment(inputs)
        logits, partners, lam = self._forward(inputs)
        smoothing = self.settings.label_smoothing
        loss = F.cross_entropy(logits, labels, label_smoothing=smoothing)
        if partners is not None:
            partner_loss = F.cross_entropy(logits, labels[partners], label_smoothing=smoothing)
            loss = lam * loss + (1.0 - lam) * partner_loss
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        if self.settings.grad_clip_norm is not None:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.settings.grad_clip_norm)
        self.optimizer.step()
        self.step += 1
        self._lookahead_step()
        return loss.detach()

    def _augment(self, images: torch.Tensor) -> torch.Tensor:
        images = augment.random_shift(images, self.settings.shift, self.generator)
        if self.settings.flip:
            images = augment.random_flip(images, self.generator)
        return augment.cutout(images, self.settings.cutout, self.generator)

    def _forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None, float]:
        mixup_alpha, cutmix_alpha = self.settings.mixup_alpha, self.settings.cutmix_alpha
        use_cutmix = self.is_image and cutmix_alpha is not None
        if use_cutmix and mixup_alpha is not None:
            # With both enabled, each batch uses one of them, chosen with equal odds.
            use_cutmix = bool(self.rng.random() < 0.5)
        if use_cutmix and cutmix_alpha is not None:
            mixed, partners, lam = augment.cutmix(inputs, cutmix_alpha, self.rng, self.generator)
            return self.model(mixed), partners, lam
        if mixup_alpha is not None:
            encoded = self.model.encoder(inputs)
            mixed, partners, lam = augment.mixup(encoded, mixup_alpha, self.rng, self.generator)
            return self.model.body(mixed), partners, lam
        return self.model(inputs), None, 1.0

    def _lookahead_step(self) -> None:
        # Lookahead (Zhang et al. 2019): every k steps the slow weights move alpha of the way to
        # the fast weights, and the fast weights restart from the slow ones.
        steps = self.settings.lookahead_steps
        if self.slow_params is None or not steps or self.step % steps != 0:
            return
        with torch.no_grad():
            for slow, fast in zip(self.slow_params, self.model.parameters(), strict=True):
                slow.add_(fast.detach() - slow, alpha=self.settings.lookahead_alpha)
                fast.copy_(slow)

    def _update_swa(self) -> None:
        if not self.settings.swa or self.epoch < self.swa_start_epoch:
            return
        params = [p.detach() for p in self.model.parameters()]
        if self.swa_params is None:
            self.swa_params = [p.clone() for p in params]
            self.swa_count = 1
            return
        self.swa_count += 1
        with torch.no_grad():
            for average, param in zip(self.swa_params, params, strict=True):
                average.add_(param - average, alpha=1.0 / self.swa_count)

    def final_model(self) -> nn.Module:
        """Return the model to evaluate, in eval mode: the SWA average once it has started.

        The SWA copy gets batch-norm statistics recomputed over the training inputs, because
        averaged weights do not match the running statistics of any single epoch.
        """
        if self.swa_params is None:
            return self.model.eval()
        attach_generator(self.model, None)
        averaged = copy.deepcopy(self.model)
        attach_generator(self.model, self.generator)
        with torch.no_grad():
            for param, average in zip(averaged.parameters(), self.swa_params, strict=True):
                param.copy_(average)
        recompute_batch_norm(averaged, self.inputs)
        return averaged.eval()

    def state_dict(self) -> dict[str, Any]:
        """Return a deep copy of every piece of state that training changes."""
        return copy.deepcopy(
            {
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "epoch": self.epoch,
                "step": self.step,
                "max_epochs": self.max_epochs,
                "steps_per_epoch": self.steps_per_epoch,
                "swa_params": self.swa_params,
                "swa_count": self.swa_count,
                "slow_params": self.slow_params,
                "torch_rng": self.generator.get_state(),
                "numpy_rng": self.rng.bit_generator.state,
            }
        )

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a ``state_dict``; raise ValueError when it came from another schedule."""
        for key in ("max_epochs", "steps_per_epoch"):
            if state[key] != getattr(self, key):
                raise ValueError(
                    f"Checkpoint has {key}={state[key]} but this trainer has "
                    f"{getattr(self, key)}; continuation needs the same schedule."
                )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        self.swa_params, self.swa_count = state["swa_params"], int(state["swa_count"])
        self.slow_params = state["slow_params"]
        self.generator.set_state(state["torch_rng"])
        self.rng.bit_generator.state = state["numpy_rng"]


def recompute_batch_norm(model: nn.Module, inputs: torch.Tensor) -> None:
    """Recompute batch-norm running statistics of ``model`` as a plain mean over ``inputs``."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    model.eval()
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average over all batches
        norm.train()
    with torch.no_grad():
        for start in range(0, len(inputs), EVALUATION_BATCH):
            batch = inputs[start : start + EVALUATION_BATCH]
            if len(batch) > 1:  # batch norm in training mode rejects a batch of one row
                model(batch)
    for norm in norms:
        norm.momentum = 0.1
    model.eval()


def predict_probabilities(model: nn.Module, inputs: torch.Tensor) -> np.ndarray:
    """Return class probabilities of shape ``(n, n_classes)`` as float64, in eval mode."""
    model.eval()
    parts = []
    with torch.inference_mode():
        for start in range(0, len(inputs), EVALUATION_BATCH):
            logits = model(inputs[start : start + EVALUATION_BATCH])
            parts.append(torch.softmax(logits.double(), dim=1).numpy())
    return np.concatenate(parts) if parts else np.zeros((0, 0))
