"""Peers for the pipeline suite, run through paretune's ask/tell protocol.

Running a peer inside ``paretune.run`` gives it the same study as ``auto`` and ``random``: the
same split, search space, default configuration as trial 1 and a budget in reference runs.

* ``optuna_tpe``: Optuna's TPE sampler. Trial 1 is added to Optuna's study as a finished
  trial, and TPE proposes every later configuration at full fidelity, because a pruner has
  nothing to stop in 3 to 8 trials. Conditional parameters are suggested in the space's
  condition order, so Optuna receives only the active ones, as in its define-by-run API.
* ``neps_priorband``: NePS's PriorBand with its defaults (eta 3, Hyperband brackets on the
  epochs 1-27). It gets the same priors as paretune: a prior at paretune's "medium" confidence
  (unit standard deviation 0.25, weight 0.75 for a categorical choice) is NePS's "high".
  NePS's continuations become paretune trials with a parent, so they restore the parent's
  checkpoint.
* ``neps_moasha``: NePS's multi-objective ASHA with its defaults (uniform sampling,
  epsilon-net promotion), for several objectives.
* ``dehb`` (DEHB) and ``smac_mf`` (SMAC3's multi-fidelity facade with its Hyperband
  intensifier), both with eta 3 on the epochs 1-27 and no priors. Neither names the trial it
  continues, so each of their trials trains from scratch.

NePS 0.17, DEHB and SMAC3 get every parameter without conditions, and paretune drops the
inactive ones from their proposals. The peers other than Optuna do not see trial 1.

Import this module before ``paretune.run(..., optimizer="optuna_tpe")``; it needs the peers,
so it runs in the benchmark environment ``.venv-bench``.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ConfigSpace as CS
import neps
import numpy as np
import optuna
import torch

from paretune.optimizers import Optimizer, Problem, Suggestion, register_optimizer
from paretune.space import Categorical, Constant, Float, Integer, Space
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


def _neps_space(space: Space) -> Any:
    """Return NePS's space: every hyperparameter with its prior, plus the fidelity."""
    elements: dict[str, Any] = {}
    for name in space.hyperparameter_names:
        parameter = space.parameters[name]
        prior = getattr(parameter, "prior", None)
        extra: dict[str, Any] = {}
        if prior is not None:
            extra = {"prior": prior, "prior_confidence": _NEPS_CONFIDENCE[parameter.confidence]}
        if isinstance(parameter, Float):
            elements[name] = neps.HPOFloat(
                parameter.low, parameter.high, log=parameter.log, **extra
            )
        elif isinstance(parameter, Integer):
            elements[name] = neps.HPOInteger(
                int(parameter.low), int(parameter.high), log=parameter.log, **extra
            )
        elif isinstance(parameter, Categorical):
            elements[name] = neps.HPOCategorical(list(parameter.choices), **extra)
        elif isinstance(parameter, Constant):
            elements[name] = neps.HPOConstant(parameter.value)
    fidelity = space.fidelity
    assert fidelity is not None and space.fidelity_name is not None
    elements[space.fidelity_name] = neps.HPOInteger(
        int(fidelity.low), int(fidelity.high), is_fidelity=True
    )
    return neps.SearchSpace(elements)


# paretune's level -> NePS's level with the same spread (NePS: unit sd 1 - c, weight c).
_NEPS_CONFIDENCE = {"low": "medium", "medium": "high", "high": "high"}


class _MultiFidelityPeer(Optimizer):
    """A peer with its own ask and tell: a fidelity, losses to minimize.

    Subclasses return the peer's proposal from ``_propose`` and pass results back in
    ``_report``: one loss, a list of losses with several objectives, or ``None`` for a failed
    trial.
    """

    several_objectives = False

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        if problem.space.fidelity is None:
            raise ValueError(f"{self.name} needs a fidelity such as epochs")
        if problem.is_multi_objective and not self.several_objectives:
            raise ValueError(
                f"{self.name} supports one objective: run it with --datasets only, without --fair"
            )
        self.asked: dict[int, Any] = {}
        self.told: set[int] = set()

    def ask(self, history: Sequence[TrialRecord], trial_id: int) -> Suggestion | None:
        for trial in history:
            if trial.id not in self.told and trial.status.is_finished and trial.id in self.asked:
                self.told.add(trial.id)
                self._report(self.asked[trial.id], trial, self._loss(trial))
        proposed, fidelity, parent_id, handle = self._propose(trial_id)
        self.asked[trial_id] = handle
        config = self.problem.space._build_config(lambda name, _: _plain(proposed[name]))
        return Suggestion(config, fidelity=fidelity, parent_id=parent_id)

    def _loss(self, trial: TrialRecord) -> Any:
        if trial.status.value != "COMPLETED" or not trial.values:
            return None
        losses = []
        for objective in self.problem.objectives:
            value = trial.values.get(objective.name)
            if value is None:
                return None
            losses.append(float(value if objective.direction == "minimize" else -value))
        return losses if self.problem.is_multi_objective else losses[0]

    def _propose(self, trial_id: int) -> tuple[dict[str, Any], int, int | None, Any]:
        raise NotImplementedError

    def _report(self, handle: Any, trial: TrialRecord, loss: Any) -> None:
        raise NotImplementedError


def _plain(value: Any) -> Any:
    """Return NumPy scalars as Python ones, so that paretune's space accepts them."""
    return value.item() if isinstance(value, np.generic) else value


class _NePSPeer(_MultiFidelityPeer):
    """A NePS algorithm with its default settings, driven through NePS's ask-and-tell API."""

    algorithm = ""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        np.random.seed(problem.seed)  # NePS 0.17 takes no seed; it draws from these generators
        torch.manual_seed(problem.seed)
        factory = getattr(neps.algorithms, self.algorithm)
        self.neps = neps.AskAndTell(factory(_neps_space(problem.space)))
        self.neps_to_trial: dict[str, int] = {}

    def _propose(self, trial_id: int) -> tuple[dict[str, Any], int, int | None, Any]:
        neps_trial = self.neps.ask()
        self.neps_to_trial[neps_trial.metadata.id] = trial_id
        previous = neps_trial.metadata.previous_trial_id
        fidelity = int(neps_trial.config[self.problem.space.fidelity_name])
        parent_id = self.neps_to_trial.get(previous) if previous else None
        return neps_trial.config, fidelity, parent_id, neps_trial

    def _report(self, handle: Any, trial: TrialRecord, loss: Any) -> None:
        if loss is None:
            self.neps.tell(handle, RuntimeError(trial.error_message or "the trial failed"))
        else:
            self.neps.tell(handle, loss)


class NePSPriorBand(_NePSPeer):
    """Adapter for NePS's ``priorband``."""

    name = "neps_priorband"
    algorithm = "priorband"


class NePSMOASHA(_NePSPeer):
    """Adapter for NePS's ``moasha`` (defaults: uniform sampling, epsilon-net promotion)."""

    name = "neps_moasha"
    algorithm = "moasha"
    several_objectives = True


def _configspace(space: Space, seed: int) -> Any:
    """Return a ConfigSpace of every hyperparameter (no priors, no conditions)."""
    hyperparameters: list[Any] = []
    for name in space.hyperparameter_names:
        parameter = space.parameters[name]
        if isinstance(parameter, Float):
            hyperparameters.append(
                CS.Float(name, (parameter.low, parameter.high), log=parameter.log)
            )
        elif isinstance(parameter, Integer):
            bounds = (int(parameter.low), int(parameter.high))
            hyperparameters.append(CS.Integer(name, bounds, log=parameter.log))
        elif isinstance(parameter, Categorical):
            hyperparameters.append(CS.Categorical(name, list(parameter.choices)))
        elif isinstance(parameter, Constant):
            hyperparameters.append(CS.Constant(name, parameter.value))
    configspace = CS.ConfigurationSpace(seed=seed)
    configspace.add(hyperparameters)
    return configspace


def _fidelity_range(space: Space) -> tuple[int, int]:
    fidelity = space.fidelity
    assert fidelity is not None
    return int(fidelity.low), int(fidelity.high)


class DEHBPeer(_MultiFidelityPeer):
    """Adapter that runs DEHB (eta 3, one worker) through its ask and tell."""

    name = "dehb"

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        from dehb import DEHB

        logging.getLogger("dehb").setLevel(logging.ERROR)
        low, high = _fidelity_range(problem.space)
        self.output = tempfile.TemporaryDirectory()
        configspace = _configspace(problem.space, problem.seed)
        self.dehb = DEHB(
            cs=configspace,
            dimensions=len(list(configspace.values())),
            min_fidelity=low,
            max_fidelity=high,
            eta=3,
            n_workers=1,
            seed=problem.seed,
            output_path=self.output.name,
            log_level="ERROR",
        )

    def _propose(self, trial_id: int) -> tuple[dict[str, Any], int, int | None, Any]:
        job = self.dehb.ask()
        return dict(job["config"]), round(job["fidelity"]), None, job

    def _report(self, handle: Any, trial: TrialRecord, loss: Any) -> None:
        fitness = loss if loss is not None else float("inf")
        self.dehb.tell(handle, {"fitness": fitness, "cost": float(handle["fidelity"])})


class SMACPeer(_MultiFidelityPeer):
    """Adapter that runs SMAC3's multi-fidelity facade (Hyperband intensifier, eta 3)."""

    name = "smac_mf"

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        from smac import MultiFidelityFacade, Scenario

        low, high = _fidelity_range(problem.space)
        self.output = tempfile.TemporaryDirectory()
        scenario = Scenario(
            _configspace(problem.space, problem.seed),
            deterministic=True,
            n_trials=100_000,
            min_budget=low,
            max_budget=high,
            seed=problem.seed,
            output_directory=Path(self.output.name),
        )
        self.smac = MultiFidelityFacade(
            scenario,
            lambda config, seed=0, budget=1: 0.0,
            intensifier=MultiFidelityFacade.get_intensifier(scenario, eta=3),
            overwrite=True,
            logging_level=40,
        )

    def _propose(self, trial_id: int) -> tuple[dict[str, Any], int, int | None, Any]:
        info = self.smac.ask()
        return dict(info.config), round(info.budget), None, info

    def _report(self, handle: Any, trial: TrialRecord, loss: Any) -> None:
        from smac.runhistory.dataclasses import TrialValue
        from smac.runhistory.enumerations import StatusType

        if loss is None:
            self.smac.tell(handle, TrialValue(cost=float("inf"), status=StatusType.CRASHED))
        else:
            self.smac.tell(handle, TrialValue(cost=loss))


for _peer in (NePSPriorBand, NePSMOASHA, DEHBPeer, SMACPeer):
    register_optimizer(_peer)
