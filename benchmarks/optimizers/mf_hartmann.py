"""Suite (a): mf-prior-bench multi-fidelity Hartmann 3 and 6 with good and bad priors.

Cost accounting is the one in ``peers.py``: an evaluation at fidelity z costs z epochs, and a
continuation (paretune, NePS, Optuna's epoch-by-epoch trials) pays only the extra epochs. Only
evaluations at the maximum fidelity (100) count as found models. Regret is the best
full-fidelity value minus the known optimum.

Run in the benchmark environment (it contains mf-prior-bench and the peers):

    .venv-bench/bin/python benchmarks/optimizers/mf_hartmann.py --seeds 10 --budget 20
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import mfpbench

sys.path.insert(0, str(Path(__file__).parent))
from analysis import GRID, curve_from_trace, markdown_summary, median_table, plot_curves
from peers import RUNNERS, MFProblem, Param

OPTIMUM = {"mfh3": -3.86278, "mfh6": -3.32237}
MAX_FIDELITY = 100
TASKS = ["mfh3_good", "mfh6_good"]
PRIORS = ["good", "bad"]


def make_problem(task: str, prior: str, seed: int) -> MFProblem:
    bench = mfpbench.get(task, seed=seed, prior=prior)

    def evaluate(config: dict[str, Any], fidelity: int) -> float:
        cfg = bench.Config.from_dict({k: float(v) for k, v in config.items()})
        result = bench.query(cfg, at=int(fidelity))
        return float(getattr(result.value, "value", result.value))

    params = {
        name: Param(0.0, 1.0, prior=float(getattr(bench.prior, name)))
        for name in sorted(bench.space.keys())
    }
    return MFProblem(params, 1, MAX_FIDELITY, evaluate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=list(range(10)))
    parser.add_argument(
        "--budget", type=float, default=20, help="budget in full-fidelity runs (x 100 epochs)"
    )
    parser.add_argument("--optimizers", nargs="*", default=list(RUNNERS))
    parser.add_argument(
        "--output", type=Path, default=Path("benchmarks/optimizers/results/mf_hartmann.json")
    )
    args = parser.parse_args()
    logging.getLogger("paretune").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")

    budget = args.budget * MAX_FIDELITY
    rows = []
    for task in TASKS:
        for prior in PRIORS:
            for seed in args.seeds:
                for name in args.optimizers:
                    problem = make_problem(task, prior, seed)
                    start = time.perf_counter()
                    trace = RUNNERS[name](problem, seed, budget, True)
                    rows.append(
                        {
                            "task": task,
                            "prior": prior,
                            "seed": seed,
                            "optimizer": name,
                            "curve": curve_from_trace(trace, budget, OPTIMUM[task[:4]]),
                            "seconds": round(time.perf_counter() - start, 2),
                            "evaluations": len(trace),
                            "full_fidelity_runs": sum(v is not None for _, v in trace),
                        }
                    )
                    print(
                        json.dumps({k: v for k, v in rows[-1].items() if k != "curve"}), flush=True
                    )
                args.output.parent.mkdir(parents=True, exist_ok=True)
                args.output.write_text(
                    json.dumps({"budget_epochs": budget, "grid": GRID, "rows": rows})
                )

    print(markdown_summary(rows))
    print(median_table(rows))
    plot_curves(rows, args.output.with_suffix(".png"), "MF-Hartmann regret (median, quartiles)")


if __name__ == "__main__":
    main()
