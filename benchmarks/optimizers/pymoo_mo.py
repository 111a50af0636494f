"""Suite (c): pymoo ZDT1, ZDT2, ZDT3 and DTLZ2 (2 objectives, 6 variables), hypervolume regret.

Every optimizer gets the same number of evaluations (default 100). Hypervolume regret is the
hypervolume of pymoo's known Pareto front (1,000 points; ZDT3: pymoo's fixed sampling) minus
that of the points found so far, both against a reference point just beyond the worst objective
values (ZDT: f1 <= 1 and f2 <= 10, so (1.1, 11); DTLZ2 with 6 variables: f <= 2.25, so
(2.5, 2.5)). A tighter point such as (1.1, 1.1) leaves almost every point of a 100-evaluation
run outside the box, and then all optimizers tie at the full regret.

Run in the benchmark environment:

    .venv-bench/bin/python benchmarks/optimizers/pymoo_mo.py --seeds 0 1 2 3 4 5 6 7 8 9
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pymoo.indicators.hv import HV
from pymoo.problems import get_problem

import paretune as pt

sys.path.insert(0, str(Path(__file__).parent))
from analysis import GRID, markdown_summary, median_table, plot_curves

N_VAR = 6
REFERENCE_POINTS = {
    "zdt1": (1.1, 11.0),
    "zdt2": (1.1, 11.0),
    "zdt3": (1.1, 11.0),
    "dtlz2": (2.5, 2.5),
}
PROBLEMS = ["zdt1", "zdt2", "zdt3", "dtlz2"]


def load(name: str) -> Any:
    if name.startswith("dtlz"):
        return get_problem(name, n_var=N_VAR, n_obj=2)
    return get_problem(name, n_var=N_VAR)


def objective(problem: Any) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: np.asarray(problem.evaluate(np.asarray(x, dtype=float)[None, :]))[0]


def run_paretune(problem: Any, optimizer: str, seed: int, n: int) -> list[np.ndarray]:
    f = objective(problem)
    space = pt.Space(
        {f"x{i}": pt.Float(float(problem.xl[i]), float(problem.xu[i])) for i in range(N_VAR)}
    )
    points: list[np.ndarray] = []

    def evaluate(trial: pt.Trial) -> dict[str, float]:
        y = f([trial.config[f"x{i}"] for i in range(N_VAR)])
        points.append(y)
        return {"f1": float(y[0]), "f2": float(y[1])}

    pt.run(
        evaluate,
        space,
        objectives=["f1", "f2"],
        max_trials=n,
        optimizer=optimizer,
        executor="inline",
        seed=seed,
        show_progress=False,
    )
    return points


def run_optuna(problem: Any, sampler_name: str, seed: int, n: int) -> list[np.ndarray]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if sampler_name == "nsga2":
        sampler = optuna.samplers.NSGAIISampler(seed=seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed)
    f = objective(problem)
    points: list[np.ndarray] = []

    def evaluate(trial: Any) -> tuple[float, float]:
        x = [
            trial.suggest_float(f"x{i}", float(problem.xl[i]), float(problem.xu[i]))
            for i in range(N_VAR)
        ]
        y = f(x)
        points.append(y)
        return float(y[0]), float(y[1])

    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    study.optimize(evaluate, n_trials=n)
    return points


def run_smac_parego(problem: Any, seed: int, n: int) -> list[np.ndarray]:
    import ConfigSpace as CS
    from smac import HyperparameterOptimizationFacade, Scenario
    from smac.multi_objective.parego import ParEGO
    from smac.runhistory.dataclasses import TrialValue

    space = CS.ConfigurationSpace(seed=seed)
    space.add(
        [CS.Float(f"x{i}", (float(problem.xl[i]), float(problem.xu[i]))) for i in range(N_VAR)]
    )
    f = objective(problem)
    points: list[np.ndarray] = []
    with tempfile.TemporaryDirectory() as output:
        scenario = Scenario(
            space,
            objectives=["f1", "f2"],
            deterministic=True,
            n_trials=n,
            seed=seed,
            output_directory=output,
        )
        smac = HyperparameterOptimizationFacade(
            scenario,
            lambda config, seed=0: [0.0, 0.0],
            multi_objective_algorithm=ParEGO(scenario),
            overwrite=True,
            logging_level=40,
        )
        for _ in range(n):
            info = smac.ask()
            y = f([info.config[f"x{i}"] for i in range(N_VAR)])
            points.append(y)
            smac.tell(info, TrialValue(cost=[float(y[0]), float(y[1])]))
    return points


RUNNERS: dict[str, Callable[[Any, int, int], list[np.ndarray]]] = {
    "random": lambda p, s, n: run_paretune(p, "random", s, n),
    "paretune-auto": lambda p, s, n: run_paretune(p, "auto", s, n),
    "paretune-ehvi": lambda p, s, n: run_paretune(p, "ehvi", s, n),
    "paretune-tpe": lambda p, s, n: run_paretune(p, "tpe", s, n),
    "paretune-nsga2": lambda p, s, n: run_paretune(p, "nsga2", s, n),
    "optuna-nsga2": lambda p, s, n: run_optuna(p, "nsga2", s, n),
    "optuna-motpe": lambda p, s, n: run_optuna(p, "tpe", s, n),
    "smac-parego": run_smac_parego,
}


def known_front(problem: Any) -> np.ndarray:
    try:
        return problem.pareto_front(n_pareto_points=1000)
    except TypeError:  # pymoo 0.6.2's ZDT3 builds its disconnected front at a fixed size
        return problem.pareto_front()


def hv_curve(
    points: list[np.ndarray], n: int, best: float, reference: tuple[float, float]
) -> list[float]:
    indicator = HV(ref_point=np.array(reference))
    curve = []
    for fraction in GRID:
        found = np.array(points[: round(fraction * n)])
        curve.append(float(best - indicator(found)) if len(found) else best)
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=list(range(10)))
    parser.add_argument("--evaluations", type=int, default=100)
    parser.add_argument("--problems", nargs="*", default=PROBLEMS)
    parser.add_argument("--optimizers", nargs="*", default=list(RUNNERS))
    parser.add_argument(
        "--output", type=Path, default=Path("benchmarks/optimizers/results/pymoo_mo.json")
    )
    args = parser.parse_args()
    logging.getLogger("paretune").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    rows = []
    for name in args.problems:
        problem = load(name)
        best = float(HV(ref_point=np.array(REFERENCE_POINTS[name]))(known_front(problem)))
        for seed in args.seeds:
            for optimizer in args.optimizers:
                start = time.perf_counter()
                points = RUNNERS[optimizer](problem, seed, args.evaluations)
                seconds = time.perf_counter() - start
                rows.append(
                    {
                        "task": name,
                        "seed": seed,
                        "optimizer": optimizer,
                        "curve": hv_curve(points, args.evaluations, best, REFERENCE_POINTS[name]),
                        "front_hypervolume": best,
                        "seconds": round(seconds, 2),
                        "ms_per_evaluation": round(1000 * seconds / len(points), 2),
                    }
                )
                print(
                    json.dumps(
                        {k: v for k, v in rows[-1].items() if k != "curve"}
                        | {"final": rows[-1]["curve"][-1]}
                    ),
                    flush=True,
                )
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(
                json.dumps({"evaluations": args.evaluations, "grid": GRID, "rows": rows})
            )
    print(markdown_summary(rows))
    print(median_table(rows))
    plot_curves(
        rows,
        args.output.with_suffix(".png"),
        "Hypervolume regret (median, quartiles)",
        "hypervolume regret",
    )


if __name__ == "__main__":
    main()
