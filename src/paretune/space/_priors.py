"""Expert priors: confidence levels, truncated normals in the unit interval, categorical weights.

A prior on a Float or Integer is a normal distribution truncated to [0, 1] in the parameter's
unit (log-aware) space, centred on the prior's unit position. A prior on a Categorical gives the
prior choice probability ``w`` and shares ``1 - w`` among the other choices.
"""

from __future__ import annotations

import math
from typing import TypeAlias

import numpy as np
from scipy import stats

from paretune._errors import SpaceError

Confidence: TypeAlias = str | float
"""A confidence level: "low", "medium", "high" or a number in [0, 1)."""

CONFIDENCE_LEVELS: dict[str, float] = {"low": 0.0, "medium": 0.5, "high": 0.75}
"""The numeric confidence of each named level."""

UNIT_SD_AT_ZERO_CONFIDENCE = 0.5
"""Standard deviation in unit space at confidence 0; it shrinks linearly to 0 at confidence 1."""

_SQRT2 = math.sqrt(2.0)

CATEGORICAL_WEIGHTS: dict[str, float] = {"low": 0.5, "medium": 0.75, "high": 0.9}
"""Probability of the prior choice of a Categorical for each named level."""


def check_confidence(confidence: object) -> Confidence:
    """Validate a confidence and return it (numbers as float).

    Raises:
        SpaceError: for an unknown name, a bool, a non-number or a number outside [0, 1).
    """
    if isinstance(confidence, str):
        if confidence not in CONFIDENCE_LEVELS:
            raise SpaceError(
                f"unknown confidence {confidence!r}; "
                f"use one of {sorted(CONFIDENCE_LEVELS)} or a number in [0, 1)"
            )
        return confidence
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise SpaceError(
            f"confidence must be one of {sorted(CONFIDENCE_LEVELS)} or a number in [0, 1), "
            f"got {confidence!r}"
        )
    if not 0.0 <= confidence < 1.0:
        hint = " (zero spread)" if confidence >= 1.0 else ""
        raise SpaceError(
            f"confidence {confidence!r} is outside [0, 1){hint}; use a number in [0, 1) "
            "such as 0.75, or remove the prior and use a Constant for a fixed value"
        )
    return float(confidence)


def numeric_confidence(confidence: Confidence) -> float:
    """Return the number in [0, 1) of a validated confidence."""
    if isinstance(confidence, str):
        return CONFIDENCE_LEVELS[confidence]
    return float(confidence)


def unit_sd(confidence: Confidence) -> float:
    """Return the standard deviation in unit space: ``(1 - c) * 0.5`` for confidence ``c``."""
    return (1.0 - numeric_confidence(confidence)) * UNIT_SD_AT_ZERO_CONFIDENCE


def categorical_prior_weight(confidence: Confidence, n_choices: int) -> float:
    """Return the probability of the prior choice among ``n_choices`` choices.

    Named levels give a fixed weight; a number ``c`` gives ``c + (1 - c) / n_choices``, so
    that confidence 0 is the uniform distribution.
    """
    if n_choices == 1:
        return 1.0
    if isinstance(confidence, str):
        return CATEGORICAL_WEIGHTS[confidence]
    return confidence + (1.0 - confidence) / n_choices


def sample_truncated_normal(
    rng: np.random.Generator, mean: float, sd: float, size: int
) -> np.ndarray:
    """Draw ``size`` samples of a normal truncated to [0, 1], as a float64 array."""
    lower, upper = (0.0 - mean) / sd, (1.0 - mean) / sd
    samples = stats.truncnorm.rvs(lower, upper, loc=mean, scale=sd, size=size, random_state=rng)
    return np.clip(np.asarray(samples, dtype=np.float64), 0.0, 1.0)


def truncated_normal_logpdf(u: float, mean: float, sd: float) -> float:
    """Return the log density at ``u`` of a normal truncated to [0, 1].

    Written with ``math`` because scipy.stats adds tens of microseconds per call, and
    acquisition functions call this for every candidate.
    """
    if not 0.0 <= u <= 1.0:
        return -math.inf
    mass = 0.5 * (math.erf((1.0 - mean) / (sd * _SQRT2)) - math.erf((0.0 - mean) / (sd * _SQRT2)))
    z = (u - mean) / sd
    return -0.5 * z * z - math.log(sd * math.sqrt(2.0 * math.pi) * mass)


def categorical_prior_logpdf(index: int, prior_index: int, weight: float, n_choices: int) -> float:
    """Return the log density in unit space of the cell of choice ``index``.

    Each choice owns a cell of width ``1 / n_choices``, so the density is the choice's
    probability times ``n_choices`` and a uniform categorical has log density 0.
    """
    probability = weight if index == prior_index else (1.0 - weight) / (n_choices - 1)
    if probability <= 0.0:
        return -math.inf
    return math.log(probability * n_choices)
