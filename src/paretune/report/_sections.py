"""The figure sections of the report: Pareto front, trajectory, learning curves and what
mattered. Each one says what is missing instead of showing an empty figure."""

from __future__ import annotations

from collections.abc import Mapping

from paretune.report._data import ReportData, Unavailable, format_number
from paretune.report._fidelity import BudgetCorrelation
from paretune.report._figures import (
    curve_metric,
    learning_curves,
    parallel_coordinates,
    pareto_scatter,
    scatter_matrix,
    single_objective,
    trajectory_figure,
)
from paretune.report._figures_importance import (
    correlation_heatmap,
    importance_bars,
    partial_dependence_figure,
)
from paretune.report._html import Markup, figure, join, note, paragraph, tag
from paretune.report._importance import Importance
from paretune.report._summary import no_feasible_note
from paretune.report._trajectory import Trajectory


def pareto_section(data: ReportData) -> Markup:
    """Scatter for two objectives, a matrix and parallel coordinates for more, best for one."""
    if not data.completed_with_values():
        return note(
            "No completed trial has a finite value for every objective, so there is nothing "
            "to plot. See the warnings in section 1 for why trials failed."
        )
    parts = [] if data.feasible else [no_feasible_note(data)]
    legend = paragraph(
        "Diamonds are Pareto-optimal, circles feasible but dominated, crosses infeasible "
        "(they violate a constraint); the colour shows the fidelity when trials differ in it. "
        "Hover a point for its configuration."
    )
    count = len(data.objectives)
    if count == 1:
        best = data.best[data.objectives[0].name]
        if best is not None:
            objective = data.objectives[0]
            parts.append(
                paragraph(
                    f"Best trial: {best.id}, with {objective.name} = "
                    f"{format_number(best.value(objective.name))} ({objective.direction})."
                )
            )
        parts.append(figure(single_objective(data), "figure-best"))
    elif count == 2:
        parts += [legend, figure(pareto_scatter(data), "figure-pareto", height=520)]
    else:
        size = min(300 * count, 1000)
        parts += [
            legend,
            figure(scatter_matrix(data), "figure-scatter-matrix", height=size),
            tag("h3", "Parallel coordinates"),
            paragraph("Red lines are Pareto-optimal, blue feasible, grey infeasible trials."),
            figure(parallel_coordinates(data), "figure-parallel", height=460),
        ]
    return join(parts)


def trajectory_section(data: ReportData, trajectory: Trajectory | Unavailable) -> Markup:
    if isinstance(trajectory, Unavailable):
        return note(f"No trajectory: {trajectory.reason}.")
    parts = []
    if not data.feasible:
        parts.append(no_feasible_note(data))
    if trajectory.reference_value is None:
        parts.append(
            note(
                "No reference line: the default configuration was not run, or it did not "
                "complete feasibly."
            )
        )
    else:
        reference_id = data.reference.id if data.reference is not None else "–"
        measure = trajectory.label.split(" so far")[0]
        parts.append(
            paragraph(
                f"The dashed line is the default configuration (trial {reference_id}): "
                f"{measure} {format_number(trajectory.reference_value)}."
            )
        )
    if trajectory.reference_point is not None:
        point = ", ".join(
            f"{o.name} {format_number(o.sign * float(v))}"
            for o, v in zip(data.objectives, trajectory.reference_point, strict=True)
        )
        parts.append(
            paragraph(
                f"Hypervolume reference point: {point} (the objective's reference when given, "
                "else the worst feasible value plus 10% of the observed range)."
            )
        )
    parts.append(figure(trajectory_figure(data, trajectory), "figure-trajectory", height=420))
    return join(parts)


def curves_section(data: ReportData) -> Markup:
    metric = curve_metric(data)
    if metric is None:
        return note(
            "No trial reported a learning curve. Call trial.report(step, {metric: value}) in "
            "the evaluation function to record one."
        )
    promoted = sum(1 for t in data.trials if t.parent_id is not None)
    text = (
        f"{metric} as reported during training, one line per trial; the Pareto-optimal (or "
        "best) trials are coloured."
    )
    if promoted:
        text += f" {promoted} promoted trial(s) start from their parent's last point."
    return join([paragraph(text), figure(learning_curves(data, metric), "figure-curves")])


def importance_section(
    data: ReportData,
    importances: Mapping[str, Importance | Unavailable],
    correlations: Mapping[str, BudgetCorrelation | Unavailable],
) -> Markup:
    parts = [
        paragraph(
            "Global importance is the share of the variance of a random-forest surrogate that "
            "each parameter explains on its own (fANOVA, Hutter et al. 2014); local importance "
            "is each parameter's share of the variance when only it varies around the selected "
            "trial, or the best trial for that objective when none is selected. Partial "
            "dependence shows the surrogate's prediction averaged over all other parameters, "
            "with one standard deviation across the trees."
        )
    ]
    for position, (name, result) in enumerate(importances.items()):
        parts.append(tag("h3", f"{name}"))
        parts.append(_importance_block(result, position))
        parts.append(_correlation_block(correlations.get(name), position))
    return join(parts)


def _importance_block(result: Importance | Unavailable, position: int) -> Markup:
    if isinstance(result, Unavailable):
        return note(f"No importance: {result.reason}.")
    parts = [
        paragraph(
            f"Surrogate fitted on {result.n_trials} completed trials. Interactions between "
            f"parameters explain {result.interactions:.0%} of the variance."
        ),
        figure(importance_bars(result), f"figure-importance-{position}", height=360),
    ]
    if result.constant:
        parts.append(paragraph("Constant, not analysed: " + ", ".join(result.constant) + "."))
    if result.partial_dependence:
        parts.append(tag("h4", "Partial dependence of the most important parameters"))
        parts.append(
            figure(partial_dependence_figure(result), f"figure-dependence-{position}", height=340)
        )
    return join(parts)


def _correlation_block(result: BudgetCorrelation | Unavailable | None, position: int) -> Markup:
    if result is None:
        return Markup("")
    title = tag("h4", "Budget correlation across fidelities")
    if isinstance(result, Unavailable):
        return join([title, note(f"No budget correlation: {result.reason}.")])
    text = paragraph(
        "Spearman rank correlation of the objective between fidelity levels, over the "
        "configurations seen at both (n). Values near 1 mean low-fidelity results already rank "
        "configurations as the highest fidelity does."
    )
    return join(
        [title, text, figure(correlation_heatmap(result), f"figure-budget-{position}", height=380)]
    )
