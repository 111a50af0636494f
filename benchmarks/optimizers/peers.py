"""Single-objective multi-fidelity runners shared by suites (a) and (b).

Every runner gets the same ``MFProblem`` and budget and returns a trace: one
``(cumulative fidelity spent, value or None)`` pair per finished evaluation, where the value is
set only for evaluations at the maximum fidelity (the only ones that count as found models).

Cost accounting, identical for every optimizer: an evaluation at fidelity z costs z. When the
optimizer marks an evaluation as the continuation of an earlier one (paretune's ``parent_id``,
NePS's ``previous_config_id``, an Optuna trial that reports epoch by epoch), it pays only the
extra fidelity. DEHB 0.1.2 and SMAC3 2.4.1 do not name a parent, so each of their evaluations
pays its full fidelity.

Peers (Optuna, SMAC3, DEHB, NePS) live in the benchmark environment ``.venv-bench`` and are
imported inside their runners, so a missing peer only disables its runner.
"""

from __future__ import annotations

import logging
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import paretune as pt

Trace = list[tuple[float, "float | None"]]


@dataclass(frozen=True)
class Param:
    """A numeric hyperparameter; ``prior`` is the user's belief about the best value."""

    low: float
    high: float
    log: bool = False
    integer: bool = False
    prior: float | None = None


@dataclass
class MFProblem:
    """A minimisation problem with an integer fidelity (for example epochs).

    Attributes:
        params: The hyperparameters, by name.
        min_fidelity: The smallest fidelity an optimizer may ask for.
        max_fidelity: The full fidelity; only evaluations there count as found models.
        evaluate: Returns the value of a configuration at a fidelity.
        evaluate_curve: Optional; returns the values at fidelities 1..max in one call (used by
            the Optuna runner, which reports epoch by epoch).
    """

    params: dict[str, Param]
    min_fidelity: int
    max_fidelity: int
    evaluate: Callable[[dict[str, Any], int], float]
    evaluate_curve: Callable[[dict[str, Any]], list[float]] | None = None
    cache: dict[Any, float] = field(default_factory=dict)

    def value(self, config: dict[str, Any], fidelity: int) -> float:
        key = (tuple(sorted(config.items())), fidelity)
        if key not in self.cache:
            self.cache[key] = self.evaluate(config, fidelity)
        return self.cache[key]


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass


def _clip(problem: MFProblem, config: dict[str, Any]) -> dict[str, Any]:
    """Return ``config`` restricted to the problem's parameters, integers rounded."""
    out = {}
    for name, param in problem.params.items():
        value = float(config[name])
        value = min(max(value, param.low), param.high)
        out[name] = round(value) if param.integer else value
    return out


class _Ledger:
    """Charges evaluations and records the trace."""

    def __init__(self, problem: MFProblem, budget: float) -> None:
        self.problem = problem
        self.budget = budget
        self.spent = 0.0
        self.trace: Trace = []

    @property
    def exhausted(self) -> bool:
        return self.spent >= self.budget

    def charge(self, config: dict[str, Any], fidelity: int, paid_before: int = 0) -> float:
        value = self.problem.value(config, fidelity)
        self.spent += max(fidelity - paid_before, 0)
        full = fidelity >= self.problem.max_fidelity
        self.trace.append((self.spent, value if full else None))
        return value


# --- paretune -------------------------------------------------------------------------------


def run_paretune(
    problem: MFProblem, optimizer: str, seed: int, budget: float, with_prior: bool
) -> Trace:
    params: dict[str, Any] = {}
    for name, p in problem.params.items():
        prior = p.prior if with_prior else None
        if p.integer:
            params[name] = pt.Integer(int(p.low), int(p.high), log=p.log, prior=prior)
        else:
            params[name] = pt.Float(p.low, p.high, log=p.log, prior=prior)
    params["epochs"] = pt.Fidelity(problem.min_fidelity, problem.max_fidelity)

    def evaluate(trial: pt.Trial) -> dict[str, float]:
        trial.continued = trial.parent_id is not None  # a surrogate has no state to restore
        config = {k: v for k, v in trial.config.items() if k != "epochs"}
        return {"value": problem.value(_clip(problem, config), int(trial.fidelity))}

    study = pt.run(
        evaluate,
        pt.Space(params),
        objectives=["value"],
        max_fidelity_total=budget,
        optimizer=optimizer,
        executor="inline",
        seed=seed,
        show_progress=False,
    )
    trace: Trace = []
    spent = 0.0
    for trial in study.trials:
        spent += trial.fidelity_spent or 0.0
        full = trial.fidelity == problem.max_fidelity and trial.status.value == "COMPLETED"
        trace.append((spent, trial.values["value"] if full else None))
    return trace


# --- Optuna: TPE with the Hyperband pruner ---------------------------------------------------


def run_optuna_hyperband(problem: MFProblem, seed: int, budget: float, with_prior: bool) -> Trace:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.HyperbandPruner(
            min_resource=problem.min_fidelity, max_resource=problem.max_fidelity, reduction_factor=3
        ),
        study_name=f"benchmark-{seed}",  # fixed: the pruner assigns brackets by a name hash
    )
    trace: Trace = []
    spent = 0.0
    while spent < budget:
        trial = study.ask()
        config = {}
        for name, p in problem.params.items():
            if p.integer:
                config[name] = trial.suggest_int(name, int(p.low), int(p.high), log=p.log)
            else:
                config[name] = trial.suggest_float(name, p.low, p.high, log=p.log)
        curve = problem.evaluate_curve(config) if problem.evaluate_curve else None
        value, pruned = None, False
        for epoch in range(problem.min_fidelity, problem.max_fidelity + 1):
            if spent >= budget:
                pruned = True
                break
            value = curve[epoch - 1] if curve else problem.value(config, epoch)
            spent += 1 if epoch > problem.min_fidelity else problem.min_fidelity
            trial.report(value, epoch)
            if trial.should_prune():
                pruned = True
                break
        if pruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            trace.append((spent, None))
        else:
            study.tell(trial, value)
            trace.append((spent, value))
    return trace


# --- DEHB ------------------------------------------------------------------------------------


def _configspace(problem: MFProblem, seed: int, with_prior: bool) -> Any:
    import ConfigSpace as CS

    hyperparameters = []
    for name, p in problem.params.items():
        default = p.prior if (with_prior and p.prior is not None) else None
        if p.integer:
            hp = CS.Integer(name, (int(p.low), int(p.high)), log=p.log, default=default)
        else:
            hp = CS.Float(name, (p.low, p.high), log=p.log, default=default)
        hyperparameters.append(hp)
    space = CS.ConfigurationSpace(seed=seed)
    space.add(hyperparameters)
    return space


def run_dehb(problem: MFProblem, seed: int, budget: float, with_prior: bool) -> Trace:
    from dehb import DEHB

    logging.getLogger("dehb").setLevel(logging.ERROR)
    space = _configspace(problem, seed, False)
    with tempfile.TemporaryDirectory() as output:
        optimizer = DEHB(
            cs=space,
            dimensions=len(problem.params),
            min_fidelity=problem.min_fidelity,
            max_fidelity=problem.max_fidelity,
            eta=3,
            n_workers=1,
            seed=seed,
            output_path=output,
            log_level="ERROR",
        )
        ledger = _Ledger(problem, budget)
        while not ledger.exhausted:
            job = optimizer.ask()
            fidelity = round(job["fidelity"])
            config = _clip(problem, dict(job["config"]))
            value = ledger.charge(config, fidelity)
            optimizer.tell(job, {"fitness": value, "cost": float(fidelity)})
    return ledger.trace


# --- SMAC3 multi-fidelity facade (Hyperband intensifier) -------------------------------------


def run_smac(problem: MFProblem, seed: int, budget: float, with_prior: bool) -> Trace:
    from smac import MultiFidelityFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    space = _configspace(problem, seed, False)
    with tempfile.TemporaryDirectory() as output:
        scenario = Scenario(
            space,
            deterministic=True,
            n_trials=100_000,
            min_budget=problem.min_fidelity,
            max_budget=problem.max_fidelity,
            seed=seed,
            output_directory=output,
        )
        intensifier = MultiFidelityFacade.get_intensifier(scenario, eta=3)
        smac = MultiFidelityFacade(
            scenario,
            lambda config, seed=0, budget=1: 0.0,
            intensifier=intensifier,
            overwrite=True,
            logging_level=40,
        )
        ledger = _Ledger(problem, budget)
        while not ledger.exhausted:
            info = smac.ask()
            fidelity = round(info.budget)
            config = _clip(problem, dict(info.config))
            value = ledger.charge(config, fidelity)
            smac.tell(info, TrialValue(cost=value))
    return ledger.trace


# --- NePS PriorBand and Hyperband -------------------------------------------------------------


def _neps_space(problem: MFProblem, with_prior: bool) -> Any:
    import neps

    elements: dict[str, Any] = {}
    for name, p in problem.params.items():
        prior = p.prior if with_prior else None
        kwargs: dict[str, Any] = {"log": p.log}
        if prior is not None:
            kwargs.update(prior=prior, prior_confidence="medium")
        if p.integer:
            elements[name] = neps.HPOInteger(int(p.low), int(p.high), **kwargs)
        else:
            elements[name] = neps.HPOFloat(p.low, p.high, **kwargs)
    elements["epochs"] = neps.HPOInteger(
        problem.min_fidelity, problem.max_fidelity, is_fidelity=True
    )
    return neps.SearchSpace(elements)


def run_neps(
    problem: MFProblem, algorithm: str, seed: int, budget: float, with_prior: bool
) -> Trace:
    import neps

    _seed_everything(seed)  # NePS 0.17.0 takes no seed; it draws from the global generators
    space = _neps_space(problem, with_prior)
    factory = getattr(neps.algorithms, algorithm)
    optimizer = neps.AskAndTell(factory(space))
    ledger = _Ledger(problem, budget)
    paid: dict[str, int] = {}
    while not ledger.exhausted:
        trial = optimizer.ask()
        fidelity = int(trial.config["epochs"])
        config = _clip(problem, trial.config)
        parent = trial.metadata.previous_trial_id
        value = ledger.charge(config, fidelity, paid.get(parent, 0) if parent else 0)
        paid[trial.metadata.id] = fidelity
        optimizer.tell(trial, value)
    return ledger.trace


RUNNERS: dict[str, Callable[[MFProblem, int, float, bool], Trace]] = {
    "random": lambda p, s, b, w: run_paretune(p, "random", s, b, w),
    "paretune-auto": lambda p, s, b, w: run_paretune(p, "auto", s, b, w),
    "paretune-async_hyperband": lambda p, s, b, w: run_paretune(p, "async_hyperband", s, b, False),
    "optuna-tpe-hyperband": run_optuna_hyperband,
    "smac-mf": run_smac,
    "dehb": run_dehb,
    "neps-priorband": lambda p, s, b, w: run_neps(p, "priorband", s, b, w),
    "neps-hyperband": lambda p, s, b, w: run_neps(p, "hyperband", s, b, False),
}
