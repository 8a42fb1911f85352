"""The conversation state that LangGraph checkpoints on the patient's thread, and the replies a turn produces.

State holds what the next turn needs: where the patient is in the flow, their answers in the
current module, the risk carried across turns. Everything in it is encrypted at rest by the
checkpoint serializer; nothing here is ever written to checkpoint metadata or logs.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypedDict

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ConversationState",
    "Phase",
    "Reply",
    "ReplyAction",
    "ReplyKind",
    "TurnInput",
]


class Phase(StrEnum):
    """Where the patient is in the flow between turns."""

    IDLE = "idle"  # nothing pending; the next turn shows the menu
    CONSENT = "consent"  # waiting for an answer to the consent text
    CONSENT_AI = "consent_ai"  # waiting for the optional external-AI consent
    CHECK_IN = "check_in"  # waiting for today's mood 0-10
    HOMEWORK = "homework"  # waiting to hear how last time's homework went
    QUESTIONNAIRE = "questionnaire"  # waiting for the answer to a PHQ-9 / GAD-7 item
    SHARE = "share"  # waiting to hear whether the therapist may see the summary just shown
    MENU = "menu"  # waiting for a choice of what to do
    STEP = "step"  # waiting for the answer to the current module step
    SCREENING = "screening"  # waiting for the answer to a screening question
    SAFETY = "safety"  # in safety mode: no exercises until cleared
    DECLINED = "declined"  # consent declined; nothing stored


class ReplyKind(StrEnum):
    TEXT = "text"
    CONSENT = "consent"
    CRISIS = "crisis"
    RESOURCES = "resources"
    SUMMARY = "summary"
    NOTICE = "notice"


class ReplyAction(BaseModel):
    """A button the chat shows under a reply; pressing it sends `value` as the patient's message."""

    model_config = ConfigDict(frozen=True)

    label: str
    value: str


class Reply(BaseModel):
    """One message from the companion to the patient."""

    model_config = ConfigDict(frozen=True)

    text: str
    kind: ReplyKind = ReplyKind.TEXT
    actions: tuple[ReplyAction, ...] = ()
    content_id: str = Field(default="", description="id@version of the content it came from")


class TurnInput(BaseModel):
    """What the adapter hands the graph for one patient turn."""

    model_config = ConfigDict(frozen=True)

    text: str
    turn_id: str
    is_start: bool = False  # a new chat was opened; no patient text


class ConversationState(TypedDict, total=False):
    """Checkpointed state of one patient's conversation."""

    # this turn (plain dicts: checkpoints hold JSON-friendly values only)
    turn: dict[str, Any]  # TurnInput.model_dump()
    replies: list[dict[str, Any]]  # this turn's Reply dumps; check_safety starts the list afresh
    assessment: dict[str, Any]  # safety.types.Assessment.model_dump() of this turn
    consented: bool  # the patient has agreed to the current consent version
    wants_help: bool  # the patient asked for crisis resources this turn
    input_issue: str  # "", "empty" or "too_long"
    # flow position
    phase: Phase
    consent_version: str
    module_id: str
    module_version: str
    run_id: str  # one run of the module in progress
    brief: str  # the therapist's brief for the module in progress, if it was assigned
    step_index: int
    pending: str  # "step" or "summary": shown later in this same turn
    answers: dict[str, Any]  # answers of the module in progress, by step id
    completed_modules: list[str]
    summaries: dict[str, str]  # the latest summary of each completed module, by module id
    facts: dict[str, Any]  # what the patient told us that later modules may reflect (remember_as)
    homework: dict[str, str]  # homework set at the end of the last module: module_id, title, text
    last_run: dict[str, str]  # the module run just finished (module_id, module_version, run_id)
    crisis_plan: dict[str, str]  # the patient's own safety plan (title, text), shown with crisis replies
    questionnaire: dict[str, Any]  # in progress: queue of ids, answers of the current one, run id
    questionnaires_last: str  # ISO date the questionnaires were last completed
    questionnaires_due: bool  # offered in the menu this session
    mood: int
    # screening (tier 2) in progress
    screening_index: int
    screening_answers: dict[str, bool]
    resume_phase: Phase  # where to go back to after screening or safety mode
    # risk carried across turns
    risk_tier: int  # highest tier of this conversation until cleared
    risk_categories: list[str]
    recent: list[str]  # the last few patient messages, context for the screen
    turns: int
