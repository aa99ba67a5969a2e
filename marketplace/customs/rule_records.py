"""Destination rule records in the database: loading the shipped ones, finding the one in force,
and the operators' edits.

Every record names its source and the date it was checked; the landed-cost engine picks the
record in force on the day of the estimate and refuses to guess when there is none. A row an
operator edited is theirs: the loader never overwrites it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import ColumnElement, Date, Select, bindparam, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from marketplace.accounts.models import User
from marketplace.accounts.services import require_operator
from marketplace.customs.models import CustomsRule, CustomsRuleCountry
from marketplace.customs.rules import Rule, parse, serialize, shipped_records
from marketplace.errors import Conflict, Invalid, NotFound
from marketplace.i18n import _


class NoCustomsRule(Invalid):
    code = "no_customs_rule"
    default_detail = _("No customs rules are known for this destination on this date.")


def _apply(row: CustomsRule, rule: Rule) -> None:
    row.destination = rule.destination
    row.valid_from = rule.valid_from
    row.valid_to = rule.valid_to
    row.source = rule.source
    row.checked_on = rule.checked_on
    row.body = serialize(rule)
    wanted = set(rule.countries)
    row.countries = [c for c in row.countries if c.country in wanted] + [
        CustomsRuleCountry(country=code)
        for code in sorted(wanted - {c.country for c in row.countries})
    ]


def load_rules(session: Session) -> int:
    """Bring the shipped records into the database; rows an operator edited are left alone."""
    records = shipped_records()
    rows = {
        (row.destination, row.valid_from): row
        for row in session.scalars(select(CustomsRule).options(selectinload(CustomsRule.countries)))
    }
    shipped = {(rule.destination, rule.valid_from) for rule in records}
    for key, row in rows.items():
        if key not in shipped and row.edited_by is None:
            session.delete(row)
    session.flush()
    for rule in records:
        existing = rows.get((rule.destination, rule.valid_from))
        if existing is None:
            existing = CustomsRule()
            session.add(existing)
        elif existing.edited_by is not None or existing.body == serialize(rule):
            continue
        _apply(existing, rule)
    session.flush()
    return len(records)


_parsed: dict[tuple[str, dt.datetime], Rule] = {}


def rule_for(row: CustomsRule) -> Rule:
    """The record's rule, parsed once per process and version: every checkout needs one, and
    validating the body costs more than the rest of the estimate. An edit changes `updated_at`."""
    key = (row.id, row.updated_at)
    rule = _parsed.get(key)
    if rule is None:
        if len(_parsed) > 256:  # a few dozen records exist; stale versions only pile up on edits
            _parsed.clear()
        rule = _parsed[key] = parse(row.body)
    return rule


@dataclass(frozen=True)
class InForce:
    """The record in force somewhere on a day: its id and what it says."""

    id: str
    rule: Rule


def in_force_query(country: ColumnElement[str]) -> Select[str, dt.datetime]:
    """The id and version of the record covering `country` (a parameter, or a column of the
    caller's statement) on `:on`."""
    on = bindparam("on", type_=Date())
    return (
        select(CustomsRule.id, CustomsRule.updated_at)
        .join(CustomsRuleCountry)
        .where(
            CustomsRuleCountry.country == country,
            CustomsRule.valid_from <= on,
            or_(CustomsRule.valid_to.is_(None), CustomsRule.valid_to >= on),
        )
        .order_by(CustomsRule.valid_from.desc())
        .limit(1)
    )


@functools.cache
def in_force_statement() -> Select[str, dt.datetime]:
    """`in_force_query` for `:country`, built once: every checkout runs it (or folds the query
    into a statement of its own, see `checkout.pricing.in_force_columns`)."""
    return in_force_query(bindparam("country"))


def rule_in_force(session: Session, country: str, on: dt.date) -> InForce:
    """The record covering `country` on `on`; NoCustomsRule when there is none (never a guess).

    Reads the record's id and version; its body only when this process has not parsed that
    version yet (see `rule_for`), so a checkout does not decode the JSON every time.
    """
    found = session.execute(in_force_statement(), {"country": country, "on": on}).first()
    return in_force_of(
        session, country, on, None if found is None else (found.id, found.updated_at)
    )


def in_force_of(
    session: Session, country: str, on: dt.date, version: tuple[str, dt.datetime] | None
) -> InForce:
    """The record `in_force_statement` found for `country` on `on` (its id and version, or None
    for none: NoCustomsRule)."""
    if version is None:
        message = _(
            "No customs rules are known for %(country)s on %(date)s.",
            country=country,
            date=on.isoformat(),
        )
        raise NoCustomsRule(
            message, errors={"to": [message]}, extra={"country": country, "date": on.isoformat()}
        )
    rule = _parsed.get(version)
    if rule is None:
        row = session.get(CustomsRule, version[0])
        if row is None:  # deleted since: read again, and find what is in force now
            return rule_in_force(session, country, on)
        rule = rule_for(row)
    return InForce(version[0], rule)


class RuleFinder(Protocol):
    def __call__(self, session: Session, country: str, on: dt.date) -> InForce: ...


class RulesInForce:
    """`rule_in_force` that reads each destination and day once: the parcels of one order
    share a destination, so the order reads its record once. Made per order, never kept:
    an operator's edit applies to the next order."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, dt.date], InForce | NoCustomsRule] = {}

    def know(
        self,
        session: Session,
        country: str,
        on: dt.date,
        version: tuple[str, dt.datetime] | None,
    ) -> None:
        """Take what a caller's own statement found (see `in_force_of`) instead of reading it."""
        self._keep(country, on, lambda: in_force_of(session, country, on, version))

    def __call__(self, session: Session, country: str, on: dt.date) -> InForce:
        found = self._found.get((country, on))
        if found is None:
            found = self._keep(country, on, lambda: rule_in_force(session, country, on))
        if isinstance(found, NoCustomsRule):
            raise found
        return found

    def _keep(
        self, country: str, on: dt.date, find: Callable[[], InForce]
    ) -> InForce | NoCustomsRule:
        """The record `find` gives, or its refusal, kept for the destination and day."""
        try:
            found: InForce | NoCustomsRule = find()
        except NoCustomsRule as missing:
            found = missing
        self._found[(country, on)] = found
        return found


def same_customs_territory(session: Session, origin: str, destination: str, on: dt.date) -> bool:
    """Whether a parcel from `origin` to `destination` stays inside one customs territory.

    The same country, or two members of the union whose rule covers the destination that day
    (DE and FR in the EU, RU and KZ in the EAEU). A destination without a rule is a border.
    """
    if origin == destination:
        return True
    try:
        found = rule_in_force(session, destination, on)
    except NoCustomsRule:
        return False
    return origin in found.rule.countries


def list_rules(
    session: Session, user: User, *, destination: str | None = None, country: str | None = None
) -> list[CustomsRule]:
    """Every record, by destination then start date (a few dozen rows: no paging needed)."""
    require_operator(user)
    query = select(CustomsRule).order_by(CustomsRule.destination, CustomsRule.valid_from)
    if destination:
        query = query.where(CustomsRule.destination == destination)
    if country:
        query = query.where(CustomsRule.countries.any(CustomsRuleCountry.country == country))
    return list(session.scalars(query))


def get_rule(session: Session, user: User, rule_id: str) -> CustomsRule:
    require_operator(user)
    row = session.get(CustomsRule, rule_id)
    if row is None:
        raise NotFound()
    return row


def _check_overlaps(session: Session, rule: Rule, exclude_id: str | None) -> None:
    """Two records may not cover the same country on the same day: the engine must find one."""
    query = (
        select(CustomsRule.id, CustomsRuleCountry.country)
        .join(CustomsRuleCountry)
        .where(
            CustomsRuleCountry.country.in_(sorted(rule.countries)),
            or_(CustomsRule.valid_to.is_(None), CustomsRule.valid_to >= rule.valid_from),
        )
    )
    if rule.valid_to is not None:
        query = query.where(CustomsRule.valid_from <= rule.valid_to)
    if exclude_id is not None:
        query = query.where(CustomsRule.id != exclude_id)
    clash = session.execute(query.limit(1)).first()
    if clash is not None:
        message = _(
            "Another rule for %(country)s is in force during this period.", country=clash.country
        )
        raise Conflict(
            message,
            code="customs_rule_overlap",
            errors={"valid_from": [message]},
            extra={"conflicting_rule_id": clash.id},
        )
    same_start = select(CustomsRule.id).where(
        CustomsRule.destination == rule.destination, CustomsRule.valid_from == rule.valid_from
    )
    if exclude_id is not None:
        same_start = same_start.where(CustomsRule.id != exclude_id)
    existing = session.scalar(same_start)
    if existing is not None:
        message = _(
            "A rule for %(destination)s starting on that day already exists.",
            destination=rule.destination,
        )
        raise Conflict(
            message,
            code="customs_rule_overlap",
            errors={"valid_from": [message]},
            extra={"conflicting_rule_id": existing},
        )


def create_rule(session: Session, user: User, rule: Rule) -> CustomsRule:
    """Add a record, typically a new validity period after a change in the law."""
    require_operator(user)
    _check_overlaps(session, rule, None)
    row = CustomsRule(edited_by=user.id)
    _apply(row, rule)
    session.add(row)
    _flush_or_conflict(session, rule)
    return row


def replace_rule(session: Session, user: User, rule_id: str, rule: Rule) -> CustomsRule:
    """Replace a record's content; it is then the operator's and the loader no longer touches it."""
    row = get_rule(session, user, rule_id)
    _check_overlaps(session, rule, row.id)
    _apply(row, rule)
    row.edited_by = user.id
    _flush_or_conflict(session, rule)
    return row


def _flush_or_conflict(session: Session, rule: Rule) -> None:
    """A concurrent operator who saved the same destination and start first wins; this is a 409."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        message = _(
            "A rule for %(destination)s starting on that day already exists.",
            destination=rule.destination,
        )
        raise Conflict(
            message, code="customs_rule_overlap", errors={"valid_from": [message]}
        ) from exc
