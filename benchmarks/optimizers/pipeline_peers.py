"""Peers for the pipeline suite: Optuna's TPE sampler driven through paretune's ask/tell protocol.

Running a peer inside ``paretune.run`` gives it the same study as ``auto`` and ``random``: the
same split, search space, default configuration as trial 1 and a budget in reference runs.
Trial 1 is added to Optuna's study as a finished trial, and Optuna's TPE proposes every later
configuration at full fidelity, because a pruner has nothing to stop in 3 to 8 trials.
Conditional parameters are suggested in the space's condition order, so Optuna receives only
the active ones, as in its define-by-run API.

Import this module before ``paretune.run(..., optimizer="optuna_tpe")``; it needs Optuna, so it
runs in the benchmark environment ``.venv-bench``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import optuna

from paretune.optimizers import Optimizer, Problem, Suggestion, register_optimizer
from paretune.space import Categorical, Constant, Float, Integer
from paretune.trial import TrialRecord

optuna.logging.set_verbosity(optuna.logging.WARNING)


def distribution(parameter: Any) -> optuna.distributions.BaseDistribution | None:
    """Return Optuna's distribution of a paretune hyperparameter (None for a Constant)."""
    if isinstance(parameter, Float):
        return optuna.distributions.FloatDistribution(
            parameter.low, parameter.high, log=parameter.log, step=parameter.step
        )
    if isinstance(parameter, Integer):
        return optuna.distributions.IntDistribution(
            int(parameter.low), int(parameter.high), log=parameter.log
        )
    if isinstance(parameter, Categorical):
        return optuna.distributions.CategoricalDistribution(list(parameter.choices))
    if isinstance(parameter, Constant):
        return None
    raise TypeError(
        f"unsupported parameter {parameter!r} for Optuna: use Float, Integer, Categorical or "
        "Constant"
    )


class OptunaTPE(Optimizer):
    """Adapter that runs Optuna's ``TPESampler`` (default settings, the study's seed)."""

    name = "optuna_tpe"

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        if problem.is_multi_objective:
            raise ValueError(
                f"optuna_tpe supports one objective, got {len(problem.objectives)}: "
                "run it with --datasets only, without --fair"
            )
        self.study = optuna.create_study(
            sampler=optuna.samplers.TPESampler(seed=problem.seed),
            direction=problem.objectives[0].direction,
        )
        self.asked: dict[int, optuna.trial.Trial] = {}
        self.told: set[int] = set()

    def ask(self, history: Sequence[TrialRecord], trial_id: int) -> Suggestion | None:
        for trial in history:
            if trial.id not in self.told and trial.status.is_finished:
                self._tell(trial)
        optuna_trial = self.study.ask()
        self.asked[trial_id] = optuna_trial
        config = self.problem.space._build_config(
            lambda name, parameter: self._suggest(optuna_trial, name, parameter)
        )
        return Suggestion(config, fidelity=self.max_fidelity)

    def _suggest(self, optuna_trial: optuna.trial.Trial, name: str, parameter: Any) -> Any:
        if isinstance(parameter, Float):
            return optuna_trial.suggest_float(
                name, parameter.low, parameter.high, log=parameter.log, step=parameter.step
            )
        if isinstance(parameter, Integer):
            return optuna_trial.suggest_int(
                name, int(parameter.low), int(parameter.high), log=parameter.log
            )
        if isinstance(parameter, Categorical):
            return optuna_trial.suggest_categorical(name, list(parameter.choices))
        return parameter.value

    def _tell(self, trial: TrialRecord) -> None:
        self.told.add(trial.id)
        objective = self.problem.objectives[0].name
        value = trial.values.get(objective) if trial.values else None
        complete = trial.status.value == "COMPLETED" and value is not None
        if trial.id in self.asked:
            state = optuna.trial.TrialState.COMPLETE if complete else optuna.trial.TrialState.FAIL
            self.study.tell(self.asked[trial.id], value if complete else None, state=state)
            return
        if not complete:
            return
        space = self.problem.space
        distributions = {
            name: d
            for name in space.hyperparameter_names
            if name in trial.config and (d := distribution(space.parameters[name])) is not None
        }
        params = {name: trial.config[name] for name in distributions}
        self.study.add_trial(
            optuna.trial.create_trial(params=params, distributions=distributions, value=value)
        )


register_optimizer(OptunaTPE)
