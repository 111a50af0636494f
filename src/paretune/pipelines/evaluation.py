"""The picklable evaluation that trains and scores one configuration of the built-in pipeline."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from paretune.pipelines.data import Dataset, DatasetSpec, load_dataset
from paretune.pipelines.metrics import (
    MetricContext,
    compute_metrics,
    cross_entropy,
    error,
    group_metrics,
)
from paretune.pipelines.models import ModelSpec, build_model
from paretune.pipelines.preprocessing import Preprocessor, fit_preprocessor
from paretune.pipelines.training import Trainer, TrainingSettings, predict_probabilities
from paretune.trial import Trial

logger = logging.getLogger(__name__)

# Datasets loaded in this process, so a worker reads each file once for all its trials.
_DATASETS: dict[DatasetSpec, Dataset] = {}


@dataclass
class PreparedInputs:
    """Preprocessed tensors of the three splits, with the fitted preprocessor."""

    preprocessor: Preprocessor
    model_spec: ModelSpec
    train: torch.Tensor
    validation: torch.Tensor
    test: torch.Tensor


def cached_dataset(spec: DatasetSpec) -> Dataset:
    """Load ``spec`` once per process."""
    if spec not in _DATASETS:
        _DATASETS[spec] = load_dataset(spec)
    return _DATASETS[spec]


def prepare_inputs(dataset: Dataset, config: dict[str, Any]) -> PreparedInputs:
    """Fit the preprocessing of ``config`` on the training split and transform every split."""
    splits = dataset.splits
    preprocessor = fit_preprocessor(dataset.rows(splits.train), config)

    def transform(indices: np.ndarray) -> torch.Tensor:
        rows = dataset.rows(indices)
        return torch.from_numpy(preprocessor.transform(rows))  # type: ignore[arg-type]

    image_shape = None
    if dataset.kind == "image":
        channels, height, width = dataset.features.shape[1:]
        image_shape = (int(channels), int(height), int(width))
    spec = ModelSpec(
        kind=dataset.kind,
        n_features=preprocessor.n_features,
        cardinalities=tuple(preprocessor.cardinalities),
        image_shape=image_shape,
        n_classes=dataset.n_classes,
    )
    return PreparedInputs(
        preprocessor,
        spec,
        transform(splits.train),
        transform(splits.validation),
        transform(splits.test),
    )


@dataclass(frozen=True)
class PipelineEvaluation:
    """Train one configuration to ``trial.fidelity`` epochs and return its validation metrics.

    A module-level, frozen dataclass so it pickles into worker processes; the dataset is loaded
    inside the worker and cached there.

    Attributes:
        dataset: Where the data comes from and how it is split.
        metrics: Names of the objective and constraint metrics to return (see ``METRICS``).
        max_epochs: The largest fidelity; schedules are defined over it.
        n_threads: Torch threads per worker, or None to keep torch's default. One thread is
            the default because these small models train several times faster on one thread
            than on two that compete with the driver process (measured on a 2-core machine).

    Example:
        >>> evaluate = PipelineEvaluation(DatasetSpec("digits"), ("error", "latency_ms"), 27)
        >>> paretune.run(evaluate, build_space("tabular"), objectives=["error", "latency_ms"])
    """

    dataset: DatasetSpec
    metrics: tuple[str, ...]
    max_epochs: int
    n_threads: int | None = 1

    def __call__(self, trial: Trial) -> dict[str, float]:
        if self.n_threads is not None:
            torch.set_num_threads(self.n_threads)
        dataset = cached_dataset(self.dataset)
        started = time.perf_counter()
        config = dict(trial.config)
        inputs = prepare_inputs(dataset, config)
        trainer = self._trainer(trial, inputs, dataset)
        target = int(trial.fidelity if trial.fidelity is not None else self.max_epochs)
        train_seconds = self._train(trial, trainer, inputs, dataset, target)

        model = trainer.final_model()
        validation = dataset.splits.validation
        context = MetricContext(
            probabilities=predict_probabilities(model, inputs.validation),
            labels=dataset.labels[validation],
            sensitive=None if dataset.sensitive is None else dataset.sensitive[validation],
            model=model,
            inputs=inputs.validation,
            train_time_s=train_seconds,
        )
        values = compute_metrics(list(self.metrics), context)
        trial.user_attrs.update(context.notes)
        if context.sensitive is not None:
            trial.user_attrs["group_metrics"] = group_metrics(context)
        trial.user_attrs["epochs"] = trainer.epoch
        trial.save_checkpoint(
            {
                "trainer": trainer.state_dict(),
                "weights": model.state_dict(),
                "preprocessor": inputs.preprocessor.to_dict(),
                "model_spec": inputs.model_spec.to_dict(),
                "config": config,
                "classes": dataset.classes,
            }
        )
        # Charge the training and scoring only, not the first load of the data in a worker.
        trial.cost = time.perf_counter() - started
        return values

    def _trainer(self, trial: Trial, inputs: PreparedInputs, dataset: Dataset) -> Trainer:
        generator = torch.Generator().manual_seed(trial.seed)
        model = build_model(inputs.model_spec, trial.config, generator)
        labels = torch.from_numpy(dataset.labels[dataset.splits.train])
        settings = TrainingSettings.from_config(trial.config)
        trainer = Trainer(
            model, settings, inputs.train, labels, max_epochs=self.max_epochs, seed=trial.seed
        )
        parent = trial.load_parent_checkpoint()
        if parent is not None:
            trainer.load_state_dict(parent["trainer"])
            logger.debug("Trial %d continues trial %s from epoch %d", trial.id,
                         trial.parent_id, trainer.epoch)  # fmt: skip
        return trainer

    def _train(
        self,
        trial: Trial,
        trainer: Trainer,
        inputs: PreparedInputs,
        dataset: Dataset,
        target: int,
    ) -> float:
        """Train to ``target`` epochs, reporting the validation curve; return training seconds."""
        labels = dataset.labels[dataset.splits.validation]
        seconds = 0.0
        while trainer.epoch < target:
            start = time.perf_counter()
            loss = trainer.train_epoch()
            seconds += time.perf_counter() - start
            model = trainer.final_model()
            context = MetricContext(
                probabilities=predict_probabilities(model, inputs.validation),
                labels=labels,
                sensitive=None,
                model=model,
                inputs=inputs.validation,
                train_time_s=seconds,
            )
            curve = {
                "train_loss": loss,
                "error": error(context),
                "log_loss": cross_entropy(context),
            }
            trial.report(trainer.epoch, curve)
        return seconds
