"""The ``paretune`` command run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

SPACE_YAML = """
x: {type: float, low: -10.0, high: 10.0}
"""


def paretune(*arguments: str | Path, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "paretune", *map(str, arguments)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def space_file(tmp_path: Path) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(SPACE_YAML)
    return path


def test_run_status_and_trials(tmp_path: Path, space_file: Path) -> None:
    storage = tmp_path / "run"
    result = paretune(
        "run", "tests.helpers.objectives:quadratic", "--space", space_file,
        "--objective", "loss:min", "--max-trials", "6", "--workers", "2", "--storage", storage,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "trial 6 COMPLETED" in result.stderr or "trial 5 COMPLETED" in result.stderr
    assert "Best trial" in result.stdout
    status = paretune("status", storage)
    assert status.returncode == 0, status.stderr
    assert "COMPLETED 6" in status.stdout
    exported = paretune("trials", storage, "--format", "json")
    rows = json.loads(exported.stdout)
    assert [row["id"] for row in rows] == [1, 2, 3, 4, 5, 6]
    csv_text = paretune("trials", storage, "--format", "csv").stdout
    assert csv_text.splitlines()[0].startswith("id,status,fidelity")


def test_exhausted_space_exits_zero(tmp_path: Path) -> None:
    """Case C8 through the command line: 3 trials, a clear message, exit code 0."""
    space = tmp_path / "space.yaml"
    space.write_text("c: {type: categorical, choices: [a, b, c]}\n")
    storage = tmp_path / "run"
    result = paretune(
        "run", "tests.helpers.objectives:noop", "--space", space, "--objective", "loss",
        "--max-trials", "10", "--storage", storage, "--executor", "inline",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "search space exhausted" in result.stderr
    assert "COMPLETED 3" in paretune("status", storage).stdout


def test_status_says_when_nothing_is_feasible(tmp_path: Path, space_file: Path) -> None:
    storage = tmp_path / "run"
    result = paretune(
        "run", "tests.helpers.objectives:quadratic", "--space", space_file, "--objective", "loss",
        "--constraint", "loss<=-1", "--max-trials", "2", "--storage", storage,
        "--executor", "inline",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "no feasible completed trial" in result.stdout
    assert "every completed trial violates a constraint" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["run", "nomodule:evaluate"], "cannot import module 'nomodule'"),
        (["run", "tests.helpers.objectives:missing"], "has no function 'missing'"),
        (["run", "quadratic"], "invalid function reference 'quadratic'"),
        (["run", "tests.helpers.objectives:quadratic", "--objective", "a b"], "invalid objective"),
        (["run", "tests.helpers.objectives:quadratic", "--max-trials", "0"], "max_trials must be"),
        (["run", "tests.helpers.objectives:quadratic", "--constraint", "x<"], "invalid constraint"),
        (["run", "tests.helpers.objectives:quadratic", "--executor", "gpu"], "unknown executor"),
        (["run", "tests.helpers.objectives:noop", "--optimizer", "magic"], "unknown optimizer"),
    ],
    ids=["module", "function", "reference", "objective", "budget", "constraint", "executor",
         "optimizer"],
)  # fmt: skip
def test_bad_run_arguments_exit_2(
    tmp_path: Path, space_file: Path, arguments: list[str], message: str
) -> None:
    defaults = {"--objective": "loss", "--max-trials": "2"}
    for option, value in defaults.items():
        if option not in arguments:
            arguments = [*arguments, option, value]
    result = paretune(*arguments, "--space", space_file, "--storage", tmp_path / "run")
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "run" / "study.sqlite").exists()


def test_bad_space_file_exits_2(tmp_path: Path) -> None:
    space = tmp_path / "space.yaml"
    space.write_text("x: {type: float, low: 5, high: 1}\n")
    result = paretune(
        "run", "tests.helpers.objectives:quadratic", "--space", space, "--objective", "loss",
        "--max-trials", "2", "--storage", tmp_path / "run",
    )  # fmt: skip
    assert result.returncode == 2
    assert "'x'" in result.stderr


def test_status_of_missing_study_exits_2(tmp_path: Path) -> None:
    result = paretune("status", tmp_path / "nothing")
    assert result.returncode == 2
    assert "no study found at" in result.stderr


def test_trials_rejects_unknown_format(tmp_path: Path) -> None:
    result = paretune("trials", tmp_path, "--format", "xml")
    assert result.returncode == 2
    assert "invalid --format 'xml'" in result.stderr


def test_all_trials_failing_exits_2(tmp_path: Path, space_file: Path) -> None:
    result = paretune(
        "run", "tests.helpers.objectives:quadratic", "--space", space_file, "--objective", "eror",
        "--max-trials", "40", "--storage", tmp_path / "run", "--executor", "inline",
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "10 consecutive trials failed" in result.stderr
    assert "metric 'eror' is missing from the returned keys ['loss']" in result.stderr
