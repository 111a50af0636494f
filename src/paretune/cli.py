"""The ``paretune`` command."""

from __future__ import annotations

import csv
import importlib
import importlib.util
import io
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import yaml
from rich.console import Console
from rich.table import Table

from paretune._errors import ParetuneError
from paretune.budget import BudgetUsage
from paretune.objectives import is_feasible
from paretune.study import Study, load_study, run
from paretune.trial import TrialRecord

app = typer.Typer(
    name="paretune",
    help="Jointly optimize deep-learning pipelines for several objectives, with an audit trail.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
logger = logging.getLogger("paretune")
T = TypeVar("T")
EXIT_USAGE = 2
CONFIG_WIDTH = 120
# Modules that add commands with ``register(app)``; each is optional, so the engine's commands
# keep working in an installation without the pipeline or report extras.
EXTENSION_MODULES = ("paretune._cli_fit", "paretune._cli_report", "paretune._cli_optimizers")


def fail(message: str) -> typer.Exit:
    """Print ``message`` to stderr and return the exit for a usage error (code 2)."""
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(EXIT_USAGE)


def guarded(action: Callable[[], T]) -> T:
    """Run ``action``; a ParetuneError becomes exit code 2 and Ctrl-C exit code 130."""
    try:
        return action()
    except ParetuneError as error:
        raise fail(_escape(str(error))) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def _escape(text: str) -> str:
    return text.replace("[", r"\[")


def configure_logging(verbose: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.INFO
    if sys.stderr.isatty():
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(console=Console(stderr=True), show_path=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    root = logging.getLogger("paretune")
    root.handlers = [handler]
    root.setLevel(level)
    root.propagate = False


def load_function(reference: str) -> Callable[..., Any]:
    """Import ``pkg.module:function`` or ``path/to/file.py:function``."""
    module_name, _, attribute = reference.rpartition(":")
    if not module_name or not attribute:
        raise ParetuneError(
            f"invalid function reference {reference!r}: write MODULE:FUNCTION, for example "
            "mypackage.train:evaluate or train.py:evaluate"
        )
    if module_name.endswith(".py"):
        path = Path(module_name).resolve()
        if not path.is_file():
            raise ParetuneError(f"file {module_name!r} not found (from {reference!r})")
        sys.path.insert(0, str(path.parent))
        module_name = path.stem
    elif "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ParetuneError(
            f"cannot import module {module_name!r} (from {reference!r}): {error}; run from the "
            "folder that contains it or install its package"
        ) from error
    function = getattr(module, attribute, None)
    if not callable(function):
        raise ParetuneError(f"module {module_name!r} has no function {attribute!r}")
    return function  # type: ignore[no-any-return]


def _load_enqueue(path: Path | None) -> list[dict[str, Any]]:
    if path is None:
        return []
    try:
        loaded = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ParetuneError(f"cannot read --enqueue file {str(path)!r}: {error}") from error
    if isinstance(loaded, dict):
        loaded = [loaded]
    if not isinstance(loaded, list) or not all(isinstance(c, dict) for c in loaded):
        raise ParetuneError(
            f"--enqueue file {str(path)!r} must hold a mapping or a list of mappings of "
            "parameter values"
        )
    return loaded


@app.command("run")
def run_command(
    function: Annotated[str, typer.Argument(help="The evaluation function, MODULE:FUNCTION.")],
    space: Annotated[Path, typer.Option(help="YAML file of the search space.")],
    objective: Annotated[
        list[str], typer.Option(help="Objective NAME[:min|max]; repeat for several.")
    ],
    storage: Annotated[Path, typer.Option(help="Study folder; an existing study is resumed.")],
    constraint: Annotated[
        list[str] | None, typer.Option(help="Constraint such as 'latency_ms<=1'; repeatable.")
    ] = None,
    max_trials: Annotated[int | None, typer.Option(help="Total trials in the study.")] = None,
    max_cost: Annotated[float | None, typer.Option(help="Total cost (seconds by default).")] = None,
    max_time: Annotated[float | None, typer.Option(help="Wall seconds of this run.")] = None,
    max_fidelity_total: Annotated[
        float | None, typer.Option(help="Total fidelity (for example epochs) trained.")
    ] = None,
    workers: Annotated[int, typer.Option(help="Trials run at the same time.")] = 1,
    executor: Annotated[str, typer.Option(help="process, inline or ray.")] = "process",
    address: Annotated[
        str | None,
        typer.Option(
            help="Ray cluster to join with --executor ray: 'auto' (a cluster started with "
            "'ray start' on this machine) or HOST:PORT of its head node; default: a new local "
            "Ray instance."
        ),
    ] = None,
    optimizer: Annotated[str, typer.Option(help="auto or an optimizer name.")] = "auto",
    seed: Annotated[int | None, typer.Option(help="Study seed (default 0).")] = None,
    enqueue: Annotated[
        Path | None, typer.Option(help="YAML file of configurations to evaluate first.")
    ] = None,
    trial_time_limit: Annotated[
        float | None, typer.Option(help="Seconds before a trial is stopped as TIMEOUT.")
    ] = None,
    trial_memory_limit_mb: Annotated[
        float | None, typer.Option(help="Resident memory (MB) before a trial is stopped.")
    ] = None,
    verbose: Annotated[bool, typer.Option(help="Log debug messages.")] = False,
) -> None:
    """Run (or resume) a study of your own evaluation function."""
    configure_logging(verbose)
    if address is not None and executor != "ray":
        raise fail(f"--address applies only to --executor ray, but --executor is {executor!r}")
    executor_options = {"address": address} if address is not None else None

    def action() -> Study:
        return run(
            load_function(function),
            space,
            objectives=objective,
            constraints=constraint or None,
            storage=storage,
            max_trials=max_trials,
            max_cost=max_cost,
            max_time=max_time,
            max_fidelity_total=max_fidelity_total,
            n_workers=workers,
            executor=executor,
            optimizer=optimizer,
            seed=seed,
            enqueue=_load_enqueue(enqueue),
            trial_time_limit=trial_time_limit,
            trial_memory_limit_mb=trial_memory_limit_mb,
            executor_options=executor_options,
        )

    study = guarded(action)
    print_status(study, Console())
    if study.stopped_by_failures:
        raise fail(
            f"the run stopped: {study.stop_reason}; the failures are summarized above. Check "
            "that the evaluation returns every --objective and --constraint metric, or debug it "
            "with --executor inline"
        )


@app.command("status")
def status_command(
    storage: Annotated[Path, typer.Argument(help="Study folder.")],
) -> None:
    """Show trial counts, budget spent and the best trial or the Pareto front."""
    study = guarded(lambda: load_study(storage))
    print_status(study, Console())


def print_status(study: Study, console: Console) -> None:
    trials = study.trials
    counts = {k: v for k, v in study.status_counts().items() if v}
    usage = BudgetUsage.from_history(trials)
    console.print(f"[bold]Study[/] {study.path}  ({len(trials)} trials)")
    console.print("  status: " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "no trials"))
    spent = f"  spent: cost {usage.cost:.4g} s, fidelity {usage.fidelity:.6g}"
    runs = usage.reference_runs()
    if runs is not None:
        spent += f", {runs:.3g} reference runs"
    console.print(spent)
    optimizer = study.optimizer_info
    if optimizer:
        console.print(f"  optimizer: {optimizer['name']} ({optimizer['reason']})")
    objectives = ", ".join(f"{o.name} ({o.direction})" for o in study.objectives)
    console.print(f"  objectives: {objectives}")
    if study.constraints:
        console.print("  constraints: " + ", ".join(map(str, study.constraints)))
    front = study.pareto_front()
    if not front:
        infeasible = [t for t in trials if t.values and not is_feasible(t, study.constraints)]
        reason = " (every completed trial violates a constraint)" if infeasible else ""
        console.print(f"  [bold yellow]no feasible completed trial[/]{reason}")
        return
    title = "Best trial" if len(study.objectives) == 1 else "Pareto front"
    console.print(trials_table(study, front[:1] if len(study.objectives) == 1 else front, title))


def trials_table(study: Study, trials: Sequence[TrialRecord], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    metrics = [o.name for o in study.objectives] + [c.name for c in study.constraints]
    table.add_column("trial", justify="right")
    for name in metrics:
        table.add_column(name, justify="right")
    table.add_column("fidelity", justify="right")
    table.add_column("config")
    for trial in trials:
        cells = [f"{trial.value(name):.6g}" for name in metrics]
        fidelity = "" if trial.fidelity is None else f"{trial.fidelity:g}"
        table.add_row(str(trial.id), *cells, fidelity, _escape(_short_config(trial.config)))
    if any(len(json.dumps(t.config)) > CONFIG_WIDTH for t in trials):
        table.caption = "configs shortened; 'paretune trials RUN --format json' lists them whole"
    return table


def _short_config(config: dict[str, Any]) -> str:
    text = json.dumps(config)
    return text if len(text) <= CONFIG_WIDTH else text[: CONFIG_WIDTH - 1] + "…"


@app.command("trials")
def trials_command(
    storage: Annotated[Path, typer.Argument(help="Study folder.")],
    format: Annotated[str, typer.Option(help="csv or json.")] = "csv",
    output: Annotated[Path | None, typer.Option(help="File to write (default: stdout).")] = None,
) -> None:
    """Export every trial with its configuration, values, status and error."""
    if format not in ("csv", "json"):
        raise fail(f"invalid --format {format!r}: use csv or json")
    study = guarded(lambda: load_study(storage))
    text = trials_json(study) if format == "json" else trials_csv(study)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text)


def trials_json(study: Study) -> str:
    rows = []
    for trial in study.trials:
        rows.append(
            {
                "id": trial.id,
                "status": trial.status.value,
                "config": trial.config,
                "fidelity": trial.fidelity,
                "values": trial.values,
                "cost": trial.cost,
                "fidelity_spent": trial.fidelity_spent,
                "parent_id": trial.parent_id,
                "attempt": trial.attempt,
                "duration": trial.duration,
                "error_type": trial.error_type,
                "error_message": trial.error_message,
                "traceback": trial.traceback,
                "learning_curve": trial.learning_curve,
                "user_attrs": trial.user_attrs,
                "system_attrs": trial.system_attrs,
            }
        )
    return json.dumps(rows, indent=2) + "\n"


def trials_csv(study: Study) -> str:
    frame = study.to_dataframe()
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL)
    return buffer.getvalue()


def _register_extensions() -> None:
    """Add the commands of the pipeline and report packages when they are present."""
    for module_name in EXTENSION_MODULES:
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        module.register(app)


def main() -> None:
    _register_extensions()
    app()
