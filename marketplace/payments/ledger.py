"""The sellers' ledger: sales, commission, refunds and payouts, in each seller's own currency.

Entries are only ever added; a seller's balance is their sum. Callers (the orders integration)
pass amounts already converted to the seller's currency at the order's locked rates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Organisation, OrganisationKind
from marketplace.accounts.services import get_organisation
from marketplace.errors import Conflict, Invalid
from marketplace.i18n import _
from marketplace.money import Money
from marketplace.payments.gateway import SellerTransfers, TransferToSeller
from marketplace.payments.models import (
    LedgerEntry,
    LedgerKind,
    Payout,
    PayoutMethod,
    SellerPayoutAccount,
)
from marketplace.spreadsheet_csv import to_csv


@dataclass(frozen=True, slots=True)
class SellerBalance:
    seller_id: str
    currency: str
    sales: Money
    commission: Money
    refunds: Money
    payouts: Money
    payable: Money


def commission_of(amount: Money, commission_bps: int) -> Money:
    """The platform's share of an amount, rounded once (half-up) to the currency."""
    return (amount * (Decimal(commission_bps) / Decimal(10_000))).quantize()


def _seller_currency(session: Session, seller_id: str, amount: Money | None = None) -> str:
    seller = get_organisation(session, seller_id, OrganisationKind.SELLER)
    if not seller.currency:
        raise Invalid(_("The seller has no currency set."), code="seller_currency_missing")
    if amount is not None and amount.currency != seller.currency:
        raise Invalid(
            _(
                "Ledger amounts are in the seller's currency (%(currency)s).",
                currency=seller.currency,
            ),
            code="ledger_currency_mismatch",
        )
    return seller.currency


def _positive(amount: Money) -> None:
    if not amount.is_quantized() or amount.is_zero() or amount.is_negative():
        raise Invalid(_("The amount must be positive."), code="amount_invalid")


def _entry(
    session: Session, kind: LedgerKind, amount: Money, seller_id: str, **links: str | None
) -> LedgerEntry:
    entry = LedgerEntry(
        seller_id=seller_id,
        kind=kind,
        amount_minor=amount.minor,
        currency=amount.currency,
        **links,
    )
    session.add(entry)
    return entry


@dataclass(frozen=True, slots=True)
class _ShipmentEntries:
    """A sale's or a refund's entries: one seller's, each linked to the shipment and to the
    order and payment the money came with."""

    session: Session
    seller_id: str
    shipment_id: str
    order_id: str | None
    payment_id: str | None

    def add(self, kind: LedgerKind, amount: Money) -> LedgerEntry:
        return _entry(
            self.session,
            kind,
            amount,
            self.seller_id,
            order_id=self.order_id,
            shipment_id=self.shipment_id,
            payment_id=self.payment_id,
        )


def record_sale(
    session: Session,
    *,
    seller_id: str,
    amount: Money,
    commission_bps: int,
    shipment_id: str,
    order_id: str | None = None,
    payment_id: str | None = None,
) -> list[LedgerEntry]:
    """A paid shipment: the seller is owed its goods and shipping, less the platform's commission."""
    _seller_currency(session, seller_id, amount)
    _positive(amount)
    shipment = _ShipmentEntries(session, seller_id, shipment_id, order_id, payment_id)
    entries = [shipment.add(LedgerKind.SALE, amount)]
    commission = commission_of(amount, commission_bps)
    if not commission.is_zero():
        entries.append(shipment.add(LedgerKind.COMMISSION, -commission))
    session.flush()
    return entries


def record_refund(
    session: Session,
    *,
    seller_id: str,
    amount: Money,
    commission_bps: int,
    shipment_id: str,
    order_id: str | None = None,
    payment_id: str | None = None,
) -> list[LedgerEntry]:
    """A refund comes out of the seller's balance; the platform gives back its commission on it.

    The commission returned never exceeds what was taken for the shipment, and a full refund
    returns exactly all of it, so partial refunds cannot leave a rounding cent behind.
    """
    currency = _seller_currency(session, seller_id, amount)
    _positive(amount)
    sold, refunded, commission_net = shipment_totals(session, seller_id, shipment_id)
    if amount.minor > sold + refunded:
        raise Conflict(
            _("The refund is larger than what remains of the sale."), code="refund_exceeds_sale"
        )
    shipment = _ShipmentEntries(session, seller_id, shipment_id, order_id, payment_id)
    entries = [shipment.add(LedgerKind.REFUND, -amount)]
    if amount.minor == sold + refunded:
        give_back = -commission_net
    else:
        give_back = min(commission_of(amount, commission_bps).minor, -commission_net)
    if give_back > 0:
        entries.append(shipment.add(LedgerKind.COMMISSION, Money.from_minor(give_back, currency)))
    session.flush()
    return entries


def shipment_totals(session: Session, seller_id: str, shipment_id: str) -> tuple[int, int, int]:
    """Sum of sales, refunds (negative) and commission (negative) recorded for one shipment."""
    rows = session.execute(
        select(LedgerEntry.kind, func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.seller_id == seller_id, LedgerEntry.shipment_id == shipment_id)
        .group_by(LedgerEntry.kind)
    ).all()
    totals = {kind: int(total or 0) for kind, total in rows}
    return (
        totals.get(LedgerKind.SALE, 0),
        totals.get(LedgerKind.REFUND, 0),
        totals.get(LedgerKind.COMMISSION, 0),
    )


def seller_balance(session: Session, seller_id: str) -> SellerBalance:
    currency = _seller_currency(session, seller_id)
    rows = session.execute(
        select(LedgerEntry.kind, func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.seller_id == seller_id, LedgerEntry.currency == currency)
        .group_by(LedgerEntry.kind)
    ).all()
    totals = {kind: int(total or 0) for kind, total in rows}

    def money(kind: LedgerKind) -> Money:
        return Money.from_minor(totals.get(kind, 0), currency)

    return SellerBalance(
        seller_id=seller_id,
        currency=currency,
        sales=money(LedgerKind.SALE),
        commission=money(LedgerKind.COMMISSION),
        refunds=money(LedgerKind.REFUND),
        payouts=money(LedgerKind.PAYOUT),
        payable=Money.from_minor(sum(totals.values()), currency),
    )


def set_stripe_account(
    session: Session, seller_id: str, stripe_account: str | None
) -> SellerPayoutAccount:
    """Record (or clear) the seller's Stripe Connect account; without one they are paid by bank."""
    get_organisation(session, seller_id, OrganisationKind.SELLER)
    account = session.get(SellerPayoutAccount, seller_id)
    if account is None:
        account = SellerPayoutAccount(seller_id=seller_id)
        session.add(account)
    account.stripe_account = stripe_account
    session.flush()
    return account


def create_payout(
    session: Session, *, seller_id: str, amount: Money, method: PayoutMethod
) -> Payout:
    """Record money leaving the seller's balance; never more than is payable."""
    _seller_currency(session, seller_id, amount)
    _positive(amount)
    # Lock the seller row: two payouts at once must not both see the same balance.
    session.scalar(select(Organisation.id).where(Organisation.id == seller_id).with_for_update())
    payable = seller_balance(session, seller_id).payable
    if amount > payable:
        raise Conflict(
            _("The payout is larger than the seller's payable balance."),
            code="payout_exceeds_balance",
            extra={"payable": payable.to_api()},
        )
    payout = Payout(
        seller_id=seller_id,
        method=method,
        amount_minor=amount.minor,
        currency=amount.currency,
    )
    session.add(payout)
    session.flush()
    _entry(session, LedgerKind.PAYOUT, -amount, seller_id, payout_id=payout.id)
    session.flush()
    return payout


def pay_out_by_connect(
    session: Session, transfers: SellerTransfers, *, seller_id: str, amount: Money
) -> Payout:
    """Send a payout to the seller's Stripe Connect account and record it."""
    account = session.get(SellerPayoutAccount, seller_id)
    if account is None or not account.stripe_account:
        raise Conflict(
            _("This seller has no connected payout account; use a bank transfer."),
            code="no_connected_account",
        )
    payout = create_payout(
        session, seller_id=seller_id, amount=amount, method=PayoutMethod.STRIPE_CONNECT
    )
    result = transfers.transfer_to_seller(
        TransferToSeller(
            destination_account=account.stripe_account,
            amount=amount,
            idempotency_key=f"payout:{payout.id}",
            metadata={"payout_id": payout.id, "seller_id": seller_id},
        )
    )
    payout.reference = result.reference
    session.flush()
    return payout


EXPORT_COLUMNS = (
    "payout_id",
    "seller_id",
    "seller_name",
    "seller_country",
    "amount",
    "currency",
    "reference",
    "created_at",
)


def export_bank_payouts(session: Session, now: dt.datetime) -> str:
    """CSV of every bank-transfer payout not yet exported, for the operator's bank; marks them exported."""
    rows = session.execute(
        select(Payout, Organisation)
        .join(Organisation, Organisation.id == Payout.seller_id)
        .where(Payout.method == PayoutMethod.BANK_TRANSFER, Payout.exported_at.is_(None))
        .order_by(Payout.created_at, Payout.id)
        .with_for_update(of=Payout)
    ).all()
    lines = []
    for payout, seller in rows:
        payout.reference = payout.reference or f"SRM-{payout.id[:8].upper()}"
        lines.append(
            [
                payout.id,
                seller.id,
                seller.name,
                seller.country,
                Money.from_minor(payout.amount_minor, payout.currency).to_api()["amount"],
                payout.currency,
                payout.reference,
                payout.created_at.isoformat(),
            ]
        )
        payout.exported_at = now
    session.flush()
    return to_csv(EXPORT_COLUMNS, lines)
