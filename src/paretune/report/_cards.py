"""Model cards of the Pareto-optimal trials and the section on the expert's selection.

Per-group metrics are read from a trial's user attributes: ``group_metrics`` (validation) and
``test_group_metrics`` (test split), each a mapping from group to metric values such as
``{"Female": {"accuracy": 0.91, "selection_rate": 0.08, "tpr": 0.55, "fpr": 0.02}}``. Test
metrics are read from ``user_attrs["test_metrics"]`` or ``metadata["test_metrics"][trial id]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from paretune.report._data import ReportData, format_number, value_label
from paretune.report._html import Cell, Markup, join, note, paragraph, table, tag
from paretune.trial import TrialRecord

MAX_CARDS = 40
MODEL_METRICS = ("latency_ms", "throughput", "params", "flops", "energy_j", "train_time_s")
GROUP_KEYS = ("group_metrics", "test_group_metrics")


def cards_section(data: ReportData) -> Markup:
    if not data.front:
        return note("No model cards: there is no feasible completed trial.")
    carded = data.front[:MAX_CARDS]
    parts = []
    if len(data.objectives) > 1:
        parts.append(
            paragraph(
                f"One card per Pareto-optimal trial ({len(data.front)}), best "
                f"{data.objectives[0].name} first."
            )
        )
    parts.append(tag("div", join(model_card(data, t) for t in carded), class_="cards"))
    if len(data.front) > MAX_CARDS:
        parts.append(
            note(
                f"{len(data.front) - MAX_CARDS} more Pareto-optimal trials are not shown as "
                "cards; filter the trials table by 'pareto' to see them.",
                kind="info",
            )
        )
    return join(parts)


def badges(data: ReportData, trial: TrialRecord) -> Markup:
    labels = [name for name, best in data.best.items() if best is not None and best.id == trial.id]
    parts = [tag("span", f"best {name}", class_="badge") for name in labels]
    if data.selected_trial is not None and data.selected_trial.id == trial.id:
        parts.append(tag("span", "selected", class_="badge selected"))
    return join(parts)


def model_card(data: ReportData, trial: TrialRecord) -> Markup:
    test = data.test_metrics(trial)
    content = [
        tag("h3", join([f"Trial {trial.id}", badges(data, trial)]), id=f"card-{trial.id}"),
        metrics_table(data, trial, test),
        model_metrics_note(data, trial, test),
        group_block(data, trial),
        tag("h4", "Configuration"),
        config_table(data, trial),
    ]
    return tag("div", join(content), class_="card")


def metrics_table(data: ReportData, trial: TrialRecord, test: Mapping[str, float]) -> Markup:
    rows = []
    for name in data.metric_names:
        objective = next((o for o in data.objectives if o.name == name), None)
        role = objective.direction if objective is not None else "constraint"
        rows.append(
            [
                name,
                role,
                Cell(format_number(trial.value(name)), class_="num"),
                Cell(format_number(test.get(name)), class_="num"),
            ]
        )
    extra = sorted((set(trial.values) | set(test)) - set(data.metric_names))
    for name in extra:
        rows.append(
            [
                name,
                "recorded",
                Cell(format_number(trial.values.get(name)), class_="num"),
                Cell(format_number(test.get(name)), class_="num"),
            ]
        )
    headers = ["metric", "role", "validation", "test" if test else "test (not recorded)"]
    return table(headers, rows)


def model_metrics_note(data: ReportData, trial: TrialRecord, test: Mapping[str, float]) -> Markup:
    measured = [m for m in MODEL_METRICS if m in trial.values or m in test]
    if measured:
        return Markup("")
    return paragraph(
        "Latency, parameter count and energy were not measured: the evaluation returned no "
        "latency_ms, params or energy_j."
    )


def group_block(data: ReportData, trial: TrialRecord) -> Markup:
    dataset = data.metadata.get("dataset", {})
    sensitive = dataset.get("sensitive") if isinstance(dataset, Mapping) else None
    tables = []
    for key, split in zip(GROUP_KEYS, ("validation", "test"), strict=True):
        groups = trial.user_attrs.get(key)
        if isinstance(groups, Mapping) and groups:
            tables.append(tag("h4", f"Per-group metrics ({split})"))
            tables.append(group_table(groups))
    if tables:
        return join(tables)
    if sensitive:
        return paragraph(
            f"No per-group metrics recorded for the sensitive attribute {_names(sensitive)}."
        )
    return Markup("")


def _names(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def group_table(groups: Mapping[str, Any]) -> Markup:
    metrics: list[str] = []
    for values in groups.values():
        if isinstance(values, Mapping):
            metrics.extend(m for m in values if m not in metrics)
    rows = []
    for group, values in groups.items():
        values = values if isinstance(values, Mapping) else {}
        rows.append([str(group), *(Cell(_number(values.get(m)), class_="num") for m in metrics)])
    return table(["group", *metrics], rows)


def _number(value: Any) -> str:
    return format_number(float(value)) if isinstance(value, int | float) else "–"


def config_table(data: ReportData, trial: TrialRecord) -> Markup:
    rows = [
        [name, value_label(value, data.space.parameters.get(name))]
        for name, value in trial.config.items()
    ]
    if trial.fidelity is not None:
        rows.append([f"{data.space.fidelity_name or 'fidelity'} (fidelity)", f"{trial.fidelity:g}"])
    if trial.parent_id is not None:
        rows.append(["continued from", f"trial {trial.parent_id}"])
    rows.append(["cost (s)", format_number(trial.cost)])
    return table(["parameter", "value"], rows)


# -- selection --------------------------------------------------------------------------------


def selection_section(data: ReportData) -> Markup:
    parts = []
    selection, chosen = data.selection, data.selected_trial
    if selection is None or chosen is None:
        parts.append(
            note(
                "No trade-off has been selected yet. Record one with: paretune select RUN "
                '--trial N --why "reason"',
                kind="info",
            )
        )
    else:
        by_user = f" by {selection['user']}" if selection.get("user") else ""
        parts.append(
            paragraph(
                f"Trial {chosen.id} was selected on {selection.get('selected_at', '–')}{by_user}."
            )
        )
        parts.append(tag("blockquote", selection.get("why", "")))
    alternatives = list(data.front)
    if chosen is not None and chosen.id not in data.pareto:
        alternatives.insert(0, chosen)
    if alternatives:
        parts.append(tag("h3", "Alternatives on the Pareto front"))
        parts.append(alternatives_table(data, alternatives, chosen))
    history = data.study.events("selection")
    if len(history) > 1:
        rows = [
            [e.get("selected_at", "–"), f"trial {e.get('trial_id')}", e.get("why", "")]
            for e in history
        ]
        parts.append(tag("h3", "Earlier selections"))
        parts.append(table(["time", "trial", "rationale"], rows))
    return join(parts)


def alternatives_table(
    data: ReportData, trials: list[TrialRecord], chosen: TrialRecord | None
) -> Markup:
    names = data.metric_names
    headers = ["trial", *names]
    if chosen is not None:
        headers += [f"{name} vs selected" for name in names]
    rows = []
    for trial in trials:
        label = f"trial {trial.id}" + (" (selected)" if chosen and trial.id == chosen.id else "")
        row: list[Any] = [
            label,
            *(Cell(format_number(trial.value(n)), class_="num") for n in names),
        ]
        if chosen is not None:
            row += [Cell(_delta(trial.value(n) - chosen.value(n)), class_="num") for n in names]
        rows.append(row)
    return table(headers, rows)


def _delta(value: float) -> str:
    if math.isnan(value):
        return "–"
    return "0" if value == 0 else f"{value:+.4g}"
