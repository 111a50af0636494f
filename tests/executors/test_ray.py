"""The Ray executor on a real local Ray instance: results, failures, checkpoints, limits."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import torch

import paretune as pt
from paretune._errors import ExecutorError
from paretune.executors import make_executor
from paretune.optimizers import Optimizer, Suggestion, register_optimizer
from paretune.trial import TrialRecord, TrialStatus
from tests.executors import evaluations

pytest.importorskip("ray")


class PromoteFirstTrial(Optimizer):
    """Trial 1 trains one epoch; trial 2 continues it to three epochs from its checkpoint."""

    name = "test-promote-first"

    def ask(self, history: Sequence[TrialRecord], trial_id: int) -> Suggestion | None:
        if not history:
            return Suggestion({"x": 0.5}, fidelity=1)
        if len(history) == 1:
            return Suggestion(history[0].config, fidelity=3, parent_id=history[0].id)
        return None


register_optimizer(PromoteFirstTrial)


def _run(tmp_path: Path, evaluate: Any, space: Any, **options: Any) -> pt.Study:
    settings: dict[str, Any] = {
        "objectives": ["loss"],
        "storage": tmp_path / "study",
        "executor": "ray",
        "optimizer": "random",
        "show_progress": False,
        **options,
    }
    return pt.run(evaluate, space, **settings)


def test_ray_runs_trials(tmp_path: Path, ray_local: Any) -> None:
    study = _run(tmp_path, evaluations.quadratic, {"x": pt.Float(0, 1)}, max_trials=6, n_workers=2)
    trials = study.trials
    assert [t.status for t in trials] == [TrialStatus.COMPLETED] * 6
    for trial in trials:
        assert trial.worker_id is not None and trial.worker_id.startswith("ray:")
        assert len(trial.learning_curve) == 1
        assert trial.cost is not None and trial.cost > 0


def test_ray_failed_and_nan_trials(tmp_path: Path, ray_local: Any) -> None:
    """Case C1 on Ray: a raising trial and a NaN trial are FAILED and the run continues."""
    study = _run(
        tmp_path,
        evaluations.raise_or_nan,
        {"x": pt.Float(0, 1)},
        max_trials=3,
        enqueue=[{"x": 0.1}, {"x": 0.5}, {"x": 0.9}],
    )
    raised, finite, nan = study.trials
    assert raised.status is TrialStatus.FAILED
    assert raised.error_type == "ValueError"
    assert "too small" in (raised.error_message or "")
    assert finite.status is TrialStatus.COMPLETED
    assert nan.status is TrialStatus.FAILED
    assert "not a finite number" in (nan.error_message or "")
    assert study.best_trial is not None and study.best_trial.id == finite.id


@pytest.mark.parametrize("shared", [False, True], ids=["bytes", "shared-path"])
def test_ray_checkpoints_reach_child(tmp_path: Path, ray_local: Any, shared: bool) -> None:
    shared_root = tmp_path / "shared"
    study = _run(
        tmp_path,
        evaluations.torch_checkpoints,
        {"x": pt.Float(0, 1), "epochs": pt.Fidelity(1, 3)},
        max_trials=2,
        optimizer="test-promote-first",
        executor_options={"checkpoint_path": str(shared_root)} if shared else None,
    )
    parent, child = study.trials
    assert child.status is TrialStatus.COMPLETED, child.error_message
    assert child.parent_id == parent.id
    assert child.user_attrs["weights"] == [1, 2, 2]
    assert child.fidelity_spent == 2.0
    folder = shared_root / "2" if shared else study.trial_dir(2)
    state = torch.load(folder / "checkpoint.pt", weights_only=False)
    assert state == {"epochs": 3, "weights": [1, 2, 2]}
    assert (folder / "notes" / "log.txt").read_text() == "trial 2 trained 3 epochs\n"
    assert not list(folder.glob("*.partial"))


def test_ray_time_limit_gives_timeout(tmp_path: Path, ray_local: Any) -> None:
    started = time.monotonic()
    study = _run(
        tmp_path,
        evaluations.sleep_by_config,
        {"seconds": pt.Float(0.1, 30.0)},
        max_trials=3,
        n_workers=2,
        trial_time_limit=1.5,
        enqueue=[{"seconds": 0.2}, {"seconds": 30.0}, {"seconds": 0.3}],
    )
    statuses = [t.status for t in study.trials]
    assert statuses == [TrialStatus.COMPLETED, TrialStatus.TIMEOUT, TrialStatus.COMPLETED]
    assert "time limit of 1.5 s" in (study.trial(2).error_message or "")
    assert time.monotonic() - started < 25.0


def test_ray_two_workers_within_limits(tmp_path: Path, ray_local: Any) -> None:
    """Case C2 on Ray: 1-second trials far inside generous limits all complete."""
    study = _run(
        tmp_path,
        evaluations.sleep_by_config,
        {"seconds": pt.Float(1.0, 1.0001)},
        max_trials=10,
        n_workers=2,
        trial_time_limit=120,
        trial_memory_limit_mb=8000,
    )
    assert study.status_counts()["COMPLETED"] == 10


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("ray", {"adress": "auto"}, r"invalid executor option\(s\) \['adress'\].*accepts: address"),
        ("process", {"address": "auto"}, r"for executor 'process'; it accepts: none"),
        ("inline", {"checkpoint_path": "/x"}, r"for executor 'inline'; it accepts: none"),
        ("ray", {"resources_per_trial": {"num_gpus": -1}}, r"\['num_gpus'\] must be a non-neg"),
        ("ray", {"resources_per_trial": {"num_cpus": "2"}}, r"\['num_cpus'\] must be a non-neg"),
    ],
    ids=["misspelled", "process", "inline", "negative", "string"],
)
def test_invalid_executor_options(name: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ExecutorError, match=message):
        make_executor(name, n_workers=1, **options)
