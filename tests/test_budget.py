"""Budget parsing and accounting."""

from __future__ import annotations

import pytest

from paretune import Budget, BudgetError
from paretune.budget import BudgetUsage, exhausted_reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5x", Budget(max_reference_runs=5)),
        ("30m", Budget(max_time=1800)),
        ("2h", Budget(max_time=7200)),
        ("90s", Budget(max_time=90)),
        ("200trials", Budget(max_trials=200)),
        ("500epochs", Budget(max_fidelity_total=500)),
        ("3600cost", Budget(max_cost=3600)),
    ],
)
def test_parse_budget(text: str, expected: Budget) -> None:
    assert Budget.parse(text) == expected


@pytest.mark.parametrize("text", ["", "five", "5parsecs", "2.5trials", "-3x"])
def test_parse_invalid_budget(text: str) -> None:
    with pytest.raises(BudgetError, match="budget"):
        Budget.parse(text)


@pytest.mark.parametrize("text", ["0x", "0trials", "0.0m"])
def test_parse_zero_budget(text: str) -> None:
    with pytest.raises(BudgetError, match=r"invalid budget .*must be positive, such as 5x"):
        Budget.parse(text)


def test_exhausted_reason_names_the_limit() -> None:
    usage = BudgetUsage(trials=3, cost=10.0, fidelity=30.0, elapsed=5.0, reference_cost=2.0)
    assert exhausted_reason(Budget(max_trials=3), usage) == "reached max_trials=3"
    assert exhausted_reason(Budget(max_trials=4), usage) is None
    assert "max_cost=10" in (exhausted_reason(Budget(max_cost=10), usage) or "")
    assert "5 reference runs" in (exhausted_reason(Budget(max_reference_runs=5), usage) or "")
    reason = exhausted_reason(Budget(max_fidelity_total=40), usage, fidelity_in_flight=10)
    assert "max_fidelity_total=40" in (reason or "")
