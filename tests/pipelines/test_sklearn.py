"""Tests of ParetuneClassifier and of TrainedPipeline export on a small search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_wine

from paretune.pipelines import ParetuneClassifier, TrainedPipeline

pytestmark = pytest.mark.slow


def test_classifier_fits_predicts_and_scores(tmp_path: Path) -> None:
    X, y = load_wine(return_X_y=True, as_frame=True)
    sensitive = np.where(X["alcohol"] > X["alcohol"].median(), "high", "low")
    classifier = ParetuneClassifier(
        objectives=("error", "params"), budget="3trials", max_epochs=9, out=str(tmp_path / "run")
    )
    classifier.fit(X, y, sensitive_features=sensitive)
    assert classifier.pareto_front_
    assert set(classifier.pareto_front_[0]) == {"trial", "config", "validation", "test"}
    probabilities = classifier.predict_proba(X)
    assert probabilities.shape == (len(X), 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert set(classifier.predict(X)) <= set(classifier.classes_)
    assert classifier.score(X, y) > 0.5

    classifier.model_.save(tmp_path / "model", {"note": "test"})
    reloaded = TrainedPipeline.load(tmp_path / "model")
    assert np.array_equal(reloaded.predict_proba(X), probabilities)
