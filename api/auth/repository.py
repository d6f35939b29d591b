"""Credential queries."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from api.models import Credential, Party, PartyRole

_CALLER_BY_TOKEN_HASH = (
    select(Party.id, Party.role, Party.tax_id)
    .join(Credential, Credential.party_id == Party.id)
    .where(
        Credential.token_hash == bindparam("token_hash"),
        Credential.revoked_at.is_(None),
    )
)


def party_by_token_hash(session: Session, token_hash: bytes) -> Party | None:
    """The party holding a live credential with this token hash."""
    statement = (
        select(Party)
        .join(Credential, Credential.party_id == Party.id)
        .where(Credential.token_hash == token_hash, Credential.revoked_at.is_(None))
    )
    return session.scalars(statement).one_or_none()


def caller_columns_by_token_hash(
    session: Session, token_hash: bytes
) -> tuple[uuid.UUID, str, str | None] | None:
    """(id, role, tax id) of the party holding a live credential with this hash.

    The same rows as :func:`party_by_token_hash`, without building a ``Party``: this
    runs on every request.
    """
    row = session.execute(
        _CALLER_BY_TOKEN_HASH, {"token_hash": token_hash}
    ).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


def add_credential(session: Session, party: Party, token_hash: bytes) -> Credential:
    """Store a new credential for ``party``."""
    credential = Credential(party_id=party.id, token_hash=token_hash)
    session.add(credential)
    return credential


def credential_exists(session: Session, token_hash: bytes) -> bool:
    """Whether any credential (live or revoked) has this token hash."""
    statement = select(Credential.id).where(Credential.token_hash == token_hash)
    return session.scalars(statement).first() is not None


def first_operator(session: Session) -> Party | None:
    """The earliest registered operator, if any."""
    statement = (
        select(Party)
        .where(Party.role == PartyRole.OPERATOR)
        .order_by(Party.created_at)
        .limit(1)
    )
    return session.scalars(statement).first()
