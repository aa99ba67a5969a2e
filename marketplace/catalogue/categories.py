"""The category tree: loaded from data/categories.json, named in the six interface locales."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from marketplace.catalogue.models import Category
from marketplace.errors import Invalid
from marketplace.i18n import DEFAULT_LOCALE, _, match_supported

DATA_FILE = Path(__file__).resolve().parent / "data" / "categories.json"


class UnknownCategory(Invalid):
    code = "category_unknown"
    default_detail = _("There is no such category.")


@dataclass
class CategoryNode:
    slug: str
    name: str
    children: list[CategoryNode] = field(default_factory=list)


def load_categories(session: Session) -> int:
    """Upsert the shipped tree (parents before children); returns the number of nodes."""
    nodes: list[dict[str, Any]] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    existing = {c.slug: c for c in session.scalars(select(Category))}
    for position, node in enumerate(nodes):
        category = existing.get(node["slug"])
        if category is None:
            category = Category(slug=node["slug"])
            session.add(category)
        category.parent_slug = node["parent"]
        category.position = position
        category.names = node["names"]
        session.flush()
    return len(nodes)


def localized_name(names: dict[str, str], locale: str) -> str:
    """The name in the interface locale closest to `locale`, else English."""
    return names.get(match_supported(locale) or DEFAULT_LOCALE) or names[DEFAULT_LOCALE]


def tree(session: Session, locale: str) -> list[CategoryNode]:
    """Every category, nested, siblings in the data file's order, named for `locale`."""
    rows = list(session.scalars(select(Category).order_by(Category.position, Category.slug)))
    nodes = {row.slug: CategoryNode(row.slug, localized_name(row.names, locale)) for row in rows}
    roots: list[CategoryNode] = []
    for row in rows:
        parent = nodes.get(row.parent_slug) if row.parent_slug else None
        (parent.children if parent else roots).append(nodes[row.slug])
    return roots


def require(session: Session, slug: str) -> str:
    if session.get(Category, slug) is None:
        raise UnknownCategory(errors={"category": [UnknownCategory.default_detail]})
    return slug


def subtree(slug: str) -> Select[tuple[str]]:
    """A subquery of the slug and all its descendants (recursive CTE: no extra round trip)."""
    start = select(Category.slug).where(Category.slug == slug).cte("category_tree", recursive=True)
    below = select(Category.slug).join(start, Category.parent_slug == start.c.slug)
    tree_cte = start.union_all(below)
    return select(tree_cte.c.slug)
