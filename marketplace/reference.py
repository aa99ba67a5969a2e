"""Reference data shipped with the code (HS nomenclature, ...), loaded into the database.

`flask reference load` runs every loader; each is idempotent, so it is safe after every deploy.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from marketplace.catalogue import categories
from marketplace.customs import hs, rule_records


def load_all(session: Session) -> list[str]:
    return [
        f"HS nomenclature ({hs.EDITION}): {hs.load_nomenclature(session)} entries",
        f"customs destination rules: {rule_records.load_rules(session)} records",
        f"catalogue categories: {categories.load_categories(session)} nodes",
    ]
