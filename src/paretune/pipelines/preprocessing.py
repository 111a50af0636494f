"""Preprocessing fitted on the training split: imputation, scaling and categorical encoding.

The fitted state is plain JSON (numbers, strings and lists), so an exported model folder needs no
pickle. Tabular output is one float32 matrix: numeric and one-hot columns first, then one column
of integer category codes per categorical feature when embeddings are used (code 0 is the unknown
or missing category).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.special import ndtri

from paretune._errors import DataError

Scaling = Literal["standard", "quantile"]
CategoricalEncoding = Literal["onehot", "embedding"]

MAX_QUANTILES = 1000
# Keeps the normal quantile function finite at the edges of the training range.
QUANTILE_CLIP = 1e-7


@dataclass
class TabularPreprocessor:
    """Median imputation, standard or quantile scaling, one-hot or embedding codes.

    Example:
        >>> frame = pd.DataFrame({"age": [20.0, None, 40.0], "city": ["a", "b", None]})
        >>> pre = TabularPreprocessor.fit(frame, scaling="standard", categorical_encoding="onehot")
        >>> pre.transform(frame).shape
        (3, 4)
    """

    scaling: str
    categorical_encoding: str
    numeric_columns: list[str]
    categorical_columns: list[str]
    medians: list[float]
    means: list[float]
    stds: list[float]
    quantiles: list[list[float]]
    categories: list[list[str]]

    @classmethod
    def fit(
        cls, frame: pd.DataFrame, *, scaling: str, categorical_encoding: str
    ) -> TabularPreprocessor:
        """Fit on the training rows ``frame``."""
        numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c].dtype)]
        categorical = [c for c in frame.columns if c not in numeric]
        values = frame[numeric].to_numpy(dtype=np.float64)
        medians = np.nan_to_num(np.nanmedian(values, axis=0)) if numeric else np.zeros(0)
        filled = np.where(np.isnan(values), medians, values)
        stds = filled.std(axis=0) if numeric else np.zeros(0)
        quantiles: list[list[float]] = []
        if scaling == "quantile" and numeric:
            count = min(MAX_QUANTILES, len(filled))
            grid = np.linspace(0, 100, count)
            quantiles = np.percentile(filled, grid, axis=0).T.tolist()
        categories = [_sorted_categories(frame[c]) for c in categorical]
        return cls(
            scaling=scaling,
            categorical_encoding=categorical_encoding,
            numeric_columns=[str(c) for c in numeric],
            categorical_columns=[str(c) for c in categorical],
            medians=medians.tolist(),
            means=(filled.mean(axis=0) if numeric else np.zeros(0)).tolist(),
            stds=np.where(stds > 0, stds, 1.0).tolist(),
            quantiles=quantiles,
            categories=categories,
        )

    @property
    def cardinalities(self) -> list[int]:
        """Number of codes of each embedded column, counting the unknown code 0."""
        if self.categorical_encoding != "embedding":
            return []
        return [len(c) + 1 for c in self.categories]

    @property
    def n_features(self) -> int:
        """Width of the transformed matrix."""
        width = len(self.numeric_columns)
        if self.categorical_encoding == "embedding":
            return width + len(self.categories)
        return width + sum(len(c) + 1 for c in self.categories)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Transform rows into a float32 matrix of shape ``(n, n_features)``.

        Raises:
            DataError: A column seen during fitting is missing from ``frame``.
        """
        missing = [c for c in self.numeric_columns + self.categorical_columns if c not in frame]
        if missing:
            raise DataError(
                f"Column {missing[0]!r} is missing from the data; the model was trained on "
                f"{self.numeric_columns + self.categorical_columns}."
            )
        parts = [self._numeric(frame)]
        codes = [self._codes(frame[c], i) for i, c in enumerate(self.categorical_columns)]
        if self.categorical_encoding == "embedding":
            parts.extend(code[:, None].astype(np.float32) for code in codes)
        else:
            parts.extend(
                _one_hot(code, len(cats) + 1)
                for code, cats in zip(codes, self.categories, strict=True)
            )
        return np.concatenate(parts, axis=1).astype(np.float32)

    def _numeric(self, frame: pd.DataFrame) -> np.ndarray:
        if not self.numeric_columns:
            return np.zeros((len(frame), 0), dtype=np.float32)
        values = frame[self.numeric_columns].apply(pd.to_numeric, errors="coerce")
        array = values.to_numpy(dtype=np.float64)
        array = np.where(np.isnan(array), np.asarray(self.medians), array)
        if self.scaling == "quantile":
            return np.stack(
                [_quantile_normal(array[:, j], q) for j, q in enumerate(self.quantiles)], axis=1
            )
        scaled: np.ndarray = (array - np.asarray(self.means)) / np.asarray(self.stds)
        return scaled

    def _codes(self, column: pd.Series, index: int) -> np.ndarray:
        # Unseen and missing categories map to code 0, which the model learns as "unknown".
        lookup = {value: code + 1 for code, value in enumerate(self.categories[index])}
        text = column.astype("string").str.strip()
        return np.asarray([lookup.get(v, 0) if isinstance(v, str) else 0 for v in text])

    def to_dict(self) -> dict[str, Any]:
        return {"type": "tabular", **asdict(self)}


@dataclass
class ImagePreprocessor:
    """Per-channel standardization of images with the training mean and standard deviation."""

    shape: list[int]
    means: list[float]
    stds: list[float]

    @classmethod
    def fit(cls, images: np.ndarray) -> ImagePreprocessor:
        """Fit on training images of shape ``(n, channels, height, width)``."""
        means = images.mean(axis=(0, 2, 3))
        stds = images.std(axis=(0, 2, 3))
        return cls(list(images.shape[1:]), means.tolist(), np.where(stds > 0, stds, 1.0).tolist())

    @property
    def n_features(self) -> int:
        return int(np.prod(self.shape))

    @property
    def cardinalities(self) -> list[int]:
        return []

    def transform(self, images: np.ndarray) -> np.ndarray:
        """Standardize images; raise DataError when their shape differs from the training shape."""
        if images.ndim == 3:
            images = images[:, None]
        if list(images.shape[1:]) != self.shape:
            raise DataError(
                f"Images have shape {tuple(images.shape[1:])}, but the model was trained on "
                f"{tuple(self.shape)} (channels, height, width). Resize them to match."
            )
        means = np.asarray(self.means, dtype=np.float32)[None, :, None, None]
        stds = np.asarray(self.stds, dtype=np.float32)[None, :, None, None]
        return ((images.astype(np.float32) - means) / stds).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "image", **asdict(self)}


Preprocessor = TabularPreprocessor | ImagePreprocessor


def fit_preprocessor(features: pd.DataFrame | np.ndarray, config: dict[str, Any]) -> Preprocessor:
    """Fit the preprocessor that ``config`` selects on the training features."""
    if isinstance(features, np.ndarray):
        return ImagePreprocessor.fit(features)
    return TabularPreprocessor.fit(
        features,
        scaling=str(config.get("scaling", "standard")),
        categorical_encoding=str(config.get("categorical_encoding", "onehot")),
    )


def preprocessor_from_dict(state: dict[str, Any]) -> Preprocessor:
    """Rebuild a fitted preprocessor from ``to_dict`` output."""
    fields = {k: v for k, v in state.items() if k != "type"}
    if state["type"] == "image":
        return ImagePreprocessor(**fields)
    return TabularPreprocessor(**fields)


def _sorted_categories(column: pd.Series) -> list[str]:
    present = column.dropna().astype("string").str.strip()
    return sorted(str(v) for v in present.unique())


def _one_hot(codes: np.ndarray, width: int) -> np.ndarray:
    matrix = np.zeros((len(codes), width), dtype=np.float32)
    matrix[np.arange(len(codes)), codes] = 1.0
    return matrix


def _quantile_normal(values: np.ndarray, quantiles: list[float]) -> np.ndarray:
    grid = np.asarray(quantiles)
    references = np.linspace(0.0, 1.0, len(grid))
    # Averaging the interpolation from both ends assigns tied quantiles their middle rank.
    forward = np.interp(values, grid, references)
    backward = -np.interp(-values, -grid[::-1], -references[::-1])
    ranks = np.clip(0.5 * (forward + backward), QUANTILE_CLIP, 1 - QUANTILE_CLIP)
    return np.asarray(ndtri(ranks))
