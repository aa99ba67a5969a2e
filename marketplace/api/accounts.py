"""Accounts and organisations: registration, tokens, profile, sellers, brokerages."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from marketplace.accounts import services
from marketplace.accounts.models import (
    Invitation,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from marketplace.api import context
from marketplace.api.openapi import raises
from marketplace.api.ratelimit import (
    address_and_email,
    failed_login,
    limiter,
    register_rate,
    token_rate,
)
from marketplace.api.schemas import (
    AddressSchema,
    Country,
    CurrencyCode,
    LocaleTag,
    PageArgsSchema,
    StrictSchema,
    choices,
    page_schema,
    text,
)
from marketplace.db import utcnow
from marketplace.errors import Conflict, Forbidden, Invalid, Unauthorized
from marketplace.i18n import N_

blp = Blueprint("accounts", __name__, description="Accounts, sellers and brokerages")

PASSWORD = fields.String(
    required=True,
    load_only=True,
    validate=validate.Length(min=10, max=128),
    metadata={"description": "10 to 128 characters"},
)
EMAIL = fields.Email(required=True, validate=validate.Length(max=254))


def eori_field() -> fields.String:
    """An EU/UK Economic Operators Registration and Identification number: country + up to 15."""
    return fields.String(
        allow_none=True,
        validate=validate.Regexp(
            r"^[A-Z]{2}[A-Za-z0-9]{1,15}$", error=N_("Not a valid EORI number.")
        ),
    )


class RegisterSchema(StrictSchema):
    email = EMAIL
    password = PASSWORD
    name = text(200)
    locale = LocaleTag(load_default="en")
    country = Country(load_default=None, allow_none=True)
    currency = CurrencyCode(load_default=None, allow_none=True)


ROLE_OUTPUT = fields.String(required=True, validate=validate.OneOf(choices(Role)))


def kind_output() -> fields.String:
    """An organisation's kind, read from the membership's or invitation's organisation."""
    return fields.String(
        required=True,
        attribute="organisation.kind",
        validate=validate.OneOf(choices(OrganisationKind)),
    )


class MembershipSchema(StrictSchema):
    organisation_id = fields.String(required=True)
    kind = kind_output()
    role = ROLE_OUTPUT
    name = fields.String(required=True, attribute="organisation.name")


class UserSchema(StrictSchema):
    id = fields.String(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    locale = fields.String(required=True)
    country = fields.String(allow_none=True)
    currency = fields.String(allow_none=True)
    is_operator = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class ProfilePatchSchema(StrictSchema):
    name = text(200, required=False)
    locale = LocaleTag()
    country = Country(allow_none=True)
    currency = CurrencyCode(allow_none=True)


class CredentialsSchema(StrictSchema):
    email = EMAIL
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=128)
    )


class TokenSchema(StrictSchema):
    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


class SellerCreateSchema(StrictSchema):
    name = text(200)
    country = Country(required=True)
    address = fields.Nested(AddressSchema, required=True)
    currency = CurrencyCode(required=True)
    locale = LocaleTag(required=True)
    tax_id = text(64, required=False, allow_none=True)
    eori = eori_field()


class SellerPatchSchema(StrictSchema):
    """Any subset of the creation fields; a new address replaces the old one whole."""

    name = text(200, required=False)
    country = Country()
    address = fields.Nested(AddressSchema)
    currency = CurrencyCode()
    locale = LocaleTag()
    tax_id = text(64, required=False, allow_none=True)
    eori = eori_field()


class SellerPublicSchema(StrictSchema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    country = fields.String(required=True)
    currency = fields.String(required=True)
    locale = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class SellerPrivateSchema(SellerPublicSchema):
    address = fields.Nested(AddressSchema, required=True)
    tax_id = fields.String(allow_none=True)
    eori = fields.String(allow_none=True)


class MemberAddSchema(StrictSchema):
    email = EMAIL
    role = fields.String(required=True, validate=validate.OneOf(choices(Role)))


class MemberSchema(StrictSchema):
    organisation_id = fields.String(required=True)
    user_id = fields.String(required=True)
    role = ROLE_OUTPUT


class MemberListItemSchema(MemberSchema):
    name = fields.String(required=True, attribute="user.name")
    email = fields.String(required=True, attribute="user.email")


class InvitationSchema(StrictSchema):
    """A pending invitation; `POST /invitations/{id}/accept` by the invited user makes it a membership."""

    id = fields.String(required=True)
    organisation_id = fields.String(required=True)
    organisation_name = fields.String(required=True, attribute="organisation.name")
    kind = kind_output()
    email = fields.String(required=True)
    role = ROLE_OUTPUT
    created_at = fields.DateTime(required=True)


class BrokerageCreateSchema(StrictSchema):
    name = text(200)
    countries = fields.List(Country(), required=True, validate=validate.Length(min=1, max=60))
    address = fields.Nested(AddressSchema, required=True)
    licence_number = text(64, required=False, allow_none=True)


class BrokerageSchema(StrictSchema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    country = fields.String(required=True)
    countries = fields.List(fields.String(), required=True)
    address = fields.Nested(AddressSchema, required=True)
    licence_number = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


class BrokerageQuerySchema(PageArgsSchema):
    country = Country(load_default=None)


BrokeragePageSchema = page_schema(BrokerageSchema, "BrokeragePage")


def _hasher() -> Any:
    settings = context.settings()
    return services.make_password_hasher(
        settings["PASSWORD_HASH_MEMORY_KIB"], settings["PASSWORD_HASH_TIME_COST"]
    )


class MeResponseSchema(UserSchema):
    memberships = fields.List(fields.Nested(MembershipSchema), required=True)


def _notices() -> services.AccountNotices:
    notices: services.AccountNotices = context.extension("account_notices")
    return notices


@blp.route("/auth/register", methods=["POST"])
@limiter.limit(register_rate)
@blp.arguments(RegisterSchema)
@blp.response(201, UserSchema)
@blp.alt_response(429, "TOO_MANY_REQUESTS", description="`rate_limited`: REGISTER_RATE_LIMIT")
@raises((Invalid, "password_weak"))
def register(body: dict[str, Any]) -> User:
    """Create an account (rate limited per client address).

    An address that already has an account gets the same answer and nothing is created: its
    owner is told instead, so the answer reveals nobody's account.
    """
    return services.register(
        context.db(), hasher=_hasher(), on_email_taken=_notices().email_taken, **body
    )


@blp.route("/auth/tokens", methods=["POST"])
@limiter.limit(token_rate)
@limiter.limit(token_rate, key_func=address_and_email, deduct_when=failed_login)
@blp.arguments(CredentialsSchema)
@blp.response(201, TokenSchema)
@blp.alt_response(401, "UNAUTHORIZED", description="`invalid_credentials`")
@blp.alt_response(429, "TOO_MANY_REQUESTS", description="`rate_limited`: TOKEN_RATE_LIMIT")
@raises((Unauthorized, "invalid_credentials"))
def create_token(body: dict[str, Any]) -> dict[str, Any]:
    """Exchange email and password for a bearer token.

    Rate limited per client address, and failed attempts per address and email together, so
    nobody elsewhere can lock the account's owner out.
    """
    raw, token = services.issue_token(
        context.db(),
        email=body["email"],
        password=body["password"],
        hasher=_hasher(),
        ttl_seconds=context.settings()["TOKEN_TTL"],
        now=utcnow(),
    )
    return {"token": raw, "expires_at": token.expires_at}


@blp.route("/auth/tokens/current", methods=["DELETE"])
@context.user_required
@blp.response(204)
def revoke_token() -> None:
    """Revoke the token this request uses."""
    context.require_user()
    services.revoke_token(context.db(), context.current_token_hash(), utcnow())


@blp.route("/me")
class Me(MethodView):
    @context.user_required
    @blp.response(200, MeResponseSchema)
    def get(self) -> User:
        """The caller's profile, preferences and memberships."""
        return services.with_memberships(context.db(), context.require_user())

    @context.user_required
    @blp.arguments(ProfilePatchSchema)
    @blp.response(200, MeResponseSchema)
    def patch(self, body: dict[str, Any]) -> User:
        """Change name or preferences (locale, country, currency)."""
        user = services.update_profile(context.db(), context.require_user(), body)
        return services.with_memberships(context.db(), user)


@blp.route("/sellers", methods=["POST"])
@context.user_required
@blp.arguments(SellerCreateSchema)
@blp.response(201, SellerPrivateSchema)
def create_seller(body: dict[str, Any]) -> Organisation:
    """Register a selling business; the caller becomes its owner."""
    return services.create_organisation(
        context.db(), context.require_user(), OrganisationKind.SELLER, body
    )


@blp.route("/sellers/<seller_id>")
class Seller(MethodView):
    @blp.response(200, SellerPublicSchema)
    def get(self, seller_id: str) -> Organisation:
        """A seller's public profile (no tax identifiers)."""
        return services.get_organisation(context.db(), seller_id, OrganisationKind.SELLER)

    @context.user_required
    @blp.arguments(SellerPatchSchema)
    @blp.response(200, SellerPrivateSchema)
    @raises((Forbidden, "owner_required"))
    def patch(self, body: dict[str, Any], seller_id: str) -> Organisation:
        """Change a seller's details (owners only)."""
        return services.update_organisation(
            context.db(), context.require_user(), seller_id, OrganisationKind.SELLER, body
        )


@blp.route("/brokerages")
class Brokerages(MethodView):
    @blp.arguments(BrokerageQuerySchema, location="query")
    @blp.response(200, BrokeragePageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """Customs brokerages by name, optionally those serving one country."""
        items, next_cursor = services.brokerages_serving(
            context.db(), query["country"], limit=query["limit"], cursor=query["cursor"]
        )
        return {"items": items, "next_cursor": next_cursor}

    @context.user_required
    @blp.arguments(BrokerageCreateSchema)
    @blp.response(201, BrokerageSchema)
    def post(self, body: dict[str, Any]) -> Organisation:
        """Register a customs brokerage; the caller becomes its owner."""
        data = {**body, "country": body["address"]["country"]}
        return services.create_organisation(
            context.db(), context.require_user(), OrganisationKind.BROKERAGE, data
        )


@blp.route("/brokerages/<brokerage_id>", methods=["GET"])
@blp.response(200, BrokerageSchema)
def get_brokerage(brokerage_id: str) -> Organisation:
    """A brokerage's public profile."""
    return services.get_organisation(context.db(), brokerage_id, OrganisationKind.BROKERAGE)


def _member_routes(kind: OrganisationKind, collection: str) -> None:
    """Members and invitations work the same for sellers and brokerages."""

    @blp.route(f"/{collection}/<organisation_id>/members", endpoint=f"{kind.value}_members")
    class Members(MethodView):
        @context.user_required
        @blp.response(200, MemberListItemSchema(many=True))
        def get(self, organisation_id: str) -> list[Membership]:
            """The organisation's members (for its members only)."""
            return services.members_of(context.db(), context.require_user(), organisation_id, kind)

        @context.user_required
        @blp.arguments(MemberAddSchema)
        @blp.response(201, InvitationSchema)
        @raises((Forbidden, "owner_required"))
        def post(self, body: dict[str, Any], organisation_id: str) -> Invitation:
            """Invite an email address to the organisation (owners only).

            The answer is the same whether or not the address has an account; the invited user
            accepts with `POST /invitations/{id}/accept`. Inviting an address again changes the
            role of its pending invitation.
            """
            return services.invite_member(
                context.db(),
                context.require_user(),
                organisation_id,
                kind,
                email=body["email"],
                role=Role(body["role"]),
                on_invited=_notices().invited,
            )

    @blp.route(
        f"/{collection}/<organisation_id>/members/<user_id>",
        methods=["DELETE"],
        endpoint=f"{kind.value}_member",
    )
    @context.user_required
    @blp.response(204)
    @raises((Forbidden, "owner_required"), (Conflict, "last_owner"))
    def remove_member(organisation_id: str, user_id: str) -> None:
        """Remove a member (owners only; an owner may leave, the last owner may not)."""
        services.remove_member(context.db(), context.require_user(), organisation_id, kind, user_id)


_member_routes(OrganisationKind.SELLER, "sellers")
_member_routes(OrganisationKind.BROKERAGE, "brokerages")


@blp.route("/me/invitations", methods=["GET"])
@context.user_required
@blp.response(200, InvitationSchema(many=True))
def my_invitations() -> list[Invitation]:
    """The invitations waiting for the caller's email address (at most 100, newest first)."""
    return services.invitations_for(context.db(), context.require_user())


@blp.route("/invitations/<invitation_id>/accept", methods=["POST"])
@context.user_required
@blp.response(201, MemberSchema)
def accept_invitation(invitation_id: str) -> Any:
    """Join the organisation an invitation to the caller's email address is for."""
    return services.accept_invitation(context.db(), context.require_user(), invitation_id)


@blp.route("/invitations/<invitation_id>", methods=["DELETE"])
@context.user_required
@blp.response(204)
def decline_invitation(invitation_id: str) -> None:
    """Decline an invitation to the caller's email address."""
    services.decline_invitation(context.db(), context.require_user(), invitation_id)
