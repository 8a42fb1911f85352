from __future__ import annotations

import stat

import pytest

from companion.crypto import KeyRing
from companion.keys import MissingKeyError, keys_dir, load_keyring, new_kek, session_secret
from companion.settings import Settings
from tests.conftest import make_settings


def test_first_run_creates_a_private_key_file(settings: Settings) -> None:
    ring = load_keyring(settings, create=True)
    files = list(keys_dir(settings).glob("kek-*.key"))
    assert len(files) == 1 and ring.active_id in files[0].name
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert load_keyring(settings).keys == ring.keys, "a second start reads the same key"


def test_missing_key_is_an_error_naming_the_fix(settings: Settings) -> None:
    with pytest.raises(MissingKeyError, match="COMPANION_KEK"):
        load_keyring(settings)


def test_new_kek_becomes_active_and_old_keys_stay_loaded(settings: Settings) -> None:
    first = load_keyring(settings, create=True).active_id
    second = new_kek(settings)
    ring = load_keyring(settings)
    assert ring.active_id == second and first in ring.keys


def test_key_from_environment_takes_precedence(tmp_path) -> None:
    material = KeyRing.generate_key_material()
    settings = make_settings(tmp_path, kek=material, kek_id="prod-1")
    ring = load_keyring(settings)
    assert ring.active_id == "prod-1" and ring.keys["prod-1"] == KeyRing.decode_key(material)
    assert not keys_dir(settings).exists(), "nothing is written when keys come from the environment"


def test_session_secret_is_created_once(settings: Settings) -> None:
    first = session_secret(settings)
    assert len(first) >= 32 and session_secret(settings) == first
