"""Domain errors: each carries an HTTP-independent machine code and a translatable message.

The HTTP layer turns them into problem+json; services raise them and never build responses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from marketplace.i18n import _


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    default_detail: ClassVar[Any] = _("The request could not be processed.")

    def __init__(
        self,
        detail: Any = None,
        *,
        code: str | None = None,
        errors: Mapping[str, Sequence[Any]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.detail = detail if detail is not None else self.default_detail
        self.error_code = code or self.code
        self.errors = dict(errors or {})
        self.extra = dict(extra or {})
        super().__init__(str(self.detail))


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_detail = _("The requested resource does not exist.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_detail = _("You are not allowed to do this.")


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    default_detail = _("A valid bearer token is required.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_detail = _("The request conflicts with the current state.")


class Invalid(DomainError):
    status = 422
    code = "invalid"
    default_detail = _("Some fields are invalid.")
