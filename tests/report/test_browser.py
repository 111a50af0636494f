"""Open reports in headless Chromium: no console error, no network request, data in every
figure, and a screenshot in the test's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

import paretune as pt
from paretune.report import report, select

from ._browser import PageReport, find_chromium, network_requests, open_report
from .adult import adult_file, run_adult_study

CHROMIUM = find_chromium()

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no chromium binary on PATH; install it with: apt-get install -y chromium",
    ),
]


def check_page(page: PageReport) -> None:
    assert page.errors == [], f"console errors: {page.errors}"
    assert network_requests(page) == [], "the report must not request any network address"
    assert page.figures, "the report has no figures"
    for figure in page.figures:
        assert figure["rendered"], f"{figure['id']} was not drawn"
        assert figure["traces"] > 0, f"{figure['id']} has no trace"
        assert figure["points"] > 0, f"{figure['id']} has no data"


@pytest.mark.skipif(not adult_file().exists(), reason="the Adult data is not in ../shared/data")
def test_adult_report_in_chromium(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    study = run_adult_study(tmp_path / "adult", max_trials=24)
    best_error = study.best_trial_for("error")
    best_gap = study.best_trial_for("dp_difference")
    assert best_error is not None and best_gap is not None
    select(study, best_gap.id, "smallest parity gap between women and men")
    html = report(study, tmp_path / "report.html")
    screenshot = tmp_path / "report.png"
    page = open_report(CHROMIUM, html, screenshot)
    check_page(page)
    assert screenshot.stat().st_size > 50_000
    ids = {figure["id"] for figure in page.figures}
    assert {
        "figure-pareto",
        "figure-trajectory",
        "figure-curves",
        "figure-importance-0",
        "figure-importance-1",
    } <= ids
    assert "best error" in page.text
    assert f"Trial {best_gap.id} was selected on" in page.text
    if best_error.id != best_gap.id:
        assert f"trial {best_error.id} (best error) and trial {best_gap.id}" in page.text


def test_three_objective_report_in_chromium(three_study: pt.Study, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    html = report(three_study, tmp_path / "report.html")
    page = open_report(CHROMIUM, html, tmp_path / "report.png")
    check_page(page)
    ids = {figure["id"] for figure in page.figures}
    assert {"figure-scatter-matrix", "figure-parallel", "figure-budget-0"} <= ids
