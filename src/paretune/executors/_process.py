"""Run trials asynchronously in local worker processes, with time and memory limits."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

import cloudpickle
import psutil

from paretune._errors import ExecutorError
from paretune.executors._base import Evaluate, Event, Executor, Job, Outcome, resident_memory_mb
from paretune.trial import TrialStatus

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 120.0
MEMORY_POLL_INTERVAL_S = 0.2
# A replacement worker that dies this many times in a row before it is ready stops the run.
MAX_STARTUP_FAILURES = 3
# Linux ``prctl`` option that sends a signal to this process when its parent thread exits.
PR_SET_PDEATHSIG = 1
WORKER_COMMAND = "from paretune.executors._process import worker_entry; worker_entry()"


@dataclass
class _Worker:
    index: int
    process: subprocess.Popen[bytes]
    connection: Connection
    job: Job | None = None
    started: float = 0.0
    ready: bool = False
    spawned: float = 0.0

    @property
    def worker_id(self) -> str:
        return f"local-{self.index}:{self.process.pid}"


class ProcessExecutor(Executor):
    """``n_workers`` persistent worker processes; a free worker gets the next job at once.

    The driver enforces limits from outside. A trial over its time limit is killed and recorded
    as TIMEOUT. One whose resident memory (including its child processes) exceeds its limit is
    killed and recorded as FAILED. A worker that dies marks its trial FAILED with the signal,
    as retryable, so the run loop may run it again. A replacement worker is started in each case
    without waiting for it: the other workers go on, and a job submitted to it runs once it is
    ready. Workers die with the driver, so a killed driver leaves no trial running.
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
        self._startup_failures = 0

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
        arguments = [str(child_socket.fileno()), str(os.getpid())]
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER_COMMAND, *arguments],
            pass_fds=(child_socket.fileno(),),
            stdin=subprocess.DEVNULL,
        )
        child_socket.close()
        connection = Connection(parent_socket.detach())
        worker = _Worker(self._next_index, process, connection, spawned=time.monotonic())
        self._next_index += 1
        connection.send(("init", self._payload, list(sys.path), worker.worker_id))
        return worker

    def _await_ready(self, worker: _Worker) -> None:
        if not worker.connection.poll(STARTUP_TIMEOUT_S):
            raise ExecutorError(
                f"worker {worker.worker_id} did not start within {STARTUP_TIMEOUT_S:.0f} s"
            )
        try:
            message = worker.connection.recv()
        except (EOFError, OSError):
            raise _load_failed(worker, worker.process.wait()) from None
        self._mark_ready(worker, message)

    def _mark_ready(self, worker: _Worker, message: tuple[Any, ...]) -> None:
        if message[0] != "ready":
            raise ExecutorError(f"worker {worker.worker_id} sent {message[0]!r} instead of ready")
        worker.ready = True
        self._startup_failures = 0
        if worker.job is not None:
            worker.started = time.monotonic()  # The job's time limit counts from now.

    def shutdown(self) -> None:
        for worker in self._workers:
            if worker.process.poll() is None:
                with contextlib.suppress(OSError):
                    worker.connection.send(("stop",))
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
        idle = sorted((w for w in self._workers if w.job is None), key=lambda w: not w.ready)
        if not idle:
            raise ExecutorError("submit called without a free worker")
        worker = idle[0]
        if worker.process.poll() is not None:
            logger.warning("idle worker %s %s; starting a new one", worker.worker_id,
                           _describe_exit(worker.process.returncode))  # fmt: skip
            worker = self._respawn(worker)
        worker.job = job
        worker.started = time.monotonic()
        with contextlib.suppress(OSError):  # The next poll finds a dead worker and fails its trial.
            worker.connection.send(("job", job))

    def poll(self, timeout: float) -> list[Event]:
        events: list[Event] = []
        watched = [w for w in self._workers if w.job is not None or not w.ready]
        if not watched:
            return events
        busy = [w for w in watched if w.ready and w.job is not None]
        wait_for = min(timeout, self._time_to_next_deadline(busy), MEMORY_POLL_INTERVAL_S)
        ready = wait([w.connection for w in watched], timeout=max(0.0, wait_for))
        for worker in watched:
            if worker.connection in ready:
                events.extend(self._drain(worker))
        events.extend(self._enforce_limits())
        self._check_startup_time()
        return events

    def _drain(self, worker: _Worker) -> list[Event]:
        events: list[Event] = []
        try:
            if not worker.ready:
                self._mark_ready(worker, worker.connection.recv())
            while worker.connection.poll():
                kind, payload = worker.connection.recv()
                if kind != "event":
                    continue
                events.append(payload)
                if isinstance(payload, Outcome):
                    worker.job = None
        except (EOFError, OSError):
            outcome = self._worker_died(worker)
            if outcome is not None:
                events.append(outcome)
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
            if job is None or not worker.ready:
                continue
            elapsed = now - worker.started
            if job.time_limit is not None and elapsed > job.time_limit:
                message = (
                    f"trial ran for {elapsed:.1f} s, over its time limit of {job.time_limit:g} s"
                )
                events.append(
                    self._replace(worker, TrialStatus.TIMEOUT, "TimeLimitExceeded", message)
                )
            elif check_memory and job.memory_limit_mb is not None:
                used_mb = resident_memory_mb(worker.process.pid)
                if used_mb > job.memory_limit_mb:
                    message = (
                        f"trial used {used_mb:.0f} MB of resident memory, over its limit of "
                        f"{job.memory_limit_mb:g} MB"
                    )
                    events.append(
                        self._replace(worker, TrialStatus.FAILED, "MemoryLimitExceeded", message)
                    )
        return events

    def _check_startup_time(self) -> None:
        now = time.monotonic()
        for worker in self._workers:
            if not worker.ready and now - worker.spawned > STARTUP_TIMEOUT_S:
                raise ExecutorError(
                    f"worker {worker.worker_id} did not start within {STARTUP_TIMEOUT_S:.0f} s"
                )

    def _worker_died(self, worker: _Worker) -> Outcome | None:
        """Replace a dead worker; return its trial's retryable outcome when it ran one."""
        code = worker.process.wait()
        cause = _describe_exit(code)
        if not worker.ready:
            self._startup_failures += 1
            if code > 0 or self._startup_failures >= MAX_STARTUP_FAILURES:
                raise _load_failed(worker, code)
        if worker.job is not None:
            return self._replace(
                worker, TrialStatus.FAILED, "WorkerDied", f"worker process died: {cause}",
                retryable=True,
            )  # fmt: skip
        logger.warning("idle worker %s %s; starting a new one", worker.worker_id, cause)
        self._respawn(worker)
        return None

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
        self._respawn(worker)
        return outcome

    def _respawn(self, worker: _Worker) -> _Worker:
        """Kill ``worker`` and start a replacement in its place without waiting for it."""
        self._kill(worker)
        replacement = self._spawn()
        self._workers[self._workers.index(worker)] = replacement
        return replacement

    @staticmethod
    def _kill(worker: _Worker) -> None:
        """Kill the worker and any processes the user's code started under it."""
        try:
            children = psutil.Process(worker.process.pid).children(recursive=True)
        except psutil.Error:
            children = []
        for process in [*children]:
            with contextlib.suppress(psutil.Error):
                process.kill()
        if worker.process.poll() is None:
            worker.process.kill()
        worker.process.wait()
        worker.connection.close()


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


def _load_failed(worker: _Worker, code: int) -> ExecutorError:
    return ExecutorError(
        f"worker {worker.worker_id} {_describe_exit(code)} while loading the evaluation "
        "function; see its error output above"
    )


def worker_entry() -> None:
    """Start a worker process: ``python -c WORKER_COMMAND FD PARENT_PID``.

    The worker is bound to its parent first, so a driver killed with SIGKILL takes its workers
    with it instead of leaving them to finish trials that a resumed run starts again.
    """
    parent_pid = int(sys.argv[2])
    if sys.platform.startswith("linux"):
        import ctypes

        # The signal fires when the parent's spawning thread exits; the run loop spawns workers
        # from the thread that runs the study, which outlives them.
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    else:
        threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    if os.getppid() != parent_pid:
        os._exit(1)  # The parent died before the binding took effect.
    from paretune.executors._worker import main

    main(sys.argv[1:2])


def _exit_with_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(1)
