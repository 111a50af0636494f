"""Reusing a run folder: resume the same data, refuse other data."""

from __future__ import annotations

from pathlib import Path

import pytest

import paretune as pt
from paretune.pipelines.fit import check_same_data


def make_run(folder: Path, sha256: str) -> None:
    pt.create_study(
        {"x": pt.Float(0.0, 1.0)},
        objectives=["error"],
        storage=folder,
        metadata={"dataset": {"source": "a.csv", "sha256": sha256}},
    )


def test_same_data_may_resume(tmp_path: Path) -> None:
    make_run(tmp_path / "run", "abc123")
    check_same_data(tmp_path / "run", {"sha256": "abc123"})


def test_other_data_is_refused(tmp_path: Path) -> None:
    make_run(tmp_path / "run", "abc123")
    with pytest.raises(
        pt.DataError, match=r"contains a study of other data \(a.csv, sha256 abc123\)"
    ):
        check_same_data(tmp_path / "run", {"sha256": "def456"})


def test_new_folder_is_accepted(tmp_path: Path) -> None:
    check_same_data(tmp_path / "absent", {"sha256": "abc123"})
    assert not (tmp_path / "absent").exists()
