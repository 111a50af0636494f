"""Study factories for the report tests: small synthetic studies run with the inline executor."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import paretune as pt
from paretune.optimizers import OPTIMIZERS, Optimizer, Suggestion, register_optimizer
from paretune.trial import Trial, TrialRecord, TrialStatus

SENSITIVE_GROUPS = ("Female", "Male")


def run_study(
    folder: Path,
    evaluate: Callable[[Trial], dict[str, float]],
    space: pt.Space | dict[str, Any],
    objectives: Sequence[str],
    **options: Any,
) -> pt.Study:
    """Run a study in-process with progress output off."""
    options.setdefault("max_trials", 12)
    options.setdefault("seed", 0)
    options.setdefault("optimizer", "sobol")
    return pt.run(
        evaluate,
        space,
        objectives=list(objectives),
        storage=folder,
        executor="inline",
        show_progress=False,
        **options,
    )


# -- single objective -------------------------------------------------------------------------


def quadratic(trial: Trial) -> dict[str, float]:
    """Minimize (x - 1)^2 plus a penalty per layer; fail for large x to have failed trials."""
    x, layers = trial.config["x"], trial.config["layers"]
    loss = (x - 1.0) ** 2 + 0.1 * layers
    for step in (1, 2, 4):
        trial.report(step, {"loss": loss + 1.0 / step})
    if x > 4.0:
        raise ValueError(f"x={x:.3f} is out of the stable range")
    return {"loss": loss}


def single_space() -> pt.Space:
    return pt.Space(
        {
            "x": pt.Float(-5.0, 5.0, prior=0.0),
            "layers": pt.Integer(1, 4, prior=2),
            "activation": pt.Categorical(["relu", "gelu"], prior="relu"),
        }
    )


@pytest.fixture(scope="session")
def single_study(tmp_path_factory: pytest.TempPathFactory) -> pt.Study:
    folder = tmp_path_factory.mktemp("single") / "study"
    return run_study(
        folder, quadratic, single_space(), ["loss"], max_trials=24, max_reference_runs=1e6
    )


# -- two objectives with fairness -------------------------------------------------------------


def fairness(trial: Trial) -> dict[str, float]:
    """A synthetic trade-off: stronger regularization lowers the parity gap but raises error."""
    strength = trial.config["fairness_weight"]
    lr = trial.config["lr"]
    error = 0.14 + 0.08 * strength + 0.02 * abs(math.log10(lr) + 2.5)
    gap = 0.2 * (1.0 - strength) + 0.01 * trial.config["depth"]
    for epoch in range(1, 4):
        trial.report(epoch, {"error": error + 0.05 / epoch, "dp_difference": gap})
    trial.user_attrs["group_metrics"] = group_metrics(error, gap)
    trial.user_attrs["test_metrics"] = {"error": error + 0.004, "dp_difference": gap + 0.003}
    trial.user_attrs["test_group_metrics"] = group_metrics(error + 0.004, gap + 0.003)
    return {"error": error, "dp_difference": gap, "latency_ms": 0.2 + 0.05 * trial.config["depth"]}


def group_metrics(error: float, gap: float) -> dict[str, dict[str, float]]:
    return {
        "Female": {"accuracy": 1 - error + 0.02, "selection_rate": 0.10, "tpr": 0.55, "fpr": 0.02},
        "Male": {
            "accuracy": 1 - error - 0.02,
            "selection_rate": 0.10 + gap,
            "tpr": 0.62,
            "fpr": 0.07,
        },
    }


DATASET = {
    "source": "adult.data",
    "rows": 32561,
    "columns": 14,
    "sha256": "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
    "target": "income",
    "sensitive": ["sex"],
    "split_seed": 0,
    "task": "binary",
}


def fairness_space() -> pt.Space:
    return pt.Space(
        {
            "fairness_weight": pt.Float(0.0, 1.0),
            "lr": pt.Float(1e-4, 1e-1, log=True),
            "depth": pt.Integer(1, 6),
        }
    )


@pytest.fixture(scope="session")
def fairness_study(tmp_path_factory: pytest.TempPathFactory) -> pt.Study:
    folder = tmp_path_factory.mktemp("fairness") / "study"
    return run_study(
        folder,
        fairness,
        fairness_space(),
        ["error", "dp_difference"],
        max_trials=20,
        constraints=["latency_ms<=0.45"],
        metadata={"dataset": DATASET},
    )


# -- three objectives with a fidelity and promotions ------------------------------------------


@register_optimizer
class PromotingSearch(Optimizer):
    """A tiny successive-halving schedule for tests: six trials at fidelity 1, the best three
    continue to 3, the best one to 9, each promotion naming its parent."""

    name = "test_promoting"
    RUNGS = ((1, 6), (3, 3), (9, 1))

    def ask(self, history: Sequence[TrialRecord], trial_id: int) -> Suggestion | None:
        started = 0
        for rung, (fidelity, size) in enumerate(self.RUNGS):
            at_rung = [t for t in history if t.fidelity == fidelity]
            if len(at_rung) < size:
                if rung == 0:
                    config = self.problem.space.sample(self.rng(trial_id))
                    return Suggestion(config, fidelity, None, {"rung": 0})
                return self._promote(history, rung, fidelity, at_rung)
            started += size
        return Suggestion(self.problem.space.sample(self.rng(trial_id)), 1, None, {"rung": 0})

    def _promote(
        self, history: Sequence[TrialRecord], rung: int, fidelity: int, at_rung: list[TrialRecord]
    ) -> Suggestion | None:
        below = [t for t in history if t.fidelity == self.RUNGS[rung - 1][0]]
        if any(not t.status.is_finished for t in below):
            return None
        done = {t.parent_id for t in at_rung}
        first = self.problem.objectives[0].name
        ranked = sorted(
            (t for t in below if t.status is TrialStatus.COMPLETED and t.id not in done),
            key=lambda t: t.value(first),
        )
        if not ranked:
            return None
        parent = ranked[0]
        return Suggestion(dict(parent.config), fidelity, parent.id, {"rung": rung})


def three_objectives(trial: Trial) -> dict[str, float]:
    width, lr = trial.config["width"], trial.config["lr"]
    start = 0 if trial.parent_fidelity is None else int(trial.parent_fidelity)
    error = 0.3
    for epoch in range(start + 1, int(trial.fidelity or 1) + 1):
        error = 0.05 + 0.3 / epoch + 0.02 * abs(math.log10(lr) + 2) + 8.0 / width
        trial.report(epoch, {"error": error})
    return {"error": error, "latency_ms": width / 64.0, "params": float(width * 100)}


def three_space() -> pt.Space:
    return pt.Space(
        {
            "width": pt.Categorical([256, 32, 64, 128]),
            "lr": pt.Float(1e-4, 1e-1, log=True),
            "epochs": pt.Fidelity(1, 9),
        }
    )


@pytest.fixture(scope="session")
def three_study(tmp_path_factory: pytest.TempPathFactory) -> pt.Study:
    assert "test_promoting" in OPTIMIZERS
    folder = tmp_path_factory.mktemp("three") / "study"
    return run_study(
        folder,
        three_objectives,
        three_space(),
        ["error", "latency_ms", "params"],
        max_trials=10,
        optimizer="test_promoting",
    )


def uniform_rng() -> np.random.Generator:
    return np.random.default_rng(20240611)
