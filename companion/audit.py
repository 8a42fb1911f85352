"""The audit log: every staff read of patient data, append-only and hash-chained.

Each `AuditEntry` names who read (actor: a user id, or "system" / "cli"), what (action, e.g.
"read.escalation_excerpt", "export.labels"), whose data (patient id) and which record (target
id), never the patient's text. Entry `n` carries `prev_hash`, the hash of entry `n - 1` (64
zeros for the first), and its own `hash`, SHA-256 over the canonical JSON of its fields and
`prev_hash`. So an altered entry no longer matches its hash, an entry whose hash was
recomputed no longer matches the next entry's `prev_hash`, and a removed entry leaves a gap in
the sequence numbers. `verify` walks the chain and names the sequence number of each problem.

The database refuses UPDATE and DELETE on the table (triggers, migration 0005); the chain
still catches tampering by someone who drops them. Removing the newest entries would leave a
shorter but consistent chain, so the newest sequence number and hash are also kept outside
the database: in an anchor file in the data directory (`audit-anchor.json`, registered for
every engine by `companion.db.create_db_engine`; it only ever moves forward) and in the logs.
`verify` reports entries missing at the end, or rewritten, against the anchor. With several
app hosts on one PostgreSQL database each host anchors what it wrote.

Appends are safe under concurrency: on PostgreSQL an advisory transaction lock serialises
them; on SQLite a no-op write takes the database write lock before the latest entry is
read; and when `record` owns the transaction it also retries on a sequence-number clash.

Code that decrypts patient data for a member of staff calls a wrapper here, which records
first and then reads: `read_excerpt`, `read_transcript`, `read_answers`, `read_assignments`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import random
import threading
import time
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from companion.logging import get_logger
from companion.models import AuditEntry, Escalation, as_utc, utcnow

if TYPE_CHECKING:
    from companion.store import SqlPatientStore

__all__ = [
    "GENESIS_HASH",
    "anchor_to",
    "AuditEntryPublic",
    "VerifyResult",
    "entries",
    "entry_hash",
    "read_answers",
    "read_assignments",
    "read_excerpt",
    "read_transcript",
    "record",
    "verify",
]

log = get_logger(__name__)

GENESIS_HASH = "0" * 64
#: Key of the PostgreSQL advisory lock that serialises appends ("audit" in ASCII).
PG_LOCK_KEY = 0x6175646974
ATTEMPTS = 50
BATCH = 1000


class AuditEntryPublic(BaseModel):
    seq: int
    created_at: datetime
    actor: str
    action: str
    patient_id: str | None
    target: str | None
    prev_hash: str
    hash: str


class VerifyResult(BaseModel):
    ok: bool
    checked: int
    problems: list[str]


def _timestamp(value: datetime) -> str:
    return as_utc(value).astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(*, seq: int, created_at: datetime, actor: str, action: str, patient_id: str | None,
               target: str | None, prev_hash: str) -> str:
    """SHA-256 (hex) over the canonical JSON of an entry's fields and the previous entry's hash."""
    canonical = json.dumps(
        {"seq": seq, "created_at": _timestamp(created_at), "actor": actor, "action": action,
         "patient_id": patient_id, "target": target, "prev_hash": prev_hash},
        sort_keys=True, separators=(",", ":"), ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _hash_of(row: AuditEntry) -> str:
    return entry_hash(seq=row.seq, created_at=row.created_at, actor=row.actor, action=row.action,
                      patient_id=row.patient_id, target=row.target, prev_hash=row.prev_hash)


def _lock(session: Session) -> None:
    """Hold the append lock until the end of the session's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
    else:  # SQLite: a write that changes nothing still takes the database write lock
        session.execute(text(
            "INSERT INTO auditentry (seq, created_at, actor, action, prev_hash, hash) "
            "SELECT 0, '', '', '', '', '' WHERE 0"
        ))


def _append(session: Session, *, actor: str, action: str, patient_id: str | None, target: str | None) -> AuditEntry:
    _lock(session)
    latest = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(1)).first()
    seq, prev_hash = (1, GENESIS_HASH) if latest is None else (latest.seq + 1, latest.hash)
    created_at = utcnow()
    row = AuditEntry(
        seq=seq, created_at=created_at, actor=actor, action=action, patient_id=patient_id, target=target,
        prev_hash=prev_hash,
        hash=entry_hash(seq=seq, created_at=created_at, actor=actor, action=action, patient_id=patient_id,
                        target=target, prev_hash=prev_hash),
    )
    session.add(row)
    session.flush()
    return row


def _public(row: AuditEntry) -> AuditEntryPublic:
    return AuditEntryPublic.model_validate(row.model_dump())


def record(session_or_engine: Session | Engine, *, actor: str, action: str, patient_id: str | None = None,
           target: str | None = None) -> AuditEntryPublic:
    """Append one entry and return it.

    Given a `Session`, the entry joins the caller's transaction (it commits or rolls back with
    the read it records). Given an `Engine`, the entry is committed before this returns.
    """
    if not actor or not action:
        raise ValueError("an audit entry needs an actor (user id, 'system' or 'cli') and an action")
    if isinstance(session_or_engine, Session):
        public = _public(_append(session_or_engine, actor=actor, action=action, patient_id=patient_id, target=target))
        bind = session_or_engine.get_bind()
        if isinstance(bind, Engine):
            event.listen(session_or_engine, "after_commit",
                         lambda _s: _advance_anchor(bind, public.seq, public.hash, check=True), once=True)
    else:
        public = _record_committed(session_or_engine, actor=actor, action=action, patient_id=patient_id, target=target)
    log.info("audit_recorded", seq=public.seq, user_id=actor, patient_id=patient_id, action=action,
             hash_prefix=public.hash[:16])
    return public


def _record_committed(engine: Engine, **fields: Any) -> AuditEntryPublic:
    for attempt in range(ATTEMPTS):
        try:
            with Session(engine, expire_on_commit=False) as session:
                row = _append(session, **fields)
                session.commit()
                public = _public(row)
            _advance_anchor(engine, public.seq, public.hash)
            return public
        except (IntegrityError, OperationalError):
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.001, 0.02) * (attempt + 1))  # noqa: S311 - jitter, not security
    raise AssertionError("unreachable")  # pragma: no cover


# the anchor: the newest (seq, hash), outside the database -----------------------------------

_anchors: weakref.WeakKeyDictionary[Engine, Path] = weakref.WeakKeyDictionary()
_anchor_lock = threading.Lock()


def anchor_to(engine: Engine, path: Path) -> None:
    """Keep the newest entry's sequence number and hash for `engine` in the file `path`."""
    _anchors[engine] = path


def _read_anchor(path: Path) -> tuple[int, str] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
        return int(data["seq"]), str(data["hash"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return (-1, "")  # unreadable: reported by verify


def _advance_anchor(engine: Engine, seq: int, entry_hash_: str, *, check: bool = False) -> None:
    """Move the anchor to (seq, hash); with `check`, only if that entry was really committed."""
    path = _anchors.get(engine)
    if path is None:
        return
    if check:  # the caller's transaction may have committed without our entry (rolled back earlier)
        with Session(engine) as session:
            row = session.get(AuditEntry, seq)
            if row is None or row.hash != entry_hash_:
                return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _anchor_lock, open(path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = _read_anchor(path)
            if current is not None and current[0] >= seq:
                return
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"seq": seq, "hash": entry_hash_}), "utf-8")
            os.replace(tmp, path)
    except OSError as error:  # the entry is committed; the anchor lagging is reported by verify
        log.error("audit_anchor_not_written", error=type(error).__name__, seq=seq)


def _check_anchor(engine: Engine, session: Session, last_seq: int) -> list[str]:
    path = _anchors.get(engine)
    anchor = None if path is None else _read_anchor(path)
    if anchor is None:
        return []
    seq, expected = anchor
    if seq < 0:
        return [f"the anchor file {path} cannot be read (altered?)"]
    if seq > last_seq:
        first = last_seq + 1
        which = f"entry {seq} is" if first == seq else f"entries {first}-{seq} are"
        return [f"{which} missing at the end (removed): the anchor file records entry {seq}"]
    row = session.get(AuditEntry, seq)
    if row is not None and row.hash != expected:
        return [f"entry {seq}: hash differs from the anchor file (rewritten)"]
    return []


def verify(engine: Engine) -> VerifyResult:
    """Walk the chain in sequence order and report every broken link, gap and altered entry."""
    problems: list[str] = []
    checked = 0
    expected_seq, prev_hash, prev_seq = 1, GENESIS_HASH, 0
    with Session(engine) as session:
        while True:
            query = select(AuditEntry)
            if checked:
                query = query.where(AuditEntry.seq > prev_seq)
            rows = list(session.exec(query.order_by(col(AuditEntry.seq)).limit(BATCH)))
            if not rows:
                break
            for row in rows:
                checked += 1
                if row.seq != expected_seq:
                    missing = (f"entry {expected_seq} is" if row.seq == expected_seq + 1
                               else f"entries {expected_seq}-{row.seq - 1} are")
                    problems.append(f"entry {row.seq}: sequence gap, {missing} missing (removed)")
                if row.prev_hash != prev_hash:
                    before = f"the hash of entry {prev_seq}" if prev_seq else "the genesis hash (64 zeros)"
                    problems.append(f"entry {row.seq}: prev_hash does not match {before} (broken link)")
                if _hash_of(row) != row.hash:
                    problems.append(f"entry {row.seq}: hash does not match its content (altered)")
                expected_seq, prev_hash, prev_seq = row.seq + 1, row.hash, row.seq
        problems += _check_anchor(engine, session, prev_seq)
    return VerifyResult(ok=not problems, checked=checked, problems=problems)


def entries(engine: Engine, *, limit: int = 50, patient_id: str | None = None,
            before: int | None = None) -> list[AuditEntryPublic]:
    """The newest `limit` entries (of one patient's data, or all; below sequence number `before`), newest first."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    with Session(engine) as session:
        query = select(AuditEntry)
        if patient_id is not None:
            query = query.where(AuditEntry.patient_id == patient_id)
        if before is not None:
            query = query.where(AuditEntry.seq < before)
        rows = list(session.exec(query.order_by(col(AuditEntry.seq).desc()).limit(limit)))
    return [_public(row) for row in rows]


# audited reads: record first, then decrypt ---------------------------------------------------

def read_excerpt(store: SqlPatientStore, escalation: Escalation, *, actor: str) -> list[str]:
    """The escalation's decrypted excerpt, after recording that `actor` read it."""
    record(store.engine, actor=actor, action="read.escalation_excerpt", patient_id=escalation.patient_id,
           target=escalation.id)
    return store.escalation_excerpt(escalation)


def read_transcript(store: SqlPatientStore, *, patient_id: str, actor: str) -> list[dict[str, str]]:
    """The patient's decrypted transcript, after recording that `actor` read it."""
    record(store.engine, actor=actor, action="read.transcript", patient_id=patient_id)
    return store.transcript(patient_id=patient_id)


def read_answers(store: SqlPatientStore, *, patient_id: str, actor: str,
                 module_id: str | None = None) -> list[dict[str, Any]]:
    """The patient's decrypted exercise answers, after recording that `actor` read them."""
    record(store.engine, actor=actor, action="read.answers", patient_id=patient_id, target=module_id)
    return store.answers(patient_id=patient_id, module_id=module_id)


def read_assignments(store: SqlPatientStore, *, patient_id: str, actor: str) -> list[dict[str, Any]]:
    """The patient's assignments with decrypted briefs, after recording that `actor` read them."""
    record(store.engine, actor=actor, action="read.assignments", patient_id=patient_id)
    return store.assignments(patient_id)
