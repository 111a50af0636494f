"""The Space: an immutable, ordered set of named parameters with conditions and priors."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy.stats import qmc

from paretune._errors import SpaceError
from paretune.space._activity import ConditionGraph, active_set, build_condition_graph
from paretune.space._activity import clauses_hold as _clauses_hold
from paretune.space._enumeration import count_configs, enumerate_configs
from paretune.space._numeric import Fidelity
from paretune.space._parameters import Hyperparameter, Parameter
from paretune.space._serialization import (
    dumps_json,
    dumps_yaml,
    loads_json,
    loads_yaml,
    parameters_from_dict,
    parameters_to_dict,
)
from paretune.space._values import Config, Value, describe, value_key


class Space(Mapping[str, Parameter]):
    """An immutable, ordered mapping from parameter name to parameter.

    The space validates its conditions when it is built, samples configurations, and maps
    configurations to points of the unit cube ``[0, 1]^d`` and back, where ``d`` is the number
    of hyperparameters (every parameter but the fidelity). Spaces compare and hash by content.

    Example:
        >>> import numpy as np
        >>> from paretune.space import Categorical, Fidelity, Float, Integer, Space
        >>> space = Space({
        ...     "optimizer": Categorical(["adam", "sgd"]),
        ...     "momentum": Float(0.0, 0.99, condition={"optimizer": "sgd"}),
        ...     "epochs": Fidelity(1, 27),
        ... })
        >>> config = space.sample(np.random.default_rng(0))
        >>> space.validate_config(config) == config
        True
    """

    def __init__(self, parameters: Mapping[str, Parameter]) -> None:
        """Validate the parameters and their conditions.

        Raises:
            SpaceError: for an empty space, a name that is not a string, a value that is not
                a parameter, more than one fidelity, or an invalid condition.
        """
        checked = _check_parameters(parameters)
        fidelities = [name for name, value in checked.items() if isinstance(value, Fidelity)]
        if len(fidelities) > 1:
            raise SpaceError(
                f"a space has at most one fidelity, got {fidelities}; make all but one of them "
                "Integer or Float hyperparameters"
            )
        self._parameters = MappingProxyType(checked)
        self._fidelity_name = fidelities[0] if fidelities else None
        self._hyperparameters: dict[str, Hyperparameter] = {
            name: value for name, value in checked.items() if isinstance(value, Hyperparameter)
        }
        if not self._hyperparameters:
            raise SpaceError("a space needs at least one parameter besides the fidelity")
        self._graph: ConditionGraph = build_condition_graph(
            self._hyperparameters, self._fidelity_name
        )
        self._columns = {name: i for i, name in enumerate(self._hyperparameters)}

    # --- Mapping protocol and identity -----------------------------------------------------

    def __getitem__(self, name: str) -> Parameter:
        return self._parameters[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __len__(self) -> int:
        return len(self._parameters)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Space):
            return NotImplemented
        return list(self._parameters.items()) == list(other._parameters.items())

    def __hash__(self) -> int:
        return hash(tuple(self._parameters.items()))

    def __repr__(self) -> str:
        return f"Space({dict(self._parameters)!r})"

    def __reduce__(self) -> tuple[type[Space], tuple[dict[str, Parameter]]]:
        # The read-only mapping proxy cannot be pickled, so rebuild from a plain dict.
        return (Space, (dict(self._parameters),))

    @property
    def names(self) -> list[str]:
        """All parameter names in order, the fidelity included."""
        return list(self._parameters)

    @property
    def hyperparameter_names(self) -> list[str]:
        """Names of every parameter but the fidelity, in order; the columns of ``encode``."""
        return list(self._hyperparameters)

    @property
    def parameters(self) -> Mapping[str, Parameter]:
        """A read-only mapping from name to parameter."""
        return self._parameters

    @property
    def fidelity_name(self) -> str | None:
        """The name of the fidelity, or None when the space has none."""
        return self._fidelity_name

    @property
    def fidelity(self) -> Fidelity | None:
        """The fidelity parameter, or None when the space has none."""
        if self._fidelity_name is None:
            return None
        fidelity = self._parameters[self._fidelity_name]
        return fidelity if isinstance(fidelity, Fidelity) else None

    # --- Conditions ------------------------------------------------------------------------

    def is_active(self, name: str, config: Mapping[str, Any]) -> bool:
        """Return whether a hyperparameter is active in a configuration.

        A parameter is inactive when no clause of its condition holds, which includes every
        clause whose parent is inactive.

        Example:
            >>> space = Space({
            ...     "optimizer": Categorical(["adam", "sgd"]),
            ...     "momentum": Float(0.0, 0.99, condition={"optimizer": "sgd"}),
            ... })
            >>> space.is_active("momentum", {"optimizer": "adam"})
            False

        Raises:
            SpaceError: for a name that is not a hyperparameter of the space.
        """
        if name not in self._hyperparameters:
            raise SpaceError(
                f"{name!r} is not a hyperparameter of this space; "
                f"hyperparameters: {self.hyperparameter_names}"
            )
        return name in active_set(self._graph, self._hyperparameters, dict(config))

    def active_names(self, config: Mapping[str, Any]) -> list[str]:
        """Return the names of the hyperparameters that are active in a configuration, in order.

        Example:
            >>> Space({"x": Float(0.0, 1.0)}).active_names({"x": 0.5})
            ['x']
        """
        active = active_set(self._graph, self._hyperparameters, dict(config))
        return [name for name in self._hyperparameters if name in active]

    def _build_config(self, value_of: Callable[[str, Hyperparameter], Value]) -> Config:
        """Choose values in condition order, skipping every parameter that is inactive."""
        values: dict[str, Value] = {}
        keys: dict[str, object] = {}
        for name in self._graph.order:
            clauses = self._graph.clauses.get(name)
            if clauses is not None and not _clauses_hold(clauses, keys.get):
                continue
            values[name] = value_of(name, self._hyperparameters[name])
            keys[name] = value_key(values[name])
        return {name: values[name] for name in self._hyperparameters if name in values}

    # --- Sampling ----------------------------------------------------------------------------

    def sample(self, rng: np.random.Generator, *, from_prior: bool = False) -> Config:
        """Draw one configuration, without the fidelity and without inactive parameters.

        With ``from_prior=True`` parameters that have a prior are drawn from it; the others
        stay uniform in unit space.

        Example:
            >>> space = Space({"layers": Integer(1, 8, prior=4)})
            >>> space.sample(np.random.default_rng(0), from_prior=True)["layers"] in range(1, 9)
            True
        """
        return self.sample_many(rng, 1, from_prior=from_prior)[0]

    def sample_many(
        self, rng: np.random.Generator, n: int, *, from_prior: bool = False
    ) -> list[Config]:
        """Draw ``n`` configurations, as ``sample`` does.

        Example:
            >>> len(Space({"x": Float(0.0, 1.0)}).sample_many(np.random.default_rng(0), 3))
            3
        """
        _check_rng(rng)
        _check_count(n)
        columns = [
            parameter.sample_unit(rng, n, from_prior=from_prior)
            for parameter in self._hyperparameters.values()
        ]
        unit = np.column_stack(columns) if n else np.empty((0, len(columns)))
        return [self.decode(row) for row in unit]

    def sobol(self, n: int, *, seed: int | np.random.Generator) -> list[Config]:
        """Return ``n`` configurations from a scrambled Sobol sequence, decoded.

        The first ``n`` points of a sequence of the next power of two are used, so a design
        of 10 points is a prefix of the design of 16 points with the same seed.

        Example:
            >>> len(Space({"x": Float(0.0, 1.0)}).sobol(5, seed=0))
            5
        """
        _check_count(n)
        if n == 0:
            return []
        sampler = qmc.Sobol(len(self._hyperparameters), scramble=True, rng=seed)
        points = sampler.random_base2(math.ceil(math.log2(n)))[:n]
        return [self.decode(row) for row in points]

    def neighbour(
        self,
        config: Mapping[str, Any],
        rng: np.random.Generator,
        *,
        scale: float,
        rate: float = 1.0,
    ) -> Config:
        """Return a random configuration near ``config``, for sampling around an incumbent.

        Each active parameter moves with probability ``rate`` (all of them by default). A
        numeric one moves by a Gaussian step with standard deviation ``scale`` in unit space,
        clipped to [0, 1]; a categorical one moves to another choice, drawn uniformly, with
        probability ``scale``. Parameters that are inactive in ``config`` are drawn uniformly,
        so they have a value when the move activates them.

        Example:
            >>> space = Space({"x": Float(0.0, 1.0)})
            >>> 0.0 <= space.neighbour({"x": 0.5}, np.random.default_rng(0), scale=0.1)["x"] <= 1.0
            True

        Raises:
            SpaceError: for an invalid configuration or a scale that is not a number > 0.
        """
        _check_rng(rng)
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not scale > 0:
            raise SpaceError(f"scale must be a number > 0, such as 0.1, got {describe(scale)}")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate <= 1:
            raise SpaceError(f"rate must be a number in (0, 1], such as 0.5, got {describe(rate)}")
        unit = self.encode(config)
        for column, parameter in enumerate(self._hyperparameters.values()):
            if math.isnan(unit[column]):
                unit[column] = parameter.sample_unit(rng, 1, from_prior=False)[0]
            elif rate == 1 or rng.random() < rate:
                unit[column] = parameter.perturb_unit(float(unit[column]), rng, float(scale))
        return self.decode(unit)

    # --- Unit cube ---------------------------------------------------------------------------

    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        """Map a configuration to a float64 point of shape ``(d,)`` in [0, 1]^d.

        Inactive parameters are NaN. A discrete value maps to the centre of its cell, so
        choice ``i`` of ``k`` maps to ``(i + 0.5) / k``. Log-scaled parameters map linearly
        in the logarithm. A fidelity key in ``config`` is ignored.

        Example:
            >>> Space({"act": Categorical(["relu", "gelu"])}).encode({"act": "gelu"})
            array([0.75])

        Raises:
            SpaceError: when ``config`` is invalid, as in ``validate_config``.
        """
        normalized = self.validate_config(config, allow_fidelity=True)
        unit = np.full(len(self._hyperparameters), np.nan)
        for column, (name, parameter) in enumerate(self._hyperparameters.items()):
            if name in normalized:
                unit[column] = parameter.to_unit(normalized[name])
        return unit

    def encode_many(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Map configurations to a float64 array of shape ``(n, d)``, as ``encode`` does.

        Example:
            >>> Space({"x": Float(0.0, 2.0)}).encode_many([{"x": 0.0}, {"x": 1.0}]).shape
            (2, 1)
        """
        unit = np.empty((len(configs), len(self._hyperparameters)))
        for row, config in enumerate(configs):
            unit[row] = self.encode(config)
        return unit

    def decode(self, u: np.ndarray) -> Config:
        """Map a point of the unit cube to a configuration.

        Coordinates are clipped to [0, 1]. Integers and stepped floats take the value whose
        cell contains the coordinate, and floats are clamped into their bounds. Parameters
        that are inactive under the decoded values are left out, whatever their coordinate,
        NaN included.

        Example:
            >>> Space({"layers": Integer(1, 8)}).decode(np.array([0.99]))
            {'layers': 8}

        Raises:
            SpaceError: for a point of the wrong shape or a NaN coordinate of an active
                parameter.
        """
        unit = self._check_unit_point(u)

        def value_of(name: str, parameter: Hyperparameter) -> Value:
            coordinate = unit[self._columns[name]]
            if math.isnan(coordinate):
                raise SpaceError(
                    f"the coordinate of active parameter {name!r} is NaN; NaN marks an "
                    "inactive parameter, so give a value in [0, 1]"
                )
            return parameter.from_unit(float(coordinate))

        return self._build_config(value_of)

    def _check_unit_point(self, u: np.ndarray) -> np.ndarray:
        unit = np.asarray(u, dtype=np.float64)
        expected = (len(self._hyperparameters),)
        if unit.shape != expected:
            raise SpaceError(
                f"a point of this space has shape {expected}, one coordinate per "
                f"hyperparameter {self.hyperparameter_names}, got shape {unit.shape}"
            )
        return np.clip(unit, 0.0, 1.0)

    # --- Configurations ----------------------------------------------------------------------

    def validate_config(self, config: Mapping[str, Any], *, allow_fidelity: bool = False) -> Config:
        """Check a configuration and return a normalized copy in the order of the space.

        Integers become ``int`` and floats ``float``; categorical values must match a choice
        in type as well as value. Every active hyperparameter must have a value and inactive
        ones must be absent. The fidelity is accepted only with ``allow_fidelity=True``.

        Example:
            >>> Space({"layers": Integer(1, 8)}).validate_config({"layers": np.int64(3)})
            {'layers': 3}

        Raises:
            SpaceError: listing each unknown, missing, inactive or invalid key with what is
                allowed.
        """
        if not isinstance(config, Mapping):
            raise SpaceError(
                f"a configuration must be a mapping from parameter name to value, "
                f"got {type(config).__name__}"
            )
        normalized, problems = self._coerce_values(config, allow_fidelity=allow_fidelity)
        invalid = {name for name in config if name not in normalized}
        problems += self._activity_problems(normalized, invalid)
        if problems:
            raise SpaceError("invalid configuration:\n  - " + "\n  - ".join(problems))
        return {name: normalized[name] for name in self._parameters if name in normalized}

    def _coerce_values(
        self, config: Mapping[str, Any], *, allow_fidelity: bool
    ) -> tuple[Config, list[str]]:
        normalized: Config = {}
        problems: list[str] = []
        for name, value in config.items():
            if name == self._fidelity_name and not allow_fidelity:
                problems.append(
                    f"{name!r} is the fidelity, which the optimizer sets; remove it from the "
                    "configuration"
                )
            elif name not in self._parameters:
                problems.append(
                    f"unknown parameter {name!r}; parameters: {self.hyperparameter_names}"
                )
            else:
                try:
                    normalized[name] = self._parameters[name].coerce(value)
                except SpaceError as error:
                    problems.append(f"{name!r}: {error}")
        return normalized, problems

    def _activity_problems(self, normalized: Config, invalid: set[str]) -> list[str]:
        active = active_set(self._graph, self._hyperparameters, normalized)
        problems = []
        for name, parameter in self._hyperparameters.items():
            condition = parameter.parsed_condition
            if condition is not None and invalid.intersection(condition.parents):
                continue  # Its activity is unknown while a parent's value is invalid.
            if name in active and name not in normalized and name not in invalid:
                problems.append(f"missing value for active parameter {name!r}: {parameter!r}")
            elif name not in active and name in normalized:
                problems.append(
                    f"{name!r} is inactive because its condition ({condition}) does not hold; "
                    "remove it"
                )
        return problems

    def config_key(self, config: Mapping[str, Any]) -> str:
        """Return a canonical string of a configuration for finding duplicates.

        The key is JSON with sorted keys, so it keeps types apart: 1, 1.0 and True give
        different keys. The fidelity is part of the key when ``config`` contains it.

        Example:
            >>> Space({"x": Integer(1, 3)}).config_key({"x": 2})
            '{"x": 2}'
        """
        return json.dumps(self.validate_config(config, allow_fidelity=True), sort_keys=True)

    # --- Finite spaces -----------------------------------------------------------------------

    @property
    def is_finite(self) -> bool:
        """Whether every hyperparameter is discrete: Integer, Categorical, Constant or a
        Float with a step."""
        return all(parameter.is_discrete for parameter in self._hyperparameters.values())

    @property
    def size(self) -> int | float:
        """The number of distinct configurations under the conditions, ``math.inf`` when a
        hyperparameter is continuous."""
        return count_configs(self._graph, self._hyperparameters)

    def enumerate(self) -> Iterator[Config]:
        """Yield every configuration of a finite space once, in a deterministic order.

        Example:
            >>> list(Space({"x": Integer(1, 2), "y": Categorical(["a"])}).enumerate())
            [{'x': 1, 'y': 'a'}, {'x': 2, 'y': 'a'}]

        Raises:
            SpaceError: when a hyperparameter is continuous.
        """
        continuous = [
            name for name, parameter in self._hyperparameters.items() if not parameter.is_discrete
        ]
        if continuous:
            raise SpaceError(
                f"cannot enumerate a space with continuous parameters {continuous}; give each "
                "a step or sample the space instead"
            )
        return enumerate_configs(self._graph, self._hyperparameters)

    # --- Priors ------------------------------------------------------------------------------

    @property
    def has_prior(self) -> bool:
        """Whether any hyperparameter has a prior."""
        return any(parameter.has_prior for parameter in self._hyperparameters.values())

    def prior_logpdf_unit(self, u: np.ndarray) -> float:
        """Return the log density of the prior at a point of the unit cube.

        The density is the product over the parameters with a prior of each one's density in
        unit space, and a parameter without a prior, or with a NaN coordinate, contributes a
        factor of 1. A categorical's density is its choice's probability times the number of
        choices, so that a uniform categorical has density 1.

        Example:
            >>> Space({"x": Float(0.0, 1.0)}).prior_logpdf_unit(np.array([0.3]))
            0.0
        """
        unit = self._check_unit_point(u)
        total = 0.0
        for column, parameter in enumerate(self._hyperparameters.values()):
            if parameter.has_prior and not math.isnan(unit[column]):
                total += parameter.prior_logpdf_unit(float(unit[column]))
        return total

    def prior_config(self) -> Config:
        """Return the configuration of the priors, the default when the user gives none.

        A numeric parameter without a prior takes its midpoint in unit space, which is the
        geometric mean on a log scale. A categorical without a prior takes its first choice.
        Inactive parameters are left out.

        Example:
            >>> Space({"lr": Float(1e-4, 1e-2, log=True, prior=1e-3)}).prior_config()
            {'lr': 0.001}
        """
        return self._build_config(lambda _, parameter: parameter.default_value())

    # --- Serialization -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Return a JSON-safe dictionary of the space that ``from_dict`` restores exactly.

        Example:
            >>> Space({"layers": Integer(1, 8)}).to_dict()
            {'layers': {'type': 'integer', 'low': 1, 'high': 8}}
        """
        return parameters_to_dict(self._parameters)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Space:
        """Build a space from a dictionary such as ``to_dict`` returns or a user writes.

        Example:
            >>> Space.from_dict({"act": {"type": "categorical", "choices": ["relu", "gelu"]}})
            Space({'act': Categorical(choices=('relu', 'gelu'), ...)})

        Raises:
            SpaceError: naming the parameter and the key for any invalid entry.
        """
        return cls(parameters_from_dict(data))

    def to_json(self) -> str:
        """Return the space as JSON text.

        Example:
            >>> Space({"x": Float(0.0, 1.0)}).to_json()
            '{"x": {"type": "float", "low": 0.0, "high": 1.0}}'
        """
        return dumps_json(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Space:
        """Build a space from JSON text written by ``to_json`` or by hand.

        Example:
            >>> Space.from_json('{"x": {"type": "integer", "low": 1, "high": 3}}').size
            3
        """
        return cls.from_dict(loads_json(text))

    def to_yaml(self) -> str:
        """Return the space as YAML text in the schema that ``from_yaml`` reads.

        Example:
            >>> print(Space({"layers": Integer(1, 8)}).to_yaml())
            layers: {type: integer, low: 1, high: 8}
            <BLANKLINE>
        """
        return dumps_yaml(self.to_dict())

    @classmethod
    def from_yaml(cls, path_or_text: str | os.PathLike[str]) -> Space:
        """Build a space from a YAML file or YAML text, read with ``yaml.safe_load``.

        A ``Path`` or a one-line string ending in ``.yaml`` or ``.yml`` is a file; any other
        string is YAML text. YAML 1.1 reads ``1e-5`` as a string, so write ``1.0e-5``.

        Example:
            >>> Space.from_yaml("layers: {type: integer, low: 1, high: 8}").names
            ['layers']
        """
        return cls.from_dict(loads_yaml(path_or_text))


def _check_parameters(parameters: object) -> dict[str, Parameter]:
    if not isinstance(parameters, Mapping):
        raise SpaceError(
            f"a space takes a mapping from name to parameter, got {type(parameters).__name__}; "
            "use Space.from_dict for a mapping of plain dictionaries"
        )
    checked = {}
    for name, parameter in parameters.items():
        if not isinstance(name, str) or not name:
            raise SpaceError(f"parameter names must be non-empty strings, got {describe(name)}")
        if not isinstance(parameter, Parameter):
            raise SpaceError(
                f"parameter {name!r} must be a Float, Integer, Categorical, Constant or "
                f"Fidelity, got {type(parameter).__name__}; use Space.from_dict for plain "
                "dictionaries"
            )
        checked[name] = parameter
    return checked


def _check_rng(rng: object) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator, such as numpy.random.default_rng(0), "
            f"got {type(rng).__name__}"
        )


def _check_count(n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
        raise SpaceError(f"the number of configurations must be an int >= 0, got {describe(n)}")
