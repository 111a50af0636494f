"""Loop and storage overhead per trial, against Optuna, plus the speed-up of 2 local workers.

Run: .venv/bin/python benchmarks/bench_engine.py [--trials 10000] [--optuna-tpe-trials 1000]

Every figure comes from one process on one machine, so the ratios compare like with like.
Overhead at N stored trials is the mean time between consecutive finished trials over the 100
trials before trial N, with a no-op objective and random search.
"""

from __future__ import annotations

import argparse
import logging
import platform
import sqlite3
import tempfile
import time
from pathlib import Path

import paretune as pt

WINDOW = 100
SPACE = {
    "lr": pt.Float(1e-5, 1e-1, log=True),
    "layers": pt.Integer(1, 8),
    "act": pt.Categorical(["relu", "gelu", "tanh"]),
}


def noop(trial: pt.Trial) -> dict[str, float]:
    return {"loss": 0.0}


def sleep_one_second(trial: pt.Trial) -> dict[str, float]:
    time.sleep(1.0)
    return {"loss": 0.0}


def overhead_at(stamps: list[float], checkpoints: list[int]) -> dict[int, float]:
    """Mean milliseconds per trial over the WINDOW trials that end at each checkpoint."""
    result = {}
    for n in checkpoints:
        if n <= len(stamps):
            window = stamps[n - WINDOW : n]
            result[n] = 1000 * (window[-1] - window[0]) / (len(window) - 1)
    return result


def bench_paretune(
    trials: int, checkpoints: list[int], folder: Path
) -> tuple[dict[int, float], float]:
    stamps: list[float] = []
    study = pt.create_study(SPACE, objectives=["loss"], storage=folder / "paretune", seed=0)
    study.optimize(
        noop,
        budget=pt.Budget(max_trials=trials),
        executor="inline",
        optimizer="random",
        show_progress=False,
        on_trial_finished=lambda _study, _trial: stamps.append(time.perf_counter()),
    )
    size = _folder_bytes(folder / "paretune")
    return overhead_at(stamps, checkpoints), size / trials


def bench_optuna(
    sampler_name: str, storage_kind: str, trials: int, checkpoints: list[int], folder: Path
) -> dict[int, float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler: optuna.samplers.BaseSampler = (
        optuna.samplers.TPESampler(seed=0)
        if sampler_name == "tpe"
        else optuna.samplers.RandomSampler(seed=0)
    )
    storage = (
        f"sqlite:///{folder / f'optuna-{sampler_name}.db'}" if storage_kind == "sqlite" else None
    )
    study = optuna.create_study(sampler=sampler, storage=storage)
    stamps: list[float] = []

    def objective(trial: optuna.Trial) -> float:
        trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        trial.suggest_int("layers", 1, 8)
        trial.suggest_categorical("act", ["relu", "gelu", "tanh"])
        return 0.0

    study.optimize(
        objective,
        n_trials=trials,
        callbacks=[lambda _s, _t: stamps.append(time.perf_counter())],
    )
    return overhead_at(stamps, checkpoints)


def bench_workers(folder: Path, trials: int) -> dict[int, float]:
    seconds = {}
    for workers in (1, 2):
        started = time.perf_counter()
        pt.run(
            sleep_one_second,
            SPACE,
            objectives=["loss"],
            storage=folder / f"workers-{workers}",
            max_trials=trials,
            n_workers=workers,
            optimizer="random",
            show_progress=False,
        )
        seconds[workers] = time.perf_counter() - started
    return seconds


def _folder_bytes(folder: Path) -> int:
    # Fold the write-ahead log into the main file first, so the size is what stays on disk.
    connection = sqlite3.connect(folder / "study.sqlite")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _print_table(title: str, rows: dict[str, dict[int, float]], checkpoints: list[int]) -> None:
    print(f"\n{title}")
    print("| run | " + " | ".join(f"ms/trial at {n:,}" for n in checkpoints) + " |")
    print("|---|" + "---|" * len(checkpoints))
    for name, values in rows.items():
        cells = [f"{values[n]:.3f}" if n in values else "not run" for n in checkpoints]
        print(f"| {name} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--optuna-tpe-trials", type=int, default=1_000)
    parser.add_argument("--worker-trials", type=int, default=12)
    arguments = parser.parse_args()
    logging.getLogger("paretune").setLevel(logging.WARNING)
    checkpoints = [1_000, arguments.trials] if arguments.trials > 1_000 else [arguments.trials]
    results: dict[str, dict[int, float]] = {}
    optuna_runs = [
        ("random", "sqlite", arguments.trials),
        ("random", "memory", arguments.trials),
        ("tpe", "sqlite", arguments.optuna_tpe_trials),
        ("tpe", "memory", arguments.optuna_tpe_trials),
    ]
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        ours, bytes_per_trial = bench_paretune(arguments.trials, checkpoints, folder)
        results["paretune random, SQLite (inline)"] = ours
        for sampler, storage, trials in optuna_runs:
            label = f"optuna {'TPE' if sampler == 'tpe' else sampler}, {storage}"
            results[label] = bench_optuna(sampler, storage, trials, checkpoints, folder)
        seconds = bench_workers(folder, arguments.worker_trials)
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    _print_table("Loop and storage overhead (no-op objective, random search)", results, checkpoints)
    reference = results["optuna random, sqlite"]
    for n in checkpoints:
        if n in reference and n in ours:
            print(f"Optuna random+SQLite / paretune at {n:,} trials: {reference[n] / ours[n]:.1f}x")
    print(f"\nstorage: {bytes_per_trial:.0f} bytes per trial (study.sqlite after a WAL checkpoint)")
    speedup = seconds[1] / seconds[2]
    print(
        f"{arguments.worker_trials} one-second trials: 1 worker {seconds[1]:.2f} s, "
        f"2 workers {seconds[2]:.2f} s, speed-up {speedup:.2f}x"
    )


if __name__ == "__main__":
    main()
