"""A study driver that the fault-tolerance tests start, kill with signals and start again.

Usage: ``python driver.py SETTINGS.json``. The settings name the storage folder, the executor and
the budget. Each trial trains ``fidelity`` steps, saves a JSON checkpoint after every step and
continues from its own checkpoint (a retry or a re-run) or from its parent's (a promotion). While a
trial runs, its worker process has a file named after its pid in ``marker_dir``, so a test can
pick a worker to kill. Configurations with ``x`` above 0.95 raise and those in (0.90, 0.92) return
NaN, so every study also has FAILED trials.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import paretune as pt
from paretune.optimizers import Optimizer, Suggestion, register_optimizer
from paretune.trial import TrialRecord, TrialStatus

STATE_FILE = "state.json"
LOW_FIDELITY = 2
HIGH_FIDELITY = 4


class PromotingSearch(Optimizer):
    """Random configurations at the low fidelity; every third trial promotes the best one.

    A promotion continues the best completed low-fidelity trial not promoted yet, from its
    checkpoint, at the high fidelity. Like every optimizer, it is a function of the history.
    """

    name = "test-promoting"

    def ask(self, history: Sequence[TrialRecord], trial_id: int) -> Suggestion | None:
        if trial_id % 3 == 0:
            promoted = {t.parent_id for t in history if t.parent_id is not None}
            candidates = [
                t
                for t in history
                if t.status is TrialStatus.COMPLETED
                and t.fidelity == LOW_FIDELITY
                and t.id not in promoted
            ]
            if candidates:
                best = min(candidates, key=lambda t: (t.values["loss"], t.id))
                return Suggestion(best.config, HIGH_FIDELITY, parent_id=best.id)
        config = self.problem.space.sample(self.rng(trial_id))
        return Suggestion(config, LOW_FIDELITY)


register_optimizer(PromotingSearch)


def evaluate(trial: pt.Trial, *, marker_dir: str, step_seconds: float) -> dict[str, float]:
    """Train ``trial.fidelity`` steps of a toy two-objective problem, checkpointing each step."""
    marker = Path(marker_dir) / str(os.getpid())
    marker.write_text(str(trial.id))
    try:
        state = _load_state(trial)
        x = float(trial.config["x"])
        for step in range(int(state["step"]), int(trial.fidelity or 1)):
            time.sleep(step_seconds)
            state = {"step": step + 1, "progress": state["progress"] + x / (step + 1)}
            _save_state(trial, state)
            trial.report(step + 1, {"loss": state["progress"]})
    finally:
        marker.unlink(missing_ok=True)
    if x > 0.95:
        raise ValueError(f"x={x:.3f} is above 0.95")
    if 0.90 < x < 0.92:
        return {"loss": math.nan, "size": 1.0 - x}
    return {"loss": state["progress"], "size": (1.0 - x) / state["step"]}


def _load_state(trial: pt.Trial) -> dict[str, Any]:
    own = trial.dir / STATE_FILE
    if own.exists():
        state = json.loads(own.read_text())
        trial.user_attrs["resumed_from_step"] = state["step"]
        if trial.parent_dir is not None:
            trial.continued = True
        return dict(state)
    if trial.parent_dir is not None and (trial.parent_dir / STATE_FILE).exists():
        trial.continued = True
        state = json.loads((trial.parent_dir / STATE_FILE).read_text())
        trial.user_attrs["parent_step"] = state["step"]
        return dict(state)
    return {"step": 0, "progress": 0.0}


def _save_state(trial: pt.Trial, state: dict[str, Any]) -> None:
    partial = trial.dir / (STATE_FILE + ".partial")
    partial.write_text(json.dumps(state))
    os.replace(partial, trial.dir / STATE_FILE)


def main(settings_path: str) -> None:
    settings = json.loads(Path(settings_path).read_text())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    step_seconds = float(settings.get("step_seconds", 0.01))
    pt.run(
        functools.partial(evaluate, marker_dir=settings["marker_dir"], step_seconds=step_seconds),
        {"x": pt.Float(0.0, 1.0), "steps": pt.Fidelity(LOW_FIDELITY, HIGH_FIDELITY)},
        objectives=["loss", "size"],
        storage=settings["storage"],
        max_trials=settings["max_trials"],
        n_workers=settings.get("n_workers", 2),
        executor=settings.get("executor", "process"),
        executor_options=settings.get("executor_options"),
        optimizer=settings.get("optimizer", "test-promoting"),
        seed=settings.get("seed", 0),
        max_retries=settings.get("max_retries", 1),
        max_consecutive_failures=None,
        trial_time_limit=settings.get("trial_time_limit"),
        show_progress=False,
    )


if __name__ == "__main__":
    main(sys.argv[1])
