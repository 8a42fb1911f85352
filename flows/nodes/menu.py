"""`menu`: offer what the patient can do (resume the module in progress, or pick one), and read the choice."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flows.context import TurnContext
from flows.replies import buttons, reply, with_replies
from flows.state import ConversationState, Phase, ReplyAction

__all__ = ["menu"]


def menu(state: ConversationState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
    """Show the menu, or act on the patient's choice from it."""
    ctx = runtime.context
    copy, library = ctx.copy, ctx.modules
    in_progress = state.get("module_id") if state.get("module_id") in library.modules else None
    text = state["turn"]["text"].strip()

    if state.get("phase") == Phase.MENU and not state["turn"].get("is_start"):
        folded = text.casefold()
        if in_progress and folded in {copy.button("continue").casefold(), "continue", "yes", "resume"}:
            return {"phase": Phase.STEP, "pending": "step"}
        chosen = library.find(text)
        if chosen is not None and chosen.id == in_progress:
            return {"phase": Phase.STEP, "pending": "step"}
        if chosen is not None:
            return {
                "phase": Phase.STEP, "pending": "step", "module_id": chosen.id,
                "module_version": chosen.version, "run_id": f"run-{state['turn']['turn_id']}",
                "step_index": 0, "answers": {},
            }
        if folded != copy.button("something_else").casefold():
            return {"replies": with_replies(state, reply(copy.text("menu_retry"), actions=_module_buttons(ctx)))}
        return {"replies": with_replies(state, _full_menu(ctx))}

    if in_progress:
        title = library.get(in_progress).title
        offer = reply(copy.text("resume_prompt", title=title), actions=buttons(copy, "continue", "something_else"))
        return {"phase": Phase.MENU, "replies": with_replies(state, offer)}
    return {"phase": Phase.MENU, "replies": with_replies(state, _full_menu(ctx))}


def _module_buttons(ctx: TurnContext) -> tuple[ReplyAction, ...]:
    return tuple(ReplyAction(label=m.title, value=m.title) for m in ctx.modules.modules.values())


def _full_menu(ctx: TurnContext) -> dict[str, Any]:
    lines = [ctx.copy.text("menu_prompt"), ""]
    for module in ctx.modules.modules.values():
        line = ctx.copy.text(
            "module_line", title=module.title, minutes=module.estimated_minutes, description=module.description
        )
        lines.append("- " + line)
    return reply("\n".join(lines), actions=(*_module_buttons(ctx), *buttons(ctx.copy, "get_help")))
