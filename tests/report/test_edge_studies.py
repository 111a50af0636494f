"""Reports of edge studies build and say what they cannot show."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import paretune as pt
from paretune.report import report

from .conftest import run_study


def render(study: pt.Study, folder: Path) -> str:
    return report(study, folder / "report.html").read_text(encoding="utf-8")


def section(page: str, anchor: str) -> str:
    return page.split(f'<section id="{anchor}">', 1)[1].split("</section>", 1)[0]


def test_one_trial(tmp_path: Path) -> None:
    study = run_study(
        tmp_path / "s",
        lambda t: {"loss": t.config["x"]},
        {"x": pt.Float(0.0, 1.0)},
        ["loss"],
        max_trials=1,
    )
    page = render(study, tmp_path)
    assert "Best trial: 1, with loss" in page
    assert (
        "importance needs at least 6 completed trials with a finite loss; the study has 1" in page
    )
    assert "No trial reported a learning curve" in page


def test_all_trials_failed(tmp_path: Path) -> None:
    def evaluate(trial: pt.Trial) -> dict[str, float]:
        raise MemoryError("CUDA out of memory")

    study = run_study(
        tmp_path / "s",
        evaluate,
        {"x": pt.Float(0.0, 1.0)},
        ["loss"],
        max_trials=4,
        max_consecutive_failures=None,
    )
    page = render(study, tmp_path)
    assert "4 trial(s) did not complete, with 1 distinct error(s)" in page
    assert "4 x FAILED MemoryError: CUDA out of memory" in page
    assert "No feasible completed trial: no trial completed" in page
    assert "No completed trial has a finite value for every objective" in section(page, "pareto")
    assert "No model cards" in section(page, "cards")


def test_non_finite_values_never_best(tmp_path: Path) -> None:
    """Case C1: NaN and inf trials fail and stay off the best trial and the trajectory."""
    values = iter([0.5, math.nan, 0.4, 0.6, math.inf])

    def evaluate(trial: pt.Trial) -> dict[str, float]:
        return {"loss": next(values)}

    study = run_study(tmp_path / "s", evaluate, {"x": pt.Float(0.0, 1.0)}, ["loss"], max_trials=5)
    page = render(study, tmp_path)
    assert "Best trial: 3, with loss = 0.4" in page
    assert "2 trial(s) did not complete" in page


def test_no_feasible_trial(tmp_path: Path) -> None:
    """Case C21: every view says explicitly that no trial is feasible."""
    study = run_study(
        tmp_path / "s",
        lambda t: {"loss": t.config["x"]},
        {"x": pt.Float(-10.0, 4.0)},
        ["loss"],
        constraints=["loss>=5"],
        max_trials=6,
    )
    page = render(study, tmp_path)
    for anchor in ("summary", "pareto", "trajectory"):
        assert "No feasible completed trial: every completed trial violates a constraint" in (
            section(page, anchor)
        )
    assert "No model cards: there is no feasible completed trial" in page


def test_constraint_picks_feasible_best(tmp_path: Path) -> None:
    """Case C21: minimize x subject to x >= 5, with trials at -10 and 5."""
    study = run_study(
        tmp_path / "s",
        lambda t: {"x": t.config["x"]},
        {"x": pt.Categorical([-10, 5])},
        ["x"],
        constraints=["x>=5"],
        max_trials=2,
    )
    page = render(study, tmp_path)
    best = study.best_trial
    assert best is not None and best.config["x"] == 5
    assert f"Best trial: {best.id}, with x = 5" in page


def _constant_space() -> dict[str, Any]:
    return {"x": pt.Float(0.0, 1.0), "batch": pt.Constant(32), "y": pt.Float(0.0, 1.0)}


def _mixed_space() -> dict[str, Any]:
    return {"x": pt.Float(0.0, 1.0), "mode": pt.Categorical([None, "fast", 3, 2.5, True])}


CASES: dict[str, tuple[Callable[[], dict[str, Any]], Callable[[pt.Trial], dict[str, float]]]] = {
    "constant": (_constant_space, lambda t: {"loss": t.config["x"] + t.config["y"]}),
    "mixed-categorical": (
        _mixed_space,
        lambda t: {"loss": t.config["x"] + (0.5 if t.config["mode"] is None else 0.0)},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_parameter_types(tmp_path: Path, case: str) -> None:
    make_space, evaluate = CASES[case]
    study = run_study(tmp_path / "s", evaluate, make_space(), ["loss"], max_trials=16)
    page = render(study, tmp_path)
    assert "figure-importance-0" in page
    if case == "constant":
        assert "Constant, not analysed: batch." in page
    else:
        assert "&#x27;fast&#x27;" in page
        assert ">None<" in page


def test_numeric_categorical_in_numeric_order(tmp_path: Path) -> None:
    space = {"width": pt.Categorical([256, 16, 64, 32]), "x": pt.Float(0.0, 0.01)}
    study = run_study(
        tmp_path / "s", lambda t: {"loss": 1.0 / t.config["width"]}, space, ["loss"], max_trials=16
    )
    page = render(study, tmp_path)
    dependence = page.split('id="figure-dependence-0"', 1)[1].split("</script>", 1)[0]
    labels = re.search(r'"x":\["16","32","64","256"\]', dependence)
    assert labels is not None, "partial dependence must list widths in numeric order"


def test_one_objective_has_no_pareto_views(single_study: pt.Study, tmp_path: Path) -> None:
    page = render(single_study, tmp_path)
    assert "2. Best trial" in page
    assert "figure-scatter-matrix" not in page


def test_four_objectives(tmp_path: Path) -> None:
    def evaluate(trial: pt.Trial) -> dict[str, float]:
        x, y = trial.config["x"], trial.config["y"]
        return {"a": x, "b": 1 - x, "c": y, "d": 1 - y + x * y}

    space = {"x": pt.Float(0.0, 1.0), "y": pt.Float(0.0, 1.0)}
    study = run_study(tmp_path / "s", evaluate, space, ["a", "b", "c", "d:max"], max_trials=14)
    page = render(study, tmp_path)
    assert "figure-scatter-matrix" in page
    assert "figure-parallel" in page
    assert "d (maximize)" in page
    for anchor in ("0", "1", "2", "3"):
        assert f"figure-importance-{anchor}" in page


def test_space_exhausted_shows_trials(tmp_path: Path) -> None:
    """Case C8: a categorical with 3 values and a budget of 10 gives 3 trials in the report."""
    study = run_study(
        tmp_path / "s",
        lambda t: {"loss": float(len(t.config["c"]))},
        {"c": pt.Categorical(["a", "bb", "ccc"])},
        ["loss"],
        max_trials=10,
        optimizer="random",
    )
    page = render(study, tmp_path)
    assert len(study.trials) == 3
    assert '<span id="trial-count">3 shown</span>' in page
