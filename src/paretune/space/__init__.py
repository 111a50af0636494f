"""Search spaces: parameters, conditions, priors, sampling, unit-cube encoding and serialization.

Example:
    >>> import numpy as np
    >>> from paretune.space import Categorical, Fidelity, Float, Integer, Space
    >>> space = Space({
    ...     "lr": Float(1e-5, 1e-1, log=True, prior=1e-3),
    ...     "layers": Integer(1, 8),
    ...     "optimizer": Categorical(["adam", "sgd"]),
    ...     "momentum": Float(0.0, 0.99, condition={"optimizer": "sgd"}),
    ...     "epochs": Fidelity(1, 27),
    ... })
    >>> config = space.sample(np.random.default_rng(0), from_prior=True)
    >>> sorted(config) in (["layers", "lr", "optimizer"], ["layers", "lr", "momentum", "optimizer"])
    True
"""

from paretune.space._conditions import Condition, ConditionLike
from paretune.space._numeric import Fidelity, Float, Integer
from paretune.space._parameters import Categorical, Constant, Hyperparameter, Parameter
from paretune.space._priors import Confidence
from paretune.space._serialization import config_from_json, config_to_json
from paretune.space._space import Space
from paretune.space._values import Config, Value

__all__ = [
    "Categorical",
    "Condition",
    "ConditionLike",
    "Confidence",
    "Config",
    "Constant",
    "Fidelity",
    "Float",
    "Hyperparameter",
    "Integer",
    "Parameter",
    "Space",
    "Value",
    "config_from_json",
    "config_to_json",
]
