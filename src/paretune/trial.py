"""Trial records (what storage keeps) and the trial handle (what user code receives)."""

from __future__ import annotations

import enum
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

CHECKPOINT_FILE = "checkpoint.pt"


class TrialStatus(enum.StrEnum):
    """Life cycle of a trial.

    PENDING trials are queued, because the user enqueued them or they wait for a re-run. RUNNING
    trials are dispatched. The rest are final, except INTERRUPTED, which a resumed study runs
    again in place.
    """

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    PRUNED = "PRUNED"
    TIMEOUT = "TIMEOUT"
    INTERRUPTED = "INTERRUPTED"

    @property
    def is_finished(self) -> bool:
        return self in _FINISHED


_FINISHED = frozenset(
    {TrialStatus.COMPLETED, TrialStatus.FAILED, TrialStatus.PRUNED, TrialStatus.TIMEOUT}
)


@dataclass
class TrialRecord:
    """One stored trial: its suggestion, its outcome and its bookkeeping.

    ``values`` contains every finite metric the evaluation returned (objectives, constraints and
    extras). A trial whose objective was missing or not finite is FAILED and keeps the reason in
    ``error_message``. ``fidelity_spent`` is the fidelity actually trained: the difference to the
    parent's fidelity when the trial continued from its parent's checkpoint.
    """

    id: int
    config: dict[str, Any]
    fidelity: int | float | None = None
    status: TrialStatus = TrialStatus.PENDING
    values: dict[str, float] = field(default_factory=dict)
    cost: float | None = None
    fidelity_spent: float | None = None
    parent_id: int | None = None
    learning_curve: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    user_attrs: dict[str, Any] = field(default_factory=dict)
    system_attrs: dict[str, Any] = field(default_factory=dict)
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None
    worker_id: str | None = None
    attempt: int = 0
    created_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    dir: Path | None = None

    @property
    def duration(self) -> float | None:
        """Wall seconds between dispatch and the final state, or None while unfinished."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    def value(self, name: str) -> float:
        """Return the metric ``name``, or NaN when the trial has none."""
        return self.values.get(name, math.nan)


ReportFunction = Callable[[int, float, Mapping[str, float]], None]


class Trial:
    """The handle that an evaluation function receives.

    Attributes:
        id: The trial id, unique and contiguous within a study.
        config: The active hyperparameters (the fidelity is not among them).
        fidelity: The fidelity to train to (for example epochs), or None when the space has none.
        dir: This trial's folder for checkpoints and artifacts; it exists.
        parent_id: The trial this one continues from after a promotion, or None.
        parent_dir: The parent's folder, which contains its checkpoint, or None.
        parent_fidelity: The fidelity the parent was trained to, or None.
        seed: A seed derived from the study seed and the trial id.
        cost: Set it to charge a cost other than the measured wall seconds.
        user_attrs: Free-form JSON-safe values stored with the trial.

    Example:
        >>> def evaluate(trial):
        ...     state = trial.load_parent_checkpoint()
        ...     start = 0 if state is None else state["epoch"]
        ...     for epoch in range(start, trial.fidelity):
        ...         trial.report(epoch + 1, {"loss": 1.0 / (epoch + 1)})
        ...     trial.save_checkpoint({"epoch": trial.fidelity})
        ...     return {"loss": 1.0 / trial.fidelity}
    """

    def __init__(
        self,
        *,
        id: int,
        config: Mapping[str, Any],
        fidelity: int | float | None,
        dir: Path,
        seed: int,
        parent_id: int | None = None,
        parent_dir: Path | None = None,
        parent_fidelity: int | float | None = None,
        report_function: ReportFunction | None = None,
    ) -> None:
        self.id = id
        self.config = dict(config)
        self.fidelity = fidelity
        self.dir = dir
        self.seed = seed
        self.parent_id = parent_id
        self.parent_dir = parent_dir
        self.parent_fidelity = parent_fidelity
        self.cost: float | None = None
        self.user_attrs: dict[str, Any] = {}
        self.continued = False
        self._report_function = report_function
        self._rng: np.random.Generator | None = None

    @property
    def rng(self) -> np.random.Generator:
        """A NumPy generator seeded from ``seed``, the same on every re-run of this trial."""
        if self._rng is None:
            self._rng = np.random.default_rng(self.seed)
        return self._rng

    @property
    def checkpoint_path(self) -> Path:
        return self.dir / CHECKPOINT_FILE

    @property
    def fidelity_spent(self) -> float | None:
        """The fidelity this trial trains: only the extra part when it continued from its parent."""
        if self.fidelity is None:
            return None
        if self.continued and self.parent_fidelity is not None:
            return float(self.fidelity) - float(self.parent_fidelity)
        return float(self.fidelity)

    def report(self, step: float, values: Mapping[str, float]) -> None:
        """Record an intermediate result (one point of the learning curve) at ``step``."""
        if self._report_function is not None:
            clean = {str(k): float(v) for k, v in values.items()}
            self._report_function(self.id, float(step), clean)

    def save_checkpoint(self, state: Mapping[str, Any]) -> Path:
        """Write ``state`` with ``torch.save`` to this trial's checkpoint, atomically."""
        import torch

        self.dir.mkdir(parents=True, exist_ok=True)
        partial = self.checkpoint_path.with_suffix(".partial")
        torch.save(dict(state), partial)
        os.replace(partial, self.checkpoint_path)
        return self.checkpoint_path

    def load_parent_checkpoint(self) -> dict[str, Any] | None:
        """Load the parent's checkpoint, or return None when there is no parent or no checkpoint.

        A successful load marks this trial as continued, so it is charged only the fidelity it adds
        to the parent's. The file is loaded with ``weights_only=False`` because it contains
        optimizer and random states written by this study, not third-party files.
        """
        if self.parent_dir is None:
            return None
        path = self.parent_dir / CHECKPOINT_FILE
        if not path.exists():
            return None
        import torch

        state = torch.load(path, map_location="cpu", weights_only=False)
        self.continued = True
        return dict(state)

    def __repr__(self) -> str:
        return f"Trial(id={self.id}, config={self.config!r}, fidelity={self.fidelity!r})"
