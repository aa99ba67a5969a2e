"""Every domain's models, imported so that the metadata (for Alembic and tests) is complete."""

from marketplace.accounts import models as accounts_models
from marketplace.customs import models as customs_models
from marketplace.db import Base
from marketplace.orders import models as orders_models

metadata = Base.metadata

__all__ = [
    "accounts_models",
    "customs_models",
    "metadata",
    "orders_models",
]
