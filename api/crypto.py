"""Envelope encryption of document contents at rest (AES-256-GCM).

Each document gets its own random 256-bit data key. The contents (the canonical
record) and the salts are each encrypted with that key under AES-GCM with a fresh
96-bit nonce; the data key is wrapped (AES-GCM again) with the master key. Every
ciphertext's associated data binds the document id and what the ciphertext is, so a
ciphertext moved to another document or another column fails to decrypt.

Layouts (version byte first, so keys and formats can rotate):
    wrapped key = 0x01 || nonce(12) || AES-GCM(master, data key, ad)   -> 61 bytes
    ciphertext  = 0x01 || nonce(12) || AES-GCM(data key, plaintext, ad)

Erasing a document deletes its wrapped key: without it the ciphertexts are noise,
while hashes and roots stay valid evidence.
"""

from __future__ import annotations

import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from registry.errors import ConfigurationError

FORMAT_VERSION = b"\x01"
NONCE_LENGTH = 12
KEY_LENGTH = 32
_KEY_TAG = b"receivables.datakey.v1:"
_CONTENT_TAG = b"receivables.content.v1:"


class DecryptionError(Exception):
    """A ciphertext or wrapped key does not open (wrong key, document or tampering)."""


class DocumentCipher:
    """Seals and opens document contents with per-document data keys."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != KEY_LENGTH:
            raise ConfigurationError(f"master key must be {KEY_LENGTH} bytes")
        self._master = AESGCM(master_key)

    def new_data_key(self, document_id: uuid.UUID) -> tuple[bytes, bytes]:
        """A fresh data key and its wrapped form for ``document_id``."""
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_LENGTH)
        wrapped = self._master.encrypt(nonce, data_key, _KEY_TAG + document_id.bytes)
        return data_key, FORMAT_VERSION + nonce + wrapped

    def unwrap(self, document_id: uuid.UUID, wrapped_key: bytes) -> bytes:
        """The data key inside ``wrapped_key``.

        Raises:
            DecryptionError: another document's key, another master key, or tampering.
        """
        _, nonce, body = _split(wrapped_key)
        try:
            return self._master.decrypt(nonce, body, _KEY_TAG + document_id.bytes)
        except InvalidTag as err:
            raise DecryptionError("wrapped data key does not open") from err

    @staticmethod
    def encrypt(
        data_key: bytes, document_id: uuid.UUID, purpose: str, plaintext: bytes
    ) -> bytes:
        """Encrypt ``plaintext`` for one column (``purpose``) of one document."""
        nonce = os.urandom(NONCE_LENGTH)
        associated = _CONTENT_TAG + purpose.encode() + b":" + document_id.bytes
        return (
            FORMAT_VERSION
            + nonce
            + AESGCM(data_key).encrypt(nonce, plaintext, associated)
        )

    @staticmethod
    def decrypt(
        data_key: bytes, document_id: uuid.UUID, purpose: str, ciphertext: bytes
    ) -> bytes:
        """Decrypt what :meth:`encrypt` produced.

        Raises:
            DecryptionError: wrong key, document or purpose, or tampering.
        """
        _, nonce, body = _split(ciphertext)
        associated = _CONTENT_TAG + purpose.encode() + b":" + document_id.bytes
        try:
            return AESGCM(data_key).decrypt(nonce, body, associated)
        except InvalidTag as err:
            raise DecryptionError(f"{purpose} does not decrypt") from err


def _split(blob: bytes) -> tuple[bytes, bytes, bytes]:
    if len(blob) < 1 + NONCE_LENGTH + 16 or blob[:1] != FORMAT_VERSION:
        raise DecryptionError("unknown ciphertext format")
    return blob[:1], blob[1 : 1 + NONCE_LENGTH], blob[1 + NONCE_LENGTH :]
