"""Key material: the key-encryption keys and the session-signing secret.

In development the keys live in `<data dir>/keys/` (created on first run, mode 0600). In
production they come from the environment (`COMPANION_KEK`, `COMPANION_KEK_ID`,
`COMPANION_SESSION_SECRET`), typically injected by a secrets manager.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

from companion.crypto import KeyRing
from companion.settings import Settings

__all__ = ["MissingKeyError", "keys_dir", "load_keyring", "new_kek", "session_secret"]

_KEY_FILE = re.compile(r"^kek-(?P<id>[A-Za-z0-9_-]{1,48})\.key$")


class MissingKeyError(RuntimeError):
    """No key-encryption key is available and creating one was not allowed."""


def keys_dir(settings: Settings) -> Path:
    return settings.resolved_data_dir / "keys"


def _write_secret(path: Path, value: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")


def new_kek(settings: Settings) -> str:
    """Create a new key-encryption key file, make it the active one, and return its id."""
    kid = datetime.now(UTC).strftime("%Y%m%d") + "-" + secrets.token_hex(4)
    directory = keys_dir(settings)
    _write_secret(directory / f"kek-{kid}.key", KeyRing.generate_key_material())
    active = directory / "active"
    tmp = directory / "active.tmp"
    tmp.write_text(kid + "\n", encoding="utf-8")
    tmp.replace(active)
    return kid


def load_keyring(settings: Settings, *, create: bool = False) -> KeyRing:
    """Load the key ring from the environment or the data directory.

    Args:
        settings: where to look.
        create: make a first key in the data directory when there is none (first run).

    Raises:
        MissingKeyError: there is no key and `create` is false.
    """
    if settings.kek is not None:
        key = KeyRing.decode_key(settings.kek.get_secret_value())
        keys = {settings.kek_id: key}
        return KeyRing(keys=keys | _file_keys(settings), active_id=settings.kek_id)
    keys = _file_keys(settings)
    active_file = keys_dir(settings) / "active"
    if not keys:
        if not create:
            raise MissingKeyError(
                f"no key-encryption key in {keys_dir(settings)} and COMPANION_KEK is not set; "
                "run `companion init` (or `make run`) to create one"
            )
        new_kek(settings)
        keys = _file_keys(settings)
    active = active_file.read_text(encoding="utf-8").strip() if active_file.exists() else max(keys)
    return KeyRing(keys=keys, active_id=active)


def _file_keys(settings: Settings) -> dict[str, bytes]:
    directory = keys_dir(settings)
    if not directory.is_dir():
        return {}
    found: dict[str, bytes] = {}
    for path in sorted(directory.iterdir()):
        match = _KEY_FILE.match(path.name)
        if match:
            found[match["id"]] = KeyRing.decode_key(path.read_text(encoding="utf-8"))
    return found


def session_secret(settings: Settings) -> str:
    """Return the secret that signs chat sessions, creating one in the data dir on first use."""
    if settings.session_secret is not None:
        return settings.session_secret.get_secret_value()
    path = keys_dir(settings) / "session.secret"
    if not path.exists():
        try:
            _write_secret(path, secrets.token_urlsafe(48))
        except FileExistsError:
            pass  # another process created it first; read theirs
    return path.read_text(encoding="utf-8").strip()
