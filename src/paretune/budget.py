"""Budgets: when a run stops dispatching new trials."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from paretune._errors import BudgetError
from paretune.trial import TrialRecord, TrialStatus

_BUDGET_PATTERN = re.compile(
    r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-z]*)\s*$", re.IGNORECASE
)
_TIME_UNITS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


@dataclass(frozen=True)
class Budget:
    """Limits of a run; whichever is reached first stops new trials (running ones finish).

    Attributes:
        max_trials: Total trials in the study, counting those of earlier runs.
        max_cost: Total cost of finished trials: wall seconds, unless the evaluation sets
            ``trial.cost``.
        max_time: Wall seconds of this run.
        max_fidelity_total: Total fidelity trained (for example epochs), counting only the extra
            fidelity of trials that continued from a parent's checkpoint.
        max_reference_runs: Total cost in multiples of the first trial, which runs the reference
            (default) configuration at full fidelity.
    """

    max_trials: int | None = None
    max_cost: float | None = None
    max_time: float | None = None
    max_fidelity_total: float | None = None
    max_reference_runs: float | None = None

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise BudgetError(f"{name} must be a number, got {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise BudgetError(f"{name} must be a positive finite number, got {value!r}")
        if self.max_trials is not None and int(self.max_trials) != self.max_trials:
            raise BudgetError(f"max_trials must be a whole number, got {self.max_trials!r}")

    @property
    def is_unlimited(self) -> bool:
        return all(value is None for value in asdict(self).values())

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def parse(cls, text: str) -> Budget:
        """Parse a CLI budget: ``5x`` (reference runs), ``30m``/``2h``/``90s`` (wall time),
        ``200trials``, ``500epochs`` (total fidelity) or ``3600cost`` (cost seconds)."""
        match = _BUDGET_PATTERN.match(text)
        if match is None:
            raise BudgetError(_budget_help(text))
        number, unit = float(match.group(1)), match.group(2).lower()
        if not number > 0:
            raise BudgetError(f"invalid budget {text!r}: the number must be positive, such as 5x")
        if unit == "x":
            return cls(max_reference_runs=number)
        if unit in _TIME_UNITS:
            return cls(max_time=number * _TIME_UNITS[unit])
        if unit in {"trials", "trial", "t"}:
            if number != int(number):
                raise BudgetError(f"invalid budget {text!r}: the number of trials must be whole")
            return cls(max_trials=int(number))
        if unit in {"epochs", "fidelity"}:
            return cls(max_fidelity_total=number)
        if unit == "cost":
            return cls(max_cost=number)
        raise BudgetError(_budget_help(text))


def _budget_help(text: str) -> str:
    return (
        f"invalid budget {text!r}: use 5x (reference runs), 30m, 2h or 90s (wall time), "
        "200trials, 500epochs (total fidelity) or 3600cost (cost seconds)"
    )


@dataclass
class BudgetUsage:
    """The spend of a study so far."""

    trials: int = 0
    cost: float = 0.0
    fidelity: float = 0.0
    elapsed: float = 0.0
    reference_cost: float | None = None

    @classmethod
    def from_history(cls, history: Sequence[TrialRecord], elapsed: float = 0.0) -> BudgetUsage:
        usage = cls(trials=len(history), elapsed=elapsed)
        for trial in history:
            usage.add(trial)
            if trial.system_attrs.get("reference") and trial.status is TrialStatus.COMPLETED:
                usage.reference_cost = trial.cost
        return usage

    def add(self, trial: TrialRecord) -> None:
        """Count the spend of one finished trial."""
        if trial.cost is not None:
            self.cost += trial.cost
        if trial.fidelity_spent is not None:
            self.fidelity += trial.fidelity_spent

    def reference_runs(self) -> float | None:
        if not self.reference_cost:
            return None
        return self.cost / self.reference_cost


def exhausted_reason(
    budget: Budget, usage: BudgetUsage, *, fidelity_in_flight: float = 0.0
) -> str | None:
    """Return why no new trial may start, or None while the budget lasts."""
    if budget.max_trials is not None and usage.trials >= budget.max_trials:
        return f"reached max_trials={budget.max_trials}"
    if budget.max_cost is not None and usage.cost >= budget.max_cost:
        return f"reached max_cost={budget.max_cost:g} (spent {usage.cost:.4g})"
    if budget.max_time is not None and usage.elapsed >= budget.max_time:
        return f"reached max_time={budget.max_time:g} s"
    committed = usage.fidelity + fidelity_in_flight
    if budget.max_fidelity_total is not None and committed >= budget.max_fidelity_total:
        return (
            f"reached max_fidelity_total={budget.max_fidelity_total:g} "
            f"(spent or committed {committed:.6g})"
        )
    runs = usage.reference_runs()
    if (
        budget.max_reference_runs is not None
        and runs is not None
        and runs >= budget.max_reference_runs
    ):
        return f"reached {budget.max_reference_runs:g} reference runs (spent {runs:.3g})"
    return None


def fraction_used(budget: Budget, usage: BudgetUsage) -> float | None:
    """Return the largest fraction of any limit that is used, for progress display."""
    fractions = []
    if budget.max_trials:
        fractions.append(usage.trials / budget.max_trials)
    if budget.max_cost:
        fractions.append(usage.cost / budget.max_cost)
    if budget.max_time:
        fractions.append(usage.elapsed / budget.max_time)
    if budget.max_fidelity_total:
        fractions.append(usage.fidelity / budget.max_fidelity_total)
    runs = usage.reference_runs()
    if budget.max_reference_runs and runs is not None:
        fractions.append(runs / budget.max_reference_runs)
    return min(1.0, max(fractions)) if fractions else None
