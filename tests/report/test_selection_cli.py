"""Recording a selection, and the ``report`` and ``select`` commands."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import paretune as pt
from paretune._cli_report import register
from paretune.report import select

from .conftest import run_study


@pytest.fixture
def constrained_study(tmp_path: Path) -> pt.Study:
    def evaluate(trial: pt.Trial) -> dict[str, float]:
        if trial.config["x"] > 0.9:
            raise ValueError("diverged")
        return {"loss": trial.config["x"], "size": 1 - trial.config["x"]}

    return run_study(
        tmp_path / "study",
        evaluate,
        {"x": pt.Float(0.0, 1.0)},
        ["loss", "size"],
        constraints=["size<=0.8"],
        max_trials=16,
    )


def trial_where(study: pt.Study, condition: str) -> int:
    for trial in study.trials:
        failed = trial.status is pt.TrialStatus.FAILED
        infeasible = not failed and trial.values["size"] > 0.8
        if {"failed": failed, "infeasible": infeasible}[condition]:
            return trial.id
    raise LookupError(f"the fixture has no {condition} trial")


@pytest.mark.parametrize(
    ("condition", "why", "message"),
    [
        ("missing", "because", "trial 999 not found"),
        ("failed", "because", "is FAILED, not COMPLETED"),
        ("infeasible", "because", "is infeasible: it violates size<=0.8"),
        ("feasible", "   ", "the rationale is empty"),
    ],
    ids=["missing", "failed", "infeasible", "empty-why"],
)
def test_select_rejects(
    constrained_study: pt.Study, condition: str, why: str, message: str
) -> None:
    if condition == "missing":
        trial_id = 999
    elif condition == "feasible":
        trial_id = constrained_study.pareto_front()[0].id
    else:
        trial_id = trial_where(constrained_study, condition)
    with pytest.raises(pt.ParetuneError, match=message):
        select(constrained_study, trial_id, why)
    assert constrained_study.events("selection") == []


def test_select_records_event(constrained_study: pt.Study) -> None:
    trial = constrained_study.pareto_front()[0]
    stored = select(constrained_study.path, trial.id, "  smallest loss  ")
    events = constrained_study.events("selection")
    assert len(events) == 1
    assert events[0]["trial_id"] == trial.id
    assert events[0]["why"] == "smallest loss"
    assert events[0]["selected_at"] == stored["selected_at"]


def test_select_dominated_trial_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    def evaluate(trial: pt.Trial) -> dict[str, float]:
        x, y = trial.config["x"], trial.config["y"]
        return {"loss": x, "size": 1 - x + y}

    space = {"x": pt.Float(0.0, 1.0), "y": pt.Float(0.0, 1.0)}
    study = run_study(tmp_path / "study", evaluate, space, ["loss", "size"], max_trials=12)
    front = {t.id for t in study.pareto_front()}
    dominated = next(t.id for t in study.trials if t.id not in front)
    select(study, dominated, "kept for its simplicity")
    assert f"trial {dominated} is not Pareto-optimal" in caplog.text
    assert study.events("selection")[-1]["trial_id"] == dominated


def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_report_command_writes_file(constrained_study: pt.Study, tmp_path: Path) -> None:
    out = tmp_path / "out" / "audit.html"
    result = CliRunner().invoke(cli(), ["report", str(constrained_study.path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists()
    assert (tmp_path / "out" / "audit.trials.csv").exists()
    assert "Wrote the report to" in result.stdout


def test_report_command_missing_study(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli(), ["report", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert "error:" in result.stderr


def test_select_command(constrained_study: pt.Study) -> None:
    trial = constrained_study.pareto_front()[0]
    arguments = [
        "select",
        str(constrained_study.path),
        "--trial",
        str(trial.id),
        "--why",
        "lowest loss within the size limit",
    ]
    result = CliRunner().invoke(cli(), arguments)
    assert result.exit_code == 0, result.output
    assert f"Recorded trial {trial.id}" in result.stdout


def test_select_command_rejects_failed(constrained_study: pt.Study) -> None:
    trial_id = trial_where(constrained_study, "failed")
    arguments = ["select", str(constrained_study.path), "--trial", str(trial_id), "--why", "x"]
    result = CliRunner().invoke(cli(), arguments)
    assert result.exit_code == 2
    assert "not COMPLETED" in result.stderr
