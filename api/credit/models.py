"""Tables of the credit package (on :class:`api.models.Base`).

``party_attributes`` holds what the credit engine needs to know about a party that
its documents do not say: its industry (plain text, for the seasonal baseline) and
identity attributes (bank account, address, director), each stored only as
HMAC-SHA256 under the registry's fingerprint key of its normalised value, so two
parties sharing an identifier can be found without keeping the identifier itself.
Rows are replaced as a whole (delete, then insert), never updated: the largest
``id`` then changes with every change, which the credit cache uses as a version.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base, BigId, UtcDateTime, utc_now


class PartyAttribute(Base):
    """One industry or identity attribute of a party."""

    __tablename__ = "party_attributes"
    __table_args__ = (Index("ix_party_attributes_kind_value_key", "kind", "value_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    party_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("parties.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    value: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
