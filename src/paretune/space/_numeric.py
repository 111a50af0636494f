"""Numeric parameters: Float, Integer and the Fidelity.

Float and Integer map to the unit interval linearly, or linearly in the logarithm with
``log=True``. An Integer value ``k`` owns the cell between ``k - 0.5`` and ``k + 0.5`` (in log
space when ``log=True``), and a Float with a ``step`` owns one cell of equal width per grid value.
Decoded values are clamped into the bounds and snapped to a bound within a relative 1e-12, so
float rounding never yields 0.32121000000000002 for a bound of 0.32121.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from decimal import Decimal
from typing import ClassVar

import numpy as np

from paretune._errors import SpaceError
from paretune.space._conditions import ConditionLike, as_condition
from paretune.space._parameters import Hyperparameter, Parameter
from paretune.space._priors import (
    Confidence,
    check_confidence,
    sample_truncated_normal,
    truncated_normal_logpdf,
    unit_sd,
)
from paretune.space._values import Value, describe, is_finite_number

SNAP_TOLERANCE = 1e-12
"""Relative distance within which a value snaps to a bound."""


@dataclass(frozen=True, eq=False)
class Float(Hyperparameter):
    """A real-valued parameter in [low, high].

    With ``log=True`` the parameter is searched on a log scale, so both bounds must be > 0.
    With ``step`` the values are ``low + k * step``, and the step must divide the range.
    A prior is a normal distribution truncated to the bounds, in unit (log-aware) space,
    centred on the prior. Its standard deviation in unit space is ``(1 - c) * 0.5`` for a
    confidence ``c`` in [0, 1). The names "low", "medium" and "high" are c = 0, 0.5 and 0.75,
    that is standard deviations 0.5, 0.25 and 0.125.

    Example:
        >>> Float(1e-5, 1e-1, log=True, prior=1e-3, confidence="high").log
        True
    """

    type_name: ClassVar[str] = "float"
    takes_range: ClassVar[bool] = True

    low: float
    high: float
    _: KW_ONLY
    log: bool = False
    step: float | None = None
    prior: float | None = None
    confidence: Confidence = "medium"
    condition: ConditionLike | None = None

    def _validate(self) -> None:
        low, high = _check_bounds(self.low, self.high, integer=False)
        _check_log(self.log, low, smallest="1e-8")
        object.__setattr__(self, "low", float(low))
        object.__setattr__(self, "high", float(high))
        object.__setattr__(self, "step", _check_step(self))
        _set_common_options(self)

    @property
    def has_prior(self) -> bool:
        """Whether the parameter has an expert prior."""
        return self.prior is not None

    @property
    def is_discrete(self) -> bool:
        """Whether the parameter has a step."""
        return self.step is not None

    @property
    def cardinality(self) -> int | float:
        """The number of grid values with a step, else ``math.inf``."""
        return math.inf if self.step is None else _grid_size(self.low, self.high, self.step)

    def grid(self) -> tuple[Value, ...]:
        """Return every grid value in increasing order.

        Raises:
            SpaceError: when the parameter has no step, because it is continuous.
        """
        if self.step is None:
            raise SpaceError(f"{self._label()} is continuous; give a step to make it discrete")
        size = _grid_size(self.low, self.high, self.step)
        return tuple(_grid_value(self.low, self.high, self.step, i) for i in range(size))

    def coerce(self, value: object) -> Value:
        """Return the value as a float inside the bounds, on the grid when there is a step.

        Raises:
            SpaceError: for a non-number, a value outside the bounds or off the grid.
        """
        number = _snap(_check_float(value), self.low, self.high)
        if self.step is None:
            return number
        on_grid = _grid_value(
            self.low, self.high, self.step, _grid_index(self.low, self.high, self.step, number)
        )
        if abs(on_grid - number) > 1e-9 * self.step:
            raise SpaceError(
                f"{describe(value)} is not on the grid {self.low!r} + k * {self.step!r}; "
                f"the nearest grid value is {on_grid!r}"
            )
        return on_grid

    def to_unit(self, value: Value) -> float:
        """Map a value to [0, 1], to the centre of its cell when there is a step."""
        number = float(value)  # type: ignore[arg-type]
        if self.step is not None:
            size = _grid_size(self.low, self.high, self.step)
            return (_grid_index(self.low, self.high, self.step, number) + 0.5) / size
        if self.log:
            return _fraction(math.log(number), math.log(self.low), math.log(self.high))
        return _fraction(number, self.low, self.high)

    def from_unit(self, u: float) -> Value:
        """Map a point of [0, 1] to a value inside the bounds, on the grid when there is a step."""
        if self.step is not None:
            size = _grid_size(self.low, self.high, self.step)
            return _grid_value(self.low, self.high, self.step, min(int(u * size), size - 1))
        if self.log:
            log_low, log_high = math.log(self.low), math.log(self.high)
            return _snap_clamped(math.exp(log_low + u * (log_high - log_low)), self.low, self.high)
        return _snap_clamped(self.low + u * (self.high - self.low), self.low, self.high)

    def default_value(self) -> Value:
        """Return the prior, or the midpoint in unit space (geometric mean with log)."""
        return self.from_unit(0.5) if self.prior is None else self.prior

    def sample_unit(self, rng: np.random.Generator, size: int, *, from_prior: bool) -> np.ndarray:
        """Draw points uniformly, or from the truncated normal prior when asked."""
        return _sample_numeric_unit(self, rng, size, from_prior=from_prior)

    def prior_logpdf_unit(self, u: float) -> float:
        """Return the truncated normal prior's log density at ``u``, 0 without a prior."""
        return _numeric_prior_logpdf(self, u)


@dataclass(frozen=True, eq=False)
class Integer(Hyperparameter):
    """An integer parameter in [low, high], both included; values are always Python ints.

    With ``log=True`` the parameter is searched on a log scale, so ``low`` must be >= 1.
    A prior works as for Float: a truncated normal in unit space with standard deviation
    ``(1 - c) * 0.5``, where "low", "medium" and "high" are c = 0, 0.5 and 0.75.

    Example:
        >>> Integer(1, 8, prior=4).cardinality
        8
    """

    type_name: ClassVar[str] = "integer"
    takes_range: ClassVar[bool] = True

    low: int
    high: int
    _: KW_ONLY
    log: bool = False
    prior: int | None = None
    confidence: Confidence = "medium"
    condition: ConditionLike | None = None

    def _validate(self) -> None:
        low, high = _check_bounds(self.low, self.high, integer=True)
        _check_log(self.log, low, smallest="1")
        object.__setattr__(self, "low", int(low))
        object.__setattr__(self, "high", int(high))
        _set_common_options(self)

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
        """The number of integers in [low, high]."""
        return self.high - self.low + 1

    def grid(self) -> tuple[Value, ...]:
        """Return the integers from low to high."""
        return tuple(range(self.low, self.high + 1))

    def coerce(self, value: object) -> Value:
        """Return the value as an int inside the bounds; a float such as 3.0 becomes 3.

        Raises:
            SpaceError: for a bool, a non-integral number or a value outside the bounds.
        """
        number = _check_int(value)
        if number < self.low or number > self.high:
            raise SpaceError(f"{describe(value)} is outside the bounds [{self.low}, {self.high}]")
        return number

    def _warp(self, x: float) -> float:
        return math.log(x) if self.log else x

    def _edges(self) -> tuple[float, float]:
        # Cells reach half a unit beyond the bounds, so low and high own full cells.
        return self._warp(self.low - 0.5), self._warp(self.high + 0.5)

    def to_unit(self, value: Value) -> float:
        """Map an integer to the centre of its cell in [0, 1]."""
        number = int(value)  # type: ignore[arg-type]
        left, right = self._edges()
        centre = (self._warp(number - 0.5) + self._warp(number + 0.5)) / 2
        return _fraction(centre, left, right)

    def from_unit(self, u: float) -> Value:
        """Return the integer whose cell contains ``u``."""
        left, right = self._edges()
        warped = left + u * (right - left)
        number = math.exp(warped) if self.log else warped
        return min(max(math.floor(number + 0.5), self.low), self.high)

    def default_value(self) -> Value:
        """Return the prior, or the integer at the middle of the unit interval."""
        return self.from_unit(0.5) if self.prior is None else self.prior

    def sample_unit(self, rng: np.random.Generator, size: int, *, from_prior: bool) -> np.ndarray:
        """Draw points uniformly, or from the truncated normal prior when asked."""
        return _sample_numeric_unit(self, rng, size, from_prior=from_prior)

    def prior_logpdf_unit(self, u: float) -> float:
        """Return the truncated normal prior's log density at ``u``, 0 without a prior."""
        return _numeric_prior_logpdf(self, u)


@dataclass(frozen=True, eq=False)
class Fidelity(Parameter):
    """The budget of one evaluation, such as epochs or a fraction of the data.

    The fidelity is an int when both bounds are ints and a float otherwise. The minimum must
    be > 0 and below the maximum. A fidelity takes no prior and no condition, because the
    optimizer's multi-fidelity schedule chooses it.

    Example:
        >>> Fidelity(1, 27).is_integer
        True
    """

    type_name: ClassVar[str] = "fidelity"
    takes_range: ClassVar[bool] = True

    low: int | float
    high: int | float
    _: KW_ONLY
    log: bool = True

    @classmethod
    def _check_arguments(cls, args: tuple[object, ...], kwargs: Mapping[str, object]) -> None:
        super()._check_arguments(args, kwargs)
        for option in ("prior", "confidence", "condition"):
            if option in kwargs:
                raise SpaceError(
                    f"Fidelity takes no {option} because the optimizer's multi-fidelity "
                    f"schedule chooses the fidelity; remove {option}={kwargs[option]!r}"
                )

    def _validate(self) -> None:
        integer = _is_int(self.low) and _is_int(self.high)
        low, high = _check_bounds(self.low, self.high, integer=False)
        if low <= 0:
            raise SpaceError(
                f"the minimum fidelity must be > 0, got {self.low!r}; use the smallest "
                "budget a trial can run with, such as 1 epoch"
            )
        if not isinstance(self.log, bool):
            raise SpaceError(f"log must be True or False, got {describe(self.log)}")
        object.__setattr__(self, "low", int(low) if integer else float(low))
        object.__setattr__(self, "high", int(high) if integer else float(high))

    @property
    def is_integer(self) -> bool:
        """Whether fidelity values are ints."""
        return isinstance(self.low, int)

    def coerce(self, value: object) -> Value:
        """Return the value inside the bounds, as an int for an integer fidelity.

        Raises:
            SpaceError: for a non-number or a value outside the bounds.
        """
        if self.is_integer:
            number = _check_int(value)
            if self.low <= number <= self.high:
                return number
            raise SpaceError(f"{describe(value)} is outside the bounds [{self.low}, {self.high}]")
        return _snap(_check_float(value), float(self.low), float(self.high))


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _check_bounds(low: object, high: object, *, integer: bool) -> tuple[int | float, int | float]:
    """Return the bounds as Python numbers, keeping ints exact."""
    for name, bound in (("low", low), ("high", high)):
        if isinstance(bound, list | tuple):
            raise SpaceError(f"range given as a list {bound!r}; pass low and high as two numbers")
        if integer and not _is_int(bound):
            raise SpaceError(
                f"bounds of an Integer must be ints, got {name}={describe(bound)}; "
                "use whole numbers, or a Float for a real-valued parameter"
            )
        if not is_finite_number(bound):
            raise SpaceError(f"{name} must be a finite number, got {describe(bound)}")
    low_number, high_number = _to_number(low), _to_number(high)
    if low_number == high_number:
        raise SpaceError(f"low equals high ({low!r}); use Constant({low!r}) for a fixed value")
    if low_number > high_number:
        raise SpaceError(f"low {low!r} must be < high {high!r}; swap the bounds")
    return low_number, high_number


def _check_log(log: object, low: float, *, smallest: str) -> None:
    if not isinstance(log, bool):
        raise SpaceError(f"log must be True or False, got {describe(log)}")
    if log and low <= 0:
        raise SpaceError(
            f"a log scale needs bounds > 0, got low={low!r}; "
            f"use a low such as {smallest} or set log=False"
        )


def _check_step(parameter: Float) -> float | None:
    step = parameter.step
    if step is None:
        return None
    if not is_finite_number(step) or step <= 0:
        raise SpaceError(f"step must be a finite number > 0, got {describe(step)}")
    if parameter.log:
        raise SpaceError("step and log=True cannot be combined; remove one of them")
    span = _exact(parameter.high) - _exact(parameter.low)
    if span % _exact(float(step)) != 0:
        fitting_high = float(_exact(parameter.low) + (span // _exact(float(step))) * _exact(step))
        raise SpaceError(
            f"step {step!r} does not divide the range {float(span)!r}; "
            f"use a step that does, or high={fitting_high!r}"
        )
    return float(step)


def _set_common_options(parameter: Float | Integer) -> None:
    """Validate and store confidence, condition and prior, which Float and Integer share."""
    object.__setattr__(parameter, "confidence", check_confidence(parameter.confidence))
    object.__setattr__(parameter, "condition", as_condition(parameter.condition))
    if parameter.prior is None:
        return
    try:
        prior = parameter.coerce(parameter.prior)
    except SpaceError as error:
        raise SpaceError(f"invalid prior: {error}; choose a prior inside the bounds") from None
    object.__setattr__(parameter, "prior", prior)


def _to_number(value: object) -> int | float:
    if isinstance(value, int | np.integer):
        return int(value)
    return float(value)  # type: ignore[arg-type]


def _check_float(value: object) -> float:
    if not is_finite_number(value):
        raise SpaceError(f"{describe(value)} is not a finite number")
    return float(_to_number(value))


def _check_int(value: object) -> int:
    """Return an int, accepting integral floats such as 3.0 and rejecting bools."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise SpaceError(f"{describe(value)} is not an int")
    return int(value)


def _snap(number: float, low: float, high: float) -> float:
    """Snap a number within the tolerance to its bound, else reject it when outside."""
    tolerance = SNAP_TOLERANCE * max(abs(low), abs(high))
    if low - tolerance <= number <= high + tolerance:
        return _snap_clamped(number, low, high)
    raise SpaceError(f"{number!r} is outside the bounds [{low!r}, {high!r}]")


def _snap_clamped(number: float, low: float, high: float) -> float:
    tolerance = SNAP_TOLERANCE * max(abs(low), abs(high))
    if number <= low + tolerance:
        return low
    if number >= high - tolerance:
        return high
    # Adding 0.0 turns -0.0 into 0.0, so equal values have one canonical form.
    return number + 0.0


def _fraction(x: float, left: float, right: float) -> float:
    return min(max((x - left) / (right - left), 0.0), 1.0)


def _grid_size(low: float, high: float, step: float) -> int:
    return int((_exact(high) - _exact(low)) / _exact(step)) + 1


def _grid_value(low: float, high: float, step: float, index: int) -> float:
    # Decimal arithmetic on the shortest reprs gives 0.0 + 3 * 0.1 == 0.3, not 0.30000000000000004.
    value = float(_exact(low) + index * _exact(step))
    return min(max(value, low), high)


def _grid_index(low: float, high: float, step: float, number: float) -> int:
    """Return the index of the grid value nearest to a number inside the bounds."""
    return min(max(round((number - low) / step), 0), _grid_size(low, high, step) - 1)


def _exact(number: float) -> Decimal:
    # The shortest repr is the decimal a user wrote, so 0.1 stays 0.1 rather than its binary value.
    return Decimal(repr(float(number)))


def _sample_numeric_unit(
    parameter: Float | Integer, rng: np.random.Generator, size: int, *, from_prior: bool
) -> np.ndarray:
    if not from_prior or parameter.prior is None:
        return rng.random(size)
    mean = parameter.to_unit(parameter.prior)
    return sample_truncated_normal(rng, mean, unit_sd(parameter.confidence), size)


def _numeric_prior_logpdf(parameter: Float | Integer, u: float) -> float:
    if parameter.prior is None:
        return 0.0
    mean = parameter.to_unit(parameter.prior)
    return truncated_normal_logpdf(u, mean, unit_sd(parameter.confidence))
