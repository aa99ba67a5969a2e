"""Sellers manage their listings through the API."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from marketplace.catalogue.models import Listing
from tests.factories import Shop
from tests.helpers import Api, assert_problem


def test_seller_member_creates_and_reads_a_listing(api: Api, shop: Shop) -> None:
    created = shop.listing(sku="LJ-250", hs_code="0902 10 00", ships_to=["KZ", "UZ"])
    assert created["sku"] == "LJ-250"
    assert created["hs_code"] == "09021000"
    assert created["price"] == {"amount": "120.00", "currency": "CNY"}
    assert created["ships_to"] == ["KZ", "UZ"]
    read = api.get(f"/listings/{created['id']}", as_=shop.owner)
    assert read.status_code == 200 and read.get_json() == created


def test_listing_needs_a_real_hs_subheading_category_and_price(
    api: Api, shop: Shop, session: Session
) -> None:
    before = session.scalar(select(func.count()).select_from(Listing))
    cases = [
        ({"hs_code": "0902.99"}, "hs_code"),
        ({"hs_code": "12"}, "hs_code"),
        ({"category": "no-such-category"}, "category"),
        ({"price": {"amount": "12.345", "currency": "CNY"}}, "price.amount"),
        ({"price": {"amount": 12.5, "currency": "CNY"}}, "price.amount"),
        ({"price": {"amount": "0", "currency": "CNY"}}, "price.amount"),
        ({"price": {"amount": "-1.00", "currency": "CNY"}}, "price.amount"),
        ({"stock": -1}, "stock"),
        ({"weight_grams": 0}, "weight_grams"),
        ({"ships_to": ["*", "KZ"]}, "ships_to"),
        ({"ships_to": ["XX"]}, "ships_to.0"),
        ({"ships_to": []}, "ships_to"),
        ({"origin_country": "XX"}, "origin_country"),
        ({"language": "not a tag"}, "language"),
        ({"status": "archived"}, "status"),
        ({"surprise": 1}, "surprise"),
    ]
    for overrides, field in cases:
        body = assert_problem(
            api.post("/listings", json=shop.body(**overrides), as_=shop.owner), 422
        )
        assert field in body["errors"], (overrides, body)
    assert session.scalar(select(func.count()).select_from(Listing)) == before


def test_sku_is_unique_per_seller_but_not_across_sellers(
    api: Api, shop: Shop, other_shop: Shop
) -> None:
    shop.listing(sku="SAME")
    assert_problem(
        api.post("/listings", json=shop.body(sku="SAME"), as_=shop.owner), 409, "sku_taken"
    )
    other_shop.listing(sku="SAME")


def test_only_members_of_the_seller_may_list_or_see_its_listings(
    api: Api, shop: Shop, other_shop: Shop
) -> None:
    listing = shop.listing()
    stranger = api.user()
    assert_problem(api.post("/listings", json=shop.body(), as_=stranger), 404)
    assert_problem(api.post("/listings", json=shop.body(), as_=other_shop.owner), 404)
    for method in ("get", "delete"):
        assert_problem(
            getattr(api, method)(f"/listings/{listing['id']}", as_=other_shop.owner), 404
        )
    assert_problem(
        api.patch(f"/listings/{listing['id']}", json={"stock": 1}, as_=other_shop.owner), 404
    )
    assert_problem(api.get(f"/listings/{listing['id']}/translations", as_=other_shop.owner), 404)
    assert_problem(
        api.get("/listings", as_=shop.owner, query_string={"seller_id": other_shop.seller["id"]}),
        404,
    )
    assert_problem(api.post("/listings", json=shop.body()), 401)
    assert_problem(api.get(f"/listings/{listing['id']}"), 401)


def test_a_colleague_added_as_member_manages_the_listings(api: Api, shop: Shop) -> None:
    colleague = api.user()
    api.join(shop.owner, colleague, f"/sellers/{shop.seller['id']}")
    listing = shop.listing()
    changed = api.patch(f"/listings/{listing['id']}", json={"stock": 3}, as_=colleague)
    assert changed.status_code == 200 and changed.get_json()["stock"] == 3


def test_own_listings_include_drafts_filter_by_status_and_paginate(
    api: Api, shop: Shop, other_shop: Shop
) -> None:
    drafts = [shop.listing(sku=f"D{i}", status="draft")["id"] for i in range(3)]
    published = [shop.listing(sku=f"P{i}")["id"] for i in range(2)]
    other_shop.listing(sku="X")
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/listings", as_=shop.owner, query_string=query).get_json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(drafts + published)
    only_drafts = api.get("/listings", as_=shop.owner, query_string={"status": "draft"}).get_json()
    assert sorted(i["id"] for i in only_drafts["items"]) == sorted(drafts)
    assert_problem(
        api.get("/listings", as_=shop.owner, query_string={"cursor": "garbage"}),
        422,
        "cursor_invalid",
    )


def test_patch_changes_only_given_fields_and_validates_them(api: Api, shop: Shop) -> None:
    listing = shop.listing(sku="A1", ships_to=["KZ"])
    changed = api.patch(
        f"/listings/{listing['id']}",
        json={
            "price": {"amount": "99.50", "currency": "CNY"},
            "ships_to": ["*"],
            "status": "archived",
        },
        as_=shop.owner,
    ).get_json()
    assert changed["price"]["amount"] == "99.50" and changed["ships_to"] == ["*"]
    assert changed["status"] == "archived" and changed["title"] == listing["title"]
    assert_problem(
        api.patch(f"/listings/{listing['id']}", json={"hs_code": "0902.99"}, as_=shop.owner),
        422,
        "invalid",
    )
    shop.listing(sku="A2")
    assert_problem(
        api.patch(f"/listings/{listing['id']}", json={"sku": "A2"}, as_=shop.owner),
        409,
        "sku_taken",
    )
    assert api.get(f"/listings/{listing['id']}", as_=shop.owner).get_json()["sku"] == "A1"


def test_patching_a_price_needs_both_amount_and_currency(api: Api, shop: Shop) -> None:
    listing = shop.listing(sku="A1")
    for price in ({"currency": "TZS"}, {"amount": "10.00"}):
        response = api.patch(f"/listings/{listing['id']}", json={"price": price}, as_=shop.owner)
        assert set(assert_problem(response, 422, "invalid")["errors"]) <= {
            "price.amount",
            "price.currency",
        }
    assert (
        api.get(f"/listings/{listing['id']}", as_=shop.owner).get_json()["price"]
        == listing["price"]
    )


def test_delete_removes_a_listing_nothing_refers_to(api: Api, shop: Shop, session: Session) -> None:
    listing = shop.listing()
    assert api.delete(f"/listings/{listing['id']}", as_=shop.owner).status_code == 204
    assert session.get(Listing, listing["id"]) is None
    assert_problem(api.get(f"/listings/{listing['id']}", as_=shop.owner), 404)


def test_delete_archives_a_listing_that_something_refers_to(
    api: Api, shop: Shop, session: Session
) -> None:
    # Stands in for order lines: any table pointing at listings with a restricting foreign key.
    session.execute(
        text("CREATE TABLE referrers (listing_id VARCHAR(36) NOT NULL REFERENCES listings (id))")
    )
    listing = shop.listing()
    session.execute(text("INSERT INTO referrers (listing_id) VALUES (:id)"), {"id": listing["id"]})
    assert api.delete(f"/listings/{listing['id']}", as_=shop.owner).status_code == 204
    kept = api.get(f"/listings/{listing['id']}", as_=shop.owner).get_json()
    assert kept["status"] == "archived"
    assert_problem(api.get(f"/catalogue/{listing['id']}"), 404)
