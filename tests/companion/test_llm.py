"""Choosing the personaliser from settings, and the configured client against the local stub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from companion.llm import NO_API_KEY, build_chat_model, build_personaliser
from companion.settings import Settings
from flows.llm_personaliser import LLMPersonaliser
from flows.modules import PersonalisationLimits
from flows.personalise import ScriptedPersonaliser, StepRequest, WordingSource
from tests.support.fixtures import running_stub
from tests.support.openai_stub import Behaviour, OpenAIStub


@pytest.fixture(autouse=True)
def _no_llm_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own COMPANION_LLM_* variables must not leak into these tests."""
    for name in ("BASE_URL", "API_KEY", "MODEL", "TIMEOUT_SECONDS"):
        monkeypatch.delenv(f"COMPANION_LLM_{name}", raising=False)


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    with running_stub() as server:
        yield server


def settings(tmp_path: Path, **llm: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **llm)  # type: ignore[call-arg]


def request() -> StepRequest:
    return StepRequest(
        module_id="thought-record",
        module_title="Thought record",
        step_id="situation",
        step_kind="free_text",
        scripted_text="**What was the situation?**",
        limits=PersonalisationLimits(),
    )


def test_without_an_llm_the_personaliser_is_scripted(tmp_path: Path) -> None:
    assert isinstance(build_personaliser(settings(tmp_path)), ScriptedPersonaliser)
    only_url = settings(tmp_path, llm_base_url="http://127.0.0.1:9/v1")
    assert isinstance(build_personaliser(only_url), ScriptedPersonaliser)


def test_with_an_llm_the_personaliser_uses_chat_openai_as_configured(tmp_path: Path) -> None:
    configured = settings(
        tmp_path,
        llm_base_url="http://127.0.0.1:9/v1",
        llm_api_key="sk-test",
        llm_model="llama3.1",
        llm_timeout_seconds=2.5,
    )
    assert isinstance(build_personaliser(configured), LLMPersonaliser)
    model = build_chat_model(configured)
    assert isinstance(model, ChatOpenAI)
    assert (model.openai_api_base, model.model_name) == ("http://127.0.0.1:9/v1", "llama3.1")
    assert (model.request_timeout, model.max_retries, model.temperature) == (2.5, 1, 0.3)
    assert isinstance(model.openai_api_key, SecretStr)
    assert model.openai_api_key.get_secret_value() == "sk-test"


def test_a_server_without_a_key_gets_a_placeholder(tmp_path: Path) -> None:
    model = build_chat_model(
        settings(tmp_path, llm_base_url="http://127.0.0.1:9/v1", llm_model="m")
    )
    assert isinstance(model.openai_api_key, SecretStr)
    assert model.openai_api_key.get_secret_value() == NO_API_KEY


def test_the_configured_personaliser_talks_json_schema_to_the_server(
    tmp_path: Path, stub: OpenAIStub
) -> None:
    stub.reply_text = "**What happened, and where were you?**"
    configured = settings(
        tmp_path, llm_base_url=stub.base_url, llm_model="stub-model", llm_timeout_seconds=0.5
    )
    personaliser = build_personaliser(configured)
    wording = personaliser.personalise(request())
    assert (wording.source, wording.text) == (
        WordingSource.LLM,
        "**What happened, and where were you?**",
    )
    body = stub.bodies[0]
    assert body["response_format"]["type"] == "json_schema"
    assert body["temperature"] == 0.3

    stub.behaviour = Behaviour.ERROR
    failed = personaliser.personalise(request())
    assert (failed.source, failed.reason, failed.text) == (
        WordingSource.FALLBACK,
        "http_500",
        "**What was the situation?**",
    )
    assert stub.request_count == 3  # one, then one retried
