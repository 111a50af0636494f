"""``fit``: search the built-in pipeline on a dataset and score the Pareto front on the test split.

The dataset is loaded and validated in the calling process before anything is written, so bad
input raises ``DataError`` and leaves no half-written run folder.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paretune._errors import DataError
from paretune.budget import Budget
from paretune.objectives import Constraint, Objective
from paretune.pipelines.data import BUILTIN_DATASETS, Dataset, DatasetSpec, load_dataset
from paretune.pipelines.evaluation import PipelineEvaluation
from paretune.pipelines.export import TrainedPipeline
from paretune.pipelines.metrics import (
    METRICS,
    MetricContext,
    check_metric_names,
    compute_metrics,
    group_metrics,
)
from paretune.pipelines.search_space import DEFAULT_MAX_EPOCHS, build_space, default_config
from paretune.trial import CHECKPOINT_FILE, TrialRecord

logger = logging.getLogger(__name__)

DEFAULT_OBJECTIVES = ("error",)


@dataclass
class FitResult:
    """Result of ``fit``.

    Attributes:
        study: The finished study (trials, Pareto front, storage folder).
        pareto_front: The Pareto-optimal trials on validation metrics, best first.
        test_metrics: Metrics of each Pareto-optimal trial on the test split, by trial id.
        dataset: The loaded dataset with its split.
    """

    study: Any
    pareto_front: list[TrialRecord]
    test_metrics: dict[int, dict[str, float]] = field(default_factory=dict)
    dataset: Dataset | None = None


def parse_objectives(texts: Sequence[str]) -> tuple[Objective, ...]:
    """Parse ``NAME`` or ``NAME:min|max``; a bare name gets the metric's known direction.

    Raises:
        DataError: A name is not a built-in metric.
    """
    objectives = []
    for text in texts:
        name, _, direction = text.strip().partition(":")
        metric = METRICS.get(name.strip())
        if metric is None:
            raise DataError(
                f"Unknown objective {name!r}. Built-in objectives: {', '.join(METRICS)}."
            )
        objective = Objective(metric.name, direction.strip() or metric.direction)  # type: ignore[arg-type]
        if objective.direction != metric.direction:
            warnings.warn(
                f"Objective {metric.name!r} is usually {metric.direction}d, but {text!r} asks to "
                f"{objective.direction} it. Drop the ':{direction}' suffix to use the usual "
                "direction.",
                UserWarning,
                stacklevel=2,
            )
        objectives.append(objective)
    return tuple(objectives)


def fit(
    data: str | Path | None = None,
    *,
    dataset: str | None = None,
    target: str | None = None,
    sensitive: Sequence[str] = (),
    columns: Sequence[str] | None = None,
    exclude_columns: Sequence[str] = (),
    objectives: Sequence[str] = DEFAULT_OBJECTIVES,
    constraints: Sequence[str] = (),
    budget: str | Budget = "5x",
    n_workers: int = 1,
    out: str | Path | None = None,
    seed: int = 0,
    max_epochs: int = DEFAULT_MAX_EPOCHS,
    families: Sequence[str] | None = None,
    optimizer: str = "auto",
    show_progress: bool | None = None,
) -> FitResult:
    """Search the built-in PyTorch pipeline jointly and return the Pareto front.

    Args:
        data: A CSV, TSV, Parquet, .npz or IDX path (or give ``dataset``).
        dataset: A built-in dataset: digits, breast_cancer, wine or mnist1d.
        target: The target column (optional for built-in, NumPy and IDX data).
        sensitive: Columns that define groups for dp_difference and eo_difference.
        columns: Column names for a text file without a header row.
        exclude_columns: Columns not used as features (for example a sensitive attribute that
            the model must not see).
        objectives: Metric names, optionally with ``:min`` or ``:max``.
        constraints: Bounds such as ``"latency_ms<=1"``.
        budget: ``5x`` (reference runs), ``30m`` (wall time), ``200trials``, or a Budget.
        n_workers: Trials trained in parallel, each in its own process.
        out: The run folder; defaults to ``runs/<dataset name>``.
        seed: Seed of the split, the optimizer and every trial.
        max_epochs: The largest fidelity (epochs of a full run).
        families: Model families to search; default: all that fit the data.
        optimizer: "auto" or a registered optimizer name such as "random" or "asha".
        show_progress: Show the progress display (default: when stderr is a terminal).

    Raises:
        DataError: The data, target, sensitive columns or metric names are invalid.

    Example:
        >>> result = fit(dataset="digits", objectives=["error", "latency_ms"], budget="3x")
        >>> [t.id for t in result.pareto_front]
    """
    source = _source_of(data, dataset)
    objective_tuple = parse_objectives(objectives)
    constraint_tuple = tuple(Constraint.parse(text) for text in constraints)
    budget_value = budget if isinstance(budget, Budget) else Budget.parse(budget)
    spec = DatasetSpec(
        source, target=target, sensitive=tuple(sensitive),
        columns=tuple(columns) if columns else None, exclude_columns=tuple(exclude_columns),
        split_seed=seed,
    )  # fmt: skip
    loaded = load_dataset(spec)
    metric_names = list(dict.fromkeys([o.name for o in objective_tuple] +
                                      [c.name for c in constraint_tuple]))  # fmt: skip
    check_metric_names(
        metric_names, has_sensitive=loaded.sensitive is not None, n_classes=loaded.n_classes
    )
    image_shape = _image_shape(loaded)
    space = build_space(loaded.kind, max_epochs=max_epochs, families=families,
                        image_shape=image_shape)  # fmt: skip
    reference = default_config(loaded.kind, families=families, image_shape=image_shape)
    run_folder = Path(out) if out is not None else Path("runs") / Path(source).stem
    check_same_data(run_folder, loaded.fingerprint)

    study = _run_search(
        PipelineEvaluation(spec, tuple(metric_names), max_epochs),
        space,
        objective_tuple,
        constraint_tuple,
        budget_value,
        out=run_folder,
        seed=seed,
        n_workers=n_workers,
        reference=reference,
        metadata={"dataset": loaded.fingerprint, "max_epochs": max_epochs},
        show_progress=show_progress,
        optimizer=optimizer,
    )
    front = study.pareto_front()
    _warn_if_only_reference(study, max_epochs)
    test_metrics = {}
    for trial in front:
        test_metrics[trial.id], groups = score_on_test(study, trial, loaded, metric_names)
        study.set_user_attrs(
            trial.id, test_metrics=test_metrics[trial.id], test_group_metrics=groups
        )
    study.set_metadata(test_metrics={str(k): v for k, v in test_metrics.items()})
    return FitResult(study, front, test_metrics, loaded)


def _warn_if_only_reference(study: Any, max_epochs: int) -> None:
    full = [t for t in study.final_trials() if t.fidelity == max_epochs]
    if full and all(t.system_attrs.get("reference") for t in full):
        shorter = len(study.trials) - len(full)
        logger.warning(
            "only the default configuration was trained to %d epochs; the other %d trial(s) "
            "stopped at fewer epochs and do not count as found models. Raise --budget (for "
            "example 5x) so that promising trials reach full training",
            max_epochs,
            shorter,
        )


def check_same_data(run_folder: Path, fingerprint: dict[str, Any]) -> None:
    """Reject a run folder whose study searched other data.

    Resuming makes an interrupted ``fit`` cheap to finish. But the models stored there were
    trained on the data they recorded, so mixing them with another dataset's models would report
    models that never saw the new rows.
    """
    if not (run_folder / "study.sqlite").exists():
        return
    from paretune.study import load_study

    stored = load_study(run_folder).metadata.get("dataset", {})
    if stored.get("sha256") != fingerprint.get("sha256"):
        raise DataError(
            f"the run folder {str(run_folder)!r} contains a study of other data "
            f"({stored.get('source', 'unknown source')}, sha256 {str(stored.get('sha256'))[:12]}); "
            "pass another --out folder, or delete that folder to start over"
        )


def _run_search(
    evaluate: PipelineEvaluation,
    space: Any,
    objectives: tuple[Objective, ...],
    constraints: tuple[Constraint, ...],
    budget: Budget,
    *,
    out: Path,
    seed: int,
    n_workers: int,
    reference: dict[str, Any],
    metadata: dict[str, Any],
    show_progress: bool | None,
    optimizer: str = "auto",
) -> Any:
    from paretune.study import run

    return run(
        evaluate,
        space,
        objectives=objectives,
        constraints=constraints,
        storage=out,
        reference_config=reference,
        optimizer=optimizer,
        n_workers=n_workers,
        seed=seed,
        metadata=metadata,
        show_progress=show_progress,
        **budget.to_dict(),
    )


def score_on_test(
    study: Any, trial: TrialRecord, dataset: Dataset, metric_names: Sequence[str]
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Score one trial's model on the test split (used once, for the report).

    Returns the metrics and the per-group metrics of the sensitive attribute (empty without one).
    """
    pipeline = TrainedPipeline.from_checkpoint(study.trial_dir(trial.id) / CHECKPOINT_FILE)
    test = dataset.splits.test
    inputs = pipeline.transform(dataset.rows(test))
    context = MetricContext(
        probabilities=pipeline.predict_proba(dataset.rows(test)),
        labels=dataset.labels[test],
        sensitive=None if dataset.sensitive is None else dataset.sensitive[test],
        model=pipeline.model,
        inputs=inputs,
        train_time_s=trial.values.get("train_time_s", float("nan")),
    )
    return compute_metrics(list(metric_names), context), group_metrics(context)


def _source_of(data: str | Path | None, dataset: str | None) -> str:
    if (data is None) == (dataset is None):
        raise DataError(
            "Give exactly one data source: a file path, or --dataset with a built-in name."
        )
    if dataset is not None and dataset not in BUILTIN_DATASETS:
        raise DataError(
            f"Unknown built-in dataset {dataset!r}. Choose one of: {', '.join(BUILTIN_DATASETS)}, "
            "or pass a file path instead of --dataset."
        )
    return str(data if data is not None else dataset)


def _image_shape(dataset: Dataset) -> tuple[int, int, int] | None:
    if dataset.kind != "image":
        return None
    channels, height, width = dataset.features.shape[1:]
    return int(channels), int(height), int(width)
