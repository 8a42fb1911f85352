"""`check_in`: ask how the patient feels today (0-10), and read the answer."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from langgraph.runtime import Runtime

from flows.context import TurnContext
from flows.replies import buttons, reply, with_replies
from flows.runner import Navigation, parse_navigation
from flows.state import ConversationState, Phase

__all__ = ["check_in"]

LOW_MOOD = 3
_WHOLE_NUMBER = re.compile(r"^\D{0,20}?(\d{1,2})(?:\s*(?:/|out of)\s*10)?\D{0,20}$")


def check_in(state: ConversationState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
    """Ask for today's mood, or record the answer and move on to the menu."""
    ctx = runtime.context
    copy = ctx.copy
    if state.get("phase") != Phase.CHECK_IN or state["turn"].get("is_start"):
        last = state.get("questionnaires_last")
        due = bool(ctx.questionnaires) and (
            not last or (ctx.today - date.fromisoformat(last)).days >= ctx.questionnaire_interval_days
        )
        greeting = [reply(copy.text("welcome_back"))] if state["turn"].get("is_start") and state.get("turns", 0) > 1 else []
        ask = reply(copy.text("check_in_prompt"), actions=buttons(copy, "skip"))
        return {"phase": Phase.CHECK_IN, "questionnaires_due": due, "replies": with_replies(state, *greeting, ask)}
    text = state["turn"]["text"]
    if parse_navigation(text) is Navigation.SKIP:
        return {"phase": Phase.IDLE}
    match = _WHOLE_NUMBER.match(text.strip())
    mood = int(match.group(1)) if match else -1
    if not 0 <= mood <= 10:
        return {"replies": with_replies(state, reply(copy.text("check_in_retry"), actions=buttons(copy, "skip")))}
    ctx.store.record_answer(
        patient_id=ctx.patient_id, run_id=f"check-in-{state['turn']['turn_id']}",
        module_id="check-in", module_version="1.0.0", step_id="mood", value=mood, completed=True,
    )
    key = "check_in_low" if mood <= LOW_MOOD else "check_in_thanks"
    return {"phase": Phase.IDLE, "mood": mood, "replies": with_replies(state, reply(copy.text(key, mood=mood)))}
