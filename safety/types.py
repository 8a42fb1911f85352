"""Value types shared by every layer of the risk screen: tiers, categories, signals, assessments.

These are the contract between `safety/` and its callers. They carry no patient text: a
`Signal` names the rule or layer that fired, never the words that made it fire, so an
assessment can be logged, stored in checkpoint state and shown to reviewers safely.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Action", "Assessment", "Category", "Signal", "Tier"]


class Tier(IntEnum):
    """Risk tiers as defined in DESIGN.md (0 = nothing of concern ... 5 = imminent)."""

    NONE = 0
    DISTRESS = 1
    UNCLEAR = 2
    ACTIVE = 3
    URGENT = 4
    EMERGENCY = 5


class Category(StrEnum):
    """What kind of risk a signal points at."""

    DISTRESS = "distress"
    PASSIVE_IDEATION = "passive_ideation"
    ACTIVE_IDEATION = "active_ideation"
    METHOD_PLAN = "method_plan"
    INTENT = "intent"
    PREPARATION = "preparation"
    RECENT_ATTEMPT = "recent_attempt"
    SELF_HARM = "self_harm"
    HARM_TO_OTHERS = "harm_to_others"
    ABUSE_DISCLOSURE = "abuse_disclosure"
    MEDICAL_EMERGENCY = "medical_emergency"
    IMMINENT = "imminent"
    SCREEN_ERROR = "screen_error"
    HELP_REQUEST = "help_request"


class Action(StrEnum):
    """What the conversation does with an assessment (see `safety.policy`)."""

    CONTINUE = "continue"
    ACKNOWLEDGE = "acknowledge"
    SCREEN = "screen"
    ESCALATE = "escalate"
    ESCALATE_URGENT = "escalate_urgent"
    EMERGENCY = "emergency"


class Signal(BaseModel):
    """One reason an assessment has the tier it has. Never holds patient text."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="layer that produced it: rules, classifier, judge, context, error")
    id: str = Field(description="stable rule or layer id, e.g. 'si.method.pills'")
    tier: Tier
    category: Category
    detail: str = Field(default="", description="non-patient detail such as a score")


class Assessment(BaseModel):
    """The result of screening one message in its context."""

    model_config = ConfigDict(frozen=True)

    tier: Tier = Tier.NONE
    categories: tuple[Category, ...] = ()
    signals: tuple[Signal, ...] = ()
    detector_version: str

    @classmethod
    def from_signals(cls, signals: list[Signal] | tuple[Signal, ...], *, version: str) -> Assessment:
        """Build an assessment whose tier is the highest of its signals."""
        tier = max((s.tier for s in signals), default=Tier.NONE)
        categories = tuple(dict.fromkeys(s.category for s in signals if s.tier > Tier.NONE))
        return cls(tier=tier, categories=categories, signals=tuple(signals), detector_version=version)

    def merged(self, other: Assessment) -> Assessment:
        """Combine two assessments; the tier can only go up."""
        return Assessment.from_signals(
            (*self.signals, *other.signals),
            version=self.detector_version,
        )
