"""``ParetuneClassifier``: the built-in search behind a scikit-learn estimator interface."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from paretune._errors import DataError
from paretune.pipelines.export import TrainedPipeline
from paretune.pipelines.fit import fit
from paretune.pipelines.search_space import DEFAULT_MAX_EPOCHS
from paretune.trial import CHECKPOINT_FILE

TARGET_COLUMN = "__target__"
SENSITIVE_COLUMN = "__sensitive__"


class ParetuneClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Search PyTorch pipelines for several objectives and predict with a Pareto-optimal one.

    ``fit`` holds out a stratified test split of ``X`` (20 %) and a validation split of the rest,
    as ``paretune fit`` does. The model used by ``predict`` is the Pareto-optimal trial with the
    best validation value of the first objective.

    Args:
        objectives: Metric names, optionally with ``:min`` or ``:max``.
        budget: ``5x`` (reference runs), ``30m`` (wall time) or ``200trials``.
        constraints: Bounds such as ``"latency_ms<=1"``.
        max_epochs: Epochs of a full-fidelity run.
        n_workers: Trials trained in parallel.
        seed: Seed of the split, the search and the trials.
        out: Run folder; a temporary folder when None.
        families: Model families to search; default: all that fit the data.

    Attributes:
        pareto_front_: One dict per Pareto-optimal trial: id, config, validation and test values.
        classes_: The class labels.
        model_: The ``TrainedPipeline`` used for predictions.
        study_: The study of the search.

    Example:
        >>> from sklearn.datasets import load_breast_cancer
        >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
        >>> clf = ParetuneClassifier(objectives=("error", "latency_ms"), budget="3x").fit(X, y)
        >>> clf.score(X, y) > 0.9
        True
    """

    def __init__(
        self,
        objectives: Sequence[str] = ("error",),
        budget: str = "5x",
        constraints: Sequence[str] = (),
        *,
        max_epochs: int = DEFAULT_MAX_EPOCHS,
        n_workers: int = 1,
        seed: int = 0,
        out: str | None = None,
        families: Sequence[str] | None = None,
    ) -> None:
        self.objectives = objectives
        self.budget = budget
        self.constraints = constraints
        self.max_epochs = max_epochs
        self.n_workers = n_workers
        self.seed = seed
        self.out = out
        self.families = families

    def fit(self, X: Any, y: Any, sensitive_features: Any = None) -> ParetuneClassifier:
        """Run the search on ``X`` and ``y``; ``sensitive_features`` feeds fairness objectives."""
        staging = Path(tempfile.mkdtemp(prefix="paretune-data-"))
        try:
            path = _write_training_file(staging, X, y, sensitive_features)
            result = fit(
                path,
                target=TARGET_COLUMN,
                sensitive=(SENSITIVE_COLUMN,) if sensitive_features is not None else (),
                exclude_columns=(SENSITIVE_COLUMN,),
                objectives=list(self.objectives),
                constraints=list(self.constraints),
                budget=self.budget,
                n_workers=self.n_workers,
                out=self.out or Path(tempfile.mkdtemp(prefix="paretune-run-")),
                seed=self.seed,
                max_epochs=self.max_epochs,
                families=self.families,
                show_progress=False,
            )
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if not result.pareto_front:
            raise DataError("No trial finished successfully, so there is no model to predict with.")
        chosen = result.pareto_front[0]
        self.study_ = result.study
        self.model_ = TrainedPipeline.from_checkpoint(
            result.study.trial_dir(chosen.id) / CHECKPOINT_FILE
        )
        self.classes_ = np.asarray(self.model_.classes)
        self.pareto_front_ = [
            {"trial": t.id, "config": t.config, "validation": t.values,
             "test": result.test_metrics.get(t.id, {})}
            for t in result.pareto_front
        ]  # fmt: skip
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Return class probabilities, columns in ``classes_`` order."""
        return self.model_.predict_proba(_as_features(X))

    def predict(self, X: Any) -> np.ndarray:
        """Return the most probable class of each row."""
        labels: np.ndarray = self.classes_[self.predict_proba(X).argmax(axis=1)]
        return labels


def _as_features(X: Any) -> pd.DataFrame | np.ndarray:
    if isinstance(X, pd.DataFrame):
        return X
    array = np.asarray(X)
    if array.ndim >= 3:
        return array.astype(np.float32)
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])


def _write_training_file(folder: Path, X: Any, y: Any, sensitive: Any) -> Path:
    features = _as_features(X)
    labels = np.asarray(y)
    if isinstance(features, np.ndarray):
        arrays: dict[str, np.ndarray] = {"X": features, "y": labels}
        if sensitive is not None:
            arrays[SENSITIVE_COLUMN] = np.asarray(sensitive).astype(str)
        path = folder / "data.npz"
        np.savez(path, **arrays)  # type: ignore[arg-type]
        return path
    frame = features.reset_index(drop=True).copy()
    frame[TARGET_COLUMN] = labels
    if sensitive is not None:
        frame[SENSITIVE_COLUMN] = np.asarray(sensitive).astype(str)
    path = folder / "data.parquet"
    frame.to_parquet(path)
    return path
