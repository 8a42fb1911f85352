"""Risk screening, risk policy, crisis replies and resources, and the LLM output guard.

Pure: imports nothing from `companion/` or `flows/`, and never Chainlit, FastAPI or SQLModel.
"""

from safety.fakes import FixedScreener, RaisingScreener
from safety.guard import GuardVerdict, check_output
from safety.normalise import normalise
from safety.policy import action_for, is_escalation
from safety.replies import (
    CrisisReply,
    acknowledgement,
    crisis_reply,
    resources_reply,
    safety_mode_reply,
)
from safety.resources import (
    CrisisResource,
    ResourceSet,
    available_locales,
    format_resources,
    load_resources,
)
from safety.screen import DETECTOR_VERSION, assess, screen_message, wants_crisis_resources
from safety.screening import (
    Question,
    ScreeningSet,
    load_screening,
    low_risk_close,
    next_question,
    parse_yes_no,
    screening_tier,
)
from safety.types import Action, Assessment, Category, Signal, Tier

__all__ = [
    "DETECTOR_VERSION",
    "Action",
    "Assessment",
    "Category",
    "CrisisReply",
    "CrisisResource",
    "FixedScreener",
    "GuardVerdict",
    "Question",
    "RaisingScreener",
    "ResourceSet",
    "ScreeningSet",
    "Signal",
    "Tier",
    "acknowledgement",
    "action_for",
    "assess",
    "available_locales",
    "check_output",
    "crisis_reply",
    "format_resources",
    "is_escalation",
    "load_resources",
    "load_screening",
    "low_risk_close",
    "next_question",
    "normalise",
    "parse_yes_no",
    "resources_reply",
    "safety_mode_reply",
    "screen_message",
    "screening_tier",
    "wants_crisis_resources",
]
