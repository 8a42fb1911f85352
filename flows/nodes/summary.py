"""`summary`: show the patient what they produced in the module, set homework, and close the run."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flows.context import TurnContext
from flows.replies import buttons, reply, with_replies
from flows.runner import homework_text, summary_lines, summary_text
from flows.state import ConversationState, Phase, ReplyKind

__all__ = ["summary"]


def summary(state: ConversationState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
    """Summarise the finished module from the patient's own answers (never LLM-written)."""
    ctx = runtime.context
    module = ctx.modules.get(state["module_id"])
    answers = state.get("answers", {})
    facts = state.get("facts", {})
    text = summary_text(module, answers, facts)
    ctx.store.record_answer(
        patient_id=ctx.patient_id, run_id=state["run_id"], module_id=module.id,
        module_version=module.version, step_id=module.steps[-1].id, value=text, completed=True,
    )
    extra: dict[str, Any] = {}
    if module.show_in_crisis:
        extra["crisis_plan"] = {"title": module.title, "text": "\n".join(summary_lines(module, answers, facts))}
    done = reply(ctx.copy.text("module_done", title=module.title))
    share = reply(ctx.copy.text("share_prompt"), actions=buttons(ctx.copy, "yes", "no", "something_else"))
    return extra | {
        "phase": Phase.SHARE,
        "last_run": {"module_id": module.id, "module_version": module.version, "run_id": state["run_id"]},
        "pending": "",
        "completed_modules": list(dict.fromkeys([*state.get("completed_modules", []), module.id])),
        "summaries": {**state.get("summaries", {}), module.id: text},
        "homework": {"module_id": module.id, "title": module.title, "text": homework_text(module, answers, facts)},
        "module_id": "",
        "step_index": 0,
        "answers": {},
        "replies": with_replies(
            state, reply(text, kind=ReplyKind.SUMMARY, content_id=f"{module.content_id}#summary"), done, share
        ),
    }
