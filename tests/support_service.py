"""Helpers for tests that drive the real chat service on a temporary data directory."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlmodel import Session

from companion.accounts import create_user
from companion.models import Role
from companion.runtime import Runtime, open_runtime
from companion.service import ChatService
from companion.settings import Settings
from flows.personalise import Personaliser
from flows.state import Reply
from safety.detector import Detector
from safety.judge import Judge


@dataclass
class ChatHarness:
    """A service plus one patient; `say` returns the replies of one turn."""

    settings: Settings
    personaliser: Personaliser | None = None
    judge: Judge | None = None
    username: str = field(default_factory=lambda: f"pat-{uuid.uuid4().hex[:8]}")
    runtime: Runtime = field(init=False)
    service: ChatService = field(init=False)
    patient_id: str = field(init=False)

    def __post_init__(self) -> None:
        self.open()
        with Session(self.runtime.engine) as session:
            self.patient_id = create_user(
                session, username=self.username, role=Role.PATIENT, password="a-long-test-password"
            ).id
            session.commit()

    def open(self) -> None:
        self.runtime = open_runtime(self.settings)
        if self.personaliser is not None:
            self.runtime.personaliser = self.personaliser
            # the LLM judge of a test with a fake personaliser is a fake too (or none)
            self.runtime.judged_detector = Detector(judge=self.judge) if self.judge else None
        self.service = ChatService(self.runtime)

    def restart(self) -> None:
        """Simulate the server stopping and starting again (a new process, same data)."""
        self.runtime.close()
        self.open()

    def start(self) -> list[Reply]:
        return self.service.open_chat(user_id=self.patient_id)

    def say(self, text: str | bytes) -> list[Reply]:
        return self.service.handle_message(user_id=self.patient_id, text=text, turn_id=str(uuid.uuid4()))

    def close(self) -> None:
        self.runtime.close()


def joined(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)
