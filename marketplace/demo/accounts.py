"""Demo people and organisations: sellers in six countries, a buyer, a broker, an operator."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts import services
from marketplace.accounts.models import Organisation, OrganisationKind, User

DEMO_PASSWORD = "silk-road-demo"  # noqa: S105 (published demo login)

SELLERS = (
    (
        "hangzhou-tea@demo.example",
        "Li Wei",
        "zh-Hans",
        "Hangzhou West Lake Tea Co.",
        "CN",
        "CNY",
        {"line1": "18 Longjing Road", "city": "Hangzhou", "postal_code": "310013", "country": "CN"},
    ),
    (
        "almaty-crafts@demo.example",
        "Aigerim Nurlanovna",
        "kk",
        "Almaty Felt & Crafts",
        "KZ",
        "KZT",
        {"line1": "45 Abay Avenue", "city": "Almaty", "postal_code": "050000", "country": "KZ"},
    ),
    (
        "bukhara-silk@demo.example",
        "Dilshod Karimov",
        "ru",
        "Bukhara Silk Road Textiles",
        "UZ",
        "UZS",
        {"line1": "12 Bahouddin Naqshband Street", "city": "Bukhara", "country": "UZ"},
    ),
    (
        "istanbul-carpets@demo.example",
        "Elif Yılmaz",
        "tr",
        "Grand Bazaar Carpets",
        "TR",
        "TRY",
        {
            "line1": "Kalpakçılar Caddesi 34",
            "city": "İstanbul",
            "postal_code": "34126",
            "country": "TR",
        },
    ),
    (
        "lahore-spices@demo.example",
        "Ayesha Khan",
        "en",
        "Lahore Spice House",
        "PK",
        "PKR",
        {"line1": "7 Anarkali Bazaar", "city": "Lahore", "postal_code": "54000", "country": "PK"},
    ),
    (
        "dubai-dates@demo.example",
        "Omar Al Falasi",
        "ar",
        "Dubai Date Palace",
        "AE",
        "AED",
        {"line1": "Gold Souk, Deira", "city": "Dubai", "country": "AE"},
    ),
)


def _user(session: Session, hasher: Any, email: str, name: str, locale: str, **extra: Any) -> User:
    user = session.scalar(select(User).where(User.email_key == email))
    if user is None:
        user = services.register(
            session,
            email=email,
            password=DEMO_PASSWORD,
            name=name,
            hasher=hasher,
            locale=locale,
            **extra,
        )
    return user


def load(session: Session, settings: dict[str, Any]) -> str:
    hasher = services.make_password_hasher(
        settings["PASSWORD_HASH_MEMORY_KIB"], settings["PASSWORD_HASH_TIME_COST"]
    )
    for email, name, locale, business, country, currency, address in SELLERS:
        owner = _user(session, hasher, email, name, locale, country=country, currency=currency)
        if not services.organisation_ids(session, owner.id, OrganisationKind.SELLER):
            services.create_organisation(
                session,
                owner,
                OrganisationKind.SELLER,
                {
                    "name": business,
                    "country": country,
                    "address": address,
                    "currency": currency,
                    "locale": locale,
                },
            )
    _user(
        session,
        hasher,
        "buyer@demo.example",
        "Nursultan Abenov",
        "ru",
        country="KZ",
        currency="KZT",
    )
    broker = _user(session, hasher, "broker@demo.example", "Saule Customs", "kk", country="KZ")
    if not services.organisation_ids(session, broker.id, OrganisationKind.BROKERAGE):
        services.create_organisation(
            session,
            broker,
            OrganisationKind.BROKERAGE,
            {
                "name": "Khorgos Customs Brokerage",
                "country": "KZ",
                "countries": ["KZ", "UZ"],
                "address": {"line1": "1 Dostyk Street", "city": "Khorgos", "country": "KZ"},
            },
        )
    operator = _user(session, hasher, "operator@demo.example", "Platform Operator", "en")
    operator.is_operator = True
    count = session.query(Organisation).count()
    return f"accounts: {len(SELLERS)} sellers, a buyer, a broker and an operator ({count} organisations); password {DEMO_PASSWORD!r}"
