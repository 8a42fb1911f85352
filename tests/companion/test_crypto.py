from __future__ import annotations

import pytest

from companion.crypto import (
    CheckpointCipher,
    DecryptionError,
    KeyRing,
    PatientCrypto,
    UnencryptedCheckpointError,
    checkpoints_owned_by,
    encrypted_checkpoint_serializer,
)


def make_crypto(keyring: KeyRing | None = None) -> tuple[PatientCrypto, dict[str, tuple[str, bytes]]]:
    rows: dict[str, tuple[str, bytes]] = {}
    ring = keyring or KeyRing(keys={"k1": KeyRing.decode_key(KeyRing.generate_key_material())}, active_id="k1")
    crypto = PatientCrypto(
        keyring=ring, load_wrapped=rows.get, store_wrapped=lambda o, k, w: rows.__setitem__(o, (k, w))
    )
    return crypto, rows


def test_round_trip_and_ciphertext_hides_plaintext() -> None:
    crypto, rows = make_crypto()
    blob = crypto.encrypt("p1", "my secret marker ZX81", purpose="message")
    assert b"ZX81" not in blob
    assert crypto.decrypt_text("p1", blob, purpose="message") == "my secret marker ZX81"
    assert rows["p1"][0] == "k1", "the wrapped data key carries the id of the key that wrapped it"


def test_ciphertext_is_bound_to_owner_and_purpose() -> None:
    crypto, _ = make_crypto()
    blob = crypto.encrypt("p1", "hello", purpose="message")
    crypto.data_key("p2")
    with pytest.raises(DecryptionError):
        crypto.decrypt("p2", blob, purpose="message")
    with pytest.raises(DecryptionError):
        crypto.decrypt("p1", blob, purpose="answer")


def test_each_patient_gets_their_own_data_key() -> None:
    crypto, rows = make_crypto()
    assert crypto.data_key("a") != crypto.data_key("b")
    assert set(rows) == {"a", "b"}


def test_deleting_the_data_key_shreds_the_data() -> None:
    crypto, rows = make_crypto()
    blob = crypto.encrypt("p1", "gone", purpose="message")
    del rows["p1"]
    crypto.forget("p1")
    with pytest.raises(DecryptionError):
        crypto.decrypt("p1", blob, purpose="message")


def test_data_key_unwraps_after_a_new_active_key_is_added() -> None:
    old = KeyRing.decode_key(KeyRing.generate_key_material())
    crypto, rows = make_crypto(KeyRing(keys={"old": old}, active_id="old"))
    blob = crypto.encrypt("p1", "kept", purpose="message")
    new = KeyRing(keys={"old": old, "new": KeyRing.decode_key(KeyRing.generate_key_material())}, active_id="new")
    later = PatientCrypto(keyring=new, load_wrapped=rows.get, store_wrapped=lambda *a: None)
    assert later.decrypt_text("p1", blob, purpose="message") == "kept"


def test_missing_kek_is_named_in_the_error() -> None:
    crypto, rows = make_crypto()
    crypto.encrypt("p1", "x", purpose="message")
    other = KeyRing(keys={"k9": KeyRing.decode_key(KeyRing.generate_key_material())}, active_id="k9")
    stranger = PatientCrypto(keyring=other, load_wrapped=rows.get, store_wrapped=lambda *a: None)
    with pytest.raises(DecryptionError, match="k1"):
        stranger.data_key("p1")


def test_tampered_ciphertext_is_rejected() -> None:
    crypto, _ = make_crypto()
    blob = bytearray(crypto.encrypt("p1", "hello", purpose="message"))
    blob[-1] ^= 1
    with pytest.raises(DecryptionError):
        crypto.decrypt("p1", bytes(blob), purpose="message")


def test_keyring_rejects_short_keys_and_unknown_active_id() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        KeyRing(keys={"k": b"short"}, active_id="k")
    with pytest.raises(ValueError, match="not in the key ring"):
        KeyRing(keys={"k": b"x" * 32}, active_id="other")


def test_checkpoint_serializer_encrypts_with_the_owner_key_and_refuses_plain_rows() -> None:
    crypto, _ = make_crypto()
    serde = encrypted_checkpoint_serializer(crypto)
    with checkpoints_owned_by("p1"):
        typ, data = serde.dumps_typed({"recent": ["marker QQ17"]})
    assert CheckpointCipher.PREFIX in typ and b"QQ17" not in data
    assert serde.loads_typed((typ, data)) == {"recent": ["marker QQ17"]}
    with pytest.raises(UnencryptedCheckpointError):
        serde.loads_typed(("json", b'{"recent": ["plain"]}'))


def test_checkpoint_serializer_refuses_to_write_without_an_owner() -> None:
    crypto, _ = make_crypto()
    with pytest.raises(UnencryptedCheckpointError):
        encrypted_checkpoint_serializer(crypto).dumps_typed({"a": 1})
