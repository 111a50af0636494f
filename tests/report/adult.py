"""A two-objective study on the UCI Adult data: validation error against the demographic-parity
difference over ``sex``, with a small scikit-learn model trained per trial.

The data is read from ``../shared/data/adult`` relative to the repository root (or
``PARETUNE_ADULT_DIR``). A fairness weight reweights training rows so that every (sex, label)
cell weighs the same, which trades error for a smaller parity gap.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import paretune as pt
from paretune.pipelines.data import ADULT_COLUMNS

COLUMNS = list(ADULT_COLUMNS)
NUMERIC = ["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
CATEGORICAL = ["workclass", "marital-status", "occupation", "relationship", "race"]
ROWS = 12000
REPOSITORY = Path(__file__).resolve().parents[2]


def adult_file() -> Path:
    folder = Path(os.environ.get("PARETUNE_ADULT_DIR", REPOSITORY.parent / "shared/data/adult"))
    return folder / "adult.data"


@cache
def splits() -> dict[str, Any]:
    """Read, encode and split the first rows of Adult into train, validation and test."""
    frame = pd.read_csv(adult_file(), names=COLUMNS, skipinitialspace=True, na_values="?")
    frame = frame.dropna().head(ROWS)
    labels = (frame["income"] == ">50K").to_numpy(int)
    groups = frame["sex"].to_numpy(str)
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    scaled = StandardScaler().fit_transform(frame[NUMERIC])
    features = np.hstack([scaled, encoder.fit_transform(frame[CATEGORICAL])])
    index = np.arange(len(frame))
    train, rest = train_test_split(index, test_size=0.4, random_state=0, stratify=labels)
    valid, test = train_test_split(rest, test_size=0.5, random_state=0, stratify=labels[rest])
    return {"x": features, "y": labels, "g": groups, "train": train, "valid": valid, "test": test}


def fingerprint() -> dict[str, Any]:
    digest = hashlib.sha256(adult_file().read_bytes()).hexdigest()
    return {
        "source": str(adult_file()),
        "rows": ROWS,
        "columns": len(COLUMNS) - 1,
        "sha256": digest,
        "target": "income",
        "sensitive": ["sex"],
        "split_seed": 0,
        "task": "binary",
        "kind": "tabular",
    }


def group_metrics(predicted: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> dict[str, Any]:
    result = {}
    for group in sorted(set(groups)):
        member = groups == group
        p, y = predicted[member], labels[member]
        result[str(group)] = {
            "accuracy": float(np.mean(p == y)),
            "selection_rate": float(np.mean(p)),
            "tpr": float(np.mean(p[y == 1])) if np.any(y == 1) else float("nan"),
            "fpr": float(np.mean(p[y == 0])) if np.any(y == 0) else float("nan"),
        }
    return result


def parity_gap(per_group: dict[str, Any]) -> float:
    rates = [values["selection_rate"] for values in per_group.values()]
    return float(max(rates) - min(rates))


def evaluate(trial: pt.Trial) -> dict[str, float]:
    """Train a logistic model by SGD; report validation error and parity gap per epoch."""
    data = splits()
    train, valid, test = data["train"], data["valid"], data["test"]
    x, y, g = data["x"], data["y"], data["g"]
    weights = _fair_weights(y[train], g[train], trial.config["fairness_weight"])
    model = SGDClassifier(
        loss="log_loss",
        alpha=trial.config["alpha"],
        learning_rate="constant",
        eta0=trial.config["lr"],
        penalty=trial.config["penalty"],
        random_state=trial.seed,
    )
    classes = np.array([0, 1])
    for epoch in range(1, int(trial.config["epochs"]) + 1):
        model.partial_fit(x[train], y[train], classes=classes, sample_weight=weights)
        predicted = model.predict(x[valid])
        trial.report(
            epoch,
            {
                "error": float(np.mean(predicted != y[valid])),
                "dp_difference": parity_gap(group_metrics(predicted, y[valid], g[valid])),
            },
        )
    validation = group_metrics(model.predict(x[valid]), y[valid], g[valid])
    tested = model.predict(x[test])
    trial.user_attrs["group_metrics"] = validation
    trial.user_attrs["test_group_metrics"] = group_metrics(tested, y[test], g[test])
    trial.user_attrs["test_metrics"] = {
        "error": float(np.mean(tested != y[test])),
        "dp_difference": parity_gap(trial.user_attrs["test_group_metrics"]),
    }
    return {
        "error": float(np.mean(model.predict(x[valid]) != y[valid])),
        "dp_difference": parity_gap(validation),
        "params": float(model.coef_.size + 1),
    }


def _fair_weights(labels: np.ndarray, groups: np.ndarray, strength: float) -> np.ndarray:
    """Blend uniform weights with weights that equalize every (group, label) cell."""
    weights = np.ones(len(labels))
    for group in set(groups):
        for label in (0, 1):
            cell = (groups == group) & (labels == label)
            if cell.any():
                weights[cell] = len(labels) / (4.0 * cell.sum())
    return (1.0 - strength) + strength * weights


def adult_space() -> pt.Space:
    return pt.Space(
        {
            "fairness_weight": pt.Float(0.0, 1.0, prior=0.0),
            "alpha": pt.Float(1e-6, 1e-2, log=True, prior=1e-4),
            "lr": pt.Float(1e-4, 1e-1, log=True, prior=1e-2),
            "penalty": pt.Categorical(["l2", "l1", "elasticnet"], prior="l2"),
            "epochs": pt.Integer(1, 8, prior=4),
        }
    )


def run_adult_study(folder: Path, max_trials: int = 24) -> pt.Study:
    return pt.run(
        evaluate,
        adult_space(),
        objectives=["error", "dp_difference"],
        storage=folder,
        max_trials=max_trials,
        max_reference_runs=1e6,
        executor="inline",
        optimizer="sobol",
        seed=0,
        metadata={"dataset": fingerprint()},
        show_progress=False,
    )
