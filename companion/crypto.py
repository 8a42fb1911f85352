"""AES-GCM envelope encryption: a data key per patient, wrapped by a key-encryption key with an id.

Ciphertext layout (all binary): ``b"c1" | kek-independent nonce (12) | AES-GCM(ct+tag)``. The
associated data binds each ciphertext to its owner and purpose, so a row copied to another
patient or column fails to decrypt. Deleting an owner's `DataKey` row makes all of their
ciphertext unreadable (crypto-shredding). The checkpoint cipher plugs the same keys into
LangGraph's `EncryptedSerializer` and refuses to read rows that were not encrypted.
"""

from __future__ import annotations

import base64
import contextvars
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

__all__ = [
    "CheckpointCipher",
    "DecryptionError",
    "KeyRing",
    "PatientCrypto",
    "UnencryptedCheckpointError",
    "checkpoint_owner",
    "encrypted_checkpoint_serializer",
]

MAGIC = b"c1"
NONCE_BYTES = 12


class DecryptionError(ValueError):
    """Ciphertext could not be authenticated with the key it names."""


class UnencryptedCheckpointError(ValueError):
    """A checkpoint row was stored without encryption; refusing to read it."""


@dataclass(frozen=True)
class KeyRing:
    """Key-encryption keys by id; `active_id` wraps new data keys."""

    keys: dict[str, bytes]
    active_id: str

    def __post_init__(self) -> None:
        if self.active_id not in self.keys:
            raise ValueError(f"active key id {self.active_id!r} is not in the key ring")
        for kid, key in self.keys.items():
            if len(key) != 32:
                raise ValueError(f"key-encryption key {kid!r} must be 32 bytes, got {len(key)}")

    @staticmethod
    def decode_key(material: str) -> bytes:
        """Decode base64 key material as written by `generate_key_material`."""
        return base64.urlsafe_b64decode(material.strip().encode())

    @staticmethod
    def generate_key_material() -> str:
        return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()

    def wrap(self, data_key: bytes, *, owner_id: str) -> tuple[str, bytes]:
        """Encrypt a data key with the active KEK; return (kek id, wrapped bytes)."""
        return self.active_id, _seal(self.keys[self.active_id], data_key, _aad("dek", owner_id))

    def unwrap(self, kek_id: str, wrapped: bytes, *, owner_id: str) -> bytes:
        if kek_id not in self.keys:
            raise DecryptionError(
                f"data key of owner is wrapped by key id {kek_id!r}, which is not loaded; "
                "add it to the data directory keys/ or COMPANION_KEK"
            )
        return _open(self.keys[kek_id], wrapped, _aad("dek", owner_id))


def _aad(purpose: str, owner_id: str) -> bytes:
    return f"companion|{purpose}|{owner_id}".encode()


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + NONCE_BYTES + 16:
        raise DecryptionError("not a companion ciphertext")
    nonce = blob[len(MAGIC) : len(MAGIC) + NONCE_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, blob[len(MAGIC) + NONCE_BYTES :], aad)
    except Exception as exc:  # cryptography raises InvalidTag
        raise DecryptionError("ciphertext failed authentication") from exc


@dataclass
class PatientCrypto:
    """Encrypt and decrypt per owner with cached data keys.

    `load_wrapped(owner_id)` returns (kek id, wrapped key) or None; `store_wrapped(owner_id,
    kek_id, wrapped)` persists a new one. Both are supplied by the database layer.
    """

    keyring: KeyRing
    load_wrapped: Callable[[str], tuple[str, bytes] | None]
    store_wrapped: Callable[[str, str, bytes], None]
    _cache: dict[str, bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def data_key(self, owner_id: str, *, create: bool = True) -> bytes:
        with self._lock:
            if owner_id in self._cache:
                return self._cache[owner_id]
            found = self.load_wrapped(owner_id)
            if found is not None:
                key = self.keyring.unwrap(found[0], found[1], owner_id=owner_id)
            elif create:
                key = AESGCM.generate_key(bit_length=256)
                kek_id, wrapped = self.keyring.wrap(key, owner_id=owner_id)
                self.store_wrapped(owner_id, kek_id, wrapped)
            else:
                raise DecryptionError("no data key for this owner (erased or never created)")
            self._cache[owner_id] = key
            return key

    def forget(self, owner_id: str) -> None:
        with self._lock:
            self._cache.pop(owner_id, None)

    def encrypt(self, owner_id: str, plaintext: str | bytes, *, purpose: str) -> bytes:
        data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
        return _seal(self.data_key(owner_id), data, _aad(purpose, owner_id))

    def decrypt(self, owner_id: str, blob: bytes, *, purpose: str) -> bytes:
        return _open(self.data_key(owner_id, create=False), blob, _aad(purpose, owner_id))

    def decrypt_text(self, owner_id: str, blob: bytes, *, purpose: str) -> str:
        return self.decrypt(owner_id, blob, purpose=purpose).decode("utf-8")


#: The owner whose data key encrypts checkpoints written in this context (set per turn).
checkpoint_owner: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "checkpoint_owner", default=None
)


@contextmanager
def checkpoints_owned_by(owner_id: str) -> Iterator[None]:
    token = checkpoint_owner.set(owner_id)
    try:
        yield
    finally:
        checkpoint_owner.reset(token)


class CheckpointCipher:
    """LangGraph `CipherProtocol` on AES-GCM; the cipher name carries the owner whose key was used."""

    PREFIX = "aesgcm-c1:"

    def __init__(self, crypto: PatientCrypto) -> None:
        self._crypto = crypto

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        owner = checkpoint_owner.get()
        if not owner:
            raise UnencryptedCheckpointError(
                "no checkpoint owner is set; run the graph inside checkpoints_owned_by(patient_id)"
            )
        return self.PREFIX + owner, self._crypto.encrypt(owner, plaintext, purpose="checkpoint")

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        if not ciphername.startswith(self.PREFIX):
            raise UnencryptedCheckpointError(f"unknown checkpoint cipher {ciphername!r}")
        owner = ciphername[len(self.PREFIX) :]
        return self._crypto.decrypt(owner, ciphertext, purpose="checkpoint")


class _StrictEncryptedSerializer(EncryptedSerializer):
    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        if "+" not in data[0]:
            raise UnencryptedCheckpointError(
                "a checkpoint row is not encrypted; refusing to read it (was it written by "
                "another tool?)"
            )
        return super().loads_typed(data)


def encrypted_checkpoint_serializer(
    crypto: PatientCrypto, *, allowed_types: Sequence[tuple[str, str]] = ()
) -> EncryptedSerializer:
    """Build the serializer every checkpointer of this app must use.

    Args:
        crypto: the per-patient keys.
        allowed_types: (module, class) pairs the state holds besides plain JSON values.
    """
    serde = JsonPlusSerializer(allowed_msgpack_modules=list(allowed_types))
    return _StrictEncryptedSerializer(CheckpointCipher(crypto), serde)
