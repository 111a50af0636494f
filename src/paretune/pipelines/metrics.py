"""Objectives that the built-in pipeline computes, each with its known direction.

Prediction metrics read validation probabilities; model metrics time or count the trained model
on the CPU of the worker that trained it. Add a metric by adding one ``Metric`` to ``METRICS``.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from sklearn.metrics import balanced_accuracy_score, log_loss
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from paretune._errors import DataError

logger = logging.getLogger(__name__)

Direction = Literal["minimize", "maximize"]

CALIBRATION_BINS = 15
LATENCY_WARMUP = 10
LATENCY_REPEATS = 50
THROUGHPUT_BATCH = 256
THROUGHPUT_REPEATS = 5
ENERGY_PREDICTIONS = 1000
RAPL_ENERGY_FILE = Path("/sys/class/powercap/intel-rapl:0/energy_uj")
# Power drawn by one busy core, used only when RAPL counters cannot be read: a server CPU's
# thermal design power over its core count, for example 250 W / 16 cores. An estimate.
ESTIMATED_WATTS_PER_CORE = 15.0


@dataclass
class MetricContext:
    """Everything a metric may read about one trained model.

    Attributes:
        probabilities: Validation class probabilities, shape ``(n, n_classes)``.
        labels: Validation class codes, shape ``(n,)``.
        sensitive: Validation sensitive groups, shape ``(n,)``, or None.
        model: The trained model in eval mode.
        inputs: Preprocessed validation inputs, the model's input tensor.
        train_time_s: Wall seconds spent training in this trial.
        notes: Metric details stored as trial user attributes (for example the energy source).
    """

    probabilities: np.ndarray
    labels: np.ndarray
    sensitive: np.ndarray | None
    model: nn.Module
    inputs: torch.Tensor
    train_time_s: float
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Metric:
    """A named metric, its direction, its unit and how to compute it."""

    name: str
    direction: Direction
    description: str
    compute: Callable[[MetricContext], float]
    needs_sensitive: bool = False
    needs_binary: bool = False


def error(context: MetricContext) -> float:
    """Share of misclassified validation rows."""
    predictions = context.probabilities.argmax(axis=1)
    return float(np.mean(predictions != context.labels))


def balanced_error(context: MetricContext) -> float:
    """Compute one minus the mean recall over classes (one minus balanced accuracy)."""
    predictions = context.probabilities.argmax(axis=1)
    return 1.0 - float(balanced_accuracy_score(context.labels, predictions))


def cross_entropy(context: MetricContext) -> float:
    """Mean negative log-likelihood of the true classes."""
    classes = np.arange(context.probabilities.shape[1])
    return float(log_loss(context.labels, context.probabilities, labels=classes))


def expected_calibration_error(context: MetricContext) -> float:
    """Expected calibration error over 15 equal-width confidence bins.

    ECE = sum over bins b of |B_b| / n * |accuracy(B_b) - confidence(B_b)| (Guo et al. 2017,
    "On Calibration of Modern Neural Networks", equation 3).
    """
    confidence = context.probabilities.max(axis=1)
    correct = context.probabilities.argmax(axis=1) == context.labels
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    bins = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, CALIBRATION_BINS - 1)
    total = 0.0
    for b in range(CALIBRATION_BINS):
        members = bins == b
        if members.any():
            gap = abs(float(correct[members].mean()) - float(confidence[members].mean()))
            total += members.mean() * gap
    return float(total)


def demographic_parity_difference(context: MetricContext) -> float:
    """Largest gap in positive-prediction rate between sensitive groups (fairlearn)."""
    from fairlearn.metrics import demographic_parity_difference as dp

    predictions = context.probabilities.argmax(axis=1)
    return float(dp(context.labels, predictions, sensitive_features=context.sensitive))


def equalized_odds_difference(context: MetricContext) -> float:
    """Largest gap in true- or false-positive rate between sensitive groups (fairlearn)."""
    from fairlearn.metrics import equalized_odds_difference as eo

    predictions = context.probabilities.argmax(axis=1)
    return float(eo(context.labels, predictions, sensitive_features=context.sensitive))


def latency_ms(context: MetricContext) -> float:
    """Median milliseconds per prediction at batch size 1, after warm-up."""
    sample = context.inputs[:1]
    timings = []
    with torch.inference_mode():
        for _ in range(LATENCY_WARMUP):
            context.model(sample)
        for _ in range(LATENCY_REPEATS):
            start = time.perf_counter_ns()
            context.model(sample)
            timings.append((time.perf_counter_ns() - start) / 1e6)
    return float(statistics.median(timings))


def throughput(context: MetricContext) -> float:
    """Predictions per second at batch size 256 (the best of five timed batches)."""
    batch = _batch_of(context.inputs, THROUGHPUT_BATCH)
    best = float("inf")
    with torch.inference_mode():
        context.model(batch)
        for _ in range(THROUGHPUT_REPEATS):
            start = time.perf_counter()
            context.model(batch)
            best = min(best, time.perf_counter() - start)
    return float(len(batch) / max(best, 1e-9))


def parameter_count(context: MetricContext) -> float:
    """Number of trainable parameters."""
    return float(sum(p.numel() for p in context.model.parameters() if p.requires_grad))


def flops(context: MetricContext) -> float:
    """Floating-point operations per prediction, counted by ``torch.utils.flop_counter``.

    The counter covers matrix multiplications and convolutions, which dominate these models;
    element-wise operations such as activations and normalization are not counted.
    """
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        context.model(context.inputs[:1])
    return float(counter.get_total_flops())


def energy_per_1000(context: MetricContext) -> float:
    """Joules per 1,000 predictions at batch size 256.

    Reads the RAPL package counter when the file is readable (the whole CPU package, so other
    processes add to it), else estimates CPU seconds times ``ESTIMATED_WATTS_PER_CORE``. The
    source goes into ``context.notes["energy_source"]``: "rapl" or "estimate".
    """
    batch = _batch_of(context.inputs, THROUGHPUT_BATCH)
    repeats = -(-ENERGY_PREDICTIONS // len(batch))
    before = _read_rapl_microjoules()
    cpu_before = time.process_time()
    with torch.inference_mode():
        for _ in range(repeats):
            context.model(batch)
    cpu_seconds = time.process_time() - cpu_before
    after = _read_rapl_microjoules()
    scale = ENERGY_PREDICTIONS / (repeats * len(batch))
    if before is not None and after is not None and after >= before:
        context.notes["energy_source"] = "rapl"
        return (after - before) / 1e6 * scale
    context.notes["energy_source"] = "estimate"
    context.notes["energy_watts_per_core"] = ESTIMATED_WATTS_PER_CORE
    return cpu_seconds * ESTIMATED_WATTS_PER_CORE * scale


def train_time(context: MetricContext) -> float:
    """Wall seconds of training in this trial (only the added epochs after a promotion)."""
    return context.train_time_s


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric("error", "minimize", "validation error rate", error),
        Metric("balanced_error", "minimize", "1 - balanced accuracy", balanced_error),
        Metric("log_loss", "minimize", "validation cross-entropy", cross_entropy),
        Metric("ece", "minimize", "expected calibration error", expected_calibration_error),
        Metric(
            "dp_difference",
            "minimize",
            "demographic parity difference",
            demographic_parity_difference,
            needs_sensitive=True,
            needs_binary=True,
        ),
        Metric(
            "eo_difference",
            "minimize",
            "equalized odds difference",
            equalized_odds_difference,
            needs_sensitive=True,
            needs_binary=True,
        ),
        Metric("latency_ms", "minimize", "ms per prediction at batch 1", latency_ms),
        Metric("throughput", "maximize", "predictions per second at batch 256", throughput),
        Metric("params", "minimize", "trainable parameters", parameter_count),
        Metric("flops", "minimize", "FLOPs per prediction", flops),
        Metric("energy_j", "minimize", "joules per 1,000 predictions", energy_per_1000),
        Metric("train_time_s", "minimize", "training wall seconds", train_time),
    )
}
# Cheap metrics returned with every trial, whether requested or not.
ALWAYS_COMPUTED = ("error", "balanced_error", "log_loss")


def check_metric_names(names: list[str], *, has_sensitive: bool, n_classes: int) -> None:
    """Raise DataError for an unknown metric or one the dataset cannot support."""
    for name in names:
        metric = METRICS.get(name)
        if metric is None:
            raise DataError(
                f"Unknown objective or constraint metric {name!r}. Known metrics: "
                f"{', '.join(METRICS)}."
            )
        if metric.needs_sensitive and not has_sensitive:
            raise DataError(
                f"Objective {name!r} needs a sensitive attribute. Pass --sensitive COLUMN."
            )
        if metric.needs_binary and n_classes != 2:
            raise DataError(
                f"Objective {name!r} is defined for binary targets, but the target has "
                f"{n_classes} classes."
            )


def compute_metrics(names: list[str], context: MetricContext) -> dict[str, float]:
    """Compute the metrics ``names`` plus ``ALWAYS_COMPUTED``."""
    wanted = list(dict.fromkeys([*ALWAYS_COMPUTED, *names]))
    return {name: METRICS[name].compute(context) for name in wanted}


def _batch_of(inputs: torch.Tensor, size: int) -> torch.Tensor:
    if len(inputs) >= size:
        return inputs[:size]
    repeats = -(-size // len(inputs))
    return inputs.repeat(repeats, *([1] * (inputs.dim() - 1)))[:size]


def _read_rapl_microjoules() -> int | None:
    try:
        return int(RAPL_ENERGY_FILE.read_text().strip())
    except (OSError, ValueError):
        return None


def group_metrics(context: MetricContext) -> dict[str, dict[str, float]]:
    """Compute accuracy, selection rate, TPR and FPR per sensitive group with fairlearn.

    Returns ``{group: {metric: value}}``; empty without a sensitive attribute. Selection rate,
    TPR and FPR are defined for binary targets only (class code 1 is the positive class), so a
    multiclass task reports accuracy alone.
    """
    if context.sensitive is None:
        return {}
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    predictions = context.probabilities.argmax(axis=1)
    functions: dict[str, Callable[..., float]] = {"accuracy": accuracy_score}
    if context.probabilities.shape[1] == 2:
        functions |= {
            "selection_rate": selection_rate,
            "tpr": true_positive_rate,
            "fpr": false_positive_rate,
        }
    frame = MetricFrame(
        metrics=functions,
        y_true=context.labels,
        y_pred=predictions,
        sensitive_features=context.sensitive,
    ).by_group
    return {
        str(group): {name: float(value) for name, value in row.items()}
        for group, row in frame.iterrows()
    }
