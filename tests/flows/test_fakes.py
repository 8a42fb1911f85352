"""The fake structured chat model: canned answers, recorded messages, structured output."""

from __future__ import annotations

from typing import TypedDict

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, ValidationError

from flows.fakes import FakeModelExhaustedError, FakeStructuredChatModel


class Answer(BaseModel):
    text: str


class Pair(BaseModel):
    text: str
    other: str


class AnswerDict(TypedDict):
    text: str


def test_plain_invoke_answers_in_order_and_records_messages() -> None:
    model = FakeStructuredChatModel(responses=["one", "two"])
    first = model.invoke("hello")
    second = model.invoke([HumanMessage(content="again")])
    assert isinstance(first, AIMessage)
    assert (first.text, second.text) == ("one", "two")
    assert [messages[0].text for messages in model.received] == ["hello", "again"]
    assert model.calls == 2


def test_structured_output_fills_the_schema_from_plain_text() -> None:
    model = FakeStructuredChatModel(responses=["Warmer wording?"])
    result = model.with_structured_output(Answer, method="json_schema").invoke("hi")
    assert result == Answer(text="Warmer wording?")
    assert model.structured_calls == [(Answer, {"method": "json_schema"})]


def test_structured_output_validates_json_text() -> None:
    model = FakeStructuredChatModel(responses=['{"text": "from json"}', '{"answer": 42}'])
    structured = model.with_structured_output(Answer)
    assert structured.invoke("hi") == Answer(text="from json")
    with pytest.raises(ValidationError):
        structured.invoke("hi")


def test_structured_output_with_a_dict_schema_needs_json() -> None:
    model = FakeStructuredChatModel(responses=['{"text": "x"}', "plain"])
    structured = model.with_structured_output(AnswerDict)
    assert structured.invoke("hi") == {"text": "x"}
    with pytest.raises(ValueError, match="JSON object"):
        structured.invoke("hi")


def test_plain_text_cannot_fill_a_schema_with_two_string_fields() -> None:
    model = FakeStructuredChatModel(responses=["plain"])
    with pytest.raises(ValueError, match="single string field"):
        model.with_structured_output(Pair).invoke("hi")


def test_include_raw_returns_the_message_and_any_parsing_error() -> None:
    model = FakeStructuredChatModel(responses=["ok", '{"answer": 1}'])
    structured = model.with_structured_output(Answer, include_raw=True)
    good = structured.invoke("hi")
    bad = structured.invoke("hi")
    assert isinstance(good, dict) and isinstance(bad, dict)
    assert good["parsed"] == Answer(text="ok") and good["parsing_error"] is None
    assert bad["parsed"] is None and isinstance(bad["parsing_error"], ValidationError)
    assert isinstance(bad["raw"], AIMessage)


def test_exceptions_are_raised_and_callables_see_the_messages() -> None:
    def echo(messages: list[BaseMessage]) -> str:
        return "echo: " + messages[-1].text

    model = FakeStructuredChatModel(responses=[TimeoutError("slow"), echo])
    with pytest.raises(TimeoutError):
        model.invoke("first")
    assert model.invoke("second").text == "echo: second"
    assert len(model.received) == 2


def test_running_out_of_responses_says_how_to_fix_it() -> None:
    model = FakeStructuredChatModel(responses=["only"])
    model.invoke("hi")
    with pytest.raises(FakeModelExhaustedError, match="cycle=True"):
        model.invoke("hi")


def test_cycle_starts_again() -> None:
    model = FakeStructuredChatModel(responses=["a", "b"], cycle=True)
    assert [model.invoke("x").text for _ in range(3)] == ["a", "b", "a"]
