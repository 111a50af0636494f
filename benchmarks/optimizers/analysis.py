"""Summaries shared by the suites: anytime curves, mean ranks, speed-up, plots and tables.

A result row is one (problem, seed, optimizer) run with ``curve``: the regret (or hypervolume
regret) after each fraction of the budget in ``GRID``, NaN before the first found model.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

GRID = [round(0.05 * k, 2) for k in range(1, 21)]  # fractions of the budget, 0.05 .. 1.0


def curve_from_trace(
    trace: Sequence[tuple[float, float | None]], budget: float, optimum: float
) -> list[float]:
    """Return the best value minus ``optimum`` after each budget fraction in ``GRID``."""
    curve = []
    for fraction in GRID:
        values = [v for spent, v in trace if v is not None and spent <= fraction * budget + 1e-9]
        curve.append(float(min(values) - optimum) if values else float("nan"))
    return curve


def problem_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["task"], row.get("prior", ""), row["seed"])


def mean_ranks(rows: list[dict[str, Any]], index: int) -> dict[str, float]:
    """Mean rank (1 = best, ties share the average rank, NaN ranks last) at ``GRID[index]``."""
    from scipy.stats import rankdata

    names = sorted({r["optimizer"] for r in rows})
    ranks: dict[str, list[float]] = {n: [] for n in names}
    by_problem: dict[tuple[Any, ...], dict[str, float]] = {}
    for r in rows:
        by_problem.setdefault(problem_key(r), {})[r["optimizer"]] = r["curve"][index]
    for values in by_problem.values():
        present = [n for n in names if n in values]
        scores = [np.nan_to_num(values[n], nan=np.inf) for n in present]
        for n, rank in zip(present, rankdata(scores), strict=True):
            ranks[n].append(float(rank))
    return {n: float(np.mean(v)) for n, v in ranks.items() if v}


def speedups(rows: list[dict[str, Any]], baseline: str = "random") -> dict[str, float]:
    """Median over problems of (budget random search needs) / (budget the optimizer needs).

    The target is random search's final value on the same problem. An optimizer that never
    reaches it within the budget counts as needing one grid step more than the whole budget.
    """
    out: dict[str, list[float]] = {}
    by_problem: dict[tuple[Any, ...], dict[str, list[float]]] = {}
    for r in rows:
        by_problem.setdefault(problem_key(r), {})[r["optimizer"]] = r["curve"]
    for curves in by_problem.values():
        if baseline not in curves or np.isnan(curves[baseline][-1]):
            continue
        target = curves[baseline][-1]
        base_steps = _steps_to_reach(curves[baseline], target)
        for name, curve in curves.items():
            out.setdefault(name, []).append(base_steps / _steps_to_reach(curve, target))
    return {n: float(np.median(v)) for n, v in out.items()}


def _steps_to_reach(curve: list[float], target: float) -> float:
    for k, value in enumerate(curve):
        if not np.isnan(value) and value <= target + 1e-12:
            return float(k + 1)
    return float(len(curve) + 1)


def plot_curves(rows: list[dict[str, Any]], path: Path, title: str, ylabel: str = "regret") -> None:
    """Plot the median and quartiles of each optimizer's curve, one panel per task."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = sorted({(r["task"], r.get("prior", "")) for r in rows})
    columns = min(4, len(groups))
    lines = (len(groups) + columns - 1) // columns
    figure, axes = plt.subplots(lines, columns, figsize=(4 * columns, 3.2 * lines), squeeze=False)
    names = sorted({r["optimizer"] for r in rows})
    x = np.array(GRID)
    for axis, group in zip(axes.flat, groups, strict=False):
        for name in names:
            curves = np.array(
                [
                    r["curve"]
                    for r in rows
                    if (r["task"], r.get("prior", "")) == group and r["optimizer"] == name
                ],
                dtype=float,
            )
            if curves.size == 0:
                continue
            # A run without a found model yet counts as infinitely bad, so a quantile is drawn
            # only from the budget fraction where that share of runs has a found model.
            curves = np.where(np.isnan(curves), np.inf, curves)
            median = np.median(curves, axis=0)
            low, high = np.quantile(curves, [0.25, 0.75], axis=0)
            median, low, high = (np.where(np.isinf(a), np.nan, a) for a in (median, low, high))
            axis.plot(x, median, label=name)
            axis.fill_between(x, low, high, alpha=0.15)
        axis.set_title(" ".join(str(g) for g in group if g))
        axis.set_xlabel("fraction of budget")
        axis.set_ylabel(ylabel)
        values = np.array(
            [r["curve"] for r in rows if (r["task"], r.get("prior", "")) == group], dtype=float
        )
        if np.nanmin(values) > 0:
            axis.set_yscale("log")
    for axis in list(axes.flat)[len(groups) :]:
        axis.axis("off")
    axes.flat[0].legend(fontsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)


def markdown_summary(rows: list[dict[str, Any]]) -> str:
    """Return a markdown table of mean rank at 50% and 100% of the budget, and speed-up."""
    half, full = mean_ranks(rows, GRID.index(0.5)), mean_ranks(rows, len(GRID) - 1)
    speed = speedups(rows)
    lines = [
        "| optimizer | mean rank at 50% | mean rank at 100% | median speed-up over random |",
        "|---|---|---|---|",
    ]
    for name in sorted(full, key=full.get):
        speed_up = speed.get(name, float("nan"))
        lines.append(f"| {name} | {half[name]:.2f} | {full[name]:.2f} | {speed_up:.2f} |")
    return "\n".join(lines)


def median_table(rows: list[dict[str, Any]]) -> str:
    """Return a markdown table of median final regret [quartiles] per task and optimizer."""
    names = sorted({r["optimizer"] for r in rows})
    groups = sorted({(r["task"], r.get("prior", "")) for r in rows})
    lines = ["| task | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for group in groups:
        cells = []
        for name in names:
            finals = [
                r["curve"][-1]
                for r in rows
                if (r["task"], r.get("prior", "")) == group and r["optimizer"] == name
            ]
            if not finals:
                cells.append("")
                continue
            q1, q2, q3 = np.nanquantile(finals, [0.25, 0.5, 0.75])
            cells.append(f"{q2:.3g} [{q1:.3g}, {q3:.3g}]")
        lines.append(f"| {' '.join(str(g) for g in group if g)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def load_rows(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """Load the rows of result files. A later run of the same problem and optimizer wins.

    Files that measured regret against their own best value per task (a ``"best"`` entry, as
    ``lcbench.py`` writes) are put on a common reference: the best over all files.
    """
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    rebased: list[dict[str, Any]] = []
    for path in paths:
        content = json.loads(path.read_text())
        best = content.get("best")
        for row in content["rows"]:
            if best is not None:
                row = {**row, "curve": [v + best[row["task"]] for v in row["curve"]]}
                rebased.append(row)
            rows[(*problem_key(row), row["optimizer"])] = row
    overall: dict[str, float] = {}
    for row in rebased:
        finite = [v for v in row["curve"] if not math.isnan(v)]
        if finite:
            overall[row["task"]] = min(overall.get(row["task"], math.inf), min(finite))
    for row in rebased:
        row["curve"] = [v - overall.get(row["task"], 0.0) for v in row["curve"]]
    return list(rows.values())
