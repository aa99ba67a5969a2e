"""Liveness and readiness: /healthz answers 200 only when the database answers."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import text

from marketplace.api import context
from marketplace.api.openapi import raises
from marketplace.errors import DomainError
from marketplace.i18n import _

blp = Blueprint("health", __name__, description="Health checks")


class Unavailable(DomainError):
    status = 503
    code = "database_unavailable"
    default_detail = _("The database does not answer.")


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["ok"]})
    database = fields.String(required=True, metadata={"enum": ["ok"]})


@blp.route("/healthz", methods=["GET"])
@blp.response(200, HealthSchema)
@raises(Unavailable)
def healthz() -> dict[str, Any]:
    """The service and its database are up."""
    try:
        context.db().execute(text("SELECT 1"))
    except Exception as exc:
        raise Unavailable() from exc
    return {"status": "ok", "database": "ok"}
