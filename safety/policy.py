"""Map a risk tier to what the conversation does next (the table in DESIGN.md).

| tier | action |
|---|---|
| 0 nothing of concern | CONTINUE |
| 1 distress without risk | ACKNOWLEDGE (empathic acknowledgement, offer grounding) |
| 2 passive wish to be dead / unclear | SCREEN (screening questions, non-urgent flag) |
| 3 active ideation, self-harm, harm to others, abuse | ESCALATE |
| 4 method, plan, intent, preparation, recent attempt | ESCALATE_URGENT |
| 5 in progress or imminent | EMERGENCY (emergency numbers first) |
"""

from __future__ import annotations

from types import MappingProxyType

from safety.types import Action, Tier

__all__ = ["ACTIONS", "action_for", "is_escalation"]

ACTIONS = MappingProxyType(
    {
        Tier.NONE: Action.CONTINUE,
        Tier.DISTRESS: Action.ACKNOWLEDGE,
        Tier.UNCLEAR: Action.SCREEN,
        Tier.ACTIVE: Action.ESCALATE,
        Tier.URGENT: Action.ESCALATE_URGENT,
        Tier.EMERGENCY: Action.EMERGENCY,
    }
)


def action_for(tier: Tier) -> Action:
    """Return the action DESIGN.md prescribes for a risk tier.

    Args:
        tier: The assessed tier (an int 0-5 is accepted too).

    Returns:
        The action for that tier.

    Raises:
        ValueError: The value is not a tier (0-5).
    """
    return ACTIONS[Tier(tier)]


def is_escalation(tier: Tier) -> bool:
    """Tell whether a tier brings in a human (tier 3 or higher).

    Args:
        tier: The assessed tier.

    Returns:
        True for tiers 3, 4 and 5.
    """
    return Tier(tier) >= Tier.ACTIVE
