"""Optimizer overhead: seconds per ``ask`` at 100 and 1,000 finished trials.

A synthetic history (6 floats, with priors for priorband, and an epochs fidelity 1-27, cheap
loss) is built by the optimizer itself; then the next 10 calls of ``ask`` are timed, each suggestion
finished and added before the following ask.
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
    """Return the mean seconds of the ``repeats`` calls of ``ask`` after ``n_trials`` trials.

    Each timed suggestion is finished and added to the history before the next ask, so a
    synchronous schedule's timings mix promotions and new samples as a run does.
    """
    fidelity = name not in {"tpe", "gp", "random", "nsga2"}
    prior = 0.5 if name == "priorband" else None
    params = {f"x{i}": pt.Float(0, 1, prior=prior) for i in range(6)}
    if fidelity:
        params["epochs"] = pt.Fidelity(1, 27)
    objectives = (Objective("loss"), Objective("size")) if name == "nsga2" else (Objective("loss"),)
    optimizer, _ = make_optimizer(name, Problem(pt.Space(params), objectives))
    rng = np.random.default_rng(0)
    history: list[TrialRecord] = []
    elapsed = 0.0
    for trial_id in range(1, n_trials + repeats + 1):
        start = time.perf_counter()
        suggestion = optimizer.ask(history, trial_id)
        if trial_id > n_trials:
            elapsed += time.perf_counter() - start
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
    return elapsed / repeats


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
