"""The ``report`` and ``select`` commands: write the audit report, record the chosen trade-off.

``register(app)`` adds them to the main typer app. A ``ParetuneError`` prints its message to
stderr and exits with code 2.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from paretune.cli import configure_logging, fail, guarded

logger = logging.getLogger(__name__)


def report_command(
    run: Annotated[Path, typer.Argument(help="Study folder (for example a 'paretune fit' run).")],
    out: Annotated[
        Path | None, typer.Option(help="HTML file to write; default RUN/report.html.")
    ] = None,
) -> None:
    """Write the self-contained HTML audit report, with trials as CSV and JSON beside it."""
    from paretune.report import report

    configure_logging()
    path = guarded(lambda: report(run, out))
    Console().print(f"Wrote the report to {path}", highlight=False)


def select_command(
    run: Annotated[Path, typer.Argument(help="Study folder.")],
    trial: Annotated[int, typer.Option(help="Id of the chosen trial.")],
    why: Annotated[str, typer.Option(help="Why this trade-off was chosen, in your words.")],
) -> None:
    """Record the chosen trial and its rationale in the study; the report shows it."""
    from paretune.report import select

    configure_logging()
    if not why.strip():
        raise fail('--why is empty: say why this trade-off was chosen, for example --why "..."')
    selection = guarded(lambda: select(run, trial, why))
    Console().print(
        f"Recorded trial {selection['trial_id']} as the selection at {selection['selected_at']}. "
        f"Run 'paretune report {run}' to show it.",
        highlight=False,
        markup=False,
    )


def register(app: typer.Typer) -> None:
    """Add the ``report`` and ``select`` commands to ``app``."""
    app.command("report")(report_command)
    app.command("select")(select_command)
