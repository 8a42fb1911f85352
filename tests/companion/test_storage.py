"""No patient text at rest or in logs: unique markers said in a conversation must not appear in
the raw bytes of the database files (WAL included), the checkpoint store, or the logs, on SQLite
and on PostgreSQL. The markers must still be readable through decryption, so the test cannot
pass by storing nothing."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from companion.logging import configure_logging
from companion.settings import Settings
from tests.support_service import ChatHarness


def marker(label: str) -> str:
    return f"MRK{label}{uuid.uuid4().hex[:10]}"


def raw_file_bytes(data_dir: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in data_dir.rglob("*") if p.is_file()}


def raw_postgres_values(chat: ChatHarness) -> list[bytes]:
    values: list[bytes] = []
    with chat.runtime.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        values.append(bytes(value))
                    elif value is not None:
                        values.append(str(value).encode())
    return values


def run_marked_conversation(chat: ChatHarness, m: dict[str, str]) -> None:
    chat.start()
    chat.say(f"Before I agree, is {m['pre']} stored?")
    chat.say("I agree")
    chat.say("6")
    chat.say("Thought record")
    chat.say("Next")
    chat.say(f"At the office with {m['situation']}")
    chat.say("anxious 60")
    chat.say(f"I will never be good enough {m['thought']}")
    chat.say(f"I want to kill myself {m['crisis']}")


@pytest.mark.postgres
def test_markers_never_reach_disk_or_logs_in_plaintext(
    backend_settings: Settings, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    markers = {k: marker(k) for k in ("pre", "situation", "thought", "crisis")}
    chat = ChatHarness(backend_settings)
    try:
        run_marked_conversation(chat, markers)
        # non-vacuous: what was said is stored, encrypted, and reads back
        answers = str(chat.runtime.store.answers(patient_id=chat.patient_id))
        assert markers["situation"] in answers and markers["thought"] in answers
        transcript = str(chat.runtime.store.transcript(patient_id=chat.patient_id))
        assert markers["crisis"] in transcript and markers["pre"] not in transcript
        [escalation] = chat.runtime.store.escalations(patient_id=chat.patient_id)
        assert markers["crisis"] in str(chat.runtime.store.escalation_excerpt(escalation))

        blobs = list(raw_file_bytes(backend_settings.resolved_data_dir).values())
        if backend_settings.is_postgres:
            blobs += raw_postgres_values(chat)
        else:
            names = {Path(p).name for p in raw_file_bytes(backend_settings.resolved_data_dir)}
            assert {"companion.sqlite3", "checkpoints.sqlite3"} <= names
            assert any(n.endswith("-wal") for n in names), "the WAL files are checked while open"
        for value in markers.values():
            assert not any(value.encode() in blob for blob in blobs), f"{value} found at rest"
    finally:
        chat.close()
    after_close = raw_file_bytes(backend_settings.resolved_data_dir)
    out, err = capfd.readouterr()
    for value in markers.values():
        assert not any(value.encode() in blob for blob in after_close.values())
        assert value not in out and value not in err and value not in caplog.text, f"{value} in logs"
    assert '"event": "turn"' in err, "the service did log its turns (without text)"


@pytest.mark.postgres
def test_checkpoint_metadata_and_thread_ids_hold_no_patient_text(backend_settings: Settings) -> None:
    chat = ChatHarness(backend_settings)
    secret = marker("meta")
    try:
        chat.start()
        chat.say("I agree")
        chat.say(f"5 {secret}")
        for item in chat.runtime.checkpointer.list({"configurable": {"thread_id": chat.patient_id}}):
            assert secret not in str(item.metadata) and secret not in str(item.config)
            assert item.config["configurable"]["thread_id"] == chat.patient_id
            uuid.UUID(item.config["configurable"]["thread_id"])
    finally:
        chat.close()
