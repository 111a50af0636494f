"""Dictionaries, JSON and YAML for spaces and configurations.

A space is written as a mapping from parameter name to a mapping with a ``type`` key:

    lr: {type: float, low: 1.0e-5, high: 1.0e-1, log: true, prior: 1.0e-3}
    optimizer: {type: categorical, choices: [adam, sgd]}
    momentum: {type: float, low: 0.0, high: 0.99, condition: {optimizer: sgd}}
    epochs: {type: fidelity, low: 1, high: 27}

JSON and YAML keep str, int, float, bool and None apart in Python, but other readers may parse
1.0 as 1. So where a value's type is not fixed by the parameter type (choices, constants,
categorical priors, condition values and fidelity bounds), a float with an integral value is
written as ``{"float": 1.0}``. Both the tagged and the plain form are read.
"""

from __future__ import annotations

import difflib
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from paretune._errors import SpaceError
from paretune.space._conditions import Condition
from paretune.space._numeric import Fidelity, Float, Integer
from paretune.space._parameters import Categorical, Constant, Parameter
from paretune.space._values import Config, Value, describe, to_python_scalar

_CLASSES: dict[str, type[Parameter]] = {
    cls.type_name: cls for cls in (Float, Integer, Categorical, Constant, Fidelity)
}
_POSITIONAL: dict[str, tuple[str, ...]] = {
    "float": ("low", "high"),
    "integer": ("low", "high"),
    "categorical": ("choices",),
    "constant": ("value",),
    "fidelity": ("low", "high"),
}
_OPTIONS: dict[str, tuple[str, ...]] = {
    "float": ("log", "step", "prior", "confidence", "condition"),
    "integer": ("log", "prior", "confidence", "condition"),
    "categorical": ("prior", "confidence", "condition"),
    "constant": ("condition",),
    "fidelity": ("log",),
}
# The fidelity's constructor rejects these keys with a message that explains the reason.
_REJECTED_BY_FIDELITY = ("prior", "confidence", "condition")
_NUMERIC_KEYS = ("low", "high", "step", "prior")
_FLOAT_TAG = "float"


def parameters_to_dict(parameters: Mapping[str, Parameter]) -> dict[str, dict[str, Any]]:
    """Return a JSON-safe mapping from name to parameter entry; options at defaults are omitted."""
    return {name: _parameter_to_dict(parameter) for name, parameter in parameters.items()}


def _parameter_to_dict(parameter: Parameter) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": parameter.type_name}
    if isinstance(parameter, Float | Integer):
        entry.update(low=parameter.low, high=parameter.high)
        _put(entry, "log", parameter.log, default=False)
        _put(entry, "step", getattr(parameter, "step", None), default=None)
        _put(entry, "prior", parameter.prior, default=None)
        _put(entry, "confidence", parameter.confidence, default="medium")
    elif isinstance(parameter, Categorical):
        entry["choices"] = [_tag(choice) for choice in parameter.choices]
        _put(entry, "prior", _tag(parameter.prior), default=None)
        _put(entry, "confidence", parameter.confidence, default="medium")
    elif isinstance(parameter, Constant):
        entry["value"] = _tag(parameter.value)
    elif isinstance(parameter, Fidelity):
        entry.update(low=_tag(parameter.low), high=_tag(parameter.high))
        _put(entry, "log", parameter.log, default=True)
    condition = getattr(parameter, "parsed_condition", None)
    if condition is not None:
        entry["condition"] = _condition_to_raw(condition)
    return entry


def _put(entry: dict[str, Any], key: str, value: object, *, default: object) -> None:
    if value is not default and value != default:
        entry[key] = value


def _tag(value: Value) -> Any:
    if isinstance(value, float) and value.is_integer():
        return {_FLOAT_TAG: value}
    return value


def _untag(value: object) -> object:
    if isinstance(value, Mapping) and len(value) == 1 and _FLOAT_TAG in value:
        tagged = value[_FLOAT_TAG]
        if isinstance(tagged, int | float) and not isinstance(tagged, bool):
            return float(tagged)
    return value


def _condition_to_raw(condition: Condition) -> dict[str, Any] | list[dict[str, Any]]:
    clauses = [
        {
            parent: _tag(values[0]) if len(values) == 1 else [_tag(value) for value in values]
            for parent, values in clause
        }
        for clause in condition.clauses
    ]
    return clauses[0] if len(clauses) == 1 else clauses


def _untag_condition(raw: object) -> object:
    if isinstance(raw, list):
        return [_untag_condition(clause) for clause in raw]
    if not isinstance(raw, Mapping):
        return raw
    return {
        parent: [_untag(value) for value in values] if isinstance(values, list) else _untag(values)
        for parent, values in raw.items()
    }


def parameters_from_dict(data: object) -> dict[str, Parameter]:
    """Build parameters from a mapping of name to parameter entry.

    Raises:
        SpaceError: naming the parameter, for a missing or unknown key, an unknown type or
            an invalid value.
    """
    if not isinstance(data, Mapping):
        raise SpaceError(
            f"a space must be a mapping from parameter name to parameter entry, "
            f"got {type(data).__name__}"
        )
    parameters = {}
    for name, entry in data.items():
        if not isinstance(name, str):
            raise SpaceError(f"parameter names must be strings, got {describe(name)}")
        try:
            parameters[name] = _parameter_from_dict(entry)
        except SpaceError as error:
            raise SpaceError(f"parameter {name!r}: {error}") from None
    return parameters


def _parameter_from_dict(entry: object) -> Parameter:
    if not isinstance(entry, Mapping):
        raise SpaceError(
            "expected a mapping such as {type: float, low: 0.0, high: 1.0}, "
            f"got {describe(entry)}"
        )
    type_name = entry.get("type")
    if type_name not in _CLASSES:
        raise SpaceError(f"unknown type {type_name!r}; use one of {list(_CLASSES)}")
    _check_keys(str(type_name), entry)
    values = {key: _read_value(key, value) for key, value in entry.items() if key != "type"}
    positional = [values.pop(key) for key in _POSITIONAL[str(type_name)]]
    return _CLASSES[str(type_name)](*positional, **values)


def _check_keys(type_name: str, entry: Mapping[Any, Any]) -> None:
    allowed = ("type", *_POSITIONAL[type_name], *_OPTIONS[type_name])
    accepted = (*allowed, *_REJECTED_BY_FIDELITY) if type_name == "fidelity" else allowed
    for key in entry:
        if key not in accepted:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise SpaceError(
                f"unknown key {key!r} for type {type_name!r}; {hint}allowed keys: {list(allowed)}"
            )
    missing = [key for key in _POSITIONAL[type_name] if key not in entry]
    if missing:
        raise SpaceError(
            f"missing key {missing[0]!r}; a {type_name} needs {_POSITIONAL[type_name]}"
        )


def _read_value(key: str, value: object) -> object:
    if key == "choices" and isinstance(value, list):
        return [_untag(choice) for choice in value]
    if key == "condition":
        return _untag_condition(value)
    if key in _NUMERIC_KEYS and isinstance(value, str) and _parses_as_float(value):
        raise SpaceError(
            f"{key} is the string {value!r}; YAML reads numbers such as 1e-5 without a dot as "
            "strings, so write 1.0e-5"
        )
    return _untag(value)


def _parses_as_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def dumps_json(data: object) -> str:
    """Serialize JSON-safe data exactly, rejecting NaN and infinity."""
    return json.dumps(data, allow_nan=False)


def loads_json(text: str) -> Any:
    """Parse JSON text, raising SpaceError with the position of a syntax error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise SpaceError(f"invalid JSON: {error}") from None


def dumps_yaml(data: object) -> str:
    """Write data as YAML with yaml.safe_dump, keeping the order of keys."""
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None)


def loads_yaml(path_or_text: str | os.PathLike[str]) -> Any:
    """Read YAML from a file path or from YAML text, with yaml.safe_load.

    A ``Path`` or a one-line string that ends in ``.yaml`` or ``.yml`` is read as a file;
    any other string is parsed as YAML text.

    Raises:
        SpaceError: for a missing file or invalid YAML.
    """
    text = str(path_or_text)
    is_path = isinstance(path_or_text, os.PathLike) or (
        "\n" not in text and Path(text).suffix in (".yaml", ".yml")
    )
    if is_path:
        try:
            text = Path(path_or_text).read_text(encoding="utf-8")
        except OSError as error:
            raise SpaceError(f"cannot read the space file {str(path_or_text)!r}: {error}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SpaceError(f"invalid YAML: {error}") from None


def config_to_json(config: Mapping[str, Any]) -> str:
    """Serialize a configuration to JSON so that 1, 1.0, True and None keep their types.

    Example:
        >>> config_to_json({"lr": 1.0, "layers": 2, "bias": True})
        '{"lr": 1.0, "layers": 2, "bias": true}'

    Raises:
        SpaceError: for a value that is not a finite str, int, float, bool or None.
    """
    plain = {}
    for name, value in config.items():
        scalar = to_python_scalar(value)
        if isinstance(scalar, float) and not math.isfinite(scalar):
            raise SpaceError(f"{name!r}: {scalar!r} is not finite and cannot be written as JSON")
        plain[str(name)] = scalar
    return json.dumps(plain)


def config_from_json(text: str) -> Config:
    """Parse a configuration written by config_to_json.

    Example:
        >>> config_from_json('{"lr": 1.0, "layers": 2}')
        {'lr': 1.0, 'layers': 2}

    Raises:
        SpaceError: for invalid JSON or JSON that is not an object.
    """
    data = loads_json(text)
    if not isinstance(data, dict):
        raise SpaceError(f"a configuration must be a JSON object, got {type(data).__name__}")
    return data
