"""Language-aware search over listings: analysis, the index kept in step with writes, ranking.

`analysis` turns text into tokens (stems, CJK words, bigrams, characters), `index` writes them
when a listing or a translation changes, `query` plans and ranks a search, `suggest` completes
titles as a buyer types. The README's "Search" section says how and what it costs.
"""

from marketplace.catalogue.search.analysis import fold
from marketplace.catalogue.search.index import SEPARATOR, Text, document, reindex, replace
from marketplace.catalogue.search.query import Plan, parameters, plan, ranked, shape

__all__ = [
    "SEPARATOR",
    "Plan",
    "Text",
    "document",
    "fold",
    "parameters",
    "plan",
    "ranked",
    "reindex",
    "replace",
    "shape",
]
