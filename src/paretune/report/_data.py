"""The study as the report reads it: trials with their feasibility, the Pareto front, the best
trial per objective, the reference trial, the recorded selection, and display helpers."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from paretune.budget import BudgetUsage
from paretune.objectives import (
    Constraint,
    Objective,
    best_trial,
    is_feasible,
    is_valid_result,
    pareto_front,
)
from paretune.space import Categorical, Constant, Parameter, Space
from paretune.study import Study
from paretune.trial import TrialRecord

SELECTION_EVENT = "selection"


@dataclass(frozen=True)
class Unavailable:
    """The reason an analysis or a figure could not be made, as a sentence for the reader."""

    reason: str


@dataclass
class ReportData:
    """Everything the report shows, read once from the study.

    Attributes:
        study: The study the report describes.
        trials: All trials, ordered by id, with their learning curves.
        feasible: Trial ids of completed trials with finite objectives that meet every constraint.
        pareto: Trial ids on the Pareto front (feasible and non-dominated).
        front: The Pareto-optimal trials, best first objective first.
        best: For each objective name, its best feasible trial, or None.
        reference: The trial that ran the default configuration at full fidelity, or None.
        selection: The latest recorded selection event, or None.
        usage: Trials, cost and fidelity spent, and the cost of the reference run.
    """

    study: Study
    trials: list[TrialRecord]
    feasible: set[int]
    pareto: set[int]
    front: list[TrialRecord]
    best: dict[str, TrialRecord | None]
    reference: TrialRecord | None
    selection: dict[str, Any] | None
    usage: BudgetUsage
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def objectives(self) -> tuple[Objective, ...]:
        return self.study.objectives

    @property
    def constraints(self) -> tuple[Constraint, ...]:
        return self.study.constraints

    @property
    def space(self) -> Space:
        return self.study.space

    @cached_property
    def by_id(self) -> dict[int, TrialRecord]:
        return {trial.id: trial for trial in self.trials}

    @property
    def metric_names(self) -> list[str]:
        """Objective names, then constraint names that are not objectives."""
        names = [o.name for o in self.objectives]
        return names + [c.name for c in self.constraints if c.name not in names]

    @property
    def selected_trial(self) -> TrialRecord | None:
        if self.selection is None:
            return None
        return self.by_id.get(int(self.selection["trial_id"]))

    def objective(self, name: str) -> Objective:
        return next(o for o in self.objectives if o.name == name)

    def is_feasible(self, trial: TrialRecord) -> bool:
        return trial.id in self.feasible

    def completed_with_values(self) -> list[TrialRecord]:
        """Completed trials with a finite value for every objective, feasible or not."""
        return [t for t in self.trials if is_valid_result(t, self.objectives)]

    def test_metrics(self, trial: TrialRecord) -> dict[str, float]:
        """Return the trial's test-split metrics from its user attributes or the study metadata."""
        stored = self.metadata.get("test_metrics", {})
        from_metadata = stored.get(str(trial.id), {}) if isinstance(stored, dict) else {}
        from_trial = trial.user_attrs.get("test_metrics", {})
        merged = {**_numbers(from_metadata), **_numbers(from_trial)}
        return merged


def collect(study: Study) -> ReportData:
    """Read the trials, events and metadata of ``study`` into a ``ReportData``."""
    trials = study.trials
    objectives, constraints = study.objectives, study.constraints
    feasible = {
        t.id for t in trials if is_valid_result(t, objectives) and is_feasible(t, constraints)
    }
    # Found models are those at the highest fidelity reached, as in Study.pareto_front, so the
    # report and the command line name the same trials.
    final = study.final_trials()
    front = pareto_front(final, objectives, constraints)
    best = {o.name: best_trial(final, o, constraints) for o in objectives}
    reference = next((t for t in trials if t.system_attrs.get("reference")), None)
    selections = study.events(SELECTION_EVENT)
    return ReportData(
        study=study,
        trials=trials,
        feasible=feasible,
        pareto={t.id for t in front},
        front=front,
        best=best,
        reference=reference,
        selection=selections[-1] if selections else None,
        usage=BudgetUsage.from_history(trials),
        metadata=study.metadata,
    )


def _numbers(values: Any) -> dict[str, float]:
    if not isinstance(values, dict):
        return {}
    return {str(k): float(v) for k, v in values.items() if isinstance(v, int | float)}


# -- display ----------------------------------------------------------------------------------


def format_number(value: float | int | None) -> str:
    """Format a metric for a table cell: 4 significant digits, a dash when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if abs(value) >= 10_000 and math.isfinite(value):
        return f"{value:,.0f}"
    return f"{value:.4g}"


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def category_order(parameter: Parameter) -> list[Any]:
    """Return the choices of a categorical in display order.

    Numeric choices are shown in numeric order (``[64, 16, 32]`` as 16, 32, 64). Choices of
    other or mixed types keep the order in which the space declares them.
    """
    if isinstance(parameter, Constant):
        return [parameter.value]
    if not isinstance(parameter, Categorical):
        return []
    choices = list(parameter.choices)
    if all(is_number(choice) for choice in choices):
        return sorted(choices)
    return choices


def value_label(value: Any, parameter: Parameter | None = None) -> str:
    """Format a parameter value so that a reader can tell 3 from "3" and None from "None".

    Strings are quoted only when the parameter mixes strings with other types.
    """
    if value is None:
        return "None"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        if parameter is not None and _mixes_types(parameter):
            return repr(value)
        return value
    return str(value)


def _mixes_types(parameter: Parameter) -> bool:
    if not isinstance(parameter, Categorical):
        return False
    return len({type(choice) for choice in parameter.choices}) > 1


def config_label(config: dict[str, Any], space: Space, *, separator: str = ", ") -> str:
    """Format a configuration as ``name=value`` pairs in the space's order."""
    parts = []
    for name in space.names:
        if name in config:
            parts.append(f"{name}={value_label(config[name], space.parameters.get(name))}")
    extra = [f"{k}={value_label(v)}" for k, v in config.items() if k not in space.parameters]
    return separator.join(parts + extra)


def config_json(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=False, default=str)


def first_line(text: str | None) -> str:
    """Return the first non-empty line of an error message, or "no message"."""
    if not text or not text.strip():
        return "no message"
    return text.strip().splitlines()[0]


def trial_ids_label(ids: Sequence[int], limit: int = 12) -> str:
    """Format trial ids for a sentence, shortening long lists."""
    listed = ", ".join(str(i) for i in ids[:limit])
    if len(ids) > limit:
        listed += f" and {len(ids) - limit} more"
    return listed
