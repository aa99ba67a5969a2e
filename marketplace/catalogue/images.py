"""A listing's image gallery: uploads decoded by Pillow, cleaned, derived into three WebP sizes.

An upload is accepted only when Pillow decodes it completely as JPEG, PNG or WebP (the name and
the declared type are ignored), its pixel count is within `max_pixels` (read from the header,
before any pixel is decoded: a decompression bomb costs nothing) and its size within
`max_bytes`. The pixels are turned by the EXIF orientation and re-encoded from scratch, so no
metadata block of the upload (EXIF with GPS positions, XMP, ICC, comments) reaches a reader.
The three sizes are made once here; readers only ever fetch the stored files.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.catalogue import locales
from marketplace.catalogue.media import MediaStore, content_name
from marketplace.catalogue.models import Listing, ListingImage
from marketplace.catalogue.services import InvalidLanguage, get_own_listing
from marketplace.errors import DomainError, Invalid, NotFound
from marketplace.i18n import _

FORMATS = ("JPEG", "PNG", "WEBP")
# Longest side in pixels of each derived size; smaller uploads are never enlarged.
SIZES = {"thumb": 200, "medium": 640, "large": 1600}
WEBP_QUALITY = 82
MAX_IMAGES = 24
_ORIENTATION = 0x0112


class ImageInvalid(Invalid):
    code = "image_invalid"
    default_detail = _("The file is not a complete JPEG, PNG or WebP image.")


class ImageTooManyPixels(Invalid):
    code = "image_too_many_pixels"
    default_detail = _("The image has more than %(limit)s megapixels.")


class ImageTooLarge(DomainError):
    status = 413
    code = "image_too_large"
    default_detail = _("The file is larger than %(limit)s MB.")


class GalleryFull(Invalid):
    code = "gallery_full"
    default_detail = _("A listing has at most %(limit)s images.")


@dataclass(frozen=True)
class Derived:
    """What an upload became: its oriented size and the derived files by size name."""

    width: int
    height: int
    files: dict[str, bytes]


def derive(data: bytes, *, max_pixels: int, max_bytes: int) -> Derived:
    """Decode, check, orient and re-encode an upload; raises before anything is stored."""
    if len(data) > max_bytes:
        raise ImageTooLarge(_("The file is larger than %(limit)s MB.", limit=max_bytes // 2**20))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            width, height = image.size
            if width * height > max_pixels:
                raise ImageTooManyPixels(
                    _(
                        "The image has more than %(limit)s megapixels.",
                        limit=f"{max_pixels / 1e6:g}",
                    )
                )
            orientation = image.getexif().get(_ORIENTATION, 1)
            if image.format == "JPEG":
                # Decode at the smallest JPEG scale still at least the large size: far cheaper.
                image.draft("RGB", (SIZES["large"], SIZES["large"]))
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise ImageInvalid() from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageTooManyPixels(
            _("The image has more than %(limit)s megapixels.", limit=f"{max_pixels / 1e6:g}")
        ) from None
    turned = ImageOps.exif_transpose(image)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    alpha = turned.mode in ("RGBA", "LA", "PA") or "transparency" in turned.info
    mode = "RGBA" if alpha else "RGB"
    # A new image from the bare pixels: nothing of the upload's info (EXIF, ICC, XMP) comes along.
    pixels = Image.frombytes(mode, turned.size, turned.convert(mode).tobytes())
    files = {}
    for size_name, side in SIZES.items():
        copy = pixels.copy()
        copy.thumbnail((side, side), Image.Resampling.LANCZOS, reducing_gap=3.0)
        out = io.BytesIO()
        copy.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
        files[size_name] = out.getvalue()
    return Derived(width, height, files)


def _alt_locale(listing: Listing, raw: str | None) -> str:
    if raw is None:
        return listing.language
    if not locales.is_tag(raw):
        raise InvalidLanguage(errors={"locale": [InvalidLanguage.default_detail]})
    return locales.canonical(raw)


def _gallery(session: Session, listing_id: str) -> list[ListingImage]:
    return list(
        session.scalars(
            select(ListingImage)
            .where(ListingImage.listing_id == listing_id)
            .order_by(ListingImage.position, ListingImage.created_at)
        )
    )


def add_image(
    session: Session,
    user: User,
    listing_id: str,
    data: bytes,
    *,
    store: MediaStore,
    max_pixels: int,
    max_bytes: int,
    alt: str | None = None,
    locale: str | None = None,
) -> ListingImage:
    """Append an image to the end of a listing's gallery."""
    listing = get_own_listing(session, user, listing_id)
    tag = _alt_locale(listing, locale)
    count = session.scalar(
        select(func.count()).select_from(ListingImage).where(ListingImage.listing_id == listing.id)
    )
    if (count or 0) >= MAX_IMAGES:
        raise GalleryFull(_("A listing has at most %(limit)s images.", limit=MAX_IMAGES))
    derived = derive(data, max_pixels=max_pixels, max_bytes=max_bytes)
    names = {}
    for size_name, content in derived.files.items():
        names[size_name] = content_name(content)
        store.put(names[size_name], content)
    image = ListingImage(
        listing_id=listing.id,
        position=count or 0,
        width=derived.width,
        height=derived.height,
        alt={tag: alt} if alt else {},
        **names,
    )
    session.add(image)
    session.flush()
    return image


def _own_image(session: Session, user: User, listing_id: str, image_id: str) -> ListingImage:
    listing = get_own_listing(session, user, listing_id)
    image = session.get(ListingImage, image_id)
    if image is None or image.listing_id != listing.id:
        raise NotFound()
    return image


def _renumber(gallery: list[ListingImage]) -> None:
    for position, image in enumerate(gallery):
        if image.position != position:
            image.position = position


def update_image(
    session: Session, user: User, listing_id: str, image_id: str, changes: Mapping[str, object]
) -> ListingImage:
    """Move an image to another place in the gallery and/or set its alt text in one locale."""
    image = _own_image(session, user, listing_id, image_id)
    if "alt" in changes:
        listing = session.get(Listing, listing_id)
        assert listing is not None
        tag = _alt_locale(listing, changes.get("locale"))  # type: ignore[arg-type]
        alts = dict(image.alt or {})
        text = changes["alt"]
        if text:
            alts[tag] = str(text)
        else:
            alts.pop(tag, None)
        image.alt = alts
    if "position" in changes:
        gallery = [other for other in _gallery(session, listing_id) if other.id != image.id]
        wanted = int(changes["position"])  # type: ignore[call-overload]
        gallery.insert(max(0, min(wanted, len(gallery))), image)
        _renumber(gallery)
    session.flush()
    return image


def delete_image(session: Session, user: User, listing_id: str, image_id: str) -> None:
    """Remove an image from the gallery; the files stay (other images may share their bytes)."""
    image = _own_image(session, user, listing_id, image_id)
    session.delete(image)
    session.flush()
    _renumber(_gallery(session, listing_id))
    session.flush()


def alt_text(alts: Mapping[str, str] | None, chain: tuple[str, ...], language: str) -> str:
    """The alt text for a reader's locale chain, falling back to the listing's own language."""
    if not alts:
        return ""
    for tag in chain:
        if tag in alts:
            return alts[tag]
    return alts.get(language, "")
