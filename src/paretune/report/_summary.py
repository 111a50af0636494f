"""The summary section: findings at a glance, task and data, objectives, budget, optimizer,
trial status and grouped failures."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from paretune.report._compare import best_pairs, differences
from paretune.report._data import (
    ReportData,
    first_line,
    format_number,
    trial_ids_label,
    value_label,
)
from paretune.report._html import (
    Cell,
    Markup,
    code,
    details,
    join,
    key_value_table,
    note,
    paragraph,
    pre,
    table,
    tag,
)
from paretune.report._importance import Importance
from paretune.trial import TrialRecord, TrialStatus

MAX_DIFFERENCES = 6


def summary_section(data: ReportData, importances: Mapping[str, Importance]) -> Markup:
    return join(
        [
            tag("h3", "At a glance"),
            glance(data, importances),
            tag("h3", "Task and data"),
            task_block(data),
            tag("h3", "Objectives and constraints"),
            objectives_block(data),
            tag("h3", "Budget and optimizer"),
            budget_block(data),
            tag("h3", "Trial status"),
            status_block(data),
            tag("h3", "Warnings"),
            warnings_block(data),
        ]
    )


# -- at a glance ------------------------------------------------------------------------------


def glance(data: ReportData, importances: Mapping[str, Importance]) -> Markup:
    """State the best trial per objective and what differs most between those trials."""
    if not data.feasible:
        return no_feasible_note(data)
    rows = []
    for objective in data.objectives:
        trial = data.best[objective.name]
        if trial is None:
            continue
        others = "; ".join(
            f"{name} {format_number(trial.value(name))}"
            for name in data.metric_names
            if name != objective.name
        )
        rows.append(
            [
                f"{objective.name} ({objective.direction})",
                f"trial {trial.id}",
                Cell(format_number(trial.value(objective.name)), class_="num best"),
                others or "–",
            ]
        )
    parts = [table(["objective", "best trial", "its value", "its other metrics"], rows)]
    if len(data.objectives) > 1:
        parts.append(
            paragraph(
                f"{len(data.front)} trial(s) are Pareto-optimal: no other feasible trial is at "
                "least as good in every objective and better in one. Their model cards are in "
                "section 6."
            )
        )
    for first, second in best_pairs(data.best)[:3]:
        parts.append(difference_block(data, first, second, importances))
    return join(parts)


def no_feasible_note(data: ReportData) -> Markup:
    """Say explicitly that no trial is feasible, and why."""
    completed = [t for t in data.trials if t.status is TrialStatus.COMPLETED]
    if not completed:
        reason = "no trial completed"
    elif data.completed_with_values() and data.constraints:
        reason = (
            "every completed trial violates a constraint ("
            + ", ".join(str(c) for c in data.constraints)
            + ")"
        )
    else:
        reason = "no completed trial has a finite value for every objective"
    return note(
        f"No feasible completed trial: {reason}. There is no best trial and no Pareto front.",
        kind="warning",
    )


def difference_block(
    data: ReportData, first: str, second: str, importances: Mapping[str, Importance]
) -> Markup:
    a, b = data.best[first], data.best[second]
    if a is None or b is None:
        return Markup("")
    found = differences(data.space, a, b, importances)
    title = (
        f"What differs most between trial {a.id} (best {first}) and trial {b.id} (best {second})"
    )
    if not found:
        return join([tag("h4", title), paragraph("Their configurations are identical.")])
    metric_rows = [
        [name, format_number(a.value(name)), format_number(b.value(name))]
        for name in data.metric_names
    ]
    rows = [
        [
            d.name,
            value_label(d.first, data.space.parameters.get(d.name)),
            value_label(d.second, data.space.parameters.get(d.name)),
            Cell(f"{d.distance:.2f}", d.distance, "num"),
            _importance_label(d.importance),
        ]
        for d in found[:MAX_DIFFERENCES]
    ]
    top = found[0]
    headline = paragraph(
        f"The difference that matters most is {top.name}: "
        f"{value_label(top.first, data.space.parameters.get(top.name))} in trial {a.id} against "
        f"{value_label(top.second, data.space.parameters.get(top.name))} in trial {b.id}"
        + (f"; it explains {_importance_label(top.importance)}." if top.importance else ".")
    )
    return join(
        [
            tag("h4", title),
            headline,
            table(["metric", f"trial {a.id}", f"trial {b.id}"], metric_rows),
            table(
                [
                    "parameter",
                    f"trial {a.id}",
                    f"trial {b.id}",
                    "gap (0-1, search-space scale)",
                    "global importance",
                ],
                rows,
            ),
        ]
    )


def _importance_label(importance: Mapping[str, float]) -> str:
    if not importance:
        return "–"
    return ", ".join(f"{value:.0%} of the variance of {name}" for name, value in importance.items())


# -- task, objectives, budget -----------------------------------------------------------------


FINGERPRINT_FIELDS = (
    ("source", "data"),
    ("task", "task"),
    ("kind", "kind"),
    ("target", "target"),
    ("sensitive", "sensitive attribute"),
    ("rows", "rows"),
    ("columns", "columns"),
    ("sha256", "sha256 of the data"),
    ("split_seed", "split seed"),
    ("classes", "classes"),
)


def task_block(data: ReportData) -> Markup:
    dataset = data.metadata.get("dataset")
    rows: list[list[Any]] = [["study", data.study.name], ["study folder", str(data.study.path)]]
    created = data.study.meta.get("study", {}).get("created_at")
    if isinstance(created, int | float):
        rows.append(["created", _timestamp(created)])
    if not isinstance(dataset, Mapping):
        return join(
            [
                key_value_table(rows),
                note(
                    "The study stored no dataset fingerprint (rows, columns, sha256): it "
                    "evaluates a user-supplied function. Pass metadata={'dataset': {...}} to "
                    "paretune.run to record one."
                ),
            ]
        )
    for key, label in FINGERPRINT_FIELDS:
        if key in dataset:
            value = dataset[key]
            display_value = ", ".join(map(str, value)) if isinstance(value, list) else value
            rows.append([label, code(display_value) if key == "sha256" else display_value])
    return key_value_table(rows)


def _timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def objectives_block(data: ReportData) -> Markup:
    rows = [
        [o.name, o.direction, format_number(o.reference) if o.reference is not None else "–"]
        for o in data.objectives
    ]
    parts = [table(["objective", "direction", "hypervolume reference"], rows)]
    if data.constraints:
        rows = [[c.name, str(c)] for c in data.constraints]
        parts.append(table(["constraint", "feasible when"], rows))
    else:
        parts.append(paragraph("No constraints: every completed trial is feasible."))
    return join(parts)


def budget_block(data: ReportData) -> Markup:
    runs = data.study.events("run_started")
    budgets = [", ".join(f"{k}={v:g}" for k, v in run.get("budget", {}).items()) for run in runs]
    usage = data.usage
    reference_runs = usage.reference_runs()
    rows: list[list[Any]] = [
        ["budget given", "; ".join(budgets) if budgets else "no run recorded"],
        ["runs (started, resumed)", len(runs)],
        ["trials", len(data.trials)],
        ["cost spent (s)", format_number(usage.cost)],
        [
            "reference runs spent",
            format_number(reference_runs)
            if reference_runs is not None
            else "– (no completed run of the default configuration)",
        ],
    ]
    if data.space.fidelity is not None:
        rows.insert(4, ["fidelity spent", format_number(usage.fidelity)])
    if data.reference is not None:
        rows.append(["default configuration", f"trial {data.reference.id}"])
    optimizer = data.study.optimizer_info
    if optimizer:
        rows.append(["optimizer", optimizer.get("name", "–")])
        rows.append(["why this optimizer", optimizer.get("reason", "–")])
        rows.append(["optimizer settings", code(_settings(optimizer.get("settings", {})))])
    else:
        rows.append(["optimizer", "not recorded (the study never ran)"])
    executors = sorted({str(run.get("executor")) for run in runs if run.get("executor")})
    if executors:
        rows.append(["executor", ", ".join(executors)])
    return key_value_table(rows)


def _settings(settings: Any) -> str:
    if not isinstance(settings, Mapping) or not settings:
        return "defaults"
    return ", ".join(f"{k}={v!r}" for k, v in settings.items())


def status_block(data: ReportData) -> Markup:
    counts = Counter(trial.status.value for trial in data.trials)
    rows = [[status.value, counts[status.value]] for status in TrialStatus if counts[status.value]]
    if not rows:
        return note("The study has no trials yet.")
    feasible = len(data.feasible)
    with_values = len(data.completed_with_values())
    text = f"{feasible} of {with_values} completed trial(s) with finite objectives are feasible."
    return join([table(["status", "trials"], rows), paragraph(text)])


# -- failures ---------------------------------------------------------------------------------


def warnings_block(data: ReportData) -> Markup:
    """Group trials that did not complete by distinct error, with one traceback per group."""
    groups: dict[tuple[str, str], list[TrialRecord]] = defaultdict(list)
    for trial in data.trials:
        if trial.status in (TrialStatus.FAILED, TrialStatus.TIMEOUT, TrialStatus.INTERRUPTED):
            key = (
                f"{trial.status.value} {trial.error_type or ''}".strip(),
                first_line(trial.error_message),
            )
            groups[key].append(trial)
    parts = []
    if not groups:
        parts.append(paragraph("No trial failed, timed out or was interrupted."))
    total = sum(len(trials) for trials in groups.values())
    if groups:
        parts.append(
            note(
                f"{total} trial(s) did not complete, with {len(groups)} distinct error(s).",
                kind="warning",
            )
        )
    for (kind, message), trials in sorted(groups.items(), key=lambda item: -len(item[1])):
        example = next((t for t in trials if t.traceback), trials[0])
        label = (
            f"{len(trials)} x {kind}: {message} (trials {trial_ids_label([t.id for t in trials])})"
        )
        parts.append(
            details(label, pre(example.traceback or example.error_message or "no traceback"))
        )
    if data.reference is None:
        parts.append(
            paragraph(
                "No default configuration was run: give the budget in reference runs "
                "(max_reference_runs) to have one, so the trajectory can be compared with it."
            )
        )
    return join(parts)
