"""Evaluation functions that worker processes can import by module path."""

from __future__ import annotations

import math
import os
import signal
import time
from typing import Any

from paretune.trial import Trial


def quadratic(trial: Trial) -> dict[str, float]:
    x = float(trial.config["x"])
    return {"loss": (x - 1.0) ** 2}


def sleep_one_second(trial: Trial) -> dict[str, float]:
    time.sleep(1.0)
    return {"loss": float(trial.id)}


def sleep_forever(trial: Trial) -> dict[str, float]:
    time.sleep(3600)
    return {"loss": 0.0}


def allocate_memory(trial: Trial) -> dict[str, float]:
    block = bytearray(int(trial.config["mb"]) * 2**20)
    for index in range(0, len(block), 4096):
        block[index] = 1
    time.sleep(2.0)
    return {"loss": float(len(block))}


def kill_own_worker(trial: Trial) -> dict[str, float]:
    os.kill(os.getpid(), signal.SIGKILL)
    return {"loss": 0.0}


SEQUENCE = {1: 0.5, 2: math.nan, 3: 0.4, 4: 0.6, 5: math.inf}


def scripted_values(trial: Trial) -> dict[str, Any]:
    return {"loss": SEQUENCE[trial.id]}


def raise_value_error(trial: Trial) -> dict[str, float]:
    raise ValueError(f"diverged at lr={trial.config.get('x')}")


def two_objectives(trial: Trial) -> dict[str, float]:
    x = float(trial.config["x"])
    return {"f1": x**2, "f2": (x - 2.0) ** 2}


def noop(trial: Trial) -> dict[str, float]:
    return {"loss": 0.0}
