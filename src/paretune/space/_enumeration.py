"""Counting and listing every configuration of a finite space, respecting conditions."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence

from paretune.space._activity import ConditionGraph, clauses_hold
from paretune.space._parameters import Hyperparameter
from paretune.space._values import Config, Value, value_key

_OTHER_VALUES = ("<other values>", None)
"""Key that represents every value of a parent that no condition names."""


def count_configs(
    graph: ConditionGraph, hyperparameters: Mapping[str, Hyperparameter]
) -> int | float:
    """Return the number of distinct configurations, ``math.inf`` with a continuous parameter.

    Only the parents of conditions are enumerated, and only by the classes of values that
    conditions tell apart. Every other parameter multiplies the count by its cardinality where
    it is active, so a space of many wide integers is counted without listing it.
    """
    if not all(parameter.is_discrete for parameter in hyperparameters.values()):
        return math.inf
    parents = [name for name in graph.order if name in graph.parents]
    children = [name for name in graph.order if name not in graph.parents]
    total = 0
    for keys, weight in _parent_classes(graph, hyperparameters, parents, {}):
        count = weight
        for name in children:
            clauses = graph.clauses.get(name)
            if clauses is None or clauses_hold(clauses, keys.get):
                count *= int(hyperparameters[name].cardinality)
        total += count
    return total


def _parent_classes(
    graph: ConditionGraph,
    hyperparameters: Mapping[str, Hyperparameter],
    parents: Sequence[str],
    keys: dict[str, object],
) -> Iterator[tuple[dict[str, object], int]]:
    """Yield each assignment of value classes to the parents, with the number of its values."""
    if not parents:
        yield dict(keys), 1
        return
    name, rest = parents[0], parents[1:]
    clauses = graph.clauses.get(name)
    if clauses is not None and not clauses_hold(clauses, keys.get):
        yield from _parent_classes(graph, hyperparameters, rest, keys)
        return
    named = _named_keys(graph, name)
    classes: list[tuple[object, int]] = [(key, 1) for key in named]
    others = int(hyperparameters[name].cardinality) - len(named)
    if others > 0:
        classes.append((_OTHER_VALUES, others))
    for key, multiplicity in classes:
        keys[name] = key
        for assignment, weight in _parent_classes(graph, hyperparameters, rest, keys):
            yield assignment, weight * multiplicity
    del keys[name]


def _named_keys(graph: ConditionGraph, parent: str) -> list[object]:
    named: dict[object, None] = {}
    for clauses in graph.clauses.values():
        for clause in clauses:
            for name, allowed in clause:
                if name == parent:
                    named.update(dict.fromkeys(sorted(allowed, key=repr)))
    return list(named)


def enumerate_configs(
    graph: ConditionGraph, hyperparameters: Mapping[str, Hyperparameter]
) -> Iterator[Config]:
    """Yield every configuration of a finite space once, in a deterministic order.

    Parameters vary like nested loops in the order of the condition graph, so the last one
    varies fastest. Keys of each configuration follow the order of the space.
    """
    yield from _extend(graph, hyperparameters, 0, {}, {})


def _extend(
    graph: ConditionGraph,
    hyperparameters: Mapping[str, Hyperparameter],
    position: int,
    values: dict[str, Value],
    keys: dict[str, object],
) -> Iterator[Config]:
    if position == len(graph.order):
        yield {name: values[name] for name in hyperparameters if name in values}
        return
    name = graph.order[position]
    clauses = graph.clauses.get(name)
    if clauses is not None and not clauses_hold(clauses, keys.get):
        yield from _extend(graph, hyperparameters, position + 1, values, keys)
        return
    for value in hyperparameters[name].grid():
        values[name] = value
        keys[name] = value_key(value)
        yield from _extend(graph, hyperparameters, position + 1, values, keys)
    del values[name]
    del keys[name]
