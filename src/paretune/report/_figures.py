"""Plotly figures of results: the Pareto front (or the best trial), the trajectory and the
learning curves. Text that reaches a hover label is HTML-escaped, because plotly renders a
subset of HTML tags in labels."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from paretune.report._data import ReportData, config_label, format_number
from paretune.report._trajectory import Trajectory
from paretune.trial import TrialRecord

TEMPLATE = "plotly_white"
PARETO_COLOR = "#cf222e"
FEASIBLE_COLOR = "#0969da"
INFEASIBLE_COLOR = "#8c959f"
SELECTED_COLOR = "#1a7f37"
REFERENCE_COLOR = "#9a6700"
CURVE_COLORS = ("#cf222e", "#0969da", "#1a7f37", "#8250df", "#bc4c00", "#1b7c83", "#bf3989")
MAX_HIGHLIGHTED_CURVES = len(CURVE_COLORS)


def hover_text(data: ReportData, trial: TrialRecord) -> str:
    """Describe a trial for a hover label: id, metrics, fidelity and configuration."""
    lines = [f"<b>trial {trial.id}</b> ({trial.status.value.lower()})"]
    for name in data.metric_names:
        lines.append(f"{html.escape(name)} = {format_number(trial.value(name))}")
    if trial.fidelity is not None:
        lines.append(f"fidelity = {trial.fidelity:g}")
    if not data.is_feasible(trial) and trial.values:
        lines.append("infeasible: violates a constraint")
    config = config_label(trial.config, data.space, separator="\n")
    lines.extend(html.escape(line) for line in config.splitlines())
    return "<br>".join(lines)


def _groups(data: ReportData) -> list[tuple[str, list[TrialRecord], dict[str, Any]]]:
    """Split trials with values into Pareto-optimal, feasible and infeasible marker groups."""
    with_values = data.completed_with_values()
    selected = data.selected_trial
    pareto = [t for t in with_values if t.id in data.pareto]
    feasible = [t for t in with_values if data.is_feasible(t) and t.id not in data.pareto]
    infeasible = [t for t in with_values if not data.is_feasible(t)]
    groups = [
        ("Pareto-optimal", pareto, {"symbol": "diamond", "size": 12, "line": _outline()}),
        ("feasible, dominated", feasible, {"symbol": "circle", "size": 8, "opacity": 0.75}),
        ("infeasible", infeasible, {"symbol": "x", "size": 8, "color": INFEASIBLE_COLOR}),
    ]
    if selected is not None:
        star = {"symbol": "star", "size": 20, "color": SELECTED_COLOR, "line": _outline()}
        groups.append((f"selected (trial {selected.id})", [selected], star))
    return [group for group in groups if group[1]]


def _outline() -> dict[str, Any]:
    return {"width": 1.2, "color": "#1f2328"}


def _marker(
    data: ReportData, trials: Sequence[TrialRecord], style: dict[str, Any]
) -> dict[str, Any]:
    """Colour markers by fidelity when the trials differ in fidelity, else by group."""
    marker = dict(style)
    fidelities = {t.fidelity for t in data.completed_with_values()}
    if "color" not in marker and len(fidelities) > 1 and None not in fidelities:
        marker.update(
            color=[float(t.fidelity or 0) for t in trials],
            colorscale="Viridis",
            cmin=min(float(f or 0) for f in fidelities),
            cmax=max(float(f or 0) for f in fidelities),
            colorbar={"title": {"text": "fidelity"}, "thickness": 12},
            showscale=style.get("symbol") == "circle",
        )
    elif "color" not in marker:
        marker["color"] = PARETO_COLOR if style.get("symbol") == "diamond" else FEASIBLE_COLOR
    return marker


def _axis_title(data: ReportData, name: str) -> str:
    objective = data.objective(name)
    arrow = "lower is better" if objective.direction == "minimize" else "higher is better"
    return f"{name} ({arrow})"


def pareto_scatter(data: ReportData) -> go.Figure:
    """Scatter two objectives; the Pareto front is joined by its staircase."""
    first, second = (o.name for o in data.objectives[:2])
    fig = go.Figure()
    for label, trials, style in _groups(data):
        fig.add_trace(
            go.Scatter(
                x=[t.value(first) for t in trials],
                y=[t.value(second) for t in trials],
                mode="markers",
                name=label,
                marker=_marker(data, trials, style),
                text=[hover_text(data, t) for t in trials],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    if len(data.front) > 1:
        front = sorted(data.front, key=lambda t: (t.value(first), t.value(second)))
        fig.add_trace(
            go.Scatter(
                x=[t.value(first) for t in front],
                y=[t.value(second) for t in front],
                mode="lines",
                line={"shape": _staircase(data), "color": PARETO_COLOR, "width": 1},
                name="Pareto front",
                hoverinfo="skip",
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title=_axis_title(data, first),
        yaxis_title=_axis_title(data, second),
        legend={"orientation": "h", "y": 1.08},
        margin={"t": 40, "r": 20},
    )
    return fig


def _staircase(data: ReportData) -> str:
    """Return the line shape that traces the boundary of the region the front dominates.

    With the points sorted by the first objective, the boundary leaves each point horizontally
    when the first objective is minimized and vertically when it is maximized.
    """
    return "hv" if data.objectives[0].direction == "minimize" else "vh"


def scatter_matrix(data: ReportData) -> go.Figure:
    """Show every pair of objectives in a scatter-plot matrix."""
    fig = go.Figure()
    names = [o.name for o in data.objectives]
    for label, trials, style in _groups(data):
        marker = _marker(data, trials, style)
        marker.pop("colorbar", None)
        marker["showscale"] = False
        fig.add_trace(
            go.Splom(
                dimensions=[{"label": n, "values": [t.value(n) for t in trials]} for n in names],
                name=label,
                marker=marker,
                text=[hover_text(data, t) for t in trials],
                hovertemplate="%{text}<extra></extra>",
                diagonal_visible=False,
                showupperhalf=False,
            )
        )
    fig.update_layout(template=TEMPLATE, legend={"orientation": "h", "y": 1.06}, dragmode="select")
    return fig


def parallel_coordinates(data: ReportData) -> go.Figure:
    """Draw one line per trial across all objectives; red lines are Pareto-optimal."""
    trials = data.completed_with_values()
    codes = [_trial_code(data, t) for t in trials]
    dimensions = []
    for objective in data.objectives:
        values = [t.value(objective.name) for t in trials]
        label = f"{objective.name} ({'min' if objective.direction == 'minimize' else 'max'})"
        dimensions.append({"label": label, "values": values})
    colorscale = [
        [0.0, INFEASIBLE_COLOR],
        [0.33, INFEASIBLE_COLOR],
        [0.34, FEASIBLE_COLOR],
        [0.66, FEASIBLE_COLOR],
        [0.67, PARETO_COLOR],
        [1.0, PARETO_COLOR],
    ]
    fig = go.Figure(
        go.Parcoords(
            line={"color": codes, "colorscale": colorscale, "cmin": 0, "cmax": 2},
            dimensions=dimensions,
        )
    )
    fig.update_layout(template=TEMPLATE, margin={"l": 60, "r": 60, "t": 50})
    return fig


def single_objective(data: ReportData) -> go.Figure:
    """Plot the objective of every trial against its id, with the best trial starred."""
    name = data.objectives[0].name
    fig = go.Figure()
    for label, trials, style in _groups(data):
        if label == "Pareto-optimal":
            label, style = "best", {**style, "symbol": "star", "size": 16}
        fig.add_trace(
            go.Scatter(
                x=[t.id for t in trials],
                y=[t.value(name) for t in trials],
                mode="markers",
                name=label,
                marker=_marker(data, trials, style),
                text=[hover_text(data, t) for t in trials],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title="trial id",
        yaxis_title=_axis_title(data, name),
        legend={"orientation": "h", "y": 1.08},
        margin={"t": 40},
    )
    return fig


def trajectory_figure(data: ReportData, trajectory: Trajectory) -> go.Figure:
    """Plot the trajectory against cumulative cost (left) and wall time (right)."""
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.06,
        subplot_titles=("against cumulative cost", "against wall time"),
    )
    hover = [f"after trial {i}" for i in trajectory.trial_ids]
    for column, x in ((1, trajectory.cost), (2, trajectory.wall)):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=trajectory.value,
                mode="lines+markers",
                line={"shape": "hv"},
                marker={"size": 4},
                name=trajectory.label,
                showlegend=column == 1,
                text=hover,
                hovertemplate="%{text}: %{y:.4g}<extra></extra>",
                line_color=FEASIBLE_COLOR,
            ),
            row=1,
            col=column,
        )
        if trajectory.reference_value is not None:
            fig.add_hline(
                y=trajectory.reference_value,
                line_dash="dash",
                line_color=REFERENCE_COLOR,
                row=1,
                col=column,
            )
    if trajectory.reference_value is not None:
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                name="default configuration",
                line={"dash": "dash", "color": REFERENCE_COLOR},
            )
        )
    fig.update_xaxes(title_text="cumulative cost (s)", row=1, col=1)
    fig.update_xaxes(title_text="wall time since the first trial started (s)", row=1, col=2)
    fig.update_yaxes(title_text=trajectory.label, row=1, col=1)
    fig.update_layout(template=TEMPLATE, legend={"orientation": "h", "y": -0.22}, margin={"t": 40})
    return fig


# -- learning curves --------------------------------------------------------------------------


def curve_metric(data: ReportData) -> str | None:
    """Pick the metric to plot: the first objective any curve reports, else the first reported."""
    reported: dict[str, None] = {}
    for trial in data.trials:
        for _, values in trial.learning_curve:
            reported.update(dict.fromkeys(values))
    for objective in data.objectives:
        if objective.name in reported:
            return objective.name
    return next(iter(reported), None)


def _curve_points(data: ReportData, trial: TrialRecord, metric: str) -> list[tuple[float, float]]:
    """Return the trial's curve, starting from its parent's last point when it was promoted."""
    points = [(s, v[metric]) for s, v in trial.learning_curve if metric in v]
    parent = data.by_id.get(trial.parent_id) if trial.parent_id is not None else None
    if parent is not None and points:
        parent_points = [(s, v[metric]) for s, v in parent.learning_curve if metric in v]
        if parent_points and parent_points[-1][0] <= points[0][0]:
            points.insert(0, parent_points[-1])
    return points


def learning_curves(data: ReportData, metric: str) -> go.Figure:
    """Draw every trial's curve in grey and highlight the Pareto-optimal (or best) trials."""
    highlighted = [t for t in data.front if t.learning_curve][:MAX_HIGHLIGHTED_CURVES]
    highlighted_ids = {t.id for t in highlighted}
    xs: list[float | None] = []
    ys: list[float | None] = []
    texts: list[str | None] = []
    for trial in data.trials:
        if trial.id in highlighted_ids:
            continue
        for step, value in _curve_points(data, trial, metric):
            xs.append(step)
            ys.append(value)
            texts.append(f"trial {trial.id} ({trial.status.value.lower()})")
        xs.append(None)
        ys.append(None)
        texts.append(None)
    fig = go.Figure()
    if any(x is not None for x in xs):
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                text=texts,
                mode="lines",
                name="other trials",
                line={"color": "rgba(110,119,129,0.35)", "width": 1},
                hovertemplate="%{text}: step %{x:g}, %{y:.4g}<extra></extra>",
            )
        )
    for color, trial in zip(CURVE_COLORS, highlighted, strict=False):
        points = _curve_points(data, trial, metric)
        fig.add_trace(
            go.Scatter(
                x=[p[0] for p in points],
                y=[p[1] for p in points],
                mode="lines+markers",
                name=f"trial {trial.id}",
                line={"color": color, "width": 2},
                marker={"size": 5},
                hovertemplate=f"trial {trial.id}: step %{{x:g}}, %{{y:.4g}}<extra></extra>",
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title="fidelity (step reported by the trial)",
        yaxis_title=metric,
        legend={"orientation": "h", "y": 1.08},
        margin={"t": 40},
    )
    if _is_log_spaced([x for x in xs if x is not None]):
        fig.update_xaxes(type="log")
    return fig


def _trial_code(data: ReportData, trial: TrialRecord) -> float:
    """Return 2 for a Pareto-optimal trial, 1 for another feasible one and 0 otherwise."""
    if trial.id in data.pareto:
        return 2.0
    if data.is_feasible(trial):
        return 1.0
    return 0.0


def _is_log_spaced(steps: Sequence[float]) -> bool:
    """Tell whether the steps span more than two decades, where a log axis reads better."""
    positive = [s for s in steps if s > 0]
    return bool(positive) and len(positive) == len(steps) and max(positive) / min(positive) > 100
