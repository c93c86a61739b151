"""OrderedCollection / OrderedCollectionPage documents (outbox, followers, following, featured).

Small collections inline their items (`orderedItems`); large ones point at pages through
`first`/`last`, each page listing its items, `next`/`prev` and `partOf`. Keys whose value is
None are left out. Items inlined without their own `@context` need the collection's to
define their terms: pass it as `context`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kizuna.activitypub.context import AS_CONTEXT
from kizuna.activitypub.vocab import JsonObject

__all__ = ["collection_json", "ordered_collection_json", "ordered_collection_page_json"]


def collection_json(*, id: str, items: Sequence[Any], context: Any = AS_CONTEXT) -> JsonObject:
    """An unordered `Collection` with its items inline (Mastodon's featured tags)."""
    return {
        "@context": context,
        "id": id,
        "type": "Collection",
        "totalItems": len(items),
        "items": list(items),
    }


def ordered_collection_json(
    *,
    id: str,
    total_items: int,
    first: str | None = None,
    last: str | None = None,
    items: Sequence[Any] | None = None,
    context: Any = AS_CONTEXT,
) -> JsonObject:
    doc: JsonObject = {
        "@context": context,
        "id": id,
        "type": "OrderedCollection",
        "totalItems": total_items,
        "first": first,
        "last": last,
        "orderedItems": list(items) if items is not None else None,
    }
    return _without_none(doc)


def ordered_collection_page_json(
    *,
    id: str,
    part_of: str,
    items: Sequence[Any],
    next: str | None = None,
    prev: str | None = None,
    total_items: int | None = None,
) -> JsonObject:
    doc: JsonObject = {
        "@context": AS_CONTEXT,
        "id": id,
        "type": "OrderedCollectionPage",
        "totalItems": total_items,
        "next": next,
        "prev": prev,
        "partOf": part_of,
        "orderedItems": list(items),
    }
    return _without_none(doc)


def _without_none(doc: JsonObject) -> JsonObject:
    return {key: value for key, value in doc.items() if value is not None}
