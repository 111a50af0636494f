"""Scalar values of parameters: type normalization, type-aware keys and formatting for messages."""

from __future__ import annotations

import math
from typing import Any, TypeAlias

import numpy as np

from paretune._errors import SpaceError

Value: TypeAlias = str | int | float | bool | None
"""A value that a parameter can take: categorical choices and constants keep their type."""

Config: TypeAlias = dict[str, Any]
"""A configuration: parameter name to value, with inactive parameters absent."""

ValueKey: TypeAlias = tuple[str, Value]
"""A type-aware key of a value, so that 1, 1.0 and True are three different keys."""


def to_python_scalar(value: object) -> Value:
    """Convert a NumPy scalar to the Python scalar of the same kind.

    Raises:
        SpaceError: when the value is not a str, int, float, bool or None.
    """
    if value is None or isinstance(value, str | bool | int | float):
        # np.float64 and np.str_ subclass float and str, so build plain objects.
        return _plain(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise SpaceError(
        f"{value!r} ({type(value).__name__}) is not a valid value; "
        "use a str, int, float, bool or None"
    )


def _plain(value: Value) -> Value:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    return float(value)


def value_key(value: Value) -> ValueKey:
    """Return a key that compares equal only for values of the same type and value."""
    if isinstance(value, float) and value == 0.0:
        # -0.0 and 0.0 are one value for every parameter.
        return ("float", 0.0)
    return (type(value).__name__, value)


def is_finite_number(value: object) -> bool:
    """Return True for an int or float (not a bool) that is finite."""
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, int | np.integer):
        return True
    return isinstance(value, float | np.floating) and math.isfinite(value)


def describe(value: object) -> str:
    """Format a value with its type for error messages, e.g. ``1.0 (float)``."""
    return f"{value!r} ({type(value).__name__})"
