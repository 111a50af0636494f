"""Plotly figures of what mattered: importance bars, partial dependence and budget correlation."""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from paretune.report._data import value_label
from paretune.report._fidelity import BudgetCorrelation
from paretune.report._figures import FEASIBLE_COLOR, PARETO_COLOR, TEMPLATE
from paretune.report._importance import Importance, numeric_axis

MAX_BARS = 12


def importance_bars(importance: Importance) -> go.Figure:
    """Bar chart of global (fANOVA) and, when computed, local importance per parameter."""
    order = importance.ranked()[:MAX_BARS][::-1]
    names = [html.escape(importance.features[i].name) for i in order]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=names,
            x=[importance.main_effects[i] for i in order],
            orientation="h",
            name="global (fANOVA main effect)",
            marker_color=FEASIBLE_COLOR,
            error_x=_clipped_spread(importance, order),
            hovertemplate="%{y}: %{x:.1%} of the variance<extra></extra>",
        )
    )
    if importance.local is not None:
        fig.add_trace(
            go.Bar(
                y=names,
                x=[importance.local[i] for i in order],
                orientation="h",
                name=f"local, around trial {importance.local_trial}",
                marker_color=PARETO_COLOR,
                hovertemplate="%{y}: %{x:.1%} of the local variance<extra></extra>",
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        barmode="group",
        xaxis_title="share of variance",
        xaxis_range=[0, 1.02],
        xaxis_tickformat=".0%",
        legend={"orientation": "h", "y": 1.12},
        margin={"t": 50, "l": 10},
    )
    return fig


def _clipped_spread(importance: Importance, order: list[int]) -> dict[str, object]:
    """Return error bars of one standard deviation across trees, cut at 0 and 1 (shares)."""
    means = importance.main_effects[order]
    spread = importance.main_effects_std[order]
    return {
        "type": "data",
        "symmetric": False,
        "array": np.minimum(spread, 1.0 - means),
        "arrayminus": np.minimum(spread, means),
        "thickness": 1,
    }


def partial_dependence_figure(importance: Importance) -> go.Figure:
    """Draw one panel per most important parameter: the forest's mean prediction and spread."""
    panels = importance.partial_dependence
    fig = make_subplots(
        rows=1,
        cols=len(panels),
        shared_yaxes=True,
        horizontal_spacing=0.05,
        subplot_titles=[html.escape(p.feature.name) for p in panels],
    )
    for column, panel in enumerate(panels, start=1):
        if panel.feature.is_categorical or not numeric_axis(panel.values):
            labels = [value_label(v, panel.feature.parameter) for v in panel.values]
            fig.add_trace(
                go.Bar(
                    x=[html.escape(label) for label in labels],
                    y=panel.mean,
                    error_y={"type": "data", "array": panel.std, "thickness": 1},
                    marker_color=FEASIBLE_COLOR,
                    showlegend=False,
                    hovertemplate="%{x}: %{y:.4g}<extra></extra>",
                ),
                row=1,
                col=column,
            )
            fig.update_xaxes(type="category", row=1, col=column)
            continue
        x = np.array(panel.values, dtype=float)
        _add_band(fig, x, panel.mean, panel.std, column)
        if panel.feature.is_log:
            fig.update_xaxes(type="log", row=1, col=column)
    fig.update_yaxes(title_text=f"predicted {html.escape(importance.objective)}", row=1, col=1)
    fig.update_layout(template=TEMPLATE, margin={"t": 50}, showlegend=False)
    return fig


def _add_band(
    fig: go.Figure, x: np.ndarray, mean: np.ndarray, std: np.ndarray, column: int
) -> None:
    fig.add_trace(
        go.Scatter(
            x=np.concatenate([x, x[::-1]]),
            y=np.concatenate([mean + std, (mean - std)[::-1]]),
            fill="toself",
            mode="lines",
            fillcolor="rgba(9,105,218,0.15)",
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
        ),
        row=1,
        col=column,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=mean,
            mode="lines",
            line={"color": FEASIBLE_COLOR, "width": 2},
            showlegend=False,
            hovertemplate="%{x:.4g}: %{y:.4g}<extra></extra>",
        ),
        row=1,
        col=column,
    )


def correlation_heatmap(correlation: BudgetCorrelation) -> go.Figure:
    """Heatmap of Spearman correlations between fidelity levels, annotated with the values."""
    labels = [f"{level:g}" for level in correlation.levels]
    text = [
        [
            "–" if np.isnan(value) else f"{value:.2f} (n={shared})"
            for value, shared in zip(row, counts, strict=True)
        ]
        for row, counts in zip(correlation.correlation, correlation.shared, strict=True)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=correlation.correlation,
            x=labels,
            y=labels,
            zmin=-1,
            zmax=1,
            colorscale="RdBu",
            text=text,
            texttemplate="%{text}",
            hovertemplate="fidelity %{y} vs %{x}: %{text}<extra></extra>",
            colorbar={"title": {"text": "Spearman"}},
        )
    )
    fig.update_layout(
        template=TEMPLATE,
        xaxis_title="fidelity",
        yaxis_title="fidelity",
        xaxis_type="category",
        yaxis_type="category",
        margin={"t": 30},
    )
    return fig
