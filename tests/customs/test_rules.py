"""Destination rules: every shipped record is sourced, dated and unambiguous; the loader keeps operators' edits."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import defaultdict

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.customs import rule_records, rules
from marketplace.customs.models import CustomsRule

COVERED = {
    "GB",
    "US",
    "CN",
    "RU",
    "KZ",
    "UZ",
    "TR",
    "AE",
    "SA",
    "PK",
    "AU",
    "JP",
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
}


def test_every_shipped_record_names_its_source_and_the_date_it_was_checked() -> None:
    for rule in rules.shipped_records():
        assert rule.source.startswith(("https://", "http://")), rule.destination
        assert dt.date(2025, 1, 1) <= rule.checked_on <= dt.date.today(), rule.destination
        assert rule.notes, f"{rule.destination} {rule.valid_from} explains nothing"


def test_every_stored_record_names_its_source_and_checked_date(session: Session) -> None:
    stored = session.scalars(select(CustomsRule)).all()
    assert len(stored) == len(rules.shipped_records())
    for row in stored:
        assert row.source == row.body["source"] and row.source.startswith("http")
        assert row.checked_on.isoformat() == row.body["checked_on"]


def test_no_country_has_two_records_in_force_on_the_same_day() -> None:
    periods: dict[str, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for rule in rules.shipped_records():
        for country in rule.countries:
            periods[country].append((rule.valid_from, rule.valid_to or dt.date.max))
    for country, spans in periods.items():
        spans.sort()
        for (_start, end), (next_start, _end) in itertools.pairwise(spans):
            assert end < next_start, country
            assert (next_start - end).days == 1, f"{country} has a gap after {end}"


def test_every_required_destination_is_covered_today() -> None:
    today = dt.date(2026, 11, 28)
    in_force = {
        country
        for rule in rules.shipped_records()
        if rule.valid_from <= today and (rule.valid_to is None or today <= rule.valid_to)
        for country in rule.countries
    }
    assert in_force >= COVERED


def test_the_eu_records_carry_each_member_states_vat() -> None:
    eu = [rule for rule in rules.shipped_records() if rule.destination == "EU"]
    latest = max(eu, key=lambda rule: rule.valid_from)
    assert len(latest.countries) == 27
    assert (
        str(latest.countries["DE"].vat_rate) == "19"
        and str(latest.countries["HU"].vat_rate) == "27"
    )
    assert latest.countries["SE"].currency == "SEK"


def test_loading_again_changes_nothing_and_keeps_an_operators_edit(session: Session) -> None:
    row = session.scalars(select(CustomsRule).where(CustomsRule.destination == "GB")).one()
    body = dict(row.body)
    body["countries"] = {"GB": {"currency": "GBP", "vat_rate": "21"}}
    row.body = body
    row.edited_by = "operator-id"
    session.flush()
    before = {
        r.id: json.dumps(r.body, sort_keys=True) for r in session.scalars(select(CustomsRule))
    }

    rule_records.load_rules(session)

    after = {r.id: json.dumps(r.body, sort_keys=True) for r in session.scalars(select(CustomsRule))}
    assert after == before
    assert session.get(CustomsRule, row.id).body["countries"]["GB"]["vat_rate"] == "21"  # type: ignore[union-attr]


def test_the_loader_restores_a_shipped_record_nobody_edited(session: Session) -> None:
    row = session.scalars(
        select(CustomsRule).where(
            CustomsRule.destination == "JP", CustomsRule.valid_from == dt.date(2019, 10, 1)
        )
    ).one()
    row.body = {**row.body, "default_duty_rate": "99"}
    session.flush()
    rule_records.load_rules(session)
    session.refresh(row)
    assert row.body["default_duty_rate"] == "3"


def test_additional_duties_name_their_source_and_never_overlap_for_one_origin() -> None:
    # The same duty (by name) may not be in force twice for one origin on one day, and each entry
    # sits inside its rule's period.
    def covers(duty: rules.AdditionalDuty, origin: str) -> bool:
        return origin not in duty.excluded_origins and (
            "*" in duty.origins or origin in duty.origins
        )

    for rule in rules.shipped_records():
        end = rule.valid_to or dt.date.max
        by_name: dict[str, list[rules.AdditionalDuty]] = defaultdict(list)
        for duty in rule.additional_duties:
            assert duty.source.startswith("https://") and duty.notes, duty.name
            assert dt.date(2025, 1, 1) <= duty.checked_on <= dt.date.today(), duty.name
            assert duty.valid_from <= end and (duty.valid_to or dt.date.max) >= rule.valid_from
            by_name[duty.name].append(duty)
        for name, duties in by_name.items():
            for one, other in itertools.combinations(duties, 2):
                if one.valid_from > (other.valid_to or dt.date.max) or other.valid_from > (
                    one.valid_to or dt.date.max
                ):
                    continue
                origins = (set(one.origins) | set(other.origins) | {"ZZ"}) - {"*"}
                assert not any(covers(one, o) and covers(other, o) for o in origins), name


def test_the_us_additional_duties_leave_no_day_uncovered_from_china() -> None:
    # From the first IEEPA order to today every day has at least one additional duty on Chinese
    # apparel, so no period silently charges MFN alone.
    on, today = dt.date(2025, 2, 4), dt.date(2026, 12, 2)
    records = [rule for rule in rules.shipped_records() if rule.destination == "US"]
    while on <= today:
        rule = next(
            r for r in records if r.valid_from <= on and (r.valid_to is None or on <= r.valid_to)
        )
        assert any(duty.applies("CN", "610910", on) for duty in rule.additional_duties), on
        on += dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("period", "on", "bounds"),
    [
        ("calendar_month", "2025-12-15", ("2025-12-01", "2025-12-31")),
        ("calendar_month", "2024-02-10", ("2024-02-01", "2024-02-29")),
        ("calendar_quarter", "2025-11-15", ("2025-10-01", "2025-12-31")),
        ("calendar_quarter", "2025-01-01", ("2025-01-01", "2025-03-31")),
    ],
)
def test_an_allowance_period_is_the_calendar_month_or_quarter_of_the_day(
    period: str, on: str, bounds: tuple[str, str]
) -> None:
    first, last = (dt.date.fromisoformat(day) for day in bounds)
    assert rules.AllowancePeriod(period).bounds(dt.date.fromisoformat(on)) == (first, last)
    assert rules.AllowancePeriod.CONSIGNMENT.bounds(dt.date.fromisoformat(on)) is None
