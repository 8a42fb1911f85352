"""`check_safety`: the single entry of every turn. Screens the message before anything else runs.

It fails closed (a screen that raises counts as tier 2), carries risk across turns (a tier of 3
or more holds until a reviewer clears safety mode), and notes what routing needs: consent,
a request for help, an empty or over-long message.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flows.context import TurnContext
from flows.replies import reply
from flows.state import ConversationState, Phase, ReplyKind
from safety.detector import DETECTOR_VERSION
from safety.replies import acknowledgement
from safety.screen import wants_crisis_resources
from safety.types import Assessment, Category, Signal, Tier

__all__ = ["check_safety"]

RECENT_TURNS = 5


def _screen(ctx: TurnContext, text: str, recent: list[str]) -> Assessment:
    try:
        return ctx.screen(text, recent=recent)
    except Exception as exc:  # noqa: BLE001 - fail closed: an error in screening is risk
        signal = Signal(
            source="error", id="error.check_safety", tier=Tier.UNCLEAR,
            category=Category.SCREEN_ERROR, detail=type(exc).__name__,
        )
        return Assessment.from_signals([signal], version=DETECTOR_VERSION)


def check_safety(state: ConversationState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
    """Screen this turn's message and set the risk the router acts on."""
    ctx = runtime.context
    turn = state["turn"]
    text: str = turn["text"]
    recent = list(state.get("recent", []))
    assessment = _screen(ctx, text, recent)
    update: dict[str, Any] = {
        "assessment": assessment.model_dump(mode="json"),
        "replies": [],
        "turns": state.get("turns", 0) + 1,
        "consented": ctx.consented,
        "wants_help": bool(text) and _wants_help(text),
        "input_issue": _input_issue(turn, text, ctx.max_message_chars),
    }
    if text:
        update["recent"] = [*recent, text[: ctx.max_message_chars]][-RECENT_TURNS:]
    held = int(state.get("risk_tier", 0))
    phase = state.get("phase")
    # safety mode lives on the patient's escalations, not in this thread: a new chat, a restart
    # or an unconsented (in-memory) conversation cannot leave it
    held_by_reviewer = ctx.store.in_safety_mode(ctx.patient_id)
    if assessment.tier >= Tier.ACTIVE:
        update["risk_tier"] = max(held, int(assessment.tier))
        update["risk_categories"] = sorted(
            set(state.get("risk_categories", [])) | {str(c) for c in assessment.categories}
        )
    elif phase == Phase.SAFETY and not held_by_reviewer:
        # a reviewer cleared safety mode: leave it, and say so
        update |= {"phase": Phase.IDLE, "risk_tier": int(assessment.tier), "risk_categories": []}
        update["replies"] = [reply(ctx.copy.text("safety_cleared"), kind=ReplyKind.NOTICE)]
    if held_by_reviewer and phase != Phase.SAFETY:
        update |= {"phase": Phase.SAFETY, "resume_phase": phase or Phase.CONSENT}
    if assessment.tier == Tier.DISTRESS:
        update["replies"] = [*update["replies"], reply(acknowledgement(Tier.DISTRESS))]
    return update


def _wants_help(text: str) -> bool:
    try:
        return wants_crisis_resources(text)
    except Exception:  # noqa: BLE001 - fail closed: if unsure, show the resources
        return True


def _input_issue(turn: dict[str, Any], text: str, limit: int) -> str:
    if turn.get("is_start"):
        return ""
    if not text.strip():
        return "empty"
    if len(text) > limit:
        return "too_long"
    return ""
