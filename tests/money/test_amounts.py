"""Money completions: parsing API amounts, allocation, and the marshmallow money fields."""

from __future__ import annotations

from decimal import Decimal

import marshmallow as ma
import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.api.money_fields import MoneyField, MoneyInputSchema, MoneyOutputSchema
from marketplace.api.schemas import StrictSchema
from marketplace.errors import Invalid
from marketplace.i18n import use_locale
from marketplace.money import InvalidAmount, Money, allocate, parse_amount
from marketplace.money.currencies import known_currencies, minor_units


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("12.50", "EUR", "12.50"),
        ("12.5", "EUR", "12.50"),
        ("12", "EUR", "12.00"),
        ("0", "EUR", "0.00"),
        ("1500", "JPY", "1500"),
        ("12.250", "KWD", "12.250"),
        ("999999999999999.999", "KWD", "999999999999999.999"),
    ],
)
def test_exact_decimal_strings_are_accepted_and_quantized(
    text: str, currency: str, expected: str
) -> None:
    money = parse_amount(text, currency)
    assert money.to_api() == {"amount": expected, "currency": currency}


@pytest.mark.parametrize(
    "value",
    [
        12.5,
        12,
        True,
        None,
        ["12.50"],
        {"amount": "1"},
        "",
        " 12.50",
        "12.50 ",
        "12 .50",
        "1 000",
        "12,50",
        "+12.50",
        "012.50",
        "00",
        ".5",
        "12.",
        "1e3",
        "1E3",
        "1.2e-1",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "inf",
        "0x10",
        "1_000",
        "١٢",
        "１２",
        "12.50\n",
        "\t12",
        "--1",
        "-",
        "- 1",
    ],
)
def test_anything_but_a_canonical_decimal_string_is_refused(value: object) -> None:
    with pytest.raises(InvalidAmount) as raised:
        parse_amount(value, "EUR", allow_negative=True)
    assert raised.value.error_code == "amount_invalid"
    assert raised.value.status == 422


def test_more_decimals_than_the_currency_has_are_refused() -> None:
    for text, currency in (
        ("12.505", "EUR"),
        ("1500.5", "JPY"),
        ("1.2345", "KWD"),
        ("1.000", "USD"),
    ):
        with pytest.raises(InvalidAmount) as raised:
            parse_amount(text, currency)
        assert "decimal places" in str(raised.value.detail)


def test_negative_amounts_only_where_allowed() -> None:
    with pytest.raises(InvalidAmount, match="negative"):
        parse_amount("-1.00", "EUR")
    assert parse_amount("-1.00", "EUR", allow_negative=True) == Money.of("-1.00", "EUR")
    with pytest.raises(InvalidAmount):
        parse_amount("-0.00", "EUR", allow_negative=True)


def test_zero_can_be_refused() -> None:
    with pytest.raises(InvalidAmount, match="zero"):
        parse_amount("0.00", "EUR", allow_zero=False)


def test_absurd_sizes_are_refused_before_any_arithmetic() -> None:
    with pytest.raises(InvalidAmount, match="too large"):
        parse_amount("1" + "0" * 15, "EUR")
    with pytest.raises(InvalidAmount):
        parse_amount("9" * 10_000, "EUR")


def test_an_unknown_currency_is_invalid_input_not_a_crash() -> None:
    with pytest.raises(Invalid) as raised:
        parse_amount("1.00", "XYZ")
    assert raised.value.error_code == "currency_unknown"


def test_messages_are_rendered_in_the_callers_locale() -> None:
    with use_locale("ru"), pytest.raises(InvalidAmount) as raised:
        parse_amount("1.005", "EUR")
    with use_locale("ru"):
        assert "EUR" in str(raised.value.detail)
        assert str(raised.value.detail) != "EUR amounts have at most 2 decimal places."


amount_texts = st.from_regex(r"\A-?[0-9]{1,17}(\.[0-9]{0,4})?\Z") | st.text(max_size=30)


@given(text=amount_texts, currency=st.sampled_from(["EUR", "JPY", "KWD", "CNY"]))
def test_parsing_never_accepts_a_value_that_does_not_round_trip(text: str, currency: str) -> None:
    try:
        money = parse_amount(text, currency, allow_negative=True)
    except InvalidAmount:
        return
    assert money.amount == Decimal(text)
    assert money.is_quantized()
    again = parse_amount(money.to_api()["amount"], currency, allow_negative=True)
    assert again == money
    assert Money.from_minor(money.minor, currency) == money


def test_allocation_gives_leftover_units_to_the_largest_remainders() -> None:
    parts = allocate(Money.of("100.00", "EUR"), [1, 1, 1])
    assert [p.amount for p in parts] == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    parts = allocate(Money.of("10", "JPY"), [Decimal("0.2"), Decimal("0.5"), Decimal("0.3")])
    assert [p.amount for p in parts] == [2, 5, 3]
    parts = allocate(Money.of("0.05", "EUR"), [3, 0, 1])
    assert [p.amount for p in parts] == [Decimal("0.04"), Decimal("0.00"), Decimal("0.01")]


def test_allocating_a_negative_total_mirrors_the_positive_one() -> None:
    parts = allocate(Money.of("-100.00", "EUR"), [1, 1, 1])
    assert [p.amount for p in parts] == [Decimal("-33.34"), Decimal("-33.33"), Decimal("-33.33")]


@pytest.mark.parametrize(
    ("weights", "error"),
    [
        ([], ValueError),
        ([0, 0], ValueError),
        ([1, -1], ValueError),
        ([1.5], TypeError),
        ([True], TypeError),
        ([Decimal("NaN")], ValueError),
    ],
)
def test_allocation_refuses_weights_that_cannot_split_an_amount(weights: list, error: type) -> None:
    with pytest.raises(error):
        allocate(Money.of("1.00", "EUR"), weights)


def test_allocation_refuses_an_unrounded_total() -> None:
    with pytest.raises(ValueError, match="quantized"):
        allocate(Money.of("1.005", "EUR"), [1, 1])


@given(
    units=st.integers(min_value=-(10**15), max_value=10**15),
    currency=st.sampled_from(sorted(known_currencies())),
    weights=st.lists(
        st.integers(min_value=0, max_value=10**9)
        | st.decimals(
            min_value=0, max_value=10**6, places=4, allow_nan=False, allow_infinity=False
        ),
        min_size=1,
        max_size=12,
    ).filter(lambda ws: sum(ws) > 0),
)
def test_allocation_always_sums_to_the_total_exactly(
    units: int, currency: str, weights: list
) -> None:
    total = Money.from_minor(units, currency)
    parts = allocate(total, weights)
    assert len(parts) == len(weights)
    assert sum((p.amount for p in parts), Decimal(0)) == total.amount
    assert all(p.currency == currency and p.is_quantized() for p in parts)
    weight_sum = sum(Decimal(w) for w in weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = total.amount * Decimal(weight) / weight_sum
        assert abs(part.amount - exact) < Decimal(1).scaleb(-minor_units(currency))


@given(
    amount=st.decimals(
        allow_nan=False, allow_infinity=False, min_value=-(10**12), max_value=10**12
    ),
    currency=st.sampled_from(["EUR", "JPY", "KWD"]),
)
def test_quantize_is_idempotent(amount: Decimal, currency: str) -> None:
    once = Money(amount, currency).quantize()
    assert once.quantize() == once
    assert once.quantize().amount.as_tuple() == once.amount.as_tuple()


class PriceSchema(StrictSchema):
    price = MoneyField(required=True)
    refund = MoneyField(allow_negative=True, allow_zero=False)


def test_the_money_field_loads_a_money_value() -> None:
    loaded = PriceSchema().load({"price": {"amount": "12.50", "currency": "CNY"}})
    assert loaded["price"] == Money.of("12.50", "CNY")


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"price": {"amount": 12.5, "currency": "CNY"}}, ("price", "amount")),
        ({"price": {"amount": "12.505", "currency": "CNY"}}, ("price", "amount")),
        ({"price": {"amount": "-1.00", "currency": "CNY"}}, ("price", "amount")),
        ({"price": {"amount": "1.00", "currency": "ZZZ"}}, ("price", "currency")),
        ({"price": {"amount": "1.00", "currency": "HRK"}}, ("price", "currency")),
        ({"price": {"amount": "1.00"}}, ("price", "currency")),
        ({"price": {"amount": "1.00", "currency": "CNY", "extra": 1}}, ("price", "extra")),
        ({"price": "12.50"}, ("price", "_schema")),
        (
            {
                "price": {"amount": "1", "currency": "EUR"},
                "refund": {"amount": "0", "currency": "EUR"},
            },
            ("refund", "amount"),
        ),
    ],
)
def test_the_money_field_reports_bad_input_on_the_field_path(
    body: dict, path: tuple[str, str]
) -> None:
    with pytest.raises(ma.ValidationError) as raised:
        PriceSchema().load(body)
    messages = raised.value.messages
    assert isinstance(messages, dict)
    assert path[1] in messages[path[0]], messages


def test_the_money_field_allows_negative_amounts_when_asked() -> None:
    loaded = PriceSchema().load(
        {
            "price": {"amount": "1", "currency": "EUR"},
            "refund": {"amount": "-2.5", "currency": "EUR"},
        }
    )
    assert loaded["refund"] == Money.of("-2.50", "EUR")


def test_money_output_dumps_the_api_shape_with_an_optional_formatted_string() -> None:
    money = Money.of("1234.5", "CNY")
    assert MoneyOutputSchema().dump(money) == {"amount": "1234.50", "currency": "CNY"}
    with use_locale("en"):
        assert MoneyOutputSchema(formatted=True).dump(money) == {
            "amount": "1234.50",
            "currency": "CNY",
            "formatted": "CN¥1,234.50",
        }


def test_money_input_schema_is_strict_on_its_own() -> None:
    assert MoneyInputSchema().load({"amount": "1500", "currency": "JPY"}) == Money.of(1500, "JPY")
