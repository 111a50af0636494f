"""The run loop, budgets, failures and resume, through ``paretune.run`` with real storage."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest

import paretune as pt
from paretune.trial import TrialStatus
from tests.helpers import objectives as helpers

X_SPACE = {"x": pt.Float(-10.0, 10.0)}


def run_inline(evaluate, space, study_dir: Path, **options):  # type: ignore[no-untyped-def]
    options.setdefault("objectives", ["loss"])
    return pt.run(evaluate, space, storage=study_dir, executor="inline", **options)


def test_nonfinite_values_fail_and_never_win(study_dir: Path) -> None:
    """Case C1: NaN and inf are FAILED with a message; best is the finite minimum."""
    study = run_inline(helpers.scripted_values, X_SPACE, study_dir, max_trials=5)
    by_id = {t.id: t for t in study.trials}
    assert study.best_trial is not None
    assert study.best_trial.id == 3
    assert study.best_trial.values["loss"] == 0.4
    for trial_id in (2, 5):
        assert by_id[trial_id].status is TrialStatus.FAILED
        assert "not a finite number" in (by_id[trial_id].error_message or "")
        assert by_id[trial_id].values == {}
    assert {t.id for t in study.pareto_front()} == {3}


def test_raised_exception_is_recorded(study_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="paretune"):
        study = run_inline(
            helpers.raise_value_error, X_SPACE, study_dir, max_trials=20, max_consecutive_failures=3
        )
    trials = study.trials
    assert len(trials) == 3
    assert all(t.status is TrialStatus.FAILED for t in trials)
    assert trials[0].error_type == "ValueError"
    assert "diverged at lr=" in (trials[0].error_message or "")
    assert "Traceback" in (trials[0].traceback or "")
    assert study.best_trial is None
    assert "3 x FAILED ValueError: diverged at lr=" not in caplog.text  # messages differ per x
    assert "3 trial(s) did not complete" in caplog.text


def test_failures_grouped_by_distinct_error(
    study_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def fail_same(trial: pt.Trial) -> dict[str, float]:
        raise RuntimeError("CUDA out of memory")

    with caplog.at_level(logging.WARNING, logger="paretune"):
        run_inline(fail_same, X_SPACE, study_dir, max_trials=4, max_consecutive_failures=None)
    assert "4 x FAILED RuntimeError: CUDA out of memory (first: trial 1)" in caplog.text


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ({"other": 1.0}, "metric 'loss' is missing"),
        ({"loss": None}, "metric 'loss' is None, which is not a finite number"),
        ({"loss": "abc"}, "which is not a finite number"),
        ([0.1], "the evaluation returned list"),
    ],
    ids=["missing", "none", "string", "list"],
)
def test_invalid_return_values_fail(study_dir: Path, returned: object, message: str) -> None:
    study = run_inline(lambda trial: returned, X_SPACE, study_dir, max_trials=1)
    trial = study.trials[0]
    assert trial.status is TrialStatus.FAILED
    assert message in (trial.error_message or "")


def test_plain_number_is_accepted_for_one_objective(study_dir: Path) -> None:
    study = run_inline(lambda trial: 0.25, X_SPACE, study_dir, max_trials=1)
    assert study.trials[0].values == {"loss": 0.25}


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_best_trial_is_argmin_of_observed(study_dir: Path, direction: str) -> None:
    """Case C20: the best trial's id matches its parameters in both directions."""
    sign = 1.0 if direction == "minimize" else -1.0

    def evaluate(trial: pt.Trial) -> dict[str, float]:
        return {"loss": sign * (trial.config["x"] - 1.0) ** 2}

    study = run_inline(
        evaluate, X_SPACE, study_dir, max_trials=20, objectives=[pt.Objective("loss", direction)]
    )
    trials = study.trials
    expected = min(trials, key=lambda t: sign * t.values["loss"])
    best = study.best_trial
    assert best is not None
    assert best.id == expected.id
    assert best.values["loss"] == pytest.approx(sign * (best.config["x"] - 1.0) ** 2)


def test_constraint_picks_feasible_best(study_dir: Path) -> None:
    """Case C21: minimize x subject to x >= 5 with trials x=-10 and x=5."""
    study = run_inline(
        lambda trial: {"loss": trial.config["x"], "x_value": trial.config["x"]},
        X_SPACE,
        study_dir,
        constraints=["x_value>=5"],
        max_trials=2,
        enqueue=[{"x": -10.0}, {"x": 5.0}],
    )
    assert study.best_trial is not None
    assert study.best_trial.config == {"x": 5.0}
    assert [t.id for t in study.pareto_front()] == [2]


def test_no_feasible_trial_gives_no_best(study_dir: Path) -> None:
    study = run_inline(
        lambda trial: {"loss": trial.config["x"], "x_value": trial.config["x"]},
        X_SPACE,
        study_dir,
        constraints=["x_value>=50"],
        max_trials=1,
        enqueue=[{"x": -10.0}],
    )
    assert study.best_trial is None
    assert study.pareto_front() == []


def test_boolean_grid_has_each_combination_once(study_dir: Path) -> None:
    """Case C5: three booleans, 4 process workers: the 8 combinations, each once."""
    space = {name: pt.Categorical([True, False]) for name in ("a", "b", "c")}
    study = pt.run(
        helpers.noop, space, objectives=["loss"], storage=study_dir, max_trials=8, n_workers=4
    )
    configs = {tuple(sorted(t.config.items())) for t in study.trials}
    assert len(study.trials) == 8
    assert len(configs) == 8


def test_exhausted_space_ends_cleanly(study_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Case C8: one categorical of 3 values and a budget of 10 trials."""
    with caplog.at_level(logging.INFO, logger="paretune"):
        study = run_inline(
            helpers.noop, {"c": pt.Categorical(["a", "b", "c"])}, study_dir, max_trials=10
        )
    assert len(study.trials) == 3
    assert {t.config["c"] for t in study.trials} == {"a", "b", "c"}
    assert "search space exhausted: all 3 distinct configurations were evaluated" in caplog.text


def test_resume_keeps_ids_and_memory(study_dir: Path) -> None:
    """Case C11: one integer in [1, 6]; 4 trials, then resume for 2 more."""
    space = {"n": pt.Integer(1, 6)}
    run_inline(helpers.noop, space, study_dir, max_trials=4, seed=3)
    study = run_inline(helpers.noop, space, study_dir, max_trials=6, seed=3)
    trials = study.trials
    assert [t.id for t in trials] == [1, 2, 3, 4, 5, 6]
    assert sorted(t.config["n"] for t in trials) == [1, 2, 3, 4, 5, 6]


def test_same_seed_gives_same_trials(tmp_path: Path) -> None:
    space = {"x": pt.Float(-1.0, 1.0), "n": pt.Integer(1, 100, log=True)}
    first = run_inline(helpers.noop, space, tmp_path / "a", max_trials=12, seed=7)
    second = run_inline(helpers.noop, space, tmp_path / "b", max_trials=12, seed=7)
    third = run_inline(helpers.noop, space, tmp_path / "c", max_trials=12, seed=8)
    assert [t.config for t in first.trials] == [t.config for t in second.trials]
    assert [t.config for t in first.trials] != [t.config for t in third.trials]


def test_enqueued_configs_run_first(study_dir: Path) -> None:
    study = run_inline(
        helpers.quadratic, X_SPACE, study_dir, max_trials=4, enqueue=[{"x": 1.0}, {"x": 2.0}]
    )
    assert [t.config for t in study.trials[:2]] == [{"x": 1.0}, {"x": 2.0}]
    assert study.trials[0].system_attrs["enqueued"] is True


def test_resumed_run_does_not_enqueue_twice(study_dir: Path) -> None:
    run_inline(helpers.quadratic, X_SPACE, study_dir, max_trials=2, enqueue=[{"x": 1.0}])
    study = run_inline(helpers.quadratic, X_SPACE, study_dir, max_trials=3, enqueue=[{"x": 1.0}])
    assert sum(1 for t in study.trials if t.config == {"x": 1.0}) == 1


def test_changed_space_is_rejected_on_resume(study_dir: Path) -> None:
    run_inline(helpers.quadratic, X_SPACE, study_dir, max_trials=1)
    with pytest.raises(
        pt.StudyMismatchError, match=r"space: added \['y'\], removed \[\], changed \[\]"
    ):
        run_inline(
            helpers.quadratic,
            {"x": pt.Float(-10.0, 10.0), "y": pt.Float(0.0, 1.0)},
            study_dir,
            max_trials=2,
        )
    with pytest.raises(pt.StudyMismatchError, match="objectives: stored"):
        run_inline(helpers.quadratic, X_SPACE, study_dir, max_trials=2, objectives=["loss:max"])
    assert len(pt.load_study(study_dir).trials) == 1


def test_changed_optimizer_is_rejected_on_resume(study_dir: Path) -> None:
    run_inline(helpers.quadratic, X_SPACE, study_dir, max_trials=1, optimizer="random")
    with pytest.raises(pt.StudyMismatchError, match="runs optimizer 'random'"):
        run_inline(helpers.quadratic, X_SPACE, study_dir, max_trials=2, optimizer="sobol")
    study = run_inline(helpers.quadratic, X_SPACE, study_dir, max_trials=2, optimizer="auto")
    assert study.optimizer_info["name"] == "random"


def test_fidelity_budget_counts_spent_fidelity(study_dir: Path) -> None:
    space = {"x": pt.Float(0.0, 1.0), "epochs": pt.Fidelity(1, 9)}
    study = run_inline(
        helpers.quadratic, space, study_dir, max_fidelity_total=30, optimizer="random"
    )
    # Every trial runs at the maximum fidelity 9: the third one commits 27 and the fourth would
    # pass 30, so the run stops after the fourth starts.
    assert [t.fidelity for t in study.trials] == [9, 9, 9, 9]
    assert all(t.fidelity_spent == 9.0 for t in study.trials)


def test_cost_budget_uses_reported_cost(study_dir: Path) -> None:
    def evaluate(trial: pt.Trial) -> dict[str, float]:
        trial.cost = 2.5
        return {"loss": 0.0}

    study = run_inline(evaluate, X_SPACE, study_dir, max_cost=10.0)
    assert len(study.trials) == 4
    assert sum(t.cost or 0.0 for t in study.trials) == 10.0


def test_reference_run_sets_the_budget(study_dir: Path) -> None:
    space = {"x": pt.Float(0.0, 1.0, prior=0.25), "epochs": pt.Fidelity(1, 4)}

    def evaluate(trial: pt.Trial) -> dict[str, float]:
        trial.cost = float(trial.fidelity or 0)
        return {"loss": trial.config["x"]}

    study = run_inline(evaluate, space, study_dir, max_reference_runs=3, optimizer="random")
    first = study.trials[0]
    assert first.system_attrs["reference"] is True
    assert first.config == {"x": 0.25}
    assert first.fidelity == 4
    assert sum(t.cost or 0.0 for t in study.trials) == pytest.approx(12.0)


def test_run_without_budget_is_rejected(study_dir: Path) -> None:
    with pytest.raises(pt.BudgetError, match="no budget given"):
        run_inline(helpers.quadratic, X_SPACE, study_dir)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_trials": 0}, "max_trials must be a positive finite number, got 0"),
        ({"max_trials": 2.5}, "max_trials must be a whole number"),
        ({"max_time": math.inf}, "max_time must be a positive finite number"),
        ({"max_cost": "10"}, "max_cost must be a number, got '10'"),
    ],
)
def test_invalid_budgets_are_rejected(study_dir: Path, options: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(pt.BudgetError, match=message):
        run_inline(helpers.quadratic, X_SPACE, study_dir, **options)


def test_dataframe_has_params_and_values(study_dir: Path) -> None:
    study = run_inline(helpers.quadratic, X_SPACE, study_dir, max_trials=3)
    frame = study.to_dataframe()
    assert list(frame["id"]) == [1, 2, 3]
    assert {"params.x", "values.loss", "status", "error_message"} <= set(frame.columns)
    assert str(frame["parent_id"].dtype) == "Int64"


def test_learning_curve_is_stored(study_dir: Path) -> None:
    def evaluate(trial: pt.Trial) -> dict[str, float]:
        for step in range(1, 4):
            trial.report(step, {"loss": 1.0 / step})
        return {"loss": 1.0 / 3}

    run_inline(evaluate, X_SPACE, study_dir, max_trials=2)
    study = pt.load_study(study_dir)
    assert study.trials[1].learning_curve == [
        (1.0, {"loss": 1.0}),
        (2.0, {"loss": 0.5}),
        (3.0, {"loss": pytest.approx(1.0 / 3)}),
    ]


def test_load_missing_study_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(pt.StorageError, match="no study found at"):
        pt.load_study(tmp_path / "nothing")


def test_low_fidelity_trial_never_best(study_dir: Path) -> None:
    space = {"x": pt.Float(0.0, 1.0), "epochs": pt.Fidelity(1, 9)}

    def evaluate(trial: pt.Trial) -> dict[str, float]:
        # Short trials look better, as an underfit model with a lucky split can.
        return {"loss": float(trial.fidelity or 0) + trial.config["x"]}

    study = run_inline(
        evaluate,
        space,
        study_dir,
        max_trials=3,
        optimizer="random",
        enqueue=[{"x": 0.5}],
    )
    low = study.enqueue({"x": 0.1}, fidelity=1)
    study = run_inline(evaluate, space, study_dir, max_trials=4, optimizer="random")
    assert study.trial(low).values["loss"] == pytest.approx(1.1)
    best = study.best_trial
    assert best is not None
    assert best.fidelity == 9
    assert all(t.fidelity == 9 for t in study.pareto_front())
