"""Catalogue fixtures: a seller with an owner, and a helper that lists goods through the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from marketplace import i18n
from marketplace.catalogue import pricing
from marketplace.money import RateTable
from tests.factories import CATALOGUE_RATES, Shop, store_rates
from tests.helpers import Api


@pytest.fixture
def shop(api: Api) -> Shop:
    owner = api.user("Li Wei")
    return Shop(api, owner, api.seller(owner))


@pytest.fixture
def other_shop(api: Api) -> Shop:
    owner = api.user("Aigerim")
    seller = api.seller(
        owner,
        name="Almaty Felt",
        country="KZ",
        currency="KZT",
        locale="kk",
        address={"line1": "1 Abay", "city": "Almaty", "country": "KZ"},
    )
    return Shop(api, owner, seller)


@pytest.fixture
def rates(session: Session) -> RateTable:
    """RATES stored as the current rate set: the application converts with them."""
    store_rates(session, CATALOGUE_RATES)
    return CATALOGUE_RATES


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    """Each test's database is rolled back: forget which rate tables this process normalized for.

    Requests set the interface locale for the thread; put English back for whatever runs next.
    """
    pricing._refreshed_for.clear()
    yield
    i18n.set_locale(i18n.DEFAULT_LOCALE)
