"""`homework_review`: at the start of a new session, ask how last time's homework went, and note the answer."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flows.context import TurnContext
from flows.replies import buttons, reply, with_replies
from flows.runner import Navigation, parse_navigation
from flows.state import ConversationState, Phase

__all__ = ["homework_review"]


def homework_review(state: ConversationState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
    """Ask about the homework, or record how it went (encrypted) and go on to the menu."""
    ctx = runtime.context
    homework = state.get("homework", {})
    if state.get("phase") != Phase.HOMEWORK:
        ask = ctx.copy.text("homework_prompt", title=homework.get("title", ""), homework=homework.get("text", ""))
        return {"phase": Phase.HOMEWORK, "replies": with_replies(state, reply(ask, actions=buttons(ctx.copy, "skip")))}
    text = state["turn"]["text"]
    if parse_navigation(text) is not Navigation.SKIP:
        ctx.store.record_answer(
            patient_id=ctx.patient_id, run_id=f"homework-{state['turn']['turn_id']}",
            module_id=homework.get("module_id", ""), module_version="homework", step_id="homework_review",
            value={"homework": homework.get("text", ""), "how_it_went": text}, completed=True,
        )
        said = [reply(ctx.copy.text("homework_thanks"))]
    else:
        said = []
    return {"phase": Phase.IDLE, "homework": {}, "replies": with_replies(state, *said)}
