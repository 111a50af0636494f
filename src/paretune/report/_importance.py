"""Hyperparameter importance on a random-forest surrogate: fANOVA, local importance and partial
dependence.

Global importance is the functional ANOVA of Hutter, Hoos and Leyton-Brown (2014), "An efficient
approach for assessing hyperparameter importance" (ICML). A regression tree cuts the
configuration space into boxes (its leaves), each with a constant prediction. Under the uniform
measure on the space, the marginal prediction of hyperparameter j (the prediction averaged over
every other hyperparameter) is therefore an exact sum over the leaves::

    a_j(x_j) = sum over leaves l with x_j in box_l[j] of  value_l * prod_{k != j} |box_l[k]|

where ``|box_l[k]|`` is the measure of the leaf's extent along k. The main-effect fraction of j is
``Var(a_j) / Var(tree)``; fractions are computed per tree and averaged over the forest, and
``1 - sum of main effects`` is the share of the variance that interactions explain. The marginal
``a_j`` averaged over the trees is also the partial-dependence curve that the report plots.

Local importance follows the local parameter importance of CAVE (Biedenkapp et al. 2018): from
one configuration, vary a single hyperparameter over its range with the others fixed, predict
with the forest, and take the variance of those predictions as a share of the sum over all
hyperparameters.

Encoding: a float or integer maps to [0, 1] as the search space does (log-scaled parameters
linearly in the logarithm). A categorical with k choices maps choice i (in display order, so
numeric choices in numeric order) to ``(i + 0.5) / k`` and is measured by counting choices,
not by length. A parameter that a condition leaves inactive is encoded as -1, outside [0, 1],
so the forest can separate it, and the marginals average over active values only. The fidelity
is an input when the trials differ in fidelity, so its importance is reported with the rest.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import RandomForestRegressor

from paretune.report._data import Unavailable, category_order, is_number
from paretune.space import Categorical, Constant, Fidelity, Float, Integer, Parameter, Space
from paretune.trial import TrialRecord, TrialStatus

logger = logging.getLogger(__name__)

MIN_TRIALS = 6
"""Fewest completed trials with a finite value for which a surrogate is fitted."""
N_TREES = 48
MIN_SAMPLES_LEAF = 2
GRID_POINTS = 40
"""Points per numeric hyperparameter for partial dependence and local importance."""
INACTIVE = -1.0
N_PARTIAL_DEPENDENCE = 3

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Feature:
    """One input of the surrogate: a hyperparameter or the fidelity, with its encoding."""

    name: str
    parameter: Float | Integer | Categorical | Fidelity
    categories: tuple[Any, ...] = ()

    @property
    def is_categorical(self) -> bool:
        return bool(self.categories)

    @property
    def is_log(self) -> bool:
        return bool(getattr(self.parameter, "log", False)) and not self.is_categorical

    def encode(self, value: Any) -> float:
        if value is None and not self.is_categorical:
            return INACTIVE
        if self.is_categorical:
            return (self.categories.index(value) + 0.5) / len(self.categories)
        if isinstance(self.parameter, Float | Integer):
            return float(self.parameter.to_unit(value))
        return _fidelity_to_unit(self.parameter, float(value))

    def grid(self) -> tuple[FloatArray, list[Any]]:
        """Return unit points along this feature and the values they stand for."""
        if self.is_categorical:
            k = len(self.categories)
            return (np.arange(k) + 0.5) / k, list(self.categories)
        points = np.linspace(0.0, 1.0, GRID_POINTS)
        if not isinstance(self.parameter, Float | Integer):
            return points, [_fidelity_from_unit(self.parameter, float(u)) for u in points]
        values = [self.parameter.from_unit(float(u)) for u in points]
        # An integer grid repeats values; keep one point per distinct value.
        unique = {value: u for u, value in zip(points, values, strict=True)}
        return np.array(list(unique.values())), list(unique)


def _fidelity_to_unit(fidelity: Parameter, value: float) -> float:
    if not isinstance(fidelity, Fidelity):
        raise TypeError(f"expected a Fidelity, got {type(fidelity).__name__}")
    low, high = float(fidelity.low), float(fidelity.high)
    if fidelity.log:
        return (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))
    return (value - low) / (high - low)


def _fidelity_from_unit(fidelity: Parameter, u: float) -> float:
    if not isinstance(fidelity, Fidelity):
        raise TypeError(f"expected a Fidelity, got {type(fidelity).__name__}")
    low, high = float(fidelity.low), float(fidelity.high)
    value = (
        math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
        if fidelity.log
        else (low + u * (high - low))
    )
    return round(value) if fidelity.is_integer else value


def features_of(space: Space, trials: Sequence[TrialRecord]) -> tuple[list[Feature], list[str]]:
    """Return the surrogate's inputs and the names of constant parameters left out."""
    features, constant = [], []
    for name, parameter in space.parameters.items():
        if isinstance(parameter, Constant):
            constant.append(name)
        elif isinstance(parameter, Categorical):
            if len(parameter.choices) < 2:
                constant.append(name)
            else:
                features.append(Feature(name, parameter, tuple(category_order(parameter))))
        elif isinstance(parameter, Fidelity):
            if len({t.fidelity for t in trials}) > 1:
                features.append(Feature(name, parameter))
        elif isinstance(parameter, Float | Integer):
            features.append(Feature(name, parameter))
    return features, constant


def encode(features: Sequence[Feature], space: Space, trials: Sequence[TrialRecord]) -> FloatArray:
    """Encode trials as an array of shape (n_trials, n_features); inactive values are -1."""
    fidelity_name = space.fidelity_name
    matrix = np.full((len(trials), len(features)), INACTIVE)
    for row, trial in enumerate(trials):
        for column, feature in enumerate(features):
            value = (
                trial.fidelity
                if feature.name == fidelity_name
                else trial.config.get(feature.name, _MISSING)
            )
            if value is not _MISSING:
                matrix[row, column] = feature.encode(value)
    return matrix


_MISSING = object()


# -- the forest's partition ------------------------------------------------------------------


@dataclass(frozen=True)
class LeafBoxes:
    """The leaves of one tree as boxes: bounds of shape (n_leaves, n_features), one value each.

    A point x lies in leaf l when ``lower[l] < x <= upper[l]`` in every feature, which matches
    scikit-learn's rule of sending ``x <= threshold`` to the left child.
    """

    lower: FloatArray
    upper: FloatArray
    values: FloatArray
    thresholds: list[FloatArray]


def leaf_boxes(estimator: Any, n_features: int) -> LeafBoxes:
    """Walk a fitted scikit-learn regression tree and return its leaves as boxes."""
    tree = estimator.tree_
    n_nodes = tree.node_count
    lower = np.full((n_nodes, n_features), -np.inf)
    upper = np.full((n_nodes, n_features), np.inf)
    thresholds: list[list[float]] = [[] for _ in range(n_features)]
    leaves = []
    # scikit-learn numbers children after their parent, so one pass in id order reaches every
    # parent's bounds before its children's.
    for node in range(n_nodes):
        left, right = tree.children_left[node], tree.children_right[node]
        if left == -1:
            leaves.append(node)
            continue
        feature, threshold = int(tree.feature[node]), float(tree.threshold[node])
        thresholds[feature].append(threshold)
        lower[left], upper[left] = lower[node], upper[node]
        lower[right], upper[right] = lower[node], upper[node]
        upper[left, feature] = min(upper[node, feature], threshold)
        lower[right, feature] = max(lower[node, feature], threshold)
    index = np.array(leaves)
    return LeafBoxes(
        lower=lower[index],
        upper=upper[index],
        values=tree.value[index, 0, 0].astype(float),
        thresholds=[np.unique(np.array(t, dtype=float)) for t in thresholds],
    )


def box_measures(boxes: LeafBoxes, features: Sequence[Feature]) -> FloatArray:
    """Return the uniform measure of each leaf along each feature, shape (n_leaves, n_features)."""
    measures = np.empty_like(boxes.lower)
    for j, feature in enumerate(features):
        low, high = boxes.lower[:, j], boxes.upper[:, j]
        if feature.is_categorical:
            centres, _ = feature.grid()
            inside = (low[:, None] < centres[None, :]) & (centres[None, :] <= high[:, None])
            measures[:, j] = inside.mean(axis=1)
        else:
            measures[:, j] = np.clip(np.minimum(high, 1.0) - np.maximum(low, 0.0), 0.0, None)
    return measures


def _segments(feature: Feature, thresholds: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return representative points and weights of the pieces on which a_j is constant."""
    if feature.is_categorical:
        centres, _ = feature.grid()
        return centres, np.full(len(centres), 1.0 / len(centres))
    cuts = np.concatenate([[0.0], thresholds[(thresholds > 0.0) & (thresholds < 1.0)], [1.0]])
    return (cuts[:-1] + cuts[1:]) / 2.0, np.diff(cuts)


def marginal(boxes: LeafBoxes, measures: FloatArray, j: int, points: FloatArray) -> FloatArray:
    """Return the tree's marginal prediction a_j at unit points along feature j."""
    others = np.prod(np.delete(measures, j, axis=1), axis=1)
    inside = (boxes.lower[None, :, j] < points[:, None]) & (
        points[:, None] <= boxes.upper[None, :, j]
    )
    result: FloatArray = inside.astype(float) @ (boxes.values * others)
    return result


def tree_main_effects(boxes: LeafBoxes, features: Sequence[Feature]) -> FloatArray | None:
    """Return the main-effect fraction of each feature in one tree, or None for a flat tree."""
    measures = box_measures(boxes, features)
    weights = np.prod(measures, axis=1)
    mean = float(weights @ boxes.values)
    total = float(weights @ (boxes.values - mean) ** 2)
    if total <= 1e-12 * max(1.0, mean**2):
        return None
    fractions = np.empty(len(features))
    for j, feature in enumerate(features):
        points, segment_weights = _segments(feature, boxes.thresholds[j])
        effect = marginal(boxes, measures, j, points)
        fractions[j] = float(segment_weights @ (effect - mean) ** 2) / total
    return fractions


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartialDependence:
    """The forest's marginal prediction along one feature: mean and spread over the trees."""

    feature: Feature
    values: list[Any]
    mean: FloatArray
    std: FloatArray


@dataclass(frozen=True)
class Importance:
    """Global and local importance of every feature for one objective."""

    objective: str
    n_trials: int
    features: list[Feature]
    main_effects: FloatArray
    main_effects_std: FloatArray
    interactions: float
    constant: list[str]
    local_trial: int | None
    local: FloatArray | None
    partial_dependence: list[PartialDependence]

    def ranked(self) -> list[int]:
        """Feature indices, most important first."""
        return [int(i) for i in np.argsort(-self.main_effects, kind="stable")]

    def fraction_of(self, name: str) -> float | None:
        for feature, value in zip(self.features, self.main_effects, strict=True):
            if feature.name == name:
                return float(value)
        return None


def compute_importance(
    space: Space,
    trials: Sequence[TrialRecord],
    objective: str,
    *,
    local_config: tuple[int, Mapping[str, Any], int | float | None] | None,
    seed: int,
) -> Importance | Unavailable:
    """Fit the surrogate for ``objective`` and compute fANOVA, local importance and PDPs.

    Args:
        space: The study's search space.
        trials: Every trial of the study; completed trials with a finite value are used,
            feasible or not, because infeasible results still show how the objective responds.
        objective: The metric to explain.
        local_config: The trial id, configuration and fidelity around which local importance
            is computed, or None to skip it.
        seed: Seed of the forest.
    """
    usable = [
        t for t in trials if t.status is TrialStatus.COMPLETED and math.isfinite(t.value(objective))
    ]
    if len(usable) < MIN_TRIALS:
        return Unavailable(
            f"importance needs at least {MIN_TRIALS} completed trials with a finite "
            f"{objective}; the study has {len(usable)}"
        )
    features, constant = features_of(space, usable)
    if not features:
        return Unavailable(f"every parameter is constant, so no parameter can explain {objective}")
    inputs = encode(features, space, usable)
    target = np.array([t.value(objective) for t in usable])
    if np.ptp(target) == 0.0:
        return Unavailable(f"all {len(usable)} trials have the same {objective}, so nothing varies")
    forest = RandomForestRegressor(
        n_estimators=N_TREES, min_samples_leaf=MIN_SAMPLES_LEAF, random_state=seed, n_jobs=1
    ).fit(inputs, target)
    all_boxes = [leaf_boxes(tree, len(features)) for tree in forest.estimators_]
    per_tree = [f for f in (tree_main_effects(b, features) for b in all_boxes) if f is not None]
    if not per_tree:
        return Unavailable(f"the surrogate of {objective} is flat: no tree splits the space")
    effects = np.vstack(per_tree)
    mean_effects = effects.mean(axis=0)
    local = None
    if local_config is not None:
        local = local_importance(forest, features, space, local_config[1], local_config[2])
    ranked = [int(i) for i in np.argsort(-mean_effects, kind="stable")[:N_PARTIAL_DEPENDENCE]]
    return Importance(
        objective=objective,
        n_trials=len(usable),
        features=features,
        main_effects=mean_effects,
        main_effects_std=effects.std(axis=0),
        interactions=max(0.0, 1.0 - float(mean_effects.sum())),
        constant=constant,
        local_trial=None if local_config is None else local_config[0],
        local=local,
        partial_dependence=[partial_dependence(all_boxes, features, j) for j in ranked],
    )


def partial_dependence(
    all_boxes: Sequence[LeafBoxes], features: Sequence[Feature], j: int
) -> PartialDependence:
    """Average the per-tree marginal a_j over the forest on the feature's grid."""
    points, values = features[j].grid()
    curves = np.vstack(
        [marginal(boxes, box_measures(boxes, features), j, points) for boxes in all_boxes]
    )
    return PartialDependence(features[j], values, curves.mean(axis=0), curves.std(axis=0))


def local_importance(
    forest: RandomForestRegressor,
    features: Sequence[Feature],
    space: Space,
    config: Mapping[str, Any],
    fidelity: int | float | None,
) -> FloatArray:
    """Return each feature's share of the prediction variance when only it varies.

    A feature that is inactive in ``config`` gets 0, because varying it changes nothing there.
    """
    probe = TrialRecord(id=0, config=dict(config), fidelity=fidelity)
    centre = encode(features, space, [probe])[0]
    variances = np.zeros(len(features))
    for j, feature in enumerate(features):
        if centre[j] == INACTIVE:
            continue
        points, _ = feature.grid()
        batch = np.repeat(centre[None, :], len(points), axis=0)
        batch[:, j] = points
        variances[j] = float(np.var(forest.predict(batch)))
    total = variances.sum()
    return variances / total if total > 0 else variances


def numeric_axis(values: Sequence[Any]) -> bool:
    """Tell whether partial-dependence values can share a numeric axis."""
    return all(is_number(v) for v in values)
