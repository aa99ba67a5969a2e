"""Listing images: real uploads made here with Pillow, cleaned, derived, served, ordered, refused."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.catalogue.models import ListingImage
from tests.catalogue.conftest import Shop
from tests.helpers import Api, assert_problem

GPS = 0x8825
ORIENTATION = 0x0112


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def app_settings(database_url: str, media_root: Path) -> dict[str, Any]:
    return {
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(media_root),
        "MAX_IMAGE_BYTES": 2 * 1024 * 1024,
        "MAX_IMAGE_PIXELS": 4_000_000,
    }


def phone_jpeg() -> bytes:
    """A 400x300 landscape sensor image, a red left half, tagged 'rotate 90° clockwise' and GPS."""
    image = Image.new("RGB", (400, 300), "blue")
    image.paste(Image.new("RGB", (200, 300), "red"), (0, 0))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "PhoneMaker"
    exif[GPS] = {1: "N", 2: (43.0, 14.0, 15.0), 3: "E", 4: (76.0, 55.0, 40.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95, comment=b"shot at home")
    return out.getvalue()


def alpha_png() -> bytes:
    image = Image.new("RGBA", (2400, 1200), (0, 128, 0, 0))
    image.paste(Image.new("RGBA", (1200, 1200), (0, 128, 0, 255)), (0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (150, 100), "yellow").save(out, "WEBP", exif=phone_jpeg_exif())
    return out.getvalue()


def phone_jpeg_exif() -> bytes:
    exif = Image.Exif()
    exif[GPS] = {1: "S", 2: (1.0, 2.0, 3.0)}
    return exif.tobytes()


def upload(api: Api, shop: Shop, listing_id: str, data: bytes, name: str, **form: Any) -> Any:
    return api.post(
        f"/listings/{listing_id}/images",
        data={"file": (io.BytesIO(data), name), **form},
        content_type="multipart/form-data",
        as_=shop.owner,
    )


def fetch(api: Api, url: str) -> Image.Image:
    response = api.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.mimetype == "image/webp"
    return Image.open(io.BytesIO(response.data))


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_phone_jpeg_is_turned_upright_stripped_of_gps_and_derived_in_three_sizes(
    api: Api, shop: Shop, media_root: Path
) -> None:
    listing = shop.listing()
    response = upload(api, shop, listing["id"], phone_jpeg(), "IMG_0001.JPG", alt="龙井茶罐")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["position"] == 0
    assert (body["width"], body["height"]) == (300, 400)  # upright: portrait
    assert body["alt"] == {"zh-Hans": "龙井茶罐"}
    sizes = {}
    for size, url in body["urls"].items():
        assert url.startswith("/api/v1/media/") and url.endswith(".webp")
        image = fetch(api, url)
        sizes[size] = image.size
        # Nothing of the upload's metadata survives: no EXIF (GPS, maker), no XMP, no ICC.
        assert image.getexif() == {} or dict(image.getexif()) == {}
        assert "exif" not in image.info and "xmp" not in image.info
        assert "icc_profile" not in image.info
        # Rotated 90° clockwise: the red left half of the sensor is now the top.
        rgb = image.convert("RGB")
        top = rgb.getpixel((image.width // 2, image.height // 10))
        bottom = rgb.getpixel((image.width // 2, image.height * 9 // 10))
        assert top[0] > 200 and top[2] < 60, top
        assert bottom[2] > 200 and bottom[0] < 60, bottom
    # Never enlarged: a 300x400 upload is its own medium and large size.
    assert sizes == {"thumb": (150, 200), "medium": (300, 400), "large": (300, 400)}
    assert b"PhoneMaker" not in b"".join(p.read_bytes() for p in stored_files(media_root))


def test_a_png_keeps_its_transparency_and_a_webp_is_accepted(api: Api, shop: Shop) -> None:
    listing = shop.listing()
    png = upload(api, shop, listing["id"], alpha_png(), "scarf.png").get_json()
    assert (png["width"], png["height"]) == (2400, 1200)
    large = fetch(api, png["urls"]["large"])
    assert large.size == (1600, 800) and large.mode == "RGBA"
    assert large.getpixel((100, 400))[3] == 255 and large.getpixel((1500, 400))[3] == 0
    assert fetch(api, png["urls"]["medium"]).size == (640, 320)
    assert fetch(api, png["urls"]["thumb"]).size == (200, 100)

    second = upload(api, shop, listing["id"], webp(), "photo.webp").get_json()
    assert second["position"] == 1 and (second["width"], second["height"]) == (150, 100)
    assert fetch(api, second["urls"]["large"]).getexif() == {}


def test_what_is_not_a_whole_allowed_image_is_refused_and_nothing_is_stored(
    api: Api, shop: Shop, session: Session, media_root: Path
) -> None:
    listing = shop.listing()
    truncated = phone_jpeg()[:-400]
    bomb = io.BytesIO()
    Image.new("1", (4000, 4000)).save(bomb, "PNG")  # 16 MP in a few KB: over the 4 MP limit
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    big, huge = io.BytesIO(), io.BytesIO()
    # Random pixels do not compress: just over the 2 MB limit, and far over it.
    Image.frombytes("RGB", (1024, 690), os.urandom(1024 * 690 * 3)).save(big, "PNG")
    assert 2 * 1024 * 1024 < len(big.getvalue()) < 2 * 1024 * 1024 + 32 * 1024
    Image.frombytes("RGB", (1500, 1500), os.urandom(1500 * 1500 * 3)).save(huge, "PNG")
    cases = [
        (b"name,price\nscarf,12\n", "photo.jpg", 422, "image_invalid"),
        (truncated, "photo.jpg", 422, "image_invalid"),
        (gif.getvalue(), "photo.png", 422, "image_invalid"),
        (bomb.getvalue(), "bomb.png", 422, "image_too_many_pixels"),
        (big.getvalue(), "big.png", 413, "image_too_large"),
        (huge.getvalue(), "huge.png", 413, "request_too_large"),
    ]
    for data, name, status, code in cases:
        problem = assert_problem(upload(api, shop, listing["id"], data, name), status, code)
        assert problem["detail"]
    assert stored_files(media_root) == []
    assert session.scalar(select(func.count()).select_from(ListingImage)) == 0
    # The messages are in the caller's language.
    ru = api.post(
        f"/listings/{listing['id']}/images",
        data={"file": (io.BytesIO(b"not an image"), "x.jpg")},
        content_type="multipart/form-data",
        as_=shop.owner,
        headers={"Accept-Language": "ru"},
    )
    assert ru.get_json()["detail"] != problem["detail"]


def test_a_form_without_a_file_or_with_unknown_fields_is_a_422(api: Api, shop: Shop) -> None:
    listing = shop.listing()
    path = f"/listings/{listing['id']}/images"
    for data in ({"alt": "x"}, {"file": "text, not a file"}):
        response = api.post(path, data=data, content_type="multipart/form-data", as_=shop.owner)
        assert_problem(response, 422)
    assert_problem(
        api.post(path, data=phone_jpeg(), content_type="image/jpeg", as_=shop.owner), 415
    )


def test_only_the_listings_seller_may_change_its_gallery(
    api: Api, shop: Shop, other_shop: Shop
) -> None:
    listing = shop.listing()
    image = upload(api, shop, listing["id"], webp(), "a.webp").get_json()
    assert_problem(upload(api, other_shop, listing["id"], webp(), "a.webp"), 404)
    path = f"/listings/{listing['id']}/images/{image['id']}"
    assert_problem(api.patch(path, json={"position": 0}, as_=other_shop.owner), 404)
    assert_problem(api.delete(path, as_=other_shop.owner), 404)
    assert_problem(api.delete(path), 401)
    other = other_shop.listing(sku="OTHER")
    assert_problem(
        api.delete(f"/listings/{other['id']}/images/{image['id']}", as_=other_shop.owner), 404
    )


def test_the_gallery_is_ordered_and_alt_text_falls_back_like_titles(
    api: Api, shop: Shop, rates: Any
) -> None:
    listing = shop.listing()
    ids = [
        upload(api, shop, listing["id"], webp(), f"{i}.webp", alt=f"图{i}").get_json()["id"]
        for i in range(3)
    ]
    base = f"/listings/{listing['id']}/images"
    moved = api.patch(f"{base}/{ids[2]}", json={"position": 0}, as_=shop.owner).get_json()
    assert moved["position"] == 0
    russian = api.patch(
        f"{base}/{ids[2]}", json={"alt": "Банка чая", "locale": "ru"}, as_=shop.owner
    ).get_json()
    assert russian["alt"] == {"zh-Hans": "图2", "ru": "Банка чая"}
    assert api.delete(f"{base}/{ids[0]}", as_=shop.owner).status_code == 204

    def gallery(locale: str) -> list[tuple[str, int, str]]:
        item = api.get(f"/catalogue/{listing['id']}", query_string={"locale": locale}).get_json()
        return [(i["id"], i["position"], i["alt"]) for i in item["images"]]

    assert gallery("ru-RU") == [(ids[2], 0, "Банка чая"), (ids[1], 1, "图1")]
    assert gallery("en") == [(ids[2], 0, "图2"), (ids[1], 1, "图1")]
    page = api.get("/catalogue", query_string={"locale": "ru"}).get_json()
    images = next(i for i in page["items"] if i["id"] == listing["id"])["images"]
    assert [i["alt"] for i in images] == ["Банка чая", "图1"]
    assert set(images[0]["urls"]) == {"thumb", "medium", "large"}


def test_an_alt_text_in_a_language_cldr_does_not_know_is_a_declared_422(
    api: Api, shop: Shop
) -> None:
    """Found by the fuzzer: `Vsi-HBj` is a well-formed tag of no language; both image operations
    answered `language_invalid` without declaring it."""
    listing = shop.listing()
    refused = upload(api, shop, listing["id"], webp(), "a.webp", alt="x", locale="Vsi-HBj")
    assert "locale" in assert_problem(refused, 422, "language_invalid")["errors"]
    image = upload(api, shop, listing["id"], webp(), "a.webp").get_json()
    refused = api.patch(
        f"/listings/{listing['id']}/images/{image['id']}",
        json={"alt": "Banka", "locale": "Vsi-HBj"},
        as_=shop.owner,
    )
    assert "locale" in assert_problem(refused, 422, "language_invalid")["errors"]
    document = api.get("/openapi.json").get_json()["paths"]
    for path, method in (("", "post"), ("/{image_id}", "patch")):
        operation = document[f"/api/v1/listings/{{listing_id}}/images{path}"][method]
        assert "language_invalid" in operation["responses"]["422"]["x-problem-codes"]


def test_media_urls_point_at_the_configured_cdn(
    app_settings: dict[str, Any], api: Api, shop: Shop
) -> None:
    listing = shop.listing()
    image = upload(api, shop, listing["id"], webp(), "a.webp").get_json()
    api.client.application.config["MARKETPLACE"]["MEDIA_URL"] = "https://cdn.example/m/"
    item = api.get(f"/catalogue/{listing['id']}").get_json()
    name = image["urls"]["thumb"].rsplit("/", 1)[1]
    assert item["images"][0]["urls"]["thumb"] == f"https://cdn.example/m/{name}"


def test_unknown_media_is_a_404(api: Api) -> None:
    assert_problem(api.get("/media/" + "0" * 64 + ".webp"), 404)
    assert_problem(api.get("/media/..%2F..%2Fetc%2Fpasswd"), 404)


def test_a_gallery_holds_at_most_24_images(api: Api, shop: Shop, media_root: Path) -> None:
    listing = shop.listing()
    tiny = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(tiny, "PNG")
    for i in range(24):
        assert upload(api, shop, listing["id"], tiny.getvalue(), f"{i}.png").status_code == 201
    files = stored_files(media_root)
    full = upload(api, shop, listing["id"], tiny.getvalue(), "25.png")
    assert_problem(full, 422, "gallery_full")
    assert stored_files(media_root) == files
    # Identical bytes are stored once: an 8-pixel picture is its own thumb, medium and large, so
    # 24 uploads of it are one file.
    assert len(files) == 1
