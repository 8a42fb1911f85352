"""Layer 4: an LLM judge with structured output that may raise a tier, never lower one.

Used only when an LLM is configured and the patient agreed to send (masked) text to it. The
judge sees the new message and a few earlier ones, with identifiers masked by the caller, and
answers with a tier and categories. `detector.detect` runs it with a deadline and treats any
failure as risk; it never asks the judge when the rules already found tier 3 or more, so a slow
model cannot delay crisis handling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field

from safety.paths import SAFETY_DATA
from safety.types import Category, Signal, Tier

__all__ = ["Judge", "JudgeVerdict", "LLMJudge", "judge_signals"]

PROMPT_PATH = SAFETY_DATA / "judge_prompt.md"


class JudgeVerdict(BaseModel):
    """What the judge answers: a tier 0-5 and the categories it saw. No free text is kept."""

    model_config = ConfigDict(frozen=True)

    tier: int = Field(ge=0, le=5, description="risk tier 0-5 as defined in the instructions")
    categories: list[Category] = Field(default_factory=list, description="risk categories seen")


class Judge(Protocol):
    version: str

    def judge(self, text: str, *, recent: Sequence[str] = ()) -> JudgeVerdict: ...


class LLMJudge:
    """Ask an OpenAI-compatible chat model for a structured risk verdict."""

    def __init__(
        self,
        model: BaseChatModel,
        *,
        mask: Callable[[str], str],
        model_name: str = "llm",
        prompt_path: Path = PROMPT_PATH,
    ) -> None:
        self._structured = model.with_structured_output(JudgeVerdict, method="json_schema")
        self._mask = mask
        self._system = prompt_path.read_text(encoding="utf-8")
        self.version = f"judge-1.0.0/{model_name}"

    def judge(self, text: str, *, recent: Sequence[str] = ()) -> JudgeVerdict:
        earlier = "\n".join(f"- {self._mask(m)}" for m in recent[-3:]) or "- (none)"
        content = f"<earlier>\n{earlier}\n</earlier>\n<message>\n{self._mask(text)}\n</message>"
        result = self._structured.invoke([SystemMessage(self._system), HumanMessage(content)])
        return JudgeVerdict.model_validate(result)


def judge_signals(verdict: JudgeVerdict, *, version: str) -> list[Signal]:
    """Turn a verdict into signals; tier 0 gives none."""
    if verdict.tier <= Tier.NONE:
        return []
    category = verdict.categories[0] if verdict.categories else Category.PASSIVE_IDEATION
    return [
        Signal(source="judge", id="judge.verdict", tier=Tier(verdict.tier), category=category,
               detail=f"{version} tier={verdict.tier}")
    ]
