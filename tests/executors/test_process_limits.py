"""Local worker processes: parallelism and the limits the driver enforces (real processes)."""

from __future__ import annotations

from pathlib import Path

import paretune as pt
from paretune.trial import TrialStatus
from tests.helpers import objectives as helpers

X_SPACE = {"x": pt.Float(0.0, 1.0)}


def test_generous_limits_never_stop_trials(study_dir: Path) -> None:
    """Case C2: 10 one-second trials, 2 workers, limits of 120 s and 8000 MB."""
    study = pt.run(
        helpers.sleep_one_second,
        X_SPACE,
        objectives=["loss"],
        storage=study_dir,
        max_trials=10,
        n_workers=2,
        trial_time_limit=120,
        trial_memory_limit_mb=8000,
    )
    assert [t.status for t in study.trials] == [TrialStatus.COMPLETED] * 10
    workers = {t.worker_id for t in study.trials}
    assert len(workers) == 2


def test_time_limit_records_timeout(study_dir: Path) -> None:
    study = pt.run(
        helpers.sleep_forever,
        X_SPACE,
        objectives=["loss"],
        storage=study_dir,
        max_trials=2,
        n_workers=2,
        trial_time_limit=1.0,
    )
    for trial in study.trials:
        assert trial.status is TrialStatus.TIMEOUT
        assert "over its time limit of 1 s" in (trial.error_message or "")
        assert trial.duration is not None and trial.duration < 30


def test_memory_limit_is_in_megabytes(study_dir: Path) -> None:
    study = pt.run(
        helpers.allocate_memory,
        {"mb": pt.Categorical([50, 600])},
        objectives=["loss"],
        storage=study_dir,
        max_trials=2,
        n_workers=1,
        trial_memory_limit_mb=400,
        enqueue=[{"mb": 50}, {"mb": 600}],
    )
    small, large = study.trials
    assert small.status is TrialStatus.COMPLETED
    assert large.status is TrialStatus.FAILED
    assert large.error_type == "MemoryLimitExceeded"
    assert "over its limit of 400 MB" in (large.error_message or "")


def test_killed_worker_is_retried_then_failed(study_dir: Path) -> None:
    study = pt.run(
        helpers.kill_own_worker,
        X_SPACE,
        objectives=["loss"],
        storage=study_dir,
        max_trials=1,
        max_retries=1,
    )
    (trial,) = study.trials
    assert trial.status is TrialStatus.FAILED
    assert trial.error_type == "WorkerDied"
    assert "killed by signal SIGKILL" in (trial.error_message or "")
    assert trial.attempt == 1
    assert len(trial.system_attrs["retries"]) == 1


def test_run_continues_after_worker_death(study_dir: Path) -> None:
    def evaluate_sometimes_dies(trial: pt.Trial) -> dict[str, float]:
        if trial.id == 2:
            return helpers.kill_own_worker(trial)
        return {"loss": float(trial.id)}

    study = pt.run(
        evaluate_sometimes_dies,
        X_SPACE,
        objectives=["loss"],
        storage=study_dir,
        max_trials=4,
        max_retries=0,
    )
    statuses = [t.status for t in study.trials]
    assert statuses.count(TrialStatus.COMPLETED) == 3
    assert study.trials[1].status is TrialStatus.FAILED
