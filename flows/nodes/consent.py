"""`consent`: the gate before anything about the patient is stored.

Shows the current consent text, answers questions about it from scripted content, records an
explicit agreement, and respects a refusal (nothing is kept). When an external LLM is
configured, a second, optional consent covers sending masked text to it.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flows.context import TurnContext
from flows.replies import buttons, reply, with_replies
from flows.state import ConversationState, Phase, ReplyKind
from safety.screening import parse_yes_no

__all__ = ["STORE_SCOPE", "AI_SCOPE", "consent"]

STORE_SCOPE = "store_conversations"
AI_SCOPE = "external_ai"


def consent(state: ConversationState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
    """Run one step of the consent conversation."""
    ctx = runtime.context
    doc, copy = ctx.consent, ctx.copy
    text = state["turn"]["text"]
    phase = state.get("phase")
    gate = buttons(copy, "agree", "decline", "more_info", "get_help")

    if phase == Phase.CONSENT_AI:
        answer = parse_yes_no(text)
        if answer is None:
            return {"replies": with_replies(state, reply(copy.text("ai_consent_prompt"), actions=buttons(copy, "yes", "no")))}
        if answer:
            ctx.store.record_consent(patient_id=ctx.patient_id, version=doc.version, scopes=[AI_SCOPE])
        choice = copy.text("ai_consent_yes" if answer else "ai_consent_no")
        return {"phase": Phase.IDLE, "replies": with_replies(state, reply(choice))}

    if state.get("consented"):
        # agreed in another chat: nothing to ask
        return {"phase": Phase.IDLE}

    show_text = reply(doc.text, kind=ReplyKind.CONSENT, actions=gate, content_id=doc.content_id)
    if phase not in (Phase.CONSENT, Phase.DECLINED) or state["turn"].get("is_start"):
        intro = []
        if ctx.store.agreed_to_earlier_version(ctx.patient_id, current=doc.version):
            intro = [reply(copy.text("consent_updated"), kind=ReplyKind.NOTICE)]
        return {"phase": Phase.CONSENT, "replies": with_replies(state, *intro, show_text)}

    if doc.is_agreement(text):
        ctx.store.record_consent(patient_id=ctx.patient_id, version=doc.version, scopes=[STORE_SCOPE])
        update: dict[str, Any] = {"consented": True, "phase": Phase.IDLE}
        said = [reply(copy.text("consent_recorded"))]
        if ctx.llm_available:
            update["phase"] = Phase.CONSENT_AI
            said.append(reply(copy.text("ai_consent_prompt"), actions=buttons(copy, "yes", "no")))
        return update | {"replies": with_replies(state, *said)}

    if phase == Phase.DECLINED and text.strip().casefold() == copy.button("changed_mind").casefold():
        return {"phase": Phase.CONSENT, "replies": with_replies(state, show_text)}
    if doc.is_refusal(text):
        return {
            "phase": Phase.DECLINED,
            "recent": [],
            "replies": with_replies(
                state, reply(copy.text("declined"), actions=buttons(copy, "changed_mind", "get_help"))
            ),
        }
    question = doc.answer_for(text)
    if question is not None:
        answer_reply = reply(question.answer, actions=gate, content_id=f"{doc.content_id}#{question.id}")
        return {"replies": with_replies(state, answer_reply)}
    return {"replies": with_replies(state, reply(copy.text("consent_needs_clear_yes"), actions=gate))}

