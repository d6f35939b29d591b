"""Webhook signatures: the documented scheme, golden vector, tampering, secrets."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime

import pytest

from api.crypto import DecryptionError
from api.notifications.models import EventType
from api.notifications.schemas import EventOut
from api.notifications.signing import (
    SecretCipher,
    new_secret,
    signature_header,
    verify_signature,
)

# The worked example of docs/notifications.md, byte for byte.
DOC_SECRET = "whsec_ZXhhbXBsZS1zZWNyZXQtZm9yLXRoZS1kb2NzLW9ubHk"
DOC_TIMESTAMP = 1796310245
DOC_BODY = (
    b'{"id":"0f8e4c2a-5b7d-4e39-9a61-2c3d4e5f6a7b","type":"document.status_changed",'
    b'"occurred_at":"2026-12-03T15:04:05.123456Z",'
    b'"document_id":"7d9f3b1e-2a4c-4f6e-8b0d-1c2e3f4a5b6c",'
    b'"from_status":"registered","to_status":"cancelled","reason":"withdrawn"}'
)
DOC_SIGNATURE = "09a7d2082cbb35e5995fea74bf27451a281748a60b2c175560482edeab3bbc0c"


def test_documented_example_matches_the_signer_and_a_plain_hmac() -> None:
    expected = f"t={DOC_TIMESTAMP},v1={DOC_SIGNATURE}"
    plain = hmac.new(
        DOC_SECRET.encode(), f"{DOC_TIMESTAMP}.".encode() + DOC_BODY, hashlib.sha256
    ).hexdigest()

    assert signature_header(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY) == expected
    assert plain == DOC_SIGNATURE


def test_documented_body_is_what_the_service_serialises() -> None:
    event = EventOut(
        id=uuid.UUID("0f8e4c2a-5b7d-4e39-9a61-2c3d4e5f6a7b"),
        type=EventType.DOCUMENT_STATUS_CHANGED,
        occurred_at=datetime(2026, 12, 3, 15, 4, 5, 123456, tzinfo=UTC),
        document_id=uuid.UUID("7d9f3b1e-2a4c-4f6e-8b0d-1c2e3f4a5b6c"),
        from_status="registered",
        to_status="cancelled",
        reason="withdrawn",
    )

    assert event.model_dump_json().encode() == DOC_BODY


def test_signature_verifies_and_fails_after_a_one_byte_change() -> None:
    header = signature_header(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY)

    assert verify_signature(DOC_SECRET, header, DOC_BODY, now=DOC_TIMESTAMP)
    for index in (0, len(DOC_BODY) // 2, len(DOC_BODY) - 1):
        tampered = bytearray(DOC_BODY)
        tampered[index] ^= 0x01
        assert not verify_signature(
            DOC_SECRET, header, bytes(tampered), now=DOC_TIMESTAMP
        )
    flipped = header[:-1] + ("0" if header[-1] != "0" else "1")
    assert not verify_signature(DOC_SECRET, flipped, DOC_BODY, now=DOC_TIMESTAMP)
    assert not verify_signature(DOC_SECRET + "x", header, DOC_BODY, now=DOC_TIMESTAMP)


def test_old_or_malformed_signatures_are_refused() -> None:
    header = signature_header(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY)

    assert not verify_signature(DOC_SECRET, header, DOC_BODY, now=DOC_TIMESTAMP + 301)
    for bad in ("", "v1=abc", f"t=x,v1={DOC_SIGNATURE}", f"t=1,t=2,v1={DOC_SIGNATURE}"):
        assert not verify_signature(DOC_SECRET, bad, DOC_BODY, now=DOC_TIMESTAMP)


def test_secrets_are_random_and_sealed_per_subscription() -> None:
    cipher = SecretCipher(b"\x01" * 32)
    secret, subscription_id = new_secret(), uuid.uuid4()

    sealed = cipher.seal(subscription_id, secret)

    assert secret.startswith("whsec_")
    assert len(secret) == 49
    assert secret != new_secret()
    assert secret.encode() not in sealed
    assert cipher.open(subscription_id, sealed) == secret
    with pytest.raises(DecryptionError):  # bound to its subscription
        cipher.open(uuid.uuid4(), sealed)
