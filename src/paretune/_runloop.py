"""The run loop: ask -> dispatch -> collect -> tell, until the budget is spent."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import psutil

from paretune._errors import OptimizerError, StorageError, StudyMismatchError
from paretune._trial_log import FailureSummary, IncumbentTracker, RunProgress
from paretune.budget import Budget, BudgetUsage, exhausted_reason
from paretune.executors import Evaluate, Executor, Job, Outcome, Report, make_executor
from paretune.optimizers import Optimizer, Problem, Suggestion, make_optimizer
from paretune.trial import TrialRecord, TrialStatus

if TYPE_CHECKING:
    from paretune.study import Study

logger = logging.getLogger("paretune")

HEARTBEAT_INTERVAL_S = 30.0
STALE_HEARTBEAT_S = 300.0
POLL_INTERVAL_S = 0.5
# After SIGTERM the run stops gracefully; if that takes longer than this, the process is ended
# with the default action of SIGTERM. Kept under SLURM's default 30 s between SIGTERM and SIGKILL.
TERMINATE_GRACE_S = 20.0


class _Terminated(KeyboardInterrupt):
    """Raised by the SIGTERM handler so a terminated run stops like a Ctrl-C."""


@dataclass
class RunOptions:
    budget: Budget
    n_workers: int = 1
    trial_time_limit: float | None = None
    trial_memory_limit_mb: float | None = None
    max_consecutive_failures: int | None = 10
    max_retries: int = 1
    show_progress: bool | None = None
    reference_config: dict[str, Any] | None = None
    on_trial_finished: Callable[[Study, TrialRecord], None] | None = None
    executor_options: dict[str, Any] = field(default_factory=dict)


def trial_seed(study_seed: int, trial_id: int) -> int:
    """Derive a trial's seed from the study seed and its id (stable across runs and platforms)."""
    return int(np.random.SeedSequence([study_seed, trial_id]).generate_state(1)[0])


class RunLoop:
    """One invocation of ``Study.optimize``: owns the executor and the optimizer for its run."""

    def __init__(
        self,
        study: Study,
        evaluate: Evaluate,
        executor: str | Executor,
        optimizer: str,
        optimizer_settings: Mapping[str, Any] | None,
        options: RunOptions,
    ) -> None:
        self.study = study
        self.storage = study.storage
        self.evaluate = evaluate
        self.options = options
        self.driver_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.optimizer = self._resolve_optimizer(optimizer, optimizer_settings)
        self.executor = make_executor(
            executor, n_workers=options.n_workers, **options.executor_options
        )
        self.in_flight: dict[int, TrialRecord] = {}
        self.pending_reports: list[tuple[int, int, float, dict[str, float]]] = []
        self.failures = FailureSummary()
        self.consecutive_failures = 0
        self.started = time.monotonic()
        self.stop_reason: str | None = None
        self._heartbeat_stop = threading.Event()
        self._stopped = False

    # -- set-up -------------------------------------------------------------------------------

    def _resolve_optimizer(self, requested: str, settings: Mapping[str, Any] | None) -> Optimizer:
        budget = self.options.budget
        problem = Problem(
            space=self.study.space,
            objectives=self.study.objectives,
            constraints=self.study.constraints,
            seed=self.study.seed,
            n_workers=self.options.n_workers,
            max_trials=budget.max_trials,
            max_fidelity_total=budget.max_fidelity_total,
            max_reference_runs=budget.max_reference_runs,
        )
        stored = self.study.optimizer_info
        if stored and requested in ("auto", stored["name"]) and not settings:
            optimizer, _ = make_optimizer(stored["name"], problem, stored.get("settings"))
            logger.info("continuing with optimizer %r (%s)", stored["name"], stored["reason"])
            return optimizer
        if stored and requested not in ("auto", stored["name"]):
            raise StudyMismatchError(
                f"the study at {str(self.study.path)!r} runs optimizer {stored['name']!r}, but "
                f"{requested!r} was requested; pass optimizer={stored['name']!r} or 'auto' to "
                "continue it, or use a new storage folder"
            )
        optimizer, reason = make_optimizer(requested, problem, dict(settings or {}))
        info = {"name": optimizer.name, "settings": optimizer.settings(), "reason": reason}
        self.storage.write_meta({"optimizer": info})
        logger.info("optimizer %r chosen: %s", optimizer.name, reason)
        return optimizer

    def _register_driver(self) -> None:
        process = psutil.Process()
        self.storage.register_driver(
            {
                "id": self.driver_id,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "pid_started": process.create_time(),
                "heartbeat": time.time(),
                "command": " ".join(sys.argv),
            }
        )
        self.storage.add_event(
            "run_started",
            {
                "driver": self.driver_id,
                "command": sys.argv,
                "budget": self.options.budget.to_dict(),
                "n_workers": self.options.n_workers,
                "executor": self.executor.name,
                "optimizer": self.optimizer.name,
            },
        )
        thread = threading.Thread(target=self._heartbeat_loop, daemon=True)
        thread.start()

    def _heartbeat_loop(self) -> None:
        from paretune.storage import SQLiteStorage

        try:
            storage = SQLiteStorage(self.storage.path, create=False)
        except StorageError as error:
            logger.warning("heartbeat disabled: %s", error)
            return
        try:
            while not self._heartbeat_stop.wait(HEARTBEAT_INTERVAL_S):
                try:
                    storage.heartbeat(self.driver_id)
                except StorageError as error:
                    logger.warning("heartbeat of driver %s failed: %s", self.driver_id, error)
        finally:
            storage.close()

    def _recover_interrupted(self) -> None:
        """Mark RUNNING trials whose driver is gone as INTERRUPTED, so they are run again."""
        drivers = self.storage.drivers()
        orphaned = [
            trial_id
            for trial_id, driver_id in self.storage.running_trial_drivers()
            if driver_id != self.driver_id and not _driver_alive(drivers.get(driver_id or ""))
        ]
        if not orphaned:
            return
        with self.storage.transaction() as db:
            for trial_id in orphaned:
                self.storage.update_trial(
                    db,
                    trial_id,
                    status=TrialStatus.INTERRUPTED,
                    error_type="Interrupted",
                    error_message="the driver process stopped while the trial ran",
                    finished_at=time.time(),
                )
        logger.warning(
            "%d trial(s) of a stopped run were interrupted (%s); they will run again",
            len(orphaned),
            ", ".join(map(str, orphaned)),
        )

    def _enqueue_reference(self) -> None:
        wanted = self.options.budget.max_reference_runs is not None
        if not wanted and self.options.reference_config is None:
            return
        if self._reference_trial() is not None:
            return
        config = self.options.reference_config
        if config is None:
            config = self.study.space.prior_config()
        trial_id = self.study.enqueue(config)
        with self.storage.transaction() as db:
            self.storage.update_trial(
                db, trial_id, system_attrs={"enqueued": True, "reference": True}
            )
        logger.info("trial %d runs the reference configuration at full fidelity", trial_id)

    # -- the loop -----------------------------------------------------------------------------

    def run(self) -> None:
        self._register_driver()
        self._recover_interrupted()
        self._enqueue_reference()
        self.study.sync()
        self.tracker = IncumbentTracker(
            self.study.objectives, self.study.constraints, self.study.space.fidelity
        )
        for trial in self.study.history:
            self.tracker.add(trial)
        self.usage = BudgetUsage.from_history(self.study.history)
        termination = _TerminationHandler()
        try:
            self.executor.start(self.evaluate)
            # Installed after the executor started because ``ray.init`` sets its own handler.
            termination.install()
            self.progress = RunProgress(self.options.show_progress, self.options.budget)
            with self.progress:
                self._loop()
        except KeyboardInterrupt:
            # A second Ctrl-C (users press it twice) must not break the bookkeeping below.
            with _sigint_ignored():
                self._interrupt("the run was stopped while the trial ran")
                self._stop(termination)
            raise
        except BaseException as error:
            self._interrupt_after_error(error)
            raise
        finally:
            self._stop(termination)
        self._finish()

    def _stop(self, termination: _TerminationHandler) -> None:
        """Shut the executor down and save pending reports, also after an error (once)."""
        if self._stopped:
            return
        self._stopped = True
        try:
            self.executor.shutdown()
            self._flush_reports()
        except StorageError as error:
            logger.error("could not save the last learning-curve points: %s", error)
        finally:
            self._heartbeat_stop.set()
            termination.restore()

    def _loop(self) -> None:
        while True:
            self._fill_slots()
            if not self.in_flight:
                if self.stop_reason is None:
                    self.stop_reason = "no trial could be started"
                return
            for event in self.executor.poll(POLL_INTERVAL_S):
                self._handle(event)
            self._flush_reports()
            self.progress.update(self.usage, self.tracker)

    def _fill_slots(self) -> None:
        while self.executor.free_slots() > 0:
            # After a stop, only retries of trials whose worker died still run: they add no
            # trial, and leaving them queued would leave the study with unfinished trials.
            if self.stop_reason is not None and not self._pending_retries():
                return
            self.usage.elapsed = time.monotonic() - self.started
            self.usage.trials = len(self.study.history)
            reason = self._budget_reason()
            if reason is not None:
                self.stop_reason = self.stop_reason or reason
                return
            job = self._next_job()
            if job is None:
                return
            self.executor.submit(job)

    def _pending_retries(self) -> list[TrialRecord]:
        records = self.study.records_by_id
        candidates = (records[trial_id] for trial_id in sorted(self.study.claimable_ids))
        return [
            t
            for t in candidates
            if t.status is TrialStatus.PENDING and t.system_attrs.get("retries")
        ]

    def _fail_unrun_retries(self, reason: str) -> None:
        """Record retries that the spent budget did not allow as FAILED with their last cause."""
        retries = self._pending_retries()
        if not retries:
            return
        with self.storage.transaction() as db:
            for trial in retries:
                cause = trial.system_attrs["retries"][-1]
                message = f"{cause}; the retry did not run because the run stopped: {reason}"
                self.storage.update_trial(
                    db, trial.id, status=TrialStatus.FAILED, error_type="WorkerDied",
                    error_message=message, finished_at=time.time(),
                )  # fmt: skip
        self.study.sync()
        logger.warning("%d trial(s) whose worker died were not retried: %s", len(retries), reason)

    def _budget_reason(self) -> str | None:
        reference = self._reference_trial()
        failed = reference is not None and reference.status.is_finished
        if reference is not None and failed and reference.status is not TrialStatus.COMPLETED:
            return (
                f"the reference trial {reference.id} {reference.status.value}: "
                f"{reference.error_message}; the budget in reference runs cannot be measured"
            )
        in_flight = sum(self._fidelity_to_train(t) for t in self.in_flight.values())
        usage = self.usage
        if self._claimable() is not None:
            # Queued and interrupted trials already exist, so running them adds no trial.
            usage = dataclasses.replace(usage, trials=0)
        return exhausted_reason(self.options.budget, usage, fidelity_in_flight=in_flight)

    def _reference_trial(self) -> TrialRecord | None:
        reference_id = self.study.reference_id
        return None if reference_id is None else self.study.records_by_id[reference_id]

    def _claimable(self) -> TrialRecord | None:
        """Return the queued or interrupted trial with the lowest id, if any."""
        claimable = self.study.claimable_ids
        return self.study.records_by_id[min(claimable)] if claimable else None

    def _fidelity_to_train(self, trial: TrialRecord) -> float:
        """The fidelity a running trial will add: only the extra part for a promotion."""
        if trial.fidelity is None:
            return 0.0
        parent = self.study.records_by_id.get(trial.parent_id) if trial.parent_id else None
        if parent is not None and parent.fidelity is not None:
            return max(0.0, float(trial.fidelity) - float(parent.fidelity))
        return float(trial.fidelity)

    def _next_job(self) -> Job | None:
        """Claim a queued or interrupted trial, or ask the optimizer; store it as RUNNING."""
        now = time.time()
        with self.storage.transaction() as db:
            self.study.sync()
            self.usage.trials = len(self.study.history)
            record = self._claimable()
            if record is not None:
                interrupted = record.status is TrialStatus.INTERRUPTED
                attempt = record.attempt + 1 if interrupted else record.attempt
                self.storage.clear_curve(db, record.id)
                self.storage.update_trial(
                    db, record.id, status=TrialStatus.RUNNING, attempt=attempt, started_at=now,
                    driver_id=self.driver_id, error_type=None, error_message=None,
                    traceback=None, finished_at=None,
                )  # fmt: skip
            else:
                if exhausted_reason(self.options.budget, self.usage) is not None:
                    return None
                suggestion = self._ask()
                if suggestion is None:
                    if not self.in_flight:
                        self.stop_reason = _exhausted_message(self.study)
                    return None
                record = self._new_record(suggestion, now)
                record.id = self.storage.insert_trial(db, record, driver_id=self.driver_id)
        self.study.sync()
        stored = self.study.records_by_id[record.id]
        self.in_flight[stored.id] = stored
        return self._job_for(stored)

    def _ask(self) -> Suggestion | None:
        next_id = (self.study.history[-1].id + 1) if self.study.history else 1
        suggestion = self.optimizer.ask(self.study.history, next_id)
        if suggestion is None:
            return None
        try:
            config = self.study.space.validate_config(suggestion.config)
        except Exception as error:
            raise OptimizerError(
                f"optimizer {self.optimizer.name!r} proposed an invalid configuration: {error}"
            ) from error
        return Suggestion(config, suggestion.fidelity, suggestion.parent_id, suggestion.info)

    def _new_record(self, suggestion: Suggestion, now: float) -> TrialRecord:
        system_attrs: dict[str, Any] = {}
        if suggestion.info:
            system_attrs["optimizer"] = suggestion.info
        return TrialRecord(
            id=0,
            config=suggestion.config,
            fidelity=suggestion.fidelity,
            status=TrialStatus.RUNNING,
            parent_id=suggestion.parent_id,
            system_attrs=system_attrs,
            created_at=now,
            started_at=now,
        )

    def _job_for(self, record: TrialRecord) -> Job:
        parent = self.study.records_by_id.get(record.parent_id) if record.parent_id else None
        directory = self.study.trial_dir(record.id)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StorageError(
                f"cannot create the trial folder {str(directory)!r}: {error}; free space on that "
                "disk or make the study folder writable, then run the same command again"
            ) from error
        return Job(
            trial_id=record.id,
            attempt=record.attempt,
            config=record.config,
            fidelity=record.fidelity,
            dir=directory,
            seed=trial_seed(self.study.seed, record.id),
            objective_names=tuple(o.name for o in self.study.objectives),
            constraint_names=tuple(c.name for c in self.study.constraints),
            parent_id=record.parent_id,
            parent_dir=self.study.trial_dir(parent.id) if parent is not None else None,
            parent_fidelity=parent.fidelity if parent is not None else None,
            time_limit=self.options.trial_time_limit,
            memory_limit_mb=self.options.trial_memory_limit_mb,
        )

    # -- results ------------------------------------------------------------------------------

    def _handle(self, event: Report | Outcome) -> None:
        if isinstance(event, Report):
            self.pending_reports.append((event.trial_id, event.attempt, event.step, event.values))
            trial = self.in_flight.get(event.trial_id)
            if trial is not None:
                trial.learning_curve.append((event.step, dict(event.values)))
            return
        trial = self.in_flight.pop(event.trial_id, None)
        if trial is None:
            return
        retries = len(trial.system_attrs.get("retries", []))
        if event.retryable and retries < self.options.max_retries:
            self._requeue(trial, event)
            return
        self._record_outcome(trial, event)

    def _requeue(self, trial: TrialRecord, outcome: Outcome) -> None:
        retries = [*trial.system_attrs.get("retries", []), outcome.error_message]
        logger.warning(
            "trial %d on worker %s: %s; running it again from its folder (retry %d of %d)",
            trial.id, outcome.worker_id, outcome.error_message, len(retries),
            self.options.max_retries,
        )  # fmt: skip
        with self.storage.transaction() as db:
            self.storage.update_trial(
                db, trial.id, status=TrialStatus.PENDING, attempt=trial.attempt + 1,
                system_attrs={**trial.system_attrs, "retries": retries},
            )  # fmt: skip
        self.study.sync()

    def _record_outcome(self, trial: TrialRecord, outcome: Outcome) -> None:
        with self.storage.transaction() as db:
            self.storage.update_trial(
                db,
                trial.id,
                status=outcome.status,
                metric_values=outcome.values,
                cost=outcome.cost,
                fidelity_spent=outcome.fidelity_spent,
                user_attrs=outcome.user_attrs,
                error_type=outcome.error_type,
                error_message=outcome.error_message,
                traceback=outcome.traceback,
                worker_id=outcome.worker_id,
                finished_at=time.time(),
            )
        self.study.sync()
        record = self.study.records_by_id[trial.id]
        self.usage.add(record)
        if record.system_attrs.get("reference") and record.status is TrialStatus.COMPLETED:
            self.usage.reference_cost = record.cost
        self.tracker.add(record)
        self._count_failure(record)
        logger.info("%s", self.tracker.describe(record))
        if self.options.on_trial_finished is not None:
            self.options.on_trial_finished(self.study, record)

    def _count_failure(self, record: TrialRecord) -> None:
        if record.status is TrialStatus.COMPLETED:
            self.consecutive_failures = 0
            return
        self.failures.add(record)
        self.consecutive_failures += 1
        limit = self.options.max_consecutive_failures
        if limit is not None and self.consecutive_failures >= limit and self.stop_reason is None:
            self.stop_reason = f"{limit} consecutive trials failed (max_consecutive_failures)"
            self.study.stopped_by_failures = True

    def _flush_reports(self) -> None:
        if self.pending_reports:
            self.storage.add_curve_points(self.pending_reports)
            self.pending_reports = []

    # -- the end ------------------------------------------------------------------------------

    def _interrupt(self, reason: str) -> None:
        """Mark every trial this driver still has RUNNING as INTERRUPTED, to run again later."""
        running = set(self.in_flight) | {
            trial_id
            for trial_id, driver_id in self.storage.running_trial_drivers()
            if driver_id == self.driver_id
        }
        if running:
            with self.storage.transaction() as db:
                for trial_id in sorted(running):
                    self.storage.update_trial(
                        db, trial_id, status=TrialStatus.INTERRUPTED, error_type="Interrupted",
                        error_message=reason, finished_at=time.time(),
                    )  # fmt: skip
        self.storage.add_event("run_stopped", {"driver": self.driver_id, "reason": "interrupted"})
        logger.warning(
            "run interrupted; %d running trial(s) marked INTERRUPTED. Run the same command "
            "again to resume: interrupted trials run first.",
            len(running),
        )

    def _interrupt_after_error(self, error: BaseException) -> None:
        logger.error("run stopped by %s: %s", type(error).__name__, error)
        try:
            self._interrupt(f"the run stopped with {type(error).__name__} while the trial ran")
        except Exception as second:  # The storage may be what failed; resuming marks them too.
            logger.warning(
                "could not mark the running trials INTERRUPTED (%s); a resumed run does it", second
            )

    def _finish(self) -> None:
        reason = self.stop_reason or "budget spent"
        self._fail_unrun_retries(reason)
        self.study.stop_reason = reason
        self.storage.add_event("run_stopped", {"driver": self.driver_id, "reason": reason})
        logger.info("run finished: %s", reason)
        self.failures.log(logger)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _exhausted_message(study: Study) -> str:
    size = study.space.size
    return f"search space exhausted: all {size:g} distinct configurations were evaluated"


def _driver_alive(driver: Mapping[str, Any] | None) -> bool:
    if driver is None:
        return False
    if driver["host"] != socket.gethostname():
        return bool(time.time() - float(driver["heartbeat"]) < STALE_HEARTBEAT_S)
    try:
        process = psutil.Process(int(driver["pid"]))
        alive = abs(process.create_time() - float(driver["pid_started"])) < 1.0
        return bool(alive and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


class _TerminationHandler:
    """Turns the first SIGTERM into a graceful stop, bounded by ``TERMINATE_GRACE_S``.

    The first SIGTERM raises ``_Terminated`` in the main thread, so the run stops as after
    Ctrl-C: running trials are marked INTERRUPTED and workers are stopped. Repeated SIGTERMs
    during that stop are logged and ignored. If the stop has not finished after the grace
    period, SIGTERM's default action ends the process.
    """

    def __init__(self) -> None:
        self._previous: Any = None
        self._installed = False
        self._received = False
        self._timer: threading.Timer | None = None

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # Signal handlers can only be set from the main thread.
        self._previous = signal.signal(signal.SIGTERM, self._handle)
        self._installed = True

    def restore(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)
            self._installed = False

    def _handle(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if self._received:
            logger.warning("received %s again; the run is already stopping", name)
            return
        self._received = True
        logger.warning("received %s; stopping the run within %g s", name, TERMINATE_GRACE_S)
        self._timer = threading.Timer(TERMINATE_GRACE_S, _terminate_now, args=(signum,))
        self._timer.daemon = True
        self._timer.start()
        raise _Terminated(f"received signal {name}")


def _terminate_now(signum: int) -> None:
    logger.error("the run did not stop within %g s of SIGTERM; exiting now", TERMINATE_GRACE_S)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
