"""`module_step`: present the current step of the module in progress, in wording for this patient."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flows.context import TurnContext
from flows.modules import CHOICE_KINDS, StepKind
from flows.personalise import StepRequest, WordingSource
from flows.replies import buttons, reply, with_replies
from flows.runner import step_prompt
from flows.state import ConversationState, Phase, ReplyAction

__all__ = ["module_step", "patient_words"]


def patient_words(answers: dict[str, Any]) -> dict[str, str]:
    """Flatten earlier answers to plain strings for a personaliser."""
    words: dict[str, str] = {}
    for key, value in answers.items():
        if isinstance(value, list):
            words[key] = ", ".join(
                f"{item['name']} {item['rating']}" if isinstance(item, dict) else str(item) for item in value
            )
        elif value not in ("", None):
            words[key] = str(value)
    return words


def module_step(state: ConversationState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
    """Show step `step_index` of the module in progress and wait for the answer."""
    ctx = runtime.context
    module = ctx.modules.get(state["module_id"])
    index = state.get("step_index", 0)
    step = module.step(index)
    answers = state.get("answers", {})
    scripted = step_prompt(module, index, answers, state.get("facts", {}))
    wording = ctx.personaliser.personalise(
        StepRequest(
            module_id=module.id, module_title=module.title, step_id=step.id, step_kind=str(step.kind),
            scripted_text=scripted, limits=module.personalisation, patient_words=patient_words(answers),
            brief=state.get("brief", ""),
        )
    )
    text = wording.text if wording.source is WordingSource.LLM else scripted
    keys = ("next", "pause") if step.kind is StepKind.PSYCHOEDUCATION else (("skip",) if step.optional else ())
    actions = buttons(ctx.copy, *keys)
    if step.kind in CHOICE_KINDS:  # a press answers with that option; several can be typed ("1, 3")
        actions = tuple(ReplyAction(label=o.label, value=o.label) for o in step.options) + actions
    content_id = f"{module.content_id}#{step.id}"
    return {
        "phase": Phase.STEP,
        "pending": "",
        "replies": with_replies(state, reply(text, actions=actions, content_id=content_id)),
    }
