"""`screening`: tier-2 questions in chat, one at a time, mapped to a tier by the most serious answer.

The questions cover the constructs of validated screeners in our own wording (content, so a
licensed deployment can replace them). A serious answer escalates; a low-risk result records
a non-urgent flag for the care team (after consent only) and returns to where the patient was.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flows.context import TurnContext
from flows.nodes.escalate import EXCERPT_TURNS, escalation_id
from flows.replies import buttons, reply, with_replies
from flows.state import ConversationState, Phase, ReplyKind
from safety.detector import DETECTOR_VERSION
from safety.screening import low_risk_close, next_question, parse_yes_no, screening_tier
from safety.types import Assessment, Category, Signal, Tier

__all__ = ["screening"]

_HELD_PHASES = {Phase.SCREENING, Phase.SAFETY}


def screening(state: ConversationState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
    """Ask the next screening question, or finish screening and set the tier."""
    ctx = runtime.context
    questions = ctx.screening
    yes_no = buttons(ctx.copy, "yes", "no")
    phase = state.get("phase", Phase.CONSENT)

    if phase != Phase.SCREENING:
        first = next_question({}, questions)
        assert first is not None, "a screening set has at least one question"
        resume = phase if phase not in _HELD_PHASES else Phase.IDLE
        return {
            "phase": Phase.SCREENING, "screening_answers": {}, "resume_phase": resume,
            "replies": with_replies(
                state, reply(questions.intro, kind=ReplyKind.NOTICE, content_id=questions.content_id),
                reply(first.text, actions=yes_no),
            ),
        }

    answers = dict(state.get("screening_answers", {}))
    current = next_question(answers, questions)
    answer = parse_yes_no(state["turn"]["text"])
    if current is None:  # defensive: nothing left to ask
        answer = None
    elif answer is None:
        return {"replies": with_replies(state, reply(questions.texts["reask"]), reply(current.text, actions=yes_no))}
    else:
        answers[current.id] = answer
        following = next_question(answers, questions)
        if following is not None:
            return {"screening_answers": answers, "replies": with_replies(state, reply(following.text, actions=yes_no))}

    tier = screening_tier(answers)
    signal = Signal(
        source="screening", id=f"screening.{questions.id}", tier=tier,
        category=Category.INTENT if tier >= Tier.URGENT else Category.ACTIVE_IDEATION
        if tier >= Tier.ACTIVE else Category.PASSIVE_IDEATION if tier >= Tier.UNCLEAR else Category.DISTRESS,
        detail=f"answers={sum(answers.values())}/{len(answers)}",
    )
    assessment = Assessment.from_signals([signal], version=DETECTOR_VERSION)
    update: dict[str, Any] = {"screening_answers": answers, "assessment": assessment.model_dump(mode="json")}
    if tier >= Tier.ACTIVE:
        return update | {"risk_tier": max(int(tier), int(state.get("risk_tier", 0)))}
    if tier == Tier.UNCLEAR:  # a non-urgent flag for the care team (the close text says so)
        consented = bool(state.get("consented"))
        recent = list(state.get("recent", []))
        ctx.store.record_escalation(
            patient_id=ctx.patient_id,
            escalation_id=escalation_id(ctx.patient_id, state["turn"]["turn_id"]),
            assessment=assessment, excerpt=recent[-EXCERPT_TURNS:] if consented else recent[-1:],
            before_consent=not consented, safety_mode=False,
        )
        close = low_risk_close(ctx.locale, screening=questions)
    else:
        close = questions.texts["no_risk_close"]
    came_from = state.get("resume_phase", Phase.IDLE)
    back_to = came_from if came_from in (Phase.CONSENT, Phase.DECLINED) else Phase.IDLE
    return update | {
        "phase": back_to,
        "replies": with_replies(state, reply(close, kind=ReplyKind.NOTICE, actions=buttons(ctx.copy, "get_help"))),
    }
