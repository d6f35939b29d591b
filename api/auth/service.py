"""Issuing and checking API tokens, and the bootstrap operator.

A token is 32 random bytes, URL-safe base64 with an ``rr_`` prefix; it is shown once.
Only HMAC-SHA256(CREDENTIAL_TAG, token) is stored: the token carries 256 bits of
entropy, so a leaked hash cannot be brute-forced back into a token, and no slow hash
(scrypt) is needed. Lookup is by the hash itself, so comparison time never depends
on how much of a guess was right.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from api.auth import repository
from api.models import Party, PartyRole

logger = logging.getLogger(__name__)

CREDENTIAL_TAG = b"receivables.credential.v1"
TOKEN_PREFIX = "rr_"  # noqa: S105 - a prefix, not a secret


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated party making a request (a detached snapshot)."""

    id: uuid.UUID
    role: PartyRole
    tax_id: str | None

    @classmethod
    def of(cls, party: Party) -> Caller:
        return cls(party.id, PartyRole(party.role), party.tax_id)


def new_token() -> str:
    """A fresh bearer token (shown to its holder once, never stored)."""
    return TOKEN_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def hash_token(token: str) -> bytes:
    """The stored form of a token."""
    return hmac.new(CREDENTIAL_TAG, token.encode(), hashlib.sha256).digest()


def issue_credential(session: Session, party: Party, token: str | None = None) -> str:
    """Create a credential for ``party`` and return its token (the only copy)."""
    token = token or new_token()
    repository.add_credential(session, party, hash_token(token))
    return token


def authenticate(session: Session, token: str) -> Caller | None:
    """The caller a token belongs to, or None for an unknown or revoked token."""
    found = repository.caller_columns_by_token_hash(session, hash_token(token))
    if found is None:
        return None
    party_id, role, tax_id = found
    return Caller(party_id, PartyRole(role), tax_id)


def bootstrap_operator(session: Session, token: str) -> Party:
    """Make sure an operator exists and ``token`` is one of its credentials."""
    operator = repository.first_operator(session)
    if operator is None:
        operator = Party(role=PartyRole.OPERATOR, name="operator")
        session.add(operator)
        session.flush()
        logger.info("party.operator_created party_id=%s", operator.id)
    if not repository.credential_exists(session, hash_token(token)):
        issue_credential(session, operator, token)
        logger.info("auth.operator_credential_added party_id=%s", operator.id)
    return operator
