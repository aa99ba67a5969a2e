"""A shipment's declaration and documents: built from what orders sold, issued once it is paid.

The declaration is assembled from orders' `declaration_data` (the shipment as sold), the sellers'
English translations (catalogue), the sellers' corrections (customs_corrections) and an SDR rate
for the CN 22 / CN 23 choice. Documents are issued by a background job once the shipment is paid
(`marketplace/jobs/`), or by the request that first needs them if that job has not run yet; a
correction issues the changed ones again as new versions. Who may read comes from orders'
`get_shipment`: to anyone else nothing exists.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts import services as accounts
from marketplace.accounts.models import OrganisationKind, User
from marketplace.catalogue.services import titles_in
from marketplace.customs import hs
from marketplace.customs.declaration import (
    Declaration,
    Exporter,
    Importer,
    ServiceClass,
    build_declaration,
    upu_threshold,
)
from marketplace.customs.documents import exports, store
from marketplace.customs.documents.render import KINDS
from marketplace.customs.models import CustomsCorrection, CustomsDocument
from marketplace.customs.rule_records import same_customs_territory
from marketplace.errors import Conflict, DomainError, Forbidden, Invalid
from marketplace.i18n import _
from marketplace.money import Money, RateTable
from marketplace.money import services as money
from marketplace.orders import queries
from marketplace.orders.declarations import (
    DeclarationData,
    declaration_data,
    designated_shipment_ids,
)
from marketplace.orders.models import Shipment, ShipmentStatus
from marketplace.outbox import EventType, record

PAID = frozenset({ShipmentStatus.READY, ShipmentStatus.DISPATCHED})
CORRECTABLE = frozenset({ShipmentStatus.AWAITING_PAYMENT, ShipmentStatus.READY})
MANIFEST_MAX_DAYS = 92
MANIFEST_MAX_SHIPMENTS = 2000


class ShipmentNotPaid(Conflict):
    code = "shipment_not_paid"
    default_detail = _("This shipment is not paid: its customs documents are issued once it is.")


class SdrRateMissing(Conflict):
    code = "sdr_rate_missing"
    default_detail = _(
        "No SDR (XDR) exchange rate is loaded, so the CN 22 or CN 23 form cannot be chosen; an operator must add one."
    )


class DeclarationLocked(Conflict):
    code = "declaration_locked"
    default_detail = _(
        "The shipment is dispatched or cancelled: its customs data can no longer be corrected."
    )


class CorrectionForbidden(Forbidden):
    code = "correction_forbidden"
    default_detail = _("Only the seller may correct a shipment's customs data.")


@dataclass(frozen=True)
class LineCorrection:
    """What a seller changes on one line; None leaves a field as it is."""

    line_id: str
    hs_code: str | None = None
    description: str | None = None
    origin_country: str | None = None


# ---------------------------------------------------------------------------------------------
# Building the declaration


def _form_rates(session: Session, rate_set_id: str | None) -> RateTable:
    """The order's own (locked) rate set when it has an SDR rate, else the current one."""
    currency = upu_threshold().below.currency

    def has_sdr(table: RateTable) -> bool:
        return table.base == currency or currency in table.rates

    if rate_set_id is not None:
        with contextlib.suppress(DomainError):
            locked = money.get_table(session, rate_set_id)
            if has_sdr(locked):
                return locked
    current = money.current_rates(session)
    if current is not None and has_sdr(current):
        return current
    raise SdrRateMissing()


def build(session: Session, data: DeclarationData) -> Declaration:
    """The declaration of a shipment as sold, with the seller's corrections and English texts."""
    corrections = {
        row.line_id: row
        for row in session.scalars(
            select(CustomsCorrection).where(CustomsCorrection.shipment_id == data.shipment_id)
        )
    }
    english = titles_in(session, [item.listing_id for item in data.items if item.listing_id], "en")
    items = []
    for item in data.items:
        fix = corrections.get(item.line_id or "")
        items.append(
            dataclasses.replace(
                item,
                description=(fix and fix.description)
                or english.get(item.listing_id or "")
                or item.description,
                hs_code=(fix and fix.hs_code) or item.hs_code,
                origin_country=(fix and fix.origin_country) or item.origin_country,
            )
        )
    exporter = data.exporter
    net = sum(item.net_weight_grams for item in items)
    crosses = not same_customs_territory(
        session, data.from_country, data.to_country, data.invoice_date
    )
    letter_post = crosses and data.service_class is ServiceClass.LETTER_POST
    return build_declaration(
        invoice_number=data.invoice_number,
        invoice_date=data.invoice_date,
        exporter=Exporter(
            name=exporter.name,
            address=dict(exporter.address),
            country=exporter.country,
            tax_id=exporter.tax_id,
            eori=exporter.eori,
        ),
        importer=Importer(
            name=data.importer_name,
            address=data.importer_address,
            country=data.to_country,
            phone=data.importer_phone,
            email=data.importer_email,
        ),
        incoterm=data.incoterm,
        currency=data.currency,
        items=items,
        shipping=data.shipping,
        insurance=Money.zero(data.currency),
        packaging_grams=max(0, data.gross_weight_grams - net),
        duties=data.duties,
        taxes=data.taxes,
        de_minimis=data.de_minimis,
        rates=_form_rates(session, data.rate_set_id) if letter_post else None,
        service_class=data.service_class,
        crosses_border=crosses,
        posting_date=data.dispatched_on,
    )


def get_declaration(
    session: Session, user: User, shipment_id: str, *, now: dt.datetime
) -> Declaration:
    """GET /shipments/{id}/customs: for the buyer, the seller, the designated broker, operators."""
    queries.get_shipment(session, user, shipment_id, now=now)
    return build(session, declaration_data(session, shipment_id, now=now))


# ---------------------------------------------------------------------------------------------
# Documents


def _has_documents(session: Session, shipment_id: str) -> bool:
    return (
        session.scalar(
            select(CustomsDocument.id).where(CustomsDocument.shipment_id == shipment_id).limit(1)
        )
        is not None
    )


def issue(session: Session, shipment_id: str, *, now: dt.datetime) -> list[CustomsDocument]:
    """Issue (again) every document of a paid shipment; unchanged ones keep their version."""
    data = declaration_data(session, shipment_id, now=now)
    return _issue_all(session, shipment_id, build(session, data), data.exporter.locale)


def _issue_all(
    session: Session, shipment_id: str, declaration: Declaration, exporter_locale: str | None
) -> list[CustomsDocument]:
    """Issue through the store; `documents.issued` when any document got a new version."""
    known = {document.id for document in store.list_documents(session, shipment_id)}
    documents = store.issue_all(session, shipment_id, declaration, exporter_locale)
    if any(document.id not in known for document in documents):
        shipment = session.get(Shipment, shipment_id)
        assert shipment is not None  # the declaration was just built from it
        record(
            session, EventType.DOCUMENTS_ISSUED, order_id=shipment.order_id, shipment_id=shipment_id
        )
    return documents


def _readable(session: Session, user: User, shipment_id: str, now: dt.datetime) -> str:
    """The shipment id once the caller may read it and its documents exist (issued now if due)."""
    view = queries.get_shipment(session, user, shipment_id, now=now)
    if not _has_documents(session, view.shipment.id):
        if view.shipment.status not in PAID:
            raise ShipmentNotPaid(extra={"shipment_status": view.shipment.status})
        issue(session, view.shipment.id, now=now)
    return view.shipment.id


def list_documents(
    session: Session, user: User, shipment_id: str, *, now: dt.datetime
) -> list[store.ListedDocument]:
    """Every version of every document (old versions stay listed), issued first if due."""
    return store.listed_documents(session, _readable(session, user, shipment_id, now))


def current_documents(
    session: Session, user: User, shipment_id: str, *, now: dt.datetime
) -> list[CustomsDocument]:
    return store.current_documents(session, _readable(session, user, shipment_id, now))


def get_document(
    session: Session,
    user: User,
    shipment_id: str,
    kind: str,
    *,
    language: str,
    version: int | None,
    now: dt.datetime,
) -> CustomsDocument:
    """One document (latest version unless asked); an unknown kind or language is a 404."""
    if kind not in KINDS:
        queries.get_shipment(session, user, shipment_id, now=now)
        raise store.DocumentNotFound()
    return store.get_document(
        session, _readable(session, user, shipment_id, now), kind, language, version
    )


def bundle(
    session: Session, user: User, shipment_id: str, *, now: dt.datetime
) -> tuple[str, bytes]:
    """The shipment number and a ZIP of its current documents with their checksums."""
    view = queries.get_shipment(session, user, shipment_id, now=now)
    return view.shipment.number, exports.bundle(
        current_documents(session, user, shipment_id, now=now)
    )


# ---------------------------------------------------------------------------------------------
# Corrections


def correct(
    session: Session,
    user: User,
    shipment_id: str,
    changes: Sequence[LineCorrection],
    *,
    now: dt.datetime,
) -> Declaration:
    """The seller corrects lines before dispatch; a paid shipment's documents get new versions."""
    view = queries.get_shipment(session, user, shipment_id, now=now)
    if view.shipment.seller_id not in accounts.organisation_ids(
        session, user.id, OrganisationKind.SELLER
    ):
        raise CorrectionForbidden()
    if view.shipment.status not in CORRECTABLE:
        raise DeclarationLocked(extra={"shipment_status": view.shipment.status})
    lines = {line.id for line in view.lines}
    errors: dict[str, list[object]] = {}
    cleaned: list[LineCorrection] = []
    for index, change in enumerate(changes):
        if change.line_id not in lines:
            errors[f"items.{index}.line_id"] = [_("No line of this shipment has this id.")]
            continue
        code = change.hs_code
        if code is not None:
            try:
                code = hs.validate(session, code)
            except hs.HsCodeInvalid as exc:
                errors[f"items.{index}.hs_code"] = [exc.detail]
                continue
        cleaned.append(
            LineCorrection(change.line_id, code, change.description, change.origin_country)
        )
    if errors:
        raise Invalid(errors=errors)
    for change in cleaned:
        row = session.get(CustomsCorrection, change.line_id)
        if row is None:
            row = CustomsCorrection(
                line_id=change.line_id, shipment_id=view.shipment.id, corrected_by=user.id
            )
            session.add(row)
        row.hs_code = change.hs_code or row.hs_code
        row.description = change.description or row.description
        row.origin_country = change.origin_country or row.origin_country
        row.corrected_by = user.id
        row.corrected_at = now
    session.flush()
    data = declaration_data(session, view.shipment.id, now=now)
    declaration = build(session, data)
    if view.shipment.status in PAID:
        _issue_all(session, view.shipment.id, declaration, data.exporter.locale)
    return declaration


# ---------------------------------------------------------------------------------------------
# Brokers' manifest


def manifest(
    session: Session,
    user: User,
    brokerage_id: str,
    *,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
) -> list[dict[str, object]]:
    """One row per item of every paid shipment designated to the brokerage, paid in [start, end].

    Only the brokerage's members may ask (to anyone else it does not exist).
    """
    accounts.require_member(session, user, brokerage_id, OrganisationKind.BROKERAGE)
    if end < start or (end - start).days > MANIFEST_MAX_DAYS:
        message = _(
            "Give a period of at most %(days)s days, `from` before `to`.", days=MANIFEST_MAX_DAYS
        )
        raise Invalid(message, errors={"to": [message]})
    ids = designated_shipment_ids(
        session,
        brokerage_id,
        paid_from=dt.datetime.combine(start, dt.time(), dt.UTC),
        paid_before=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC),
        limit=MANIFEST_MAX_SHIPMENTS + 1,
    )
    if len(ids) > MANIFEST_MAX_SHIPMENTS:
        message = _(
            "More than %(count)s shipments in this period: ask for a shorter one.",
            count=MANIFEST_MAX_SHIPMENTS,
        )
        raise Invalid(message, code="manifest_too_large", errors={"from": [message]})
    return exports.manifest_rows(
        exports.ManifestEntry(
            shipment_id, build(session, declaration_data(session, shipment_id, now=now))
        )
        for shipment_id in ids
    )
