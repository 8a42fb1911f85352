"""Pure edge functions: where a turn goes next, from the state alone."""

from __future__ import annotations

from typing import Literal

from flows.state import ConversationState, Phase
from safety.types import Tier

__all__ = [
    "route_after_check_in",
    "route_after_consent",
    "route_after_homework",
    "route_after_menu",
    "route_after_questionnaire",
    "route_after_safety",
    "route_after_share",
    "route_after_screening",
    "route_after_step_change",
]

_CONSENT_PHASES = {Phase.CONSENT, Phase.CONSENT_AI, Phase.DECLINED}


def _tier(state: ConversationState) -> int:
    return int(state.get("assessment", {}).get("tier", Tier.UNCLEAR))


def route_after_safety(
    state: ConversationState,
) -> Literal[
    "escalate", "screening", "get_help", "input_problem", "consent", "check_in", "homework_review",
    "questionnaire", "share_summary", "menu", "record_answer",
]:
    """Route on risk first, then on where the patient is in the flow."""
    phase = state.get("phase")
    if _tier(state) >= Tier.ACTIVE or phase == Phase.SAFETY:
        return "escalate"
    if phase == Phase.SCREENING or _tier(state) == Tier.UNCLEAR:
        return "screening"
    if state.get("wants_help"):
        return "get_help"
    if state.get("input_issue"):
        return "input_problem"
    if not state.get("consented") or phase in _CONSENT_PHASES or phase is None:
        return "consent"
    if state["turn"].get("is_start") or phase == Phase.CHECK_IN:
        return "check_in"
    if phase == Phase.HOMEWORK:
        return "homework_review"
    if phase == Phase.QUESTIONNAIRE:
        return "questionnaire"
    if phase == Phase.SHARE:
        return "share_summary"
    if phase == Phase.STEP and state.get("module_id"):
        return "record_answer"
    return "menu"


def route_after_consent(state: ConversationState) -> Literal["check_in", "__end__"]:
    """Go straight on to the check-in once consent is complete."""
    return "check_in" if state.get("consented") and state.get("phase") == Phase.IDLE else "__end__"


def route_after_check_in(state: ConversationState) -> Literal["homework_review", "menu", "__end__"]:
    """After today's mood: ask how the homework went (if there is some), else the menu."""
    if state.get("phase") != Phase.IDLE:
        return "__end__"
    return "homework_review" if state.get("homework") else "menu"


def route_after_share(state: ConversationState) -> Literal["menu"]:
    """After the sharing choice, the menu: it shows itself, or reads a message that was not a yes or no."""
    return "menu"


def route_after_homework(state: ConversationState) -> Literal["menu", "__end__"]:
    return "menu" if state.get("phase") == Phase.IDLE else "__end__"


def route_after_menu(state: ConversationState) -> Literal["module_step", "questionnaire", "__end__"]:
    pending = state.get("pending")
    if pending == "questionnaire":
        return "questionnaire"
    return "module_step" if pending == "step" else "__end__"


def route_after_questionnaire(state: ConversationState) -> Literal["screening", "menu", "__end__"]:
    """A positive risk item goes to the screening questions; a finished set back to the menu."""
    if state.get("phase") == Phase.IDLE and _tier(state) == Tier.UNCLEAR:
        return "screening"
    return "menu" if state.get("phase") == Phase.IDLE else "__end__"


def route_after_step_change(state: ConversationState) -> Literal["module_step", "summary", "__end__"]:
    """After an answer: show the next step, the summary, or nothing (a retry or a pause)."""
    pending = state.get("pending")
    if pending == "summary":
        return "summary"
    if pending == "step":
        return "module_step"
    return "__end__"


def route_after_screening(state: ConversationState) -> Literal["escalate", "menu", "__end__"]:
    """Escalate a serious result; after a finished low-risk screening, offer the menu again."""
    if _tier(state) >= Tier.ACTIVE:
        return "escalate"
    if state.get("phase") == Phase.IDLE and state.get("consented"):
        return "menu"
    return "__end__"
