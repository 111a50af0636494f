"""The ``import-trials`` command: warm-start a study with results from a CSV file.

``register(app)`` adds it to the main typer app; a ``ParetuneError`` exits with code 2 and the
message on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from paretune._errors import ParetuneError

EXIT_USAGE = 2


def register(app: typer.Typer) -> None:
    """Add ``paretune import-trials`` to ``app``."""
    app.command("import-trials")(import_trials_command)


def import_trials_command(
    run: Annotated[Path, typer.Argument(help="The study folder (the --storage of a run).")],
    file: Annotated[Path, typer.Argument(help="CSV file: one row per finished evaluation.")],
) -> None:
    """Import finished trials from a CSV file, so the optimizer starts from them."""
    from paretune.study import load_study
    from paretune.warm_start import import_trials

    try:
        ids = import_trials(load_study(run), file)
    except ParetuneError as error:
        message = str(error).replace("[", r"\[")
        Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False)
        raise typer.Exit(EXIT_USAGE) from None
    span = f" (trial ids {ids[0]}-{ids[-1]})" if ids else ""
    typer.echo(f"imported {len(ids)} trial(s) into {run}{span}")
