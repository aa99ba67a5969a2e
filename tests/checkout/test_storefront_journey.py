"""The whole buyer journey through a client generated from the served OpenAPI document, against a
live server: catalogue -> cart -> address -> complete -> bank-transfer instructions -> capture -> paid,
and the card path against real localstripe (client_secret, then the signed webhook marks it paid).

Nothing is mocked: the client is `openapi-python-client`'s output for our document, the server is
the application under werkzeug on a loopback port, Stripe is localstripe through the real SDK.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from sqlalchemy import update
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from tests.checkout.storefront import Storefront, storefront
from tests.payments.localstripe_server import LocalStripe
from tests.payments.stripe_helpers import API_KEY, PUBLISHABLE_KEY, WEBHOOK_SECRET, pay_with_card

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def shop(
    tmp_path_factory: pytest.TempPathFactory, localstripe: LocalStripe
) -> Iterator[Storefront]:
    settings = {
        "PAYMENT_GATEWAYS": "manual,stripe",
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_API_BASE": localstripe.url,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    with storefront(tmp_path_factory.mktemp("storefront"), settings) as live:
        localstripe.register_webhook(
            "storefront-journey", f"{live.url}/api/v1/webhooks/stripe", WEBHOOK_SECRET
        )
        yield live


def _call(shop: Storefront, endpoint: str, **kwargs: Any) -> Any:
    """Call a generated endpoint; the parsed answer (a generated model) as a plain dict."""
    response = shop.module(f"api.{endpoint}").sync_detailed(**kwargs)
    assert 200 <= response.status_code < 300, (response.status_code, response.content)
    parsed = response.parsed
    if isinstance(parsed, list):
        return [item.to_dict() for item in parsed]
    return parsed.to_dict() if parsed is not None else None


def _model(shop: Storefront, name: str, data: dict[str, Any]) -> Any:
    module = shop.module(f"models.{_snake(name)}")
    return getattr(module, name).from_dict(data)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _user(shop: Storefront, email: str, name: str) -> Any:
    anonymous = shop.anonymous()
    _call(
        shop,
        "accounts.post_auth_register",
        client=anonymous,
        body=_model(shop, "Register", {"email": email, "password": PASSWORD, "name": name}),
    )
    token = _call(
        shop,
        "accounts.post_auth_tokens",
        client=anonymous,
        body=_model(shop, "Credentials", {"email": email, "password": PASSWORD}),
    )["token"]
    return shop.signed_in(token, **{"Accept-Language": "ru"})


def _seller(shop: Storefront, owner: Any, *, name: str, country: str, currency: str) -> str:
    seller = _call(
        shop,
        "accounts.post_sellers",
        client=owner,
        body=_model(
            shop,
            "SellerCreate",
            {
                "name": name,
                "country": country,
                "address": {"line1": "1 Market Street", "city": "Capital", "country": country},
                "currency": currency,
                "locale": "en",
            },
        ),
    )["id"]
    rates = [
        _model(
            shop,
            "ShippingRateRow",
            {
                "countries": ["*"],
                "base": {"amount": "60.00", "currency": currency},
                "per_kg": {"amount": "25.00", "currency": currency},
            },
        )
    ]
    _call(
        shop,
        "orders.put_sellers_by_seller_id_shipping_rates",
        seller_id=seller,
        client=owner,
        body=rates,
    )
    return str(seller)


def _listing(shop: Storefront, owner: Any, seller: str, **values: Any) -> str:
    body = {
        "seller_id": seller,
        "language": "en",
        "stock": 10,
        "weight_grams": 400,
        "ships_to": ["*"],
        "status": "published",
        **values,
    }
    return str(
        _call(
            shop,
            "listings.post_listings",
            client=owner,
            body=_model(shop, "ListingCreate", body),
        )["id"]
    )


@pytest.fixture(scope="module")
def goods(shop: Storefront) -> dict[str, str]:
    tea_owner = _user(shop, "tea@journey.test", "Li Wei")
    tea_seller = _seller(shop, tea_owner, name="Hangzhou Tea", country="CN", currency="CNY")
    carpet_owner = _user(shop, "carpets@journey.test", "Elif")
    carpet_seller = _seller(shop, carpet_owner, name="Grand Bazaar", country="TR", currency="TRY")
    return {
        "tea": _listing(
            shop,
            tea_owner,
            tea_seller,
            sku="TEA-1",
            title="Longjing green tea",
            category="green-tea",
            price={"amount": "128.00", "currency": "CNY"},
            hs_code="090210",
            origin_country="CN",
        ),
        "kilim": _listing(
            shop,
            carpet_owner,
            carpet_seller,
            sku="KILIM-1",
            title="Anatolian kilim",
            category="kilims",
            price={"amount": "900.00", "currency": "TRY"},
            hs_code="570210",
            origin_country="TR",
        ),
    }


def _operator(shop: Storefront) -> Any:
    client = _user(shop, "operator@journey.test", "Operator")
    with Session(shop.engine) as session:
        session.execute(
            update(User).where(User.email == "operator@journey.test").values(is_operator=True)
        )
        session.commit()
    return client


HOME = {
    "name": "Aigerim Bekova",
    "line1": "12 Abay Avenue",
    "city": "Almaty",
    "postal_code": "050000",
    "country": "KZ",
    "phone": "+7 701 234 5678",
    "email": "aigerim@example.kz",
}


def _order(shop: Storefront, buyer: Any, goods: dict[str, str], key: str) -> dict[str, Any]:
    """From the catalogue through a cart and the address book to an order, as a storefront would."""
    page = _call(
        shop,
        "catalogue.get_catalogue",
        client=buyer,
        currency=shop.module("models.currency_code").CurrencyCode("KZT"),
        ship_to=shop.module("models.country_code").CountryCode("KZ"),
    )
    found = {item["id"] for item in page["items"]}
    assert {goods["tea"], goods["kilim"]} <= found
    address = _call(
        shop,
        "addresses.post_me_addresses",
        client=buyer,
        body=_model(shop, "SavedAddressIn", HOME),
    )
    ship_to = {k: v for k, v in address.items() if k != "id"}
    cart = _call(
        shop,
        "carts.post_carts",
        client=buyer,
        body=_model(shop, "CartIn", {"currency": "KZT", "incoterm": "DDP"}),
    )
    for listing, quantity in ((goods["tea"], 2), (goods["kilim"], 1)):
        cart = _call(
            shop,
            "carts.post_carts_by_cart_id_lines",
            cart_id=cart["id"],
            client=buyer,
            body=_model(shop, "CartLineIn", {"listing_id": listing, "quantity": quantity}),
        )
    assert [p["code"] for p in cart["problems"]] == ["ship_to_missing"]
    cart = _call(
        shop,
        "carts.patch_carts_by_cart_id",
        cart_id=cart["id"],
        client=buyer,
        body=_model(shop, "CartPatch", {"ship_to": ship_to}),
    )
    assert cart["problems"] == [] and len(cart["shipments"]) == 2
    order = _call(
        shop,
        "carts.post_carts_by_cart_id_complete",
        cart_id=cart["id"],
        client=buyer,
        idempotency_key=key,
    )
    assert order["totals"]["grand_total"] == cart["totals"]["payable_at_checkout"]
    assert order["status"] == "pending_payment" and len(order["shipments"]) == 2
    assert order["ship_to"]["phone"] == HOME["phone"]
    return dict(order)


def _pay(shop: Storefront, buyer: Any, order_id: str, gateway: str) -> dict[str, Any]:
    return dict(
        _call(
            shop,
            "payments.post_orders_by_order_id_payments",
            order_id=order_id,
            client=buyer,
            body=_model(shop, "PaymentCreate", {"gateway": gateway}),
        )
    )


def _status(shop: Storefront, buyer: Any, order_id: str) -> str:
    return str(
        _call(shop, "orders.get_orders_by_order_id", order_id=order_id, client=buyer)["status"]
    )


def test_a_buyer_pays_by_bank_transfer_and_the_operator_captures_it(
    shop: Storefront, goods: dict[str, str]
) -> None:
    buyer = _user(shop, "buyer@journey.test", "Aigerim")
    order = _order(shop, buyer, goods, key="journey-transfer")
    methods = _call(
        shop,
        "payments.get_payment_methods",
        client=buyer,
        currency=shop.module("models.currency_code").CurrencyCode("KZT"),
    )
    assert {(m["gateway"], m["kind"]) for m in methods} == {
        ("manual", "bank_transfer"),
        ("stripe", "card"),
    }
    assert {m["name"] for m in methods} == {"Банковский перевод", "Карта"}

    payment = _pay(shop, buyer, order["id"], "manual")
    instructions = payment["instructions"]
    assert instructions["reference"] == order["number"]
    assert instructions["amount"] == {
        "amount": order["totals"]["grand_total"]["amount"],
        "currency": "KZT",
    }
    assert instructions["iban"] and instructions["beneficiary"] and instructions["due_at"]
    assert _status(shop, buyer, order["id"]) == "pending_payment"

    operator = _operator(shop)
    captured = _call(
        shop,
        "payments.post_payments_by_payment_id_capture",
        payment_id=payment["id"],
        client=operator,
    )
    assert captured["status"] == "succeeded"
    assert _status(shop, buyer, order["id"]) == "paid"


def test_a_buyer_pays_by_card_and_the_signed_webhook_marks_the_order_paid(
    shop: Storefront, goods: dict[str, str], localstripe: LocalStripe
) -> None:
    buyer = _user(shop, "card-buyer@journey.test", "Nursultan")
    order = _order(shop, buyer, goods, key="journey-card")
    payment = _pay(shop, buyer, order["id"], "stripe")
    assert payment["publishable_key"] == PUBLISHABLE_KEY
    secret = payment["client_secret"]
    # What Stripe.js does with the client secret: confirm the card on the PaymentIntent.
    intent = secret.split("_secret_")[0]
    pay_with_card(stripe.StripeClient(API_KEY, base_addresses={"api": localstripe.url}), intent)
    deadline = time.monotonic() + 15
    while _status(shop, buyer, order["id"]) != "paid":
        assert time.monotonic() < deadline, "the webhook did not mark the order paid"
        time.sleep(0.2)
