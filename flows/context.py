"""Per-run collaborators of the graph (LangGraph runtime context): stores, content, screen, personaliser.

Nothing here is checkpointed. The adapter (`companion/`) builds one `TurnContext` per turn
and passes it as `context=` to `graph.invoke`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from flows.copy import ChatCopy, ConsentDocument
from flows.modules import ModuleLibrary
from flows.personalise import Personaliser, ScriptedPersonaliser
from flows.questionnaires import Questionnaire
from safety.detector import detect
from safety.screening import ScreeningSet
from safety.types import Assessment

__all__ = ["PatientStore", "TurnContext"]


class PatientStore(Protocol):
    """What the graph may persist or read about the patient (implemented in companion/)."""

    def consent_version(self, patient_id: str) -> str | None:
        """Return the consent version the patient has agreed to (and not withdrawn), if any."""
        ...

    def agreed_to_earlier_version(self, patient_id: str, *, current: str) -> bool:
        """Return whether the patient agreed to a consent version other than `current`."""
        ...

    def ai_consent(self, patient_id: str) -> bool:
        """Return whether the patient agreed to send masked text to an external AI service."""
        ...

    def record_consent(self, *, patient_id: str, version: str, scopes: Sequence[str]) -> None: ...

    def record_answer(
        self,
        *,
        patient_id: str,
        run_id: str,
        module_id: str,
        module_version: str,
        step_id: str,
        value: Any,
        completed: bool = False,
    ) -> None: ...

    def record_escalation(
        self,
        *,
        patient_id: str,
        escalation_id: str,
        assessment: Assessment,
        excerpt: Sequence[str],
        before_consent: bool,
        safety_mode: bool,
    ) -> None: ...

    def assignments(self, patient_id: str) -> list[dict[str, Any]]:
        """Return the modules the patient's therapist assigned: module_id, due (ISO or ""), brief."""
        ...

    def in_safety_mode(self, patient_id: str) -> bool:
        """Return whether an escalation of this patient still holds the conversation in safety mode."""
        ...


@dataclass
class TurnContext:
    """Collaborators for one turn of one patient."""

    patient_id: str
    store: PatientStore
    consented: bool  # the patient had agreed to the current consent version when the turn began
    modules: ModuleLibrary
    copy: ChatCopy
    consent: ConsentDocument
    screening: ScreeningSet
    locale: str = "en-US"
    personaliser: Personaliser = field(default_factory=ScriptedPersonaliser)
    llm_available: bool = False  # an external LLM is configured (consent for it is asked)
    screen: Callable[..., Assessment] = detect  # layers 1-3; the adapter may add the LLM judge
    max_message_chars: int = 4000
    questionnaires: dict[str, Questionnaire] = field(default_factory=dict)
    questionnaire_interval_days: int = 14
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
