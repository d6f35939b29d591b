"""Party queries."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api.models import Party, PartyRole


def get(session: Session, party_id: uuid.UUID) -> Party | None:
    """The party with this id."""
    return session.get(Party, party_id)


def conflicting(
    session: Session, role: PartyRole, tax_id: str | None, eth_address: str | None
) -> Party | None:
    """A party that already holds this address, or this role and tax id."""
    conditions = []
    if eth_address is not None:
        conditions.append(Party.eth_address == eth_address)
    if tax_id is not None:
        conditions.append((Party.role == role) & (Party.tax_id == tax_id))
    if not conditions:
        return None
    return session.scalars(select(Party).where(or_(*conditions)).limit(1)).first()


def ids_by_tax_id(
    session: Session, role: PartyRole, tax_ids: Iterable[str]
) -> dict[str, uuid.UUID]:
    """Tax id -> party id for the parties of ``role`` with one of ``tax_ids``."""
    wanted = sorted(set(tax_ids))
    found: dict[str, uuid.UUID] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.execute(
            select(Party.tax_id, Party.id).where(
                Party.role == role, Party.tax_id.in_(chunk)
            )
        )
        found.update({tax_id: party_id for tax_id, party_id in rows if tax_id})
    return found
