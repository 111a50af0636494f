"""Optimizer overhead: seconds per ``ask`` at 100 and 1,000 finished trials.

A synthetic history (6 floats, with priors for priorband, and an epochs fidelity 1-27, cheap
loss) is built by the optimizer itself; then ``ask`` is timed 10 times on the full history.
Run with:

    .venv/bin/python benchmarks/optimizers/overhead.py --optimizers async_hyperband tpe
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import paretune as pt
from paretune.objectives import Objective
from paretune.optimizers import Problem, make_optimizer
from paretune.trial import TrialRecord, TrialStatus


def timed_ask(name: str, n_trials: int, repeats: int = 10) -> float:
    fidelity = name not in {"tpe", "gp", "random", "nsga2"}
    prior = 0.5 if name == "priorband" else None
    params = {f"x{i}": pt.Float(0, 1, prior=prior) for i in range(6)}
    if fidelity:
        params["epochs"] = pt.Fidelity(1, 27)
    objectives = (Objective("loss"), Objective("size")) if name == "nsga2" else (Objective("loss"),)
    optimizer, _ = make_optimizer(name, Problem(pt.Space(params), objectives))
    rng = np.random.default_rng(0)
    history: list[TrialRecord] = []
    for trial_id in range(1, n_trials + 1):
        suggestion = optimizer.ask(history, trial_id)
        assert suggestion is not None
        values = {"loss": sum(suggestion.config.values()) + rng.random(), "size": rng.random()}
        history.append(
            TrialRecord(
                id=trial_id,
                config=suggestion.config,
                fidelity=suggestion.fidelity,
                status=TrialStatus.COMPLETED,
                values=values,
                parent_id=suggestion.parent_id,
                system_attrs={"optimizer": suggestion.info},
            )
        )
    start = time.perf_counter()
    for _ in range(repeats):
        optimizer.ask(history, n_trials + 1)
    return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--optimizers",
        nargs="*",
        default=["async_hyperband", "priorband", "asha", "tpe", "nsga2", "random"],
    )
    parser.add_argument("--trials", nargs="*", type=int, default=[100, 1000])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print("| optimizer | " + " | ".join(f"ms per ask at {n} trials" for n in args.trials) + " |")
    print("|---|" + "---|" * len(args.trials))
    for name in args.optimizers:
        cells = [f"{1000 * timed_ask(name, n):.1f}" for n in args.trials]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
