"""Issuing documents: render, checksum, store as an immutable version; read them back.

A document is evidence for customs, so it is never changed: issuing a kind again for a shipment
(after a correction) adds version n+1 and leaves every earlier version byte-identical. Issuing the
same declaration again gives the same bytes (rendering is deterministic) and returns the current
version instead of adding a copy, so a retried payment webhook cannot multiply documents.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.customs.declaration import Declaration
from marketplace.customs.documents.render import KINDS, Kind, render
from marketplace.customs.documents.text import LANGUAGES, document_language
from marketplace.customs.models import CustomsDocument
from marketplace.errors import Conflict, NotFound
from marketplace.i18n import _

FORM_KINDS = frozenset({"cn22", "cn23"})
ISSUE_ATTEMPTS = 3


class DocumentNotFound(NotFound):
    code = "document_not_found"
    default_detail = _("This shipment has no such document.")


class DocumentsBusy(Conflict):
    code = "documents_busy"
    default_detail = _("The shipment's documents are being issued by another request; try again.")


def document_languages(exporter_locale: str | None) -> tuple[str, ...]:
    """English, and the exporter's language where it differs."""
    own = document_language(exporter_locale)
    return ("en",) if own == "en" else ("en", own)


def kinds_for(declaration: Declaration) -> tuple[Kind, ...]:
    """The documents a shipment needs: invoice, packing list and the CN form it travels with
    (none inside one customs territory or by courier)."""
    if declaration.form is None:
        return ("commercial_invoice", "packing_list")
    return ("commercial_invoice", "packing_list", "cn22" if declaration.form == "CN22" else "cn23")


def _latest(session: Session, shipment_id: str, kind: str, language: str) -> CustomsDocument | None:
    return session.scalars(
        select(CustomsDocument)
        .where(
            CustomsDocument.shipment_id == shipment_id,
            CustomsDocument.kind == kind,
            CustomsDocument.language == language,
        )
        .order_by(CustomsDocument.version.desc())
        .limit(1)
    ).first()


def issue(
    session: Session, shipment_id: str, kind: Kind, language: str, declaration: Declaration
) -> CustomsDocument:
    """Render and store one document; a new version only when its bytes differ from the current one."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    if language not in LANGUAGES:
        raise ValueError(f"documents are not printed in {language!r}")
    content = render(kind, language, declaration)
    digest = hashlib.sha256(content).hexdigest()
    for _attempt in range(ISSUE_ATTEMPTS):
        current = _latest(session, shipment_id, kind, language)
        if current is not None and current.sha256 == digest:
            return current
        document = CustomsDocument(
            shipment_id=shipment_id,
            kind=kind,
            language=language,
            version=1 if current is None else current.version + 1,
            sha256=digest,
            size=len(content),
            content=content,
        )
        try:
            # Another request may take this version number first (a webhook retry racing a
            # correction); the unique key refuses ours, and we look again at what is now current.
            with session.begin_nested():
                session.add(document)
        except IntegrityError:
            continue
        return document
    raise DocumentsBusy()


def issue_all(
    session: Session, shipment_id: str, declaration: Declaration, exporter_locale: str | None
) -> list[CustomsDocument]:
    """Every document of a shipment in English and the exporter's language (on payment, on correction)."""
    return [
        issue(session, shipment_id, kind, language, declaration)
        for kind in kinds_for(declaration)
        for language in document_languages(exporter_locale)
    ]


def list_documents(session: Session, shipment_id: str) -> list[CustomsDocument]:
    """Every version of every document of the shipment, oldest version first."""
    return list(
        session.scalars(
            select(CustomsDocument)
            .where(CustomsDocument.shipment_id == shipment_id)
            .order_by(CustomsDocument.kind, CustomsDocument.language, CustomsDocument.version)
        )
    )


@dataclass(frozen=True)
class ListedDocument:
    """An issued version, and whether it is still in force (superseded versions stay served)."""

    document: CustomsDocument
    current: bool


def listed_documents(session: Session, shipment_id: str) -> list[ListedDocument]:
    """Every version of the shipment's documents, each marked current or superseded."""
    current = {document.id for document in current_documents(session, shipment_id)}
    return [
        ListedDocument(document, document.id in current)
        for document in list_documents(session, shipment_id)
    ]


def current_documents(session: Session, shipment_id: str) -> list[CustomsDocument]:
    """The latest version of each document; of CN 22 and CN 23 only the one issued last.

    A correction can move a shipment across the 300 SDR line: the other form's old versions stay
    stored and listed, but no longer belong to the shipment's current paperwork.
    """
    latest: dict[tuple[str, str], CustomsDocument] = {}
    for document in list_documents(session, shipment_id):
        latest[(document.kind, document.language)] = document
    forms = [d for d in latest.values() if d.kind in FORM_KINDS]
    if forms:
        newest_form = max(forms, key=lambda d: (d.created_at, d.version)).kind
        latest = {
            key: d for key, d in latest.items() if d.kind not in FORM_KINDS or d.kind == newest_form
        }
    return sorted(latest.values(), key=lambda d: (KINDS.index(d.kind), d.language))


def get_document(
    session: Session, shipment_id: str, kind: str, language: str = "en", version: int | None = None
) -> CustomsDocument:
    """One stored document (the latest version unless asked); DocumentNotFound for anything else."""
    if version is None:
        found = _latest(session, shipment_id, kind, language)
    else:
        found = session.scalars(
            select(CustomsDocument).where(
                CustomsDocument.shipment_id == shipment_id,
                CustomsDocument.kind == kind,
                CustomsDocument.language == language,
                CustomsDocument.version == version,
            )
        ).first()
    if found is None:
        raise DocumentNotFound()
    return found
