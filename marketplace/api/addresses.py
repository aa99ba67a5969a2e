"""The buyer's address book: `GET, POST /me/addresses`, `PATCH, DELETE /me/addresses/{id}`."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from marketplace.accounts import addresses
from marketplace.accounts.models import SavedAddress
from marketplace.api import context
from marketplace.api.openapi import raises
from marketplace.api.schemas import PHONE, AddressSchema, Country, OmitsNulls, StrictSchema, text
from marketplace.errors import Conflict

blp = Blueprint("addresses", __name__, description="The buyer's address book")


class SavedAddressInSchema(AddressSchema):
    name = text(200)


class SavedAddressPatchSchema(StrictSchema):
    """Only the fields given change; an optional field given as null is cleared."""

    name = text(200, required=False)
    line1 = text(200, required=False)
    line2 = text(200, required=False, allow_none=True)
    city = text(100, required=False)
    region = text(100, required=False, allow_none=True)
    postal_code = text(20, required=False, allow_none=True)
    country = Country()
    phone = fields.String(allow_none=True, validate=PHONE)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))


class SavedAddressSchema(SavedAddressInSchema, OmitsNulls):
    """Dumps a SavedAddress as a `ship_to` with its id: absent optional fields are left out."""

    id = fields.String(required=True, dump_only=True)


@blp.route("/me/addresses")
class Addresses(MethodView):
    @context.user_required
    @blp.response(200, SavedAddressSchema(many=True))
    def get(self) -> list[SavedAddress]:
        """The caller's saved addresses, oldest first (at most 50: a plain array)."""
        return addresses.list_addresses(context.db(), context.require_user())

    @context.user_required
    @blp.arguments(SavedAddressInSchema)
    @blp.response(201, SavedAddressSchema)
    @raises((Conflict, "address_book_full"))
    def post(self, body: dict[str, Any]) -> SavedAddress:
        """Save an address to use as a `ship_to`."""
        return addresses.add_address(context.db(), context.require_user(), body)


@blp.route("/me/addresses/<address_id>")
class Address(MethodView):
    @context.user_required
    @blp.arguments(SavedAddressPatchSchema)
    @blp.response(200, SavedAddressSchema)
    @blp.alt_response(404, response="NOT_FOUND", description="No such address of the caller's")
    def patch(self, body: dict[str, Any], address_id: str) -> SavedAddress:
        """Change some fields of a saved address."""
        return addresses.update_address(context.db(), context.require_user(), address_id, body)

    @context.user_required
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND", description="No such address of the caller's")
    def delete(self, address_id: str) -> None:
        """Forget a saved address (orders keep their own copy)."""
        addresses.delete_address(context.db(), context.require_user(), address_id)
