"""Study storage: an embedded SQLite file per study plus a folder per trial."""

from paretune.storage._sqlite import STUDY_FILE, TRIALS_FOLDER, SQLiteStorage

__all__ = ["STUDY_FILE", "TRIALS_FOLDER", "SQLiteStorage"]
