"""Fixtures of the executor tests: a real local Ray instance on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

# Ray binds to this machine's network address unless cluster mode is off; off, it uses loopback.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


@pytest.fixture(scope="module")
def ray_local() -> Iterator[Any]:
    """Start a private Ray instance with 2 CPUs for the module's tests, and stop it after."""
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="WARNING")
    try:
        yield ray
    finally:
        ray.shutdown()
