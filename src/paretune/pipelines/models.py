"""Model families: MLP and ResNet-style MLP for tabular data, a small CNN and ResNet for images.

Every model is a ``PipelineModel``: an encoder (categorical embeddings for tabular data, identity
for images) followed by a body that maps encoded inputs to class logits. Mixup mixes the encoded
inputs, so it also works with embedded categorical columns. Weights are initialized with an
explicit ``torch.Generator`` and dropout draws its masks from one, so no global RNG is used.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from paretune._errors import DataError

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}
# The narrowest hidden layer of a funnel-shaped MLP.
MIN_FUNNEL_WIDTH = 8


@dataclass(frozen=True)
class ModelSpec:
    """Properties of the data that a model is built for.

    Attributes:
        kind: "tabular" or "image".
        n_features: Width of the preprocessed tabular matrix, or pixels per image.
        cardinalities: Number of codes of each embedded categorical column (the last columns).
        image_shape: (channels, height, width) for images, else None.
        n_classes: Number of output logits.
    """

    kind: str
    n_features: int
    cardinalities: tuple[int, ...]
    image_shape: tuple[int, int, int] | None
    n_classes: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> ModelSpec:
        shape = state.get("image_shape")
        return cls(
            kind=str(state["kind"]),
            n_features=int(state["n_features"]),
            cardinalities=tuple(int(c) for c in state["cardinalities"]),
            image_shape=None if shape is None else (int(shape[0]), int(shape[1]), int(shape[2])),
            n_classes=int(state["n_classes"]),
        )


class GeneratorDropout(nn.Module):
    """Inverted dropout whose masks come from an attached ``torch.Generator``.

    ``nn.Dropout`` draws from the global RNG; this one keeps training reproducible per trial.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.generator is None:
            raise RuntimeError("GeneratorDropout needs attach_generator(model, generator) first.")
        keep = torch.empty_like(x).bernoulli_(1.0 - self.p, generator=self.generator)
        return x * keep / (1.0 - self.p)


class TabularEncoder(nn.Module):
    """Pass numeric columns through and replace each categorical code column by its embedding."""

    def __init__(self, n_features: int, cardinalities: tuple[int, ...], dim: int) -> None:
        super().__init__()
        self.n_numeric = n_features - len(cardinalities)
        self.embeddings = nn.ModuleList(nn.Embedding(c, dim) for c in cardinalities)
        self.out_features = self.n_numeric + dim * len(cardinalities)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.embeddings:
            return x
        numeric = x[:, : self.n_numeric]
        codes = x[:, self.n_numeric :].long()
        embedded = [emb(codes[:, i]) for i, emb in enumerate(self.embeddings)]
        return torch.cat([numeric, *embedded], dim=1)


class PipelineModel(nn.Module):
    """An encoder followed by a body that outputs logits of shape ``(batch, n_classes)``."""

    def __init__(self, encoder: nn.Module, body: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.body = body

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.encoder(x))  # type: ignore[no-any-return]


class ResidualBlock(nn.Module):
    """Pre-norm residual block: ``x + dropout(linear(dropout(act(linear(norm(x))))))``."""

    def __init__(self, width: int, config: dict[str, Any]) -> None:
        super().__init__()
        dropout = float(config["dropout"])
        self.branch = nn.Sequential(
            _norm_1d(str(config["normalization"]), width),
            nn.Linear(width, 2 * width),
            ACTIVATIONS[str(config["activation"])](),
            GeneratorDropout(dropout),
            nn.Linear(2 * width, width),
            GeneratorDropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.branch(x)  # type: ignore[no-any-return]


class ConvBlock(nn.Module):
    """Two 3x3 convolutions with normalization and activation, and an optional residual path."""

    def __init__(self, cin: int, cout: int, stride: int, residual: bool, config: dict[str, Any]):
        super().__init__()
        norm, act = str(config["normalization"]), str(config["activation"])
        self.residual = residual
        self.main = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=norm == "none"),
            _norm_2d(norm, cout),
            ACTIVATIONS[act](),
            nn.Conv2d(cout, cout, 3, padding=1, bias=norm == "none"),
            _norm_2d(norm, cout),
        )
        self.shortcut: nn.Module = nn.Identity()
        if residual and (stride != 1 or cin != cout):
            self.shortcut = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
        self.act = ACTIVATIONS[act]()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.main(x)
        if self.residual:
            out = out + self.shortcut(x)
        return self.act(out)  # type: ignore[no-any-return]


# --- families ------------------------------------------------------------------------------------


def _mlp_widths(config: dict[str, Any]) -> list[int]:
    depth, width = int(config["depth"]), int(config["width"])
    if config.get("shape", "brick") == "funnel":
        return [max(MIN_FUNNEL_WIDTH, width // 2**i) for i in range(depth)]
    return [width] * depth


def _build_mlp(spec: ModelSpec, config: dict[str, Any]) -> PipelineModel:
    encoder = _tabular_encoder(spec, config)
    layers: list[nn.Module] = []
    width_in = encoder.out_features
    for width in _mlp_widths(config):
        layers += [
            nn.Linear(width_in, width),
            _norm_1d(str(config["normalization"]), width),
            ACTIVATIONS[str(config["activation"])](),
            GeneratorDropout(float(config["dropout"])),
        ]
        width_in = width
    layers.append(nn.Linear(width_in, spec.n_classes))
    return PipelineModel(encoder, nn.Sequential(*layers))


def _build_resnet(spec: ModelSpec, config: dict[str, Any]) -> PipelineModel:
    # ResNet for tabular data after Gorishniy et al., "Revisiting Deep Learning Models for
    # Tabular Data" (NeurIPS 2021): linear stem, pre-norm residual blocks, norm-act-linear head.
    encoder = _tabular_encoder(spec, config)
    width = int(config["width"])
    body = nn.Sequential(
        nn.Linear(encoder.out_features, width),
        *(ResidualBlock(width, config) for _ in range(int(config["depth"]))),
        _norm_1d(str(config["normalization"]), width),
        ACTIVATIONS[str(config["activation"])](),
        nn.Linear(width, spec.n_classes),
    )
    return PipelineModel(encoder, body)


def _build_conv(spec: ModelSpec, config: dict[str, Any], residual: bool) -> PipelineModel:
    if spec.image_shape is None:
        raise DataError("The cnn and resnet_cnn families need image data (n, channels, h, w).")
    channels, height, width = spec.image_shape
    cin, cout = channels, int(config["channels"])
    blocks: list[nn.Module] = []
    for stage in range(int(config["depth"])):
        # Halve the resolution from the second stage on while it stays at least 4 pixels.
        stride = 2 if stage > 0 and min(height, width) >= 8 else 1
        height, width = math.ceil(height / stride), math.ceil(width / stride)
        blocks.append(ConvBlock(cin, cout, stride, residual, config))
        cin, cout = cout, cout * 2
    body = nn.Sequential(
        *blocks,
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        GeneratorDropout(float(config["dropout"])),
        nn.Linear(cin, spec.n_classes),
    )
    return PipelineModel(nn.Identity(), body)


@dataclass(frozen=True)
class ModelFamily:
    """A named model family: the data kind it accepts and its builder."""

    name: str
    kind: str
    build: Callable[[ModelSpec, dict[str, Any]], PipelineModel]


FAMILIES: dict[str, ModelFamily] = {
    family.name: family
    for family in (
        ModelFamily("mlp", "tabular", _build_mlp),
        ModelFamily("resnet", "tabular", _build_resnet),
        ModelFamily("cnn", "image", lambda spec, config: _build_conv(spec, config, False)),
        ModelFamily("resnet_cnn", "image", lambda spec, config: _build_conv(spec, config, True)),
    )
}


def build_model(
    spec: ModelSpec, config: dict[str, Any], generator: torch.Generator
) -> PipelineModel:
    """Build the model that ``config["family"]`` names and initialize it from ``generator``.

    The modules are created on the meta device, so building consumes no global random numbers,
    then materialized on the CPU and initialized by ``config["initialization"]``.

    Example:
        >>> spec = ModelSpec("tabular", 4, (), None, 3)
        >>> config = {"family": "mlp", "depth": 1, "width": 8, "activation": "relu",
        ...           "normalization": "none", "dropout": 0.0, "initialization": "default"}
        >>> build_model(spec, config, torch.Generator().manual_seed(0))(torch.zeros(2, 4)).shape
        torch.Size([2, 3])
    """
    family = FAMILIES[str(config["family"])]
    with torch.device("meta"):
        model = family.build(spec, config)
    model = model.to_empty(device="cpu")
    initialize(model, str(config.get("initialization", "default")), generator)
    return model


def initialize(model: nn.Module, scheme: str, generator: torch.Generator) -> None:
    """Initialize every layer of ``model`` in place with ``scheme``, drawing from ``generator``."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Linear | nn.Conv2d):
                _initialize_layer(module, scheme, generator)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, generator=generator)
            elif isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d | nn.LayerNorm | nn.GroupNorm):
                module.reset_parameters()


def _initialize_layer(layer: nn.Linear | nn.Conv2d, scheme: str, g: torch.Generator) -> None:
    weight = layer.weight
    fan_in = weight[0].numel()
    if scheme == "kaiming_normal":
        nn.init.kaiming_normal_(weight, nonlinearity="relu", generator=g)
    elif scheme == "xavier_uniform":
        nn.init.xavier_uniform_(weight, generator=g)
    elif scheme == "orthogonal":
        nn.init.orthogonal_(weight, generator=g)
    else:
        # PyTorch's own default for Linear and Conv2d (kaiming_uniform_ with a=sqrt(5)).
        nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=g)
    if layer.bias is not None:
        if scheme == "default":
            bound = 1.0 / math.sqrt(fan_in)
            nn.init.uniform_(layer.bias, -bound, bound, generator=g)
        else:
            nn.init.zeros_(layer.bias)


def attach_generator(model: nn.Module, generator: torch.Generator | None) -> None:
    """Make every dropout layer of ``model`` draw its masks from ``generator``."""
    for module in model.modules():
        if isinstance(module, GeneratorDropout):
            module.generator = generator


def _tabular_encoder(spec: ModelSpec, config: dict[str, Any]) -> TabularEncoder:
    dim = int(config.get("embedding_dim", 8))
    return TabularEncoder(spec.n_features, spec.cardinalities, dim)


def _norm_1d(name: str, width: int) -> nn.Module:
    norms: dict[str, Callable[[], nn.Module]] = {
        "batchnorm": lambda: nn.BatchNorm1d(width),
        "layernorm": lambda: nn.LayerNorm(width),
        "none": nn.Identity,
    }
    return norms[name]()


def _norm_2d(name: str, channels: int) -> nn.Module:
    # GroupNorm with one group normalizes over (channels, height, width), as LayerNorm would.
    norms: dict[str, Callable[[], nn.Module]] = {
        "batchnorm": lambda: nn.BatchNorm2d(channels),
        "layernorm": lambda: nn.GroupNorm(1, channels),
        "none": nn.Identity,
    }
    return norms[name]()
