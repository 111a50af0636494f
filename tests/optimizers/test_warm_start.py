"""Warm start: importing finished trials from CSV, in the library and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import paretune as pt
from paretune._cli_optimizers import register
from paretune.trial import TrialStatus
from paretune.warm_start import import_trials


def _study(path: Path) -> pt.Study:
    space = {"x": pt.Float(0, 1), "k": pt.Integer(1, 3), "act": pt.Categorical(["relu", "gelu"])}
    return pt.create_study(space, objectives=["loss"], storage=path)


def test_import_writes_completed_trials(tmp_path: Path) -> None:
    study = _study(tmp_path / "s")
    csv_file = tmp_path / "past.csv"
    csv_file.write_text("params.x,k,act,values.loss\n0.25,2,gelu,0.5\n0.75,1,relu,0.1\n")
    ids = import_trials(study, csv_file)
    trials = study.trials
    assert ids == [1, 2]
    assert all(t.status is TrialStatus.COMPLETED for t in trials)
    assert all(t.system_attrs == {"imported": True} for t in trials)
    assert trials[1].config == {"x": 0.75, "k": 1, "act": "relu"}
    assert type(trials[1].config["k"]) is int
    assert study.best_trial is not None
    assert study.best_trial.id == 2


def test_imported_configs_never_repeat(tmp_path: Path) -> None:
    space = {"k": pt.Integer(1, 3)}
    study = pt.create_study(space, objectives=["loss"], storage=tmp_path / "s")
    csv_file = tmp_path / "past.csv"
    csv_file.write_text("k,loss\n1,3.0\n2,2.0\n")
    import_trials(study, csv_file)
    study = pt.run(lambda t: {"loss": float(t.config["k"])}, space, objectives=["loss"],
                   storage=tmp_path / "s", max_trials=10, optimizer="tpe",
                   executor="inline")  # fmt: skip
    assert sorted(t.config["k"] for t in study.trials) == [1, 2, 3]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("x,k,act\n0.5,1,relu\n", "missing value of objective 'loss'"),
        ("x,k,act,loss\n0.5,1,tanh,1\n", "not a choice"),
        ("x,k,act,loss\n0.5,1,relu,nan\n", "not finite"),
        ("x,k,act,loss\n7,1,relu,1\n", "outside"),
    ],
    ids=["missing-objective", "unknown-choice", "nan-objective", "out-of-bounds"],
)
def test_invalid_rows_import_nothing(tmp_path: Path, content: str, message: str) -> None:
    study = _study(tmp_path / "s")
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text(content)
    with pytest.raises(pt.ParetuneError, match=message):
        import_trials(study, csv_file)
    assert study.trials == []


def _cli() -> typer.Typer:
    """An app with only this command; the group callback keeps the command name required."""
    app = typer.Typer()

    @app.callback()
    def group() -> None:
        """paretune"""

    register(app)
    return app


def test_cli_import_and_error_exit_code(tmp_path: Path) -> None:
    app = _cli()
    _study(tmp_path / "s")
    good = tmp_path / "good.csv"
    good.write_text("x,k,act,loss\n0.5,1,relu,1\n")
    result = CliRunner().invoke(app, ["import-trials", str(tmp_path / "s"), str(good)])
    assert result.exit_code == 0, result.output
    assert "imported 1 trial(s)" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("x,k,act\n0.5,1,relu\n")
    failed = CliRunner().invoke(app, ["import-trials", str(tmp_path / "s"), str(bad)])
    assert failed.exit_code == 2
