"""`record_answer`: read the patient's answer to the current step, store it encrypted, and advance.

Also handles the words every step understands: pause (keep the place for later), back (one
step back), skip (only for optional steps and reading steps).
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flows.context import TurnContext
from flows.modules import StepKind
from flows.replies import reply, with_replies
from flows.runner import AnswerProblem, Navigation, parse_answer, parse_navigation
from flows.state import ConversationState, Phase, ReplyKind

__all__ = ["record_answer"]


def record_answer(state: ConversationState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
    """Act on the answer to the current step."""
    ctx = runtime.context
    copy = ctx.copy
    module = ctx.modules.get(state["module_id"])
    index = state.get("step_index", 0)
    step = module.step(index)
    text = state["turn"]["text"]
    navigation = parse_navigation(text)

    if navigation is Navigation.PAUSE:
        said = reply(copy.text("paused", title=module.title), kind=ReplyKind.NOTICE)
        return {"phase": Phase.IDLE, "replies": with_replies(state, said)}
    if navigation is Navigation.BACK:
        said = reply(copy.text("went_back"), kind=ReplyKind.NOTICE)
        return {"step_index": max(index - 1, 0), "pending": "step", "replies": with_replies(state, said)}
    if step.kind is StepKind.PSYCHOEDUCATION:
        return _advance(state, module.steps, index)
    if navigation is Navigation.SKIP:
        if not step.optional:
            return {"replies": with_replies(state, reply(copy.text("cannot_skip"), kind=ReplyKind.NOTICE))}
        said = reply(copy.text("skipped"), kind=ReplyKind.NOTICE)
        return _advance(state, module.steps, index) | {"replies": with_replies(state, said)}

    answers = dict(state.get("answers", {}))
    value = parse_answer(module, index, text, answers)
    if isinstance(value, AnswerProblem):
        return {"replies": with_replies(state, reply(value.message))}
    ctx.store.record_answer(
        patient_id=ctx.patient_id, run_id=state["run_id"], module_id=module.id,
        module_version=module.version, step_id=step.id, value=value,
    )
    answers[step.id] = value
    update = _advance(state, module.steps, index) | {"answers": answers}
    if step.remember_as:
        update["facts"] = {**state.get("facts", {}), step.remember_as: value}
    return update


def _advance(state: ConversationState, steps: tuple[Any, ...], index: int) -> dict[str, Any]:
    following = min(index + 1, len(steps) - 1)
    pending = "summary" if steps[following].kind is StepKind.SUMMARY else "step"
    return {"step_index": following, "pending": pending}
