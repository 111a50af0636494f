"""The SQLite schema of a study file and its migrations."""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 1

# Each entry upgrades a file from version ``index`` to ``index + 1``. A new column or table is a
# new entry appended here, never an edit of an old one, so every older file can be upgraded.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE trials (
        id INTEGER PRIMARY KEY,
        status TEXT NOT NULL,
        config TEXT NOT NULL,
        fidelity TEXT,
        parent_id INTEGER,
        metric_values TEXT NOT NULL DEFAULT '{}',
        cost REAL,
        fidelity_spent REAL,
        user_attrs TEXT NOT NULL DEFAULT '{}',
        system_attrs TEXT NOT NULL DEFAULT '{}',
        error_type TEXT,
        error_message TEXT,
        traceback TEXT,
        worker_id TEXT,
        driver_id TEXT,
        attempt INTEGER NOT NULL DEFAULT 0,
        created_at REAL,
        started_at REAL,
        finished_at REAL,
        revision INTEGER NOT NULL
    );
    CREATE INDEX trials_revision ON trials (revision);
    CREATE INDEX trials_status ON trials (status);
    CREATE TABLE curve (
        trial_id INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        step REAL NOT NULL,
        metric_values TEXT NOT NULL,
        time REAL NOT NULL
    );
    CREATE INDEX curve_trial ON curve (trial_id);
    CREATE TABLE drivers (
        id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        pid_started REAL NOT NULL,
        heartbeat REAL NOT NULL,
        command TEXT NOT NULL
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        time REAL NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL
    );
    """,
]


def file_version(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def migrate(connection: sqlite3.Connection) -> None:
    """Upgrade the file to ``SCHEMA_VERSION``, one migration per transaction.

    The version is read again inside each write transaction, so processes that open a new file
    at the same moment apply every migration exactly once.
    """
    while True:
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = file_version(connection)
            if version >= SCHEMA_VERSION:
                connection.execute("COMMIT")
                return
            for statement in _split(MIGRATIONS[version]):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {version + 1}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise


def _split(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]
