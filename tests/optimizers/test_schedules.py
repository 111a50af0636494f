"""Multi-fidelity schedules run end to end (cases C24, C27) and read from the history."""

from __future__ import annotations

import collections
from typing import Any

import pytest

import paretune as pt
from paretune.optimizers import make_optimizer
from paretune.trial import Trial, TrialStatus

from .conftest import completed, continue_from_parent, make_problem


def _report_epoch_three_once(trial: Trial) -> dict[str, float]:
    """Trial 1 reports epoch 3 at once although it runs at epoch 1 (an overshooting report)."""
    if trial.id == 1:
        trial.report(3, {"loss": 0.5})
    return {"loss": abs(trial.config["k"] - 4.5) + 1.0 / float(trial.fidelity or 1)}


@pytest.mark.slow
def test_successive_halving_promotes_8_4_2_1(tmp_path: Any) -> None:
    """Case C24: 8 configurations, epochs 1-8, eta 2, 4 workers."""
    space = {"k": pt.Integer(1, 8), "epochs": pt.Fidelity(1, 8)}
    study = pt.run(
        _report_epoch_three_once, space, objectives=["loss"], storage=tmp_path / "s",
        max_trials=100, optimizer="successive_halving", optimizer_settings={"eta": 2},
        n_workers=4, executor="process", seed=0,
    )  # fmt: skip
    trials = study.trials
    per_fidelity = collections.Counter(t.fidelity for t in trials)
    assert per_fidelity == {1: 8, 2: 4, 4: 2, 8: 1}
    assert all(t.status is TrialStatus.COMPLETED for t in trials)
    assert len(trials) == 15
    assert study.best_trial is not None
    assert study.best_trial.fidelity == 8


def test_overshooting_report_is_still_judged(tmp_path: Any) -> None:
    space = {"k": pt.Integer(1, 8), "epochs": pt.Fidelity(1, 8)}
    study = pt.run(
        _report_epoch_three_once, space, objectives=["loss"], storage=tmp_path / "s",
        max_trials=100, optimizer="successive_halving", optimizer_settings={"eta": 2},
        executor="inline", seed=0,
    )  # fmt: skip
    first = study.trial(1)
    assert first.status is TrialStatus.COMPLETED
    assert first.fidelity == 1
    assert "loss" in first.values


def test_promotions_continue_the_parent(tmp_path: Any) -> None:
    space = {"k": pt.Integer(1, 8), "epochs": pt.Fidelity(1, 8)}
    study = pt.run(
        continue_from_parent_k, space, objectives=["loss"], storage=tmp_path / "s",
        max_trials=100, optimizer="successive_halving", optimizer_settings={"eta": 2},
        executor="inline", seed=0,
    )  # fmt: skip
    by_id = {t.id: t for t in study.trials}
    for trial in by_id.values():
        if trial.parent_id is None:
            assert trial.fidelity == 1
            continue
        parent = by_id[trial.parent_id]
        assert trial.config == parent.config
        assert trial.fidelity_spent == trial.fidelity - parent.fidelity


def continue_from_parent_k(trial: Trial) -> dict[str, float]:
    trial.load_parent_checkpoint()
    trial.save_checkpoint({"fidelity": trial.fidelity})
    return {"loss": abs(trial.config["k"] - 4.5) + 1.0 / float(trial.fidelity or 1)}


@pytest.mark.slow
def test_float_fidelity_budget_10000_epochs(tmp_path: Any) -> None:
    """Case C27: fidelity 2.469..600, eta 3, 10,000 epochs with continuation."""
    space = {"x": pt.Float(0, 1), "epochs": pt.Fidelity(2.469, 600.0)}
    study = pt.run(
        continue_from_parent, space, objectives=["loss"], storage=tmp_path / "s",
        max_fidelity_total=10_000, optimizer="async_hyperband", executor="inline", seed=0,
    )  # fmt: skip
    trials = study.trials
    spent = sum(t.fidelity_spent or 0.0 for t in trials)
    assert min(t.fidelity for t in trials) == 2.469
    assert max(t.fidelity for t in trials) == 600.0
    assert 10_000 - 600 <= spent <= 10_000 + 600
    by_id = {t.id: t for t in trials}
    promoted = [t for t in trials if t.parent_id is not None]
    assert promoted
    for trial in promoted:
        extra = trial.fidelity - by_id[trial.parent_id].fidelity
        assert trial.fidelity_spent == pytest.approx(extra)


def test_asha_promotes_top_fraction_only() -> None:
    problem = make_problem({"x": pt.Float(0, 1), "epochs": pt.Fidelity(1, 9)})
    optimizer, _ = make_optimizer("asha", problem)
    info = {"bracket": 2, "rung": 0}
    history = [
        completed(i, {"x": i / 10}, {"loss": float(i)}, fidelity=1, info=info) for i in (1, 2, 3)
    ]
    suggestion = optimizer.ask(history, 4)
    assert suggestion is not None
    assert suggestion.parent_id == 1
    assert suggestion.fidelity == 3
    history.append(completed(4, {"x": 0.1}, {"loss": 0.5}, fidelity=3, parent_id=1,
                             info={"bracket": 2, "rung": 1}))  # fmt: skip
    following = optimizer.ask(history, 5)
    assert following is not None
    assert following.parent_id is None
    assert following.fidelity == 1


def test_asha_never_promotes_infeasible_over_feasible() -> None:
    problem = make_problem(
        {"x": pt.Float(0, 1), "epochs": pt.Fidelity(1, 9)},
        constraints=(pt.Constraint("latency", upper=1.0),),
    )
    optimizer, _ = make_optimizer("asha", problem)
    info = {"bracket": 2, "rung": 0}
    history = [
        completed(1, {"x": 0.1}, {"loss": 0.0, "latency": 5.0}, fidelity=1, info=info),
        completed(2, {"x": 0.2}, {"loss": 1.0, "latency": 0.5}, fidelity=1, info=info),
        completed(3, {"x": 0.3}, {"loss": 2.0, "latency": 0.5}, fidelity=1, info=info),
    ]
    suggestion = optimizer.ask(history, 4)
    assert suggestion is not None
    assert suggestion.parent_id == 2


def test_mo_asha_promotes_non_dominated() -> None:
    problem = make_problem(
        {"x": pt.Float(0, 1), "epochs": pt.Fidelity(1, 9)}, objectives=("f1", "f2")
    )
    optimizer, _ = make_optimizer("mo_asha", problem)
    info = {"bracket": 2, "rung": 0}
    history = [
        completed(1, {"x": 0.1}, {"f1": 3.0, "f2": 3.0}, fidelity=1, info=info),
        completed(2, {"x": 0.2}, {"f1": 1.0, "f2": 2.0}, fidelity=1, info=info),
        completed(3, {"x": 0.3}, {"f1": 4.0, "f2": 4.0}, fidelity=1, info=info),
    ]
    suggestion = optimizer.ask(history, 4)
    assert suggestion is not None
    assert suggestion.parent_id == 2


@pytest.mark.parametrize("name", ["asha", "async_hyperband", "hyperband", "priorband", "bohb"])
def test_free_worker_never_waits(name: str) -> None:
    """With every trial still running, a free worker gets a new configuration."""
    problem = make_problem({"x": pt.Float(0, 1, prior=0.5), "epochs": pt.Fidelity(1, 9)})
    optimizer, _ = make_optimizer(name, problem)
    history = []
    for trial_id in range(1, 30):
        suggestion = optimizer.ask(history, trial_id)
        assert suggestion is not None
        record = completed(trial_id, suggestion.config, {}, fidelity=suggestion.fidelity,
                           info=suggestion.info, parent_id=suggestion.parent_id)  # fmt: skip
        record.status = TrialStatus.RUNNING
        history.append(record)
    assert all(t.parent_id is None for t in history)


@pytest.mark.parametrize("name", ["asha", "async_hyperband", "successive_halving", "bohb"])
def test_new_configs_never_repeat_across_fidelities(name: str, tmp_path: Any) -> None:
    space = {"a": pt.Integer(1, 3), "b": pt.Integer(1, 3), "epochs": pt.Fidelity(1, 9)}
    study = pt.run(
        lambda t: {"loss": t.config["a"] * t.config["b"] / t.fidelity}, space,
        objectives=["loss"], storage=tmp_path / "s", max_trials=200, optimizer=name,
        executor="inline", seed=0,
    )  # fmt: skip
    starts = [space_key(t.config) for t in study.trials if t.parent_id is None]
    assert len(starts) == len(set(starts)) == 9


def space_key(config: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(sorted(config.items()))


def test_rung_disagreement_shifts_brackets() -> None:
    """Low rungs that rank configurations in reverse push new configurations up the ladder."""
    problem = make_problem({"x": pt.Float(0, 1), "epochs": pt.Fidelity(1, 9)})
    optimizer, _ = make_optimizer("async_hyperband", problem)
    history = []
    trial_id = 1
    for i in range(12):
        x = i / 12
        history.append(completed(trial_id, {"x": x}, {"loss": x}, fidelity=1,
                                 info={"bracket": 2, "rung": 0}))  # fmt: skip
        history.append(completed(trial_id + 1, {"x": x}, {"loss": 1 - x}, fidelity=3,
                                 parent_id=trial_id,
                                 info={"bracket": 2, "rung": 1, "root": trial_id}))  # fmt: skip
        trial_id += 2
    bases = []
    for _ in range(6):
        suggestion = optimizer.ask(history, trial_id)
        assert suggestion is not None
        if suggestion.parent_id is None:
            bases.append(suggestion.info["rung"])
        record = completed(trial_id, suggestion.config, {}, fidelity=suggestion.fidelity,
                           info=suggestion.info, parent_id=suggestion.parent_id)  # fmt: skip
        record.status = TrialStatus.RUNNING
        history.append(record)
        trial_id += 1
    assert bases
    assert 0 not in bases


def test_priorband_model_skips_lone_result() -> None:
    """TPE is fitted on the highest rung with enough results, not on a lone top result."""
    problem = make_problem({"x": pt.Float(0, 1, prior=0.0), "epochs": pt.Fidelity(1, 27)})
    optimizer, _ = make_optimizer("priorband", problem)
    history = []
    for i in range(12):  # rung 0 of the most exploratory bracket (s = 3)
        history.append(completed(i + 1, {"x": i / 12}, {"loss": i / 12}, fidelity=1,
                                 info={"bracket": 3, "rung": 0}))  # fmt: skip
    for i in range(4):  # its best four, promoted to rung 1
        history.append(completed(13 + i, {"x": i / 12}, {"loss": i / 12}, fidelity=3,
                                 parent_id=i + 1, info={"bracket": 3, "rung": 1}))  # fmt: skip
    history.append(completed(17, {"x": 0.0}, {"loss": 0.0}, fidelity=9, parent_id=13,
                             info={"bracket": 3, "rung": 2}))  # fmt: skip
    samplers: collections.Counter[str] = collections.Counter()
    for trial_id in range(18, 38):
        suggestion = optimizer.ask(history, trial_id)
        assert suggestion is not None and suggestion.parent_id is None
        samplers[suggestion.info.get("sampler")] += 1
    assert samplers["tpe"] >= 5, samplers


def test_priorband_brackets_stay_fixed() -> None:
    problem = make_problem({"x": pt.Float(0, 1, prior=0.5), "epochs": pt.Fidelity(1, 27)})
    assert not make_optimizer("priorband", problem)[0].settings()["adapt_to_rung_agreement"]
    assert make_optimizer("async_hyperband", problem)[0].settings()["adapt_to_rung_agreement"]
    custom = make_optimizer("priorband", problem, {"adapt_to_rung_agreement": True})[0]
    assert custom.settings()["adapt_to_rung_agreement"]


def test_priorband_promotes_whole_rungs(tmp_path: Any) -> None:
    """PriorBand runs Hyperband: a rung is promoted once full, its best third continues."""
    space = {"x": pt.Float(0, 1, prior=0.3), "epochs": pt.Fidelity(1, 9)}

    def loss(trial: Trial) -> dict[str, float]:
        return {"loss": abs(trial.config["x"] - 0.6) + 1.0 / float(trial.fidelity or 1)}

    study = pt.run(loss, space, objectives=["loss"], storage=tmp_path / "s", max_trials=13,
                   optimizer="priorband", executor="inline", seed=0)  # fmt: skip
    trials = study.trials
    assert [t.fidelity for t in trials] == [1] * 9 + [3] * 3 + [9]
    first_rung = sorted(trials[:9], key=lambda t: t.values["loss"])
    assert {t.parent_id for t in trials[9:12]} == {t.id for t in first_rung[:3]}
    second_rung = min(trials[9:12], key=lambda t: t.values["loss"])
    assert trials[12].parent_id == second_rung.id
