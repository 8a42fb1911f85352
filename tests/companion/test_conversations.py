"""Scripted conversations (tests/conversations/*.yaml) through the real service and graph.

Each file is a dialogue: `start` opens a chat, `say` sends a message, `restart` stops and
starts the service on the same data (a new day), and `expect` checks the replies of that
turn: `contains` / `not_contains` (case-insensitive, across the turn's replies), `kinds`
(reply kinds that must appear), `buttons` (labels that must be offered).
Conversations marked `llm: fake` run with the LLM personaliser on a fake chat model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from langchain_core.messages import BaseMessage

from companion.settings import Settings
from flows.fakes import FakeStructuredChatModel
from flows.llm_personaliser import LLMPersonaliser
from tests.conftest import make_settings
from tests.support_service import ChatHarness, joined

CONVERSATIONS = sorted((Path(__file__).resolve().parents[1] / "conversations").glob("*.yaml"))


def check(expect: dict[str, Any], replies: list, where: str) -> None:
    text = joined(replies).casefold()
    for fragment in expect.get("contains", []):
        assert fragment.casefold() in text, f"{where}: expected {fragment!r} in:\n{joined(replies)}"
    for fragment in expect.get("not_contains", []):
        assert fragment.casefold() not in text, f"{where}: did not expect {fragment!r} in:\n{joined(replies)}"
    kinds = {str(r.kind) for r in replies}
    for kind in expect.get("kinds", []):
        assert kind in kinds, f"{where}: expected a {kind} reply, got {sorted(kinds)}"
    labels = {a.label for r in replies for a in r.actions}
    for label in expect.get("buttons", []):
        assert label in labels, f"{where}: expected a {label!r} button, got {sorted(labels)}"


def echo_step_text(messages: Sequence[BaseMessage]) -> str:
    """A fake model that 'rewords' a step by giving its (masked) text back unchanged."""
    data = str(messages[-1].content).split("<data>", 1)[1].rsplit("</data>", 1)[0]
    return json.dumps({"text": json.loads(data)["step_text"]})


@pytest.mark.parametrize("path", CONVERSATIONS, ids=[p.stem for p in CONVERSATIONS])
def test_conversation(path: Path, tmp_path: Path) -> None:
    script = yaml.safe_load(path.read_text(encoding="utf-8"))
    run_script(script, path, tmp_path)


MODULE_WALKS = [p for p in CONVERSATIONS if p.stem.startswith("module_") or p.stem == "thought_record"]


@pytest.mark.parametrize("path", MODULE_WALKS, ids=[p.stem for p in MODULE_WALKS])
def test_module_walk_through_the_llm_personaliser_with_a_fake_model(path: Path, tmp_path: Path) -> None:
    """The same walk with the patient also agreeing to the AI service: every step goes through the
    LLM personaliser (masking, structured output, guard, restore) on a fake model that echoes."""
    script = yaml.safe_load(path.read_text(encoding="utf-8"))
    turns: list[dict[str, Any]] = []
    for turn in script["turns"]:
        if turn.get("say") == "I agree" and not any(t.get("say") == "I agree" for t in turns):
            turns.append({"say": "I agree", "expect": {"contains": ["AI service"]}})
            turns.append({"say": "Yes", "expect": {"contains": ["use the AI service", "how are you feeling"]}})
        else:
            turns.append(turn)
    script = {**script, "turns": turns, "llm": "fake", "llm_responses": [echo_step_text]}
    model = run_script(script, path, tmp_path)
    assert model is not None and model.structured_calls, "the steps went through the model"


def run_script(script: dict[str, Any], path: Path, tmp_path: Path) -> FakeStructuredChatModel | None:
    overrides: dict[str, Any] = script.get("settings", {})
    personaliser = None
    model = None
    if script.get("llm") == "fake":
        overrides |= {"llm_base_url": "http://127.0.0.1:9/v1", "llm_model": "fake"}
        model = FakeStructuredChatModel(responses=list(script["llm_responses"]), cycle=True)
        personaliser = LLMPersonaliser(model)
    settings: Settings = make_settings(tmp_path / "var", **overrides)
    chat = ChatHarness(settings, personaliser=personaliser)
    try:
        for number, turn in enumerate(script["turns"], start=1):
            where = f"{path.name} turn {number}"
            if turn.get("restart"):
                chat.restart()
                continue
            replies = chat.start() if turn.get("start") else chat.say(turn["say"])
            assert replies, f"{where}: every turn gets an answer"
            check(turn.get("expect", {}), replies, where)
    finally:
        chat.close()
    return model
