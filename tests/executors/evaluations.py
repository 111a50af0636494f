"""Evaluation functions for executor tests; a module of their own so workers can import them."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import paretune as pt

STATE_FILE = "state.json"


def quadratic(trial: pt.Trial) -> dict[str, float]:
    x = float(trial.config["x"])
    trial.report(1, {"loss": (x - 0.5) ** 2 + 1.0})
    return {"loss": (x - 0.5) ** 2}


def raise_or_nan(trial: pt.Trial) -> dict[str, float]:
    """Raise for x < 0.3, return NaN for x > 0.7, else a finite loss."""
    x = float(trial.config["x"])
    if x < 0.3:
        raise ValueError(f"x={x:.2f} is too small")
    if x > 0.7:
        return {"loss": math.nan}
    return {"loss": x}


def sleep_by_config(trial: pt.Trial) -> dict[str, float]:
    """Sleep ``config["seconds"]``; the time-limit tests give some trials long sleeps."""
    time.sleep(float(trial.config["seconds"]))
    return {"loss": float(trial.config["seconds"])}


def torch_checkpoints(trial: pt.Trial) -> dict[str, float]:
    """Continue from the parent's ``save_checkpoint`` file and write one of its own."""
    state = trial.load_parent_checkpoint() or {"epochs": 0, "weights": []}
    epochs = int(trial.fidelity or 1)
    weights = list(state["weights"]) + [trial.id] * (epochs - int(state["epochs"]))
    (trial.dir / "notes" / "log.txt").parent.mkdir(exist_ok=True)
    (trial.dir / "notes" / "log.txt").write_text(f"trial {trial.id} trained {epochs} epochs\n")
    trial.save_checkpoint({"epochs": epochs, "weights": weights})
    trial.user_attrs["weights"] = weights
    return {"loss": 1.0 / epochs}


def slow_steps(trial: pt.Trial) -> dict[str, Any]:
    """Six steps of 0.4 s with a JSON checkpoint after each; resumes from its own checkpoint.

    A file named after the worker's pid in ``PARETUNE_TEST_MARKERS`` (read from
    ``trial.config["markers"]``) tells a test which process to kill.
    """
    marker = Path(trial.config["markers"]) / str(os.getpid())
    marker.write_text(str(trial.id))
    own = trial.dir / STATE_FILE
    start = json.loads(own.read_text())["step"] if own.exists() else 0
    trial.user_attrs["resumed_from_step"] = start
    for step in range(start, 6):
        time.sleep(0.4)
        partial = trial.dir / (STATE_FILE + ".partial")
        partial.write_text(json.dumps({"step": step + 1}))
        os.replace(partial, own)
        trial.report(step + 1, {"loss": 1.0 / (step + 1)})
    marker.unlink(missing_ok=True)
    return {"loss": 1.0 / 6}


def bulky(trial: pt.Trial) -> dict[str, float]:
    """Store 64 KB of user attributes per trial, so the study file grows quickly."""
    trial.user_attrs["blob"] = "x" * 65536
    return {"loss": float(trial.config["x"])}
