"""The audit log on both back-ends: the hash chain, tamper detection, the append-only triggers, concurrent
appends, the audited label export and `companion audit verify` / `list`.

How the tamper tests get past the triggers: on SQLite they drop the two triggers and create them
again afterwards; on PostgreSQL they `ALTER TABLE auditentry DISABLE TRIGGER auditentry_append_only`
and enable it again afterwards. Either way they restore the rows they altered or removed, because the
PostgreSQL test database (and so its audit chain) is shared by every test of the session.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from companion import audit
from companion.accounts import create_user
from companion.db import create_db_engine, migrate
from companion.labels import export_labels_jsonl, record_label
from companion.models import AuditEntry, Role
from companion.settings import FORBIDDEN_VARIABLES, Settings
from safety.types import Assessment, Category, Signal, Tier
from tests.support_service import ChatHarness

ROOT = Path(__file__).resolve().parents[2]
SQLITE_TRIGGERS = (
    "CREATE TRIGGER auditentry_no_update BEFORE UPDATE ON auditentry "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER auditentry_no_delete BEFORE DELETE ON auditentry "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
)


@pytest.fixture
def engine(backend_settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(backend_settings)
    migrate(engine)
    yield engine
    engine.dispose()


@contextmanager
def tampering(engine: Engine) -> Iterator[Any]:
    """A connection on which the append-only triggers are off (they are back on afterwards)."""
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if postgres:
            conn.execute(text("ALTER TABLE auditentry DISABLE TRIGGER auditentry_append_only"))
        else:
            conn.execute(text("DROP TRIGGER auditentry_no_update"))
            conn.execute(text("DROP TRIGGER auditentry_no_delete"))
        try:
            yield conn
        finally:
            if postgres:
                conn.execute(text("ALTER TABLE auditentry ENABLE TRIGGER auditentry_append_only"))
            else:
                for statement in SQLITE_TRIGGERS:
                    conn.execute(text(statement))


def three(engine: Engine) -> tuple[str, list[audit.AuditEntryPublic]]:
    patient = f"pat-{uuid.uuid4().hex[:8]}"
    made = [audit.record(engine, actor=f"rev-{i}", action="read.escalation_excerpt", patient_id=patient,
                         target=f"esc-{i}") for i in range(3)]
    return patient, made


def row(engine: Engine, seq: int) -> dict[str, Any]:
    with Session(engine) as session:
        entry = session.get(AuditEntry, seq)
        assert entry is not None
        return entry.model_dump()


@pytest.mark.postgres
def test_appends_form_a_chain_that_verifies(engine: Engine) -> None:
    patient, made = three(engine)
    assert [e.seq for e in made] == [made[0].seq, made[0].seq + 1, made[0].seq + 2]
    assert made[1].prev_hash == made[0].hash and made[2].prev_hash == made[1].hash
    if made[0].seq == 1:
        assert made[0].prev_hash == audit.GENESIS_HASH
    for entry in made:
        assert entry.hash == audit.entry_hash(**entry.model_dump(exclude={"hash"}))
        assert entry.created_at.utcoffset() is not None
    assert row(engine, made[1].seq)["hash"] == made[1].hash
    result = audit.verify(engine)
    assert result.ok and result.problems == [] and result.checked >= 3
    assert audit.entries(engine, limit=10, patient_id=patient) == list(reversed(made))
    assert audit.entries(engine, limit=2, patient_id=patient) == [made[2], made[1]]
    with pytest.raises(ValueError, match="actor"):
        audit.record(engine, actor="", action="read.transcript")


@pytest.mark.postgres
def test_an_entry_in_the_callers_transaction_goes_with_it(engine: Engine) -> None:
    patient = f"pat-{uuid.uuid4().hex[:8]}"
    with Session(engine) as session:
        audit.record(session, actor="system", action="read.transcript", patient_id=patient)
        session.rollback()
    assert audit.entries(engine, limit=5, patient_id=patient) == []
    with Session(engine) as session:
        entry = audit.record(session, actor="system", action="read.transcript", patient_id=patient)
        session.commit()
    assert audit.entries(engine, limit=5, patient_id=patient) == [entry]
    assert audit.verify(engine).ok


@pytest.mark.postgres
def test_the_database_refuses_update_and_delete(engine: Engine) -> None:
    _, made = three(engine)
    for statement in ("UPDATE auditentry SET action = 'x' WHERE seq = :seq", "DELETE FROM auditentry WHERE seq = :seq"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement), {"seq": made[1].seq})
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("TRUNCATE auditentry"))
    assert row(engine, made[1].seq)["action"] == "read.escalation_excerpt"
    assert audit.verify(engine).ok


@pytest.mark.postgres
@pytest.mark.parametrize("field", ["action", "actor"])
def test_an_altered_entry_is_detected_with_its_sequence_number(engine: Engine, field: str) -> None:
    _, made = three(engine)
    seq = made[1].seq
    original = row(engine, seq)
    try:
        with tampering(engine) as conn:
            conn.execute(text(f"UPDATE auditentry SET {field} = 'innocent' WHERE seq = :seq"), {"seq": seq})
        result = audit.verify(engine)
        assert not result.ok
        assert result.problems == [f"entry {seq}: hash does not match its content (altered)"]

        # a careful forger also recomputes the entry's hash: then the next link breaks
        forged = original | {field: "innocent"}
        new_hash = audit.entry_hash(**{k: v for k, v in forged.items() if k != "hash"})
        with tampering(engine) as conn:
            conn.execute(text("UPDATE auditentry SET hash = :hash WHERE seq = :seq"), {"hash": new_hash, "seq": seq})
        result = audit.verify(engine)
        assert not result.ok
        assert result.problems == [f"entry {seq + 1}: prev_hash does not match the hash of entry {seq} (broken link)"]
    finally:
        with tampering(engine) as conn:
            conn.execute(text(f"UPDATE auditentry SET {field} = :value, hash = :hash WHERE seq = :seq"),
                         {"value": original[field], "hash": original["hash"], "seq": seq})
    assert audit.verify(engine).ok


@pytest.mark.postgres
def test_a_removed_entry_is_detected(engine: Engine) -> None:
    _, made = three(engine)
    seq = made[1].seq
    original = row(engine, seq)
    try:
        with tampering(engine) as conn:
            conn.execute(text("DELETE FROM auditentry WHERE seq = :seq"), {"seq": seq})
        result = audit.verify(engine)
        assert not result.ok
        assert result.problems == [
            f"entry {seq + 1}: sequence gap, entry {seq} is missing (removed)",
            f"entry {seq + 1}: prev_hash does not match the hash of entry {seq - 1} (broken link)",
        ]
    finally:
        with Session(engine) as session:
            session.add(AuditEntry(**original))
            session.commit()
    assert audit.verify(engine).ok


@pytest.mark.postgres
@pytest.mark.parametrize("via", ["engine", "session"])
def test_concurrent_appends_keep_an_unbroken_chain(engine: Engine, via: str) -> None:
    """Through an engine `record` may retry; in a caller's session it cannot, so the lock alone must hold."""
    patient = f"pat-{uuid.uuid4().hex[:8]}"
    errors: list[BaseException] = []

    def append(worker: int, i: int) -> None:
        fields = {"actor": f"worker-{worker}", "action": "read.transcript", "patient_id": patient, "target": str(i)}
        if via == "engine":
            audit.record(engine, **fields)
            return
        with Session(engine) as session:
            audit.record(session, **fields)
            session.commit()

    def work(worker: int) -> None:
        try:
            for i in range(10):
                append(worker, i)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    mine = audit.entries(engine, limit=1000, patient_id=patient)
    assert len(mine) == 80 and len({e.seq for e in mine}) == 80
    result = audit.verify(engine)
    assert result.ok, result.problems


@pytest.mark.postgres
def test_the_label_export_and_the_read_wrappers_are_audited(backend_settings: Settings) -> None:
    chat = ChatHarness(backend_settings)
    try:
        chat.runtime.store.alerts = None
        store, engine = chat.runtime.store, chat.runtime.engine
        with Session(engine) as session:
            reviewer = create_user(session, username=f"rev-{chat.username}", role=Role.REVIEWER,
                                   password="a-long-test-password").id
            session.commit()
        escalation_id = f"esc-audit-{chat.username}"
        assessment = Assessment.from_signals(
            [Signal(source="rules", id="si.plan", tier=Tier.URGENT, category=Category.METHOD_PLAN)], version="rules-test")
        store.record_escalation(patient_id=chat.patient_id, escalation_id=escalation_id, assessment=assessment,
                                excerpt=["I have a plan audit-marker-9"], before_consent=False, safety_mode=True)
        record_label(store, escalation_id=escalation_id, reviewer_id=reviewer, is_true_positive=True, correct_tier=4)

        out = io.StringIO()
        export_labels_jsonl(store, out, actor=reviewer)
        assert "audit-marker-9" in out.getvalue()
        [entry] = audit.entries(engine, limit=10, patient_id=chat.patient_id)
        assert (entry.actor, entry.action, entry.target) == (reviewer, "export.labels", escalation_id)

        [escalation] = store.escalations(patient_id=chat.patient_id)
        assert audit.read_excerpt(store, escalation, actor=reviewer) == ["I have a plan audit-marker-9"]
        audit.read_transcript(store, patient_id=chat.patient_id, actor=reviewer)
        latest = audit.entries(engine, limit=10, patient_id=chat.patient_id)
        assert [e.action for e in latest] == ["read.transcript", "read.escalation_excerpt", "export.labels"]
        with Session(engine) as session:
            stored = session.exec(select(AuditEntry).where(col(AuditEntry.patient_id) == chat.patient_id)).all()
        assert not any("audit-marker-9" in str(e.model_dump()) for e in stored), "no patient text in the log"
        assert audit.verify(engine).ok
    finally:
        chat.close()


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPANION_") and k not in FORBIDDEN_VARIABLES}
    env |= {"COMPANION_DATA_DIR": str(settings.data_dir), "PYTHONPATH": str(ROOT)}
    if settings.database_url:
        env["COMPANION_DATABASE_URL"] = settings.database_url
    return subprocess.run([sys.executable, "-m", "companion.cli", "audit", *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.mark.postgres
def test_the_cli_verifies_and_lists(backend_settings: Settings, engine: Engine) -> None:
    with Session(engine) as session:
        patient = create_user(session, username=f"pat-{uuid.uuid4().hex[:8]}", role=Role.PATIENT,
                              password="a-long-test-password")
        session.commit()
    made = [audit.record(engine, actor="cli", action="read.transcript", patient_id=patient.id) for _ in range(3)]
    ok = run_cli(backend_settings, "verify")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("audit log OK: ") and ok.stdout.strip().endswith(" entries")

    listed = run_cli(backend_settings, "list", "--patient", patient.username, "--limit", "2")
    assert listed.returncode == 0, listed.stderr
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == [str(made[2].seq), str(made[1].seq)]
    assert run_cli(backend_settings, "list", "--patient", "nobody-by-that-name").returncode == 2

    seq = made[1].seq
    original = row(engine, seq)
    try:
        with tampering(engine) as conn:
            conn.execute(text("UPDATE auditentry SET actor = 'someone-else' WHERE seq = :seq"), {"seq": seq})
        broken = run_cli(backend_settings, "verify")
        assert broken.returncode == 1
        assert f"entry {seq}: hash does not match its content (altered)" in broken.stdout.splitlines()
    finally:
        with tampering(engine) as conn:
            conn.execute(text("UPDATE auditentry SET actor = :actor WHERE seq = :seq"),
                         {"actor": original["actor"], "seq": seq})
    assert run_cli(backend_settings, "verify").returncode == 0


@pytest.mark.postgres
def test_removing_the_newest_entries_is_detected_through_the_anchor(engine: Engine) -> None:
    _, made = three(engine)
    newest = made[-1].seq
    originals = [row(engine, entry.seq) for entry in made[1:]]
    try:
        with tampering(engine) as conn:
            conn.execute(text("DELETE FROM auditentry WHERE seq >= :seq"), {"seq": made[1].seq})
        result = audit.verify(engine)
        assert not result.ok
        assert result.problems == [
            f"entries {made[1].seq}-{newest} are missing at the end (removed): the anchor file records entry {newest}"
        ]
    finally:
        with Session(engine) as session:
            for original in originals:
                session.add(AuditEntry(**original))
            session.commit()
    assert audit.verify(engine).ok


def test_an_entry_rolled_back_with_its_transaction_does_not_move_the_anchor(settings: Settings) -> None:
    engine = create_db_engine(settings)
    migrate(engine)
    kept = audit.record(engine, actor="rev-1", action="read.answers")
    with Session(engine) as session:
        audit.record(session, actor="rev-2", action="read.answers")
        session.rollback()
        session.commit()  # a later commit of the same session must not anchor the rolled-back entry
    anchor = json.loads((settings.resolved_data_dir / "audit-anchor.json").read_text("utf-8"))
    assert anchor == {"seq": kept.seq, "hash": kept.hash}
    assert audit.verify(engine).ok
    engine.dispose()
