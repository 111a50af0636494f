"""Build the report: read the study, run the analyses, assemble the sections, write the files."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from paretune._errors import ParetuneError
from paretune.report._cards import cards_section, selection_section
from paretune.report._data import ReportData, Unavailable, collect
from paretune.report._fidelity import BudgetCorrelation, budget_correlation
from paretune.report._html import Section, page
from paretune.report._importance import Importance, compute_importance
from paretune.report._manifest import build_manifest, manifest_section
from paretune.report._sections import (
    curves_section,
    importance_section,
    pareto_section,
    trajectory_section,
)
from paretune.report._summary import summary_section
from paretune.report._trajectory import compute_trajectory
from paretune.report._trials import trials_section, write_exports
from paretune.study import Study, load_study

logger = logging.getLogger(__name__)

DEFAULT_NAME = "report.html"


def report(study_or_path: Study | str | Path, path: str | Path | None = None) -> Path:
    """Write the self-contained HTML audit report of a study, with CSV and JSON exports.

    The page holds plotly.js inline and loads nothing from the network, so it opens offline
    from a file. Beside it, ``<name>.trials.csv`` and ``<name>.trials.json`` list every trial.

    Args:
        study_or_path: A study, or the folder of one (for example a ``paretune fit`` run).
        path: The HTML file to write; default ``report.html`` in the study folder.

    Returns:
        The path of the HTML file.

    Raises:
        ParetuneError: The study cannot be opened or the file cannot be written.

    Example:
        >>> import paretune as pt
        >>> study = pt.run(lambda t: {"loss": t.config["x"] ** 2}, {"x": pt.Float(-1, 1)},
        ...                objectives=["loss"], max_trials=8, executor="inline")
        >>> pt.report(study, "report.html")  # doctest: +SKIP
        PosixPath('report.html')
    """
    started = time.perf_counter()
    study = study_or_path if isinstance(study_or_path, Study) else load_study(study_or_path)
    target = Path(path) if path is not None else study.path / DEFAULT_NAME
    if target.is_dir():
        raise ParetuneError(f"{str(target)!r} is a folder; give a file name such as report.html")
    data = collect(study)
    document = render(data, target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(document, encoding="utf-8")
        write_exports(data, target)
    except OSError as error:
        raise ParetuneError(f"cannot write the report to {str(target)!r}: {error}") from error
    logger.info(
        "wrote the report of %d trial(s) to %s in %.1f s",
        len(data.trials),
        target,
        time.perf_counter() - started,
    )
    return target


def render(data: ReportData, target: Path) -> str:
    """Return the report's HTML for ``data``; ``target`` names the export files it links."""
    importances = analyse_importance(data)
    correlations = analyse_correlation(data)
    manifest = build_manifest(data)
    complete = {
        name: result for name, result in importances.items() if isinstance(result, Importance)
    }
    front_title = "Best trial" if len(data.objectives) == 1 else "Pareto front"
    sections = [
        Section("summary", "Summary", summary_section(data, complete)),
        Section("pareto", front_title, pareto_section(data)),
        Section("trajectory", "Trajectory", trajectory_section(data, compute_trajectory(data))),
        Section("curves", "Learning curves", curves_section(data)),
        Section("importance", "What mattered", importance_section(data, importances, correlations)),
        Section("cards", "Model cards", cards_section(data)),
        Section("selection", "Selection", selection_section(data)),
        Section("manifest", "Reproducibility", manifest_section(data, manifest)),
        Section("trials", "Trials", trials_section(data, target)),
    ]
    objectives = ", ".join(f"{o.name} ({o.direction})" for o in data.objectives)
    subtitle = f"{len(data.trials)} trials; objectives: {objectives}"
    return page(f"paretune report: {data.study.name}", subtitle, sections)


def _local_anchor(data: ReportData, objective: str) -> tuple[int, Mapping[str, Any], Any] | None:
    """Return the trial around which local importance is computed: the selection, else the best."""
    trial = data.selected_trial or data.best.get(objective)
    if trial is None:
        return None
    return trial.id, trial.config, trial.fidelity


def analyse_importance(data: ReportData) -> dict[str, Importance | Unavailable]:
    results: dict[str, Importance | Unavailable] = {}
    for objective in data.objectives:
        results[objective.name] = compute_importance(
            data.space,
            data.trials,
            objective.name,
            local_config=_local_anchor(data, objective.name),
            seed=data.study.seed,
        )
    return results


def analyse_correlation(data: ReportData) -> dict[str, BudgetCorrelation | Unavailable]:
    return {o.name: budget_correlation(data.trials, o.name) for o in data.objectives}
