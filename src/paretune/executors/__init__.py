"""Executors run trials: inline (debugging), local processes (default), Ray (clusters)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from paretune._errors import ExecutorError
from paretune.executors._base import Evaluate, Event, Executor, Job, Outcome, Report
from paretune.executors._inline import InlineExecutor
from paretune.executors._process import ProcessExecutor


def _make_ray(n_workers: int, **options: Any) -> Executor:
    try:
        from paretune.executors._ray import RayExecutor
    except ImportError as error:
        raise ExecutorError(
            f"executor 'ray' needs Ray ({error}); install it with: pip install 'paretune[ray]'"
        ) from error
    return RayExecutor(n_workers=n_workers, **options)


EXECUTORS: dict[str, Callable[..., Executor]] = {
    "inline": lambda n_workers, **options: InlineExecutor(**options),
    "process": lambda n_workers, **options: ProcessExecutor(n_workers, **options),
    "ray": _make_ray,
}


# The keyword options each executor accepts (``executor_options`` of ``paretune.run``).
EXECUTOR_OPTIONS: dict[str, tuple[str, ...]] = {
    "inline": (),
    "process": (),
    "ray": ("address", "resources_per_trial", "checkpoint_path"),
}


def make_executor(name: str | Executor, *, n_workers: int, **options: Any) -> Executor:
    """Build the executor ``name`` ("inline", "process" or "ray") or pass an instance through.

    Raises:
        ExecutorError: The name is unknown, an option does not apply to this executor, or
            ``n_workers`` is more than the inline executor runs.
    """
    if isinstance(name, Executor):
        if options:
            raise ExecutorError(
                f"executor options {sorted(options)} were given with an executor instance; "
                "pass them to its constructor instead"
            )
        return name
    factory = EXECUTORS.get(name)
    if factory is None:
        raise ExecutorError(f"unknown executor {name!r}: choose one of {sorted(EXECUTORS)}")
    unknown = sorted(set(options) - set(EXECUTOR_OPTIONS.get(name, ())))
    if unknown:
        accepted = ", ".join(EXECUTOR_OPTIONS.get(name, ())) or "none"
        raise ExecutorError(
            f"invalid executor option(s) {unknown} for executor {name!r}; it accepts: {accepted}"
        )
    if name == "inline" and n_workers > 1:
        raise ExecutorError(
            f"the inline executor runs one trial at a time, but n_workers={n_workers}; "
            "use executor='process' for parallel trials"
        )
    return factory(n_workers, **options)


__all__ = [
    "EXECUTORS",
    "EXECUTOR_OPTIONS",
    "Evaluate",
    "Event",
    "Executor",
    "InlineExecutor",
    "Job",
    "Outcome",
    "ProcessExecutor",
    "Report",
    "make_executor",
]
