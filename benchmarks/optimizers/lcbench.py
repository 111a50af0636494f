"""Suite (b): the YAHPO Gym LCBench surrogate, epochs 1-52 as the fidelity.

The objective is the validation error, 1 - val_accuracy / 100, of the surrogate's MLP learning
curves on 8 OpenML tasks. The surrogate runs in its own environment (``.venv-yahpo``, see
``lcbench_surrogate.py``). Cost accounting is the one in ``peers.py``. There is no known
optimum, so regret is measured against the best full-fidelity value that any run in the
output file found on that task (ranks do not depend on this choice).

Run in the benchmark environment:

    .venv-bench/bin/python benchmarks/optimizers/lcbench.py --seeds 0 1 2 --budget 20
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from analysis import GRID, curve_from_trace, markdown_summary, median_table, plot_curves
from peers import RUNNERS, MFProblem, Param

MAX_EPOCHS = 52
TASKS = ["3945", "7593", "34539", "126025", "126026", "126029", "146212", "167104"]
# The YAHPO LCBench search space; the prior is the space's default configuration.
PARAMS = {
    "batch_size": Param(16, 512, log=True, integer=True, prior=91),
    "learning_rate": Param(1e-4, 0.1, log=True, prior=0.0031622777),
    "max_dropout": Param(0.0, 1.0, prior=0.5),
    "max_units": Param(64, 1024, log=True, integer=True, prior=256),
    "momentum": Param(0.1, 0.99, prior=0.545),
    "num_layers": Param(1, 5, integer=True, prior=3),
    "weight_decay": Param(1e-5, 0.1, prior=0.050005),
}


class Surrogate:
    """A client of ``lcbench_surrogate.py`` running in the yahpo environment."""

    def __init__(self, python: Path, data: Path) -> None:
        script = Path(__file__).with_name("lcbench_surrogate.py")
        self.process = subprocess.Popen(
            [str(python), str(script), str(data)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def errors(self, task: str, configs: list[dict[str, Any]]) -> list[float]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({"task": task, "configs": configs}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(
                "The LCBench surrogate process exited without a reply. Run lcbench_surrogate.py "
                "with the yahpo environment's Python and the data folder to see its error."
            )
        return json.loads(line)


def make_problem(surrogate: Surrogate, task: str) -> MFProblem:
    def evaluate(config: dict[str, Any], epochs: int) -> float:
        return surrogate.errors(task, [dict(config, epoch=int(epochs))])[0]

    def evaluate_curve(config: dict[str, Any]) -> list[float]:
        return surrogate.errors(task, [dict(config, epoch=e) for e in range(1, MAX_EPOCHS + 1)])

    return MFProblem(dict(PARAMS), 1, MAX_EPOCHS, evaluate, evaluate_curve)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=list(range(10)))
    parser.add_argument(
        "--budget", type=float, default=20, help="budget in full runs (x 52 epochs)"
    )
    parser.add_argument("--tasks", nargs="*", default=TASKS)
    parser.add_argument("--optimizers", nargs="*", default=list(RUNNERS))
    parser.add_argument("--yahpo-python", type=Path, default=Path(".venv-yahpo/bin/python"))
    parser.add_argument("--data", type=Path, default=Path("../shared/data/yahpo_lcbench"))
    parser.add_argument(
        "--output", type=Path, default=Path("benchmarks/optimizers/results/lcbench.json")
    )
    args = parser.parse_args()
    logging.getLogger("paretune").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")

    surrogate = Surrogate(args.yahpo_python, args.data)
    budget = args.budget * MAX_EPOCHS
    runs = []
    for task in args.tasks:
        for seed in args.seeds:
            for name in args.optimizers:
                problem = make_problem(surrogate, task)
                start = time.perf_counter()
                trace = RUNNERS[name](problem, seed, budget, True)
                runs.append(
                    {
                        "task": task,
                        "seed": seed,
                        "optimizer": name,
                        "trace": trace,
                        "seconds": round(time.perf_counter() - start, 2),
                    }
                )
                finals = [v for _, v in trace if v is not None]
                print(
                    json.dumps(
                        {k: v for k, v in runs[-1].items() if k != "trace"}
                        | {"best": min(finals) if finals else None}
                    ),
                    flush=True,
                )
            write(runs, budget, args.output)

    rows = write(runs, budget, args.output)
    print(markdown_summary(rows))
    print(median_table(rows))
    plot_curves(
        rows,
        args.output.with_suffix(".png"),
        "LCBench regret to the best found (median, quartiles)",
    )


def write(runs: list[dict[str, Any]], budget: float, output: Path) -> list[dict[str, Any]]:
    """Convert traces into regret curves against the best value per task and save them."""
    best: dict[str, float] = {}
    for run in runs:
        for _, value in run["trace"]:
            if value is not None:
                best[run["task"]] = min(best.get(run["task"], value), value)
    rows = []
    for run in runs:
        row = {k: v for k, v in run.items() if k != "trace"}
        row["curve"] = curve_from_trace(run["trace"], budget, best.get(run["task"], 0.0))
        row["evaluations"] = len(run["trace"])
        row["full_fidelity_runs"] = sum(v is not None for _, v in run["trace"])
        rows.append(row)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        json.dumps({"budget_epochs": budget, "grid": GRID, "best": best, "rows": rows})
    )
    return rows


if __name__ == "__main__":
    main()
