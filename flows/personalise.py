"""Personalisers: turn a step's scripted text into wording for this patient.

The scripted personaliser (the default, and the offline case) returns the step text already
filled with the patient's own words by the module runner. An LLM personaliser (see
`flows.llm_personaliser`) may rephrase it inside the module's limits; whatever it writes
passes the output guard, and the scripted text is the fallback for every failure.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from flows.modules import PersonalisationLimits

__all__ = ["Personaliser", "ScriptedPersonaliser", "StepRequest", "StepWording", "WordingSource"]


class WordingSource(StrEnum):
    SCRIPTED = "scripted"
    LLM = "llm"
    FALLBACK = "fallback"  # the LLM was asked but its text was not used


class StepRequest(BaseModel):
    """Everything a personaliser may see. Patient words are raw here: an LLM personaliser masks
    identifiers before anything leaves the process."""

    model_config = ConfigDict(frozen=True)

    module_id: str
    module_title: str
    step_id: str
    step_kind: str
    scripted_text: str
    limits: PersonalisationLimits
    patient_words: dict[str, str] = Field(default_factory=dict)
    brief: str = Field(default="", description="the therapist's brief for this module: goals, preferences, things to avoid")


class StepWording(BaseModel):
    """What a personaliser returns: the text to show and where it came from."""

    model_config = ConfigDict(frozen=True)

    text: str
    source: WordingSource
    reason: str = ""  # why a fallback happened (never patient text)


class Personaliser(Protocol):
    def personalise(self, request: StepRequest) -> StepWording: ...


class ScriptedPersonaliser:
    """Return the scripted text: the step templates already reflect the patient's own words."""

    def personalise(self, request: StepRequest) -> StepWording:
        return StepWording(text=request.scripted_text, source=WordingSource.SCRIPTED)
