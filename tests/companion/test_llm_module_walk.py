"""One module walked end to end with the LLM personaliser, through the real OpenAI client, against a
local OpenAI-compatible stub server: reworded steps are shown, the summary stays the patient's own."""

from __future__ import annotations

from pathlib import Path

from companion.llm import build_personaliser
from flows.state import ReplyKind
from tests.conftest import make_settings
from tests.support.openai_stub import OpenAIStub
from tests.support_service import ChatHarness, joined


def chat_against(stub: OpenAIStub, tmp_path: Path) -> ChatHarness:
    """A patient whose LLM personaliser is the real OpenAI client pointed at the stub."""
    settings = make_settings(tmp_path / "var", llm_base_url=stub.base_url, llm_model="stub-model",
                             llm_timeout_seconds=2)
    return ChatHarness(settings, personaliser=build_personaliser(settings))


ANSWERS = [
    "Next", "On the train, my friend Sam Jones ignored my text", "hurt 70", "Nobody cares about me",
    "Sam didn't reply", "Sam replied later last week", "Sam may have been busy; people do care",
]


def test_thought_record_with_the_llm_personaliser_against_a_stub(tmp_path: Path) -> None:
    with OpenAIStub(reply_text="Let's take this gently, one part at a time. What do you notice?") as stub:
        chat = chat_against(stub, tmp_path)
        try:
            chat.start()
            assert "AI service" in joined(chat.say("I agree"))
            chat.say("Yes")
            chat.say("6")
            assert "Let's take this gently" in joined(chat.say("Thought record"))
            for answer in ANSWERS:
                assert "Let's take this gently" in joined(chat.say(answer))
            summary = chat.say("40")
            assert summary[0].kind is ReplyKind.SUMMARY
            text = joined(summary)
            assert "Nobody cares about me" in text and "Sam Jones ignored my text" in text
            assert "Let's take this gently" not in text, "the summary is never reworded"
            assert stub.request_count == len(ANSWERS) + 1, "one request per step shown"
            sent = stub.sent_text()
            assert "Sam Jones" not in sent and "[name" in sent, "names are masked before they leave"
        finally:
            chat.close()


def test_the_therapists_brief_reaches_the_llm_masked_and_the_assigned_module_comes_first(tmp_path: Path) -> None:
    with OpenAIStub(reply_text="A gentle start. What do you notice?") as stub:
        chat = chat_against(stub, tmp_path)
        try:
            chat.runtime.store.assign_module(
                patient_id=chat.patient_id, module_id="thought-record",
                brief="Prefers short sentences; avoid talk of her manager Dana Smith",
            )
            chat.start()
            chat.say("I agree")
            chat.say("Yes")
            menu = chat.say("6")
            labels = [a.label for r in menu for a in r.actions]
            assert "suggested by your therapist" in joined(menu)
            assert [label for label in labels if label != "Questionnaires"][0] == "Thought record"
            chat.say("Thought record")
            sent = stub.sent_text()
            assert "Prefers short sentences" in sent and "Dana Smith" not in sent
        finally:
            chat.close()
