"""PriorBand's prior-against-incumbent weighting and the moved prior density."""

from __future__ import annotations

import numpy as np
import pytest

import paretune as pt
from paretune.optimizers._priors import prior_logpdf_many, priorband_weights


def _space() -> pt.Space:
    return pt.Space(
        {
            "x": pt.Float(0, 1, prior=0.1),
            "y": pt.Float(0, 1, prior=0.1),
            "kind": pt.Categorical(["a", "b", "c"], prior="a"),
        }
    )


def test_moved_prior_keeps_its_shape() -> None:
    """Moved to c, the density at c equals the density at the prior's mode (mirrored bounds)."""
    kind = pt.Categorical(["a", "b"], prior="a")
    space = pt.Space({"x": pt.Float(0, 1, prior=0.3), "kind": kind})
    at_mode = prior_logpdf_many(space, np.array([[0.3, 0.25]]))
    moved = prior_logpdf_many(space, np.array([[0.7, 0.75]]), centre=np.array([0.7, 0.75]))
    assert moved == pytest.approx(at_mode)
    # A NaN coordinate of the centre leaves that prior where it was.
    partly = prior_logpdf_many(space, np.array([[0.3, 0.25]]), centre=np.array([np.nan, 0.25]))
    assert partly == pytest.approx(at_mode)


@pytest.mark.parametrize(("good", "favoured"), [(0.85, "incumbent"), (0.12, "prior")])
def test_weights_follow_good_results(good: float, favoured: str) -> None:
    """The best results near the incumbent move the share to it, near the prior to the prior."""
    space = _space()
    rng = np.random.default_rng(0)
    top = np.clip(good + 0.03 * rng.standard_normal((6, 2)), 0, 1)
    top = np.column_stack([top, np.full(6, 0.1)])  # every result chose "a"
    incumbent = np.array([0.85, 0.85, 0.1])
    weights = priorband_weights(space, eta=3, base_rung=1, top_unit=top, incumbent=incumbent)
    assert weights.uniform == pytest.approx(0.25)
    assert weights.prior + weights.incumbent + weights.uniform == pytest.approx(1.0)
    other = "prior" if favoured == "incumbent" else "incumbent"
    assert getattr(weights, favoured) > 0.9 * 0.75
    assert getattr(weights, other) < 0.1 * 0.75


def test_no_results_prior_share() -> None:
    """Without results the prior takes the whole non-uniform share."""
    weights = priorband_weights(_space(), eta=3, base_rung=0, top_unit=None, incumbent=None)
    assert (weights.prior, weights.incumbent, weights.uniform) == (0.5, 0.0, 0.5)
