"""Rung and bracket arithmetic of successive halving and Hyperband.

Notation follows Li et al. (2018), "Hyperband: A Novel Bandit-Based Approach to Hyperparameter
Optimization", JMLR 18(185), Algorithm 1: ``R`` is the maximum fidelity, ``r`` the minimum,
``eta`` the reduction factor and ``s_max = floor(log_eta(R / r))``.

Rounding rule of the rungs (the paper assumes that ``R / r`` is a whole power of ``eta``):

* rung ``i`` is ``r * eta**i`` for every ``i`` with ``r * eta**i < R``, so the first rung is
  exactly the minimum fidelity, and the last rung is exactly ``R``;
* a geometric rung closer to ``R`` than a factor ``sqrt(eta)`` merges into ``R``, so the range
  [2.469, 600] with ``eta = 3`` gives six rungs, ending 66.7, 200, 600 (not 599.97, 600);
* for an integer fidelity every rung is rounded to the nearest int (halves up) and repeated
  values are dropped.

When ``R / r`` is not a whole power of ``eta`` the last step differs from ``eta`` and a
warning says how many rungs fit, for example [80, 200] with ``eta = 3`` gives the rungs 80
and 200. Integer rungs are let off within 10%, which rounding can cause: [2, 52] gives 2, 6,
18, 52 without a warning.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from fractions import Fraction

from paretune._errors import OptimizerError
from paretune.space import Fidelity

logger = logging.getLogger(__name__)

_WHOLE_POWER_TOLERANCE = 1e-3
"""Relative tolerance within which the last step counts as a whole factor of eta."""

_INTEGER_WHOLE_POWER_TOLERANCE = 0.1
"""The same tolerance for integer rungs, whose rounding moves the last step (2, 6, 18, 52)."""


class FidelityWarning(UserWarning):
    """A fidelity range or budget that the multi-fidelity schedule can only partly use."""


@dataclass(frozen=True)
class Bracket:
    """One bracket of Hyperband: ``n_configs[i]`` configurations reach rung ``base_rung + i``.

    ``s`` is the paper's bracket index: the bracket has ``s + 1`` rungs and starts at rung
    ``s_max - s`` of the ladder.
    """

    s: int
    base_rung: int
    n_configs: tuple[int, ...]


@dataclass(frozen=True)
class RungLadder:
    """The rungs (fidelity levels) of a multi-fidelity schedule, lowest first.

    Build it with ``RungLadder.build``; see the module docstring for the rounding rule.

    Example:
        >>> RungLadder.build(1, 27, eta=3).rungs
        (1, 3, 9, 27)
    """

    min_fidelity: int | float
    max_fidelity: int | float
    eta: float
    rungs: tuple[int | float, ...]

    @classmethod
    def build(
        cls, min_fidelity: int | float, max_fidelity: int | float, *, eta: float
    ) -> RungLadder:
        """Validate the range and ``eta`` and compute the rungs.

        Raises:
            OptimizerError: for a minimum <= 0, a minimum >= the maximum, or ``eta <= 1``.
        """
        _check_ladder_arguments(min_fidelity, max_fidelity, eta)
        integer = isinstance(min_fidelity, int) and isinstance(max_fidelity, int)
        rungs = _geometric_rungs(min_fidelity, max_fidelity, eta, integer=integer)
        ladder = cls(min_fidelity, max_fidelity, float(eta), tuple(rungs))
        ladder._warn_if_partial()
        return ladder

    @classmethod
    def for_fidelity(
        cls, fidelity: Fidelity, *, eta: float, min_fidelity: int | float | None = None
    ) -> RungLadder:
        """Build the ladder of a space's fidelity, optionally with a larger minimum."""
        low = fidelity.low if min_fidelity is None else min_fidelity
        if fidelity.is_integer and isinstance(low, float):
            if not low.is_integer():
                raise OptimizerError(
                    f"invalid min_fidelity {low!r}: the fidelity [{fidelity.low}, "
                    f"{fidelity.high}] takes whole numbers; use {max(1, round(low))}"
                )
            low = int(low)
        return cls.build(low, fidelity.high, eta=eta)

    @property
    def s_max(self) -> int:
        """The paper's ``s_max``: the number of rungs minus one."""
        return len(self.rungs) - 1

    def index(self, fidelity: int | float | None) -> int | None:
        """Return the rung whose value equals ``fidelity`` (relative 1e-9), or None."""
        if fidelity is None:
            return None
        for i, rung in enumerate(self.rungs):
            if math.isclose(float(fidelity), float(rung), rel_tol=1e-9):
                return i
        return None

    def brackets(self) -> tuple[Bracket, ...]:
        """Return the Hyperband brackets, most exploratory first (``s = s_max, ..., 0``).

        Algorithm 1 of Li et al. (2018): bracket ``s`` starts ``n = ceil((s_max + 1) / (s + 1)
        * eta**s)`` configurations, and rung ``i`` of it keeps ``n_i = floor(n * eta**-i)``.
        The arithmetic is exact (``fractions.Fraction``), so ``eta = 3`` never yields
        8.999999 configurations.
        """
        eta = Fraction(self.eta).limit_denominator(10**6)
        s_max = self.s_max
        brackets = []
        for s in range(s_max, -1, -1):
            n = math.ceil(Fraction(s_max + 1, s + 1) * eta**s)
            counts = tuple(max(1, math.floor(n / eta**i)) for i in range(s + 1))
            brackets.append(Bracket(s=s, base_rung=s_max - s, n_configs=counts))
        return tuple(brackets)

    def bracket_cost(self, bracket: Bracket) -> float:
        """Return the fidelity a bracket trains when promotions continue from checkpoints."""
        total = 0.0
        previous = 0.0
        for i, count in enumerate(bracket.n_configs):
            rung = float(self.rungs[bracket.base_rung + i])
            start = previous if i > 0 else 0.0
            total += count * (rung - start)
            previous = rung
        return total

    def warn_if_budget_short(
        self, *, max_trials: int | None, max_fidelity_total: float | None
    ) -> None:
        """Warn when the budget cannot finish the most exploratory bracket."""
        bracket = self.brackets()[0]
        trials = sum(bracket.n_configs)
        cost = self.bracket_cost(bracket)
        short = []
        if max_trials is not None and max_trials < trials:
            short.append(f"max_trials={max_trials} < {trials} trials")
        if max_fidelity_total is not None and max_fidelity_total < cost:
            short.append(f"max_fidelity_total={max_fidelity_total:g} < {cost:.6g}")
        if not short:
            return
        message = (
            f"the budget cannot finish one bracket of the rungs {self.describe()} "
            f"({' and '.join(short)}): few or no trials will reach the maximum fidelity. "
            "Raise the budget, raise min_fidelity or raise eta"
        )
        logger.warning("%s", message)
        warnings.warn(message, FidelityWarning, stacklevel=4)

    def describe(self) -> str:
        return "(" + ", ".join(f"{rung:g}" for rung in self.rungs) + ")"

    def _warn_if_partial(self) -> None:
        if len(self.rungs) < 2:
            return
        last_step = float(self.rungs[-1]) / float(self.rungs[-2])
        integer = all(isinstance(rung, int) for rung in self.rungs)
        tolerance = _INTEGER_WHOLE_POWER_TOLERANCE if integer else _WHOLE_POWER_TOLERANCE
        if math.isclose(last_step, self.eta, rel_tol=tolerance):
            return
        message = (
            f"the fidelity range [{self.min_fidelity:g}, {self.max_fidelity:g}] is not a whole "
            f"power of eta={self.eta:g}: only {len(self.rungs)} rungs fit, so the rungs are "
            f"{self.describe()} and the last step is a factor {last_step:.3g}. "
            f"{self._aligned_advice(integer)}"
        )
        logger.warning("%s", message)
        warnings.warn(message, FidelityWarning, stacklevel=4)

    def _aligned_advice(self, integer: bool) -> str:
        """Return which min_fidelity makes every step a factor eta, and how to pass it."""
        ratio = float(self.max_fidelity) / float(self.min_fidelity)
        steps = math.floor(math.log(ratio) / math.log(self.eta) + 1e-9)
        if steps < 1:
            return (
                f"Lower the minimum to {float(self.max_fidelity) / self.eta:g} or below, "
                "or lower eta"
            )
        aligned: int | float = float(self.max_fidelity) / self.eta**steps
        aligned = math.floor(aligned + 0.5) if integer else float(f"{aligned:.6g}")
        if aligned <= self.min_fidelity:
            maximum = float(self.min_fidelity) * self.eta**steps
            return f"Choose the maximum {maximum:g} to make every step a factor eta"
        return (
            f"Pass optimizer_settings={{'min_fidelity': {aligned}}} (max_fidelity / "
            f"eta**{steps}) to make every step about a factor eta, or use optimizer='auto', "
            "which does so"
        )


def _check_ladder_arguments(
    min_fidelity: int | float, max_fidelity: int | float, eta: float
) -> None:
    if isinstance(eta, bool) or not isinstance(eta, int | float) or not math.isfinite(eta):
        raise OptimizerError(f"eta must be a number > 1, such as 3, got {eta!r}")
    if eta <= 1:
        raise OptimizerError(
            f"eta must be > 1, got {eta!r}: it is the factor between rungs; use 2, 3 or 4"
        )
    if not math.isfinite(float(min_fidelity)) or min_fidelity <= 0:
        raise OptimizerError(
            f"the minimum fidelity must be > 0, got {min_fidelity!r}; use the smallest budget "
            "a trial can run with, such as 1 epoch"
        )
    if min_fidelity >= max_fidelity:
        raise OptimizerError(
            f"the minimum fidelity {min_fidelity!r} must be below the maximum {max_fidelity!r}; "
            "with one fidelity level use an optimizer without a multi-fidelity schedule"
        )


def _geometric_rungs(
    low: int | float, high: int | float, eta: float, *, integer: bool
) -> list[int | float]:
    """Compute ``low * eta**i`` below ``high``, then ``high`` itself (module docstring rule)."""
    exact_eta = Fraction(eta).limit_denominator(10**6)
    exact_low = Fraction(low)
    rungs: list[int | float] = []
    i = 0
    while True:
        value = exact_low * exact_eta**i
        if value * Fraction(math.sqrt(eta)) > high + 1e-12 * high:
            break
        rungs.append(math.floor(value + Fraction(1, 2)) if integer else float(value))
        i += 1
    if not rungs:
        rungs = [low]
    rungs.append(high)
    unique: list[int | float] = []
    for rung in rungs:
        if not unique or rung > unique[-1]:
            unique.append(rung)
    unique[0] = low
    return unique
