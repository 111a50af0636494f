"""Objectives, constraints and Pareto utilities.

Every routine here works in *minimization form*: a maximized objective is negated first, so
"dominates" and "hypervolume" have one meaning throughout the package.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import moocore
import numpy as np
from numpy.typing import NDArray

from paretune._errors import ObjectiveError
from paretune.trial import TrialRecord, TrialStatus

Direction = Literal["minimize", "maximize"]
_DIRECTION_ALIASES: dict[str, Direction] = {
    "min": "minimize",
    "minimize": "minimize",
    "max": "maximize",
    "maximize": "maximize",
}
_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_CONSTRAINT_PATTERN = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*(<=|>=)\s*(\S+)\s*$")


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not _NAME_PATTERN.match(name):
        raise ObjectiveError(
            f"invalid {what} name {name!r}: use letters, digits, '_', '.' or '-', "
            "starting with a letter or '_'"
        )


@dataclass(frozen=True)
class Objective:
    """A metric to optimize.

    Args:
        name: The key of the metric in the dictionary the evaluation returns.
        direction: "minimize" or "maximize" ("min"/"max" are accepted).
        reference: Optional hypervolume reference point for this objective, in its own units.

    Example:
        >>> Objective("error"), Objective("accuracy", "maximize")
    """

    name: str
    direction: Direction = "minimize"
    reference: float | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "objective")
        direction = _DIRECTION_ALIASES.get(str(self.direction).lower())
        if direction is None:
            raise ObjectiveError(
                f"invalid direction {self.direction!r} for objective {self.name!r}: "
                "use 'minimize' or 'maximize' ('min' and 'max' work too)"
            )
        object.__setattr__(self, "direction", direction)
        if self.reference is not None and not math.isfinite(self.reference):
            raise ObjectiveError(
                f"reference point {self.reference!r} of objective {self.name!r} is not finite"
            )

    @property
    def sign(self) -> float:
        """+1 for minimize and -1 for maximize: ``sign * value`` is always minimized."""
        return 1.0 if self.direction == "minimize" else -1.0

    @classmethod
    def parse(cls, text: str) -> Objective:
        """Parse ``"name"``, ``"name:min"`` or ``"name:max"``."""
        name, _, direction = text.strip().partition(":")
        return cls(name.strip(), direction.strip() or "minimize")  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "direction": self.direction, "reference": self.reference}


@dataclass(frozen=True)
class Constraint:
    """A bound on a metric: a trial is feasible when ``lower <= value <= upper``.

    Example:
        >>> Constraint("latency_ms", upper=1.0)
        >>> Constraint.parse("x>=5")
    """

    name: str
    upper: float | None = None
    lower: float | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "constraint")
        if self.upper is None and self.lower is None:
            raise ObjectiveError(
                f"constraint {self.name!r} has no bound: give upper=... and/or lower=..."
            )
        for bound in (self.upper, self.lower):
            if bound is not None and not math.isfinite(bound):
                raise ObjectiveError(f"bound {bound!r} of constraint {self.name!r} is not finite")
        if self.upper is not None and self.lower is not None and self.lower > self.upper:
            raise ObjectiveError(
                f"constraint {self.name!r} has lower={self.lower} > upper={self.upper}: "
                "no value can satisfy it"
            )

    @classmethod
    def parse(cls, text: str) -> Constraint:
        """Parse ``"name<=value"`` or ``"name>=value"``."""
        match = _CONSTRAINT_PATTERN.match(text)
        if match is None:
            raise ObjectiveError(
                f"invalid constraint {text!r}: write NAME<=VALUE or NAME>=VALUE, "
                "for example 'latency_ms<=1'"
            )
        name, operator, raw = match.groups()
        try:
            bound = float(raw)
        except ValueError:
            raise ObjectiveError(f"invalid bound {raw!r} in constraint {text!r}") from None
        return cls(name, upper=bound) if operator == "<=" else cls(name, lower=bound)

    def violation(self, value: float) -> float:
        """Return how far ``value`` lies outside the bounds (0 when feasible, inf when NaN)."""
        if not math.isfinite(value):
            return math.inf
        excess = 0.0
        if self.upper is not None:
            excess = max(excess, value - self.upper)
        if self.lower is not None:
            excess = max(excess, self.lower - value)
        return excess

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "upper": self.upper, "lower": self.lower}

    def __str__(self) -> str:
        parts = []
        if self.lower is not None:
            parts.append(f"{self.name}>={self.lower:g}")
        if self.upper is not None:
            parts.append(f"{self.name}<={self.upper:g}")
        return " and ".join(parts)


def as_objectives(objectives: Iterable[str | Objective] | str | Objective) -> tuple[Objective, ...]:
    """Normalize user input (names, ``"name:max"`` strings or Objective) into a tuple."""
    if isinstance(objectives, (str, Objective)):
        objectives = [objectives]
    result = tuple(o if isinstance(o, Objective) else Objective.parse(str(o)) for o in objectives)
    if not result:
        raise ObjectiveError(
            "no objective given: pass at least one, for example objectives=['loss']"
        )
    names = [o.name for o in result]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ObjectiveError(f"objective names must be unique; repeated: {duplicates}")
    return result


def as_constraints(
    constraints: Iterable[str | Constraint] | str | Constraint | None,
) -> tuple[Constraint, ...]:
    """Normalize user input (``"name<=v"`` strings or Constraint) into a tuple."""
    if constraints is None:
        return ()
    if isinstance(constraints, (str, Constraint)):
        constraints = [constraints]
    return tuple(c if isinstance(c, Constraint) else Constraint.parse(str(c)) for c in constraints)


def total_violation(values: Mapping[str, float], constraints: Sequence[Constraint]) -> float:
    """Sum the violations of all constraints; a missing metric counts as infinitely violated."""
    return float(sum(c.violation(values.get(c.name, math.nan)) for c in constraints))


def is_feasible(trial: TrialRecord, constraints: Sequence[Constraint]) -> bool:
    return total_violation(trial.values, constraints) == 0.0


def is_valid_result(trial: TrialRecord, objectives: Sequence[Objective]) -> bool:
    """True for a COMPLETED trial with a finite value for every objective."""
    if trial.status is not TrialStatus.COMPLETED:
        return False
    return all(math.isfinite(trial.value(o.name)) for o in objectives)


def minimization_matrix(
    trials: Sequence[TrialRecord], objectives: Sequence[Objective]
) -> NDArray[np.float64]:
    """Stack objective values as an (n_trials, n_objectives) array in minimization form."""
    signs = np.array([o.sign for o in objectives], dtype=float)
    rows = [[t.value(o.name) for o in objectives] for t in trials]
    values = np.array(rows, dtype=np.float64).reshape(len(trials), len(objectives))
    result: NDArray[np.float64] = values * signs
    return result


def non_dominated_mask(points: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Mark the rows of ``points`` (minimization form) that no other row dominates.

    Duplicated points are all kept, so two trials with equal values are both Pareto-optimal.
    """
    if len(points) == 0:
        return np.zeros(0, dtype=bool)
    return np.asarray(moocore.is_nondominated(points, keep_weakly=True), dtype=bool)


def non_dominated_ranks(points: NDArray[np.float64]) -> NDArray[np.int64]:
    """Return the non-dominated sorting rank of each row: 0 for the Pareto front, 1 next, ...

    Deb et al. (2002), "A fast and elitist multiobjective genetic algorithm: NSGA-II".
    """
    if len(points) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(moocore.pareto_rank(points), dtype=np.int64)


def crowding_distance(points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the NSGA-II crowding distance of each row within one front (boundary rows: inf)."""
    n, m = points.shape
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, math.inf)
    for j in range(m):
        order = np.argsort(points[:, j], kind="stable")
        span = points[order[-1], j] - points[order[0], j]
        distance[order[0]] = distance[order[-1]] = math.inf
        if span <= 0:
            continue
        gaps = (points[order[2:], j] - points[order[:-2], j]) / span
        distance[order[1:-1]] += gaps
    return distance


def hypervolume(points: NDArray[np.float64], reference: NDArray[np.float64]) -> float:
    """Return the hypervolume dominated by ``points`` (minimization form) up to ``reference``.

    Points that do not strictly dominate the reference contribute nothing. Exact for any number of
    objectives through moocore (WFG-style algorithms; exact and fast for 2 and 3 objectives).
    """
    if len(points) == 0:
        return 0.0
    inside = np.all(points < reference, axis=1)
    if not inside.any():
        return 0.0
    return float(moocore.hypervolume(points[inside], ref=reference))


def infer_reference_point(
    points: NDArray[np.float64], objectives: Sequence[Objective]
) -> NDArray[np.float64]:
    """Return a reference point in minimization form.

    A user-given ``Objective.reference`` is used as is, after the sign flip for maximized
    objectives. Otherwise the reference is the worst observed value plus 10% of the observed range
    (or of its magnitude when all values are equal), so every observed point counts.
    """
    reference = np.empty(len(objectives))
    for j, objective in enumerate(objectives):
        if objective.reference is not None:
            reference[j] = objective.sign * objective.reference
            continue
        column = points[:, j] if len(points) else np.zeros(1)
        worst, best = float(np.max(column)), float(np.min(column))
        margin = 0.1 * (worst - best) if worst > best else 0.1 * max(abs(worst), 1.0)
        reference[j] = worst + margin
    return reference


def at_highest_fidelity(
    trials: Sequence[TrialRecord], objectives: Sequence[Objective]
) -> list[TrialRecord]:
    """Keep the trials at the highest fidelity that any completed, finite trial reached.

    Multi-fidelity search evaluates many configurations briefly; only the models trained the
    furthest are results to compare, so a 1-epoch trial never competes with 27-epoch ones.
    Trials without a fidelity are all kept.
    """
    reached = [
        float(t.fidelity)
        for t in trials
        if t.fidelity is not None and is_valid_result(t, objectives)
    ]
    if not reached:
        return list(trials)
    highest = max(reached)
    return [t for t in trials if t.fidelity is None or float(t.fidelity) == highest]


def pareto_front(
    trials: Sequence[TrialRecord],
    objectives: Sequence[Objective],
    constraints: Sequence[Constraint] = (),
) -> list[TrialRecord]:
    """Return the feasible, completed, finite trials that no other such trial dominates.

    The list is sorted by the first objective (best first), then by trial id.
    """
    candidates = [
        t for t in trials if is_valid_result(t, objectives) and is_feasible(t, constraints)
    ]
    if not candidates:
        return []
    points = minimization_matrix(candidates, objectives)
    mask = non_dominated_mask(points)
    front = [t for t, keep in zip(candidates, mask, strict=True) if keep]
    first = objectives[0]
    return sorted(front, key=lambda t: (first.sign * t.value(first.name), t.id))


def best_trial(
    trials: Sequence[TrialRecord], objective: Objective, constraints: Sequence[Constraint] = ()
) -> TrialRecord | None:
    """Return the feasible completed trial with the best finite value (lowest id on ties)."""
    candidates = [
        t for t in trials if is_valid_result(t, [objective]) and is_feasible(t, constraints)
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda t: (objective.sign * t.value(objective.name), t.id))
