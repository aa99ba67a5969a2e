"""Accounts and organisations: registration, tokens, profile, sellers, brokerages."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from marketplace.accounts import services
from marketplace.accounts.models import Organisation, OrganisationKind, Role, User
from marketplace.api import context
from marketplace.api.ratelimit import email_in_body, limiter, token_rate
from marketplace.api.schemas import (
    AddressSchema,
    Country,
    CurrencyCode,
    LocaleTag,
    PageArgsSchema,
    StrictSchema,
    page_schema,
    text,
)
from marketplace.db import utcnow
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


class MembershipSchema(StrictSchema):
    organisation_id = fields.String(required=True)
    kind = fields.String(required=True)
    role = fields.String(required=True)
    name = fields.String(required=True)


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
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))


class MemberSchema(StrictSchema):
    organisation_id = fields.String(required=True)
    user_id = fields.String(required=True)
    role = fields.String(required=True)


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


def _me(user: User) -> dict[str, Any]:
    data = {name: getattr(user, name) for name in UserSchema().fields}
    data["memberships"] = [
        {
            "organisation_id": m.organisation_id,
            "kind": m.organisation.kind,
            "role": m.role,
            "name": m.organisation.name,
        }
        for m in services.memberships(context.db(), user)
    ]
    return data


class MeResponseSchema(UserSchema):
    memberships = fields.List(fields.Nested(MembershipSchema), required=True)


@blp.route("/auth/register", methods=["POST"])
@blp.arguments(RegisterSchema)
@blp.response(201, UserSchema)
def register(body: dict[str, Any]) -> User:
    """Create an account."""
    return services.register(context.db(), hasher=_hasher(), **body)


@blp.route("/auth/tokens", methods=["POST"])
@limiter.limit(token_rate)
@limiter.limit(token_rate, key_func=email_in_body)
@blp.arguments(CredentialsSchema)
@blp.response(201, TokenSchema)
def create_token(body: dict[str, Any]) -> dict[str, Any]:
    """Exchange email and password for a bearer token (rate limited per client and per email)."""
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
    def get(self) -> dict[str, Any]:
        """The caller's profile, preferences and memberships."""
        return _me(context.require_user())

    @context.user_required
    @blp.arguments(ProfilePatchSchema)
    @blp.response(200, MeResponseSchema)
    def patch(self, body: dict[str, Any]) -> dict[str, Any]:
        """Change name or preferences (locale, country, currency)."""
        user = services.update_profile(context.db(), context.require_user(), body)
        return _me(user)


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
    def patch(self, body: dict[str, Any], seller_id: str) -> Organisation:
        """Change a seller's details (owners only)."""
        return services.update_organisation(
            context.db(), context.require_user(), seller_id, OrganisationKind.SELLER, body
        )


@blp.route("/sellers/<seller_id>/members", methods=["POST"])
@context.user_required
@blp.arguments(MemberAddSchema)
@blp.response(201, MemberSchema)
def add_seller_member(body: dict[str, Any], seller_id: str) -> Any:
    """Add a registered user to a seller (owners only)."""
    return services.add_member(
        context.db(),
        context.require_user(),
        seller_id,
        OrganisationKind.SELLER,
        email=body["email"],
        role=Role(body["role"]),
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


@blp.route("/brokerages/<brokerage_id>/members", methods=["POST"])
@context.user_required
@blp.arguments(MemberAddSchema)
@blp.response(201, MemberSchema)
def add_brokerage_member(body: dict[str, Any], brokerage_id: str) -> Any:
    """Add a registered user to a brokerage (owners only)."""
    return services.add_member(
        context.db(),
        context.require_user(),
        brokerage_id,
        OrganisationKind.BROKERAGE,
        email=body["email"],
        role=Role(body["role"]),
    )
