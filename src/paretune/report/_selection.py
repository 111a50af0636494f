"""Record the expert's choice among the trade-offs: a "selection" event in the study."""

from __future__ import annotations

import getpass
import logging
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from paretune._errors import ParetuneError
from paretune.objectives import is_feasible, is_valid_result
from paretune.report._data import SELECTION_EVENT
from paretune.study import Study, load_study
from paretune.trial import TrialStatus

logger = logging.getLogger(__name__)


def select(study: Study | str | Path, trial_id: int, why: str) -> dict[str, Any]:
    """Record that ``trial_id`` is the chosen trade-off, with the reason, in the study.

    The choice is stored as an event, so earlier choices stay in the study's history and the
    report shows the latest one with the alternatives.

    Args:
        study: The study or its folder.
        trial_id: The chosen trial; it must be COMPLETED, with finite objectives, and feasible.
        why: The rationale, in the expert's words; it must not be empty.

    Returns:
        The stored selection: trial id, rationale, UTC timestamp, user, values and config.

    Raises:
        ParetuneError: The trial does not exist, did not complete, is infeasible, or ``why`` is
            empty.

    Example:
        >>> from paretune.report import select
        >>> select("runs/adult", 12, "lowest error among models with a parity gap under 0.05")
        ... # doctest: +SKIP
    """
    opened = study if isinstance(study, Study) else load_study(study)
    reason = why.strip() if isinstance(why, str) else ""
    if not reason:
        raise ParetuneError(
            'the rationale is empty: say why this trade-off was chosen, for example --why "lowest '
            'error with a parity gap under 0.05"'
        )
    trial = opened.trial(int(trial_id))
    if trial.status is not TrialStatus.COMPLETED:
        raise ParetuneError(
            f"trial {trial.id} is {trial.status.value}, not COMPLETED; select a completed trial, "
            "for example one on the Pareto front ('paretune status RUN' lists them)"
        )
    if not is_valid_result(trial, opened.objectives):
        missing = [o.name for o in opened.objectives if not math.isfinite(trial.value(o.name))]
        raise ParetuneError(f"trial {trial.id} has no finite value for {', '.join(missing)}")
    if not is_feasible(trial, opened.constraints):
        bounds = ", ".join(str(c) for c in opened.constraints)
        raise ParetuneError(
            f"trial {trial.id} is infeasible: it violates {bounds}; select a feasible trial"
        )
    front = opened.pareto_front()
    if trial.id not in {t.id for t in front}:
        logger.warning(
            "trial %d is not Pareto-optimal: another feasible trial is at least as good in every "
            "objective; recording the selection anyway",
            trial.id,
        )
    payload = {
        "trial_id": trial.id,
        "why": reason,
        "selected_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "user": _user(),
        "values": trial.values,
        "config": trial.config,
    }
    opened.storage.add_event(SELECTION_EVENT, payload)
    logger.info("recorded the selection of trial %d in %s", trial.id, opened.path)
    return payload


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # No login name in containers without a passwd entry; the selection is still recorded.
        return None
