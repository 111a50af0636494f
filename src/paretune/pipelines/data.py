"""Dataset loading, target validation and the stratified train/validation/test split.

A dataset is either tabular (a pandas DataFrame of features) or images (a float32 array of shape
``(n, channels, height, width)``). Both come with integer-coded class labels and, optionally, one
sensitive group per row for fairness objectives.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from paretune._errors import DataError

logger = logging.getLogger(__name__)

DataKind = Literal["tabular", "image"]

BUILTIN_DATASETS = ("digits", "breast_cancer", "wine", "mnist1d")

# Column names of the UCI Adult files (adult.data, adult.test), which have no header row; pass
# them as ``columns`` (or ``--columns`` joined by commas) to read those files.
ADULT_COLUMNS = (
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week",
    "native-country", "income",
)  # fmt: skip
TEXT_SEPARATORS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
SNIFFED_SUFFIXES = (".data", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
# "?" marks a missing value in UCI and OpenML files; pandas' defaults do not include it.
EXTRA_NA_VALUES = ("?",)
# A numeric target with more distinct values than this is treated as a regression target.
MAX_CLASSES = 100
MIN_ROWS_PER_CLASS = 3
# A text column whose values parse as numbers at least this often is numeric (see
# coerce_numeric_columns); the rest of its values are junk.
NUMERIC_SHARE = 0.9


@dataclass(frozen=True)
class DatasetSpec:
    """Source and split settings of a dataset.

    Attributes:
        source: A file or folder path, or a built-in name (digits, breast_cancer, wine, mnist1d).
        target: The target column; optional for built-in, NumPy and IDX data, which carry labels.
        sensitive: Columns whose values define the groups of the fairness objectives.
        columns: Column names for a text file without a header row.
        exclude_columns: Columns read (for example as sensitive groups) but not used as features.
        split_seed: Seed of the stratified split.
        test_fraction: Share of rows held out for the final test report.
        validation_fraction: Share of the remaining rows used for validation during the search.

    Example:
        >>> spec = DatasetSpec("breast_cancer")
        >>> load_dataset(spec).kind
        'tabular'
    """

    source: str
    target: str | None = None
    sensitive: tuple[str, ...] = ()
    columns: tuple[str, ...] | None = None
    exclude_columns: tuple[str, ...] = ()
    split_seed: int = 0
    test_fraction: float = 0.2
    validation_fraction: float = 0.2


@dataclass(frozen=True)
class Splits:
    """Row indices of the three splits."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


@dataclass
class Dataset:
    """A loaded, validated classification dataset with its split.

    Attributes:
        kind: "tabular" or "image".
        features: A DataFrame (tabular) or a float32 array ``(n, channels, height, width)``.
        labels: Integer class codes ``0..n_classes-1``, shape ``(n,)``.
        classes: The original class labels, in code order.
        sensitive: One group label per row, or None when no sensitive column was given.
        splits: The stratified train/validation/test row indices.
        fingerprint: Name, shape, sha256 and split settings, stored with the study.
    """

    kind: DataKind
    features: pd.DataFrame | np.ndarray
    labels: np.ndarray
    classes: list[Any]
    sensitive: np.ndarray | None
    splits: Splits
    fingerprint: dict[str, Any] = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def rows(self, indices: np.ndarray) -> pd.DataFrame | np.ndarray:
        """Return the feature rows at ``indices``."""
        if isinstance(self.features, pd.DataFrame):
            return self.features.iloc[indices].reset_index(drop=True)
        return np.asarray(self.features[indices])


@dataclass
class RawData:
    """Features, target and sensitive columns as read, before validation."""

    kind: DataKind
    features: pd.DataFrame | np.ndarray
    target: pd.Series
    sensitive: pd.DataFrame | None
    sha256: str


def load_dataset(spec: DatasetSpec) -> Dataset:
    """Load, validate and split a dataset.

    Raises:
        DataError: The file is missing, empty or unreadable. Or the target or a sensitive
            column is unknown. Or the target is continuous, has one class, or a class has too
            few rows.
    """
    raw = read_raw(spec)
    raw = _drop_missing_targets(raw)
    labels, classes = _encode_target(raw.target)
    splits = split_rows(labels, classes, spec)
    sensitive = _group_labels(raw.sensitive)
    shape = raw.features.shape
    fingerprint = {
        "source": spec.source,
        "rows": int(shape[0]),
        "columns": int(np.prod(shape[1:])),
        "sha256": raw.sha256,
        "target": spec.target,
        "sensitive": list(spec.sensitive),
        "split_seed": spec.split_seed,
        "task": "binary" if len(classes) == 2 else "multiclass",
        "kind": raw.kind,
        "classes": [_json_label(c) for c in classes],
    }
    return Dataset(raw.kind, raw.features, labels, classes, sensitive, splits, fingerprint)


def read_raw(spec: DatasetSpec) -> RawData:
    """Read the features, target and sensitive columns named by ``spec``."""
    if spec.source in BUILTIN_DATASETS and not Path(spec.source).exists():
        frame, default_target = _read_builtin(spec.source)
        sha = _sha256_bytes(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        return _split_columns(frame, spec, default_target, sha)
    path = Path(spec.source)
    if not path.exists():
        raise DataError(
            f"Data file {spec.source!r} not found. Give an existing CSV, TSV, Parquet, .npz or "
            f"IDX path, or a built-in dataset name: {', '.join(BUILTIN_DATASETS)}."
        )
    if path.is_dir() or is_idx(path):
        return _read_idx(path, spec)
    if path.suffix == ".npz":
        return _read_npz(path, spec)
    frame = read_table(path, spec.columns)
    return _split_columns(frame, spec, None, _sha256_file(path))


def split_rows(labels: np.ndarray, classes: list[Any], spec: DatasetSpec) -> Splits:
    """Split row indices into stratified train, validation and test parts with a fixed seed."""
    counts = np.bincount(labels, minlength=len(classes))
    for code, count in enumerate(counts):
        if count < MIN_ROWS_PER_CLASS:
            raise DataError(
                f"Class {classes[code]!r} has {count} row(s), but the stratified train/validation/"
                f"test split needs at least {MIN_ROWS_PER_CLASS} rows of every class. Add rows of "
                "this class or drop them from the file."
            )
    indices = np.arange(len(labels))
    try:
        rest, test = train_test_split(
            indices, test_size=spec.test_fraction, stratify=labels, random_state=spec.split_seed
        )
        train, validation = train_test_split(
            rest,
            test_size=spec.validation_fraction,
            stratify=labels[rest],
            random_state=spec.split_seed,
        )
    except ValueError as error:
        raise DataError(
            f"The stratified split of {len(labels)} rows into {len(classes)} classes failed: "
            f"{error}. Use a dataset with more rows per class."
        ) from error
    return Splits(np.sort(train), np.sort(validation), np.sort(test))


# --- readers -------------------------------------------------------------------------------------


def _read_builtin(name: str) -> tuple[pd.DataFrame, str]:
    if name == "mnist1d":
        # make_dataset generates the data locally; mnist1d's get_dataset would try a download.
        from mnist1d.data import get_dataset_args, make_dataset

        arrays = make_dataset(get_dataset_args())
        x = np.concatenate([arrays["x"], arrays["x_test"]]).astype(np.float32)
        y = np.concatenate([arrays["y"], arrays["y_test"]])
        frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])])
        frame["target"] = y
        return frame, "target"
    from sklearn import datasets

    loaders: dict[str, Callable[..., Any]] = {
        "digits": datasets.load_digits,
        "breast_cancer": datasets.load_breast_cancer,
        "wine": datasets.load_wine,
    }
    bunch = loaders[name](as_frame=True)
    return bunch.frame, "target"


def read_table(path: Path, columns: tuple[str, ...] | None) -> pd.DataFrame:
    suffixes = [s.lower() for s in path.suffixes]
    suffix = suffixes[-2] if suffixes and suffixes[-1] == ".gz" and len(suffixes) > 1 else None
    suffix = suffix or (suffixes[-1] if suffixes else "")
    if path.stat().st_size == 0:
        raise DataError(f"Data file {str(path)!r} is empty. Give a file with a header and rows.")
    try:
        if suffix in PARQUET_SUFFIXES:
            frame = pd.read_parquet(path)
        else:
            frame = _read_text(path, suffix, columns)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, OSError, ValueError) as error:
        raise DataError(f"Data file {str(path)!r} could not be read: {error}") from error
    if frame.empty:
        raise DataError(f"Data file {str(path)!r} has no rows. Give a file with data rows.")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _read_text(path: Path, suffix: str, columns: tuple[str, ...] | None) -> pd.DataFrame:
    if suffix not in TEXT_SEPARATORS and suffix not in SNIFFED_SUFFIXES:
        raise DataError(
            f"Data file {str(path)!r} has an unsupported suffix {suffix!r}. Use .csv, .tsv, "
            ".parquet, .npz, an IDX file, or a text file (.data, .txt) with a guessed separator."
        )
    separator = TEXT_SEPARATORS.get(suffix)
    return pd.read_csv(
        path,
        sep=separator,
        engine="python" if separator is None else "c",
        header=None if columns else "infer",
        names=list(columns) if columns else None,
        na_values=list(EXTRA_NA_VALUES),
        skipinitialspace=True,
    )


def _read_npz(path: Path, spec: DatasetSpec) -> RawData:
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError) as error:
        raise DataError(
            f"NumPy file {str(path)!r} could not be read: {error}. Save numeric arrays of one "
            "shape, for example images as one (n, height, width) array, not a list of arrays."
        ) from error
    x = _first_key(arrays, ("X", "x", "features", "images"), path)
    y = _first_key(arrays, (spec.target or "y", "y", "target", "labels"), path)
    if len(x) != len(y):
        raise DataError(
            f"NumPy file {str(path)!r} has {len(x)} feature rows but {len(y)} labels. Store one "
            "label per row."
        )
    sensitive = None
    if spec.sensitive:
        missing = [name for name in spec.sensitive if name not in arrays]
        if missing:
            raise DataError(
                f"Sensitive array {missing[0]!r} not found in {str(path)!r}, which contains "
                f"{sorted(arrays)}."
            )
        sensitive = pd.DataFrame({name: arrays[name] for name in spec.sensitive})
    sha = _sha256_file(path)
    if x.ndim >= 3:
        return RawData("image", _as_images(x, path), pd.Series(y), sensitive, sha)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])])
    return RawData("tabular", frame, pd.Series(y), sensitive, sha)


def _first_key(arrays: dict[str, np.ndarray], keys: tuple[str, ...], path: Path) -> np.ndarray:
    for key in keys:
        if key in arrays:
            return arrays[key]
    raise DataError(
        f"NumPy file {str(path)!r} contains the arrays {sorted(arrays)}, but none of {list(keys)}. "
        "Save features as 'X' and labels as 'y'."
    )


def _as_images(x: np.ndarray, path: Path) -> np.ndarray:
    if x.dtype == object:
        shapes = {np.shape(image) for image in x}
        if len(shapes) > 1:
            first, second = sorted(shapes)[:2]
            raise DataError(
                f"Images in {str(path)!r} have different shapes, for example {first} and "
                f"{second}. Resize them to one shape."
            )
        x = np.stack(list(x))
    if x.ndim == 3:
        x = x[:, None, :, :]
    if x.ndim != 4:
        raise DataError(
            f"Images in {str(path)!r} have shape {x.shape}; expected (n, height, width) or "
            "(n, channels, height, width)."
        )
    return x.astype(np.float32)


def is_idx(path: Path) -> bool:
    """Tell whether ``path`` is named like an IDX file (``*idx*ubyte*``)."""
    return "idx" in path.name and "ubyte" in path.name


def _read_idx(path: Path, spec: DatasetSpec) -> RawData:
    if spec.sensitive:
        raise DataError("IDX image files have no columns, so --sensitive cannot be used with them.")
    files = sorted(path.iterdir()) if path.is_dir() else [path, *path.parent.iterdir()]
    images = next((f for f in files if is_idx(f) and "images" in f.name), None)
    labels = next((f for f in files if is_idx(f) and "labels" in f.name), None)
    if images is None or labels is None:
        raise DataError(
            f"No pair of IDX files named '*images*idx*' and '*labels*idx*' found at "
            f"{str(path)!r}. Put both files in one folder."
        )
    x, y = parse_idx(images), parse_idx(labels)
    if len(x) != len(y) or x.ndim != 3:
        raise DataError(
            f"IDX images {images.name!r} have shape {x.shape} but labels {labels.name!r} have "
            f"shape {y.shape}; expected (n, height, width) images and n labels."
        )
    sha = _sha256_bytes(_sha256_file(images).encode() + _sha256_file(labels).encode())
    return RawData("image", x[:, None].astype(np.float32), pd.Series(y), None, sha)


def parse_idx(path: Path) -> np.ndarray:
    """Read an IDX file (the MNIST format), optionally gzip-compressed, into an array."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as stream:
        content = stream.read()
    # Header: two zero bytes, a dtype code, the number of dimensions, then one big-endian int32
    # per dimension (LeCun et al., "THE MNIST DATABASE of handwritten digits").
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if len(content) < 4 or content[:2] != b"\x00\x00" or content[2] not in dtypes:
        raise DataError(f"File {str(path)!r} is not a valid IDX file (bad magic number).")
    ndim = content[3]
    shape = tuple(int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(content, dtype=dtypes[content[2]], offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise DataError(
            f"IDX file {str(path)!r} declares shape {shape} but contains {data.size} values."
        )
    return data.reshape(shape)


def _split_columns(
    frame: pd.DataFrame, spec: DatasetSpec, default_target: str | None, sha: str
) -> RawData:
    target = spec.target or default_target
    if target is None:
        raise DataError(
            f"No target column given for {spec.source!r}. Pass --target with one of: "
            f"{_preview(frame.columns)}."
        )
    for name, role in [(target, "target"), *((s, "sensitive") for s in spec.sensitive)]:
        if name not in frame.columns:
            raise DataError(
                f"Unknown {role} column {name!r} in {spec.source!r}. Columns are: "
                f"{_preview(frame.columns)}."
            )
    sensitive = frame[list(spec.sensitive)].copy() if spec.sensitive else None
    excluded = [c for c in spec.exclude_columns if c in frame.columns and c != target]
    features = frame.drop(columns=[target, *excluded])
    if features.shape[1] == 0:
        raise DataError(f"Dataset {spec.source!r} has no feature columns besides {target!r}.")
    return RawData("tabular", coerce_numeric_columns(features), frame[target], sensitive, sha)


def coerce_numeric_columns(features: pd.DataFrame) -> pd.DataFrame:
    """Convert text columns that hold numbers to floats, and reject numeric columns with junk.

    A text column is numeric when every non-missing value parses as a number. When at least
    ``NUMERIC_SHARE`` of its values parse but some do not, the others are junk such as a stray
    "n/a" or "12,5", and the column is rejected rather than silently treated as categorical.

    Raises:
        DataError: A mostly numeric column contains values that are not numbers.
    """
    features = features.copy()
    for name in features.columns:
        column = features[name]
        if pd.api.types.is_bool_dtype(column.dtype):
            features[name] = column.astype(np.float32)
            continue
        if pd.api.types.is_numeric_dtype(column.dtype):
            continue
        present = column.dropna()
        parsed = pd.to_numeric(present, errors="coerce")
        bad = present[parsed.isna()]
        if len(present) and bad.empty:
            features[name] = pd.to_numeric(column, errors="coerce")
        elif len(present) and 1 - len(bad) / len(present) >= NUMERIC_SHARE:
            raise DataError(
                f"Column {name!r} is numeric but contains {len(bad)} non-numeric value(s), for "
                f"example {bad.iloc[0]!r}. Fix or blank out these cells, or mark them as missing."
            )
    return features


# --- target ----------------------------------------------------------------------------------


def _drop_missing_targets(raw: RawData) -> RawData:
    missing = raw.target.isna().to_numpy()
    if missing.all():
        raise DataError("Every target value is missing (NaN). Check the --target column.")
    if not missing.any():
        return raw
    count = int(missing.sum())
    warnings.warn(
        f"Dropped {count} row(s) whose target is missing (NaN); {int((~missing).sum())} remain. "
        "Fill or remove them in the file to silence this warning.",
        UserWarning,
        stacklevel=3,
    )
    keep = ~missing
    features = raw.features[keep]
    if isinstance(features, pd.DataFrame):
        features = features.reset_index(drop=True)
    sensitive = None if raw.sensitive is None else raw.sensitive[keep].reset_index(drop=True)
    target = raw.target[keep].reset_index(drop=True)
    return RawData(raw.kind, features, target, sensitive, raw.sha256)


def _encode_target(target: pd.Series) -> tuple[np.ndarray, list[Any]]:
    values = target.to_numpy()
    if pd.api.types.is_float_dtype(target.dtype):
        if not np.all(np.equal(np.mod(values, 1), 0)):
            raise DataError(
                f"Target {target.name!r} contains non-integer numbers such as {values[0]!r}, so it "
                "looks like a regression target. Regression is not supported yet; paretune fit "
                "handles binary and multiclass classification."
            )
        values = values.astype(np.int64)
    if pd.api.types.is_object_dtype(target.dtype) or pd.api.types.is_string_dtype(target.dtype):
        values = np.asarray([str(v).strip() for v in values], dtype=object)
    classes, labels = np.unique(values, return_inverse=True)
    if len(classes) < 2:
        raise DataError(
            f"Target {target.name!r} has one class ({classes[0]!r}). Classification needs at "
            "least two classes."
        )
    numeric = pd.api.types.is_numeric_dtype(target.dtype)
    if numeric and len(classes) > MAX_CLASSES:
        raise DataError(
            f"Target {target.name!r} has {len(classes)} distinct numbers, so it looks like a "
            "regression target. Regression is not supported yet; paretune fit handles "
            f"classification with up to {MAX_CLASSES} classes."
        )
    return labels.astype(np.int64), [_json_label(c) for c in classes]


def _group_labels(sensitive: pd.DataFrame | None) -> np.ndarray | None:
    if sensitive is None:
        return None
    parts = sensitive.astype(str).apply(lambda column: column.str.strip())
    groups: np.ndarray = parts.agg("|".join, axis=1).to_numpy(dtype=object)
    return groups


# --- helpers -------------------------------------------------------------------------------------


def _json_label(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _preview(columns: pd.Index, limit: int = 20) -> str:
    names = [repr(str(c)) for c in columns[:limit]]
    more = f" and {len(columns) - limit} more" if len(columns) > limit else ""
    return ", ".join(names) + more


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sha256_bytes(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
