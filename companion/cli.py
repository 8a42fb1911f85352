"""The `companion` command: serve the app, manage users, chat in a terminal, initialise the data dir."""

from __future__ import annotations

import argparse
import getpass
import re
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import TextIO

from sqlmodel import select

from companion import accounts, assign_cli, audit_cli, content_cli, safety_cli
from companion.db import create_db_engine, migrate, session_scope
from companion.keys import load_keyring, session_secret
from companion.logging import configure_logging
from companion.models import CareTeam, Role, User
from companion.settings import ForbiddenEnvironmentError, Settings, check_forbidden_environment

__all__ = ["main"]

DEMO_USERS = (("patient", Role.PATIENT), ("therapist", Role.THERAPIST), ("reviewer", Role.REVIEWER),
              ("admin", Role.ADMIN))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="companion", description="Companion: a CBT companion between therapy sessions.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the web app (chat at /chat)")
    serve.add_argument("--host", help="address to listen on (default: COMPANION_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: COMPANION_PORT or 8000)")
    serve.add_argument("--demo", action="store_true", help="on first run, create demo accounts and print their passwords")

    commands.add_parser("init", help="create the database and keys in the data directory")

    users = commands.add_parser("users", help="manage accounts").add_subparsers(dest="users_command", required=True)
    add = users.add_parser("add", help="add an account")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--username", required=True)
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")

    chat = commands.add_parser("chat", help="chat in the terminal, one line per message")
    chat.add_argument("--username", required=True)
    chat.add_argument("--password-stdin", action="store_true",
                      help="first line of stdin is the password, the rest are messages")

    safety_cli.add_parser(commands)
    content_cli.add_parser(commands)
    assign_cli.add_parser(commands)
    audit_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        check_forbidden_environment()
        settings = Settings()
    except (ForbiddenEnvironmentError, ValueError) as exc:
        print(f"companion: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    handlers: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
        "serve": _serve, "init": _init, "users": _users_add, "chat": _chat,
        "safety": safety_cli.main, "content": content_cli.main, "assign": assign_cli.main, "audit": audit_cli.main,
    }
    try:
        return handlers[args.command](settings, args)
    except (ValueError, RuntimeError) as exc:
        print(f"companion: {exc}", file=sys.stderr)
        return 2


def _init(settings: Settings, _args: argparse.Namespace | None = None) -> int:
    settings.validate_for_start()
    engine = create_db_engine(settings)
    migrate(engine)
    load_keyring(settings, create=True)
    session_secret(settings)
    engine.dispose()
    print(f"Data directory ready: {settings.resolved_data_dir}")
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from companion.app import create_app

    updates = {k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    settings = settings.model_copy(update=updates)
    _init(settings)
    if args.demo:
        _create_demo_users(settings)
    print(f"\nCompanion is running:\n  chat:   {settings.origin}/chat/\n  portal: {settings.origin}/portal/\n"
          f"  help:   {settings.origin}/help\n  health: {settings.origin}/healthz\nPress Ctrl+C to stop.\n", flush=True)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning", access_log=False)
    return 0


def _create_demo_users(settings: Settings) -> None:
    engine = create_db_engine(settings)
    with session_scope(engine) as session:
        if session.exec(select(User)).first() is not None:
            print("Demo accounts already exist (their passwords were printed on the first run).")
            return
        print("Demo accounts (passwords are shown once; keep them now):")
        made = {}
        for username, role in DEMO_USERS:
            password = accounts.generate_password()
            made[role] = accounts.create_user(session, username=username, role=role, password=password).id
            print(f"  {role.value:<10} username: {username:<10} password: {password}")
        # The demo therapist looks after the demo patient, so the portal has someone to show.
        session.add(CareTeam(patient_id=made[Role.PATIENT], therapist_id=made[Role.THERAPIST]))
        print("The patient uses the chat; the others sign in to the portal.")
    engine.dispose()


def _users_add(settings: Settings, args: argparse.Namespace) -> int:
    generated = not args.password_stdin
    password = accounts.generate_password() if generated else sys.stdin.readline().rstrip("\r\n")
    engine = create_db_engine(settings)
    migrate(engine)
    with session_scope(engine) as session:
        user = accounts.create_user(session, username=args.username, role=Role(args.role), password=password)
    engine.dispose()
    print(f"Created {user.role.value} {user.username!r}.")
    if generated:
        print(f"Password (shown once): {password}")
    return 0


def _lines(stream: TextIO) -> Iterator[str]:
    """Yield input lines, decoding invalid UTF-8 with replacement characters instead of failing."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        yield from (line.rstrip("\r\n") for line in stream)
        return
    for raw in buffer:
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


def _plain(markdown: str) -> str:
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", markdown)
    text = re.sub(r"(?<!\w)\*(.+?)\*(?!\w)", r"\1", text)
    return re.sub(r"\\([\\`*_{}\[\]()<>#+!|~>-])", r"\1", text)


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from companion.runtime import open_runtime
    from companion.service import ChatService

    lines = _lines(sys.stdin)
    if args.password_stdin:
        password = next(lines, "")
    else:
        password = getpass.getpass("Password: ")
    service = ChatService(open_runtime(settings))
    user = service.authenticate(args.username, password)
    if user is None:
        print("Sign-in failed: wrong username or password.", file=sys.stderr)
        return 1
    interactive = sys.stdin.isatty()

    def show(replies: list) -> None:
        for reply in replies:
            print("\n" + _plain(reply.text))
            if reply.actions:
                print("  " + "  ".join(f"[{a.label}]" for a in reply.actions))
        if interactive:
            print("\n> ", end="", flush=True)

    show(service.open_chat(user_id=user.id))
    try:
        for line in lines:
            show(service.handle_message(user_id=user.id, text=line, turn_id=str(uuid.uuid4())))
    except KeyboardInterrupt:
        pass
    finally:
        service.forget_unconsented(user_id=user.id)
        service.runtime.close()
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
