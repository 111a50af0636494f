"""Time the audit report of a 1,000-trial study.

The study has three objectives, a fidelity with learning curves (up to 27 points per trial),
five parameters of every type and about 3% failed trials. It is built once with the inline
executor; the report is then written three times and the median wall time is printed.

Run from the repository root:
    .venv/bin/python benchmarks/bench_report.py [--trials 1000] [--folder /tmp/bench-report]
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import time
from pathlib import Path

import paretune as pt
from paretune.report import report


def evaluate(trial: pt.Trial) -> dict[str, float]:
    config = trial.config
    if config["dropout"] > 0.485:
        raise RuntimeError("loss diverged to NaN at epoch 2")
    width = config["width"]
    fidelity = int(trial.fidelity or 1)
    error = 1.0
    for epoch in range(1, fidelity + 1):
        error = 0.08 + 0.5 / (epoch + 1) + 0.03 * abs(math.log10(config["lr"]) + 2.5)
        error += 0.02 * (config["optimizer"] == "sgd") + 4.0 / width + 0.1 * config["dropout"]
        trial.report(epoch, {"error": error})
    return {
        "error": error,
        "latency_ms": width / 50.0 * config["layers"],
        "params": float(width * width * config["layers"]),
    }


def space() -> pt.Space:
    return pt.Space(
        {
            "lr": pt.Float(1e-5, 1e-1, log=True),
            "dropout": pt.Float(0.0, 0.5),
            "layers": pt.Integer(1, 8),
            "width": pt.Categorical([512, 32, 64, 128, 256]),
            "optimizer": pt.Categorical(["adam", "sgd", None]),
            "epochs": pt.Fidelity(1, 27),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/bench-report"))
    arguments = parser.parse_args()
    shutil.rmtree(arguments.folder, ignore_errors=True)
    started = time.perf_counter()
    study = pt.run(
        evaluate,
        space(),
        objectives=["error", "latency_ms", "params"],
        storage=arguments.folder / "study",
        max_trials=arguments.trials,
        executor="inline",
        optimizer="sobol",
        seed=0,
        max_consecutive_failures=None,
        show_progress=False,
    )
    print(f"built {len(study.trials)} trials in {time.perf_counter() - started:.1f} s")
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        path = report(study, arguments.folder / "report.html")
        timings.append(time.perf_counter() - started)
    size = path.stat().st_size / 1e6
    print(
        f"report of {len(study.trials)} trials: median {statistics.median(timings):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in timings)}), {size:.1f} MB"
    )


if __name__ == "__main__":
    main()
