"""Reviewer labels on both back-ends, and their export as `companion safety screen` regression cases."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session

from companion.accounts import create_user
from companion.labels import NOTE_UNAVAILABLE, export_labels_jsonl, labels, record_label
from companion.models import DataKey, ReviewerLabel, Role
from companion.safety_cli import screen_lines
from companion.settings import FORBIDDEN_VARIABLES, Settings
from safety.types import Assessment, Category, Signal, Tier
from tests.support_service import ChatHarness

ROOT = Path(__file__).resolve().parents[2]
NOTE = "She said 'the bridge tonight' - note-marker-55"


@pytest.fixture
def chat(backend_settings: Settings):
    harness = ChatHarness(backend_settings)
    harness.runtime.store.alerts = None  # labels only; notifications have their own tests
    yield harness
    harness.close()


def user(chat: ChatHarness, name: str, role: Role) -> str:
    with Session(chat.runtime.engine) as session:
        created = create_user(session, username=f"{name}-{chat.username}", role=role, password="a-long-test-password")
        session.commit()
    return created.id


def escalate(chat: ChatHarness, escalation_id: str, excerpt: list[str], tier: Tier = Tier.URGENT) -> None:
    assessment = Assessment.from_signals(
        [Signal(source="rules", id="si.plan", tier=tier, category=Category.METHOD_PLAN)], version="rules-test")
    chat.runtime.store.record_escalation(patient_id=chat.patient_id, escalation_id=escalation_id, assessment=assessment,
                                         excerpt=excerpt, before_consent=False, safety_mode=True)


@pytest.mark.postgres
def test_labels_are_stored_with_an_encrypted_note_and_read_back(chat: ChatHarness) -> None:
    reviewer = user(chat, "rev", Role.REVIEWER)
    escalate(chat, "esc-a", ["I have a plan"])
    label = record_label(chat.runtime.store, escalation_id="esc-a", reviewer_id=reviewer, is_true_positive=True,
                         correct_tier=4, correct_categories=["method_plan", "intent"], note=NOTE)
    assert label.id is not None and label.note == NOTE and label.correct_categories == "method_plan,intent"
    with Session(chat.runtime.engine) as session:
        row = session.get(ReviewerLabel, label.id)
        assert row is not None and row.note is not None and b"note-marker-55" not in row.note
    [read] = labels(chat.runtime.store, escalation_id="esc-a")
    assert read == label
    assert labels(chat.runtime.store, escalation_id="esc-other") == []


@pytest.mark.postgres
def test_bad_labels_are_refused_with_what_to_fix(chat: ChatHarness) -> None:
    reviewer = user(chat, "rev", Role.REVIEWER)
    therapist = user(chat, "ther", Role.THERAPIST)
    escalate(chat, "esc-b", ["x"])
    store = chat.runtime.store
    with pytest.raises(ValueError, match="does not exist"):
        record_label(store, escalation_id="nope", reviewer_id=reviewer, is_true_positive=True, correct_tier=3)
    with pytest.raises(ValueError, match="not an active reviewer"):
        record_label(store, escalation_id="esc-b", reviewer_id=therapist, is_true_positive=True, correct_tier=3)
    with pytest.raises(ValueError, match="correct_tier"):
        record_label(store, escalation_id="esc-b", reviewer_id=reviewer, is_true_positive=True, correct_tier=6)
    with pytest.raises(ValueError, match="unknown categories"):
        record_label(store, escalation_id="esc-b", reviewer_id=reviewer, is_true_positive=True, correct_tier=3,
                     correct_categories=["sadness"])
    assert labels(store, escalation_id="esc-b") == []


@pytest.mark.postgres
def test_the_export_is_input_for_the_screen_command(chat: ChatHarness) -> None:
    reviewer = user(chat, "rev", Role.REVIEWER)
    escalate(chat, "esc-one", ["I took all my pills an hour ago"], tier=Tier.EMERGENCY)
    escalate(chat, "esc-many", ["I feel low", "I want to kill myself", "tonight"])
    escalate(chat, "esc-false", ["this exam is killing me"], tier=Tier.ACTIVE)
    store = chat.runtime.store
    record_label(store, escalation_id="esc-one", reviewer_id=reviewer, is_true_positive=True, correct_tier=5,
                 correct_categories=["imminent"], note=NOTE)
    record_label(store, escalation_id="esc-many", reviewer_id=reviewer, is_true_positive=True, correct_tier=4)
    record_label(store, escalation_id="esc-false", reviewer_id=reviewer, is_true_positive=False, correct_tier=0)
    out = io.StringIO()
    written, _ = export_labels_jsonl(store, out)  # PostgreSQL holds other tests' labels too
    mine = {"esc-one", "esc-many", "esc-false"}
    lines = [line for line in out.getvalue().splitlines() if json.loads(line)["escalation_id"] in mine]
    cases = [json.loads(line) for line in lines]
    assert written >= len(cases) == 3
    assert cases[0]["text"] == "I took all my pills an hour ago" and "messages" not in cases[0]
    assert cases[1]["messages"] == [{"role": "user", "content": t} for t in ["I feel low", "I want to kill myself", "tonight"]]
    assert [(c["expected_tier"], c["is_true_positive"]) for c in cases] == [(5, True), (4, True), (0, False)]
    assert cases[0]["categories"] == ["imminent"] and cases[2]["escalation_id"] == "esc-false"
    assert "note-marker-55" not in out.getvalue(), "notes stay in the database"

    screened = io.BytesIO()
    assert screen_lines([line.encode() for line in lines], screened) == 0
    results = [json.loads(line) for line in screened.getvalue().splitlines()]
    assert [r["id"] for r in results] == [c["id"] for c in cases]
    assert [r["tier"] for r in results] == [c["expected_tier"] for c in cases], "the rules agree with the reviewers"


@pytest.mark.postgres
def test_labels_of_an_erased_patient_are_skipped(chat: ChatHarness) -> None:
    reviewer = user(chat, "rev", Role.REVIEWER)
    escalate(chat, "esc-gone", ["x"])
    record_label(chat.runtime.store, escalation_id="esc-gone", reviewer_id=reviewer, is_true_positive=True,
                 correct_tier=3, note=NOTE)
    with Session(chat.runtime.engine) as session:  # crypto-shredding: the data key is destroyed
        session.delete(session.get(DataKey, chat.patient_id))
        session.commit()
    chat.runtime.crypto.forget(chat.patient_id)
    out = io.StringIO()
    _, skipped = export_labels_jsonl(chat.runtime.store, out)
    assert skipped >= 1 and "esc-gone" not in out.getvalue()
    [label] = labels(chat.runtime.store, escalation_id="esc-gone")
    assert label.note == NOTE_UNAVAILABLE


def test_the_export_command_writes_a_private_file(settings: Settings, tmp_path: Path) -> None:
    chat = ChatHarness(settings)
    try:
        reviewer = user(chat, "rev", Role.REVIEWER)
        escalate(chat, "esc-cli", ["I have a plan"])
        record_label(chat.runtime.store, escalation_id="esc-cli", reviewer_id=reviewer, is_true_positive=True,
                     correct_tier=4)
    finally:
        chat.close()
    output = tmp_path / "labels.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_") and k not in FORBIDDEN_VARIABLES}
    env |= {"COMPANION_DATA_DIR": str(settings.data_dir), "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "companion.cli", "safety", "labels", "export", "--output", str(output)],
                            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "Exported 1 labels" in result.stderr and "patient text" in result.stderr
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    [case] = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert case["text"] == "I have a plan" and case["expected_tier"] == 4
