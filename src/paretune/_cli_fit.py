"""The ``fit``, ``export`` and ``predict`` commands of the built-in PyTorch pipeline.

``register(app)`` adds them to the main typer app. Every command maps a ``ParetuneError`` to
exit code 2 with the message on stderr.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from paretune._errors import ParetuneError

if TYPE_CHECKING:
    from paretune.pipelines.fit import FitResult

logger = logging.getLogger(__name__)

T = TypeVar("T")
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _guard(action: Callable[[], T]) -> T:
    """Run ``action``; a ParetuneError prints to stderr and exits with code 2."""
    try:
        return action()
    except ParetuneError as error:
        message = str(error).replace("[", r"\[")
        Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _ensure_logging() -> None:
    root = logging.getLogger("paretune")
    if any(not isinstance(h, logging.NullHandler) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def fit_command(
    data: Annotated[
        Path | None, typer.Argument(help="CSV, TSV, Parquet, .npz file, or IDX image folder.")
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            help="Built-in dataset instead of DATA: digits, breast_cancer, wine, mnist1d."
        ),
    ] = None,
    target: Annotated[str | None, typer.Option(help="Target column to predict.")] = None,
    sensitive: Annotated[
        list[str] | None, typer.Option(help="Sensitive attribute column (repeatable).")
    ] = None,
    columns: Annotated[
        str | None, typer.Option(help="Comma-separated column names for a file without header.")
    ] = None,
    objective: Annotated[
        list[str] | None,
        typer.Option(help="Objective NAME[:min|max] (repeatable); default: error."),
    ] = None,
    constraint: Annotated[
        list[str] | None, typer.Option(help="Constraint such as 'latency_ms<=1' (repeatable).")
    ] = None,
    budget: Annotated[
        str,
        typer.Option(
            help="5x (reference runs), 30m, 2h or 90s (wall time), 200trials, 500epochs "
            "or 3600cost."
        ),
    ] = "5x",
    workers: Annotated[int, typer.Option(help="Trials trained in parallel.")] = 1,
    out: Annotated[Path | None, typer.Option(help="Run folder; default runs/<data name>.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the split, the search and the trials.")] = 0,
    max_epochs: Annotated[int, typer.Option(help="Epochs of a full-fidelity run.")] = 27,
    family: Annotated[
        list[str] | None,
        typer.Option(help="Model family to search (repeatable): mlp, resnet, cnn, resnet_cnn."),
    ] = None,
    optimizer: Annotated[
        str, typer.Option(help="auto, or an optimizer name such as random, asha or priorband.")
    ] = "auto",
    progress: Annotated[bool, typer.Option(help="Show the live progress display.")] = True,
) -> None:
    """Search PyTorch pipelines jointly on a dataset and print the Pareto front."""
    from paretune.pipelines.fit import fit

    _ensure_logging()
    result = _guard(
        lambda: fit(
            data,
            dataset=dataset,
            target=target,
            sensitive=sensitive or (),
            columns=[c.strip() for c in columns.split(",")] if columns else None,
            objectives=objective or ["error"],
            constraints=constraint or (),
            budget=budget,
            n_workers=workers,
            out=out,
            seed=seed,
            max_epochs=max_epochs,
            families=family,
            optimizer=optimizer,
            show_progress=progress and sys.stderr.isatty(),
        )
    )
    console = Console()
    console.print(pareto_table(result))
    console.print(f"Run folder: {result.study.path}")
    from paretune.report import report

    console.print(f"Report: {_guard(lambda: report(result.study))}")


def pareto_table(result: FitResult) -> Table:
    """Render the Pareto-optimal trials with validation and test metrics."""
    names = [o.name for o in result.study.objectives]
    count = len(result.pareto_front)
    table = Table(title=f"Pareto front ({count} trial{'' if count == 1 else 's'})")
    for header in ["trial", "family", "epochs", *(f"val {n}" for n in names),
                   *(f"test {n}" for n in names)]:  # fmt: skip
        table.add_column(header, justify="left" if header == "family" else "right")
    for trial in result.pareto_front:
        test = result.test_metrics.get(trial.id, {})
        table.add_row(
            str(trial.id),
            str(trial.config.get("family", "")),
            str(trial.fidelity),
            *(_format(trial.values.get(n)) for n in names),
            *(_format(test.get(n)) for n in names),
        )
    return table


def _format(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def export_command(
    run: Annotated[Path, typer.Argument(help="Run folder written by 'paretune fit'.")],
    trial: Annotated[int, typer.Option(help="Id of the trial to export.")],
    out: Annotated[
        Path | None, typer.Option(help="Model folder; default RUN/models/trial-N.")
    ] = None,
) -> None:
    """Write a self-contained model folder: weights, preprocessing, config and metrics."""
    from paretune.pipelines.export import export_trial

    target = out or run / "models" / f"trial-{trial}"
    path = _guard(lambda: export_trial(run, trial, target))
    Console().print(f"Exported trial {trial} to {path}")


def predict_command(
    model: Annotated[Path, typer.Argument(help="Model folder written by 'paretune export'.")],
    data: Annotated[Path, typer.Argument(help="Rows to predict: CSV, TSV, Parquet, .npz, IDX.")],
    out: Annotated[
        Path | None, typer.Option(help="CSV file; default <DATA name>.predictions.csv.")
    ] = None,
) -> None:
    """Predict class labels and probabilities for DATA with an exported model."""
    from paretune.pipelines.export import predict_file

    target = out or Path(f"{data.stem}.predictions.csv")
    path = _guard(lambda: predict_file(model, data, target))
    Console().print(f"Wrote predictions to {path}")


def register(app: typer.Typer) -> None:
    """Add the ``fit``, ``export`` and ``predict`` commands to ``app``."""
    app.command("fit")(fit_command)
    app.command("export")(export_command)
    app.command("predict")(predict_command)
