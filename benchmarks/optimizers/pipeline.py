"""Suite (d): the built-in pipeline (what ``paretune fit`` runs) searched by auto and random.

This builds the study the way ``paretune.pipelines.fit`` does (same dataset split, search
space, default configuration as trial 1, and a budget in reference runs) and passes the
optimizer with optional settings (``priorband:min_fidelity=9``), without writing fit's run
folder and exported model. Trial 1 is the default configuration at full fidelity
(``system_attrs["reference"]``). A budget of ``3x`` is three times that trial's cost in
seconds, so budgets are wall-clock based and depend on the machine's load. Only evaluations at
``max_epochs`` count as found models.

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

import numpy as np

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


def parse_variant(text: str) -> tuple[str, dict[str, Any]]:
    """Split ``"priorband:min_fidelity=9"`` into the optimizer name and its settings."""
    name, _, rest = text.partition(":")
    settings: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        settings[key] = json.loads(value)
    return name, settings


def run_one(
    name: str, objectives: list[str], budget: str, optimizer: str, seed: int, data_root: Path
) -> dict[str, Any]:
    optimizer_name, optimizer_settings = parse_variant(optimizer)
    if optimizer_name in ("optuna_tpe", "neps_priorband", "neps_moasha", "dehb", "smac_mf"):
        import pipeline_peers  # noqa: F401  (registers the peers; needs .venv-bench)
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
            optimizer=optimizer_name,
            optimizer_settings=optimizer_settings,
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


def truncated(row: dict[str, Any], budget: str) -> dict[str, Any]:
    """Return ``row`` as a run with the smaller ``budget`` would have ended.

    The optimizers' choices do not depend on the budget between 3 and 5 reference runs,
    because the rules of ``auto`` treat both alike. So a 3x run is the start of a 5x run. It
    keeps the trials started before the spent cost reached the smaller budget, as the run loop
    starts trials.
    """
    trials = row["trials"]
    reference_cost = next(t["cost"] for t in trials if t["reference"])
    limit = float(budget.rstrip("x")) * reference_cost
    started, spent = [], 0.0
    for t in trials:
        if spent >= limit:
            break
        started.append(t)
        spent += t["cost"] or 0.0
    found = [
        t["values"]["error"]
        for t in started
        if t["status"] == "COMPLETED" and t["fidelity"] == DEFAULT_MAX_EPOCHS and t["values"]
    ]
    return {
        **row,
        "budget": budget,
        "trials": started,
        "best_error": min(found) if found else None,
        "full_fidelity_models": len(found),
    }


def print_outcome_table(rows: list[dict[str, Any]]) -> None:
    """Print, per dataset and budget, each optimizer's median best error and wins.

    A cell reads "median error; seeds that beat the default; median full-fidelity models".
    Each run is compared with its own trial 1, because a peer in another environment can
    train the default to a slightly different error. Only seeds that every optimizer ran are
    counted.
    """
    names = sorted({r["optimizer"] for r in rows}, key=lambda n: (n != "auto", n != "random", n))
    print(
        "| dataset | objectives | budget | seeds | default, median | "
        + " | ".join(names)
        + " | auto better / tied / worse than random |"
    )
    print("|---|---|---|---|---|" + "---|" * len(names) + "---|")
    groups = sorted({(r["task"], tuple(r["objectives"]), r["budget"]) for r in rows})
    for task, objectives, budget in groups:
        runs: dict[int, dict[str, dict[str, Any]]] = {}
        for r in rows:
            if (r["task"], tuple(r["objectives"]), r["budget"]) == (task, objectives, budget):
                runs.setdefault(r["seed"], {})[r["optimizer"]] = r
        complete = [v for v in runs.values() if set(names) <= set(v)]
        if not complete:
            continue
        default = [v[names[0]]["reference_error"] for v in complete]
        cells = []
        for name in names:
            best = [_best_error(v[name]) for v in complete]
            beat = sum(_best_error(v[name]) < v[name]["reference_error"] for v in complete)
            models = np.median([v[name]["full_fidelity_models"] for v in complete])
            cells.append(f"{np.median(best):.4f}; {beat} of {len(complete)}; {models:g}")
        versus = "-"
        if {"auto", "random"} <= set(names):
            auto = [_best_error(v["auto"]) for v in complete]
            rand = [_best_error(v["random"]) for v in complete]
            better = sum(a < r for a, r in zip(auto, rand, strict=True))
            tied = sum(a == r for a, r in zip(auto, rand, strict=True))
            versus = f"{better} / {tied} / {len(complete) - better - tied}"
        print(
            f"| {task} | {', '.join(objectives)} | {budget} | {len(complete)} "
            f"| {np.median(default):.4f} | " + " | ".join(cells) + f" | {versus} |"
        )


def _best_error(run: dict[str, Any]) -> float:
    return float(run["best_error"] if run["best_error"] is not None else np.inf)


def summarize(paths: list[Path], plot: Path, also: list[str]) -> None:
    rows = [row for path in paths for row in json.loads(path.read_text())["rows"]]
    rows += [
        truncated(row, budget)
        for row in rows
        for budget in also
        if float(row["budget"].rstrip("x")) > float(budget.rstrip("x"))
    ]
    curve_rows = to_curve_rows(rows)
    print(markdown_summary(curve_rows))
    print()
    print_outcome_table(rows)
    print()
    print_fairness_table(rows)
    plot_curves(curve_rows, plot, "Pipeline: validation error minus best found")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["digits", "mnist1d", "adult"])
    parser.add_argument("--budgets", nargs="*", default=["3x", "5x"])
    parser.add_argument(
        "--optimizers",
        nargs="*",
        default=["auto", "random"],
        help="optimizer names, each optionally with settings: priorband:min_fidelity=9",
    )
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
    parser.add_argument(
        "--truncate",
        nargs="*",
        default=[],
        metavar="BUDGET",
        help="with --summarize, also report each run cut at these smaller budgets, such as 3x",
    )
    args = parser.parse_args()

    if args.summarize:
        summarize(args.summarize, args.output.with_suffix(".png"), args.truncate)
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
