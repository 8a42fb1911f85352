"""Chainlit handlers: sign-in, chat start, messages and button presses, passed to the service.

Thin by design: every patient message (typed, or a button's value) goes to
`ChatService.handle_message`, which screens it for risk before anything else, and every
`Reply` it returns is shown as a Chainlit message with its buttons. No business logic or
clinical text lives here. The service is blocking, so it runs in a worker thread.

Chainlit loads this file by path (`mount_chainlit(target=...)`), not as `companion.chat`.
"""

from __future__ import annotations

import asyncio
import tomllib
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import chainlit as cl

from companion.logging import get_logger
from companion.service import get_service
from flows.state import Reply, ReplyAction

log = get_logger("companion.chat")

ACTION_NAME = "reply"
_UI_TEXT = tomllib.loads((Path(__file__).parent / "web" / "ui_text.toml").read_text("utf-8"))
_LOCK_KEY = "companion_turn_lock"
_BUTTONS_KEY = "companion_messages_with_buttons"


@cl.password_auth_callback
async def sign_in(username: str, password: str) -> cl.User | None:
    """Check a username and password with the service; None makes Chainlit answer 401.

    Failed attempts are rate limited per username in `ChatService.authenticate` (the portal's
    limit and settings): Chainlit passes this callback no request, so there is no client
    address to count by. While a username is paused the answer is None, as for a wrong password.
    """
    try:
        user = await asyncio.to_thread(get_service().authenticate, username, password)
    except Exception as error:  # noqa: BLE001 - a failing check is a refused sign-in
        log.error("sign_in_check_failed", error=type(error).__name__)
        return None
    if user is None:
        return None
    return cl.User(identifier=user.username, metadata={"user_id": user.id, "role": str(user.role)})


@cl.on_chat_start
async def start_chat() -> None:
    """Show what the service says when a chat opens (the consent text, or welcome back)."""
    user_id = _current_user_id()
    if user_id is None:
        return
    await _run_turn(lambda: get_service().open_chat(user_id=user_id))


@cl.on_message
async def receive_message(message: cl.Message) -> None:
    """Pass a typed message to the service and show its replies."""
    await _handle_text(message.content or "")


@cl.action_callback(ACTION_NAME)
async def press_button(action: cl.Action) -> None:
    """Send a button's value as the patient's message, after showing what they chose."""
    value = action.payload.get("value") if isinstance(action.payload, dict) else None
    if not isinstance(value, str):
        return
    user = cl.user_session.get("user")
    author = user.identifier if isinstance(user, cl.User) else None
    await cl.Message(content=action.label or value, type="user_message", author=author).send()
    await _handle_text(value)


async def _handle_text(text: str) -> None:
    user_id = _current_user_id()
    if user_id is None:
        return
    turn_id = str(uuid.uuid4())
    await _run_turn(
        lambda: get_service().handle_message(user_id=user_id, text=text, turn_id=turn_id)
    )


async def _run_turn(call: Callable[[], list[Reply]]) -> None:
    """Run one blocking service call off the event loop, one at a time per chat session.

    The call is shielded: if the patient presses Chainlit's stop button, the turn still
    finishes and its replies (which may be a crisis reply) are still shown.
    """
    async with _session_lock():
        await _clear_old_buttons()
        future = asyncio.ensure_future(asyncio.to_thread(call))
        try:
            replies = await asyncio.shield(future)
        except asyncio.CancelledError:
            replies = await future
        except Exception as error:  # noqa: BLE001 - log the type only: messages may hold patient text
            log.error("chat_turn_failed", error=type(error).__name__)
            replies = [Reply(text=_UI_TEXT["turn_failed"])]
        await _send_replies(replies)


async def _send_replies(replies: Sequence[Reply]) -> None:
    for reply in replies:
        actions = [_to_action(a) for a in reply.actions]
        # kind and content id (never patient text) let the page and tests tell replies apart
        metadata = {"kind": str(reply.kind), "content_id": reply.content_id}
        message = cl.Message(content=reply.text, actions=actions, metadata=metadata)
        await message.send()
        if actions:
            _messages_with_buttons().append(message)


def _to_action(action: ReplyAction) -> cl.Action:
    return cl.Action(name=ACTION_NAME, payload={"value": action.value}, label=action.label)


async def _clear_old_buttons() -> None:
    """Remove buttons of earlier replies, so an old choice cannot be pressed twice."""
    pending = _messages_with_buttons()
    while pending:
        await pending.pop().remove_actions()


def _messages_with_buttons() -> list[cl.Message]:
    pending = cl.user_session.get(_BUTTONS_KEY)
    if pending is None:
        pending = []
        cl.user_session.set(_BUTTONS_KEY, pending)
    return pending


def _session_lock() -> asyncio.Lock:
    lock = cl.user_session.get(_LOCK_KEY)
    if lock is None:
        lock = asyncio.Lock()
        cl.user_session.set(_LOCK_KEY, lock)
    return lock


def _current_user_id() -> str | None:
    user = cl.user_session.get("user")
    if not isinstance(user, cl.User):
        return None
    user_id = user.metadata.get("user_id")
    return user_id if isinstance(user_id, str) else None
