"""A fake chat model that ships with the code, for scripted conversations and unit tests.

LangChain's own fakes (`GenericFakeChatModel`, `FakeListChatModel`) cannot do structured
output. `FakeStructuredChatModel` can: it answers from a list of canned responses, records
every message list it was sent, and `with_structured_output(schema)` fills the schema from the
canned text. It makes no network calls.

    model = FakeStructuredChatModel(responses=["Warmer wording?", TimeoutError("slow")])
    LLMPersonaliser(model).personalise(request)  # the first step reads "Warmer wording?"
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel, Field

__all__ = ["CannedResponse", "FakeModelExhaustedError", "FakeStructuredChatModel"]

#: A canned response: text to answer with, an exception to raise, or a function of the
#: messages received that returns the text (for example, echoing part of the prompt).
CannedResponse = str | BaseException | Callable[[Sequence[BaseMessage]], str]


class FakeModelExhaustedError(LookupError):
    """Raised when the fake is called more often than it has canned responses."""


class FakeStructuredChatModel(BaseChatModel):
    """Answer from canned responses, in order; record what was sent; support structured output.

    Attributes:
        responses: Canned responses, used in order (see `CannedResponse`).
        cycle: Start again from the first response when the list runs out, instead of raising
            `FakeModelExhaustedError`.
        received: Every message list the model was called with, in order.
        structured_calls: The `(schema, kwargs)` of every `with_structured_output` call.
    """

    responses: list[Any] = Field(default_factory=list)
    cycle: bool = False
    received: list[list[BaseMessage]] = Field(default_factory=list)
    structured_calls: list[tuple[Any, dict[str, Any]]] = Field(default_factory=list)
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "fake-structured-chat-model"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.received.append(list(messages))
        response = self._next_response()
        if isinstance(response, BaseException):
            raise response
        text = response(messages) if callable(response) else response
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def with_structured_output(
        self, schema: dict[str, Any] | type, *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """Return a runnable that fills `schema` from the next canned text.

        Canned text that is a JSON object is validated against the schema (so wrong JSON
        raises, as a real model's would); plain text fills a schema's only string field.
        Keyword arguments such as `method` are recorded and otherwise ignored.
        """
        self.structured_calls.append((schema, dict(kwargs)))
        if not include_raw:
            return self | RunnableLambda(partial(_fill, schema))

        def parse_with_raw(message: BaseMessage) -> dict[str, Any]:
            try:
                return {"raw": message, "parsed": _fill(schema, message), "parsing_error": None}
            except ValueError as exc:  # pydantic's ValidationError is a ValueError
                return {"raw": message, "parsed": None, "parsing_error": exc}

        return self | RunnableLambda(parse_with_raw)

    def _next_response(self) -> CannedResponse:
        if self.calls >= len(self.responses):
            if not (self.cycle and self.responses):
                raise FakeModelExhaustedError(
                    f"FakeStructuredChatModel was called {self.calls + 1} times but has "
                    f"{len(self.responses)} canned responses; add more, or pass cycle=True"
                )
        response = self.responses[self.calls % len(self.responses)]
        self.calls += 1
        return response


def _fill(schema: dict[str, Any] | type, message: BaseMessage) -> dict[str, Any] | BaseModel:
    """Fill `schema` from the message text: JSON is validated, plain text fills the one str field."""
    text = message.text
    looks_like_json = text.lstrip().startswith("{")
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        if looks_like_json:
            return schema.model_validate_json(text)
        fields = [name for name, info in schema.model_fields.items() if info.annotation is str]
        if len(fields) != 1:
            raise ValueError(
                f"{schema.__name__} has no single string field to fill from plain text; "
                "give the fake a JSON object as its canned response"
            )
        return schema.model_validate({fields[0]: text})
    if looks_like_json:
        value = json.loads(text)
        if isinstance(value, dict):
            return value
    raise ValueError(
        "For a dict or TypedDict schema, give the fake a JSON object as its canned response"
    )
