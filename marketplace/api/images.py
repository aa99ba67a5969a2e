"""Listing images (seller side) and the derived files themselves (`GET /media/{name}`)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response
from flask.views import MethodView
from marshmallow import fields, validate

from marketplace.api import accepts, context
from marketplace.api.openapi import raises
from marketplace.api.schemas import LocaleTag, StrictSchema
from marketplace.api.uploads import FileField, UploadBlueprint, upload_limit
from marketplace.catalogue import images
from marketplace.catalogue.images import (
    GalleryFull,
    ImageInvalid,
    ImageTooLarge,
    ImageTooManyPixels,
)
from marketplace.catalogue.media import MediaStore
from marketplace.catalogue.models import ListingImage
from marketplace.catalogue.services import InvalidLanguage
from marketplace.errors import NotFound

blp = UploadBlueprint("images", __name__, description="Listing image galleries and their files")

FOREVER = 365 * 24 * 3600
ALT = validate.Length(max=500)


class ImageUploadSchema(StrictSchema):
    file = FileField(
        required=True, metadata={"description": "JPEG, PNG or WebP, checked by decoding it"}
    )
    alt = fields.String(
        load_default=None,
        validate=ALT,
        metadata={"description": "In `locale`, by default the listing's own language"},
    )
    locale = LocaleTag(load_default=None)


class ImagePatchSchema(StrictSchema):
    position = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=images.MAX_IMAGES),
        metadata={"description": "0 is first; the others move to make room"},
    )
    alt = fields.String(
        validate=ALT,
        metadata={"description": "In `locale` (default: the listing's language); empty removes it"},
    )
    locale = LocaleTag()


class MediaUrl(fields.String):
    """A stored file's name, dumped as the URL readers fetch it from (see `media_prefix`)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        name = super()._serialize(value, attr, obj, **kwargs)
        return None if name is None else media_prefix() + name


class ImageUrlsSchema(ma.Schema):
    thumb = MediaUrl(required=True, metadata={"description": f"{images.SIZES['thumb']} px"})
    medium = MediaUrl(required=True, metadata={"description": f"{images.SIZES['medium']} px"})
    large = MediaUrl(required=True, metadata={"description": f"{images.SIZES['large']} px"})


class ImageSchema(ma.Schema):
    id = fields.String(required=True)
    position = fields.Integer(required=True)
    alt = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "Alternative text per locale"},
    )
    width = fields.Integer(required=True, metadata={"description": "Of the upload, upright"})
    height = fields.Integer(required=True)
    urls = fields.Nested(ImageUrlsSchema, attribute="files", required=True)


def media_prefix() -> str:
    """Where readers fetch media: MEDIA_URL (a CDN or object store) or this API."""
    configured = str(context.settings()["MEDIA_URL"])
    return configured.rstrip("/") + "/" if configured else "/api/v1/media/"


def urls(prefix: str, thumb: str, medium: str, large: str) -> dict[str, str]:
    return {"thumb": prefix + thumb, "medium": prefix + medium, "large": prefix + large}


def _store() -> MediaStore:
    store: MediaStore = context.extension("media_store")
    return store


@blp.route("/listings/<listing_id>/images", methods=["POST"])
@context.user_required
@accepts("multipart/form-data")
@upload_limit("MAX_IMAGE_BYTES")
@blp.arguments(ImageUploadSchema, location="multipart")
@blp.response(201, ImageSchema)
@raises(ImageTooLarge, ImageInvalid, ImageTooManyPixels, GalleryFull, InvalidLanguage)
def upload_image(body: dict[str, Any], listing_id: str) -> ListingImage:
    """Add an image to the end of a listing's gallery; three WebP sizes are derived from it."""
    settings = context.settings()
    image = images.add_image(
        context.db(),
        context.require_user(),
        listing_id,
        body["file"].read(int(settings["MAX_IMAGE_BYTES"]) + 1),
        store=_store(),
        max_pixels=int(settings["MAX_IMAGE_PIXELS"]),
        max_bytes=int(settings["MAX_IMAGE_BYTES"]),
        alt=body["alt"],
        locale=body["locale"],
    )
    return image


@blp.route("/listings/<listing_id>/images/<image_id>")
class ImageResource(MethodView):
    @context.user_required
    @blp.arguments(ImagePatchSchema)
    @blp.response(200, ImageSchema)
    @raises(InvalidLanguage)
    def patch(self, body: dict[str, Any], listing_id: str, image_id: str) -> ListingImage:
        """Move an image in the gallery or set its alt text in one locale."""
        image = images.update_image(
            context.db(), context.require_user(), listing_id, image_id, body
        )
        return image

    @context.user_required
    @blp.response(204)
    def delete(self, listing_id: str, image_id: str) -> None:
        """Remove an image from the gallery; the images after it move up."""
        images.delete_image(context.db(), context.require_user(), listing_id, image_id)


@blp.route("/media/<name>", methods=["GET"])
@blp.response(
    200,
    {"type": "string", "format": "binary"},
    content_type="image/webp",
    headers={"Cache-Control": {"schema": {"type": "string"}}},
)
def media(name: str) -> Response:
    """A derived image; its name is its SHA-256, so it may be cached forever."""
    data = _store().get(name)
    if data is None:
        raise NotFound()
    response = Response(data, mimetype="image/webp")
    response.cache_control.public = True
    response.cache_control.max_age = FOREVER
    response.cache_control.immutable = True
    response.set_etag(name.partition(".")[0])
    # Storefronts on other sites show these in <img>: same-site would block them.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
