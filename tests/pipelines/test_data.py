"""Tests of dataset loading, validation and the stratified split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from paretune._errors import DataError
from paretune.pipelines.data import DatasetSpec, load_dataset, parse_idx

from .conftest import ADULT_COLUMNS, make_frame, require_data


@pytest.mark.parametrize(
    ("name", "rows", "classes"),
    [("digits", 1797, 10), ("breast_cancer", 569, 2), ("wine", 178, 3), ("mnist1d", 5000, 10)],
)
def test_builtin_datasets_load(name: str, rows: int, classes: int) -> None:
    dataset = load_dataset(DatasetSpec(name))
    assert dataset.fingerprint["rows"] == rows
    assert dataset.n_classes == classes
    assert dataset.kind == "tabular"


def test_split_is_stratified_disjoint_and_seeded() -> None:
    first = load_dataset(DatasetSpec("digits", split_seed=3))
    second = load_dataset(DatasetSpec("digits", split_seed=3))
    splits = first.splits
    union = np.concatenate([splits.train, splits.validation, splits.test])
    assert len(np.unique(union)) == len(first.labels)
    assert np.array_equal(splits.test, second.splits.test)
    test_share = np.bincount(first.labels[splits.test]) / len(splits.test)
    assert np.allclose(test_share, np.bincount(first.labels) / len(first.labels), atol=0.02)


def _write(tmp_path: Path, frame: pd.DataFrame, name: str = "data.csv") -> str:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


def test_csv_tsv_parquet_npz_load(tmp_path: Path) -> None:
    frame = make_frame()
    frame.to_csv(tmp_path / "d.tsv", sep="\t", index=False)
    frame.to_parquet(tmp_path / "d.parquet")
    for name in ("d.tsv", "d.parquet"):
        dataset = load_dataset(DatasetSpec(str(tmp_path / name), target="label"))
        assert dataset.classes == ["no", "yes"]
    np.savez(tmp_path / "d.npz", X=np.random.default_rng(0).normal(size=(30, 4)), y=[0, 1] * 15)
    assert load_dataset(DatasetSpec(str(tmp_path / "d.npz"))).kind == "tabular"
    images = np.zeros((30, 5, 5))
    np.savez(tmp_path / "i.npz", X=images, y=[0, 1, 2] * 10)
    assert load_dataset(DatasetSpec(str(tmp_path / "i.npz"))).features.shape == (30, 1, 5, 5)


def test_nan_targets_dropped_with_warning(tmp_path: Path) -> None:
    frame = make_frame()
    frame.loc[[0, 5, 9], "label"] = None
    with pytest.warns(UserWarning, match="Dropped 3 row"):
        dataset = load_dataset(DatasetSpec(_write(tmp_path, frame), target="label"))
    assert len(dataset.labels) == 57


def _junk(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["x"] = frame["x"].astype(object)
    frame.loc[3, "x"] = "n/a!"
    return frame


def _all_nan(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(label=None)


BAD_TABLES = [
    ("unknown target", lambda f: f, {"target": "income"}, "Unknown target column 'income'"),
    ("unknown sensitive", lambda f: f, {"sensitive": ("sex",)}, "Unknown sensitive column 'sex'"),
    ("one class", lambda f: f.assign(label="yes"), {}, "has one class"),
    ("rare class", lambda f: f.assign(label=["a"] * 58 + ["b"] * 2), {}, "needs at least 3"),
    ("all nan", _all_nan, {}, "Every target value is missing"),
    ("junk", _junk, {}, "Column 'x' is numeric but contains 1 non-numeric"),
    ("regression", lambda f: f.assign(label=f["x"]), {}, "Regression is not supported yet"),
]


@pytest.mark.parametrize(
    ("change", "options", "message"),
    [case[1:] for case in BAD_TABLES],
    ids=[case[0] for case in BAD_TABLES],
)
def test_bad_tables_raise(tmp_path: Path, change: object, options: dict, message: str) -> None:
    frame = change(make_frame())  # type: ignore[operator]
    spec = DatasetSpec(_write(tmp_path, frame), **{"target": "label", **options})
    with pytest.raises(DataError, match=message):
        load_dataset(spec)


def test_missing_and_empty_files_raise(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_dataset(DatasetSpec(str(tmp_path / "absent.csv"), target="y"))
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="is empty"):
        load_dataset(DatasetSpec(str(tmp_path / "empty.csv"), target="y"))
    (tmp_path / "header.csv").write_text("a,b\n")
    with pytest.raises(DataError, match="has no rows"):
        load_dataset(DatasetSpec(str(tmp_path / "header.csv"), target="b"))


def test_mismatched_image_shapes_raise(tmp_path: Path) -> None:
    images = np.empty(2, dtype=object)
    images[0], images[1] = np.zeros((4, 4)), np.zeros((5, 4))
    path = tmp_path / "ragged.npz"
    np.savez(path, X=images, y=[0, 1])
    with pytest.raises(DataError, match=r"could not be read.*one shape"):
        load_dataset(DatasetSpec(str(path)))
    np.savez(tmp_path / "short.npz", X=np.zeros((4, 3, 3)), y=[0, 1, 0])
    with pytest.raises(DataError, match="4 feature rows but 3 labels"):
        load_dataset(DatasetSpec(str(tmp_path / "short.npz")))


def test_adult_headerless_file_with_question_marks() -> None:
    folder = require_data("adult")
    spec = DatasetSpec(
        str(folder / "adult.data"),
        target="income",
        sensitive=("sex",),
        columns=tuple(ADULT_COLUMNS.split(",")),
    )
    dataset = load_dataset(spec)
    assert dataset.classes == ["<=50K", ">50K"]
    assert set(dataset.sensitive) == {"Male", "Female"}  # type: ignore[arg-type]
    assert dataset.features["workclass"].isna().sum() > 0  # type: ignore[index]


def test_mnist_idx_folder_loads_as_images() -> None:
    folder = require_data("mnist_t10k")
    labels = parse_idx(folder / "t10k-labels-idx1-ubyte.gz")
    assert labels.shape == (10000,)
    dataset = load_dataset(DatasetSpec(str(folder)))
    assert dataset.kind == "image"
    assert dataset.features.shape == (10000, 1, 28, 28)
