"""Random kills of workers and drivers during 200-trial studies with checkpoints.

Each repetition runs one study to its end while a seeded schedule SIGKILLs the driver (which is
then started again on the same storage) and the worker processes running trials. At the end the
study must be consistent. Its ids are 1..200 and every trial is final. No configuration ran as
two trials, and no trial that had finished before a kill changed. Costs add up, and the stored
Pareto front equals the one recomputed from the completed trials.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from tests.fault.harness import (
    Driver,
    check_consistent,
    kill_worker,
    running_workers,
    snapshot_finished,
    status_counts,
)

N_TRIALS = 200
PROCESS_SEEDS = range(17)
RAY_SEEDS = range(17, 20)
DRIVER_KILLS = 1
MEAN_SECONDS_BETWEEN_WORKER_KILLS = 1.5
REPETITION_TIMEOUT_S = 150.0


def _run_with_kills(driver: Driver, seed: int) -> dict[str, int]:
    """Run the study to its end under a seeded kill schedule; return what was killed."""
    rng = np.random.default_rng(seed)
    kill_points = sorted(rng.choice(np.arange(20, N_TRIALS - 20), DRIVER_KILLS, replace=False))
    finished_before_kills: dict[int, tuple[str, dict[str, float]]] = {}
    killed = {"drivers": 0, "workers": 0}
    deadline = time.monotonic() + REPETITION_TIMEOUT_S
    next_worker_kill = time.monotonic() + rng.exponential(MEAN_SECONDS_BETWEEN_WORKER_KILLS)
    driver.launch()
    while True:
        assert time.monotonic() < deadline, f"repetition ran out of time; {driver.log_tail()}"
        if not driver.alive():
            code = driver.process.returncode if driver.process else None
            assert code == 0, f"the driver exited with code {code}; {driver.log_tail()}"
            break
        done = sum(n for status, n in status_counts(driver.storage).items() if status != "RUNNING")
        if kill_points and done >= kill_points[0]:
            kill_points.pop(0)
            driver.kill()
            finished_before_kills.update(snapshot_finished(driver.storage))
            killed["drivers"] += 1
            driver.launch()
        elif time.monotonic() >= next_worker_kill:
            workers = running_workers(driver)
            if workers and kill_worker(workers[int(rng.integers(len(workers)))]):
                killed["workers"] += 1
            next_worker_kill = time.monotonic() + rng.exponential(MEAN_SECONDS_BETWEEN_WORKER_KILLS)
        time.sleep(0.02)
    trials = check_consistent(driver.storage, N_TRIALS, finished_before_kills)
    statuses = {t.status.value for t in trials}
    assert statuses <= {"COMPLETED", "FAILED"}, statuses
    return killed


@pytest.mark.slow
@pytest.mark.parametrize("seed", PROCESS_SEEDS)
def test_random_kills_process_executor(tmp_path: Path, seed: int) -> None:
    driver = Driver.create(
        tmp_path, max_trials=N_TRIALS, n_workers=2, seed=seed, step_seconds=0.005
    )
    killed = _run_with_kills(driver, seed)
    assert killed["drivers"] == DRIVER_KILLS


@pytest.mark.slow
@pytest.mark.parametrize("seed", RAY_SEEDS)
def test_random_kills_ray_executor(tmp_path: Path, seed: int, ray_head: str) -> None:
    driver = Driver.create(
        tmp_path,
        max_trials=N_TRIALS,
        n_workers=2,
        seed=seed,
        step_seconds=0.005,
        executor="ray",
        executor_options={"address": ray_head},
    )
    killed = _run_with_kills(driver, seed)
    assert killed["drivers"] == DRIVER_KILLS
