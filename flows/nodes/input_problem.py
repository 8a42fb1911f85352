"""`input_problem`: a clear answer to an empty or over-long message (after it was screened)."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flows.context import TurnContext
from flows.replies import reply, with_replies
from flows.state import ConversationState, ReplyKind

__all__ = ["input_problem"]


def input_problem(state: ConversationState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
    """Say what was wrong with the message; nothing stored changes."""
    ctx = runtime.context
    if state.get("input_issue") == "too_long":
        text = ctx.copy.text("too_long", limit=ctx.max_message_chars)
    else:
        text = ctx.copy.text("empty_message")
    return {"replies": with_replies(state, reply(text, kind=ReplyKind.NOTICE))}
