"""Suite (a): mf-prior-bench multi-fidelity Hartmann 3 and 6 with good and bad priors.

Cost accounting, the same for every optimizer: an evaluation at fidelity z costs z epochs; a
paretune promotion continues its parent and pays only the extra epochs; an Optuna trial pays the
epochs it ran before it was pruned. Only evaluations at the maximum fidelity (100) count as
found models. Regret is the best full-fidelity value minus the known optimum.

Run in the benchmark environment (it holds mf-prior-bench and the peers):

    .venv-bench/bin/python benchmarks/optimizers/mf_hartmann.py --seeds 5 --budget 20
"""

from __future__ import annotations

import argparse
import json
import logging
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mfpbench
import numpy as np

import paretune as pt

OPTIMUM = {"mfh3": -3.86278, "mfh6": -3.32237}
MAX_FIDELITY = 100
TASKS = ["mfh3_good", "mfh6_good"]
PRIORS = ["good", "bad"]


def load(task: str, prior: str, seed: int) -> Any:
    return mfpbench.get(task, seed=seed, prior=prior)


def paretune_space(bench: Any, with_prior: bool) -> pt.Space:
    prior = bench.prior
    params: dict[str, Any] = {}
    for name in sorted(bench.space.keys()):
        value = getattr(prior, name) if with_prior else None
        params[name] = pt.Float(0.0, 1.0, prior=value)
    params["epochs"] = pt.Fidelity(1, MAX_FIDELITY)
    return pt.Space(params)


def query(bench: Any, config: dict[str, Any], fidelity: int) -> float:
    cfg = bench.Config.from_dict({k: float(v) for k, v in config.items()})
    result = bench.query(cfg, at=int(fidelity))
    return float(getattr(result.value, "value", result.value))


def run_paretune(
    bench: Any, optimizer: str, seed: int, budget_epochs: float, with_prior: bool
) -> list[tuple[float, float | None]]:
    """Return (cumulative epochs, value at max fidelity or None) per finished trial."""

    def evaluate(trial: pt.Trial) -> dict[str, float]:
        trial.continued = trial.parent_id is not None  # the surrogate has no state to restore
        return {"value": query(bench, trial.config, int(trial.fidelity))}

    study = pt.run(
        evaluate,
        paretune_space(bench, with_prior),
        objectives=["value"],
        max_fidelity_total=budget_epochs,
        optimizer=optimizer,
        executor="inline",
        seed=seed,
        show_progress=False,
    )
    trace, spent = [], 0.0
    for trial in study.trials:
        spent += trial.fidelity_spent or 0.0
        full = trial.fidelity == MAX_FIDELITY and trial.status.value == "COMPLETED"
        trace.append((spent, trial.values["value"] if full else None))
    return trace


def run_optuna_hyperband(
    bench: Any, seed: int, budget_epochs: float, with_prior: bool
) -> list[tuple[float, float | None]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=MAX_FIDELITY, reduction_factor=3
        ),
        study_name=f"mfh-{seed}",  # fixed name: the pruner's bracket hash depends on it
    )
    names = sorted(bench.space.keys())
    trace: list[tuple[float, float | None]] = []
    spent = 0.0
    while spent < budget_epochs:
        trial = study.ask()
        config = {n: trial.suggest_float(n, 0.0, 1.0) for n in names}
        value, pruned = None, False
        for epoch in range(1, MAX_FIDELITY + 1):
            if spent >= budget_epochs:
                pruned = True
                break
            value = query(bench, config, epoch)
            spent += 1
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


RUNNERS: dict[str, Callable[..., list[tuple[float, float | None]]]] = {
    "random": lambda b, s, e, p: run_paretune(b, "random", s, e, p),
    "paretune-auto": lambda b, s, e, p: run_paretune(b, "auto", s, e, p),
    "paretune-async_hyperband": lambda b, s, e, p: run_paretune(b, "async_hyperband", s, e, False),
    "optuna-tpe-hyperband": run_optuna_hyperband,
}


def regret_at(trace: list[tuple[float, float | None]], epochs: float, optimum: float) -> float:
    values = [v for spent, v in trace if v is not None and spent <= epochs + 1e-9]
    return (min(values) - optimum) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument(
        "--budget", type=float, default=20, help="budget in full-fidelity runs (x 100 epochs)"
    )
    parser.add_argument("--optimizers", nargs="*", default=list(RUNNERS))
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/mf_hartmann.json"))
    args = parser.parse_args()
    logging.getLogger("paretune").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    budget = args.budget * MAX_FIDELITY
    checkpoints = [0.25, 0.5, 1.0]
    rows = []
    for task in TASKS:
        for prior in PRIORS:
            for seed in range(args.seeds):
                bench = load(task, prior, seed)
                for name in args.optimizers:
                    start = time.perf_counter()
                    trace = RUNNERS[name](bench, seed, budget, True)
                    regrets = [regret_at(trace, f * budget, OPTIMUM[task[:4]]) for f in checkpoints]
                    rows.append(
                        {
                            "task": task,
                            "prior": prior,
                            "seed": seed,
                            "optimizer": name,
                            "regret": regrets,
                            "seconds": time.perf_counter() - start,
                            "full_fidelity_runs": sum(v is not None for _, v in trace),
                        }
                    )
                    print(json.dumps(rows[-1]), flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps({"budget_epochs": budget, "checkpoints": checkpoints, "rows": rows}, indent=1)
    )
    summarize(rows, checkpoints)


def summarize(rows: list[dict[str, Any]], checkpoints: list[float]) -> None:
    """Print the median regret and the mean rank per budget fraction."""
    names = sorted({r["optimizer"] for r in rows})
    problems = sorted({(r["task"], r["prior"], r["seed"]) for r in rows})
    for k, fraction in enumerate(checkpoints):
        ranks = {n: [] for n in names}
        for problem in problems:
            values = {
                r["optimizer"]: r["regret"][k]
                for r in rows
                if (r["task"], r["prior"], r["seed"]) == problem
            }
            ordered = sorted(names, key=lambda n: np.nan_to_num(values[n], nan=np.inf))
            for position, n in enumerate(ordered):
                ranks[n].append(position + 1)
        print(
            f"budget {fraction:.0%}: "
            + ", ".join(
                f"{n} rank {np.mean(ranks[n]):.2f} median regret "
                f"{np.nanmedian([r['regret'][k] for r in rows if r['optimizer'] == n]):.4f}"
                for n in names
            )
        )


if __name__ == "__main__":
    main()
