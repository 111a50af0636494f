"""Run trials asynchronously in local worker processes, with time and memory limits."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait

import cloudpickle
import psutil

from paretune._errors import ExecutorError
from paretune.executors._base import Evaluate, Event, Executor, Job, Outcome
from paretune.trial import TrialStatus

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 120.0
MEMORY_POLL_INTERVAL_S = 0.2


@dataclass
class _Worker:
    index: int
    process: subprocess.Popen[bytes]
    connection: Connection
    job: Job | None = None
    started: float = 0.0

    @property
    def worker_id(self) -> str:
        return f"local-{self.index}:{self.process.pid}"


class ProcessExecutor(Executor):
    """``n_workers`` persistent worker processes; a free worker gets the next job at once.

    The driver enforces limits from outside: a trial over its time limit is killed and recorded
    as TIMEOUT, one whose resident memory (including its child processes) exceeds its limit is
    killed and recorded as FAILED, and a worker that dies marks its trial FAILED with the signal.
    A replacement worker is started in each case.
    """

    name = "process"

    def __init__(self, n_workers: int = 1) -> None:
        if n_workers < 1:
            raise ExecutorError(f"n_workers must be at least 1, got {n_workers}")
        self.n_workers = n_workers
        self._workers: list[_Worker] = []
        self._payload = b""
        self._next_index = 0
        self._last_memory_check = 0.0

    # -- life cycle -------------------------------------------------------------------------

    def start(self, evaluate: Evaluate) -> None:
        try:
            self._payload = cloudpickle.dumps(evaluate)
        except Exception as error:
            raise ExecutorError(
                f"cannot send the evaluation function to worker processes ({error}); define it "
                "at module level, or use executor='inline'"
            ) from error
        self._workers = [self._spawn() for _ in range(self.n_workers)]
        for worker in self._workers:
            self._await_ready(worker)

    def _spawn(self) -> _Worker:
        parent_socket, child_socket = socket.socketpair()
        process = subprocess.Popen(
            [sys.executable, "-m", "paretune.executors._worker", str(child_socket.fileno())],
            pass_fds=(child_socket.fileno(),),
            stdin=subprocess.DEVNULL,
        )
        child_socket.close()
        connection = Connection(parent_socket.detach())
        worker = _Worker(self._next_index, process, connection)
        self._next_index += 1
        connection.send(("init", self._payload, list(sys.path), worker.worker_id))
        return worker

    def _await_ready(self, worker: _Worker) -> None:
        if not worker.connection.poll(STARTUP_TIMEOUT_S):
            raise ExecutorError(f"worker {worker.worker_id} did not start within {STARTUP_TIMEOUT_S:.0f} s")
        try:
            message = worker.connection.recv()
        except EOFError:
            code = worker.process.wait()
            raise ExecutorError(
                f"worker {worker.worker_id} exited with code {code} while loading the evaluation "
                "function; see its error output above"
            ) from None
        if message[0] != "ready":
            raise ExecutorError(f"worker {worker.worker_id} sent {message[0]!r} instead of ready")

    def shutdown(self) -> None:
        for worker in self._workers:
            if worker.process.poll() is None:
                try:
                    worker.connection.send(("stop",))
                except OSError:
                    pass
        deadline = time.monotonic() + 2.0
        for worker in self._workers:
            if worker.job is not None:
                self._kill(worker)
                continue
            try:
                worker.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._kill(worker)
            worker.connection.close()
        self._workers = []

    # -- scheduling -------------------------------------------------------------------------

    def free_slots(self) -> int:
        return sum(1 for worker in self._workers if worker.job is None)

    def running(self) -> list[int]:
        return [worker.job.trial_id for worker in self._workers if worker.job is not None]

    def submit(self, job: Job) -> None:
        worker = next((w for w in self._workers if w.job is None), None)
        if worker is None:
            raise ExecutorError("submit called without a free worker")
        worker.job = job
        worker.started = time.monotonic()
        try:
            worker.connection.send(("job", job))
        except OSError:
            pass  # The next poll sees the dead worker and fails its trial.

    def poll(self, timeout: float) -> list[Event]:
        events: list[Event] = []
        busy = [w for w in self._workers if w.job is not None]
        if not busy:
            return events
        wait_for = min(timeout, self._time_to_next_deadline(busy), MEMORY_POLL_INTERVAL_S)
        ready = wait([w.connection for w in busy], timeout=max(0.0, wait_for))
        for worker in busy:
            if worker.connection in ready:
                events.extend(self._drain(worker))
        events.extend(self._enforce_limits())
        return events

    def _drain(self, worker: _Worker) -> list[Event]:
        events: list[Event] = []
        try:
            while worker.connection.poll():
                kind, payload = worker.connection.recv()
                if kind != "event":
                    continue
                events.append(payload)
                if isinstance(payload, Outcome):
                    worker.job = None
        except (EOFError, OSError):
            events.append(self._worker_died(worker))
        return events

    # -- limits and failures ----------------------------------------------------------------

    @staticmethod
    def _time_to_next_deadline(busy: list[_Worker]) -> float:
        now = time.monotonic()
        remaining = [
            w.started + w.job.time_limit - now
            for w in busy
            if w.job is not None and w.job.time_limit is not None
        ]
        return min(remaining, default=3600.0)

    def _enforce_limits(self) -> list[Event]:
        events: list[Event] = []
        now = time.monotonic()
        check_memory = now - self._last_memory_check >= MEMORY_POLL_INTERVAL_S
        if check_memory:
            self._last_memory_check = now
        for worker in list(self._workers):
            job = worker.job
            if job is None:
                continue
            elapsed = now - worker.started
            if job.time_limit is not None and elapsed > job.time_limit:
                message = f"trial ran for {elapsed:.1f} s, over its time limit of {job.time_limit:g} s"
                events.append(self._replace(worker, TrialStatus.TIMEOUT, "TimeLimitExceeded", message))
            elif check_memory and job.memory_limit_mb is not None:
                used_mb = _resident_mb(worker.process.pid)
                if used_mb > job.memory_limit_mb:
                    message = (
                        f"trial used {used_mb:.0f} MB of resident memory, over its limit of "
                        f"{job.memory_limit_mb:g} MB"
                    )
                    events.append(
                        self._replace(worker, TrialStatus.FAILED, "MemoryLimitExceeded", message)
                    )
        return events

    def _worker_died(self, worker: _Worker) -> Outcome:
        code = worker.process.wait()
        cause = _describe_exit(code)
        return self._replace(
            worker, TrialStatus.FAILED, "WorkerDied", f"worker process died: {cause}", retryable=True
        )

    def _replace(
        self,
        worker: _Worker,
        status: TrialStatus,
        error_type: str,
        message: str,
        *,
        retryable: bool = False,
    ) -> Outcome:
        job = worker.job
        if job is None:
            raise ExecutorError(f"worker {worker.worker_id} has no job to fail")
        self._kill(worker)
        outcome = Outcome(
            trial_id=job.trial_id,
            attempt=job.attempt,
            status=status,
            duration=time.monotonic() - worker.started,
            error_type=error_type,
            error_message=message,
            worker_id=worker.worker_id,
            retryable=retryable,
        )
        outcome.cost = outcome.duration
        logger.warning("trial %d: %s; starting a new worker", job.trial_id, message)
        index = self._workers.index(worker)
        replacement = self._spawn()
        self._await_ready(replacement)
        self._workers[index] = replacement
        return outcome

    @staticmethod
    def _kill(worker: _Worker) -> None:
        """Kill the worker and any processes the user's code started under it."""
        try:
            children = psutil.Process(worker.process.pid).children(recursive=True)
        except psutil.Error:
            children = []
        for process in [*children]:
            try:
                process.kill()
            except psutil.Error:
                pass
        if worker.process.poll() is None:
            worker.process.kill()
        worker.process.wait()
        worker.connection.close()


def _resident_mb(pid: int) -> float:
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
    return total / 2**20


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"
