"""Conditions that make a parameter active only for some values of other parameters.

A condition is written as a mapping from parent name to one value or a list of values, such as
``{"optimizer": ["sgd", "rmsprop"], "use_wd": True}``. Several values of one parent are combined
with OR and several parents with AND. A list of such mappings is a set of clauses combined with OR.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from paretune._errors import SpaceError
from paretune.space._values import Value, to_python_scalar, value_key

ConditionLike: TypeAlias = "Condition | Mapping[str, Any] | Sequence[Mapping[str, Any]]"
"""A condition as a user writes it: one mapping, a list of mappings or a parsed Condition."""

Clause: TypeAlias = tuple[tuple[str, tuple[Value, ...]], ...]
"""Pairs of parent name and allowed values; it holds when every parent has an allowed value."""


@dataclass(frozen=True, eq=False)
class Condition:
    """A parsed condition: clauses combined with OR.

    Example:
        >>> Condition.parse({"optimizer": ["sgd", "rmsprop"]}).parents
        ('optimizer',)
    """

    clauses: tuple[Clause, ...]

    @classmethod
    def parse(cls, raw: ConditionLike) -> Condition:
        """Parse one mapping or a list of mappings into a Condition.

        Raises:
            SpaceError: for an empty condition, a non-string parent name or a value that is
                not a str, int, float, bool or None.
        """
        if isinstance(raw, Condition):
            return raw
        if isinstance(raw, Mapping):
            return cls((_parse_clause(raw),))
        if isinstance(raw, list | tuple) and raw:
            return cls(tuple(_parse_clause(clause) for clause in raw))
        raise SpaceError(
            f"invalid condition {raw!r}; write a mapping such as {{'optimizer': 'sgd'}} "
            "or a non-empty list of such mappings"
        )

    @property
    def parents(self) -> tuple[str, ...]:
        """Names of the parents, in order of first appearance."""
        names = [parent for clause in self.clauses for parent, _ in clause]
        return tuple(dict.fromkeys(names))

    def _key(self) -> tuple[object, ...]:
        return tuple(
            tuple((parent, tuple(value_key(v) for v in values)) for parent, values in clause)
            for clause in self.clauses
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Condition):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return " or ".join(
            " and ".join(f"{parent} in {list(values)!r}" for parent, values in clause)
            for clause in self.clauses
        )


def as_condition(raw: ConditionLike | None) -> Condition | None:
    """Parse a condition as a user writes it, passing None and parsed conditions through."""
    if raw is None:
        return None
    return Condition.parse(raw)


def _parse_clause(raw: object) -> Clause:
    if not isinstance(raw, Mapping) or not raw:
        raise SpaceError(
            f"invalid condition clause {raw!r}; write a non-empty mapping from parent name "
            "to a value or a list of values, such as {'optimizer': ['sgd', 'rmsprop']}"
        )
    pairs = []
    for parent, values in raw.items():
        if not isinstance(parent, str) or not parent:
            raise SpaceError(f"condition parent {parent!r} must be a parameter name (a string)")
        pairs.append((parent, _parse_values(parent, values)))
    return tuple(pairs)


def _parse_values(parent: str, raw: object) -> tuple[Value, ...]:
    items = list(raw) if isinstance(raw, list | tuple) else [raw]
    if not items:
        raise SpaceError(
            f"condition on {parent!r} lists no values; give at least one value of {parent!r}"
        )
    values = []
    for item in items:
        try:
            value = to_python_scalar(item)
        except SpaceError as error:
            raise SpaceError(f"condition on {parent!r}: {error}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise SpaceError(f"condition on {parent!r}: value {value!r} is not finite")
        values.append(value)
    return tuple(values)
