"""Run feedback for the user: one line per finished trial, a progress bar, a failure summary."""

from __future__ import annotations

import logging
import math
import sys
from collections import Counter
from collections.abc import Sequence
from types import TracebackType

import numpy as np

from paretune.budget import Budget, BudgetUsage, fraction_used
from paretune.objectives import (
    Constraint,
    Objective,
    is_feasible,
    is_valid_result,
    minimization_matrix,
)
from paretune.space import Fidelity
from paretune.trial import TrialRecord, TrialStatus


class IncumbentTracker:
    """Keeps the best trial (one objective) or the Pareto front (several) as trials finish.

    Updating costs O(front size) per trial, so logging stays cheap for studies of many trials.
    """

    def __init__(
        self,
        objectives: Sequence[Objective],
        constraints: Sequence[Constraint],
        fidelity: Fidelity | None = None,
    ) -> None:
        self.objectives = tuple(objectives)
        self.constraints = tuple(constraints)
        # With a fidelity, only full-fidelity trials are models to report, as in Study.best_trial.
        self.full_fidelity = None if fidelity is None else float(fidelity.high)
        self.front: list[TrialRecord] = []
        self._points = np.zeros((0, len(self.objectives)))

    def add(self, trial: TrialRecord) -> None:
        if not is_valid_result(trial, self.objectives) or not is_feasible(trial, self.constraints):
            return
        if self.full_fidelity is not None and float(trial.fidelity or 0) != self.full_fidelity:
            return
        point = minimization_matrix([trial], self.objectives)[0]
        if len(self.objectives) == 1:
            # Ties keep the earlier trial, as ``best_trial`` does.
            if not self.front or point[0] < self._points[0, 0]:
                self.front, self._points = [trial], point[None, :]
            return
        if len(self._points):
            dominators = np.all(self._points <= point, axis=1) & np.any(
                self._points < point, axis=1
            )
            if dominators.any():
                return
            dominated = np.all(point <= self._points, axis=1) & np.any(point < self._points, axis=1)
            self.front = [t for t, gone in zip(self.front, dominated, strict=True) if not gone]
            self._points = self._points[~dominated]
        self.front.append(trial)
        self._points = np.vstack([self._points, point])

    @property
    def best(self) -> TrialRecord | None:
        return self.front[0] if len(self.objectives) == 1 and self.front else None

    def summary(self) -> str:
        if not self.front:
            if self.full_fidelity is not None:
                return f"no feasible completed trial at full fidelity {self.full_fidelity:g} yet"
            return "no feasible completed trial yet"
        if len(self.objectives) == 1:
            trial = self.front[0]
            objective = self.objectives[0]
            where = "" if self.full_fidelity is None else " at full fidelity"
            value = trial.value(objective.name)
            return f"best {objective.name}{where}={value:.6g} (trial {trial.id})"
        return f"Pareto front: {len(self.front)} trial(s)"

    def describe(self, trial: TrialRecord) -> str:
        """Return the log line for a finished trial, ending with the current best or front size."""
        duration = f" in {trial.duration:.2f} s" if trial.duration is not None else ""
        fidelity = f" at fidelity {trial.fidelity:g}" if trial.fidelity is not None else ""
        if trial.status is TrialStatus.COMPLETED:
            shown = [*self.objectives, *(Objective(c.name) for c in self.constraints)]
            values = ", ".join(f"{o.name}={trial.value(o.name):.6g}" for o in shown)
            if not is_feasible(trial, self.constraints):
                values += " (infeasible)"
        else:
            values = f"{trial.error_type}: {_first_line(trial.error_message)}"
        return (
            f"trial {trial.id} {trial.status.value}{fidelity}{duration}: {values}; {self.summary()}"
        )


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if text and text.strip() else "no message"


class FailureSummary:
    """Groups failed trials by distinct error so a run ends with one line per cause."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.examples: dict[tuple[str, str], int] = {}

    def add(self, trial: TrialRecord) -> None:
        key = (
            trial.status.value + " " + (trial.error_type or ""),
            _first_line(trial.error_message),
        )
        self.counts[key] += 1
        self.examples.setdefault(key, trial.id)

    def log(self, logger: logging.Logger) -> None:
        if not self.counts:
            return
        total = sum(self.counts.values())
        lines = [
            f"  {count} x {kind}: {message} (first: trial {self.examples[(kind, message)]})"
            for (kind, message), count in self.counts.most_common()
        ]
        logger.warning(
            "%d trial(s) did not complete, %d distinct error(s):\n%s\n"
            "Show a traceback with 'paretune trials RUN --format json' or "
            "study.trial(ID).traceback; debug in-process with executor='inline'.",
            total,
            len(self.counts),
            "\n".join(lines),
        )


class RunProgress:
    """A rich progress bar on a terminal; nothing elsewhere (the INFO lines remain)."""

    def __init__(self, enabled: bool | None, budget: Budget) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.budget = budget
        self._progress: object | None = None
        self._task: int | None = None

    def __enter__(self) -> RunProgress:
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            progress = Progress(
                TextColumn("[bold]paretune"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                transient=False,
            )
            progress.start()
            self._task = progress.add_task("starting", total=1.0)
            self._progress = progress
        return self

    def update(self, usage: BudgetUsage, tracker: IncumbentTracker) -> None:
        if self._progress is None or self._task is None:
            return
        fraction = fraction_used(self.budget, usage)
        description = f"{usage.trials} trials | {tracker.summary()}"
        self._progress.update(  # type: ignore[attr-defined]
            self._task,
            completed=fraction if fraction is not None and math.isfinite(fraction) else 0.0,
            description=description,
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()  # type: ignore[attr-defined]
