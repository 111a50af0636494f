"""The reproducibility manifest: versions, machine, seeds, command lines, space, optimizer and
data hashes, plus the command that reproduces the study."""

from __future__ import annotations

import json
import os
import platform
import shlex
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from paretune.report._data import ReportData
from paretune.report._html import Markup, join, paragraph, pre, tag
from paretune.study import package_versions

REPORT_PACKAGES = ("plotly", "fairlearn", "moocore", "typer")
CPU_INFO = Path("/proc/cpuinfo")


def cpu_name() -> str:
    """Return the CPU model name (from /proc/cpuinfo on Linux), or what ``platform`` reports."""
    try:
        for line in CPU_INFO.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def current_versions() -> dict[str, str]:
    versions = package_versions()
    for package in REPORT_PACKAGES:
        try:
            versions[package] = importlib_metadata.version(package)
        except importlib_metadata.PackageNotFoundError:
            continue
    return versions


def build_manifest(data: ReportData) -> dict[str, Any]:
    """Collect everything needed to rerun the study, as JSON-safe values."""
    study = data.study
    stored = study.meta.get("study", {})
    runs = study.events("run_started")
    dataset = data.metadata.get("dataset")
    return {
        "report_generated_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "study": {
            "name": study.name,
            "path": str(study.path),
            "seed": study.seed,
            "created_at": stored.get("created_at"),
        },
        "versions_at_creation": stored.get("versions", {}),
        "versions_now": current_versions(),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu": cpu_name(),
            "cpu_count": os.cpu_count(),
        },
        "seeds": _seeds(study.seed, dataset),
        "runs": [
            {
                key: run.get(key)
                for key in ("time", "command", "budget", "n_workers", "executor", "optimizer")
            }
            for run in runs
        ],
        "space": study.space.to_dict(),
        "objectives": [o.to_dict() for o in study.objectives],
        "constraints": [c.to_dict() for c in study.constraints],
        "optimizer": study.optimizer_info,
        "data": dataset if isinstance(dataset, Mapping) else None,
        "metadata": {
            k: v for k, v in data.metadata.items() if k not in ("dataset", "test_metrics")
        },
    }


def _seeds(study_seed: int, dataset: Any) -> dict[str, Any]:
    seeds: dict[str, Any] = {"study": study_seed}
    if isinstance(dataset, Mapping) and "split_seed" in dataset:
        seeds["data_split"] = dataset["split_seed"]
    return seeds


def recorded_command(runs: Sequence[Mapping[str, Any]]) -> str | None:
    """Return the first run's command line, shell-quoted, or None when none was recorded."""
    for run in runs:
        command = run.get("command")
        if isinstance(command, list) and command:
            program = Path(str(command[0])).name
            arguments = [str(part) for part in command[1:]]
            if program in ("paretune", "__main__.py"):
                return shlex.join(["paretune", *arguments])
            return shlex.join(["python", str(command[0]), *arguments])
    return None


def python_call(manifest: Mapping[str, Any]) -> str:
    """Write the ``paretune.run`` call that repeats the study with the user's evaluation."""
    runs = manifest["runs"]
    first = runs[0] if runs else {}
    budget = first.get("budget") or {"max_trials": 1}
    optimizer = manifest.get("optimizer") or {}
    arguments = [
        "    evaluate,  # the evaluation function of the original study",
        "    space,",
        f"    objectives={[_objective_text(o) for o in manifest['objectives']]!r},",
    ]
    if manifest["constraints"]:
        arguments.append(
            f"    constraints={[_constraint_text(c) for c in manifest['constraints']]!r},"
        )
    arguments += [f"    {key}={value!r}," for key, value in budget.items()]
    arguments.append(f"    seed={manifest['study']['seed']!r},")
    if optimizer:
        arguments.append(f"    optimizer={optimizer.get('name')!r},")
        arguments.append(f"    optimizer_settings={optimizer.get('settings', {})!r},")
    if first.get("executor"):
        arguments.append(f"    executor={first['executor']!r},")
    if first.get("n_workers"):
        arguments.append(f"    n_workers={first['n_workers']!r},")
    arguments.append('    storage="NEW_STUDY_FOLDER",')
    space_json = json.dumps(manifest["space"], indent=None)
    return (
        "import paretune as pt\n\n"
        f"space = pt.Space.from_json({space_json!r})\n"
        "study = pt.run(\n" + "\n".join(arguments) + "\n)\n"
    )


def _objective_text(objective: Mapping[str, Any]) -> str:
    suffix = "max" if objective.get("direction") == "maximize" else "min"
    return f"{objective['name']}:{suffix}"


def _constraint_text(constraint: Mapping[str, Any]) -> str:
    parts = []
    if constraint.get("lower") is not None:
        parts.append(f"{constraint['name']}>={constraint['lower']}")
    if constraint.get("upper") is not None:
        parts.append(f"{constraint['name']}<={constraint['upper']}")
    return " and ".join(parts)


def manifest_section(data: ReportData, manifest: Mapping[str, Any]) -> Markup:
    command = recorded_command(manifest["runs"])
    parts = [tag("h3", "Reproduce the study")]
    if command is not None:
        parts.append(
            paragraph(
                "The command line that started the first run; run it from the "
                "same folder, with a new study folder, to repeat the search:"
            )
        )
        parts.append(pre(command))
    else:
        parts.append(paragraph("No command line was recorded (the study never ran)."))
    parts.append(
        paragraph(
            "The same search from Python, with the study's own evaluation "
            "function, seed, budget and optimizer settings:"
        )
    )
    parts.append(pre(python_call(manifest)))
    dataset = manifest.get("data")
    if isinstance(dataset, Mapping) and dataset.get("sha256"):
        parts.append(
            paragraph(f"Check that the data is unchanged: its sha256 must be {dataset['sha256']}.")
        )
    parts.append(tag("h3", "Manifest (JSON)"))
    parts.append(pre(json.dumps(manifest, indent=2, default=str)))
    return join(parts)
