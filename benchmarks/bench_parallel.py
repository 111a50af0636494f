"""Throughput of parallel trials: 1 and 2 local worker processes, Ray on 2 CPUs, and Ray Tune.

Every setup runs the same ``N`` trials that each sleep ``--trial-seconds`` (1 s by default), in
one process, one after the other, so the ratios compare like with like. Two times are reported:

- wall: the whole call, including starting and stopping workers (a fixed cost per run);
- span: from the first trial's start to the last trial's end, as the trials themselves record
  them. Throughput and the overhead per trial use the span, which is what a long study sees:
  overhead = ``(span * slots - N * trial seconds) / N``, the slot time between trials.

Ray's start-up (``ray.init``) is measured once and reported on its own.

Usage:
    python benchmarks/bench_parallel.py [--trials 16] [--trial-seconds 1.0] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import paretune as pt

SLOTS = 2


Spans = list[tuple[float, float]]


@dataclass
class Measurement:
    setup: str
    slots: int
    trials: int
    wall_seconds: float
    span_seconds: float
    overhead_ms_per_trial: float

    @property
    def throughput(self) -> float:
        return self.trials / self.span_seconds


def sleeping_trial(trial: pt.Trial) -> dict[str, float]:
    trial.user_attrs["start"] = time.time()
    time.sleep(float(trial.config["seconds"]))
    trial.user_attrs["end"] = time.time()
    return {"loss": float(trial.config["x"])}


def _measure(
    setup: str, slots: int, trials: int, seconds: float, run: Callable[[], Spans]
) -> Measurement:
    started = time.perf_counter()
    spans = run()
    wall = time.perf_counter() - started
    span = max(end for _, end in spans) - min(start for start, _ in spans)
    overhead = (span * slots - trials * seconds) / trials
    return Measurement(setup, slots, trials, wall, span, overhead * 1000.0)


def _paretune_run(
    executor: str, n_workers: int, trials: int, seconds: float
) -> Callable[[], Spans]:
    def run() -> Spans:
        with tempfile.TemporaryDirectory(prefix="bench-parallel-") as folder:
            study = pt.run(
                sleeping_trial,
                {"x": pt.Float(0.0, 1.0), "seconds": pt.Constant(seconds)},
                objectives=["loss"],
                storage=Path(folder) / "study",
                max_trials=trials,
                n_workers=n_workers,
                executor=executor,
                optimizer="random",
                show_progress=False,
            )
            done = study.trials
            if len(done) != trials or any(t.status is not pt.TrialStatus.COMPLETED for t in done):
                raise RuntimeError(f"{executor}: not all of the {trials} trials completed")
            return [(t.user_attrs["start"], t.user_attrs["end"]) for t in done]

    return run


def _ray_tune_run(trials: int, seconds: float) -> Callable[[], Spans]:
    from ray import tune

    def trainable(config: dict[str, Any]) -> None:
        start = time.time()
        time.sleep(seconds)
        tune.report({"loss": config["x"], "start": start, "end": time.time()})

    def run() -> Spans:
        with tempfile.TemporaryDirectory(prefix="bench-tune-") as folder:
            tuner = tune.Tuner(
                tune.with_resources(trainable, {"cpu": 1}),
                param_space={"x": tune.uniform(0.0, 1.0)},
                tune_config=tune.TuneConfig(
                    num_samples=trials, max_concurrent_trials=SLOTS, reuse_actors=True
                ),
                run_config=tune.RunConfig(storage_path=folder, verbose=0),
            )
            results = tuner.fit()
            if results.num_errors:
                raise RuntimeError(f"Ray Tune had {results.num_errors} failed trials")
            frame = results.get_dataframe()
            return list(zip(frame["start"], frame["end"], strict=True))

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=16, help="Trials per setup.")
    parser.add_argument("--trial-seconds", type=float, default=1.0, help="Sleep of one trial.")
    parser.add_argument("--json", type=Path, help="Also write the results to this JSON file.")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    # Keep Ray on loopback: this benchmark uses one machine only.
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray

    trials, seconds = arguments.trials, arguments.trial_seconds
    results = [
        _measure(
            "process, 1 worker", 1, trials, seconds, _paretune_run("process", 1, trials, seconds)
        ),
        _measure(
            "process, 2 workers", 2, trials, seconds, _paretune_run("process", 2, trials, seconds)
        ),
    ]
    started = time.perf_counter()
    ray.init(num_cpus=SLOTS, include_dashboard=False, logging_level=logging.WARNING)
    ray_start_seconds = time.perf_counter() - started
    try:
        results.append(
            _measure("ray, 2 CPUs", 2, trials, seconds, _paretune_run("ray", 2, trials, seconds))
        )
        results.append(
            _measure("Ray Tune, 2 CPUs", 2, trials, seconds, _ray_tune_run(trials, seconds))
        )
    finally:
        ray.shutdown()
    _report(results, ray_start_seconds, arguments.json)


def _report(results: list[Measurement], ray_start_seconds: float, output: Path | None) -> None:
    single = results[0].throughput
    header = f"{'setup':<20} {'wall s':>7} {'span s':>7} {'trials/s':>9} {'vs 1 worker':>12}"
    print(header + f" {'overhead ms/trial':>18}")
    for r in results:
        print(
            f"{r.setup:<20} {r.wall_seconds:7.2f} {r.span_seconds:7.2f} {r.throughput:9.3f} "
            f"{r.throughput / single:11.2f}x {r.overhead_ms_per_trial:18.1f}"
        )
    print(f"ray.init with 2 CPUs (not in the times above): {ray_start_seconds:.2f} s")
    if output is not None:
        rows = [{**asdict(r), "throughput": r.throughput} for r in results]
        report = {"results": rows, "ray_init_seconds": ray_start_seconds}
        output.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
