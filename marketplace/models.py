"""Every domain's models, imported so that the metadata (for Alembic and tests) is complete."""

from marketplace.accounts import models as accounts_models
from marketplace.catalogue import models as catalogue_models
from marketplace.catalogue.search import models as search_models
from marketplace.checkout import models as checkout_models
from marketplace.customs import models as customs_models
from marketplace.db import Base
from marketplace.events import models as events_models
from marketplace.money import models as money_models
from marketplace.orders import models as orders_models
from marketplace.outbox import OutboxEvent
from marketplace.payments import models as payments_models

metadata = Base.metadata

_UNMANAGED = catalogue_models.UNMANAGED_OBJECTS


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object | None
) -> bool:
    """Autogenerate's filter: skip database objects that migrations create by hand (FTS, GIN)."""
    return not (reflected and name is not None and name.startswith(_UNMANAGED))


__all__ = [
    "OutboxEvent",
    "accounts_models",
    "catalogue_models",
    "checkout_models",
    "customs_models",
    "events_models",
    "include_object",
    "metadata",
    "money_models",
    "orders_models",
    "payments_models",
    "search_models",
]
