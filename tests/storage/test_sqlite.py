"""The SQLite study store against real files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from paretune import StorageError
from paretune.storage import SQLiteStorage
from paretune.storage._schema import SCHEMA_VERSION
from paretune.trial import TrialRecord, TrialStatus


def insert(storage: SQLiteStorage, config: dict, **fields: object) -> int:  # type: ignore[type-arg]
    with storage.transaction() as db:
        trial_id = storage.insert_trial(db, TrialRecord(id=0, config=config, fidelity=3))
        if fields:
            storage.update_trial(db, trial_id, **fields)
    return trial_id


def test_new_file_is_wal_with_current_schema(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "s")
    connection = sqlite3.connect(storage.db_path)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert (tmp_path / "s" / "trials").is_dir()


def test_trial_round_trip_keeps_types(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "s")
    config = {"i": 3, "f": 0.32121, "b": True, "none": None, "s": "relu", "one": 1.0}
    trial_id = insert(
        storage,
        config,
        status=TrialStatus.COMPLETED,
        metric_values={"loss": 0.5},
        cost=1.5,
        user_attrs={"note": "ok"},
    )
    (record,), _ = storage.fetch_trials()
    assert record.id == trial_id == 1
    assert record.config == config
    assert [type(v) for v in record.config.values()] == [int, float, bool, type(None), str, float]
    assert record.fidelity == 3 and isinstance(record.fidelity, int)
    assert record.status is TrialStatus.COMPLETED
    assert record.values == {"loss": 0.5}
    assert record.dir == tmp_path / "s" / "trials" / "1"


def test_fetch_since_revision_returns_only_changes(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "s")
    first = insert(storage, {"x": 1})
    insert(storage, {"x": 2})
    _, revision = storage.fetch_trials()
    with storage.transaction() as db:
        storage.update_trial(db, first, status=TrialStatus.COMPLETED)
    changed, newest = storage.fetch_trials(since_revision=revision)
    assert [t.id for t in changed] == [first]
    assert newest > revision


def test_failed_transaction_rolls_back(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "s")
    with pytest.raises(RuntimeError), storage.transaction() as db:
        storage.insert_trial(db, TrialRecord(id=0, config={"x": 1}))
        raise RuntimeError("interrupted half-way")
    assert storage.count_trials() == 0


def test_non_finite_values_are_rejected_by_json(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "s")
    trial_id = insert(storage, {"x": 1})
    with pytest.raises(ValueError), storage.transaction() as db:
        storage.update_trial(db, trial_id, metric_values={"loss": float("nan")})


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "s")
    storage.close()
    connection = sqlite3.connect(tmp_path / "s" / "study.sqlite")
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    with pytest.raises(StorageError, match="written by a newer paretune"):
        SQLiteStorage(tmp_path / "s")


def test_corrupt_file_gives_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "study.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match="cannot open the study file"):
        SQLiteStorage(folder)


def test_storage_path_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(StorageError, match="is a file: give a folder"):
        SQLiteStorage(target)


def test_curve_points_and_events(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "s")
    trial_id = insert(storage, {"x": 1})
    storage.add_curve_points([(trial_id, 0, 1.0, {"loss": 0.5, "bad": float("inf")})])
    assert storage.fetch_curves() == {trial_id: [(1.0, {"loss": 0.5})]}
    storage.add_event("selection", {"trial": trial_id, "why": "fastest"})
    (event,) = storage.events("selection")
    assert event["trial"] == trial_id and event["why"] == "fastest"


def test_two_connections_see_each_others_writes(tmp_path: Path) -> None:
    writer = SQLiteStorage(tmp_path / "s")
    reader = SQLiteStorage(tmp_path / "s", create=False)
    insert(writer, {"x": 1})
    records, _ = reader.fetch_trials()
    assert len(records) == 1
