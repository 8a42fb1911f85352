"""End to end over Chainlit's socket.io protocol, against the real server and the real service.

Sign in, consent, the first thought-record steps, a crisis message; and the refusals: a bad
password, a socket from another origin, a socket without a session. Assertions are on stable
things (reply kinds, button labels, content ids, helpline numbers), not on wording.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
import socketio

from tests.e2e.chat_client import ChatClient, content_id, dumps, kind, login
from tests.e2e.e2e_server import Patient, RunningServer

pytestmark = pytest.mark.e2e

CRISIS_MESSAGE = "I have pills saved up and I'm going to take them tonight"
HTML_MESSAGE = '<script>alert("x")</script><img src=x onerror="alert(1)"> at work, in a meeting'
UNESCAPED_TAG = re.compile(r"(?<!\\)<\s*/?\s*(?:script|img)\b", re.I)


def _signed_in(server: RunningServer, patient: Patient, **kwargs: Any) -> ChatClient:
    response = login(server.base_url, patient.username, patient.password)
    assert response.status_code == 200, response.text
    return ChatClient(server.base_url, patient.username, response.cookies["access_token"], **kwargs)


async def _consented(chat: ChatClient) -> list[dict[str, Any]]:
    """Open the chat, check the consent gate, press I agree; return the replies after it."""
    await chat.connect()
    opening = await chat.replies()
    assert any(kind(m) == "consent" for m in opening), dumps(opening)
    labels = set(await chat.buttons(opening[-1]))
    assert {"I agree", "No thanks"} <= labels, labels
    return await chat.press_label(opening, "I agree")


def test_wrong_password_and_unknown_user_get_401(server: RunningServer, patient: Patient) -> None:
    assert login(server.base_url, patient.username, "not the password").status_code == 401
    assert login(server.base_url, "nobody-here", "whatever").status_code == 401


def test_socket_from_another_origin_is_refused(server: RunningServer, patient: Patient) -> None:
    async def attempt(transport: str) -> None:
        chat = _signed_in(server, patient, origin="http://evil.example")
        try:
            with pytest.raises((socketio.exceptions.ConnectionError, RuntimeError)):
                await chat.connect(transports=[transport])
        finally:
            await chat.close()

    asyncio.run(attempt("websocket"))
    asyncio.run(attempt("polling"))


def test_socket_without_a_session_cookie_is_refused(server: RunningServer) -> None:
    async def attempt() -> None:
        chat = ChatClient(server.base_url, "someone", token="not-a-valid-token")
        try:
            with pytest.raises(socketio.exceptions.ConnectionError):
                await chat.connect()
        finally:
            await chat.close()

    asyncio.run(attempt())


def test_consent_module_steps_and_crisis(server: RunningServer, patient: Patient) -> None:
    async def conversation() -> None:
        chat = _signed_in(server, patient)
        try:
            replies = await _consented(chat)
            assert replies, "no reply after pressing I agree"
            assert all(kind(m) != "crisis" for m in replies), dumps(replies)
            # check-in: a mood from 0 to 10 (the prompt offers Skip)
            check_in = next((m for m in replies if "Skip" in chat.actions_for(m)), None)
            assert check_in is not None, dumps(replies)
            replies = await chat.turn("6")
            # the menu offers the thought record as a button
            replies = await chat.press_label(replies, "Thought record")
            steps = [content_id(m) for m in replies if "#" in content_id(m)]
            assert steps and steps[-1].startswith("thought-record@"), dumps(replies)
            if steps[-1].endswith("#intro"):
                replies = await chat.press_label(replies, "Next")
            assert content_id(replies[-1]).endswith("#situation"), dumps(replies)
            # patient HTML is an ordinary answer; nothing comes back as a live tag
            replies = await chat.turn(HTML_MESSAGE)
            assert content_id(replies[-1]).endswith("#emotions"), dumps(replies)
            assert not any(UNESCAPED_TAG.search(str(m["output"])) for m in replies), dumps(replies)
            replies = await chat.turn("anxious 70, embarrassed 40")
            assert content_id(replies[-1]).endswith("#automatic_thought"), dumps(replies)
            # a crisis message mid-exercise gets the crisis reply with the US lifeline
            replies = await chat.turn(CRISIS_MESSAGE)
            crisis = [m for m in replies if kind(m) == "crisis"]
            assert crisis, dumps(replies)
            assert "988" in crisis[0]["output"], crisis[0]["output"]
            # and the exercise does not simply carry on after it
            replies = await chat.turn("my thought was that I am useless")
            assert not any(content_id(m).endswith("#evidence_for") for m in replies), dumps(replies)
        finally:
            await chat.close()

    asyncio.run(conversation())


def test_crisis_before_consent_still_gets_the_crisis_reply(server: RunningServer, patient: Patient) -> None:
    async def conversation() -> None:
        chat = _signed_in(server, patient)
        try:
            await chat.connect()
            await chat.replies()
            replies = await chat.turn(CRISIS_MESSAGE)
            crisis = [m for m in replies if kind(m) == "crisis"]
            assert crisis and "988" in crisis[0]["output"], dumps(replies)
        finally:
            await chat.close()

    asyncio.run(conversation())


def test_bad_input_gets_an_answer_and_the_chat_goes_on(server: RunningServer, patient: Patient) -> None:
    async def conversation() -> None:
        chat = _signed_in(server, patient)
        try:
            await chat.connect()
            await chat.replies()
            for text in ["", "   ", "x" * 100_000, "bell\x07 and nul\x00 and bidi\u202e text"]:
                replies = await chat.turn(text)
                assert replies and all(str(m["output"]).strip() for m in replies), dumps(replies)
                assert len(str(replies[-1]["output"])) < 20_000  # never echoed back whole
            # two messages before the first is answered: both answered, in order, nothing lost
            await chat.send("What happens to my data?")
            await chat.send("Who can see what I write?")
            replies = await chat.replies()
            replies += await chat.drain(quiet=2.0)
            assert len(replies) >= 2, dumps(replies)
            assert chat.sio.connected
        finally:
            await chat.close()

    asyncio.run(conversation())
