"""Credential queries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import Credential, Party, PartyRole


def party_by_token_hash(session: Session, token_hash: bytes) -> Party | None:
    """The party holding a live credential with this token hash."""
    statement = (
        select(Party)
        .join(Credential, Credential.party_id == Party.id)
        .where(Credential.token_hash == token_hash, Credential.revoked_at.is_(None))
    )
    return session.scalars(statement).one_or_none()


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
