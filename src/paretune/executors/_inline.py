"""Run trials one at a time inside the driver process, for debugging."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from paretune.executors._base import Evaluate, Event, Executor, Job, Report, evaluate_job

logger = logging.getLogger(__name__)


class InlineExecutor(Executor):
    """Calls the evaluation in the driver process; a breakpoint in user code just works.

    Time and memory limits cannot be enforced in-process, so they are ignored with a warning.
    """

    name = "inline"

    def __init__(self) -> None:
        self._evaluate: Evaluate | None = None
        self._queue: list[Job] = []
        self._warned = False

    def start(self, evaluate: Evaluate) -> None:
        self._evaluate = evaluate

    def free_slots(self) -> int:
        return 0 if self._queue else 1

    def submit(self, job: Job) -> None:
        if (job.time_limit or job.memory_limit_mb) and not self._warned:
            logger.warning(
                "the inline executor cannot enforce time or memory limits; "
                "use executor='process' to have them enforced"
            )
            self._warned = True
        self._queue.append(job)

    def poll(self, timeout: float) -> list[Event]:
        if not self._queue or self._evaluate is None:
            return []
        job = self._queue.pop(0)
        events: list[Event] = []

        def report(trial_id: int, step: float, values: Mapping[str, float]) -> None:
            events.append(Report(trial_id, job.attempt, step, dict(values)))

        events.append(evaluate_job(self._evaluate, job, report, worker_id="inline"))
        return events

    def running(self) -> list[int]:
        return [job.trial_id for job in self._queue]

    def shutdown(self) -> None:
        self._queue.clear()
