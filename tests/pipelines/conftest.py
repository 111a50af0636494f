"""Shared helpers of the pipeline tests: data paths, small frames and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import paretune

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"
ADULT_COLUMNS = (
    "age,workclass,fnlwgt,education,education-num,marital-status,occupation,relationship,race,"
    "sex,capital-gain,capital-loss,hours-per-week,native-country,income"
)


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def require_data(name: str) -> Path:
    """Return the shared dataset folder ``name`` or skip the test when it is absent."""
    path = DATA_DIR / name
    if not path.exists():
        pytest.skip(f"shared dataset {name!r} not found at {path}")
    return path


def make_frame(rows: int = 60, seed: int = 0) -> pd.DataFrame:
    """Build a small mixed-type classification table with a learnable target."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    return pd.DataFrame(
        {
            "x": x,
            "z": rng.normal(size=rows),
            "city": rng.choice(["paris", "rome", "oslo"], size=rows),
            "group": rng.choice(["a", "b"], size=rows),
            "label": np.where(x > 0, "yes", "no"),
        }
    )


def run_cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python -m paretune ARGS`` in a fresh process."""
    source = str(Path(paretune.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": source, "PYTHONWARNINGS": "default"}
    return subprocess.run(
        [sys.executable, "-m", "paretune", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
