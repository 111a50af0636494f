"""Batteries included: datasets, preprocessing, model families, training, metrics and export.

Example:
    >>> from paretune.pipelines import fit
    >>> result = fit(dataset="digits", objectives=["error", "latency_ms"], budget="3x")
"""

from paretune.pipelines.data import (
    ADULT_COLUMNS,
    BUILTIN_DATASETS,
    Dataset,
    DatasetSpec,
    load_dataset,
)
from paretune.pipelines.evaluation import PipelineEvaluation
from paretune.pipelines.export import TrainedPipeline, export_trial, predict_file
from paretune.pipelines.fit import FitResult, fit
from paretune.pipelines.metrics import METRICS, Metric
from paretune.pipelines.models import FAMILIES, ModelFamily, ModelSpec, build_model
from paretune.pipelines.search_space import build_space, default_config
from paretune.pipelines.sklearn import ParetuneClassifier
from paretune.pipelines.training import Trainer, TrainingSettings

__all__ = [
    "ADULT_COLUMNS",
    "BUILTIN_DATASETS",
    "FAMILIES",
    "METRICS",
    "Dataset",
    "DatasetSpec",
    "FitResult",
    "Metric",
    "ModelFamily",
    "ModelSpec",
    "ParetuneClassifier",
    "PipelineEvaluation",
    "TrainedPipeline",
    "Trainer",
    "TrainingSettings",
    "build_model",
    "build_space",
    "default_config",
    "export_trial",
    "fit",
    "load_dataset",
    "predict_file",
]
