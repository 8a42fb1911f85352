"""Build the LLM collaborators from settings: the personaliser and the risk judge (layer 4).

The personaliser is scripted by default, an OpenAI-compatible model if one is configured.

Structured output uses `method="json_schema"` (the request carries
`response_format: {"type": "json_schema", "json_schema": {...}}`). Of the three methods
langchain-openai offers, it is the one the OpenAI-compatible servers we target all accept:
OpenAI and Azure OpenAI; Ollama (0.5+), vLLM and llama.cpp's server turn the schema into
constrained decoding; LM Studio accepts only `json_schema` (not `json_object`). Forced tool
calls (`function_calling`) are ignored by Ollama and need extra server flags on vLLM and
llama.cpp, and `json_mode` is refused by LM Studio. The prompt also asks for the same JSON
object in words, for servers that ignore `response_format`; anything unparseable falls back
to the scripted text.
"""

from __future__ import annotations

from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from companion.settings import Settings
from flows.llm_personaliser import LLMPersonaliser
from flows.personalise import Personaliser, ScriptedPersonaliser
from flows.pii import mask_identifiers
from safety.detector import Detector
from safety.judge import LLMJudge

__all__ = ["NO_API_KEY", "build_chat_model", "build_judged_detector", "build_personaliser"]

#: Sent as the API key when none is configured: local servers (Ollama, vLLM, llama.cpp,
#: LM Studio) ignore it, but the OpenAI client refuses to start without one.
NO_API_KEY = "not-needed"


def build_chat_model(settings: Settings) -> ChatOpenAI:
    """Return the chat model for the configured OpenAI-compatible server (no request is made)."""
    key = settings.llm_api_key or SecretStr(NO_API_KEY)
    return ChatOpenAI(
        base_url=settings.llm_base_url,
        api_key=key,
        model=settings.llm_model,
        timeout=settings.llm_timeout_seconds,
        max_retries=1,
        temperature=0.3,
    )


def build_judged_detector(settings: Settings) -> Detector | None:
    """Return a detector with the LLM judge (layer 4), or None when no LLM is configured.

    The judge sees masked text only, and only for patients who agreed to the external AI
    service; the service picks this detector per turn. Its deadline is the LLM timeout, capped
    at 3 s, and the judge is not asked when the rules already escalate.
    """
    if not settings.llm_configured:
        return None
    model = build_chat_model(settings).model_copy(update={"temperature": 0.0})
    judge = LLMJudge(model, mask=mask_identifiers, model_name=settings.llm_model)
    return Detector(judge=judge, judge_timeout_seconds=min(settings.llm_timeout_seconds, 3.0))


def build_personaliser(settings: Settings) -> Personaliser:
    """Return the scripted personaliser, or the LLM one when `COMPANION_LLM_*` are set."""
    if not settings.llm_configured:
        return ScriptedPersonaliser()
    return LLMPersonaliser(build_chat_model(settings), structured_output_method="json_schema")
