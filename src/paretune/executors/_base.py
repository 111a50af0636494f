"""The executor interface: the driver submits jobs and collects reports and outcomes."""

from __future__ import annotations

import abc
import math
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from paretune.trial import Trial, TrialStatus

Evaluate = Callable[[Trial], Mapping[str, Any]]


@dataclass(frozen=True)
class Job:
    """One evaluation to run: everything a worker needs, and nothing from storage."""

    trial_id: int
    attempt: int
    config: dict[str, Any]
    fidelity: int | float | None
    dir: Path
    seed: int
    objective_names: tuple[str, ...]
    constraint_names: tuple[str, ...] = ()
    parent_id: int | None = None
    parent_dir: Path | None = None
    parent_fidelity: int | float | None = None
    time_limit: float | None = None
    memory_limit_mb: float | None = None


@dataclass(frozen=True)
class Report:
    """An intermediate result: one learning-curve point."""

    trial_id: int
    attempt: int
    step: float
    values: dict[str, float]


@dataclass
class Outcome:
    """The final result of one job."""

    trial_id: int
    attempt: int
    status: TrialStatus
    values: dict[str, float] = field(default_factory=dict)
    cost: float | None = None
    fidelity_spent: float | None = None
    duration: float = 0.0
    user_attrs: dict[str, Any] = field(default_factory=dict)
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None
    worker_id: str | None = None
    retryable: bool = False


Event = Report | Outcome


class Executor(abc.ABC):
    """Runs jobs in workers. The driver calls ``submit`` while slots are free, then ``poll``."""

    name: str = "executor"

    @abc.abstractmethod
    def start(self, evaluate: Evaluate) -> None:
        """Start the workers; ``evaluate`` is the user's function."""

    @abc.abstractmethod
    def free_slots(self) -> int:
        """Return how many jobs can be submitted now."""

    @abc.abstractmethod
    def submit(self, job: Job) -> None:
        """Start ``job`` on a free worker."""

    @abc.abstractmethod
    def poll(self, timeout: float) -> list[Event]:
        """Wait up to ``timeout`` seconds and return the reports and outcomes that arrived."""

    @abc.abstractmethod
    def running(self) -> list[int]:
        """Return the ids of the trials running now."""

    @abc.abstractmethod
    def shutdown(self) -> None:
        """Stop every worker; running jobs are abandoned (the driver marks them)."""


def evaluate_job(
    evaluate: Evaluate,
    job: Job,
    report: Callable[[int, float, Mapping[str, float]], None] | None,
    worker_id: str,
) -> Outcome:
    """Run the user's function on ``job`` and turn whatever happens into an Outcome."""
    job.dir.mkdir(parents=True, exist_ok=True)
    trial = Trial(
        id=job.trial_id,
        config=job.config,
        fidelity=job.fidelity,
        dir=job.dir,
        seed=job.seed,
        parent_id=job.parent_id,
        parent_dir=job.parent_dir,
        parent_fidelity=job.parent_fidelity,
        report_function=report,
    )
    started = time.perf_counter()
    try:
        returned = evaluate(trial)
    except Exception as error:  # A user's failure becomes a FAILED trial.
        duration = time.perf_counter() - started
        # A failed trial is charged what it spent, so cost and fidelity budgets count it.
        return Outcome(
            trial_id=job.trial_id,
            attempt=job.attempt,
            status=TrialStatus.FAILED,
            cost=float(trial.cost) if trial.cost is not None else duration,
            fidelity_spent=trial.fidelity_spent,
            duration=duration,
            error_type=type(error).__name__,
            error_message=str(error) or type(error).__name__,
            traceback=traceback.format_exc(),
            worker_id=worker_id,
            user_attrs=_json_safe_attrs(trial.user_attrs),
        )
    duration = time.perf_counter() - started
    outcome = check_returned_values(returned, job)
    outcome.duration = duration
    outcome.cost = float(trial.cost) if trial.cost is not None else duration
    outcome.fidelity_spent = trial.fidelity_spent
    outcome.user_attrs = _json_safe_attrs(trial.user_attrs)
    outcome.worker_id = worker_id
    return outcome


def check_returned_values(returned: Any, job: Job) -> Outcome:
    """Validate what the evaluation returned: a mapping with a finite value per objective."""
    failed = Outcome(job.trial_id, job.attempt, TrialStatus.FAILED, error_type="InvalidResult")
    if isinstance(returned, (int, float)) and len(job.objective_names) == 1:
        returned = {job.objective_names[0]: returned}
    if not isinstance(returned, Mapping):
        failed.error_message = (
            f"the evaluation returned {type(returned).__name__}, expected a dict of metric values "
            f"such as {{'{job.objective_names[0]}': 0.1}}"
        )
        return failed
    values = _finite_values(returned)
    problems: list[str] = []
    for name in (*job.objective_names, *job.constraint_names):
        if name not in returned:
            problems.append(
                f"metric {name!r} is missing from the returned keys {sorted(map(str, returned))}"
            )
        elif name not in values:
            problems.append(f"metric {name!r} is {returned[name]!r}, which is not a finite number")
    if problems:
        failed.values = values
        failed.error_message = "; ".join(problems)
        return failed
    return Outcome(job.trial_id, job.attempt, TrialStatus.COMPLETED, values=values)


def _finite_values(returned: Mapping[Any, Any]) -> dict[str, float]:
    """Keep the finite numeric metrics; other entries are checked only when they are required."""
    values: dict[str, float] = {}
    for key, raw in returned.items():
        if raw is None or isinstance(raw, bool):
            continue
        try:
            number = float(raw)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            values[str(key)] = number
    return values


def resident_memory_mb(pid: int) -> float:
    """Return the resident memory of process ``pid`` and its child processes in MB (0 if gone)."""
    try:
        process = psutil.Process(pid)
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                continue
    except psutil.Error:
        return 0.0
    return float(total) / 2**20


def _json_safe_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    import json

    safe: dict[str, Any] = {}
    for key, value in attrs.items():
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            value = repr(value)
        safe[str(key)] = value
    return safe
