"""Customs declarations, documents and brokers' manifests of shipments (docs/api-conventions.md,
"Customs paperwork")."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

import marshmallow as ma
from flask import Response, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from marketplace.api import context
from marketplace.api.money_fields import MoneyOutputSchema
from marketplace.api.openapi import raises
from marketplace.api.schemas import Country, StrictSchema, hs_code_field, text, variant_options
from marketplace.customs.declaration import Category, Declaration, ServiceClass
from marketplace.customs.documents import exports
from marketplace.customs.documents.exports import document_filename
from marketplace.customs.documents.render import KINDS
from marketplace.customs.documents.store import DocumentNotFound, DocumentsBusy, ListedDocument
from marketplace.customs.hs import HsCodeInvalid
from marketplace.customs.models import CustomsDocument
from marketplace.db import utcnow
from marketplace.errors import Invalid, NotFound
from marketplace.paperwork import shipments
from marketplace.paperwork.shipments import (
    CorrectionForbidden,
    DeclarationLocked,
    SdrRateMissing,
    ShipmentNotPaid,
)

blp = Blueprint(
    "customs_documents", __name__, description="Customs declarations, documents and manifests"
)

PDF = "application/pdf"
NOT_VISIBLE = "No such shipment, or not the caller's (another seller, an undesignated broker)"


class PartySchema(ma.Schema):
    name = fields.String(required=True)
    address = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    country = fields.String(required=True)


class ImporterSchema(PartySchema):
    reference = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "The importer's tax, VAT or importer code, if any"},
    )
    phone = fields.String(allow_none=True, required=True)
    email = fields.String(allow_none=True, required=True)


class ExporterSchema(PartySchema):
    tax_id = fields.String(allow_none=True, required=True)
    eori = fields.String(allow_none=True, required=True)


class DeclarationItemSchema(ma.Schema):
    variant_id = fields.String(
        required=True, allow_none=True, metadata={"description": "The listing variant sold"}
    )
    sku = fields.String(required=True, allow_none=True, metadata={"description": "The variant's"})
    options = variant_options(
        "The variant's options as the seller named them ({}: none)", attribute="option_values"
    )
    description = fields.String(
        required=True,
        metadata={
            "description": "In English: the seller's translation, else their own text; ends "
            "with the variant's options, `(size: M)`"
        },
    )
    description_original = fields.String(
        required=True, metadata={"description": "As the seller wrote it"}
    )
    hs_code = fields.String(required=True)
    origin_country = fields.String(required=True)
    quantity = fields.Integer(required=True)
    net_weight_grams = fields.Integer(required=True)
    unit_value = fields.Nested(MoneyOutputSchema, required=True)
    total_value = fields.Nested(MoneyOutputSchema, required=True)


class DeclarationSchema(ma.Schema):
    form = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "enum": ["CN22", "CN23", None],
            "description": "Null where no CN form travels: inside one customs territory or by courier",
        },
    )
    invoice_number = fields.String(required=True, metadata={"description": "The shipment number"})
    invoice_date = fields.Date(required=True)
    exporter = fields.Nested(ExporterSchema, required=True)
    importer = fields.Nested(ImporterSchema, required=True)
    incoterm = fields.String(required=True)
    currency = fields.String(required=True)
    reason = fields.String(required=True, metadata={"enum": ["sale"]})
    items = fields.List(fields.Nested(DeclarationItemSchema), required=True)
    shipping = fields.Nested(MoneyOutputSchema, required=True)
    insurance = fields.Nested(MoneyOutputSchema, required=True)
    total_value = fields.Nested(
        MoneyOutputSchema, required=True, metadata={"description": "The contents: sum of the items"}
    )
    gross_weight_grams = fields.Integer(required=True)
    duties = fields.Nested(MoneyOutputSchema, required=True)
    taxes = fields.Nested(MoneyOutputSchema, required=True)
    de_minimis = fields.Boolean(required=True)
    service_class = fields.Enum(
        ServiceClass,
        by_value=True,
        required=True,
        metadata={"description": "From the seller's shipping rate; it decides the form"},
    )
    crosses_border = fields.Boolean(
        required=True,
        metadata={
            "description": "False inside one customs territory (KZ to KZ, DE to FR, RU to KZ): "
            "no customs form and no import charges; the commercial invoice is a sales invoice"
        },
    )
    category = fields.Enum(
        Category, by_value=True, required=True, metadata={"description": "The UPU form's box"}
    )
    licence_numbers = fields.List(fields.String(), required=True)
    certificate_numbers = fields.List(fields.String(), required=True)
    office_of_origin = fields.String(allow_none=True, required=True)
    posting_date = fields.Date(
        allow_none=True, required=True, metadata={"description": "The day it was dispatched"}
    )


class LineCorrectionSchema(StrictSchema):
    line_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    hs_code = hs_code_field()
    description = text(200, required=False, metadata={"description": "The English description"})
    origin_country = Country()

    @ma.post_load
    def to_correction(self, data: dict[str, Any], **_kwargs: Any) -> shipments.LineCorrection:
        return shipments.LineCorrection(**data)


class CorrectionSchema(StrictSchema):
    items = fields.List(
        fields.Nested(LineCorrectionSchema), required=True, validate=validate.Length(min=1, max=100)
    )


class DocumentHref(fields.String):
    """Where a listed document version is downloaded (`GET .../documents/{kind}`)."""

    def get_value(
        self, obj: Any, attr: str, accessor: Any = None, default: Any = ma.missing
    ) -> str:
        document: CustomsDocument = obj.document
        return url_for(
            "customs_documents.get_document",
            shipment_id=document.shipment_id,
            kind=document.kind,
            lang=document.language,
            version=document.version,
        )


class DocumentSchema(ma.Schema):
    """Dumps a `store.ListedDocument`: the stored version and whether it is current."""

    kind = fields.String(required=True, attribute="document.kind", metadata={"enum": list(KINDS)})
    language = fields.String(
        required=True, attribute="document.language", metadata={"example": "zh-Hans"}
    )
    version = fields.Integer(required=True, attribute="document.version")
    sha256 = fields.String(
        required=True,
        attribute="document.sha256",
        metadata={"description": "Also the download's ETag"},
    )
    size = fields.Integer(required=True, attribute="document.size")
    created_at = fields.DateTime(required=True, attribute="document.created_at")
    current = fields.Boolean(
        required=True,
        metadata={
            "description": "False for superseded versions (and a form the shipment no longer needs)"
        },
    )
    href = DocumentHref(required=True)


class DocumentQuerySchema(StrictSchema):
    lang = fields.String(load_default="en", validate=validate.Length(min=2, max=16))
    version = fields.Integer(load_default=None, validate=validate.Range(min=1, max=100_000))


class ManifestQuerySchema(StrictSchema):
    from_ = fields.Date(
        data_key="from",
        load_default=None,
        metadata={"description": "First payment day (UTC); default 30 days before `to`"},
    )
    to = fields.Date(
        load_default=None,
        metadata={"description": "Last payment day (UTC), inclusive; default today"},
    )
    format = fields.String(load_default="json", validate=validate.OneOf(["csv", "json"]))


class ManifestSchema(ma.Schema):
    brokerage_id = fields.String(required=True)
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    items = fields.List(
        fields.Dict(),
        required=True,
        metadata={
            "description": f"One row per item; columns: {', '.join(exports.MANIFEST_FIELDS)}"
        },
    )


F = TypeVar("F", bound=Callable[..., Any])


def caller_or_404(view: F) -> F:
    """Like `context.user_required`, but an anonymous caller is told nothing exists (404).

    A shipment's paperwork is personal and commercial data; whoever may not read it,
    signed in or not, cannot learn that it exists. A token that is present but bad is still a 401.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if context.current_user() is None:
            raise NotFound()
        return view(*args, **kwargs)

    # `{}` says anonymous calls are answered too (with the 404 above), not refused with a 401.
    apidoc = wrapper.__dict__.setdefault("_apidoc", {})
    apidoc.setdefault("manual_doc", {})["security"] = [{"bearer": []}, {}]
    return wrapper  # type: ignore[return-value]


def _private(response: Response) -> Response:
    """Documents are personal data: caches may keep them only for the caller, revalidating."""
    response.cache_control.private = True
    response.cache_control.no_cache = True
    response.vary.add("Authorization")
    return response


@blp.route("/shipments/<shipment_id>/customs")
class ShipmentCustoms(MethodView):
    @caller_or_404
    @blp.response(200, DeclarationSchema)
    @blp.alt_response(404, response="NOT_FOUND", description=NOT_VISIBLE)
    @raises(SdrRateMissing)
    def get(self, shipment_id: str) -> Declaration:
        """The shipment's customs declaration (buyer, seller, designated broker, operators)."""
        return shipments.get_declaration(
            context.db(), context.require_user(), shipment_id, now=utcnow()
        )

    @caller_or_404
    @blp.arguments(CorrectionSchema)
    @blp.response(200, DeclarationSchema)
    @blp.alt_response(404, response="NOT_FOUND", description=NOT_VISIBLE)
    @raises(CorrectionForbidden, DeclarationLocked, HsCodeInvalid)
    def patch(self, body: dict[str, Any], shipment_id: str) -> Declaration:
        """Correct lines (HS code, English description, origin) before dispatch: seller members.

        A paid shipment's documents are issued again: each changed document gets the next
        version, and every earlier version stays served unchanged (`?version=`).
        """
        return shipments.correct(
            context.db(), context.require_user(), shipment_id, body["items"], now=utcnow()
        )


@blp.route("/shipments/<shipment_id>/documents", methods=["GET"])
@caller_or_404
@blp.response(200, DocumentSchema(many=True))
@blp.alt_response(404, response="NOT_FOUND", description=NOT_VISIBLE)
@raises(ShipmentNotPaid, SdrRateMissing, DocumentsBusy)
def list_documents(shipment_id: str) -> list[ListedDocument]:
    """Every issued version of the shipment's documents; issued on the first read once it is paid."""
    return shipments.list_documents(context.db(), context.require_user(), shipment_id, now=utcnow())


@blp.route("/shipments/<shipment_id>/documents/<kind>", methods=["GET"])
@caller_or_404
@blp.arguments(DocumentQuerySchema, location="query")
@blp.response(
    200,
    description="The PDF; `ETag` is its sha256",
    content_type=PDF,
    headers={"ETag": {"schema": {"type": "string"}}},
)
@blp.doc(responses={200: {"content": {PDF: {"schema": {"type": "string", "format": "binary"}}}}})
@blp.alt_response(304, description="Not modified (If-None-Match matched the ETag)")
@blp.alt_response(
    404, response="NOT_FOUND", description=f"{NOT_VISIBLE}; or no such kind, language or version"
)
@raises(DocumentNotFound, ShipmentNotPaid, SdrRateMissing, DocumentsBusy)
def get_document(query: dict[str, Any], shipment_id: str, kind: str) -> Response:
    """One document as PDF: `commercial_invoice`, `packing_list`, `cn22` or `cn23`, `?lang=`, `?version=`."""
    document = shipments.get_document(
        context.db(),
        context.require_user(),
        shipment_id,
        kind,
        language=query["lang"],
        version=query["version"],
        now=utcnow(),
    )
    response = Response(document.content, mimetype=PDF)
    response.set_etag(document.sha256)
    response.headers["Content-Disposition"] = f'inline; filename="{document_filename(document)}"'
    response.make_conditional(request)
    return _private(response)


@blp.route("/shipments/<shipment_id>/documents.zip", methods=["GET"])
@caller_or_404
@blp.response(
    200,
    description="A ZIP of the current documents with SHA256SUMS",
    content_type="application/zip",
    headers={"Content-Disposition": {"schema": {"type": "string"}}},
)
@blp.doc(
    responses={
        200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}}
    }
)
@blp.alt_response(404, response="NOT_FOUND", description=NOT_VISIBLE)
@raises(ShipmentNotPaid, SdrRateMissing, DocumentsBusy)
def documents_zip(shipment_id: str) -> Response:
    """Every current document of the shipment in one ZIP (reproducible: same documents, same bytes)."""
    number, content = shipments.bundle(
        context.db(), context.require_user(), shipment_id, now=utcnow()
    )
    response = Response(content, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{number}-documents.zip"'
    return _private(response)


@blp.route("/brokerages/<brokerage_id>/manifest", methods=["GET"])
@caller_or_404
@blp.arguments(ManifestQuerySchema, location="query")
@blp.response(200, ManifestSchema, content_type="application/json")
@blp.doc(responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
@blp.alt_response(
    404, response="NOT_FOUND", description="No such brokerage, or the caller is not a member"
)
@raises((Invalid, "manifest_too_large"))
def manifest(query: dict[str, Any], brokerage_id: str) -> Response:
    """Items of the paid shipments designated to the brokerage, by payment day; `format=csv` for CSV.

    CSV cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`...) start with `'`.
    """
    end = query["to"] or utcnow().date()
    start = query["from_"] or end - dt.timedelta(days=30)
    rows = shipments.manifest(
        context.db(), context.require_user(), brokerage_id, start=start, end=end, now=utcnow()
    )
    if query["format"] == "csv":
        response = Response(exports.manifest_csv(rows), mimetype="text/csv")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="manifest-{start}-{end}.csv"'
        )
    else:
        body = ManifestSchema().dump(
            {"brokerage_id": brokerage_id, "from_": start, "to": end, "items": rows}
        )
        response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")
    return _private(response)
