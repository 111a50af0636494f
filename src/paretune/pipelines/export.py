"""Trained pipelines: rebuild them from a trial checkpoint, export them to a folder, predict.

An exported model folder holds:

- ``weights.pt``: the model's ``state_dict``, loadable with ``torch.load(weights_only=True)``;
- ``preprocessing.json``: the fitted preprocessing (plain numbers and strings);
- ``config.json``: the configuration, the model's input spec and the class labels;
- ``metrics.json``: the trial's validation metrics and, when known, its test metrics.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from paretune._errors import DataError, ParetuneError
from paretune.pipelines.data import coerce_numeric_columns, is_idx, parse_idx, read_table
from paretune.pipelines.models import ModelSpec, PipelineModel, build_model
from paretune.pipelines.preprocessing import Preprocessor, preprocessor_from_dict
from paretune.pipelines.training import predict_probabilities
from paretune.trial import CHECKPOINT_FILE

logger = logging.getLogger(__name__)

WEIGHTS_FILE = "weights.pt"
PREPROCESSING_FILE = "preprocessing.json"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
FORMAT_VERSION = 1


@dataclass
class TrainedPipeline:
    """A fitted preprocessor and a trained model that predict class labels from raw features.

    Example:
        >>> pipeline = TrainedPipeline.load("exported/trial-7")
        >>> pipeline.predict(pd.read_csv("new_rows.csv"))
    """

    preprocessor: Preprocessor
    model: PipelineModel
    model_spec: ModelSpec
    classes: list[Any]
    config: dict[str, Any]

    @classmethod
    def from_state(
        cls, weights: dict[str, torch.Tensor], preprocessing: dict[str, Any], meta: dict[str, Any]
    ) -> TrainedPipeline:
        """Rebuild from weights, the preprocessing dict and the ``config.json`` content."""
        spec = ModelSpec.from_dict(meta["model_spec"])
        config = dict(meta["config"])
        model = build_model(spec, config, torch.Generator().manual_seed(0))
        model.load_state_dict(weights)
        model.eval()
        return cls(
            preprocessor_from_dict(preprocessing), model, spec, list(meta["classes"]), config
        )

    @classmethod
    def from_checkpoint(cls, path: Path) -> TrainedPipeline:
        """Rebuild from a trial checkpoint written by ``PipelineEvaluation``."""
        state = torch.load(path, map_location="cpu", weights_only=False)
        return cls.from_state(state["weights"], state["preprocessor"], state)

    @classmethod
    def load(cls, folder: str | Path) -> TrainedPipeline:
        """Load an exported model folder.

        Raises:
            DataError: The folder or one of its files is missing.
        """
        folder = Path(folder)
        for name in (WEIGHTS_FILE, PREPROCESSING_FILE, CONFIG_FILE):
            if not (folder / name).is_file():
                raise DataError(
                    f"{name} not found in {str(folder)!r}; give a folder written by "
                    "'paretune export'."
                )
        weights = torch.load(folder / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        preprocessing = json.loads((folder / PREPROCESSING_FILE).read_text())
        meta = json.loads((folder / CONFIG_FILE).read_text())
        return cls.from_state(weights, preprocessing, meta)

    def transform(self, features: pd.DataFrame | np.ndarray) -> torch.Tensor:
        """Preprocess raw features into the model's input tensor."""
        if self.model_spec.kind == "image":
            if not isinstance(features, np.ndarray):
                raise DataError("This model takes images as an array (n, channels, h, w).")
            return torch.from_numpy(self.preprocessor.transform(features))  # type: ignore[arg-type]
        if isinstance(features, np.ndarray):
            columns = self.preprocessor.numeric_columns + self.preprocessor.categorical_columns  # type: ignore[union-attr]
            features = pd.DataFrame(features, columns=columns)
        return torch.from_numpy(self.preprocessor.transform(features))  # type: ignore[arg-type]

    def predict_proba(self, features: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Return class probabilities of shape ``(n, n_classes)``, columns in ``classes`` order."""
        return predict_probabilities(self.model, self.transform(features))

    def predict(self, features: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Return the most probable class label of each row."""
        codes = self.predict_proba(features).argmax(axis=1)
        labels: np.ndarray = np.asarray(self.classes, dtype=object)[codes]
        return labels

    def save(self, folder: Path, metrics: dict[str, Any]) -> None:
        """Write the model folder atomically: to a temporary sibling, then renamed into place."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        try:
            torch.save(self.model.state_dict(), staging / WEIGHTS_FILE)
            _write_json(staging / PREPROCESSING_FILE, self.preprocessor.to_dict())
            meta = {
                "format_version": FORMAT_VERSION,
                "config": self.config,
                "model_spec": self.model_spec.to_dict(),
                "classes": self.classes,
            }
            _write_json(staging / CONFIG_FILE, meta)
            _write_json(staging / METRICS_FILE, metrics)
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def export_trial(run: str | Path, trial_id: int, out: str | Path) -> Path:
    """Export trial ``trial_id`` of the ``paretune fit`` run folder ``run`` to ``out``.

    Raises:
        ParetuneError: The run, the trial or its checkpoint does not exist.

    Example:
        >>> export_trial("runs/digits", 7, "models/digits-7")
    """
    from paretune.study import load_study

    study = load_study(run)
    record = study.trial(trial_id)
    checkpoint = study.trial_dir(trial_id) / CHECKPOINT_FILE
    if not checkpoint.is_file():
        raise ParetuneError(
            f"Trial {trial_id} of {str(run)!r} has no checkpoint (status {record.status.value}). "
            "Export a completed trial, for example one on the Pareto front."
        )
    pipeline = TrainedPipeline.from_checkpoint(checkpoint)
    test_metrics = study.metadata.get("test_metrics", {}).get(str(trial_id), {})
    metrics = {"trial": trial_id, "validation": record.values, "test": test_metrics}
    pipeline.save(Path(out), metrics)
    logger.info("Exported trial %d of %s to %s", trial_id, run, out)
    return Path(out)


def read_prediction_input(path: str | Path, *, columns: tuple[str, ...] | None = None) -> Any:
    """Read features to predict: a table for tabular models, an image array for image models.

    A .npz file gives its ``X`` array, an IDX path its images; labels, if present, are ignored.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"Data file {str(path)!r} not found.")
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            key = next((k for k in ("X", "x", "features", "images") if k in archive.files), None)
            if key is None:
                raise DataError(f"NumPy file {str(path)!r} has no 'X' array to predict.")
            features = archive[key]
        return features.astype(np.float32) if features.ndim >= 3 else features
    if path.is_dir() or is_idx(path):
        images = (
            path
            if path.is_file()
            else next((f for f in sorted(path.iterdir()) if is_idx(f) and "images" in f.name), None)
        )
        if images is None:
            raise DataError(f"No '*images*idx*' file found in {str(path)!r}.")
        return parse_idx(images)[:, None].astype(np.float32)
    return coerce_numeric_columns(read_table(path, columns))


def predict_file(model: str | Path, data: str | Path, out: str | Path) -> Path:
    """Write predictions of the exported model ``model`` for ``data`` to the CSV file ``out``.

    The output has a ``prediction`` column and one ``proba_<class>`` column per class.
    """
    pipeline = TrainedPipeline.load(model)
    features = read_prediction_input(data)
    probabilities = pipeline.predict_proba(features)
    table = pd.DataFrame(probabilities, columns=[f"proba_{label}" for label in pipeline.classes])
    codes = probabilities.argmax(axis=1)
    table.insert(0, "prediction", np.asarray(pipeline.classes, dtype=object)[codes])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    table.to_csv(partial, index=False)
    os.replace(partial, out)
    return out


def _write_json(path: Path, content: Any) -> None:
    path.write_text(json.dumps(content, indent=2, sort_keys=True, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
