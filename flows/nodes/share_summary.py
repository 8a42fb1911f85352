"""`share_summary`: after a module's summary, the patient decides whether their therapist may see it.

Nothing is shared unless the patient says yes; the decision is stored (encrypted, like every
answer) beside the module run. Anything that is not a yes or a no is read as "not now" and
handed to the menu, so the patient can simply move on.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flows.context import TurnContext
from flows.replies import reply, with_replies
from flows.state import ConversationState, Phase
from safety.screening import parse_yes_no

__all__ = ["SHARE_STEP", "share_summary"]

SHARE_STEP = "share_with_therapist"


def share_summary(state: ConversationState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
    """Record the patient's choice about sharing the summary just shown."""
    ctx = runtime.context
    finished = state.get("last_run", {})
    answer = parse_yes_no(state["turn"]["text"])
    if finished:
        ctx.store.record_answer(
            patient_id=ctx.patient_id, run_id=finished.get("run_id", ""), module_id=finished.get("module_id", ""),
            module_version=finished.get("module_version", ""), step_id=SHARE_STEP, value=bool(answer), completed=True,
        )
    if answer is None:  # not a yes or no: keep it private and let the menu read the message
        return {"phase": Phase.MENU, "last_run": {}}
    said = ctx.copy.text("shared" if answer else "not_shared")
    return {"phase": Phase.IDLE, "last_run": {}, "replies": with_replies(state, reply(said))}
