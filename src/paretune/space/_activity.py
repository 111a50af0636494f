"""Validation of conditions against a space, and which parameters are active in a configuration."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from paretune._errors import SpaceError
from paretune.space._parameters import Hyperparameter
from paretune.space._values import Config, ValueKey, value_key

ClauseKeys = tuple[tuple[str, frozenset[ValueKey]], ...]
"""A clause with each parent's allowed values as type-aware keys."""


@dataclass(frozen=True)
class ConditionGraph:
    """The validated conditions of a space.

    Attributes:
        order: hyperparameter names with every parent before its children, otherwise in the
            order of the space.
        clauses: the clauses of each conditional parameter, combined with OR.
        parents: names of the parameters that some condition refers to.
    """

    order: tuple[str, ...]
    clauses: Mapping[str, tuple[ClauseKeys, ...]]
    parents: frozenset[str]


def build_condition_graph(
    hyperparameters: Mapping[str, Hyperparameter], fidelity_name: str | None
) -> ConditionGraph:
    """Validate every condition and return the condition graph.

    Raises:
        SpaceError: for a condition on an unknown parameter, on itself or on the fidelity, a
            value that the parent cannot take, or conditions that form a cycle.
    """
    clauses = {}
    for name, parameter in hyperparameters.items():
        condition = parameter.parsed_condition
        if condition is None:
            continue
        clauses[name] = tuple(
            tuple(
                (parent, _allowed_keys(name, parent, values, hyperparameters, fidelity_name))
                for parent, values in clause
            )
            for clause in condition.clauses
        )
    parents_of = {
        name: tuple(parent for clause in clauses.get(name, ()) for parent, _ in clause)
        for name in hyperparameters
    }
    order = _topological_order(parents_of)
    parents = frozenset(parent for names in parents_of.values() for parent in names)
    return ConditionGraph(order=order, clauses=clauses, parents=parents)


def _allowed_keys(
    name: str,
    parent: str,
    values: tuple[object, ...],
    hyperparameters: Mapping[str, Hyperparameter],
    fidelity_name: str | None,
) -> frozenset[ValueKey]:
    if parent == name:
        raise SpaceError(f"the condition of {name!r} refers to itself; remove {parent!r} from it")
    if parent == fidelity_name:
        raise SpaceError(
            f"the condition of {name!r} refers to the fidelity {parent!r}; a condition can only "
            "refer to hyperparameters, because one configuration runs at several fidelities"
        )
    if parent not in hyperparameters:
        close = difflib.get_close_matches(parent, list(hyperparameters), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise SpaceError(
            f"the condition of {name!r} refers to unknown parameter {parent!r}; {hint}"
            f"known parameters: {list(hyperparameters)}"
        )
    keys = set()
    for value in values:
        try:
            keys.add(value_key(hyperparameters[parent].coerce(value)))
        except SpaceError as error:
            raise SpaceError(
                f"the condition of {name!r} uses a value that {parent!r} cannot take: {error}; "
                f"use values that {parent!r} can take"
            ) from None
    return frozenset(keys)


def _topological_order(parents_of: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Order names so that parents come first, keeping the given order where possible.

    Raises:
        SpaceError: naming the parameters of a cycle.
    """
    order: list[str] = []
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in done:
            return
        if name in path:
            cycle = [*path[path.index(name) :], name]
            raise SpaceError(
                f"conditions form a cycle: {' -> '.join(cycle)} (each is active only when the "
                "next one is); remove one of these conditions"
            )
        for parent in parents_of[name]:
            visit(parent, [*path, name])
        done.add(name)
        order.append(name)

    for name in parents_of:
        visit(name, [])
    return tuple(order)


def clauses_hold(clauses: tuple[ClauseKeys, ...], key_of: Callable[[str], object]) -> bool:
    """Return whether any clause holds, given each parent's value key (None when inactive)."""
    return any(all(key_of(parent) in allowed for parent, allowed in clause) for clause in clauses)


def active_set(
    graph: ConditionGraph, hyperparameters: Mapping[str, Hyperparameter], config: Config
) -> set[str]:
    """Return the names of the hyperparameters that are active in a configuration.

    A parameter is active when it has no condition or when a clause holds. A clause fails
    when one of its parents is inactive, missing from ``config`` or has an invalid value.
    """
    active: set[str] = set()

    def key_of(parent: str) -> ValueKey | None:
        if parent not in active or parent not in config:
            return None
        try:
            return value_key(hyperparameters[parent].coerce(config[parent]))
        except SpaceError:
            return None

    for name in graph.order:
        clauses = graph.clauses.get(name)
        if clauses is None or clauses_hold(clauses, key_of):
            active.add(name)
    return active
