"""Webhook signing secrets: generation, encryption at rest, signatures.

A secret is ``whsec_`` + 43 characters of URL-safe base64 (32 random bytes). The
HMAC key is the secret's ASCII text as a whole, prefix included. A delivery carries

    Receivables-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>

where ``body`` is the exact request body. The server needs the plain secret to sign,
so it is stored encrypted (AES-GCM via :class:`api.crypto.DocumentCipher`) under a
key derived from the master key and bound to the subscription id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid

from api.crypto import DocumentCipher

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
SIGNATURE_HEADER = "Receivables-Signature"
EVENT_ID_HEADER = "Receivables-Event-Id"
_KEY_TAG = b"receivables.webhook-secret.v1"
_PURPOSE = "webhook-secret"


def new_secret() -> str:
    """A fresh signing secret (shown to its owner once)."""
    raw = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return SECRET_PREFIX + raw.rstrip("=")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` under ``secret``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the ``Receivables-Signature`` header."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300
) -> bool:
    """What a receiver does: check the header against the body and the clock.

    True when some ``v1`` value matches and ``t`` is within ``tolerance`` seconds
    of ``now`` (refusing old signatures limits replays).
    """
    fields = [part.partition("=") for part in header.split(",")]
    timestamps = [value for key, _, value in fields if key.strip() == "t"]
    candidates = [value.strip() for key, _, value in fields if key.strip() == "v1"]
    if len(timestamps) != 1 or not timestamps[0].strip().isdigit():
        return False
    timestamp = int(timestamps[0])
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, value) for value in candidates)


class SecretCipher:
    """Encrypts signing secrets under a key derived from the master key."""

    def __init__(self, master_key: bytes) -> None:
        self._key = hmac.new(master_key, _KEY_TAG, hashlib.sha256).digest()

    def seal(self, subscription_id: uuid.UUID, secret: str) -> bytes:
        return DocumentCipher.encrypt(
            self._key, subscription_id, _PURPOSE, secret.encode()
        )

    def open(self, subscription_id: uuid.UUID, blob: bytes) -> str:
        plain = DocumentCipher.decrypt(self._key, subscription_id, _PURPOSE, blob)
        return plain.decode()
