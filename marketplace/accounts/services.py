"""Accounts rules: registration, tokens, profiles, organisations and who belongs to them."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace import pagination
from marketplace.accounts.models import (
    ApiToken,
    BrokerageCountry,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from marketplace.errors import Conflict, Forbidden, NotFound, Unauthorized
from marketplace.i18n import _

# Verified against when the email is unknown, so a miss costs as much time as a wrong password.
_DUMMY_PASSWORD = "not-a-real-password"  # noqa: S105


def make_password_hasher(memory_kib: int, time_cost: int) -> PasswordHasher:
    """Argon2id, memory-hard: the cost is set by configuration (lower only in tests)."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def register(
    session: Session,
    *,
    email: str,
    password: str,
    name: str,
    hasher: PasswordHasher,
    locale: str = "en",
    country: str | None = None,
    currency: str | None = None,
) -> User:
    key = normalize_email(email)
    if session.scalar(select(User.id).where(User.email_key == key)) is not None:
        raise _email_taken()
    user = User(
        email=email.strip(),
        email_key=key,
        password_hash=hasher.hash(password),
        name=name,
        locale=locale,
        country=country,
        currency=currency,
    )
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent registration of the same address won the race
        raise _email_taken() from exc
    return user


def _email_taken() -> Conflict:
    return Conflict(
        _("An account with this email address already exists."),
        code="email_taken",
        errors={"email": [_("An account with this email address already exists.")]},
    )


def issue_token(
    session: Session,
    *,
    email: str,
    password: str,
    hasher: PasswordHasher,
    ttl_seconds: int,
    now: dt.datetime,
) -> tuple[str, ApiToken]:
    """A new opaque token for valid credentials; the raw value is returned once and never stored."""
    user = session.scalar(select(User).where(User.email_key == normalize_email(email)))
    stored_hash = user.password_hash if user else hasher.hash(_DUMMY_PASSWORD)
    try:
        hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None:
        raise Unauthorized(_("The email or password is wrong."), code="invalid_credentials")
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return _new_token(session, user, ttl_seconds, now)


def _new_token(
    session: Session, user: User, ttl_seconds: int, now: dt.datetime
) -> tuple[str, ApiToken]:
    raw = secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        token_hash=hash_token(raw),
        expires_at=now + dt.timedelta(seconds=ttl_seconds),
    )
    session.add(token)
    session.flush()
    return raw, token


# Not an Argon2 hash: no password ever verifies against it.
NO_PASSWORD = "!"  # noqa: S105


def guest_buyer(
    session: Session, email: str, *, name: str, ttl_seconds: int, now: dt.datetime
) -> tuple[User, str]:
    """A buyer for one guest checkout and a token to read its order with.

    The guest is a user of its own that cannot log in (no password matches) and never takes over
    a registered account with the same email: the token reaches this guest's order only.
    """
    user = User(
        email=email,
        email_key=f"guest:{secrets.token_hex(16)}",
        password_hash=NO_PASSWORD,
        name=name,
    )
    session.add(user)
    session.flush()
    raw, _token = _new_token(session, user, ttl_seconds, now)
    return user, raw


def authenticate(session: Session, raw_token: str, now: dt.datetime) -> User | None:
    """The user a token belongs to, if it is known, unexpired and not revoked."""
    if len(raw_token) > 200:
        return None
    row = session.execute(
        select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(raw_token))
    ).first()
    if row is None:
        return None
    user, token = row
    if token.revoked_at is not None or token.expires_at <= now:
        return None
    return user


def revoke_token(session: Session, token_hash: str, now: dt.datetime) -> None:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))
    if token is not None and token.revoked_at is None:
        token.revoked_at = now
        session.flush()


def update_profile(session: Session, user: User, changes: Mapping[str, Any]) -> User:
    for field in ("name", "locale", "country", "currency"):
        if field in changes:
            setattr(user, field, changes[field])
    session.flush()
    return user


def memberships(session: Session, user: User) -> list[Membership]:
    return list(
        session.scalars(
            select(Membership).where(Membership.user_id == user.id).order_by(Membership.created_at)
        )
    )


def create_organisation(
    session: Session, owner: User, kind: OrganisationKind, data: Mapping[str, Any]
) -> Organisation:
    """A seller or brokerage, with its creator as owner."""
    countries = data.get("countries", ())
    fields = {key: value for key, value in data.items() if key != "countries"}
    organisation = Organisation(kind=kind, **fields)
    organisation.served_countries = [BrokerageCountry(country=c) for c in sorted(set(countries))]
    session.add(organisation)
    session.flush()
    session.add(
        Membership(organisation_id=organisation.id, user_id=owner.id, role=Role.OWNER.value)
    )
    session.flush()
    return organisation


def get_organisation(
    session: Session, organisation_id: str, kind: OrganisationKind
) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or organisation.kind != kind:
        raise NotFound()
    return organisation


def require_member(
    session: Session,
    user: User,
    organisation_id: str,
    kind: OrganisationKind,
    *,
    owner: bool = False,
) -> Organisation:
    """The organisation if the user belongs to it; to anyone else it does not exist (404).

    A member who is not an owner asking for an owner's action gets 403: they can see it exists.
    """
    membership = session.scalar(
        select(Membership)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(
            Membership.organisation_id == organisation_id,
            Membership.user_id == user.id,
            Organisation.kind == kind,
        )
    )
    if membership is None:
        raise NotFound()
    if owner and membership.role != Role.OWNER.value:
        raise Forbidden(_("Only an owner of this organisation may do this."), code="owner_required")
    return membership.organisation


def organisation_ids(session: Session, user_id: str, kind: OrganisationKind) -> list[str]:
    """Ids of the organisations of one kind that a user belongs to."""
    return list(
        session.scalars(
            select(Membership.organisation_id)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(Membership.user_id == user_id, Organisation.kind == kind)
        )
    )


def update_organisation(
    session: Session,
    user: User,
    organisation_id: str,
    kind: OrganisationKind,
    changes: Mapping[str, Any],
) -> Organisation:
    organisation = require_member(session, user, organisation_id, kind, owner=True)
    for field, value in changes.items():
        if field == "countries":
            organisation.served_countries = [
                BrokerageCountry(country=c) for c in sorted(set(value))
            ]
        else:
            setattr(organisation, field, value)
    session.flush()
    return organisation


def add_member(
    session: Session,
    user: User,
    organisation_id: str,
    kind: OrganisationKind,
    *,
    email: str,
    role: Role,
) -> Membership:
    organisation = require_member(session, user, organisation_id, kind, owner=True)
    invitee = session.scalar(select(User).where(User.email_key == normalize_email(email)))
    if invitee is None:
        message = _("No account uses this email address; ask them to register first.")
        raise NotFound(message, code="unknown_user", errors={"email": [message]})
    existing = session.scalar(
        select(Membership).where(
            Membership.organisation_id == organisation.id, Membership.user_id == invitee.id
        )
    )
    if existing is not None:
        raise Conflict(_("This person is already a member."), code="already_member")
    membership = Membership(organisation_id=organisation.id, user_id=invitee.id, role=role.value)
    session.add(membership)
    session.flush()
    return membership


def brokerages_serving(
    session: Session, country: str | None, *, limit: int, cursor: str | None
) -> tuple[list[Organisation], str | None]:
    """Brokerages by name (then id), optionally those serving `country`; keyset-paged."""
    query = select(Organisation).where(Organisation.kind == OrganisationKind.BROKERAGE)
    if country:
        query = query.join(BrokerageCountry).where(BrokerageCountry.country == country)
    if cursor is not None:
        name, row_id = pagination.decode(cursor, "brokerages", (str, str))
        if name is None or row_id is None:
            raise pagination.InvalidCursor()
        query = query.where(tuple_(Organisation.name, Organisation.id) > tuple_(name, row_id))
    rows = list(
        session.scalars(query.order_by(Organisation.name, Organisation.id).limit(limit + 1))
    )
    return pagination.page(
        rows, limit, lambda row: pagination.encode("brokerages", [row.name, row.id])
    )


class OperatorRequired(Forbidden):
    code = "operator_required"
    default_detail = _("Only an operator may do this.")


def require_operator(user: User) -> User:
    """The one operator check: whoever else asks gets 403 `operator_required`."""
    if not user.is_operator:
        raise OperatorRequired()
    return user


def grant_operator(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email_key == normalize_email(email)))
    if user is None:
        raise NotFound(_("No account uses this email address."), code="unknown_user")
    user.is_operator = True
    session.flush()
    return user
