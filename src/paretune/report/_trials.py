"""The trials table (sortable and filterable in the page) and its CSV and JSON exports."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from paretune.report._data import ReportData, first_line, format_number, value_label
from paretune.report._html import Cell, Markup, esc, join, note, paragraph, tag
from paretune.trial import TrialRecord, TrialStatus

MAX_TABLE_ROWS = 5000


def export_paths(html_path: Path) -> tuple[Path, Path]:
    """Return the CSV and JSON paths written beside the report."""
    stem = html_path.with_suffix("")
    return stem.with_name(stem.name + ".trials.csv"), stem.with_name(stem.name + ".trials.json")


def trial_row(data: ReportData, trial: TrialRecord) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": trial.id,
        "status": trial.status.value,
        "fidelity": trial.fidelity,
        "feasible": trial.id in data.feasible,
        "pareto_optimal": trial.id in data.pareto,
        "cost": trial.cost,
        "duration": trial.duration,
        "parent_id": trial.parent_id,
        "error_type": trial.error_type,
        "error": trial.error_message,
    }
    row.update({f"params.{k}": v for k, v in trial.config.items()})
    row.update({f"values.{k}": v for k, v in trial.values.items()})
    return row


def write_exports(data: ReportData, html_path: Path) -> tuple[Path, Path]:
    """Write every trial as CSV (one row each) and as JSON (with curves and attributes)."""
    csv_path, json_path = export_paths(html_path)
    frame = pd.DataFrame([trial_row(data, t) for t in data.trials])
    frame.to_csv(csv_path, index=False)
    records = [
        {
            **trial_row(data, trial),
            "config": trial.config,
            "values": trial.values,
            "traceback": trial.traceback,
            "learning_curve": trial.learning_curve,
            "user_attrs": trial.user_attrs,
            "system_attrs": trial.system_attrs,
        }
        for trial in data.trials
    ]
    json_path.write_text(json.dumps(_json_safe(records), indent=1, default=str) + "\n")
    return csv_path, json_path


def _json_safe(value: Any) -> Any:
    """Replace non-finite floats by None, because JSON has no NaN or infinity."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def trials_section(data: ReportData, html_path: Path) -> Markup:
    if not data.trials:
        return note("The study has no trials.")
    csv_path, json_path = export_paths(html_path)
    links = paragraph(
        "Every trial is also written beside this file: ",
        tag("a", csv_path.name, href=csv_path.name),
        " and ",
        tag("a", json_path.name, href=json_path.name),
        " (with learning curves, attributes and tracebacks). Click a column header to sort.",
    )
    statuses = sorted({t.status.value for t in data.trials})
    options = join(
        [tag("option", "every status", value="")] + [tag("option", s, value=s) for s in statuses]
    )
    controls = tag(
        "div",
        join(
            [
                tag(
                    "input",
                    "",
                    id="trial-filter",
                    type="search",
                    placeholder="filter: text in any cell, e.g. pareto or ValueError",
                ),
                tag("select", options, id="status-filter"),
                tag("span", f"{len(data.trials)} shown", id="trial-count"),
            ]
        ),
        class_="controls",
    )
    parts = [links, controls, tag("div", trials_table(data), class_="table-wrap")]
    if len(data.trials) > MAX_TABLE_ROWS:
        parts.append(
            note(
                f"Only the first {MAX_TABLE_ROWS} trials are in the table; the CSV "
                "holds all of them.",
                kind="info",
            )
        )
    return join(parts)


def trials_table(data: ReportData) -> Markup:
    metrics = data.metric_names
    names = data.space.names
    headers = [
        "trial",
        "status",
        "fidelity",
        *metrics,
        "feasible",
        "pareto",
        "cost (s)",
        "duration (s)",
        "parent",
        *names,
        "error",
    ]
    head = join(tag("th", h) for h in headers)
    rows = []
    for trial in data.trials[:MAX_TABLE_ROWS]:
        cells = [
            Cell(trial.id, trial.id, "num"),
            Cell(trial.status.value, class_="bad" if _failed(trial) else None),
            _number_cell(trial.fidelity),
            *(_number_cell(trial.values.get(m)) for m in metrics),
            "yes" if trial.id in data.feasible else "no",
            "pareto" if trial.id in data.pareto else "",
            _number_cell(trial.cost),
            _number_cell(trial.duration),
            "" if trial.parent_id is None else str(trial.parent_id),
            *(_param_cell(data, name, trial) for name in names),
            ""
            if trial.error_message is None
            else f"{trial.error_type or 'error'}: {first_line(trial.error_message)}",
        ]
        rows.append(tag("tr", join(_cell(c) for c in cells), data_status=trial.status.value))
    content = Markup(f"<thead><tr>{head}</tr></thead><tbody>{join(rows)}</tbody>")
    return tag("table", content, class_="data sortable", id="trials-table")


def _failed(trial: TrialRecord) -> bool:
    return trial.status in (TrialStatus.FAILED, TrialStatus.TIMEOUT, TrialStatus.INTERRUPTED)


def _cell(cell: Any) -> Markup:
    if isinstance(cell, Cell):
        return tag("td", cell.content, data_sort=cell.sort_key, class_=cell.class_)
    return tag("td", esc(cell))


def _number_cell(value: float | int | None) -> Cell:
    if value is None:
        return Cell("–", "")
    return Cell(format_number(value), float(value), "num")


def _param_cell(data: ReportData, name: str, trial: TrialRecord) -> Cell | str:
    if name == data.space.fidelity_name:
        return _number_cell(trial.fidelity)
    if name not in trial.config:
        return ""
    value = trial.config[name]
    label = value_label(value, data.space.parameters.get(name))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Cell(label, float(value), "num")
    return label
