"""A driver script for tests that run, kill and resume a study in a real subprocess.

Usage: python -m tests.helpers.driver STORAGE MAX_TRIALS WORKERS; each trial sleeps for the
seconds in the environment variable TEST_TRIAL_SLEEP (default 0.2).
"""

from __future__ import annotations

import logging
import os
import sys
import time

import paretune as pt
from paretune.trial import Trial

SPACE = {"x": pt.Float(0.0, 1.0), "n": pt.Integer(1, 1000)}


def sleepy(trial: Trial) -> dict[str, float]:
    time.sleep(float(os.environ.get("TEST_TRIAL_SLEEP", "0.2")))
    return {"loss": float(trial.config["x"])}


def main() -> None:
    storage, max_trials, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    pt.run(
        sleepy,
        SPACE,
        objectives=["loss"],
        storage=storage,
        max_trials=max_trials,
        n_workers=workers,
        executor="process" if workers > 1 else "inline",
        seed=0,
    )


if __name__ == "__main__":
    main()
