"""The parameter base classes and the categorical parameters: Categorical and Constant.

Every hyperparameter maps its values to the unit interval [0, 1]. Discrete values own cells of
equal width in that interval, and a value encodes as the centre of its cell. Optimizers work in
this unit space and the space decodes their points back to typed values.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from functools import cached_property
from typing import Any, ClassVar, Self

import numpy as np

from paretune._errors import SpaceError
from paretune.space._conditions import Condition, ConditionLike, as_condition
from paretune.space._priors import (
    Confidence,
    categorical_prior_logpdf,
    categorical_prior_weight,
    check_confidence,
)
from paretune.space._values import Value, ValueKey, describe, to_python_scalar, value_key


class Parameter(ABC):
    """Base class of Float, Integer, Categorical, Constant and Fidelity.

    Parameters compare and hash by type and content, where 1, 1.0 and True differ.
    """

    type_name: ClassVar[str]
    """The ``type`` key of the parameter in dictionaries and YAML files."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]
    """Declared for type checkers: every concrete parameter is a dataclass."""

    takes_range: ClassVar[bool] = False
    """Whether the first two positional arguments are the bounds low and high."""

    def __new__(cls, *args: object, **kwargs: object) -> Self:
        cls._check_arguments(args, kwargs)
        return super().__new__(cls)

    @classmethod
    def _check_arguments(cls, args: tuple[object, ...], kwargs: Mapping[str, object]) -> None:
        """Raise SpaceError for argument mistakes that would otherwise be a bare TypeError."""
        single = args[0] if len(args) == 1 and "high" not in kwargs else None
        if cls.takes_range and isinstance(single, list | tuple):
            raise SpaceError(
                f"{cls.__name__} range given as a list {single!r}; pass low and high as "
                f"two arguments, such as {cls.__name__}(1, 10)"
            )

    def __post_init__(self) -> None:
        try:
            self._validate()
        except SpaceError as error:
            raise SpaceError(f"{self._label()}: {error}") from None

    @abstractmethod
    def _validate(self) -> None:
        """Check the arguments and store them in normalized form, raising SpaceError."""

    def _label(self) -> str:
        """Return the class and positional arguments, to identify the parameter in messages."""
        fields = dataclasses.fields(self)
        values = [getattr(self, field.name) for field in fields if not field.kw_only]
        arguments = [list(value) if isinstance(value, tuple) else value for value in values]
        return f"{type(self).__name__}({', '.join(repr(value) for value in arguments)})"

    def _key(self) -> tuple[object, ...]:
        return tuple(
            (field.name, _typed_key(getattr(self, field.name)))
            for field in dataclasses.fields(self)
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Parameter):
            return NotImplemented
        return type(self) is type(other) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    @abstractmethod
    def coerce(self, value: object) -> Value:
        """Validate a value of this parameter and return it as its Python type.

        Raises:
            SpaceError: naming the value and the values allowed; the parameter name is left
                to the caller.
        """


class Hyperparameter(Parameter):
    """A parameter that the optimizer searches: everything but the fidelity."""

    condition: ConditionLike | None

    @property
    def parsed_condition(self) -> Condition | None:
        """The condition under which this parameter is active, or None when always active."""
        return as_condition(self.condition)

    @property
    def has_prior(self) -> bool:
        """Whether the parameter has an expert prior."""
        return False

    @property
    @abstractmethod
    def is_discrete(self) -> bool:
        """Whether the parameter has finitely many values."""

    @property
    @abstractmethod
    def cardinality(self) -> int | float:
        """The number of distinct values, ``math.inf`` for a continuous parameter."""

    @abstractmethod
    def grid(self) -> tuple[Value, ...]:
        """Return every value in order; only for discrete parameters."""

    @abstractmethod
    def to_unit(self, value: Value) -> float:
        """Map a valid value to [0, 1]; discrete values map to the centre of their cell."""

    @abstractmethod
    def from_unit(self, u: float) -> Value:
        """Map a point of [0, 1] to the value whose cell contains it."""

    @abstractmethod
    def default_value(self) -> Value:
        """Return the prior value, or the midpoint or first choice when there is no prior."""

    def sample_unit(self, rng: np.random.Generator, size: int, *, from_prior: bool) -> np.ndarray:
        """Draw ``size`` points of [0, 1], from the prior when asked and one exists."""
        return rng.random(size)

    def prior_logpdf_unit(self, u: float) -> float:
        """Return the prior's log density at ``u`` in unit space, 0 without a prior."""
        return 0.0

    def perturb_unit(self, u: float, rng: np.random.Generator, scale: float) -> float:
        """Return ``u`` moved by a Gaussian step of standard deviation ``scale``, clipped."""
        return float(np.clip(u + rng.normal(0.0, scale), 0.0, 1.0))


@dataclass(frozen=True, eq=False)
class Categorical(Hyperparameter):
    """A parameter that takes one of a list of choices, which keep their types.

    Choices may be str, int, float, bool or None. Choices that are equal in Python count as
    duplicates, so ``[1, 1.0]`` and ``[1, True]`` are rejected. A prior gives the prior choice
    probability 0.5, 0.75 or 0.9 for confidence "low", "medium" or "high", and the other
    choices share the rest. A numeric confidence ``c`` in [0, 1) gives ``c + (1 - c) / k``
    for ``k`` choices. ``None`` as a prior means no prior, so a None choice cannot be the prior.

    Example:
        >>> Categorical(["adam", "sgd"], prior="adam", confidence="high").choices
        ('adam', 'sgd')
    """

    type_name: ClassVar[str] = "categorical"

    choices: Sequence[Value]
    _: KW_ONLY
    prior: Value = None
    confidence: Confidence = "medium"
    condition: ConditionLike | None = None

    def _validate(self) -> None:
        object.__setattr__(self, "choices", _check_choices(self.choices))
        object.__setattr__(self, "confidence", check_confidence(self.confidence))
        object.__setattr__(self, "condition", as_condition(self.condition))
        if self.prior is not None:
            try:
                prior = self.coerce(self.prior)
            except SpaceError as error:
                raise SpaceError(f"invalid prior: {error}") from None
            object.__setattr__(self, "prior", prior)

    @cached_property
    def _index(self) -> dict[ValueKey, int]:
        return {value_key(choice): i for i, choice in enumerate(self.choices)}

    @property
    def has_prior(self) -> bool:
        """Whether the parameter has an expert prior."""
        return self.prior is not None

    @property
    def is_discrete(self) -> bool:
        """Always True."""
        return True

    @property
    def cardinality(self) -> int:
        """The number of choices."""
        return len(self.choices)

    def index(self, value: Value) -> int:
        """Return the position of a valid value among the choices."""
        return self._index[value_key(value)]

    def coerce(self, value: object) -> Value:
        """Return the choice that ``value`` is, matching type as well as value.

        Raises:
            SpaceError: when no choice has the same type and value.
        """
        scalar = to_python_scalar(value)
        if value_key(scalar) in self._index:
            return self.choices[self._index[value_key(scalar)]]
        message = f"{describe(scalar)} is not one of the choices {list(self.choices)!r}"
        same = [choice for choice in self.choices if choice == scalar]
        if same:
            message += f" (note that {describe(same[0])} is a different type)"
        raise SpaceError(message)

    def grid(self) -> tuple[Value, ...]:
        """Return the choices in order."""
        return tuple(self.choices)

    def to_unit(self, value: Value) -> float:
        """Map the choice at index ``i`` of ``k`` to ``(i + 0.5) / k``."""
        return (self.index(value) + 0.5) / len(self.choices)

    def from_unit(self, u: float) -> Value:
        """Return the choice whose cell contains ``u``."""
        return self.choices[self._unit_index(u)]

    def _unit_index(self, u: float) -> int:
        return min(int(u * len(self.choices)), len(self.choices) - 1)

    def default_value(self) -> Value:
        """Return the prior, or the first choice without a prior."""
        return self.choices[0] if self.prior is None else self.prior

    def _probabilities(self) -> np.ndarray:
        k = len(self.choices)
        weight = categorical_prior_weight(self.confidence, k)
        probabilities = np.full(k, (1.0 - weight) / max(k - 1, 1))
        probabilities[self.index(self.prior)] = weight
        return probabilities

    def sample_unit(self, rng: np.random.Generator, size: int, *, from_prior: bool) -> np.ndarray:
        """Draw cell centres uniformly, or with the prior's probabilities when asked."""
        if not (from_prior and self.has_prior):
            return rng.random(size)
        indices = rng.choice(len(self.choices), size=size, p=self._probabilities())
        return (indices + 0.5) / len(self.choices)

    def prior_logpdf_unit(self, u: float) -> float:
        """Return the log of the cell's probability times the number of choices."""
        if self.prior is None:
            return 0.0
        k = len(self.choices)
        weight = categorical_prior_weight(self.confidence, k)
        return categorical_prior_logpdf(self._unit_index(u), self.index(self.prior), weight, k)

    def perturb_unit(self, u: float, rng: np.random.Generator, scale: float) -> float:
        """With probability ``scale``, move to another choice drawn uniformly."""
        k = len(self.choices)
        current = self._unit_index(u)
        if k == 1 or rng.random() >= scale:
            return (current + 0.5) / k
        other = int(rng.integers(k - 1))
        return (other + (other >= current) + 0.5) / k


@dataclass(frozen=True, eq=False)
class Constant(Hyperparameter):
    """A parameter with one fixed value, passed to every configuration where it is active.

    Example:
        >>> Constant(3).value
        3
    """

    type_name: ClassVar[str] = "constant"

    value: Value
    _: KW_ONLY
    condition: ConditionLike | None = None

    def _validate(self) -> None:
        object.__setattr__(self, "value", _check_choice(self.value))
        object.__setattr__(self, "condition", as_condition(self.condition))

    @property
    def is_discrete(self) -> bool:
        """Always True."""
        return True

    @property
    def cardinality(self) -> int:
        """Always 1."""
        return 1

    def coerce(self, value: object) -> Value:
        """Return the constant when ``value`` has its type and value.

        Raises:
            SpaceError: for any other value.
        """
        scalar = to_python_scalar(value)
        if value_key(scalar) != value_key(self.value):
            raise SpaceError(
                f"{describe(scalar)} differs from the constant's value {describe(self.value)}"
            )
        return self.value

    def grid(self) -> tuple[Value, ...]:
        """Return the one value."""
        return (self.value,)

    def to_unit(self, value: Value) -> float:
        """Return 0.5, the centre of the only cell."""
        return 0.5

    def from_unit(self, u: float) -> Value:
        """Return the value for every ``u``."""
        return self.value

    def default_value(self) -> Value:
        """Return the value."""
        return self.value

    def sample_unit(self, rng: np.random.Generator, size: int, *, from_prior: bool) -> np.ndarray:
        """Return cell centres without drawing from ``rng``."""
        return np.full(size, 0.5)

    def perturb_unit(self, u: float, rng: np.random.Generator, scale: float) -> float:
        """Return 0.5: a constant never moves."""
        return 0.5


def _typed_key(value: object) -> object:
    if isinstance(value, tuple):
        return tuple(_typed_key(item) for item in value)
    if value is None or isinstance(value, str | int | float | bool):
        return value_key(value)
    return value


def _check_choice(value: object) -> Value:
    scalar = to_python_scalar(value)
    if isinstance(scalar, float) and scalar != scalar:
        raise SpaceError("NaN is not a valid value; use None or a string such as 'nan'")
    if isinstance(scalar, float) and scalar in (float("inf"), float("-inf")):
        raise SpaceError(f"{scalar!r} is not a valid value; use a finite number or a string")
    return scalar


def _check_choices(raw: Any) -> tuple[Value, ...]:
    if isinstance(raw, str | bytes | Mapping) or not isinstance(raw, Sequence):
        raise SpaceError(
            f"choices must be a list, got {describe(raw)}; write a list such as ['relu', 'gelu']"
        )
    if not raw:
        raise SpaceError("choices are empty; give at least one choice")
    choices = tuple(_check_choice(choice) for choice in raw)
    for i, choice in enumerate(choices):
        for earlier in choices[:i]:
            if earlier == choice:
                raise SpaceError(
                    f"duplicate choices {earlier!r} and {choice!r} in {list(choices)!r}; "
                    "1, 1.0 and True count as duplicates because they are equal in Python, "
                    "so keep only one or use distinct strings"
                )
    return choices
