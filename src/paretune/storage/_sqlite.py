"""The embedded study store: one SQLite file in WAL mode plus a folder per trial."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from paretune._errors import StorageError
from paretune.storage._schema import SCHEMA_VERSION, file_version, migrate
from paretune.trial import TrialRecord, TrialStatus

logger = logging.getLogger(__name__)

STUDY_FILE = "study.sqlite"
TRIALS_FOLDER = "trials"
BUSY_TIMEOUT_MS = 30_000
MAX_LOCK_RETRIES = 8

_TRIAL_COLUMNS = (
    "id, status, config, fidelity, parent_id, metric_values, cost, fidelity_spent, user_attrs, "
    "system_attrs, error_type, error_message, traceback, worker_id, attempt, created_at, "
    "started_at, finished_at, revision"
)
_UPDATABLE = frozenset(
    {
        "status",
        "config",
        "fidelity",
        "parent_id",
        "metric_values",
        "cost",
        "fidelity_spent",
        "user_attrs",
        "system_attrs",
        "error_type",
        "error_message",
        "traceback",
        "worker_id",
        "driver_id",
        "attempt",
        "started_at",
        "finished_at",
    }
)


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=False, separators=(",", ":"))


def _is_locked(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


def describe_write_error(error: sqlite3.Error, db_path: Path, action: str = "write to") -> str:
    """Explain a failed write to the study file, with what to do next.

    SQLite rolls the transaction back, so the file keeps every change committed before it.
    """
    code = getattr(error, "sqlite_errorname", "") or ""
    text = str(error).lower()
    target = f"cannot {action} {str(db_path)!r}"
    resume = "then run the same command again to resume; every trial recorded so far is kept"
    if code == "SQLITE_FULL" or "disk is full" in text:
        return f"{target}: the disk is full ({error}); free space, {resume}"
    if code.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text:
        return (
            f"{target}: the study file or its folder is read-only ({error}); make both "
            f"writable, {resume}"
        )
    if code.startswith("SQLITE_IOERR") or "i/o error" in text:
        return f"{target}: disk I/O error ({error}); check the disk, {resume}"
    return f"{target}: {error}"


class SQLiteStorage:
    """A study folder: ``study.sqlite`` (WAL mode) and ``trials/<id>/`` folders.

    Every state change runs in one ``BEGIN IMMEDIATE`` transaction, retried with exponential
    backoff while another process holds the write lock. Readers of a file whose schema is current
    do not wait for writers, because WAL lets them read the last committed state.
    """

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path)
        self.db_path = self.path / STUDY_FILE
        self.trials_dir = self.path / TRIALS_FOLDER
        if not self.db_path.exists() and not create:
            raise StorageError(
                f"no study found at {str(self.path)!r}: expected the file {str(self.db_path)!r}; "
                "check the path or start a study there with 'paretune run'"
            )
        if self.path.exists() and not self.path.is_dir():
            raise StorageError(
                f"storage path {str(self.path)!r} is a file: give a folder for the study"
            )
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self.trials_dir.mkdir(exist_ok=True)
        except OSError as error:
            raise StorageError(
                f"cannot create the study folder {str(self.path)!r}: {error}"
            ) from error
        self._connection = self._connect()
        self.revision = 0

    # -- connection -------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(
                self.db_path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._retry(lambda: connection.execute("PRAGMA journal_mode = WAL"))
            # NORMAL is durable against process crashes in WAL mode; a power loss may drop the
            # last transactions but never corrupts the file.
            connection.execute("PRAGMA synchronous = NORMAL")
            version = file_version(connection)
            if version > SCHEMA_VERSION:
                raise StorageError(
                    f"{str(self.db_path)!r} was written by a newer paretune (schema {version}, "
                    f"this one reads up to {SCHEMA_VERSION}): upgrade paretune to open it"
                )
            if version < SCHEMA_VERSION:
                # Only an old or new file takes the write lock; readers of a current file never do.
                self._retry(lambda: migrate(connection))
        except sqlite3.DatabaseError as error:
            raise StorageError(
                describe_write_error(error, self.db_path, "open the study file")
            ) from error
        return connection

    def close(self) -> None:
        self._connection.close()

    @staticmethod
    def _retry(action: Any) -> Any:
        for attempt in range(MAX_LOCK_RETRIES):
            try:
                return action()
            except sqlite3.OperationalError as error:
                if not _is_locked(error) or attempt == MAX_LOCK_RETRIES - 1:
                    raise
                delay = min(2.0, 0.05 * 2**attempt) * (0.5 + random.random())
                logger.debug("study file is locked; retrying in %.2f s", delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block as one write transaction; roll back on any exception.

        Raises:
            StorageError: SQLite could not write (a full disk, a read-only file or folder, an
                I/O error, or the lock held by another process beyond all retries).
        """
        try:
            self._retry(lambda: self._connection.execute("BEGIN IMMEDIATE"))
        except sqlite3.Error as error:
            raise StorageError(describe_write_error(error, self.db_path)) from error
        try:
            yield self._connection
        except sqlite3.Error as error:
            self._rollback()
            raise StorageError(describe_write_error(error, self.db_path)) from error
        except BaseException:
            self._rollback()
            raise
        try:
            self._retry(lambda: self._connection.execute("COMMIT"))
        except sqlite3.Error as error:
            self._rollback()
            raise StorageError(describe_write_error(error, self.db_path)) from error

    def _rollback(self) -> None:
        # SQLite may have rolled back already, for example after SQLITE_FULL.
        if not self._connection.in_transaction:
            return
        try:
            self._connection.execute("ROLLBACK")
        except sqlite3.Error as error:
            logger.warning("rollback of a failed transaction on %s failed: %s", self.db_path, error)

    # -- study metadata ---------------------------------------------------------------------

    def read_meta(self) -> dict[str, Any]:
        rows = self._connection.execute("SELECT key, value FROM meta").fetchall()
        return {key: json.loads(value) for key, value in rows}

    def write_meta(self, values: Mapping[str, Any]) -> None:
        with self.transaction() as db:
            self._write_meta(db, values)

    @staticmethod
    def _write_meta(db: sqlite3.Connection, values: Mapping[str, Any]) -> None:
        db.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [(key, _dumps(value)) for key, value in values.items()],
        )

    def initialize_meta(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Write ``values`` when the file has no study yet; return the stored metadata.

        Two processes that create the same study at once both get the first one's metadata.
        """
        with self.transaction() as db:
            existing = db.execute("SELECT COUNT(*) FROM meta WHERE key = 'study'").fetchone()[0]
            if not existing:
                self._write_meta(db, values)
        return self.read_meta()

    # -- trials -----------------------------------------------------------------------------

    def _next_revision(self, db: sqlite3.Connection) -> int:
        current = db.execute("SELECT MAX(revision) FROM trials").fetchone()[0]
        return int(current or 0) + 1

    def latest_revision(self) -> int:
        return int(self._connection.execute("SELECT MAX(revision) FROM trials").fetchone()[0] or 0)

    def insert_trial(
        self, db: sqlite3.Connection, record: TrialRecord, *, driver_id: str | None = None
    ) -> int:
        """Insert ``record`` (its id is ignored) inside a transaction; return the new id."""
        revision = self._next_revision(db)
        cursor = db.execute(
            "INSERT INTO trials (status, config, fidelity, parent_id, user_attrs, system_attrs, "
            "worker_id, driver_id, attempt, created_at, started_at, revision) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.status.value,
                _dumps(record.config),
                _dumps(record.fidelity),
                record.parent_id,
                _dumps(record.user_attrs),
                _dumps(record.system_attrs),
                record.worker_id,
                driver_id,
                record.attempt,
                record.created_at,
                record.started_at,
                revision,
            ),
        )
        trial_id = cursor.lastrowid
        if trial_id is None:
            raise StorageError("SQLite returned no id for the new trial")
        return int(trial_id)

    def update_trial(self, db: sqlite3.Connection, trial_id: int, **fields: Any) -> None:
        """Update columns of one trial inside a transaction; JSON columns take Python values."""
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise StorageError(f"unknown trial columns {sorted(unknown)}")
        encoded = {key: self._encode_column(key, value) for key, value in fields.items()}
        encoded["revision"] = self._next_revision(db)
        assignments = ", ".join(f"{key} = ?" for key in encoded)
        db.execute(f"UPDATE trials SET {assignments} WHERE id = ?", (*encoded.values(), trial_id))

    @staticmethod
    def _encode_column(key: str, value: Any) -> Any:
        if key in {"config", "fidelity", "metric_values", "user_attrs", "system_attrs"}:
            return _dumps(value)
        if isinstance(value, TrialStatus):
            return value.value
        return value

    def fetch_trials(self, *, since_revision: int = 0) -> tuple[list[TrialRecord], int]:
        """Return the trials changed after ``since_revision`` and the newest revision seen."""
        rows = self._connection.execute(
            # Ordered by revision so SQLite walks the revision index: ordering by id would scan
            # the whole table on every sync, which grows with the study.
            f"SELECT {_TRIAL_COLUMNS} FROM trials WHERE revision > ? ORDER BY revision",
            (since_revision,),
        ).fetchall()
        records = [self._decode_row(row) for row in rows]
        newest = max((row[-1] for row in rows), default=since_revision)
        return records, int(newest)

    def _decode_row(self, row: Sequence[Any]) -> TrialRecord:
        (trial_id, status, config, fidelity, parent_id, values, cost, spent, user_attrs,
         system_attrs, error_type, error_message, traceback, worker_id, attempt, created_at,
         started_at, finished_at, _revision) = row  # fmt: skip
        return TrialRecord(
            id=int(trial_id),
            config=json.loads(config),
            fidelity=json.loads(fidelity) if fidelity is not None else None,
            status=TrialStatus(status),
            values=json.loads(values),
            cost=cost,
            fidelity_spent=spent,
            parent_id=parent_id,
            user_attrs=json.loads(user_attrs),
            system_attrs=json.loads(system_attrs),
            error_type=error_type,
            error_message=error_message,
            traceback=traceback,
            worker_id=worker_id,
            attempt=int(attempt),
            created_at=created_at,
            started_at=started_at,
            finished_at=finished_at,
            dir=self.trials_dir / str(trial_id),
        )

    def count_trials(self) -> int:
        return int(self._connection.execute("SELECT COUNT(*) FROM trials").fetchone()[0])

    # -- learning curves --------------------------------------------------------------------

    def add_curve_points(
        self, points: Sequence[tuple[int, int, float, Mapping[str, float]]]
    ) -> None:
        """Append ``(trial_id, attempt, step, values)`` points; non-finite values are dropped."""
        now = time.time()
        rows = [
            (trial_id, attempt, step, _dumps(_finite_only(values)), now)
            for trial_id, attempt, step, values in points
        ]
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO curve (trial_id, attempt, step, metric_values, time) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def clear_curve(self, db: sqlite3.Connection, trial_id: int) -> None:
        db.execute("DELETE FROM curve WHERE trial_id = ?", (trial_id,))

    def fetch_curves(self) -> dict[int, list[tuple[float, dict[str, float]]]]:
        rows = self._connection.execute(
            "SELECT trial_id, step, metric_values FROM curve ORDER BY trial_id, rowid"
        ).fetchall()
        curves: dict[int, list[tuple[float, dict[str, float]]]] = {}
        for trial_id, step, values in rows:
            curves.setdefault(int(trial_id), []).append((float(step), json.loads(values)))
        return curves

    # -- drivers and events -----------------------------------------------------------------

    def register_driver(self, driver: Mapping[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO drivers (id, host, pid, pid_started, heartbeat, command) "
                "VALUES (:id, :host, :pid, :pid_started, :heartbeat, :command)",
                dict(driver),
            )

    def heartbeat(self, driver_id: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE drivers SET heartbeat = ? WHERE id = ?", (time.time(), driver_id))

    def drivers(self) -> dict[str, dict[str, Any]]:
        rows = self._connection.execute(
            "SELECT id, host, pid, pid_started, heartbeat, command FROM drivers"
        ).fetchall()
        keys = ("id", "host", "pid", "pid_started", "heartbeat", "command")
        return {row[0]: dict(zip(keys, row, strict=True)) for row in rows}

    def running_trial_drivers(self) -> list[tuple[int, str | None]]:
        rows = self._connection.execute(
            "SELECT id, driver_id FROM trials WHERE status = ?", (TrialStatus.RUNNING.value,)
        ).fetchall()
        return [(int(trial_id), driver_id) for trial_id, driver_id in rows]

    def add_event(self, kind: str, payload: Mapping[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO events (time, kind, payload) VALUES (?, ?, ?)",
                (time.time(), kind, _dumps(dict(payload))),
            )

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT time, kind, payload FROM events"
        arguments: tuple[Any, ...] = ()
        if kind is not None:
            query += " WHERE kind = ?"
            arguments = (kind,)
        rows = self._connection.execute(query + " ORDER BY id", arguments).fetchall()
        return [{"time": t, "kind": k, **json.loads(p)} for t, k, p in rows]


def _finite_only(values: Mapping[str, float]) -> dict[str, float]:
    return {key: float(v) for key, v in values.items() if math.isfinite(float(v))}
