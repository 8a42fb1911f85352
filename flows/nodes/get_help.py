"""`get_help`: show crisis resources for the patient's locale when they ask ("Get help now")."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from flows.context import TurnContext
from flows.replies import reply, with_replies
from flows.state import ConversationState, ReplyKind
from safety.replies import resources_reply

__all__ = ["get_help"]


def get_help(state: ConversationState, runtime: Runtime[TurnContext]) -> dict[str, Any]:
    """Add the locale's crisis lines and emergency number; the flow stays where it was."""
    resources = resources_reply(runtime.context.locale)
    return {
        "replies": with_replies(
            state, reply(resources.text, kind=ReplyKind.RESOURCES, content_id=resources.content_id)
        )
    }
