"""A full disk or read-only storage stops a run with a clear error and a readable study file."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

import paretune as pt
from paretune._errors import StorageError
from paretune.trial import TrialStatus
from tests.executors import evaluations

SPACE = {"x": pt.Float(0.0, 1.0)}


def _study(path: Path) -> pt.Study:
    return pt.create_study(SPACE, objectives=["loss"], storage=path, seed=0)


def _optimize(study: pt.Study, max_trials: int) -> None:
    study.optimize(
        evaluations.bulky,
        budget=pt.Budget(max_trials=max_trials),
        executor="inline",
        optimizer="random",
        show_progress=False,
    )


def _integrity(path: Path) -> str:
    connection = sqlite3.connect(path / "study.sqlite")
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def test_full_disk_gives_clear_error_and_resumes(tmp_path: Path) -> None:
    storage = tmp_path / "study"
    study = _study(storage)
    # SQLite reports SQLITE_FULL once the file would grow past max_page_count pages, exactly as
    # on a full disk; each trial below stores 64 KB.
    pages = study.storage._connection.execute("PRAGMA page_count").fetchone()[0]
    study.storage._connection.execute(f"PRAGMA max_page_count = {pages + 60}")
    with pytest.raises(StorageError, match=r"the disk is full .*run the same command again"):
        _optimize(study, max_trials=20)
    study.storage.close()

    assert _integrity(storage) == "ok"
    reopened = pt.load_study(storage)
    completed = [t for t in reopened.trials if t.status is TrialStatus.COMPLETED]
    assert 1 <= len(completed) < 20
    assert not [t for t in reopened.trials if t.status is TrialStatus.RUNNING]
    reopened.storage.close()

    resumed = pt.run(
        evaluations.bulky, SPACE, objectives=["loss"], storage=storage, max_trials=20,
        executor="inline", optimizer="random", show_progress=False,
    )  # fmt: skip
    assert resumed.status_counts()["COMPLETED"] == 20


def test_read_only_study_gives_clear_error(tmp_path: Path) -> None:
    storage = tmp_path / "study"
    study = _study(storage)
    _optimize(study, max_trials=3)
    study.storage._connection.execute("PRAGMA query_only = ON")
    with pytest.raises(StorageError, match=r"read-only .*make both writable"):
        _optimize(study, max_trials=6)
    study.storage.close()

    assert _integrity(storage) == "ok"
    reopened = pt.load_study(storage)
    assert reopened.status_counts()["COMPLETED"] == 3
    reopened.storage.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="file permissions do not restrict root")
def test_read_only_folder_gives_clear_error(tmp_path: Path) -> None:
    storage = tmp_path / "study"
    study = _study(storage)
    _optimize(study, max_trials=2)
    study.storage.close()
    for path in [storage / "study.sqlite", storage / "trials", storage]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        with pytest.raises(StorageError, match=r"read-only|readonly|cannot open"):
            pt.run(
                evaluations.bulky, SPACE, objectives=["loss"], storage=storage, max_trials=4,
                executor="inline", optimizer="random", show_progress=False,
            )  # fmt: skip
    finally:
        for path in [storage, storage / "trials", storage / "study.sqlite"]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert pt.load_study(storage).status_counts()["COMPLETED"] == 2
