"""Seller shipping price lists: base plus per-kg by destination, the most specific row winning."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, delete, insert, select
from sqlalchemy.orm import Session, raiseload

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Organisation, OrganisationKind, User
from marketplace.customs.declaration import ServiceClass
from marketplace.errors import Invalid
from marketplace.i18n import _
from marketplace.money import Money
from marketplace.orders.models import ShippingRate

EVERYWHERE = "*"
GRAMS_PER_KG = Decimal(1000)


@dataclass(frozen=True)
class RateRow:
    """One row of a price list: these destinations cost `base` plus `per_kg` per kilogram."""

    countries: tuple[str, ...]
    base: Money
    per_kg: Money
    service_class: ServiceClass = ServiceClass.LETTER_POST

    def price(self, weight_grams: int) -> Money:
        """Exact, unrounded: the caller rounds once, when converting to the order currency."""
        return self.base + self.per_kg * (Decimal(weight_grams) / GRAMS_PER_KG)


class NoShippingRate(Invalid):
    code = "no_shipping_rate"
    default_detail = _("The seller does not ship to this country.")


def get_rates(session: Session, seller_id: str) -> list[RateRow]:
    """A seller's price list as it was given (rows in order); anyone may read it."""
    seller = accounts.get_organisation(session, seller_id, OrganisationKind.SELLER)
    rows = session.scalars(
        select(ShippingRate)
        .where(ShippingRate.seller_id == seller.id)
        .order_by(ShippingRate.position, ShippingRate.country)
    )
    grouped: dict[int, list[ShippingRate]] = {}
    for row in rows:
        grouped.setdefault(row.position, []).append(row)
    return [_row(group) for _position, group in sorted(grouped.items())]


def replace_rates(
    session: Session, user: User, seller_id: str, rows: Sequence[RateRow]
) -> list[RateRow]:
    """Replace a seller's whole price list (owners only); amounts must be in the seller's currency."""
    seller = accounts.require_member(session, user, seller_id, OrganisationKind.SELLER, owner=True)
    errors: dict[str, list[object]] = {}
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        for name, amount in (("base", row.base), ("per_kg", row.per_kg)):
            if amount.currency != seller.currency:
                errors.setdefault(f"{index}.{name}.currency", []).append(
                    _(
                        "Shipping rates are in the seller's currency, %(currency)s.",
                        currency=seller.currency or "",
                    )
                )
            if amount.is_negative():
                errors.setdefault(f"{index}.{name}.amount", []).append(_("Must not be negative."))
        if EVERYWHERE in row.countries and len(row.countries) > 1:
            errors.setdefault(f"{index}.countries", []).append(
                _('"*" stands alone: it means every country without a row of its own.')
            )
        for country in row.countries:
            if country in seen:
                errors.setdefault(f"{index}.countries", []).append(
                    _(
                        "%(country)s is already priced in row %(row)s.",
                        country=country,
                        row=seen[country],
                    )
                )
            seen.setdefault(country, index)
    if errors:
        raise Invalid(errors=errors)
    session.execute(delete(ShippingRate).where(ShippingRate.seller_id == seller.id))
    values = [
        {
            "seller_id": seller.id,
            "country": country,
            "position": index,
            "currency": row.base.currency,
            "base_minor": row.base.minor,
            "per_kg_minor": row.per_kg.minor,
            "service_class": row.service_class,
        }
        for index, row in enumerate(rows)
        for country in row.countries
    ]
    if values:
        session.execute(insert(ShippingRate), values)
    session.flush()
    return get_rates(session, seller.id)


def rates_to(session: Session, seller_ids: Iterable[str], country: str) -> dict[str, RateRow]:
    """For each seller that ships to `country`, the row that applies (its own row, else "*")."""
    wanted = set(seller_ids)
    if not wanted:
        return {}
    return applicable_rows(
        session.execute(
            select(Organisation, ShippingRate)
            .join(
                ShippingRate,
                and_(
                    ShippingRate.seller_id == Organisation.id,
                    ShippingRate.country.in_((country, EVERYWHERE)),
                ),
            )
            .where(Organisation.id.in_(wanted))
            .options(raiseload(Organisation.served_countries))
        )
    )


def applicable_rows(
    rows: Iterable[tuple[Organisation, ShippingRate | None]],
) -> dict[str, RateRow]:
    """Each seller's row for a destination from its own row and its "*" row (its own wins)."""
    found: dict[str, ShippingRate] = {}
    for seller, row in rows:
        current = found.get(seller.id)
        if row is not None and (current is None or current.country == EVERYWHERE):
            found[seller.id] = row
    return {seller_id: _row([row]) for seller_id, row in found.items()}


def _row(group: Sequence[ShippingRate]) -> RateRow:
    first = group[0]
    return RateRow(
        countries=tuple(row.country for row in group),
        base=first.base,
        per_kg=first.per_kg,
        service_class=first.service_class,
    )
