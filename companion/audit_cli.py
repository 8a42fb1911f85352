"""`companion audit ...`: check the audit log's hash chain and list its entries (the admin view).

`companion audit verify` prints "audit log OK: N entries" and exits 0, or prints each problem
(naming the entry's sequence number) and exits 1. `companion audit list [--limit N]
[--patient USERNAME]` prints the newest entries, newest first, one per line.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlmodel import Session, select

from companion import audit
from companion.db import create_db_engine, migrate
from companion.models import User
from companion.settings import Settings

__all__ = ["add_parser", "main"]


def add_parser(commands: Any) -> None:
    """Register `audit verify` and `audit list` on the `companion` sub-command parser."""
    parser = commands.add_parser("audit", help="the audit log of reads of patient data")
    sub = parser.add_subparsers(dest="audit_command", required=True)
    sub.add_parser("verify", help="check the hash chain; exit 1 and name each altered or removed entry")
    listing = sub.add_parser("list", help="print the newest entries, newest first")
    listing.add_argument("--limit", type=int, default=50, help="how many entries (default 50)")
    listing.add_argument("--patient", metavar="USERNAME", help="only reads of this patient's data")


def main(settings: Settings, args: argparse.Namespace) -> int:
    """Run a `companion audit` sub-command."""
    engine = create_db_engine(settings)
    try:
        migrate(engine)
        if args.audit_command == "verify":
            result = audit.verify(engine)
            if result.ok:
                print(f"audit log OK: {result.checked} entries")
                return 0
            for problem in result.problems:
                print(problem)
            print(f"audit log BROKEN: {len(result.problems)} problems in {result.checked} entries", file=sys.stderr)
            return 1
        patient_id = None
        if args.patient is not None:
            with Session(engine) as session:
                user = session.exec(select(User).where(User.username == args.patient)).first()
            if user is None:
                raise ValueError(f"no account named {args.patient!r}; check the username")
            patient_id = user.id
        for entry in audit.entries(engine, limit=args.limit, patient_id=patient_id):
            print(f"{entry.seq}\t{entry.created_at.isoformat(timespec='seconds')}\t{entry.actor}\t{entry.action}\t"
                  f"{entry.patient_id or '-'}\t{entry.target or '-'}")
        return 0
    finally:
        engine.dispose()
