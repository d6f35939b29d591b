"""Envelope encryption: per-document keys bound to the document id."""

from __future__ import annotations

import os
import uuid

import pytest

from api.crypto import DecryptionError, DocumentCipher


def test_contents_open_only_for_their_own_document_and_purpose() -> None:
    cipher = DocumentCipher(os.urandom(32))
    document_id = uuid.uuid4()
    data_key, wrapped = cipher.new_data_key(document_id)
    sealed = DocumentCipher.encrypt(data_key, document_id, "record", b"secret")

    opened = DocumentCipher.decrypt(
        cipher.unwrap(document_id, wrapped), document_id, "record", sealed
    )

    assert opened == b"secret"
    with pytest.raises(DecryptionError):
        cipher.unwrap(uuid.uuid4(), wrapped)
    with pytest.raises(DecryptionError):
        DocumentCipher.decrypt(data_key, document_id, "salts", sealed)


def test_flipped_byte_or_other_master_key_fails() -> None:
    cipher = DocumentCipher(os.urandom(32))
    document_id = uuid.uuid4()
    data_key, wrapped = cipher.new_data_key(document_id)
    sealed = bytearray(DocumentCipher.encrypt(data_key, document_id, "record", b"x"))
    sealed[-1] ^= 1

    with pytest.raises(DecryptionError):
        DocumentCipher.decrypt(data_key, document_id, "record", bytes(sealed))
    with pytest.raises(DecryptionError):
        DocumentCipher(os.urandom(32)).unwrap(document_id, wrapped)
