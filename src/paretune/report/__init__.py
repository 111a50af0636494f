"""The audit report: one self-contained HTML file that explains and reproduces a study.

``report(study)`` writes the page (summary, Pareto front, trajectory, learning curves,
hyperparameter importance, model cards, the expert's selection, a reproducibility manifest and
the trials table) and CSV and JSON exports of every trial beside it. ``select(study, trial, why)``
records the chosen trade-off, which the report then shows with the alternatives.

Example:
    >>> import paretune as pt
    >>> from paretune.report import report, select
    >>> study = pt.load_study("runs/adult")  # doctest: +SKIP
    >>> select(study, 12, "lowest error with a parity gap under 0.05")  # doctest: +SKIP
    >>> report(study)  # doctest: +SKIP
    PosixPath('runs/adult/report.html')
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

from paretune.report._render import report
from paretune.report._selection import select
from paretune.study import Study


class _CallableModule(types.ModuleType):
    """This package, callable like ``report``.

    Importing ``paretune.report`` binds the package to the name ``report`` in ``paretune``,
    which hides the lazily exported function of the same name, so ``paretune.report(study)``
    would call a module. Forwarding the call keeps that spelling working in every import order.
    """

    def __call__(self, study_or_path: Study | str | Path, path: str | Path | None = None) -> Path:
        return report(study_or_path, path)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["report", "select"]
