"""Helpers nodes use to add replies to this turn (as plain dicts, so checkpoints stay JSON)."""

from __future__ import annotations

from typing import Any

from flows.copy import ChatCopy
from flows.state import ConversationState, Reply, ReplyAction, ReplyKind

__all__ = ["buttons", "reply", "with_replies"]


def reply(
    text: str,
    *,
    kind: ReplyKind = ReplyKind.TEXT,
    actions: tuple[ReplyAction, ...] = (),
    content_id: str = "",
) -> dict[str, Any]:
    return Reply(text=text, kind=kind, actions=actions, content_id=content_id).model_dump(mode="json")


def buttons(copy: ChatCopy, *keys: str) -> tuple[ReplyAction, ...]:
    """Buttons whose value is their label, so a typed answer and a press read the same."""
    return tuple(ReplyAction(label=copy.button(k), value=copy.button(k)) for k in keys)


def with_replies(state: ConversationState, *new: dict[str, Any]) -> list[dict[str, Any]]:
    """Return this turn's replies so far plus `new`."""
    return [*state.get("replies", []), *new]
