"""`companion assign`: assign a module to a patient, with a due date and a brief (until the portal does it).

The brief (goals, preferences, things to avoid) is read from stdin so it never appears in the
shell history or process list, and it is stored encrypted with the patient's key.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from sqlmodel import Session, select

from companion.db import create_db_engine, migrate
from companion.keys import load_keyring
from companion.models import Role, User
from companion.settings import Settings
from companion.store import SqlPatientStore, crypto_for
from flows.modules import load_library

__all__ = ["add_parser", "main"]


def add_parser(commands: Any) -> None:
    assign = commands.add_parser("assign", help="assign a CBT module to a patient")
    assign.add_argument("--patient", required=True, help="the patient's username")
    assign.add_argument("--module", required=True, help="module id, e.g. thought-record")
    assign.add_argument("--due", type=date.fromisoformat, help="due date, YYYY-MM-DD")
    assign.add_argument("--therapist", help="the assigning therapist's username")
    assign.add_argument("--brief-stdin", action="store_true", help="read the therapist's brief from stdin")


def _user(session: Session, username: str, role: Role) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or user.role is not role:
        raise ValueError(f"no {role.value} with username {username!r}; add one with `companion users add`")
    return user


def main(settings: Settings, args: argparse.Namespace) -> int:
    library = load_library()
    if args.module not in library.modules:
        raise ValueError(f"no module {args.module!r}; known: {', '.join(sorted(library.modules))}")
    brief = sys.stdin.read().strip() if args.brief_stdin else ""
    engine = create_db_engine(settings)
    migrate(engine)
    store = SqlPatientStore(engine, crypto_for(engine, load_keyring(settings, create=True)))
    with Session(engine) as session:
        patient = _user(session, args.patient, Role.PATIENT)
        therapist = _user(session, args.therapist, Role.THERAPIST) if args.therapist else None
    store.assign_module(
        patient_id=patient.id, module_id=args.module, assigned_by=therapist.id if therapist else None,
        due_date=args.due, brief=brief,
    )
    engine.dispose()
    due = f", due {args.due.isoformat()}" if args.due else ""
    print(f"Assigned {library.get(args.module).title!r} to {args.patient}{due}.")
    return 0
