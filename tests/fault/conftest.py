"""Fixtures of the fault-tolerance tests: a Ray head node on loopback for driver processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Ray binds to this machine's network address unless cluster mode is off; off, it uses loopback.
# Set before Ray is imported here or in any driver process started by these tests.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
# Ray 2.5x enables token authentication only for clusters it finds itself. A driver that joins by
# an explicit address needs this setting to send the token of ``ray start``. It goes only into the
# environment of the processes started here: set in this process, it would make the in-process
# Ray instances of other test modules expect a token that their clients do not send.
RAY_SUBPROCESS_ENV = {**os.environ, "RAY_AUTH_MODE": "token"}

RAY_START_TIMEOUT_S = 60.0


@pytest.fixture(scope="session")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start ``ray start --head`` on loopback with 2 CPUs; yield its address, stop it after."""
    pytest.importorskip("ray")
    temp_dir = Path(tempfile_dir(tmp_path_factory))
    command = [
        str(Path(sys.executable).with_name("ray")), "start", "--head", "--block", "--port=0",
        "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats",
        f"--temp-dir={temp_dir}",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=RAY_SUBPROCESS_ENV
    )
    address_file = temp_dir / "ray_current_cluster"
    deadline = time.monotonic() + RAY_START_TIMEOUT_S
    while not address_file.exists() or not address_file.read_text().strip():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"'ray start --head' did not start (exit code {process.poll()})")
        time.sleep(0.2)
    address = address_file.read_text().strip()
    assert address.startswith("127.0.0.1:"), f"the Ray head is not on loopback: {address}"
    try:
        yield address
    finally:
        # SIGTERM makes 'ray start --block' stop the processes it started, and only those.
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def tempfile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Ray puts sockets in its temp folder; their paths must stay under 107 bytes.
    import tempfile

    return Path(tempfile.mkdtemp(prefix="pt-ray-"))
