"""`menu`: offer what the patient can do (resume, pick a module, read past summaries), and read the choice.

What the patient's therapist assigned comes first (soonest due first); modules whose
prerequisites are not finished yet are listed as locked and cannot be picked.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flows.context import TurnContext
from flows.modules import Module
from flows.replies import buttons, reply, with_replies
from flows.state import ConversationState, Phase, ReplyAction, ReplyKind

__all__ = ["menu"]

_CONTINUE_WORDS = {"continue", "yes", "resume", "carry on"}


def menu(state: ConversationState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
    """Show the menu, or act on the patient's choice from it."""
    ctx = runtime.context
    copy, library = ctx.copy, ctx.modules
    in_progress = state.get("module_id") if state.get("module_id") in library.modules else None
    text = state["turn"]["text"].strip()
    done = set(state.get("completed_modules", []))
    assigned = _assigned(ctx)  # read once per turn: each read decrypts the briefs

    if state.get("phase") == Phase.MENU and not state["turn"].get("is_start"):
        folded = text.casefold()
        if in_progress and folded in _CONTINUE_WORDS | {copy.button("continue").casefold()}:
            return {"phase": Phase.STEP, "pending": "step"}
        if state.get("questionnaires_due") and folded in {copy.button("questionnaires").casefold(), "questionnaires", "questionnaire"}:
            return {"pending": "questionnaire"}
        if folded == copy.button("my_summaries").casefold() or folded in {"summaries", "my summary"}:
            return {"replies": with_replies(state, *_summaries(ctx, state), _full_menu(ctx, state, assigned))}
        chosen = library.find(text)
        if chosen is not None and _unlocked(chosen, done):
            if chosen.id == in_progress:
                return {"phase": Phase.STEP, "pending": "step"}
            brief = next((a["brief"] for a in assigned if a["module_id"] == chosen.id), "")
            return {
                "phase": Phase.STEP, "pending": "step", "module_id": chosen.id,
                "module_version": chosen.version, "run_id": f"run-{state['turn']['turn_id']}",
                "step_index": 0, "answers": {}, "brief": brief,
            }
        if folded != copy.button("something_else").casefold():
            retry = reply(copy.text("menu_retry"), actions=_module_buttons(ctx, done, assigned))
            return {"replies": with_replies(state, retry)}
        return {"replies": with_replies(state, _full_menu(ctx, state, assigned))}

    if in_progress:
        title = library.get(in_progress).title
        offer = reply(copy.text("resume_prompt", title=title), actions=buttons(copy, "continue", "something_else"))
        return {"phase": Phase.MENU, "replies": with_replies(state, offer)}
    return {"phase": Phase.MENU, "replies": with_replies(state, _full_menu(ctx, state, assigned))}


def _unlocked(module: Module, done: set[str]) -> bool:
    return all(p in done for p in module.prerequisites)


def _assigned(ctx: TurnContext) -> list[dict[str, Any]]:
    return [a for a in ctx.store.assignments(ctx.patient_id) if a["module_id"] in ctx.modules.modules]


def _ordered(ctx: TurnContext, done: set[str], assigned: list[dict[str, Any]]) -> list[Module]:
    """Assigned, unfinished modules first (soonest due first), then the rest in file order."""
    first = [ctx.modules.get(a["module_id"]) for a in assigned if a["module_id"] not in done]
    return first + [m for m in ctx.modules.modules.values() if m not in first]


def _module_buttons(ctx: TurnContext, done: set[str], assigned: list[dict[str, Any]]) -> tuple[ReplyAction, ...]:
    return tuple(
        ReplyAction(label=m.title, value=m.title) for m in _ordered(ctx, done, assigned) if _unlocked(m, done)
    )


def _full_menu(ctx: TurnContext, state: ConversationState, assigned: list[dict[str, Any]]) -> dict[str, Any]:
    done = set(state.get("completed_modules", []))
    lines = [ctx.copy.text("menu_prompt"), ""]
    due = ("questionnaires",) if state.get("questionnaires_due") else ()
    if due:
        lines = [ctx.copy.text("questionnaires_due"), "", *lines]
    pending = {a["module_id"]: a for a in assigned if a["module_id"] not in done}
    for module in _ordered(ctx, done, assigned):
        if module.id in pending:
            due_date = pending[module.id]["due"]
            key = "assigned_line_due" if due_date else "assigned_line"
            line = ctx.copy.text(key, title=module.title, due=due_date, minutes=module.estimated_minutes)
        elif _unlocked(module, done):
            line = ctx.copy.text(
                "module_line", title=module.title, minutes=module.estimated_minutes, description=module.description
            )
        else:
            after = ", ".join(ctx.modules.get(p).title for p in module.prerequisites if p not in done)
            line = ctx.copy.text("locked_line", title=module.title, after=after)
        lines.append("- " + line)
    extra = ("my_summaries", "get_help") if done else ("get_help",)
    actions = (*buttons(ctx.copy, *due), *_module_buttons(ctx, done, assigned), *buttons(ctx.copy, *extra))
    return reply("\n".join(lines), actions=actions)


def _summaries(ctx: TurnContext, state: ConversationState) -> list[dict[str, Any]]:
    summaries = state.get("summaries", {})
    if not summaries:
        return [reply(ctx.copy.text("no_summaries"))]
    said = [reply(ctx.copy.text("summaries_intro"))]
    for module_id, text in summaries.items():
        title = ctx.modules.get(module_id).title if module_id in ctx.modules.modules else module_id
        said.append(reply(f"**{title}**\n\n{text}", kind=ReplyKind.SUMMARY))
    return said
