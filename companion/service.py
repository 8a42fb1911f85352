"""The chat service: runs one patient turn through the graph, for the web chat and the terminal.

Before consent a turn runs on an in-memory checkpointer that is never written to disk; from the
turn that records consent on, the patient's thread lives in the encrypted checkpoint store and
the transcript is stored encrypted. Turns of one patient are serialised, so a message sent
while the previous one is still being answered waits its turn and is answered in order.
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from functools import cached_property
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from pydantic import BaseModel
from sqlmodel import Session

from companion import accounts, ratelimit
from companion.crypto import checkpoints_owned_by
from companion.keys import session_secret
from companion.logging import get_logger
from companion.models import Role
from companion.runtime import CHECKPOINT_TYPES, Runtime
from flows.context import TurnContext
from flows.nodes.escalate import escalation_id
from flows.personalise import ScriptedPersonaliser
from flows.state import Reply, ReplyKind, TurnInput
from flows.text import clean_input
from safety.replies import crisis_reply, resources_reply
from safety.types import Tier

__all__ = ["AuthenticatedUser", "ChatService", "get_service"]

log = get_logger(__name__)

#: How long a user's role and active flag are remembered between turns.


class AuthenticatedUser(BaseModel):
    id: str
    username: str
    role: Role


class ChatService:
    """Runs turns for patients; thread-safe; blocking (call it off the event loop)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        memory = InMemorySaver(serde=JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES))
        self._ephemeral = runtime.builder.compile(checkpointer=memory)
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._locks_guard = threading.Lock()

    # accounts ----------------------------------------------------------------
    @cached_property
    def _limit_secret(self) -> str:
        return session_secret(self.settings)

    def authenticate(self, username: str, password: str) -> AuthenticatedUser | None:
        """Return the active user with this username and password, else None.

        Failed sign-ins are counted with the portal's database-backed limit
        (`companion.ratelimit`): after `COMPANION_LOGIN_MAX_FAILURES` failures within
        `COMPANION_LOGIN_WINDOW_MINUTES` the username is refused, right password or not, until
        the oldest failure leaves the window; a success clears the count. The chat counts per
        username only, because Chainlit's password callback is not given the client's address.
        """
        engine = self.runtime.engine
        keys = ratelimit.attempt_keys(self._limit_secret, username=username, address=None)
        if ratelimit.retry_after_seconds(engine, keys, self.settings):
            log.info("sign_in_paused")
            return None
        with Session(engine) as session:
            user = accounts.authenticate(session, username=username, password=password)
        if user is None:
            ratelimit.record_failure(engine, keys)
            log.info("sign_in_failed")
            return None
        ratelimit.clear_failures(engine, keys[0])
        log.info("sign_in", user_id=user.id, role=str(user.role))
        return AuthenticatedUser(id=user.id, username=user.username, role=user.role)

    def _role(self, user_id: str) -> Role | None:
        """Return the user's role, or None for an account that is deactivated or gone.

        Read on every turn (one primary-key lookup), so a deactivation takes effect on the very
        next message, in every process.
        """
        with Session(self.runtime.engine) as session:
            user = accounts.get_user(session, user_id)
        return None if user is None or not user.is_active else user.role

    # turns -------------------------------------------------------------------
    def open_chat(self, *, user_id: str) -> list[Reply]:
        """Start (or come back to) a chat: consent, or a check-in and the place they left off."""
        return self._turn(user_id, TurnInput(text="", turn_id=f"start-{uuid.uuid4()}", is_start=True))

    def handle_message(self, *, user_id: str, text: str | bytes, turn_id: str) -> list[Reply]:
        """Answer one patient message. Every message is screened first, whatever it contains."""
        if isinstance(text, bytes):
            text = text.decode("utf-8", errors="replace")
        turn = TurnInput(text=clean_input(text), turn_id=_safe_turn_id(turn_id))
        return self._turn(user_id, turn)

    def _lock(self, user_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks[user_id]

    def _turn(self, user_id: str, turn: TurnInput) -> list[Reply]:
        role = self._role(user_id)
        if role is Role.PATIENT:
            with self._lock(user_id):
                return self._run(user_id, turn)
        if role is None:  # deactivated while signed in: no exercises, but never unscreened
            return self._inactive(user_id, turn)
        return [Reply(text=self.runtime.copy.text("staff_notice"), kind=ReplyKind.NOTICE)]

    def _inactive(self, user_id: str, turn: TurnInput) -> list[Reply]:
        """Answer an account that is no longer active: screened like any turn, then told plainly.

        Risk gets the crisis reply and an escalation record, as on the fail-safe path; anything
        else gets the "account not active" notice and the crisis resources.
        """
        log.info("turn_refused_inactive_account", patient_id=user_id)
        if turn.text:
            consented = self.runtime.store.consent_version(user_id) is not None
            replies = self._fail_safe(user_id, turn, consented=consented, notice="account_inactive")
        else:
            replies = [Reply(text=self.runtime.copy.text("account_inactive"), kind=ReplyKind.NOTICE)]
        return replies

    def _run(self, patient_id: str, turn: TurnInput) -> list[Reply]:
        rt = self.runtime
        store = rt.store
        consented_before = store.consent_version(patient_id) == rt.consent.version
        ai_ok = rt.settings.llm_configured and consented_before and store.ai_consent(patient_id)
        context = TurnContext(
            patient_id=patient_id, store=store, consented=consented_before, modules=rt.modules, copy=rt.copy, consent=rt.consent,
            screening=rt.screening, locale=rt.settings.locale,
            personaliser=rt.personaliser if ai_ok else ScriptedPersonaliser(),
            screen=(rt.judged_detector if ai_ok and rt.judged_detector else rt.detector).detect,
            llm_available=rt.settings.llm_configured, max_message_chars=rt.settings.max_message_chars,
            questionnaires=rt.questionnaires,
            questionnaire_interval_days=rt.settings.questionnaire_interval_days,
        )
        config: RunnableConfig = {"configurable": {"thread_id": patient_id}}
        graph = rt.graph if consented_before else self._ephemeral
        try:
            with checkpoints_owned_by(patient_id):
                result = graph.invoke(
                    {"turn": turn.model_dump()}, config, context=context, durability="exit"
                )
                consented_now = bool(result.get("consented"))
                if consented_now and not consented_before:
                    self._move_to_encrypted_store(config, result)
        except Exception as exc:  # noqa: BLE001 - the turn failed: still screen it, never leave the patient without help
            log.error("turn_failed", patient_id=patient_id, error=type(exc).__name__)
            return self._fail_safe(patient_id, turn, consented=consented_before)
        replies = [Reply.model_validate(r) for r in result.get("replies", [])]
        if consented_now:
            said = [] if turn.is_start else [("patient", turn.text)]
            store.append_messages(
                patient_id=patient_id, turn_id=turn.turn_id,
                messages=said + [("companion", r.text) for r in replies],
            )
        tier = result.get("assessment", {}).get("tier", -1)
        log.info("turn", patient_id=patient_id, tier=tier, phase=str(result.get("phase", "")), replies=len(replies))
        return replies

    def _fail_safe(self, patient_id: str, turn: TurnInput, *, consented: bool,
                   notice: str = "turn_failed") -> list[Reply]:
        """Answer a turn without the graph: crisis reply if the screen finds risk, else `notice` and resources."""
        locale = self.settings.locale
        assessment = self.runtime.detector.detect(turn.text)
        if assessment.tier >= Tier.ACTIVE:
            try:
                self.runtime.store.record_escalation(
                    patient_id=patient_id, escalation_id=escalation_id(patient_id, turn.turn_id),
                    assessment=assessment, excerpt=[turn.text], before_consent=not consented, safety_mode=True,
                )
            except Exception as exc:  # noqa: BLE001 - the reply matters more than the record; say so loudly
                log.error("escalation_record_failed", patient_id=patient_id, error=type(exc).__name__)
            crisis = crisis_reply(tier=assessment.tier, categories=list(assessment.categories), locale=locale)
            return [Reply(text=crisis.text, kind=ReplyKind.CRISIS, content_id=crisis.content_id)]
        resources = resources_reply(locale)
        return [
            Reply(text=self.runtime.copy.text(notice), kind=ReplyKind.NOTICE),
            Reply(text=resources.text, kind=ReplyKind.RESOURCES, content_id=resources.content_id),
        ]

    def _move_to_encrypted_store(self, config: RunnableConfig, values: dict[str, Any]) -> None:
        """Consent was just given: carry the flow position into the encrypted store, drop the rest."""
        keep = {k: v for k, v in values.items() if k not in {"recent", "replies", "turn"}}
        self.runtime.graph.update_state(config, keep, as_node="consent")
        self._ephemeral.checkpointer.delete_thread(config["configurable"]["thread_id"])  # type: ignore[union-attr]

    def forget_unconsented(self, *, user_id: str) -> None:
        """Drop the in-memory state of a patient who has not consented (e.g. the chat closed)."""
        self._ephemeral.checkpointer.delete_thread(user_id)  # type: ignore[union-attr]


def _safe_turn_id(turn_id: str) -> str:
    """Turn ids come from clients: keep them short and opaque, or replace them."""
    cleaned = "".join(c for c in turn_id if c.isalnum() or c in "-_")[:64]
    return cleaned or str(uuid.uuid4())


_service: ChatService | None = None
_service_lock = threading.Lock()


def get_service() -> ChatService:
    """Return the process-wide service, building it from `Settings()` on first use."""
    global _service
    with _service_lock:
        if _service is None:
            from companion.runtime import open_runtime
            from companion.settings import Settings

            _service = ChatService(open_runtime(Settings()))
        return _service
