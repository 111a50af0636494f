"""Workers killed mid-trial, on the process and the Ray executor, with real processes and signals.

A killed worker's trial is retried from the checkpoint it saved before the kill, up to
``max_retries`` times, and is then FAILED with the cause. The rest of the run goes on.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

import paretune as pt
from paretune.executors import Job, Outcome, ProcessExecutor
from paretune.trial import TrialStatus
from tests.executors import evaluations

KILL_AFTER_STEP = 2
KILL_WAIT_TIMEOUT_S = 60.0


@pytest.fixture(params=["process", "ray"])
def executor(request: pytest.FixtureRequest) -> str:
    if request.param == "ray":
        request.getfixturevalue("ray_local")
    return str(request.param)


class WorkerKiller(threading.Thread):
    """SIGKILLs the worker of trial 1 once its checkpoint in the study folder reaches a step."""

    def __init__(self, markers: Path, checkpoint: Path, kills: int) -> None:
        super().__init__(daemon=True)
        self.markers = markers
        self.checkpoint = checkpoint
        self.kills = kills
        self.killed: list[int] = []

    def run(self) -> None:
        deadline = time.monotonic() + KILL_WAIT_TIMEOUT_S
        while len(self.killed) < self.kills and time.monotonic() < deadline:
            pids = [int(m.name) for m in self.markers.iterdir() if int(m.name) not in self.killed]
            if pids and self._step() >= KILL_AFTER_STEP * (len(self.killed) + 1):
                os.kill(pids[0], signal.SIGKILL)
                self.killed.append(pids[0])
            time.sleep(0.02)

    def _step(self) -> int:
        try:
            return int(json.loads(self.checkpoint.read_text())["step"])
        except (FileNotFoundError, json.JSONDecodeError):
            return 0


def _run_with_kills(tmp_path: Path, executor: str, kills: int) -> tuple[pt.Study, WorkerKiller]:
    markers = tmp_path / "markers"
    markers.mkdir()
    storage = tmp_path / "study"
    killer = WorkerKiller(markers, storage / "trials" / "1" / evaluations.STATE_FILE, kills)
    killer.start()
    study = pt.run(
        evaluations.slow_steps,
        {"markers": pt.Constant(str(markers)), "x": pt.Float(0, 1)},
        objectives=["loss"],
        storage=storage,
        max_trials=1,
        executor=executor,
        optimizer="random",
        max_retries=1,
        show_progress=False,
    )
    killer.join(1.0)
    return study, killer


def test_killed_worker_retries_from_checkpoint(tmp_path: Path, executor: str) -> None:
    study, killer = _run_with_kills(tmp_path, executor, kills=1)
    trial = study.trial(1)
    assert len(killer.killed) == 1
    assert trial.status is TrialStatus.COMPLETED, trial.error_message
    assert trial.attempt == 1
    assert trial.user_attrs["resumed_from_step"] >= KILL_AFTER_STEP
    assert len(trial.system_attrs["retries"]) == 1
    assert "died" in trial.system_attrs["retries"][0]
    assert [step for step, _ in trial.learning_curve][-1] == 6


def test_worker_killed_twice_fails_with_cause(tmp_path: Path, executor: str) -> None:
    study, killer = _run_with_kills(tmp_path, executor, kills=2)
    trial = study.trial(1)
    assert len(killer.killed) == 2
    assert trial.status is TrialStatus.FAILED
    assert trial.error_type == "WorkerDied"
    assert "died" in (trial.error_message or "")
    if executor == "process":
        assert "killed by signal SIGKILL" in (trial.error_message or "")


def _job(tmp_path: Path, trial_id: int) -> Job:
    return Job(
        trial_id=trial_id,
        attempt=0,
        config={"seconds": 0.01},
        fidelity=None,
        dir=tmp_path / str(trial_id),
        seed=trial_id,
        objective_names=("loss",),
    )


def _collect(executor: ProcessExecutor, count: int, timeout: float = 30.0) -> list[Outcome]:
    outcomes: list[Outcome] = []
    deadline = time.monotonic() + timeout
    while len(outcomes) < count and time.monotonic() < deadline:
        outcomes += [e for e in executor.poll(0.2) if isinstance(e, Outcome)]
    return outcomes


def test_idle_worker_death_is_replaced(tmp_path: Path) -> None:
    executor = ProcessExecutor(2)
    executor.start(evaluations.sleep_by_config)
    try:
        victim = executor._workers[0].process
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        executor.submit(_job(tmp_path, 1))
        executor.submit(_job(tmp_path, 2))
        outcomes = _collect(executor, 2)
    finally:
        executor.shutdown()
    assert sorted(o.trial_id for o in outcomes) == [1, 2]
    assert all(o.status is TrialStatus.COMPLETED for o in outcomes)


def test_worker_dies_with_killed_driver(tmp_path: Path) -> None:
    """A worker started by a process that is SIGKILLed ends too, leaving no trial running."""
    script = (
        "import sys, time\n"
        "from paretune.executors import ProcessExecutor\n"
        "from tests.executors.evaluations import sleep_by_config\n"
        "executor = ProcessExecutor(1)\n"
        "executor.start(sleep_by_config)\n"
        "print(executor._workers[0].process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    driver = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=Path(__file__).parents[2]
    )
    assert driver.stdout is not None
    worker_pid = int(driver.stdout.readline())
    driver.kill()
    driver.wait()
    deadline = time.monotonic() + 10
    while psutil.pid_exists(worker_pid) and time.monotonic() < deadline:
        if psutil.Process(worker_pid).status() == psutil.STATUS_ZOMBIE:
            break
        time.sleep(0.05)
    alive = psutil.pid_exists(worker_pid)
    assert not alive or psutil.Process(worker_pid).status() == psutil.STATUS_ZOMBIE


def test_two_workers_within_limits(tmp_path: Path) -> None:
    """Case C2: 1-second trials far inside generous limits all complete, on two workers."""
    study = pt.run(
        evaluations.sleep_by_config,
        {"seconds": pt.Float(1.0, 1.0001)},
        objectives=["loss"],
        storage=tmp_path / "study",
        max_trials=10,
        n_workers=2,
        optimizer="random",
        trial_time_limit=120,
        trial_memory_limit_mb=8000,
        show_progress=False,
    )
    assert study.status_counts()["COMPLETED"] == 10
