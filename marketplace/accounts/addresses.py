"""A buyer's address book: a bounded list of addresses only its owner sees."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import SavedAddress, User
from marketplace.errors import Conflict, NotFound
from marketplace.i18n import _

MAX_ADDRESSES = 50
FIELDS = ("name", "line1", "line2", "city", "region", "postal_code", "country", "phone", "email")


def list_addresses(session: Session, user: User) -> list[SavedAddress]:
    return list(
        session.scalars(
            select(SavedAddress)
            .where(SavedAddress.user_id == user.id)
            .order_by(SavedAddress.created_at, SavedAddress.id)
        )
    )


def add_address(session: Session, user: User, values: Mapping[str, Any]) -> SavedAddress:
    """Keep one more address; the book holds at most MAX_ADDRESSES (409 beyond)."""
    count = session.scalar(
        select(func.count()).select_from(SavedAddress).where(SavedAddress.user_id == user.id)
    )
    if (count or 0) >= MAX_ADDRESSES:
        raise Conflict(
            _("The address book is full (%(limit)s addresses).", limit=MAX_ADDRESSES),
            code="address_book_full",
        )
    address = SavedAddress(user_id=user.id, **{key: values.get(key) for key in FIELDS})
    session.add(address)
    session.flush()
    return address


def get_address(session: Session, user: User, address_id: str) -> SavedAddress:
    """The caller's own address; anyone else's does not exist for them (404)."""
    address = session.get(SavedAddress, address_id)
    if address is None or address.user_id != user.id:
        raise NotFound()
    return address


def update_address(
    session: Session, user: User, address_id: str, changes: Mapping[str, Any]
) -> SavedAddress:
    """Change the given fields; an optional field given as null is cleared."""
    address = get_address(session, user, address_id)
    for key in FIELDS:
        if key in changes:
            setattr(address, key, changes[key])
    session.flush()
    return address


def delete_address(session: Session, user: User, address_id: str) -> None:
    session.delete(get_address(session, user, address_id))
    session.flush()
