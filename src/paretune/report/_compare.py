"""Compare two trials: which parameters differ most between them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from paretune.report._importance import Feature, Importance, features_of
from paretune.space import Space
from paretune.trial import TrialRecord


class _Inactive:
    """Marks a parameter that a condition leaves out of a trial's configuration."""

    def __str__(self) -> str:
        return "inactive"

    __repr__ = __str__


INACTIVE = _Inactive()


@dataclass(frozen=True)
class Difference:
    """One parameter that differs between two trials.

    ``distance`` is the gap in the search space scaled to [0, 1] (log-scaled parameters in the
    logarithm, 1 for two different categories or when only one trial has the parameter active).
    """

    name: str
    first: Any
    second: Any
    distance: float
    importance: dict[str, float]

    @property
    def weight(self) -> float:
        """The gap times the largest global importance, so a gap in a parameter that matters
        ranks first; the plain gap when no importance is known."""
        return self.distance * max(self.importance.values(), default=1.0)


def differences(
    space: Space,
    first: TrialRecord,
    second: TrialRecord,
    importances: Mapping[str, Importance],
) -> list[Difference]:
    """Return the parameters whose values differ, the largest gap in what matters first."""
    features, _ = features_of(space, [first, second])
    result = []
    for feature in features:
        a, b = _value(space, feature, first), _value(space, feature, second)
        if a == b and type(a) is type(b):
            continue
        weights = {
            name: fraction
            for name, importance in importances.items()
            if (fraction := importance.fraction_of(feature.name)) is not None
        }
        result.append(Difference(feature.name, a, b, _distance(feature, a, b), weights))
    return sorted(result, key=lambda d: (-d.weight, -d.distance))


def _value(space: Space, feature: Feature, trial: TrialRecord) -> Any:
    if feature.name == space.fidelity_name:
        return trial.fidelity
    return trial.config.get(feature.name, INACTIVE)


def _distance(feature: Feature, a: Any, b: Any) -> float:
    if a is INACTIVE or b is INACTIVE or feature.is_categorical:
        return 1.0
    return abs(feature.encode(a) - feature.encode(b))


def best_pairs(best: Mapping[str, TrialRecord | None]) -> Sequence[tuple[str, str]]:
    """Return the pairs of objectives whose best trials are different trials."""
    found = [(name, trial) for name, trial in best.items() if trial is not None]
    return [
        (first, second)
        for i, (first, first_trial) in enumerate(found)
        for second, second_trial in found[i + 1 :]
        if first_trial.id != second_trial.id
    ]
