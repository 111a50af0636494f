"""The exception tree of paretune: every error a user can cause derives from ``ParetuneError``."""

from __future__ import annotations


class ParetuneError(Exception):
    """Base class of every error raised by paretune."""


class SpaceError(ParetuneError, ValueError):
    """An invalid search space, parameter, prior, condition or configuration."""


class ObjectiveError(ParetuneError, ValueError):
    """An invalid objective, constraint, direction or reference point."""


class StorageError(ParetuneError):
    """A study file that cannot be opened, read or written."""


class StudyMismatchError(StorageError):
    """A resumed study whose space or objectives differ from the stored ones."""


class BudgetError(ParetuneError, ValueError):
    """An invalid budget specification."""


class OptimizerError(ParetuneError, ValueError):
    """An unknown optimizer or invalid optimizer settings."""


class ExecutorError(ParetuneError):
    """An executor that cannot start or has lost its workers."""


class DataError(ParetuneError, ValueError):
    """A dataset that cannot be loaded or used for the requested task."""
