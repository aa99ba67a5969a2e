"""Accounts rules: registration, tokens, profiles, organisations and who belongs to them."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, bindparam, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager
from sqlalchemy.orm.attributes import set_committed_value
from zxcvbn import zxcvbn

from marketplace import pagination
from marketplace.accounts.models import (
    ApiToken,
    BrokerageCountry,
    Invitation,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from marketplace.db import new_id, utcnow
from marketplace.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from marketplace.i18n import _

log = logging.getLogger("marketplace.accounts")

# Verified against when the email is unknown, so a miss costs as much time as a wrong password.
_DUMMY_PASSWORD = "not-a-real-password"  # noqa: S105


def make_password_hasher(memory_kib: int, time_cost: int) -> PasswordHasher:
    """Argon2id, memory-hard: the cost is set by configuration (lower only in tests)."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


# zxcvbn's score: 3 is "safely unguessable: moderate protection from offline slow-hash attacks".
MIN_PASSWORD_SCORE = 3
# zxcvbn measures at most this many characters (its own bound against slow matching).
_PASSWORD_MEASURED = 72

EmailTakenHook = Callable[[Session, User], None]


def log_email_taken(_session: Session, existing: User) -> None:
    """The default hook: no email can be sent yet, so the attempt is only logged."""
    log.info("registration tried for an existing account", extra={"user_id": existing.id})


def check_password(password: str, *, email: str, name: str) -> None:
    """Refuse passwords a guesser tries first: common ones, keyboard walks, repeats, the user's own name."""
    result = zxcvbn(password[:_PASSWORD_MEASURED], user_inputs=[email, name, *email.split("@")])
    if result["score"] < MIN_PASSWORD_SCORE:
        message = _("This password is too easy to guess: use a longer phrase of uncommon words.")
        raise Invalid(message, code="password_weak", errors={"password": [message]})


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
    on_email_taken: EmailTakenHook = log_email_taken,
) -> User:
    """A new account; for an address already registered, an unsaved look-alike.

    Answering a taken address differently would tell anyone who has an account here (login is
    careful not to). So the caller gets the same answer, at the same cost (the password is hashed
    either way), nothing is stored, and `on_email_taken` tells the account's owner.
    """
    check_password(password, email=email, name=name)
    key = normalize_email(email)
    user = User(
        id=new_id(),
        email=email.strip(),
        email_key=key,
        password_hash=hasher.hash(password),
        name=name,
        locale=locale,
        country=country,
        currency=currency,
        is_operator=False,
        created_at=utcnow(),
    )
    existing = session.scalar(select(User).where(User.email_key == key))
    if existing is None:
        session.add(user)
        try:
            with session.begin_nested():
                session.flush()
            return user
        except IntegrityError:  # a concurrent registration of the same address won the race
            if user in session:
                session.expunge(user)
            existing = session.scalar(select(User).where(User.email_key == key))
    if existing is not None:
        on_email_taken(session, existing)
    return user


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


def guest_buyer(session: Session, email: str, *, name: str) -> User:
    """A buyer for one guest checkout: a user of its own that cannot log in (no password
    matches) and never takes over a registered account with the same email."""
    user = User(
        email=email,
        email_key=f"guest:{secrets.token_hex(16)}",
        password_hash=NO_PASSWORD,
        name=name,
    )
    session.add(user)
    session.flush()
    return user


def order_token(
    session: Session, user: User, order_id: str, *, ttl_seconds: int, now: dt.datetime
) -> str:
    """A token that reads one order of `user` only (expiring and revocable like any token)."""
    raw, token = _new_token(session, user, ttl_seconds, now)
    token.order_id = order_id
    return raw


@dataclass(frozen=True)
class Bearer:
    """Who a token speaks for, and the one order it is limited to (None: all the user may do)."""

    user: User
    order_id: str | None = None


@functools.cache
def _bearer_statement() -> Select[User, str | None]:
    """Built once: every authenticated request runs it (the user, and the token's order)."""
    return (
        select(User, ApiToken.order_id)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == bindparam("token_hash"),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > bindparam("now"),
        )
    )


def authenticate(session: Session, raw_token: str, now: dt.datetime) -> Bearer | None:
    """The user a token belongs to, if it is known, unexpired and not revoked."""
    if len(raw_token) > 200:
        return None
    row = session.execute(
        _bearer_statement(), {"token_hash": hash_token(raw_token), "now": now}
    ).first()
    if row is None:
        return None
    user, order_id = row
    return Bearer(user, order_id)


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


def with_memberships(session: Session, user: User) -> User:
    """The user with `memberships` loaded (oldest first), in one query, for their profile."""
    rows = session.scalars(
        select(Membership).where(Membership.user_id == user.id).order_by(Membership.created_at)
    )
    set_committed_value(user, "memberships", list(rows))
    return user


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
    session.add(Membership(organisation_id=organisation.id, user_id=owner.id, role=Role.OWNER))
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
    if owner and membership.role != Role.OWNER:
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


InvitedHook = Callable[[Session, Invitation], None]


def log_invited(_session: Session, invitation: Invitation) -> None:
    """The default hook: no email can be sent yet, so the invitation waits in GET /me/invitations."""
    log.info("invitation created", extra={"invitation_id": invitation.id})


@dataclass(frozen=True)
class AccountNotices:
    """What accounts tells people out of band; create_app wires it (email, once it is sent)."""

    email_taken: EmailTakenHook = log_email_taken
    invited: InvitedHook = log_invited


def members_of(
    session: Session, user: User, organisation_id: str, kind: OrganisationKind
) -> list[Membership]:
    """An organisation's members with their accounts (`user`), for its own members only."""
    organisation = require_member(session, user, organisation_id, kind)
    return list(
        session.scalars(
            select(Membership)
            .join(Membership.user)
            .options(contains_eager(Membership.user))
            .where(Membership.organisation_id == organisation.id)
            .order_by(Membership.created_at, Membership.id)
        )
    )


def invite_member(
    session: Session,
    user: User,
    organisation_id: str,
    kind: OrganisationKind,
    *,
    email: str,
    role: Role,
    on_invited: InvitedHook = log_invited,
) -> Invitation:
    """Invite an address (owners only); the same answer whether or not it has an account.

    Inviting the same address again changes the role of its pending invitation.
    """
    organisation = require_member(session, user, organisation_id, kind, owner=True)
    key = normalize_email(email)
    invitation = session.scalar(
        select(Invitation).where(
            Invitation.organisation_id == organisation.id, Invitation.email_key == key
        )
    )
    if invitation is None:
        invitation = Invitation(
            organisation_id=organisation.id,
            email=email.strip(),
            email_key=key,
            role=role,
            invited_by=user.id,
        )
        session.add(invitation)
    else:
        invitation.role = role
        invitation.invited_by = user.id
    session.flush()
    on_invited(session, invitation)
    return invitation


def invitations_for(session: Session, user: User) -> list[Invitation]:
    """The invitations waiting for the caller's email address, newest first."""
    return list(
        session.scalars(
            select(Invitation)
            .where(Invitation.email_key == user.email_key)
            .order_by(Invitation.created_at.desc(), Invitation.id)
            .limit(100)
        )
    )


def _invitation_for(session: Session, user: User, invitation_id: str) -> Invitation:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.email_key != user.email_key:
        raise NotFound()
    return invitation


def accept_invitation(session: Session, user: User, invitation_id: str) -> Membership:
    """The invited user joins; an invitation to an organisation they belong to changes their role."""
    invitation = _invitation_for(session, user, invitation_id)
    membership = session.scalar(
        select(Membership).where(
            Membership.organisation_id == invitation.organisation_id,
            Membership.user_id == user.id,
        )
    )
    if membership is None:
        membership = Membership(
            organisation_id=invitation.organisation_id, user_id=user.id, role=invitation.role
        )
        session.add(membership)
    else:
        membership.role = invitation.role
    session.delete(invitation)
    session.flush()
    return membership


def decline_invitation(session: Session, user: User, invitation_id: str) -> None:
    session.delete(_invitation_for(session, user, invitation_id))
    session.flush()


def remove_member(
    session: Session, user: User, organisation_id: str, kind: OrganisationKind, member_id: str
) -> None:
    """An owner removes a member (themselves included), but never the last owner."""
    organisation = require_member(session, user, organisation_id, kind, owner=True)
    members = list(
        session.scalars(
            select(Membership)
            .where(Membership.organisation_id == organisation.id)
            .with_for_update(of=Membership)
        )
    )
    target = next((m for m in members if m.user_id == member_id), None)
    if target is None:
        raise NotFound()
    owners = [m for m in members if m.role == Role.OWNER]
    if target.role == Role.OWNER and len(owners) == 1:
        raise Conflict(
            _("An organisation keeps at least one owner: make someone else owner first."),
            code="last_owner",
        )
    session.delete(target)
    session.flush()


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
