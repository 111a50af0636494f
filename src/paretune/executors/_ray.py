"""Run trials as Ray tasks, on this machine or on a Ray cluster.

Each trial is one streaming Ray task. The task first yields a start event, then learning-curve
points and new checkpoint files while the evaluation runs, and finally the outcome. Yielded items
belong to the driver, so the files a trial saved before its worker died survive the worker and a
retry starts from them. The driver keeps the storage and the optimizer; workers need only paretune
and the user's code installed. Ray is imported when the executor starts, never at module import.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import logging
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import cloudpickle

from paretune._errors import ExecutorError, StorageError
from paretune.executors._base import (
    Evaluate,
    Event,
    Executor,
    Job,
    Outcome,
    Report,
    evaluate_job,
    resident_memory_mb,
)
from paretune.trial import TrialStatus

logger = logging.getLogger(__name__)

# How often a running trial sends the files that changed in its folder back to the driver.
SYNC_INTERVAL_S = 1.0
# How often a running trial checks its resident memory against its limit.
MEMORY_CHECK_INTERVAL_S = 0.2
# A trial that waits this long for Ray to schedule it gets one warning naming its resources.
PENDING_WARNING_S = 60.0
# Files that are still being written: ``Trial.save_checkpoint`` writes ``*.partial``, then renames.
PARTIAL_SUFFIXES = (".partial",)
RESOURCE_KEYS = ("num_cpus", "num_gpus", "memory")

Files = dict[str, bytes]
Point = tuple[float, dict[str, float]]


# -- events of a trial's stream, created on the worker and read on the driver --------------------


@dataclass(frozen=True)
class _Started:
    worker_id: str


@dataclass(frozen=True)
class _Reports:
    points: list[Point]


@dataclass(frozen=True)
class _FilesChanged:
    files: Files


@dataclass(frozen=True)
class _OverMemory:
    used_mb: float


@dataclass(frozen=True)
class _Finished:
    outcome: Outcome
    files: Files


@dataclass(frozen=True)
class _Shipment:
    """The data a task needs besides its job: folder contents as bytes, or a shared folder."""

    own_files: Files
    parent_files: Files
    shared_root: str | None
    sys_path: list[str]


@dataclass
class _Task:
    job: Job
    stream: Any  # ray.ObjectRefGenerator
    submitted: float
    started: float | None = None
    worker_id: str | None = None
    warned_pending: bool = False


class RayExecutor(Executor):
    """Run each trial as a Ray task with the requested resources, ``n_workers`` at a time.

    Without ``address`` (and without ``RAY_ADDRESS``), a private single-node Ray instance is
    started and shut down with the executor. ``address="auto"`` joins a cluster
    started with ``ray start``, and ``"HOST:PORT"`` joins a given head node. An instance that is
    already initialized in this process is used as it is and left running.

    Checkpoints travel as bytes by default: the task receives the files of the trial's own folder
    (from an earlier attempt) and of its parent's folder, and sends back every file it writes,
    each second while it runs and once at the end. The driver writes them into
    ``RUN/trials/<id>/``. With ``checkpoint_path``, a folder that every node mounts, trial ``i``
    reads and writes ``checkpoint_path/i`` directly and nothing is copied.

    Args:
        n_workers: Trials run at the same time.
        address: The Ray cluster to join: None (a private local instance), "auto" or HOST:PORT.
        resources_per_trial: Ray resources of one trial, for example
            ``{"num_cpus": 1, "num_gpus": 0.5}``; ``memory`` is in bytes, any other key is a
            custom resource. Default: one CPU.
        checkpoint_path: A folder shared by all nodes that holds the trial folders.

    Example:
        >>> study = pt.run(evaluate, space, objectives=["loss"], max_trials=50, n_workers=4,
        ...                executor="ray", executor_options={"address": "auto"})  # doctest: +SKIP
    """

    name = "ray"

    def __init__(
        self,
        n_workers: int = 1,
        *,
        address: str | None = None,
        resources_per_trial: Mapping[str, Any] | None = None,
        checkpoint_path: str | Path | None = None,
    ) -> None:
        if n_workers < 1:
            raise ExecutorError(f"n_workers must be at least 1, got {n_workers}")
        self.n_workers = n_workers
        self.address = address
        self.resources_per_trial = _check_resources(resources_per_trial)
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path is not None else None
        self._tasks: list[_Task] = []
        self._owns_ray = False
        self._payload_ref: Any = None
        self._digest = ""
        self._remote: Any = None

    # -- life cycle -------------------------------------------------------------------------

    def start(self, evaluate: Evaluate) -> None:
        ray = _import_ray()
        try:
            payload = cloudpickle.dumps(evaluate)
        except Exception as error:
            raise ExecutorError(
                f"cannot send the evaluation function to Ray workers ({error}); define it at "
                "module level, or use executor='inline'"
            ) from error
        self._connect(ray)
        self._digest = hashlib.sha256(payload).hexdigest()
        self._payload_ref = ray.put(payload)
        self._remote = _remote_trial_function().options(**_task_options(self.resources_per_trial))
        logger.info(
            "Ray executor ready: %d trial(s) at a time, %s per trial, checkpoints %s",
            self.n_workers, self.resources_per_trial,
            f"in {str(self.checkpoint_path)!r}" if self.checkpoint_path else "sent as bytes",
        )  # fmt: skip

    def _connect(self, ray: Any) -> None:
        if ray.is_initialized():
            logger.info("using the Ray instance already initialized in this process")
            return
        if self.address is None and not os.environ.get("RAY_ADDRESS"):
            # Every slot gets its CPUs even on a small machine, as with the process executor.
            num_cpus = max(os.cpu_count() or 1, self.n_workers * _cpus(self.resources_per_trial))
            ray.init(
                address="local",
                num_cpus=int(num_cpus),
                include_dashboard=False,
                logging_level=logging.WARNING,
            )
            logger.info("started a local Ray instance with %d CPUs", num_cpus)
        else:
            target = self.address or os.environ.get("RAY_ADDRESS")
            try:
                ray.init(address=target, logging_level=logging.WARNING)
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise ExecutorError(
                    f"cannot connect to the Ray cluster at {target!r}: {error}; start one with "
                    "'ray start --head --port 6379' and pass --address HOST:6379 (or 'auto' on "
                    "the head node). A cluster with token authentication also needs "
                    "RAY_AUTH_MODE=token in this process's environment"
                ) from error
            logger.info("connected to the Ray cluster at %s", target)
        self._owns_ray = True

    def shutdown(self) -> None:
        if self._tasks:
            ray = _import_ray()
            logger.info("cancelling %d running Ray task(s)", len(self._tasks))
            for task in self._tasks:
                _cancel(ray, task)
        self._tasks = []
        if self._owns_ray:
            _import_ray().shutdown()
            self._owns_ray = False

    # -- scheduling -------------------------------------------------------------------------

    def free_slots(self) -> int:
        return self.n_workers - len(self._tasks)

    def running(self) -> list[int]:
        return [task.job.trial_id for task in self._tasks]

    def submit(self, job: Job) -> None:
        if self._remote is None:
            raise ExecutorError("submit called before start")
        if self.free_slots() <= 0:
            raise ExecutorError("submit called without a free slot")
        shipment = self._shipment(job)
        stream = self._remote.remote(self._payload_ref, self._digest, job, shipment)
        self._tasks.append(_Task(job, stream, submitted=time.monotonic()))

    def _shipment(self, job: Job) -> _Shipment:
        if self.checkpoint_path is not None:
            return _Shipment({}, {}, str(self.checkpoint_path), list(sys.path))
        parent_files = pack_folder(job.parent_dir) if job.parent_dir is not None else {}
        return _Shipment(pack_folder(job.dir), parent_files, None, list(sys.path))

    def poll(self, timeout: float) -> list[Event]:
        if not self._tasks:
            return []
        ray = _import_ray()
        wait_for = max(0.0, min(timeout, self._time_to_next_deadline()))
        streams = [task.stream for task in self._tasks]
        ready, _ = ray.wait(streams, num_returns=1, timeout=wait_for)
        if ready:
            ready, _ = ray.wait(streams, num_returns=len(streams), timeout=0)
        events: list[Event] = []
        for task in list(self._tasks):
            if any(stream is task.stream for stream in ready):
                events.extend(self._drain(ray, task))
        events.extend(self._enforce_limits(ray))
        return events

    # -- reading a task's stream ------------------------------------------------------------

    def _drain(self, ray: Any, task: _Task) -> list[Event]:
        events: list[Event] = []
        while task in self._tasks:
            if not task.stream.next_ready():
                if task.stream.is_finished():
                    events.append(self._fail(task, "the Ray task ended without a result", True))
                return events
            try:
                item = ray.get(next(task.stream))
            except StopIteration:
                continue
            except ray.exceptions.RayError as error:
                events.append(self._fail_from_ray_error(ray, task, error))
                return events
            events.extend(self._handle_item(ray, task, item))
        return events

    def _handle_item(self, ray: Any, task: _Task, item: object) -> list[Event]:
        job = task.job
        if isinstance(item, _Started):
            task.started = time.monotonic()
            task.worker_id = item.worker_id
            return []
        if isinstance(item, _Reports):
            return [Report(job.trial_id, job.attempt, step, values) for step, values in item.points]
        if isinstance(item, _FilesChanged):
            write_files(job.dir, item.files)
            return []
        if isinstance(item, _OverMemory):
            message = (
                f"trial used {item.used_mb:.0f} MB of resident memory, over its limit of "
                f"{job.memory_limit_mb:g} MB"
            )
            _cancel(ray, task)
            return [self._fail(task, message, False, error_type="MemoryLimitExceeded")]
        if isinstance(item, _Finished):
            write_files(job.dir, item.files)
            self._tasks.remove(task)
            return [item.outcome]
        raise ExecutorError(f"trial {job.trial_id}: unexpected item {item!r} from its Ray task")

    def _fail_from_ray_error(self, ray: Any, task: _Task, error: Exception) -> Outcome:
        errors = ray.exceptions
        if isinstance(error, errors.RayTaskError):
            cause = error.cause if error.cause is not None else error
            outcome = self._fail(task, str(cause) or type(cause).__name__, False)
            outcome.error_type = type(cause).__name__
            outcome.traceback = str(error)
            return outcome
        if isinstance(error, errors.OutOfMemoryError):
            message = f"Ray stopped the task because its node ran out of memory: {error}"
            return self._fail(task, message, True, error_type="OutOfMemory")
        if isinstance(error, (errors.TaskCancelledError, errors.TaskUnschedulableError)):
            return self._fail(task, _first_line(error), False, error_type=type(error).__name__)
        return self._fail(task, f"Ray worker died: {_first_line(error)}", True)

    def _fail(
        self,
        task: _Task,
        message: str,
        retryable: bool,
        *,
        status: TrialStatus = TrialStatus.FAILED,
        error_type: str = "WorkerDied",
    ) -> Outcome:
        if task in self._tasks:
            self._tasks.remove(task)
        duration = time.monotonic() - (task.started or task.submitted)
        worker = task.worker_id or "not started"
        logger.warning("trial %d (%s): %s", task.job.trial_id, worker, message)
        return Outcome(
            trial_id=task.job.trial_id,
            attempt=task.job.attempt,
            status=status,
            cost=duration,
            duration=duration,
            error_type=error_type,
            error_message=message,
            worker_id=task.worker_id,
            retryable=retryable,
        )

    # -- limits -----------------------------------------------------------------------------

    def _time_to_next_deadline(self) -> float:
        now = time.monotonic()
        remaining = [
            task.started + task.job.time_limit - now
            for task in self._tasks
            if task.started is not None and task.job.time_limit is not None
        ]
        return min(remaining, default=3600.0)

    def _enforce_limits(self, ray: Any) -> list[Event]:
        events: list[Event] = []
        now = time.monotonic()
        for task in list(self._tasks):
            limit = task.job.time_limit
            if task.started is None:
                self._warn_if_pending(task, now)
            elif limit is not None and now - task.started > limit:
                _cancel(ray, task)
                elapsed = now - task.started
                message = f"trial ran for {elapsed:.1f} s, over its time limit of {limit:g} s"
                events.append(
                    self._fail(
                        task, message, False, status=TrialStatus.TIMEOUT,
                        error_type="TimeLimitExceeded",
                    )
                )  # fmt: skip
        return events

    def _warn_if_pending(self, task: _Task, now: float) -> None:
        if task.warned_pending or now - task.submitted < PENDING_WARNING_S:
            return
        task.warned_pending = True
        logger.warning(
            "trial %d has waited %.0f s for Ray to schedule it with %s; check with 'ray status' "
            "that the cluster has these resources free",
            task.job.trial_id, now - task.submitted, self.resources_per_trial,
        )  # fmt: skip


# -- helpers of the driver ----------------------------------------------------------------------


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as error:
        raise ExecutorError(
            f"executor 'ray' needs Ray ({error}); install it with: pip install 'paretune[ray]'"
        ) from error
    return ray


@functools.cache
def _remote_trial_function() -> Any:
    ray = _import_ray()
    # Ray must not retry on its own: the run loop retries with the attempt counted in storage.
    return ray.remote(num_returns="streaming", max_retries=0, retry_exceptions=False)(
        run_trial_stream
    )


def _check_resources(resources: Mapping[str, Any] | None) -> dict[str, Any]:
    checked: dict[str, Any] = {"num_cpus": 1}
    for key, value in (resources or {}).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ExecutorError(
                f"resources_per_trial[{key!r}] must be a non-negative number, got {value!r}"
            )
        checked[str(key)] = value
    return checked


def _task_options(resources: Mapping[str, Any]) -> dict[str, Any]:
    options = {key: resources[key] for key in RESOURCE_KEYS if key in resources}
    custom = {key: value for key, value in resources.items() if key not in RESOURCE_KEYS}
    if custom:
        options["resources"] = custom
    return options


def _cpus(resources: Mapping[str, Any]) -> float:
    return float(resources.get("num_cpus", 1))


def _cancel(ray: Any, task: _Task) -> None:
    """Stop the task by killing its worker process; Ray starts a new worker when needed."""
    try:
        ray.cancel(task.stream, force=True)
    except Exception as error:  # The task may have ended already.
        logger.debug("trial %d: cancelling its Ray task failed: %s", task.job.trial_id, error)


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def pack_folder(folder: Path) -> Files:
    """Read every finished file under ``folder`` into ``{relative posix path: bytes}``."""
    files: Files = {}
    if not folder.is_dir():
        return files
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.endswith(PARTIAL_SUFFIXES):
            files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


def write_files(folder: Path, files: Files) -> None:
    """Write ``files`` under ``folder``, each atomically (a reader never sees half a file)."""
    for name, data in files.items():
        target = folder / _safe_relative(name)
        partial = target.with_name(target.name + ".receiving")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(data)
            os.replace(partial, target)
        except OSError as error:
            raise StorageError(
                f"cannot write the trial file {str(target)!r} sent back by a Ray worker: {error}; "
                "free space on that disk or make the study folder writable, then run the same "
                "command again to resume"
            ) from error


def _safe_relative(name: str) -> Path:
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ExecutorError(f"invalid file name {name!r} in a trial folder sent by a Ray worker")
    return Path(*relative.parts)


# -- the worker side ------------------------------------------------------------------------------

# Evaluation functions already unpickled in this worker process, by the SHA-256 of their bytes;
# Ray reuses worker processes, so later trials skip the import of the user's module.
_EVALUATE_CACHE: dict[str, Evaluate] = {}


def run_trial_stream(
    payload: bytes, digest: str, job: Job, shipment: _Shipment
) -> Iterator[object]:
    """Run one trial on a Ray worker and yield its events; the body of the Ray task."""
    for entry in reversed(shipment.sys_path):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    evaluate = _EVALUATE_CACHE.get(digest)
    if evaluate is None:
        evaluate = cloudpickle.loads(payload)
        _EVALUATE_CACHE[digest] = evaluate
    worker_id = _worker_id()
    yield _Started(worker_id)
    with _trial_folders(job, shipment) as local_job:
        watcher = _FolderWatcher(local_job.dir) if shipment.shared_root is None else None
        yield from _TrialRun(evaluate, local_job, watcher, worker_id).events()


def _worker_id() -> str:
    import ray

    node = ray.util.get_node_ip_address()  # type: ignore[no-untyped-call]
    return f"ray:{node}:{os.getpid()}"


@contextlib.contextmanager
def _trial_folders(job: Job, shipment: _Shipment) -> Iterator[Job]:
    """Yield ``job`` with folders that exist on this node: the shared ones, or a temporary copy."""
    if shipment.shared_root is not None:
        root = Path(shipment.shared_root)
        parent = root / str(job.parent_id) if job.parent_id is not None else None
        yield dataclasses.replace(job, dir=root / str(job.trial_id), parent_dir=parent)
        return
    # NOTE: a worker killed by a signal cannot remove this folder; it stays in the temp folder.
    root = Path(tempfile.mkdtemp(prefix=f"paretune-trial-{job.trial_id}-"))
    try:
        own = root / str(job.trial_id)
        _unpack(own, shipment.own_files)
        parent = None
        if job.parent_id is not None and job.parent_dir is not None:
            parent = root / f"parent-{job.parent_id}"
            _unpack(parent, shipment.parent_files)
        yield dataclasses.replace(job, dir=own, parent_dir=parent)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _unpack(folder: Path, files: Files) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        target = folder / _safe_relative(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


class _FolderWatcher:
    """Finds the files of a folder that are new or changed since the last look."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._seen = self._signatures()

    def _signatures(self) -> dict[str, tuple[int, int]]:
        signatures: dict[str, tuple[int, int]] = {}
        for path in self.folder.rglob("*"):
            if path.name.endswith(PARTIAL_SUFFIXES):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # Renamed or removed between listing and stat.
            if path.is_file():
                name = path.relative_to(self.folder).as_posix()
                signatures[name] = (stat.st_size, stat.st_mtime_ns)
        return signatures

    def changed_files(self) -> Files:
        current = self._signatures()
        files: Files = {}
        for name, signature in current.items():
            if self._seen.get(name) == signature:
                continue
            try:
                files[name] = (self.folder / name).read_bytes()
            except FileNotFoundError:
                continue
        self._seen = current
        return files


class _TrialRun:
    """Runs the evaluation in a thread while the task's own thread streams its events.

    A Ray streaming task yields from the thread that runs it, so the evaluation runs beside it.
    The task thread forwards reports, sends changed files each ``SYNC_INTERVAL_S`` and checks the
    memory limit until the evaluation ends.
    """

    def __init__(
        self, evaluate: Evaluate, job: Job, watcher: _FolderWatcher | None, worker_id: str
    ) -> None:
        self.evaluate = evaluate
        self.job = job
        self.watcher = watcher
        self.worker_id = worker_id
        self.inbox: queue.Queue[Report | Outcome] = queue.Queue()

    def events(self) -> Iterator[object]:
        thread = threading.Thread(target=self._evaluate, name=f"paretune-trial-{self.job.trial_id}")
        thread.start()
        last_sync = time.monotonic()
        outcome: Outcome | None = None
        while outcome is None:
            points, outcome = self._collect(MEMORY_CHECK_INTERVAL_S)
            if points:
                yield _Reports(points)
            if outcome is not None:
                break
            over = self._memory_over_limit()
            if over is not None:
                yield _OverMemory(over)
            if self.watcher is not None and time.monotonic() - last_sync >= SYNC_INTERVAL_S:
                last_sync = time.monotonic()
                files = self.watcher.changed_files()
                if files:
                    yield _FilesChanged(files)
        thread.join()
        final = self.watcher.changed_files() if self.watcher is not None else {}
        yield _Finished(outcome, final)

    def _collect(self, timeout: float) -> tuple[list[Point], Outcome | None]:
        """Wait up to ``timeout`` for the first item, then take whatever else is queued."""
        points: list[Point] = []
        try:
            item = self.inbox.get(timeout=timeout)
        except queue.Empty:
            return points, None
        while True:
            if isinstance(item, Outcome):
                return points, item
            points.append((item.step, item.values))
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                return points, None

    def _memory_over_limit(self) -> float | None:
        limit = self.job.memory_limit_mb
        if limit is None:
            return None
        used = resident_memory_mb(os.getpid())
        return used if used > limit else None

    def _evaluate(self) -> None:
        job = self.job

        def report(trial_id: int, step: float, values: Mapping[str, float]) -> None:
            self.inbox.put(Report(trial_id, job.attempt, step, dict(values)))

        try:
            outcome = evaluate_job(self.evaluate, job, report, worker_id=self.worker_id)
        except BaseException as error:  # SystemExit and the like end the trial too.
            outcome = Outcome(
                job.trial_id, job.attempt, TrialStatus.FAILED, error_type=type(error).__name__,
                error_message=f"the evaluation raised {type(error).__name__}: {error}",
                worker_id=self.worker_id,
            )  # fmt: skip
        self.inbox.put(outcome)
