"""The joint search space of the built-in pipeline and its hand-picked default configuration.

Every searchable hyperparameter is declared once, in a ``Choice`` with its range and its default.
The default becomes the parameter's prior, so ``build_space(...).prior_config()`` equals
``default_config(...)``. The engine runs that configuration first, at full fidelity, as the
reference run for budgets such as ``5x``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from paretune._errors import DataError
from paretune.pipelines.models import FAMILIES

DEFAULT_MAX_EPOCHS = 27
MIN_EPOCHS = 1
TABULAR_FAMILIES = ("mlp", "resnet")
IMAGE_FAMILIES = ("cnn", "resnet_cnn")


@dataclass(frozen=True)
class Choice:
    """One hyperparameter: its range, its default and the condition under which it is active.

    ``kind`` is "float", "integer" or "categorical"; ``choices`` is used by categoricals only.
    """

    name: str
    kind: str
    default: Any
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    choices: tuple[Any, ...] = ()
    condition: dict[str, Any] | None = None

    def is_active(self, config: dict[str, Any]) -> bool:
        """Tell whether every parent named by the condition has an allowed value in ``config``."""
        if self.condition is None:
            return True
        for parent, allowed in self.condition.items():
            values = allowed if isinstance(allowed, list) else [allowed]
            if parent not in config or config[parent] not in values:
                return False
        return True

    def to_parameter(self) -> Any:
        """Build the ``paretune.space`` parameter with the default as its prior."""
        from paretune import space

        if self.kind == "categorical":
            return space.Categorical(
                list(self.choices), prior=self.default, condition=self.condition
            )
        if self.kind == "integer":
            return space.Integer(
                int(self.low),
                int(self.high),
                log=self.log,
                prior=self.default,
                condition=self.condition,
            )
        return space.Float(
            self.low, self.high, log=self.log, prior=self.default, condition=self.condition
        )


def _float(name: str, low: float, high: float, default: float, *, log: bool = False,
           when: dict[str, Any] | None = None) -> Choice:  # fmt: skip
    return Choice(name, "float", default, low, high, log, condition=when)


def _integer(name: str, low: int, high: int, default: int, *, log: bool = False,
             when: dict[str, Any] | None = None) -> Choice:  # fmt: skip
    return Choice(name, "integer", default, low, high, log, condition=when)


def _categorical(name: str, choices: Sequence[Any], default: Any,
                 when: dict[str, Any] | None = None) -> Choice:  # fmt: skip
    return Choice(name, "categorical", default, choices=tuple(choices), condition=when)


def _architecture_choices(kind: str, image_shape: tuple[int, int, int] | None) -> list[Choice]:
    shared = [
        _categorical("activation", ["relu", "gelu", "silu"], "relu"),
        _categorical("normalization", ["none", "batchnorm", "layernorm"], "batchnorm"),
        _float("dropout", 0.0, 0.5, 0.1),
        _categorical(
            "initialization",
            ["default", "kaiming_normal", "xavier_uniform", "orthogonal"],
            "kaiming_normal",
        ),
    ]
    if kind == "image":
        side = min(image_shape[1:]) if image_shape else 8
        return [
            _integer("depth", 1, 3, 2),
            _integer("channels", 8, 64, 16, log=True),
            *shared,
            _integer("shift", 0, max(1, side // 7), min(2, max(1, side // 7))),
            _categorical("flip", [False, True], False),
            _integer("cutout", 0, max(1, side // 2), 0),
            _categorical("cutmix", [False, True], False),
            _float("cutmix_alpha", 0.1, 2.0, 1.0, when={"cutmix": True}),
        ]
    return [
        _integer("depth", 1, 6, 2),
        _integer("width", 16, 512, 128, log=True),
        _categorical("shape", ["brick", "funnel"], "brick", when={"family": "mlp"}),
        *shared,
        _categorical("scaling", ["standard", "quantile"], "standard"),
        _categorical("categorical_encoding", ["onehot", "embedding"], "onehot"),
        _integer("embedding_dim", 2, 32, 8, log=True, when={"categorical_encoding": "embedding"}),
    ]


def _training_choices() -> list[Choice]:
    return [
        _categorical("optimizer", ["adamw", "adam", "sgd"], "adamw"),
        _float("learning_rate", 1e-4, 3e-2, 3e-3, log=True),
        _float("weight_decay", 1e-6, 1e-1, 1e-4, log=True),
        _float("momentum", 0.8, 0.99, 0.9, when={"optimizer": "sgd"}),
        _categorical("nesterov", [True, False], True, when={"optimizer": "sgd"}),
        _integer("batch_size", 16, 512, 64, log=True),
        _categorical("schedule", ["cosine", "onecycle", "step", "constant"], "cosine"),
        _float(
            "warmup_fraction", 0.0, 0.2, 0.05, when={"schedule": ["cosine", "step", "constant"]}
        ),
        _categorical("grad_clip", [False, True], False),
        _float("grad_clip_norm", 0.1, 10.0, 1.0, log=True, when={"grad_clip": True}),
        _float("label_smoothing", 0.0, 0.3, 0.0),
        _categorical("mixup", [False, True], False),
        _float("mixup_alpha", 0.05, 1.0, 0.2, log=True, when={"mixup": True}),
        _categorical("swa", [False, True], False),
        _categorical("lookahead", [False, True], False),
        _integer("lookahead_steps", 3, 10, 5, when={"lookahead": True}),
        _float("lookahead_alpha", 0.3, 0.8, 0.5, when={"lookahead": True}),
    ]


def pipeline_choices(
    kind: str,
    *,
    families: Sequence[str] | None = None,
    image_shape: tuple[int, int, int] | None = None,
) -> dict[str, Choice | Any]:
    """Return every hyperparameter of the joint space; a fixed value stands for a Constant.

    Raises:
        DataError: A family is unknown or does not accept this kind of data.
    """
    allowed = TABULAR_FAMILIES if kind == "tabular" else IMAGE_FAMILIES
    chosen = tuple(families) if families else allowed
    for name in chosen:
        if name not in FAMILIES:
            raise DataError(
                f"unknown model family {name!r}: for {kind} data use one of {', '.join(allowed)}"
            )
        if FAMILIES[name].kind != kind:
            raise DataError(
                f"model family {name!r} does not accept {kind} data: use one of "
                f"{', '.join(allowed)}"
            )
    family: Choice | str = chosen[0]
    if len(chosen) > 1:
        family = _categorical("family", chosen, chosen[0])
    entries: dict[str, Choice | Any] = {"family": family}
    for choice in [*_architecture_choices(kind, image_shape), *_training_choices()]:
        entries.update(_resolve_fixed_parent(choice, entries))
    return entries


def _resolve_fixed_parent(choice: Choice, entries: dict[str, Any]) -> dict[str, Choice]:
    # A condition on a parent fixed to one value is either always true (drop the condition) or
    # never true (drop the parameter), so the space contains no condition on a constant.
    condition = dict(choice.condition or {})
    for parent, allowed in list(condition.items()):
        fixed = entries.get(parent)
        if fixed is None or isinstance(fixed, Choice):
            continue
        values = allowed if isinstance(allowed, list) else [allowed]
        if fixed not in values:
            return {}
        del condition[parent]
    resolved = Choice(**{**choice.__dict__, "condition": condition or None})
    return {choice.name: resolved}


def default_config(
    kind: str,
    *,
    families: Sequence[str] | None = None,
    image_shape: tuple[int, int, int] | None = None,
) -> dict[str, Any]:
    """Return the hand-picked default configuration: the reference run and first trial.

    Inactive conditional hyperparameters (for example ``momentum`` when the optimizer is AdamW)
    are left out, as in ``Space.prior_config()``.

    Example:
        >>> default_config("tabular")["optimizer"]
        'adamw'
    """
    config: dict[str, Any] = {}
    for name, entry in pipeline_choices(kind, families=families, image_shape=image_shape).items():
        if not isinstance(entry, Choice):
            config[name] = entry
        elif entry.is_active(config):
            config[name] = entry.default
    return config


def build_space(
    kind: str,
    *,
    max_epochs: int = DEFAULT_MAX_EPOCHS,
    families: Sequence[str] | None = None,
    image_shape: tuple[int, int, int] | None = None,
) -> Any:
    """Build the joint ``paretune.space.Space`` with epochs as the fidelity.

    Example:
        >>> space = build_space("tabular", max_epochs=27)
        >>> space.prior_config() == default_config("tabular")
        True
    """
    from paretune import space

    parameters: dict[str, Any] = {}
    for name, entry in pipeline_choices(kind, families=families, image_shape=image_shape).items():
        parameters[name] = (
            entry.to_parameter() if isinstance(entry, Choice) else space.Constant(entry)
        )
    parameters["epochs"] = space.Fidelity(MIN_EPOCHS, max_epochs)
    return space.Space(parameters)
