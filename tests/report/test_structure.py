"""Structure of the reports of a single-objective, a two-objective fairness and a
three-objective study."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs

import paretune as pt
from paretune.report import report, select

SECTIONS = (
    "summary",
    "pareto",
    "trajectory",
    "curves",
    "importance",
    "cards",
    "selection",
    "manifest",
    "trials",
)


def render(study: pt.Study, folder: Path) -> str:
    path = report(study, folder / "report.html")
    return path.read_text(encoding="utf-8")


def figure_ids(page: str) -> set[str]:
    return set(re.findall(r'<div id="(figure-[a-z0-9-]+)" class="plotly-graph-div"', page))


def assert_self_contained(page: str) -> None:
    assert page.count(get_plotlyjs()[:400]) == 1, "plotly.js must be inlined exactly once"
    # plotly.js holds URLs as strings that it never requests offline; check the rest of the page.
    page = page.replace(get_plotlyjs(), "")
    assert not re.search(r'<(script|img|link|iframe)[^>]+(src|href)="', page)
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "Content-Security-Policy" in page


def test_single_objective_sections(single_study: pt.Study, tmp_path: Path) -> None:
    page = render(single_study, tmp_path)
    assert_self_contained(page)
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in page
    figures = figure_ids(page)
    assert {
        "figure-best",
        "figure-trajectory",
        "figure-curves",
        "figure-importance-0",
        "figure-dependence-0",
    } <= figures
    assert "figure-pareto" not in figures
    best = single_study.best_trial
    assert best is not None
    assert f"Best trial: {best.id}, with loss" in page


def test_single_objective_failures_grouped(single_study: pt.Study, tmp_path: Path) -> None:
    failed = [t for t in single_study.trials if t.status is pt.TrialStatus.FAILED]
    assert failed, "the fixture needs failed trials"
    page = render(single_study, tmp_path)
    assert f"{len(failed)} trial(s) did not complete, with" in page
    assert "is out of the stable range" in page
    assert "Traceback (most recent call last)" in page


def test_single_objective_reference_line(single_study: pt.Study, tmp_path: Path) -> None:
    page = render(single_study, tmp_path)
    assert "The dashed line is the default configuration (trial 1)" in page


def test_fairness_study_sections(fairness_study: pt.Study, tmp_path: Path) -> None:
    page = render(fairness_study, tmp_path)
    assert_self_contained(page)
    assert "figure-pareto" in figure_ids(page)
    assert "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d" in page
    assert "Per-group metrics (validation)" in page
    assert "Per-group metrics (test)" in page
    assert "selection_rate" in page
    assert "latency_ms&lt;=0.45" in page


def test_fairness_best_per_objective(fairness_study: pt.Study, tmp_path: Path) -> None:
    page = render(fairness_study, tmp_path)
    best_error = fairness_study.best_trial_for("error")
    best_gap = fairness_study.best_trial_for("dp_difference")
    assert best_error is not None and best_gap is not None
    assert best_error.id != best_gap.id
    assert (
        f"What differs most between trial {best_error.id} (best error) and trial "
        f"{best_gap.id} (best dp_difference)"
    ) in page
    card = page.split(f'id="card-{best_gap.id}"', 1)[1][:300]
    assert "best dp_difference" in card


def test_fairness_model_cards(fairness_study: pt.Study, tmp_path: Path) -> None:
    page = render(fairness_study, tmp_path)
    front = fairness_study.pareto_front()
    assert len(front) >= 2
    for trial in front:
        assert f'id="card-{trial.id}"' in page
    infeasible = [t for t in fairness_study.trials if t.values.get("latency_ms", 0) > 0.45]
    for trial in infeasible:
        assert f'id="card-{trial.id}"' not in page


def test_three_objective_sections(three_study: pt.Study, tmp_path: Path) -> None:
    page = render(three_study, tmp_path)
    assert_self_contained(page)
    figures = figure_ids(page)
    assert {
        "figure-scatter-matrix",
        "figure-parallel",
        "figure-trajectory",
        "figure-curves",
        "figure-budget-0",
    } <= figures
    assert "hypervolume of the feasible front" in page
    assert "promoted trial(s) start from their parent" in page


def test_exports_beside_report(three_study: pt.Study, tmp_path: Path) -> None:
    report(three_study, tmp_path / "audit.html")
    with (tmp_path / "audit.trials.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    records = json.loads((tmp_path / "audit.trials.json").read_text())
    assert len(rows) == len(three_study.trials)
    assert len(records) == len(three_study.trials)
    assert {"id", "status", "feasible", "pareto_optimal", "values.error"} <= set(rows[0])
    assert records[-1]["learning_curve"]
    assert records[-1]["parent_id"] is not None


def test_default_path_in_study_folder(single_study: pt.Study) -> None:
    path = report(single_study.path)
    assert path == single_study.path / "report.html"
    assert path.exists()


def test_package_is_callable(single_study: pt.Study, tmp_path: Path) -> None:
    first = pt.report(single_study, tmp_path / "a.html")
    second = pt.report(single_study, tmp_path / "b.html")
    assert first.exists()
    assert second.exists()


def test_selection_shown_with_alternatives(fairness_study: pt.Study, tmp_path: Path) -> None:
    trial = fairness_study.pareto_front()[0]
    select(fairness_study, trial.id, "lowest error; the parity gap is <b>acceptable</b>")
    page = render(fairness_study, tmp_path)
    selection = page.split('<section id="selection">', 1)[1].split("</section>", 1)[0]
    assert f"Trial {trial.id} was selected on" in selection
    assert "the parity gap is &lt;b&gt;acceptable&lt;/b&gt;" in selection
    assert f"trial {trial.id} (selected)" in selection
    assert "vs selected" in selection


@pytest.mark.parametrize(
    "value",
    ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>'],
    ids=["script-tag", "attribute-break"],
)
def test_user_strings_escaped(tmp_path: Path, value: str) -> None:
    from .conftest import run_study

    def evaluate(trial: pt.Trial) -> dict[str, float]:
        if trial.config["x"] > 0.8:
            raise RuntimeError(f"bad value {value}")
        return {"loss": trial.config["x"] + (trial.config["name"] == value)}

    space = {"x": pt.Float(0.0, 1.0), "name": pt.Categorical([value, "plain"])}
    study = run_study(
        tmp_path / "study",
        evaluate,
        space,
        ["loss"],
        max_trials=12,
        metadata={"dataset": {"source": value, "rows": 3}},
    )
    page = render(study, tmp_path)
    assert value not in page
    assert "alert(1)" in page
    assert "&lt;" in page
