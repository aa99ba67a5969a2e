"""Multipart form uploads: one schema over a form's files and text fields, and a size limit.

flask-smorest documents one request body per operation; a `multipart` argument location puts a
form's files and fields in that one body, so generated clients send them in a single call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import IO, Any, TypeVar

import marshmallow as ma
from flask import Request, request
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict, FileStorage

from marketplace.api import context
from marketplace.errors import Invalid
from marketplace.i18n import N_, _

F = TypeVar("F", bound=Callable[..., Any])
# Room for the multipart envelope and the text fields around the file itself.
ENVELOPE_BYTES = 64 * 1024


class UploadParser(FlaskParser):
    """Adds the `multipart` location: files and text fields of a multipart/form-data body."""

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "multipart": None}

    def load_multipart(self, req: Request, schema: ma.Schema) -> Any:
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)


class UploadBlueprint(Blueprint):
    ARGUMENTS_PARSER = UploadParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }


class FileField(ma.fields.Raw):
    """A file part of a multipart form (a text field of that name is refused), as binary."""

    default_error_messages = {"invalid": N_("Send a file in this field.")}

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"type": "string", "format": "binary", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> FileStorage:
        if not isinstance(value, FileStorage):
            raise self.make_error("invalid")
        return value


def upload_limit(setting: str) -> Callable[[F], F]:
    """Let this view's body be as large as the file the setting allows (not MAX_CONTENT_LENGTH)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            request.max_content_length = int(context.settings()[setting]) + ENVELOPE_BYTES
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def body_or_form_file(field: str = "file") -> IO[bytes]:
    """The upload as a stream: the whole body, or one file of a multipart form (as a browser sends)."""
    if request.mimetype != "multipart/form-data":
        return request.stream
    upload = request.files.get(field)
    if upload is None:
        message = _("Send a file in this field.")
        raise Invalid(message, errors={field: [message]})
    return upload.stream


def multipart_file_body(description: str, media_type: str, *fields: str) -> dict[str, Any]:
    """An OpenAPI request body: the file as the whole body, or as `file` of a multipart form."""
    properties: dict[str, Any] = {"file": {"type": "string", "format": "binary"}}
    properties.update({name: {"type": "string"} for name in fields})
    return {
        "required": True,
        "description": description,
        "content": {
            media_type: {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["file"], "properties": properties}
            },
        },
    }
