"""The chat service end to end in process: consent and storage rules, bad input, concurrency, failure."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from companion.accounts import create_user
from companion.models import Consent, DataKey, Escalation, ExerciseAnswer, Message, Role, User
from companion.settings import Settings
from flows.state import ReplyKind
from tests.support_service import ChatHarness, joined


def rows(chat: ChatHarness, model: type) -> int:
    with Session(chat.runtime.engine) as session:
        return session.exec(select(func.count()).select_from(model).where(model.patient_id == chat.patient_id)).one()  # type: ignore[attr-defined]


def checkpoint_count(chat: ChatHarness) -> int:
    saver = chat.runtime.checkpointer
    return len(list(saver.list({"configurable": {"thread_id": chat.patient_id}})))


def consent_and_start_module(chat: ChatHarness) -> None:
    chat.start()
    chat.say("I agree")
    chat.say("5")
    chat.say("Thought record")
    chat.say("Next")


def test_nothing_is_stored_before_consent_and_declining_leaves_nothing(chat: ChatHarness) -> None:
    chat.start()
    chat.say("what happens to my data?")
    chat.say("I feel a bit low today")
    chat.say("No thanks")
    for model in (Message, ExerciseAnswer, Consent, Escalation):
        assert rows(chat, model) == 0, model.__name__
    with Session(chat.runtime.engine) as session:
        assert session.get(DataKey, chat.patient_id) is None
    assert checkpoint_count(chat) == 0


def test_consent_starts_encrypted_storage_and_belongs_to_the_patient(chat: ChatHarness) -> None:
    chat.start()
    chat.say("I agree")
    assert rows(chat, Consent) == 1 and checkpoint_count(chat) > 0
    transcript = chat.runtime.store.transcript(patient_id=chat.patient_id)
    assert transcript[0] == {"role": "patient", "text": "I agree"}
    replies = chat.start()  # a new chat does not ask again
    assert all(r.kind is not ReplyKind.CONSENT for r in replies)


def test_a_new_consent_version_asks_again(chat: ChatHarness) -> None:
    chat.start()
    chat.say("I agree")
    chat.runtime.consent = chat.runtime.consent.model_copy(update={"version": "2.0.0"})
    replies = chat.start()
    assert [r.kind for r in replies][-1] is ReplyKind.CONSENT
    assert "updated" in joined(replies)


def test_crisis_before_consent_records_only_what_safety_needs(chat: ChatHarness) -> None:
    chat.start()
    chat.say("my favourite colour is blue")
    replies = chat.say("I'm going to kill myself tonight, I have the rope ready")
    assert replies[0].kind is ReplyKind.CRISIS
    [escalation] = chat.runtime.store.escalations(patient_id=chat.patient_id)
    assert escalation.before_consent and escalation.tier >= 4 and escalation.safety_mode
    assert chat.runtime.store.escalation_excerpt(escalation) == [
        "I'm going to kill myself tonight, I have the rope ready"
    ], "only the triggering message, not the earlier chat"
    assert rows(chat, Message) == 0 and checkpoint_count(chat) == 0


def test_escalation_after_consent_keeps_recent_turns_and_is_upserted(chat: ChatHarness) -> None:
    consent_and_start_module(chat)
    chat.say("At home last night")
    chat.say("I want to end my life")
    chat.say("I want to end my life")
    escalations = chat.runtime.store.escalations(patient_id=chat.patient_id)
    assert len(escalations) == 2, "one record per risky turn, never duplicated"
    excerpt = chat.runtime.store.escalation_excerpt(escalations[0])
    assert "At home last night" in excerpt and excerpt[-1] == "I want to end my life"


def test_safety_mode_holds_until_a_reviewer_clears_it(chat: ChatHarness) -> None:
    consent_and_start_module(chat)
    chat.say("I cut myself last night")
    assert chat.say("At work")[0].kind is ReplyKind.CRISIS
    assert chat.runtime.store.clear_safety_mode(patient_id=chat.patient_id) >= 1
    replies = chat.say("hello again")
    text = joined(replies)
    assert "checked in" in text and "What would you like to do" in text or "part-way" in text


def test_huge_message_is_screened_whole_and_refused_as_an_answer(chat: ChatHarness) -> None:
    consent_and_start_module(chat)
    chat.say("At the station")
    before = chat.runtime.store.answers(patient_id=chat.patient_id)
    replies = chat.say("blah " * 20_000)
    assert "very long" in joined(replies)
    assert chat.runtime.store.answers(patient_id=chat.patient_id) == before
    replies = chat.say("filler text " * 9000 + " I have a plan to kill myself tonight")
    assert replies[0].kind is ReplyKind.CRISIS, "the end of a 100 kB message is screened too"


def test_invalid_utf8_and_control_characters_are_read_safely(chat: ChatHarness) -> None:
    consent_and_start_module(chat)
    replies = chat.say(b"At the \xff\xfe park\x00 today")
    assert "from 0 to 100" in joined(replies)
    [answer] = [a for a in chat.runtime.store.answers(patient_id=chat.patient_id) if a["step_id"] == "situation"]
    assert "\x00" not in answer["value"] and "park" in answer["value"]


def test_concurrent_messages_are_answered_in_turn_without_losing_state(chat: ChatHarness) -> None:
    consent_and_start_module(chat)
    results: dict[str, str] = {}

    def send(name: str, text: str) -> None:
        results[name] = joined(chat.say(text))

    first = threading.Thread(target=send, args=("a", "On the bus"))
    second = threading.Thread(target=send, args=("b", "anxious 50"))
    first.start()
    second.start()
    first.join()
    second.join()
    assert len(results) == 2 and all(results.values())
    steps = {a["step_id"] for a in chat.runtime.store.answers(patient_id=chat.patient_id)}
    assert "situation" in steps, "both turns ran one after the other on the same state"


def test_staff_accounts_get_a_notice_not_the_flow(settings: Settings, tmp_path: Path) -> None:
    chat = ChatHarness(settings)
    try:
        with Session(chat.runtime.engine) as session:
            staff = create_user(session, username="thera", role=Role.THERAPIST, password="a-long-password")
            session.commit()
        replies = chat.service.open_chat(user_id=staff.id)
        assert "portal" in joined(replies)
    finally:
        chat.close()


def deactivate(chat: ChatHarness) -> None:
    with Session(chat.runtime.engine) as session:
        user = session.get(User, chat.patient_id)
        assert user is not None
        user.is_active = False
        session.add(user)
        session.commit()


def test_a_patient_deactivated_mid_chat_is_still_screened_and_gets_the_crisis_reply(chat: ChatHarness) -> None:
    consent_and_start_module(chat)
    deactivate(chat)  # within the service's role cache: the very next message must already see it
    replies = chat.say("I am going to kill myself tonight")
    assert [r.kind for r in replies] == [ReplyKind.CRISIS]
    [escalation] = chat.runtime.store.escalations(patient_id=chat.patient_id)
    assert escalation.tier >= 3 and escalation.safety_mode


def test_a_deactivated_patient_is_told_plainly_and_offered_help_not_exercises(chat: ChatHarness) -> None:
    consent_and_start_module(chat)
    answers_before = len(chat.runtime.store.answers(patient_id=chat.patient_id))
    deactivate(chat)
    replies = chat.say("my answer to the step")
    assert [r.kind for r in replies] == [ReplyKind.NOTICE, ReplyKind.RESOURCES]
    assert "not active" in replies[0].text and "portal" not in replies[0].text
    assert "not active" in joined(chat.start())
    assert len(chat.runtime.store.answers(patient_id=chat.patient_id)) == answers_before
    assert chat.runtime.store.escalations(patient_id=chat.patient_id) == []


def test_a_failing_graph_still_screens_and_answers(chat: ChatHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    consent_and_start_module(chat)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(chat.runtime.graph, "invoke", broken)
    replies = chat.say("I'm going to take all my pills tonight")
    assert replies[0].kind is ReplyKind.CRISIS
    assert chat.runtime.store.escalations(patient_id=chat.patient_id)
    replies = chat.say("At the park")
    assert {r.kind for r in replies} == {ReplyKind.NOTICE, ReplyKind.RESOURCES}


def test_turn_ids_from_clients_are_made_opaque(chat: ChatHarness) -> None:
    consent_and_start_module(chat)
    chat.service.handle_message(user_id=chat.patient_id, text="At home", turn_id="../../etc <b>" + "x" * 200)
    with Session(chat.runtime.engine) as session:
        ids = [m.id for m in session.exec(select(Message).where(Message.patient_id == chat.patient_id))]
    assert all(len(i) <= 80 and "<" not in i and "/" not in i for i in ids)
    assert uuid.UUID(chat.patient_id)


def test_safety_mode_survives_a_restart_before_consent(chat: ChatHarness) -> None:
    chat.start()
    assert chat.say("I am going to jump off the bridge tonight")[0].kind is ReplyKind.CRISIS
    chat.restart()  # the in-memory, unconsented conversation is gone; the escalation is not
    replies = chat.start()
    assert replies[0].kind is ReplyKind.CRISIS
    assert chat.say("I agree")[0].kind is ReplyKind.CRISIS, "no consent or exercises until cleared"
    chat.runtime.store.clear_safety_mode(patient_id=chat.patient_id)
    replies = chat.say("hello")
    assert "checked in" in joined(replies) and replies[-1].kind is ReplyKind.CONSENT


def test_a_failing_screen_layer_counts_as_risk_in_the_conversation(chat: ChatHarness) -> None:
    from safety.detector import Detector
    from safety.fakes import RaisingScreener

    consent_and_start_module(chat)
    raising = RaisingScreener()
    chat.runtime.detector = Detector(rules=lambda text, recent=(): raising(text))
    replies = chat.say("At the shop this morning")
    assert "a few short questions" in joined(replies), "tier 2: the screening questions, not the next step"
    assert raising.calls, "the broken layer was asked"


def test_questionnaire_results_are_scored_as_published_and_stored_encrypted(chat: ChatHarness) -> None:
    chat.start()
    chat.say("I agree")
    chat.say("6")
    chat.say("Questionnaires")
    for answer in ["Nearly every day", "More than half the days", "2", "Several days", "1", "0", "3", "0", "Not at all"]:
        chat.say(answer)
    chat.say("Very difficult")
    [phq9] = chat.runtime.store.answers(patient_id=chat.patient_id, module_id="phq9")
    assert phq9["value"]["total"] == 3 + 2 + 2 + 1 + 1 + 0 + 3 + 0 + 0 == 12
    assert phq9["value"]["band"] == "moderate" and phq9["completed"]
    with Session(chat.runtime.engine) as session:
        row = session.exec(select(ExerciseAnswer).where(ExerciseAnswer.module_id == "phq9")).one()
    assert b"moderate" not in row.ciphertext and b"total" not in row.ciphertext


def test_phq9_and_gad7_asked_back_to_back_are_both_kept(chat: ChatHarness) -> None:
    chat.start()
    chat.say("I agree")
    chat.say("6")
    chat.say("Questionnaires")
    for answer in ["Nearly every day"] * 2 + ["Not at all"] * 7 + ["Somewhat difficult"]:
        chat.say(answer)
    for answer in ["Several days"] * 7 + ["Somewhat difficult"]:
        chat.say(answer)
    [phq9] = chat.runtime.store.answers(patient_id=chat.patient_id, module_id="phq9")
    [gad7] = chat.runtime.store.answers(patient_id=chat.patient_id, module_id="gad7")
    assert phq9["value"]["total"] == 6 and len(phq9["value"]["answers"]) == 10
    assert gad7["value"]["total"] == 7 and gad7["completed"]


PLAN_MODULE = """---
id: tiny-plan
version: 1.0.0
title: Tiny plan
description: A one-step plan.
review_date: 2027-01-01
reviewed_by: Test
estimated_minutes: 2
show_in_crisis: true
steps:
  - id: people
    kind: free_text
  - id: summary
    kind: summary
---

## people
Who can you call?

### retry
Please write a name.

### summary
**People I can call:** {people}

## summary
Your plan:

### homework
Keep it close.
"""


def test_a_plan_marked_show_in_crisis_comes_back_with_every_crisis_reply(chat: ChatHarness, tmp_path: Path) -> None:
    from flows.modules import ModuleLibrary, load_module

    path = tmp_path / "99-tiny-plan.md"
    path.write_text(PLAN_MODULE, encoding="utf-8")
    library = chat.runtime.modules
    chat.runtime.modules = ModuleLibrary(modules={**library.modules, "tiny-plan": load_module(path)})
    chat.start()
    chat.say("I agree")
    chat.say("6")
    chat.say("Tiny plan")
    chat.say("My sister Ana")
    replies = chat.say("I'm going to kill myself tonight")
    assert replies[0].kind is ReplyKind.CRISIS
    assert "My sister Ana" in joined(replies[1:]) and "plan you made" in joined(replies[1:])


@pytest.mark.parametrize(("answer", "shared"), [("Yes", True), ("No", False), ("Something else", False)])
def test_the_patient_decides_whether_the_therapist_sees_a_summary(
    chat: ChatHarness, tmp_path: Path, answer: str, shared: bool
) -> None:
    from flows.modules import ModuleLibrary, load_module

    path = tmp_path / "99-tiny-plan.md"
    path.write_text(PLAN_MODULE, encoding="utf-8")
    chat.runtime.modules = ModuleLibrary(modules={**chat.runtime.modules.modules, "tiny-plan": load_module(path)})
    chat.start()
    chat.say("I agree")
    chat.say("6")
    chat.say("Tiny plan")
    summary = chat.say("My sister Ana")
    assert "It stays private unless you say yes" in joined(summary)
    after = joined(chat.say(answer))
    [decision] = [a for a in chat.runtime.store.answers(patient_id=chat.patient_id, module_id="tiny-plan")
                  if a["step_id"] == "share_with_therapist"]
    assert decision["value"] is shared
    assert "What would you like to do" in after
