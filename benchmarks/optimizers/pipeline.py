"""Suite (d): the built-in pipeline (what ``paretune fit`` runs) searched by auto and random.

This builds the study the way ``paretune.pipelines.fit`` does (same dataset split, search
space, default configuration as trial 1, and a budget in reference runs) but passes the
optimizer, which ``fit`` does not expose. Trial 1 is the default configuration at full
fidelity (``system_attrs["reference"]``). A budget of ``3x`` is three times that trial's cost
in seconds, so budgets are wall-clock based and depend on the machine's load. Only
evaluations at ``max_epochs`` count as found models.

Run in the project environment (it contains torch):

    .venv/bin/python benchmarks/optimizers/pipeline.py --datasets digits mnist1d adult \
        --budgets 3x 5x --seeds 0
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from paretune.budget import Budget
from paretune.pipelines.data import ADULT_COLUMNS, DatasetSpec, load_dataset
from paretune.pipelines.evaluation import PipelineEvaluation
from paretune.pipelines.fit import parse_objectives
from paretune.pipelines.search_space import DEFAULT_MAX_EPOCHS, build_space, default_config
from paretune.study import run

sys.path.insert(0, str(Path(__file__).parent))
from analysis import curve_from_trace, markdown_summary, plot_curves


def dataset_spec(name: str, data_root: Path, seed: int) -> DatasetSpec:
    if name == "adult":
        return DatasetSpec(
            str(data_root / "adult" / "adult.data"),
            target="income",
            sensitive=("sex",),
            columns=ADULT_COLUMNS,
            split_seed=seed,
        )
    return DatasetSpec(name, split_seed=seed)


def run_one(
    name: str, objectives: list[str], budget: str, optimizer: str, seed: int, data_root: Path
) -> dict[str, Any]:
    spec = dataset_spec(name, data_root, seed)
    loaded = load_dataset(spec)
    objective_tuple = parse_objectives(objectives)
    image_shape = None
    if loaded.kind == "image":
        image_shape = tuple(int(v) for v in loaded.features.shape[1:])
    space = build_space(loaded.kind, max_epochs=DEFAULT_MAX_EPOCHS, image_shape=image_shape)
    reference = default_config(loaded.kind, image_shape=image_shape)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        study = run(
            PipelineEvaluation(spec, tuple(o.name for o in objective_tuple), DEFAULT_MAX_EPOCHS),
            space,
            objectives=objective_tuple,
            storage=Path(folder) / "study",
            reference_config=reference,
            optimizer=optimizer,
            seed=seed,
            show_progress=False,
            **Budget.parse(budget).to_dict(),
        )
        trials = []
        for trial in study.trials:
            trials.append(
                {
                    "id": trial.id,
                    "fidelity": trial.fidelity,
                    "status": trial.status.value,
                    "cost": trial.cost,
                    "values": {o.name: trial.values.get(o.name) for o in objective_tuple}
                    if trial.values
                    else None,
                    "reference": bool(trial.system_attrs.get("reference")),
                }
            )
    found = [
        t["values"]["error"]
        for t in trials
        if t["status"] == "COMPLETED" and t["fidelity"] == DEFAULT_MAX_EPOCHS and t["values"]
    ]
    reference_error = next(
        (t["values"]["error"] for t in trials if t["reference"] and t["values"]), None
    )
    return {
        "task": name,
        "objectives": objectives,
        "budget": budget,
        "optimizer": optimizer,
        "seed": seed,
        "seconds": round(time.perf_counter() - start, 1),
        "trials": trials,
        "reference_error": reference_error,
        "best_error": min(found) if found else None,
        "full_fidelity_models": len(found),
    }


def to_curve_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Convert runs into ``analysis`` rows of regret after each budget fraction.

    The budget is measured in the cost of the run's own reference trial. Regret is the best
    full-fidelity validation error minus the best error that any run reached on the same
    dataset, objective set and seed, because the seed sets the split.
    """
    best: dict[str, float] = {}
    for row in rows:
        if row["best_error"] is not None:
            key = f"{row['task']}+{'+'.join(row['objectives'])}+{row['seed']}"
            best[key] = min(best.get(key, 1.0), row["best_error"])
    out = []
    for row in rows:
        trials = row["trials"]
        reference_cost = next(t["cost"] for t in trials if t["reference"])
        budget = float(row["budget"].rstrip("x")) * reference_cost
        trace, spent = [], 0.0
        for t in trials:
            spent += t["cost"] or 0.0
            full = (
                t["status"] == "COMPLETED" and t["fidelity"] == DEFAULT_MAX_EPOCHS and t["values"]
            )
            trace.append((spent, t["values"]["error"] if full else None))
        name = row["task"] if row["objectives"] == ["error"] else row["task"] + " (error, dp)"
        out.append(
            {
                "task": f"{name} {row['budget']}",
                "seed": row["seed"],
                "optimizer": row["optimizer"],
                "curve": curve_from_trace(
                    trace,
                    budget,
                    best[f"{row['task']}+{'+'.join(row['objectives'])}+{row['seed']}"],
                ),
            }
        )
    return out


def hypervolume_2d(
    points: list[tuple[float, float]], reference: tuple[float, float] = (1.0, 1.0)
) -> float:
    """Return the area dominated by ``points`` (both minimized) inside the ``reference`` box."""
    area, best_second = 0.0, reference[1]
    for first, second in sorted(points):
        if first < reference[0] and second < best_second:
            area += (reference[0] - first) * (best_second - second)
            best_second = second
    return area


def print_fairness_table(rows: list[dict[str, Any]]) -> None:
    """Print the hypervolume of (error, dp_difference) over the full-fidelity models."""
    print(
        "| dataset | budget | seed | optimizer "
        "| hypervolume of (error, dp_difference), reference (1, 1) "
        "| default (error, dp_difference) |"
    )
    print("|---|---|---|---|---|---|")
    for row in rows:
        if row["objectives"] != ["error", "dp_difference"]:
            continue
        points = [
            (t["values"]["error"], t["values"]["dp_difference"])
            for t in row["trials"]
            if t["status"] == "COMPLETED" and t["fidelity"] == DEFAULT_MAX_EPOCHS and t["values"]
        ]
        default = next((t["values"] for t in row["trials"] if t["reference"] and t["values"]), {})
        nan = float("nan")
        print(
            f"| {row['task']} | {row['budget']} | {row['seed']} | {row['optimizer']} "
            f"| {hypervolume_2d(points):.4f} "
            f"| {default.get('error', nan):.4f}, {default.get('dp_difference', nan):.4f} |"
        )


def summarize(paths: list[Path], plot: Path) -> None:
    rows = [row for path in paths for row in json.loads(path.read_text())["rows"]]
    curve_rows = to_curve_rows(rows)
    print(markdown_summary(curve_rows))
    print()
    print(
        "| dataset | objectives | budget | seed | default (trial 1) | auto | random "
        "| full-fidelity models auto / random |"
    )
    print("|---|---|---|---|---|---|---|---|")
    keys = sorted({(r["task"], tuple(r["objectives"]), r["budget"], r["seed"]) for r in rows})
    for key in keys:
        runs = {
            r["optimizer"]: r
            for r in rows
            if (r["task"], tuple(r["objectives"]), r["budget"], r["seed"]) == key
        }
        auto, random_run = runs.get("auto", {}), runs.get("random", {})
        nan = float("nan")
        print(
            f"| {key[0]} | {', '.join(key[1])} | {key[2]} | {key[3]} "
            f"| {auto.get('reference_error', nan):.4f} "
            f"| {auto.get('best_error') or nan:.4f} | {random_run.get('best_error') or nan:.4f} "
            f"| {auto.get('full_fidelity_models')} / {random_run.get('full_fidelity_models')} |"
        )
    print()
    print_fairness_table(rows)
    plot_curves(curve_rows, plot, "Pipeline: validation error minus best found")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["digits", "mnist1d", "adult"])
    parser.add_argument("--budgets", nargs="*", default=["3x", "5x"])
    parser.add_argument("--optimizers", nargs="*", default=["auto", "random"])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0])
    parser.add_argument(
        "--fair", action="store_true", help="also run adult with error and dp_difference"
    )
    parser.add_argument("--data-root", type=Path, default=Path("../shared/data"))
    parser.add_argument(
        "--output", type=Path, default=Path("benchmarks/optimizers/results/pipeline.json")
    )
    parser.add_argument(
        "--summarize",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="print the tables of these result files and save their plot next to --output "
        "(as .png), without running studies",
    )
    args = parser.parse_args()

    if args.summarize:
        summarize(args.summarize, args.output.with_suffix(".png"))
        return
    logging.getLogger("paretune").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    settings = [(d, ["error"]) for d in args.datasets]
    if args.fair:
        settings.append(("adult", ["error", "dp_difference"]))
    rows = json.loads(args.output.read_text())["rows"] if args.output.exists() else []
    for dataset, objectives in settings:
        for budget in args.budgets:
            for seed in args.seeds:
                for optimizer in args.optimizers:
                    row = run_one(dataset, objectives, budget, optimizer, seed, args.data_root)
                    rows.append(row)
                    print(json.dumps({k: v for k, v in row.items() if k != "trials"}), flush=True)
                    args.output.parent.mkdir(parents=True, exist_ok=True)
                    args.output.write_text(json.dumps({"rows": rows}))


if __name__ == "__main__":
    main()
