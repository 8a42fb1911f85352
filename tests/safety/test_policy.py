"""Risk policy: the tier -> action table from DESIGN.md."""

from __future__ import annotations

import pytest

from safety.policy import action_for, is_escalation
from safety.types import Action, Tier


@pytest.mark.parametrize(
    ("tier", "action", "escalates"),
    [
        (Tier.NONE, Action.CONTINUE, False),
        (Tier.DISTRESS, Action.ACKNOWLEDGE, False),
        (Tier.UNCLEAR, Action.SCREEN, False),
        (Tier.ACTIVE, Action.ESCALATE, True),
        (Tier.URGENT, Action.ESCALATE_URGENT, True),
        (Tier.EMERGENCY, Action.EMERGENCY, True),
    ],
)
def test_policy_table(tier: Tier, action: Action, escalates: bool) -> None:
    assert action_for(tier) is action
    assert is_escalation(tier) is escalates


def test_every_tier_has_an_action() -> None:
    assert {action_for(t) for t in Tier} == set(Action)


def test_plain_ints_are_accepted_and_bad_values_rejected() -> None:
    assert action_for(3) is Action.ESCALATE  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        action_for(6)  # type: ignore[arg-type]
