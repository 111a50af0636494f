"""Shared fixtures and factories for the test suite."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from paretune.trial import TrialRecord, TrialStatus

# Ray 2.60 binds to the machine's network address unless this is off; the tests stay on loopback.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def make_trial(
    trial_id: int,
    values: Mapping[str, float] | None = None,
    *,
    status: TrialStatus = TrialStatus.COMPLETED,
    config: Mapping[str, Any] | None = None,
    fidelity: int | float | None = None,
    cost: float | None = 1.0,
) -> TrialRecord:
    """Build a finished trial record without running anything."""
    clean = {k: v for k, v in (values or {}).items() if math.isfinite(v)}
    return TrialRecord(
        id=trial_id,
        config=dict(config or {"x": float(trial_id)}),
        fidelity=fidelity,
        status=status,
        values=clean,
        cost=cost,
    )


@pytest.fixture
def study_dir(tmp_path: Path) -> Path:
    return tmp_path / "study"


@pytest.fixture(autouse=True)
def _paretune_logs_propagate() -> Iterator[None]:
    """Let caplog see paretune's records even after the CLI configured its own handler."""
    root = logging.getLogger("paretune")
    saved = root.propagate
    root.propagate = True
    yield
    root.propagate = saved
