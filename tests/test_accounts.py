"""Accounts and organisations through the HTTP API."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marketplace.accounts.models import ApiToken, Organisation, User
from tests.helpers import Api, assert_problem


def test_register_login_and_read_profile(api: Api) -> None:
    created = api.post(
        "/auth/register",
        json={
            "email": "Aigerim@Example.test",
            "password": "correct horse battery",
            "name": "Aigerim",
            "locale": "kk",
            "country": "KZ",
            "currency": "KZT",
        },
    )
    assert created.status_code == 201
    user = created.get_json()
    assert user["email"] == "Aigerim@Example.test" and user["locale"] == "kk"
    assert "password" not in user and "password_hash" not in user

    token = api.post(
        "/auth/tokens", json={"email": "aigerim@example.TEST", "password": "correct horse battery"}
    )
    assert token.status_code == 201
    me = api.get("/me", headers={"Authorization": f"Bearer {token.get_json()['token']}"})
    assert me.status_code == 200
    assert me.get_json()["id"] == user["id"] and me.get_json()["memberships"] == []


def test_password_is_stored_with_argon2_and_token_only_as_hash(api: Api, session: Session) -> None:
    caller = api.user()
    user = session.scalar(select(User).where(User.id == caller.id))
    assert user is not None and user.password_hash.startswith("$argon2id$")
    stored = session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == caller.id)).all()
    assert caller.token not in stored and len(stored[0]) == 64


def test_registering_a_taken_email_answers_as_a_fresh_registration_and_creates_nothing(
    api: Api, session: Session
) -> None:
    api.user(email="same@example.test")
    fresh = api.post(
        "/auth/register",
        json={"email": "new@example.test", "password": "another pass phrase", "name": "X"},
    )
    taken = api.post(
        "/auth/register",
        json={"email": "SAME@example.test", "password": "another pass phrase", "name": "X"},
    )
    assert taken.status_code == fresh.status_code == 201
    assert set(taken.get_json()) == set(fresh.get_json())
    assert taken.get_json()["email"] == "SAME@example.test"
    assert taken.headers.get("Content-Type") == fresh.headers.get("Content-Type")
    assert (
        session.scalar(
            select(func.count()).select_from(User).where(User.email_key == "same@example.test")
        )
        == 1
    )
    # The stranger's password does not open the existing account.
    login = {"email": "same@example.test", "password": "another pass phrase"}
    assert_problem(api.post("/auth/tokens", json=login), 401, "invalid_credentials")


def test_the_owner_of_a_taken_email_is_told_through_the_notice_hook(
    app_settings: dict, session_factory
) -> None:
    from marketplace import create_app
    from marketplace.accounts.services import AccountNotices

    told: list[str] = []
    app = create_app(app_settings, session_factory=session_factory)
    app.extensions["marketplace"]["account_notices"] = AccountNotices(
        email_taken=lambda _session, user: told.append(user.email)
    )
    api = Api(app.test_client())
    owner = api.user(email="owner@example.test")
    api.post(
        "/auth/register",
        json={"email": "Owner@example.test", "password": "another pass phrase", "name": "X"},
    )
    assert told == [owner.email]


@pytest.mark.parametrize("password", ["aaaaaaaaaa", "password123", "qwertyuiop", "1234567890"])
def test_weak_passwords_are_refused(api: Api, password: str) -> None:
    response = api.post(
        "/auth/register",
        json={"email": "aigerim@example.test", "password": password, "name": "Aigerim"},
        headers={"Accept-Language": "ru"},
    )
    body = assert_problem(response, 422, "password_weak")
    assert list(body["errors"]) == ["password"]


def test_bad_registration_input_changes_nothing(api: Api, session: Session) -> None:
    before = session.scalar(select(func.count()).select_from(User))
    cases = [
        {"email": "not-an-email", "password": "correct horse battery", "name": "X"},
        {"email": "a@example.test", "password": "short", "name": "X"},
        {"email": "a@example.test", "password": "correct horse battery", "name": "x" * 201},
        {"email": "a@example.test", "password": "correct horse battery", "name": ""},
        {
            "email": "a@example.test",
            "password": "correct horse battery",
            "name": "X",
            "country": "XX",
        },
        {
            "email": "a@example.test",
            "password": "correct horse battery",
            "name": "X",
            "currency": "ABC",
        },
        {
            "email": "a@example.test",
            "password": "correct horse battery",
            "name": "X",
            "locale": "not a tag",
        },
        {"email": "a@example.test", "password": 12345678901, "name": "X"},
    ]
    for body in cases:
        assert_problem(api.post("/auth/register", json=body), 422, "invalid")
    assert_problem(api.post("/auth/register", json=["a", "list"]), 422)
    assert session.scalar(select(func.count()).select_from(User)) == before


def test_wrong_password_and_unknown_email_look_the_same(api: Api) -> None:
    api.user(email="known@example.test")
    wrong = assert_problem(
        api.post("/auth/tokens", json={"email": "known@example.test", "password": "nope"}), 401
    )
    unknown = assert_problem(
        api.post("/auth/tokens", json={"email": "who@example.test", "password": "nope"}), 401
    )
    assert wrong == unknown and wrong["code"] == "invalid_credentials"


def test_revoked_token_is_refused(api: Api) -> None:
    caller = api.user()
    assert api.delete("/auth/tokens/current", as_=caller).status_code == 204
    assert_problem(api.get("/me", as_=caller), 401, "invalid_token")


def test_expired_token_is_refused(api: Api, session: Session) -> None:
    caller = api.user()
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == caller.id)
        .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    )
    session.commit()
    assert_problem(api.get("/me", as_=caller), 401, "invalid_token")


def test_missing_or_garbage_token_is_401(api: Api) -> None:
    assert_problem(api.get("/me"), 401, "unauthorized")
    assert_problem(
        api.get("/me", headers={"Authorization": "Bearer garbage"}), 401, "invalid_token"
    )
    assert_problem(api.get("/me", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401)


def test_profile_preferences_can_change_and_drive_the_locale(api: Api) -> None:
    caller = api.user()
    response = api.patch("/me", json={"locale": "ru", "currency": "KZT"}, as_=caller)
    assert response.status_code == 200 and response.get_json()["currency"] == "KZT"
    missing = api.get("/sellers/00000000-0000-0000-0000-000000000000", as_=caller)
    assert missing.headers["Content-Language"] == "ru"
    assert_problem(api.patch("/me", json={"is_operator": True}, as_=caller), 422)


def test_seller_owner_member_and_stranger(api: Api) -> None:
    owner, colleague, stranger = api.user(), api.user(), api.user()
    seller = api.seller(owner, tax_id="91330100MA2CFX", eori="CN1234567")
    assert seller["tax_id"] == "91330100MA2CFX"

    public = api.get(f"/sellers/{seller['id']}").get_json()
    assert public["name"] == "Hangzhou Tea" and "tax_id" not in public and "address" not in public

    added = api.join(owner, colleague, f"/sellers/{seller['id']}")
    assert added["role"] == "member"
    memberships = api.get("/me", as_=colleague).get_json()["memberships"]
    assert memberships == [
        {
            "organisation_id": seller["id"],
            "kind": "seller",
            "role": "member",
            "name": "Hangzhou Tea",
        }
    ]

    assert_problem(api.patch(f"/sellers/{seller['id']}", json={"name": "Mine"}, as_=stranger), 404)
    assert_problem(
        api.patch(f"/sellers/{seller['id']}", json={"name": "Mine"}, as_=colleague),
        403,
        "owner_required",
    )
    assert_problem(
        api.post(
            f"/sellers/{seller['id']}/members",
            json={"email": stranger.email, "role": "owner"},
            as_=stranger,
        ),
        404,
    )
    half_address = {"address": {"city": "Hangzhou", "country": "CN"}}
    assert_problem(api.patch(f"/sellers/{seller['id']}", json=half_address, as_=owner), 422)
    renamed = api.patch(f"/sellers/{seller['id']}", json={"name": "West Lake Tea"}, as_=owner)
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "West Lake Tea"


def test_member_of_seller_a_cannot_touch_seller_b(api: Api, session: Session) -> None:
    a_owner, b_owner = api.user(), api.user()
    api.seller(a_owner)
    b = api.seller(b_owner, name="Istanbul Carpets", country="TR", currency="TRY")
    assert_problem(api.patch(f"/sellers/{b['id']}", json={"name": "Stolen"}, as_=a_owner), 404)
    assert session.get(Organisation, b["id"]).name == "Istanbul Carpets"  # type: ignore[union-attr]


def test_inviting_a_member_answers_the_same_whether_the_account_exists(api: Api) -> None:
    owner, colleague = api.user(), api.user()
    seller = api.seller(owner)
    path = f"/sellers/{seller['id']}/members"
    ghost = api.post(path, json={"email": "ghost@example.test", "role": "member"}, as_=owner)
    known = api.post(path, json={"email": colleague.email, "role": "member"}, as_=owner)
    assert ghost.status_code == known.status_code == 201
    assert set(ghost.get_json()) == set(known.get_json())
    assert_problem(api.post(path, json={"email": colleague.email, "role": "admin"}, as_=owner), 422)
    # Nothing is joined until the invited user accepts.
    assert api.get("/me", as_=colleague).get_json()["memberships"] == []
    assert_problem(api.put(f"/sellers/{seller['id']}/shipping-rates", json=[], as_=colleague), 404)
    waiting = api.get("/me/invitations", as_=colleague).get_json()
    assert [(i["organisation_id"], i["role"], i["kind"]) for i in waiting] == [
        (seller["id"], "member", "seller")
    ]
    # Someone else cannot accept it, nor see it.
    stranger = api.user()
    assert api.get("/me/invitations", as_=stranger).get_json() == []
    assert_problem(api.post(f"/invitations/{waiting[0]['id']}/accept", as_=stranger), 404)
    accepted = api.post(f"/invitations/{waiting[0]['id']}/accept", as_=colleague)
    assert accepted.status_code == 201 and accepted.get_json()["role"] == "member"
    assert api.get("/me/invitations", as_=colleague).get_json() == []
    members = api.get(path, as_=colleague).get_json()
    assert sorted(m["user_id"] for m in members) == sorted([owner.id, colleague.id])
    # Someone who registers after being invited finds the invitation waiting.
    api.post(path, json={"email": "later@example.test", "role": "owner"}, as_=owner)
    later = api.user(email="later@example.test")
    assert [i["role"] for i in api.get("/me/invitations", as_=later).get_json()] == ["owner"]
    declined = api.delete(
        f"/invitations/{api.get('/me/invitations', as_=later).get_json()[0]['id']}", as_=later
    )
    assert declined.status_code == 204
    assert api.get("/me/invitations", as_=later).get_json() == []


def test_an_owner_removes_a_member_but_never_the_last_owner(api: Api) -> None:
    owner, colleague = api.user(), api.user()
    seller = api.seller(owner)
    api.join(owner, colleague, f"/sellers/{seller['id']}")
    path = f"/sellers/{seller['id']}/members"
    assert_problem(api.delete(f"{path}/{owner.id}", as_=colleague), 403, "owner_required")
    assert_problem(api.delete(f"{path}/{owner.id}", as_=owner), 409, "last_owner")
    assert_problem(api.delete(f"{path}/{api.user().id}", as_=owner), 404)
    assert api.delete(f"{path}/{colleague.id}", as_=owner).status_code == 204
    assert api.get("/me", as_=colleague).get_json()["memberships"] == []
    assert_problem(api.get(path, as_=colleague), 404)


def test_seller_creation_needs_a_user_and_valid_fields(api: Api) -> None:
    assert_problem(api.post("/sellers", json={"name": "X"}), 401)
    caller = api.user()
    body = assert_problem(
        api.post("/sellers", json={"name": "X", "country": "ZZ", "currency": "XYZ"}, as_=caller),
        422,
    )
    assert {"country", "currency", "address", "locale"} <= set(body["errors"])


def test_brokerages_by_country_and_membership(api: Api) -> None:
    owner, clerk = api.user(), api.user()
    brokerage = api.brokerage(owner, countries=["KZ", "UZ"])
    api.brokerage(
        api.user(),
        name="Istanbul Customs",
        countries=["TR"],
        address={"line1": "1 Liman", "city": "İstanbul", "country": "TR"},
    )
    serving_uz = api.get("/brokerages?country=UZ").get_json()
    assert [b["id"] for b in serving_uz["items"]] == [brokerage["id"]] and serving_uz[
        "next_cursor"
    ] is None
    assert serving_uz["items"][0]["countries"] == ["KZ", "UZ"]
    assert_problem(api.get("/brokerages?country=Kazakhstan"), 422)
    path = f"/brokerages/{brokerage['id']}/members"
    api.join(owner, clerk, f"/brokerages/{brokerage['id']}")
    assert_problem(api.post(path, json={"email": owner.email, "role": "member"}, as_=clerk), 403)


def test_brokerages_are_paged_by_name_with_a_stable_cursor(api: Api) -> None:
    for name in ("Caspian Brokers", "Altai Customs", "Bukhara Clearance"):
        api.brokerage(api.user(), name=name, countries=["KZ"])
    first = api.get("/brokerages", query_string={"country": "KZ", "limit": 2}).get_json()
    assert [b["name"] for b in first["items"]] == ["Altai Customs", "Bukhara Clearance"]
    api.brokerage(
        api.user(), name="Aral Customs", countries=["KZ"]
    )  # sorts before the cursor: not repeated
    second = api.get(
        "/brokerages", query_string={"country": "KZ", "limit": 2, "cursor": first["next_cursor"]}
    ).get_json()
    assert [b["name"] for b in second["items"]] == ["Caspian Brokers"] and second[
        "next_cursor"
    ] is None
    for bad in ({"limit": 0}, {"limit": 101}, {"cursor": "garbage"}, {"cursor": "W10"}):
        assert_problem(api.get("/brokerages", query_string=bad), 422)
    assert len(api.get("/brokerages").get_json()["items"]) == 4  # default page of 20 holds them all


def test_seller_id_is_not_a_brokerage_id(api: Api) -> None:
    owner = api.user()
    seller = api.seller(owner)
    assert_problem(api.get(f"/brokerages/{seller['id']}"), 404)


def test_token_creation_is_rate_limited(app_settings: dict, session_factory) -> None:
    from marketplace import create_app
    from tests.helpers import Api as Client

    app = create_app(
        {**app_settings, "TOKEN_RATE_LIMIT": "3 per minute"}, session_factory=session_factory
    )
    api = Client(app.test_client())
    body = {"email": "limited@example.test", "password": "whatever-it-is"}
    statuses = [api.post("/auth/tokens", json=body).status_code for _ in range(4)]
    assert statuses[:3] == [401, 401, 401]
    response = api.post("/auth/tokens", json=body)
    assert_problem(response, 429, "rate_limited")
    assert response.headers.get("Retry-After")
