"""The study: a search space, objectives and the trials stored for them."""

from __future__ import annotations

import atexit
import logging
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paretune._errors import (
    BudgetError,
    ExecutorError,
    OptimizerError,
    ParetuneError,
    SpaceError,
    StudyMismatchError,
)
from paretune.objectives import (
    Constraint,
    Objective,
    as_constraints,
    as_objectives,
    at_highest_fidelity,
    best_trial,
    pareto_front,
)
from paretune.space import Space
from paretune.storage import SQLiteStorage
from paretune.trial import TrialRecord, TrialStatus

if TYPE_CHECKING:
    import pandas as pd

    from paretune.budget import Budget
    from paretune.executors import Evaluate, Executor

logger = logging.getLogger(__name__)

_VERSIONED_PACKAGES = ("paretune", "numpy", "scipy", "torch", "scikit-learn", "botorch", "pandas")


class Study:
    """A stored study. Create one with ``paretune.run`` or ``create_study``; reopen it with
    ``load_study``.

    The trial list is read from the study file, so a study opened while another process runs it
    shows that process's progress on every access of ``trials``.
    """

    def __init__(self, storage: SQLiteStorage, meta: Mapping[str, Any]) -> None:
        self.storage = storage
        study = meta["study"]
        self.space = Space.from_dict(study["space"])
        self.objectives = tuple(Objective(**o) for o in study["objectives"])
        self.constraints = tuple(Constraint(**c) for c in study["constraints"])
        self.seed = int(study["seed"])
        self.name = str(study.get("name", storage.path.name))
        self._records: list[TrialRecord] = []
        self._by_id: dict[int, TrialRecord] = {}
        self._curves_loaded = False
        self.claimable_ids: set[int] = set()
        self.reference_id: int | None = None
        # Set by the last ``optimize`` call of this object: why it stopped, and whether it stopped
        # because trial after trial failed (a broken evaluation rather than a spent budget).
        self.stop_reason: str | None = None
        self.stopped_by_failures = False

    # -- reading ------------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self.storage.path

    def sync(self) -> list[TrialRecord]:
        """Read the trials changed since the last sync; return the changed records."""
        changed, revision = self.storage.fetch_trials(since_revision=self.storage.revision)
        self.storage.revision = revision
        out_of_order = False
        for record in changed:
            known = self._by_id.get(record.id)
            if known is None:
                out_of_order |= bool(self._records) and record.id < self._records[-1].id
                self._by_id[record.id] = record
                self._records.append(record)
            else:
                curve = known.learning_curve
                known.__dict__.update(record.__dict__)
                known.learning_curve = curve
            self._index(record)
        if out_of_order:
            self._records.sort(key=lambda t: t.id)
        return changed

    def _index(self, record: TrialRecord) -> None:
        if record.status in (TrialStatus.PENDING, TrialStatus.INTERRUPTED):
            self.claimable_ids.add(record.id)
        else:
            self.claimable_ids.discard(record.id)
        if self.reference_id is None and record.system_attrs.get("reference"):
            self.reference_id = record.id

    @property
    def history(self) -> list[TrialRecord]:
        """The cached trial list as of the last ``sync`` (no copy, no learning curves loaded)."""
        return self._records

    @property
    def records_by_id(self) -> dict[int, TrialRecord]:
        return self._by_id

    @property
    def trials(self) -> list[TrialRecord]:
        """All trials, ordered by id, with their learning curves."""
        self.sync()
        if not self._curves_loaded:
            for trial_id, curve in self.storage.fetch_curves().items():
                if trial_id in self._by_id:
                    self._by_id[trial_id].learning_curve = curve
            self._curves_loaded = True
        return list(self._records)

    def trial(self, trial_id: int) -> TrialRecord:
        self.sync()
        if trial_id not in self._by_id:
            raise ParetuneError(
                f"trial {trial_id} not found in {str(self.path)!r}; its trial ids are "
                f"{_id_ranges([t.id for t in self._records])}"
            )
        return self._by_id[trial_id]

    @property
    def meta(self) -> dict[str, Any]:
        return self.storage.read_meta()

    @property
    def metadata(self) -> dict[str, Any]:
        """User metadata stored with the study (for example the dataset's fingerprint)."""
        return dict(self.meta.get("metadata", {}))

    def set_metadata(self, **values: Any) -> None:
        merged = {**self.metadata, **values}
        self.storage.write_meta({"metadata": merged})

    def set_user_attrs(self, trial_id: int, **values: Any) -> None:
        """Merge JSON-safe ``values`` into a stored trial's user attributes."""
        trial = self.trial(trial_id)
        merged = {**trial.user_attrs, **values}
        with self.storage.transaction() as db:
            self.storage.update_trial(db, trial_id, user_attrs=merged)
        self.sync()

    @property
    def optimizer_info(self) -> dict[str, Any]:
        """The optimizer's name, settings and the reason it was chosen."""
        return dict(self.meta.get("optimizer", {}))

    def trial_dir(self, trial_id: int) -> Path:
        return self.storage.trials_dir / str(trial_id)

    # -- results ------------------------------------------------------------------------------

    def final_trials(self) -> list[TrialRecord]:
        """Return the trials that count as found models: those at the highest fidelity reached.

        Without a fidelity in the space, this is every trial.
        """
        return at_highest_fidelity(self.trials, self.objectives)

    @property
    def best_trial(self) -> TrialRecord | None:
        """The best feasible completed trial for the first objective, or None if there is none.

        With several objectives this is the best for the first one; see ``pareto_front``. Only
        trials at the highest fidelity reached compete (see ``final_trials``).
        """
        return best_trial(self.final_trials(), self.objectives[0], self.constraints)

    def best_trial_for(self, objective: str) -> TrialRecord | None:
        match = [o for o in self.objectives if o.name == objective]
        if not match:
            names = [o.name for o in self.objectives]
            raise ParetuneError(f"unknown objective {objective!r}: the study has {names}")
        return best_trial(self.final_trials(), match[0], self.constraints)

    def pareto_front(self) -> list[TrialRecord]:
        """Return the feasible completed trials that no other one dominates, sorted by the first
        objective.

        Only trials at the highest fidelity reached compete (see ``final_trials``).
        """
        return pareto_front(self.final_trials(), self.objectives, self.constraints)

    @property
    def best_trials(self) -> list[TrialRecord]:
        return self.pareto_front()

    def status_counts(self) -> dict[str, int]:
        counts = {status.value: 0 for status in TrialStatus}
        for trial in self.trials:
            counts[trial.status.value] += 1
        return counts

    def to_dataframe(self) -> pd.DataFrame:
        """Return one row per trial: id, status, fidelity, ``params.*``, ``values.*``, timings."""
        import pandas as pd

        rows = [_trial_row(trial) for trial in self.trials]
        columns = ["id", "status", "fidelity", "cost", "duration", "parent_id", "error_message"]
        frame = pd.DataFrame(rows, columns=None if rows else columns)
        # Without this, a column with missing parents turns the ids into floats (4.0).
        frame["parent_id"] = frame["parent_id"].astype("Int64")
        return frame

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        return self.storage.events(kind)

    # -- writing ------------------------------------------------------------------------------

    def enqueue(self, config: Mapping[str, Any], *, fidelity: int | float | None = None) -> int:
        """Queue ``config`` to be evaluated before any optimizer suggestion; return its trial id."""
        clean = self.space.validate_config(dict(config))
        fidelity = self._check_fidelity(fidelity)
        record = TrialRecord(
            id=0,
            config=clean,
            fidelity=fidelity,
            status=TrialStatus.PENDING,
            created_at=time.time(),
            system_attrs={"enqueued": True},
        )
        with self.storage.transaction() as db:
            trial_id = self.storage.insert_trial(db, record)
        self.sync()
        return trial_id

    def _check_fidelity(self, fidelity: int | float | None) -> int | float | None:
        space_fidelity = self.space.fidelity
        if space_fidelity is None:
            if fidelity is not None:
                raise SpaceError(f"fidelity={fidelity!r} given, but the space has no Fidelity")
            return None
        if fidelity is None:
            return space_fidelity.high
        if not space_fidelity.low <= fidelity <= space_fidelity.high:
            raise SpaceError(
                f"fidelity {fidelity!r} is outside [{space_fidelity.low}, {space_fidelity.high}]"
            )
        return type(space_fidelity.high)(fidelity)

    def optimize(
        self,
        evaluate: Evaluate,
        *,
        budget: Budget,
        n_workers: int = 1,
        executor: str | Executor = "process",
        optimizer: str = "auto",
        optimizer_settings: Mapping[str, Any] | None = None,
        reference_config: Mapping[str, Any] | None = None,
        trial_time_limit: float | None = None,
        trial_memory_limit_mb: float | None = None,
        max_consecutive_failures: int | None = 10,
        max_retries: int = 1,
        show_progress: bool | None = None,
        on_trial_finished: Callable[[Study, TrialRecord], None] | None = None,
        executor_options: Mapping[str, Any] | None = None,
    ) -> Study:
        """Run trials until the budget is spent; see ``paretune.run`` for the arguments."""
        from paretune._runloop import RunLoop, RunOptions

        options = RunOptions(
            budget=budget,
            n_workers=n_workers,
            trial_time_limit=trial_time_limit,
            trial_memory_limit_mb=trial_memory_limit_mb,
            max_consecutive_failures=max_consecutive_failures,
            max_retries=max_retries,
            show_progress=show_progress,
            reference_config=dict(reference_config) if reference_config is not None else None,
            on_trial_finished=on_trial_finished,
            executor_options=dict(executor_options or {}),
        )
        RunLoop(self, evaluate, executor, optimizer, optimizer_settings, options).run()
        return self

    def __repr__(self) -> str:
        return f"Study(path={str(self.path)!r}, objectives={[o.name for o in self.objectives]})"


def _trial_row(trial: TrialRecord) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": trial.id,
        "status": trial.status.value,
        "fidelity": trial.fidelity,
        "cost": trial.cost,
        "duration": trial.duration,
        "parent_id": trial.parent_id,
        "error_message": trial.error_message,
    }
    row.update({f"params.{key}": value for key, value in trial.config.items()})
    row.update({f"values.{key}": value for key, value in trial.values.items()})
    return row


def _id_ranges(ids: Sequence[int]) -> str:
    if not ids:
        return "none"
    return f"{min(ids)}-{max(ids)}" if len(ids) > 1 else str(ids[0])


# -- opening and creating ---------------------------------------------------------------------


def load_study(path: str | Path) -> Study:
    """Open the study stored at ``path`` (a folder made by ``paretune.run``)."""
    storage = SQLiteStorage(path, create=False)
    meta = storage.read_meta()
    if "study" not in meta:
        raise StudyMismatchError(
            f"{str(storage.db_path)!r} contains no study: the file was created but not initialized"
        )
    return Study(storage, meta)


def _temporary_storage() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="paretune-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def create_study(
    space: Space | Mapping[str, Any] | str | Path,
    *,
    objectives: Iterable[str | Objective] | str | Objective,
    constraints: Iterable[str | Constraint] | str | Constraint | None = None,
    storage: str | Path | None = None,
    seed: int | None = None,
    name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Study:
    """Create the study at ``storage``, or open it when it exists with the same definition.

    Raises:
        StudyMismatchError: The stored study has another space, objectives, constraints or seed;
            the message lists each difference.
    """
    space = _as_space(space)
    objective_tuple = as_objectives(objectives)
    constraint_tuple = as_constraints(constraints)
    folder = Path(storage) if storage is not None else _temporary_storage()
    store = SQLiteStorage(folder, create=True)
    definition = {
        "space": space.to_dict(),
        "objectives": [o.to_dict() for o in objective_tuple],
        "constraints": [c.to_dict() for c in constraint_tuple],
        "seed": 0 if seed is None else int(seed),
        "name": name or folder.name,
        "created_at": time.time(),
        "versions": package_versions(),
    }
    stored = store.initialize_meta({"study": definition, "metadata": dict(metadata or {})})
    _check_same_definition(stored["study"], definition, seed_given=seed is not None, path=folder)
    if metadata:
        store.write_meta({"metadata": {**stored.get("metadata", {}), **dict(metadata)}})
    return Study(store, store.read_meta())


def _as_space(space: Space | Mapping[str, Any] | str | Path) -> Space:
    if isinstance(space, Space):
        return space
    if isinstance(space, (str, Path)):
        return Space.from_yaml(space)
    if isinstance(space, Mapping):
        return Space(dict(space))
    raise SpaceError(
        "space must be a paretune.Space, a dict of parameters or a YAML path, "
        f"got {type(space).__name__}"
    )


def _check_same_definition(
    stored: Mapping[str, Any], new: Mapping[str, Any], *, seed_given: bool, path: Path
) -> None:
    differences = []
    for key in ("space", "objectives", "constraints"):
        if stored[key] != new[key]:
            differences.append(_describe_difference(key, stored[key], new[key]))
    if seed_given and stored["seed"] != new["seed"]:
        differences.append(f"seed: stored {stored['seed']}, given {new['seed']}")
    if differences:
        raise StudyMismatchError(
            f"the study at {str(path)!r} was created with another definition:\n  - "
            + "\n  - ".join(differences)
            + "\nUse another --storage folder for a new study, or pass the stored definition "
            "to continue this one."
        )


def _describe_difference(key: str, stored: Any, new: Any) -> str:
    if key == "space" and isinstance(stored, Mapping) and isinstance(new, Mapping):
        stored_params = stored.get("parameters", stored)
        new_params = new.get("parameters", new)
        if isinstance(stored_params, Mapping) and isinstance(new_params, Mapping):
            added = sorted(set(new_params) - set(stored_params))
            removed = sorted(set(stored_params) - set(new_params))
            changed = sorted(
                k for k in set(stored_params) & set(new_params) if stored_params[k] != new_params[k]
            )
            return f"space: added {added}, removed {removed}, changed {changed}"
    return f"{key}: stored {stored!r}, given {new!r}"


def package_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0], "platform": platform.platform()}
    for package in _VERSIONED_PACKAGES:
        try:
            versions[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            continue
    return versions


def run(
    evaluate: Evaluate,
    space: Space | Mapping[str, Any] | str | Path,
    *,
    objectives: Iterable[str | Objective] | str | Objective,
    constraints: Iterable[str | Constraint] | str | Constraint | None = None,
    storage: str | Path | None = None,
    max_trials: int | None = None,
    max_cost: float | None = None,
    max_time: float | None = None,
    max_fidelity_total: float | None = None,
    max_reference_runs: float | None = None,
    reference_config: Mapping[str, Any] | None = None,
    n_workers: int = 1,
    executor: str | Executor = "process",
    optimizer: str = "auto",
    optimizer_settings: Mapping[str, Any] | None = None,
    seed: int | None = None,
    enqueue: Iterable[Mapping[str, Any]] = (),
    trial_time_limit: float | None = None,
    trial_memory_limit_mb: float | None = None,
    max_consecutive_failures: int | None = 10,
    max_retries: int = 1,
    metadata: Mapping[str, Any] | None = None,
    show_progress: bool | None = None,
    executor_options: Mapping[str, Any] | None = None,
) -> Study:
    """Create (or resume) a study at ``storage`` and run trials until a budget limit is reached.

    Args:
        evaluate: ``evaluate(trial) -> dict[str, float]`` returning every objective and
            constraint metric. Runs in worker processes: define it at module level.
        space: A ``Space``, a dict of parameters, or the path of a YAML space file.
        objectives: Names (``"loss"``, ``"accuracy:max"``) or ``Objective`` objects.
        constraints: ``"latency_ms<=1"`` strings or ``Constraint`` objects.
        storage: The study folder; a temporary one (deleted at exit) when None. An existing
            study there is resumed: interrupted trials run again and the optimizer continues.
        max_trials: Total trials in the study, counting earlier runs.
        max_cost: Total cost (seconds unless the evaluation sets ``trial.cost``).
        max_time: Wall seconds of this run.
        max_fidelity_total: Total fidelity trained, for example epochs.
        max_reference_runs: Total cost in multiples of the first trial, which runs
            ``reference_config`` (default: the priors' configuration) at full fidelity.
        n_workers: Trials run at the same time.
        executor: "process" (default), "inline" (debugging) or "ray".
        optimizer: "auto" or a registered name such as "random" or "sobol".
        seed: Seed of the study; with one worker the same seed gives the same trials.
        enqueue: Configurations evaluated first, before any optimizer suggestion.
        trial_time_limit: Seconds after which a trial is stopped and recorded as TIMEOUT.
        trial_memory_limit_mb: Resident memory in MB above which a trial is stopped and FAILED.
        max_consecutive_failures: Stop after this many failed trials in a row (None: never).
        max_retries: Re-runs of a trial whose worker process died.
        metadata: JSON-safe values stored with the study.
        show_progress: Show a progress bar (default: when stderr is a terminal).
        executor_options: Options of the executor; for "ray": ``address`` (None starts a local
            instance, "auto" or "HOST:PORT" joins a cluster), ``resources_per_trial`` (such as
            ``{"num_cpus": 1, "num_gpus": 1}``) and ``checkpoint_path`` (a folder every node
            mounts; by default checkpoints travel as bytes).

    Returns:
        The study, with ``best_trial``, ``pareto_front()``, ``trials`` and ``to_dataframe()``.

    Example:
        >>> import paretune as pt
        >>> def evaluate(trial):
        ...     return {"loss": (trial.config["x"] - 1.0) ** 2}
        >>> study = pt.run(evaluate, {"x": pt.Float(-5, 5)}, objectives=["loss"],
        ...                max_trials=20, executor="inline", seed=0)
        >>> study.best_trial.config  # doctest: +SKIP
    """
    from paretune.budget import Budget

    budget = Budget(
        max_trials=max_trials,
        max_cost=max_cost,
        max_time=max_time,
        max_fidelity_total=max_fidelity_total,
        max_reference_runs=max_reference_runs,
    )
    if budget.is_unlimited:
        raise BudgetError(
            "no budget given: pass at least one of max_trials, max_cost, max_time, "
            "max_fidelity_total or max_reference_runs"
        )
    _check_names(optimizer, executor)
    study = create_study(
        space,
        objectives=objectives,
        constraints=constraints,
        storage=storage,
        seed=seed,
        metadata=metadata,
    )
    known = {study.space.config_key(t.config) for t in study.trials}
    for config in enqueue:
        # A resumed run passes the same list again: queue each configuration only once.
        if study.space.config_key(study.space.validate_config(dict(config))) not in known:
            study.enqueue(config)
    return study.optimize(
        evaluate,
        budget=budget,
        n_workers=n_workers,
        executor=executor,
        optimizer=optimizer,
        optimizer_settings=optimizer_settings,
        reference_config=reference_config,
        trial_time_limit=trial_time_limit,
        trial_memory_limit_mb=trial_memory_limit_mb,
        max_consecutive_failures=max_consecutive_failures,
        max_retries=max_retries,
        show_progress=show_progress,
        executor_options=executor_options,
    )


def _check_names(optimizer: str, executor: str | Executor) -> None:
    """Reject unknown optimizer and executor names before the study folder is created."""
    from paretune.executors import EXECUTORS
    from paretune.optimizers import OPTIMIZERS

    if optimizer != "auto" and optimizer not in OPTIMIZERS:
        raise OptimizerError(
            f"unknown optimizer {optimizer!r}: choose 'auto' or one of {sorted(OPTIMIZERS)}"
        )
    if isinstance(executor, str) and executor not in EXECUTORS:
        raise ExecutorError(f"unknown executor {executor!r}: choose one of {sorted(EXECUTORS)}")
