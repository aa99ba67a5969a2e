"""Payments, refunds, gateway events applied once, and the sellers' ledger.

Amounts are integer minor units (ISO 4217) with the currency beside them. Payments, refunds and
ledger entries point at the orders and shipments they are for (RESTRICT: money history is never
deleted with what it paid for).
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import (
    Base,
    StrEnumColumn,
    created_at,
    currency_code,
    enum_check,
    minor_units,
    utcnow,
    uuid_pk,
)
from marketplace.money import MoneyColumn
from marketplace.payments.gateway import PaymentStatus, WebhookAction


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("gateway", "reference"),
        UniqueConstraint("idempotency_key"),
        CheckConstraint(enum_check("status", PaymentStatus), name="status"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= amount_minor", name="refunded_in_range"
        ),
        # The expiry job looks for bank transfers still awaited by orders that will not be paid.
        Index("ix_payments_status_gateway", "status", "gateway"),
    )

    id: Mapped[uuid_pk]
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"), index=True)
    gateway: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(255))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    status: Mapped[PaymentStatus] = mapped_column(StrEnumColumn(PaymentStatus, 24))
    amount_minor: Mapped[minor_units]
    refunded_minor: Mapped[minor_units] = mapped_column(default=0)
    currency: Mapped[currency_code]
    failure_code: Mapped[str | None] = mapped_column(String(64))
    # A bank transfer the buyer is asked to make by then; the order's stock is held until then.
    due_at: Mapped[dt.datetime | None]
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    amount = MoneyColumn("amount_minor")
    refunded = MoneyColumn("refunded_minor")


class PaymentRefund(Base):
    __tablename__ = "payment_refunds"
    __table_args__ = (
        UniqueConstraint("payment_id", "reference"),
        CheckConstraint(enum_check("status", PaymentStatus), name="status"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[uuid_pk]
    payment_id: Mapped[str] = mapped_column(
        ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    reference: Mapped[str] = mapped_column(String(255))
    shipment_id: Mapped[str | None] = mapped_column(
        ForeignKey("shipments.id", ondelete="RESTRICT"), index=True
    )
    amount_minor: Mapped[minor_units]
    currency: Mapped[currency_code]
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[PaymentStatus] = mapped_column(StrEnumColumn(PaymentStatus, 24))
    created_at: Mapped[created_at]

    amount = MoneyColumn("amount_minor")


class WebhookOutcome(enum.StrEnum):
    APPLIED = "applied"
    UNHANDLED = "unhandled"  # no handler registered for the action yet: kept to be replayed
    UNMATCHED = "unmatched"  # no payment of ours has this reference
    IGNORED = "ignored"
    DUPLICATE = "duplicate"  # never stored: the answer to a second delivery


class WebhookEventRecord(Base):
    """A gateway event, stored once by its id: the unique key is what makes delivery idempotent."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("gateway", "event_id"),
        CheckConstraint(enum_check("action", WebhookAction), name="action"),
        CheckConstraint(enum_check("outcome", WebhookOutcome), name="outcome"),
    )

    id: Mapped[uuid_pk]
    gateway: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(100))
    action: Mapped[WebhookAction] = mapped_column(
        StrEnumColumn(WebhookAction, 32), default=WebhookAction.IGNORED
    )
    payment_reference: Mapped[str | None] = mapped_column(String(255), index=True)
    outcome: Mapped[WebhookOutcome] = mapped_column(
        StrEnumColumn(WebhookOutcome, 16), default=WebhookOutcome.IGNORED
    )
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[dt.datetime]
    received_at: Mapped[created_at]


class LedgerKind(enum.StrEnum):
    SALE = "sale"
    COMMISSION = "commission"
    REFUND = "refund"
    PAYOUT = "payout"


class LedgerEntry(Base):
    """What the platform owes a seller, in the seller's currency; the balance is the sum.

    Sales are positive; commission, refunds and payouts negative (a refund's commission comes
    back as a positive commission entry). Entries are never updated or deleted.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint(enum_check("kind", LedgerKind), name="kind"),
        Index("ix_ledger_entries_seller_id_currency", "seller_id", "currency"),
    )

    id: Mapped[uuid_pk]
    seller_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    kind: Mapped[LedgerKind] = mapped_column(StrEnumColumn(LedgerKind, 16))
    amount_minor: Mapped[minor_units]
    currency: Mapped[currency_code]
    order_id: Mapped[str | None] = mapped_column(
        ForeignKey("orders.id", ondelete="RESTRICT"), index=True
    )
    shipment_id: Mapped[str | None] = mapped_column(
        ForeignKey("shipments.id", ondelete="RESTRICT"), index=True
    )
    payment_id: Mapped[str | None] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"))
    payout_id: Mapped[str | None] = mapped_column(ForeignKey("payouts.id", ondelete="RESTRICT"))
    created_at: Mapped[created_at]


class PayoutMethod(enum.StrEnum):
    BANK_TRANSFER = "bank_transfer"
    STRIPE_CONNECT = "stripe_connect"


class Payout(Base):
    """Money paid to a seller: exported for a bank transfer, or sent as a Stripe Connect transfer."""

    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint(enum_check("method", PayoutMethod), name="method"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[uuid_pk]
    seller_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    method: Mapped[PayoutMethod] = mapped_column(StrEnumColumn(PayoutMethod, 16))
    amount_minor: Mapped[minor_units]
    currency: Mapped[currency_code]
    reference: Mapped[str | None] = mapped_column(String(255))
    exported_at: Mapped[dt.datetime | None]
    created_at: Mapped[created_at]


class SellerPayoutAccount(Base):
    """How a seller is paid: their Stripe Connect account, when they have one."""

    __tablename__ = "seller_payout_accounts"

    seller_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    stripe_account: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
