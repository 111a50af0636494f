"""Killing and interrupting a real driver process, then resuming on the same storage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import paretune as pt
from paretune.trial import TrialStatus
from tests.conftest import REPO_ROOT


def start_driver(
    storage: Path, max_trials: int, workers: int, sleep: float
) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "TEST_TRIAL_SLEEP": str(sleep), "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.driver", str(storage), str(max_trials), str(workers)],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for_trials(
    storage: Path, count: int, timeout: float = 60.0, *, running: bool = False
) -> None:
    """Wait until ``count`` trials finished (and, with ``running``, one more is running)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (storage / "study.sqlite").exists():
            try:
                trials = pt.load_study(storage).trials
            except pt.StorageError:
                trials = []
            finished = sum(t.status.is_finished for t in trials)
            busy = any(t.status is TrialStatus.RUNNING for t in trials)
            if finished >= count and (busy or not running):
                return
        time.sleep(0.02)
    raise AssertionError(f"the driver did not finish {count} trials within {timeout} s")


@pytest.mark.slow
def test_sigkill_driver_then_resume(study_dir: Path) -> None:
    """Case C4: budget 20, driver killed with SIGKILL during trial 16, same command again."""
    driver = start_driver(study_dir, 20, 1, sleep=0.3)
    wait_for_trials(study_dir, 15, running=True)
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    before = pt.load_study(study_dir).trials
    assert any(t.status is TrialStatus.RUNNING for t in before)
    resumed = start_driver(study_dir, 20, 1, sleep=0.01)
    _, errors = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, errors.decode()
    trials = pt.load_study(study_dir).trials
    assert [t.id for t in trials] == list(range(1, 21))
    assert all(t.status is TrialStatus.COMPLETED for t in trials)
    rerun = [t for t in trials if t.attempt == 1]
    assert len(rerun) == 1
    assert b"will run again" in errors


@pytest.mark.slow
def test_sigint_marks_running_trials_interrupted(study_dir: Path) -> None:
    """Case C10 (one objective): a run stopped while several trials run, then resumed."""
    driver = start_driver(study_dir, 12, 3, sleep=2.0)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            running = [
                t for t in pt.load_study(study_dir).trials if t.status is TrialStatus.RUNNING
            ]
        except pt.StorageError:
            running = []  # The driver has not created the study yet.
        if len(running) == 3:
            break
        time.sleep(0.1)
    driver.send_signal(signal.SIGINT)
    _, errors = driver.communicate(timeout=60)
    assert b"marked INTERRUPTED" in errors
    study = pt.load_study(study_dir)
    interrupted = [t for t in study.trials if t.status is TrialStatus.INTERRUPTED]
    assert len(interrupted) == 3
    assert study.pareto_front() == [] or all(
        t.status is TrialStatus.COMPLETED for t in study.pareto_front()
    )
    resumed = start_driver(study_dir, 5, 1, sleep=0.01)
    _, errors = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, errors.decode()
    trials = pt.load_study(study_dir).trials
    assert all(t.status is TrialStatus.COMPLETED for t in trials)
    assert {t.id for t in interrupted} <= {t.id for t in trials if t.attempt == 1}


@pytest.mark.slow
def test_32_drivers_share_one_study(study_dir: Path) -> None:
    """Case C12: 32 processes start at once on one file while a reader polls it."""
    drivers = [start_driver(study_dir, 32, 1, sleep=0.05) for _ in range(32)]
    reads = 0
    while any(d.poll() is None for d in drivers):
        if (study_dir / "study.sqlite").exists():
            try:
                pt.load_study(study_dir).to_dataframe()
                reads += 1
            except pt.StorageError as error:
                assert "no study found" in str(error) or "contains no study" in str(error)
        time.sleep(0.05)
    for driver in drivers:
        _, errors = driver.communicate()
        assert driver.returncode == 0, errors.decode()
        assert b"database is locked" not in errors
    trials = pt.load_study(study_dir).trials
    assert len(trials) == 32
    assert all(t.status is TrialStatus.COMPLETED for t in trials)
    assert [t.id for t in trials] == list(range(1, 33))
    assert len({(t.config["x"], t.config["n"]) for t in trials}) == 32
    assert reads > 0
