"""Reviewer labels: was an escalation a true positive, and what was the right tier and categories.

Labels are how reviewers' judgement becomes regression cases. `record_label` stores one (its
note encrypted with the patient's data key, since notes may quote the patient), `labels` reads
them back, and `export_labels_jsonl` writes them in the input format of
`companion safety screen`, so the export can be fed straight back into the detector:

    {"id": "label-7", "text": "...", "expected_tier": 4, "is_true_positive": true,
     "categories": ["method_plan"], "escalation_id": "esc-...", "detected_tier": 4,
     "detector_version": "...", "labelled_at": "..."}

with `"messages": [{"role": "user", "content": "..."}, ...]` instead of `"text"` when the
escalation excerpt holds more than one turn. The export holds decrypted patient text.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import IO, Any

from sqlmodel import Session, col, select

from companion import audit
from companion.crypto import DecryptionError
from companion.db import session_scope
from companion.logging import get_logger
from companion.models import (
    Escalation,
    ReviewerLabel,
    ReviewerLabelCreate,
    ReviewerLabelPublic,
    Role,
    User,
)
from companion.settings import Settings
from companion.store import SqlPatientStore
from safety.types import Category

__all__ = ["NOTE_UNAVAILABLE", "export_command", "export_labels_jsonl", "labels", "record_label"]

log = get_logger(__name__)

NOTE_PURPOSE = "label_note"
REVIEWER_ROLES = (Role.REVIEWER, Role.ADMIN)
NOTE_UNAVAILABLE = "(note unavailable: the patient's data key is erased or not loaded)"


def _categories(values: Sequence[str]) -> str:
    known = {c.value for c in Category}
    unknown = [v for v in values if str(v) not in known]
    if unknown:
        raise ValueError(f"unknown categories {unknown}; use values of safety.types.Category, e.g. 'method_plan'")
    return ",".join(dict.fromkeys(str(v) for v in values))


def record_label(
    store: SqlPatientStore, *, escalation_id: str, reviewer_id: str, is_true_positive: bool,
    correct_tier: int, correct_categories: Sequence[str] = (), note: str = "",
) -> ReviewerLabelPublic:
    """Store a reviewer's label of an escalation and return it (note decrypted).

    Raises:
        ValueError: the escalation does not exist, the reviewer is not an active reviewer or
            admin, the tier is not 0-5, or a category is unknown.
    """
    data = ReviewerLabelCreate.model_validate({
        "escalation_id": escalation_id, "reviewer_id": reviewer_id, "is_true_positive": is_true_positive,
        "correct_tier": correct_tier, "correct_categories": _categories(correct_categories), "note": note,
    })
    with session_scope(store.engine) as session:
        escalation = session.get(Escalation, escalation_id)
        if escalation is None:
            raise ValueError(f"escalation {escalation_id!r} does not exist; check the id in the escalation queue")
        reviewer = session.get(User, reviewer_id)
        if reviewer is None or reviewer.role not in REVIEWER_ROLES or not reviewer.is_active:
            raise ValueError(f"user {reviewer_id!r} is not an active reviewer or admin and cannot label escalations")
        blob = store.crypto.encrypt(escalation.patient_id, data.note, purpose=NOTE_PURPOSE) if data.note else None
        row = ReviewerLabel(**data.model_dump(exclude={"note"}), note=blob)
        session.add(row)
        session.flush()
        public = ReviewerLabelPublic(**row.model_dump(exclude={"note"}), note=data.note)
    log.info("escalation_labelled", escalation_id=escalation_id, user_id=reviewer_id, tier=correct_tier)
    return public


def labels(store: SqlPatientStore, *, escalation_id: str | None = None) -> list[ReviewerLabelPublic]:
    """Return labels (of one escalation, or all), oldest first, with notes decrypted."""
    with Session(store.engine) as session:
        query = select(ReviewerLabel, Escalation.patient_id).join(
            Escalation, col(Escalation.id) == col(ReviewerLabel.escalation_id))
        if escalation_id is not None:
            query = query.where(ReviewerLabel.escalation_id == escalation_id)
        rows = list(session.exec(query.order_by(col(ReviewerLabel.id))))
    return [ReviewerLabelPublic(**row.model_dump(exclude={"note"}), note=_note(store, patient_id, row.note))
            for row, patient_id in rows]


def _note(store: SqlPatientStore, patient_id: str, blob: bytes | None) -> str:
    if not blob:
        return ""
    try:
        return store.crypto.decrypt_text(patient_id, blob, purpose=NOTE_PURPOSE)
    except DecryptionError:
        return NOTE_UNAVAILABLE


def _case(label: ReviewerLabel, escalation: Escalation, excerpt: list[str]) -> dict[str, Any]:
    case: dict[str, Any] = {"id": f"label-{label.id}"}
    if len(excerpt) == 1:
        case["text"] = excerpt[0]
    else:
        case["messages"] = [{"role": "user", "content": text} for text in excerpt]
    return case | {
        "expected_tier": label.correct_tier,
        "is_true_positive": label.is_true_positive,
        "categories": [c for c in label.correct_categories.split(",") if c],
        "escalation_id": escalation.id,
        "detected_tier": escalation.tier,
        "detector_version": escalation.detector_version,
        "labelled_at": label.created_at.isoformat(),
    }


def export_labels_jsonl(store: SqlPatientStore, out: IO[str], *, actor: str = "cli") -> tuple[int, int]:
    """Write every label as one JSON line (the `companion safety screen` format plus labels).

    Each label's escalation excerpt is decrypted only after an "export.labels" audit entry
    naming `actor`, the patient and the escalation has been recorded.

    Returns:
        (written, skipped): labels whose patient's data key was erased cannot be decrypted and
        are skipped.
    """
    written = skipped = 0
    with Session(store.engine) as session:
        query = select(ReviewerLabel, Escalation).join(Escalation, col(Escalation.id) == col(ReviewerLabel.escalation_id))
        rows = list(session.exec(query.order_by(col(ReviewerLabel.id))))
    for label, escalation in rows:
        audit.record(store.engine, actor=actor, action="export.labels", patient_id=escalation.patient_id,
                     target=escalation.id)
        try:
            excerpt = store.escalation_excerpt(escalation)
        except DecryptionError:
            skipped += 1
            continue
        out.write(json.dumps(_case(label, escalation, excerpt), ensure_ascii=False) + "\n")
        written += 1
    return written, skipped


def export_command(settings: Settings, *, output: str | None) -> int:
    """`companion safety labels export [--output FILE]`."""
    from companion.db import create_db_engine, migrate
    from companion.keys import load_keyring
    from companion.store import crypto_for

    settings.validate_for_start()
    engine = create_db_engine(settings)
    try:
        migrate(engine)
        store = SqlPatientStore(engine, crypto_for(engine, load_keyring(settings, create=False)))
        if output is None:
            written, skipped = export_labels_jsonl(store, sys.stdout)
            sys.stdout.flush()
        else:
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)
            with open(fd, "w", encoding="utf-8") as handle:
                written, skipped = export_labels_jsonl(store, handle)
    finally:
        engine.dispose()
    where = "" if output is None else f" to {output}"
    print(f"Exported {written} labels{where}; it holds patient text, keep it as protected as the database.",
          file=sys.stderr)
    if skipped:
        print(f"Skipped {skipped} labels whose patient's data was erased.", file=sys.stderr)
    return 0
