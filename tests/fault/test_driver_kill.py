"""A driver killed with SIGKILL or stopped with SIGTERM, then started again on the same storage.

Every test runs the real driver script in a subprocess. After the restart the study must hold
exactly the budgeted trials, none RUNNING, none duplicated, every trial that had finished before
the kill unchanged, and the interrupted trials re-run in place.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fault.harness import (
    Driver,
    check_consistent,
    snapshot_finished,
    status_counts,
    trial_key,
    wait_for_completed,
)

SIGTERM_STOP_LIMIT_S = 20.0


@pytest.fixture(params=["process", "ray"])
def executor_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "ray":
        pytest.importorskip("ray")
    return {"executor": request.param}


def test_driver_sigkill_then_resume(tmp_path: Path, executor_settings: dict[str, Any]) -> None:
    """Cases C4 and C10: 20 trials, 3 workers, SIGKILL once 15 finished, then resume."""
    driver = Driver.create(
        tmp_path, max_trials=20, n_workers=3, seed=1, step_seconds=0.1, **executor_settings
    )
    driver.launch()
    wait_for_completed(driver, 15)
    driver.kill()
    before = snapshot_finished(driver.storage)
    running = status_counts(driver.storage).get("RUNNING", 0)
    driver.run_to_end()

    trials = check_consistent(driver.storage, 20, before)
    rerun = [t for t in trials if t.id not in before]
    assert running >= 1
    assert any(t.attempt >= 1 for t in rerun), "no interrupted trial was run again in place"
    assert all(t.status.value in {"COMPLETED", "FAILED"} for t in trials)


@pytest.mark.parametrize("executor", ["process", "ray"])
def test_resume_matches_uninterrupted_run(tmp_path: Path, executor: str, request: Any) -> None:
    """Case C9: one worker and a fixed seed give the same trials with or without a kill."""
    settings: dict[str, Any] = {"max_trials": 16, "n_workers": 1, "seed": 3, "step_seconds": 0.05}
    if executor == "ray":
        settings.update(
            executor="ray", executor_options={"address": request.getfixturevalue("ray_head")}
        )
    reference = Driver.create(tmp_path / "reference", **settings)
    reference.run_to_end()
    resumed = Driver.create(tmp_path / "resumed", **settings)
    resumed.launch()
    wait_for_completed(resumed, 8)
    resumed.kill()
    resumed.run_to_end()

    expected = check_consistent(reference.storage, 16)
    actual = check_consistent(resumed.storage, 16)
    assert [trial_key(t) for t in actual] == [trial_key(t) for t in expected]
    assert [t.values for t in actual] == [t.values for t in expected]
    assert any(t.parent_id is not None for t in actual), "the schedule made no promotion"


def test_sigterm_stops_within_bound(tmp_path: Path, executor_settings: dict[str, Any]) -> None:
    driver = Driver.create(
        tmp_path, max_trials=8, n_workers=2, seed=2, step_seconds=0.3, **executor_settings
    )
    driver.launch()
    wait_for_completed(driver, 2)
    sent = time.monotonic()
    driver.kill(signal.SIGTERM)
    stop_seconds = time.monotonic() - sent
    counts = status_counts(driver.storage)
    assert stop_seconds < SIGTERM_STOP_LIMIT_S
    assert counts.get("RUNNING", 0) == 0, counts
    assert counts.get("INTERRUPTED", 0) >= 1, counts
    assert "stopping the run" in driver.logs[-1].read_text()

    driver.run_to_end()
    check_consistent(driver.storage, 8)
