"""`escalate`: the fixed crisis reply, resources for the locale, an escalation record, safety mode.

The reply is content written to safe-messaging guidance; no LLM is involved. The record is
upserted under an id derived from the turn, so re-running the node does not duplicate it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from langgraph.runtime import Runtime

from flows.context import TurnContext
from flows.replies import buttons, reply
from flows.state import ConversationState, Phase, ReplyKind
from safety.replies import crisis_reply, safety_mode_reply
from safety.types import Assessment, Category, Tier

__all__ = ["escalate", "escalation_id"]

EXCERPT_TURNS = 4


def escalation_id(patient_id: str, turn_id: str) -> str:
    """Return a deterministic, opaque id for the escalation raised by one turn."""
    return "esc-" + hashlib.sha256(f"{patient_id}|{turn_id}".encode()).hexdigest()[:32]


def escalate(state: ConversationState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
    """Answer with the crisis reply and record the escalation, or repeat safety-mode support."""
    ctx = runtime.context
    assessment = Assessment.model_validate(state["assessment"])
    phase = state.get("phase", Phase.CONSENT)
    update: dict[str, Any] = {"phase": Phase.SAFETY}
    if phase != Phase.SAFETY:
        update["resume_phase"] = phase
    help_button = buttons(ctx.copy, "get_help")
    if assessment.tier >= Tier.ACTIVE:
        consented = bool(state.get("consented"))
        text = state["turn"]["text"]
        excerpt = list(state.get("recent", []))[-EXCERPT_TURNS:] if consented else [text]
        ctx.store.record_escalation(
            patient_id=ctx.patient_id,
            escalation_id=escalation_id(ctx.patient_id, state["turn"]["turn_id"]),
            assessment=assessment,
            excerpt=excerpt,
            before_consent=not consented,
            safety_mode=True,
        )
        categories = [Category(c) for c in assessment.categories]
        crisis = crisis_reply(tier=assessment.tier, categories=categories, locale=ctx.locale)
    else:
        crisis = safety_mode_reply(ctx.locale)
    update["replies"] = [
        *state.get("replies", []),
        reply(crisis.text, kind=ReplyKind.CRISIS, actions=help_button, content_id=crisis.content_id),
    ]
    plan = state.get("crisis_plan")
    if plan:  # the patient's own plan, in their words, after the resources
        intro = ctx.copy.text("crisis_plan_intro", title=plan["title"])
        update["replies"].append(reply(f"{intro}\n\n{plan['text']}", kind=ReplyKind.SUMMARY))
    return update
