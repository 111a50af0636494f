"""Start, kill and inspect study drivers in real processes, and check a study's consistency."""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil

import paretune as pt
from paretune.budget import BudgetUsage
from paretune.trial import TrialRecord, TrialStatus

DRIVER_SCRIPT = Path(__file__).with_name("driver.py")


@dataclass
class Driver:
    """One study driver process and where its settings, markers and log live."""

    folder: Path
    settings: dict[str, Any]
    process: subprocess.Popen[bytes] | None = None
    launches: int = 0
    logs: list[Path] = field(default_factory=list)

    @classmethod
    def create(cls, folder: Path, **settings: Any) -> Driver:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "markers").mkdir(exist_ok=True)
        merged = {
            "storage": str(folder / "study"),
            "marker_dir": str(folder / "markers"),
            **settings,
        }
        (folder / "settings.json").write_text(json.dumps(merged))
        return cls(folder, merged)

    @property
    def storage(self) -> Path:
        return Path(self.settings["storage"])

    def launch(self) -> None:
        self.launches += 1
        log = self.folder / f"driver-{self.launches}.log"
        self.logs.append(log)
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, str(DRIVER_SCRIPT), str(self.folder / "settings.json")],
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", "RAY_AUTH_MODE": "token"},
            )

    def kill(self, signum: int = signal.SIGKILL) -> None:
        assert self.process is not None
        self.process.send_signal(signum)
        self.process.wait(60)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"the driver ran over {timeout:.0f} s; {self.log_tail()}"
            ) from None

    def run_to_end(self, timeout: float = 120.0) -> None:
        self.launch()
        code = self.wait(timeout)
        assert code == 0, f"the driver exited with code {code}; {self.log_tail()}"

    def log_tail(self, lines: int = 30) -> str:
        text = self.logs[-1].read_text(errors="replace") if self.logs else ""
        return "log tail:\n" + "\n".join(text.splitlines()[-lines:])

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def status_counts(storage: Path) -> dict[str, int]:
    """Read trial counts by status straight from the study file, as another process would."""
    database = storage / "study.sqlite"
    if not database.exists():
        return {}
    try:
        connection = sqlite3.connect(database, timeout=30)
        try:
            rows = connection.execute("SELECT status, COUNT(*) FROM trials GROUP BY status")
            return {str(status): int(count) for status, count in rows.fetchall()}
        finally:
            connection.close()
    except sqlite3.OperationalError:
        return {}  # The schema is not created yet.


def wait_for_completed(driver: Driver, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while status_counts(driver.storage).get("COMPLETED", 0) < count:
        assert driver.alive(), f"the driver exited early; {driver.log_tail()}"
        assert time.monotonic() < deadline, f"fewer than {count} trials completed in time"
        time.sleep(0.02)


def running_workers(driver: Driver) -> list[int]:
    """Return the pids of worker processes that are running a trial now."""
    pids = []
    for marker in (driver.folder / "markers").iterdir():
        pid = int(marker.name)
        if driver.process is not None and pid == driver.process.pid:
            continue
        if psutil.pid_exists(pid):
            pids.append(pid)
    return pids


def kill_worker(pid: int) -> bool:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


def snapshot_finished(storage: Path) -> dict[int, tuple[str, dict[str, float]]]:
    """Return ``{id: (status, values)}`` of the trials in a final state."""
    study = pt.load_study(storage)
    try:
        return {
            t.id: (t.status.value, dict(t.values)) for t in study.trials if t.status.is_finished
        }
    finally:
        study.storage.close()


def trial_key(trial: TrialRecord) -> str:
    return json.dumps([trial.config, trial.fidelity, trial.parent_id], sort_keys=True)


def brute_force_front(trials: list[TrialRecord], names: tuple[str, str]) -> set[int]:
    """The non-dominated completed trials, by direct pairwise comparison (both minimized).

    As in ``Study.pareto_front``, only trials at the highest fidelity reached compete.
    """
    done = [
        t
        for t in trials
        if t.status is TrialStatus.COMPLETED and all(math.isfinite(t.value(n)) for n in names)
    ]
    highest = max((float(t.fidelity) for t in done if t.fidelity is not None), default=None)
    done = [t for t in done if t.fidelity is None or float(t.fidelity) == highest]
    points = {t.id: np.array([t.value(n) for n in names]) for t in done}
    front = set()
    for trial_id, point in points.items():
        dominated = any(
            np.all(other <= point) and np.any(other < point)
            for other_id, other in points.items()
            if other_id != trial_id
        )
        if not dominated:
            front.add(trial_id)
    return front


def check_consistent(
    storage: Path,
    max_trials: int,
    earlier: Mapping[int, tuple[str, dict[str, float]]] | None = None,
) -> list[TrialRecord]:
    """Assert the invariants that every study must keep through any failure; return its trials."""
    study = pt.load_study(storage)
    trials = study.trials
    ids = [t.id for t in trials]
    assert ids == list(range(1, max_trials + 1)), f"trial ids are not 1..{max_trials}: {ids}"
    unfinished = {t.id: t.status.value for t in trials if not t.status.is_finished}
    assert not unfinished, f"trials not in a final state: {unfinished}"

    keys = [trial_key(t) for t in trials]
    assert len(set(keys)) == len(keys), "a configuration was run as two trials"
    for trial_id, (status, values) in (earlier or {}).items():
        now = study.records_by_id[trial_id]
        assert (now.status.value, now.values) == (status, values), f"trial {trial_id} changed"

    _check_costs(trials)
    front = {t.id for t in study.pareto_front()}
    assert front == brute_force_front(trials, ("loss", "size"))
    for trial in trials:
        if trial.status is not TrialStatus.COMPLETED:
            assert trial.id not in front
    study.storage.close()
    return trials


def _check_costs(trials: list[TrialRecord]) -> None:
    usage = BudgetUsage.from_history(trials)
    assert math.isclose(usage.cost, sum(t.cost or 0.0 for t in trials))
    for trial in trials:
        assert trial.cost is not None and trial.cost >= 0.0, f"trial {trial.id} has no cost"
        if trial.status is TrialStatus.COMPLETED and trial.parent_id is not None:
            parent = next(t for t in trials if t.id == trial.parent_id)
            assert trial.fidelity_spent == trial.fidelity - parent.fidelity
    spent = sum(t.fidelity_spent or 0.0 for t in trials)
    assert math.isclose(usage.fidelity, spent)
