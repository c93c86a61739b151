"""A JSON-LD term checker: does every key (and every `type`) of a document expand?

A real expander (pyld) needs the remote contexts fetched; this one knows the terms of the
two remote contexts we reference (ActivityStreams 2.0 and security/v1, term names from
their specifications) and reads inline context objects, nested `@context`s included. A
key is fine when it is a JSON-LD keyword, a term of the active context, a compact IRI whose
prefix is defined, or an absolute IRI. Anything else would expand to nothing (or to the
AS2 context's `@vocab: "_:"`, a blank node) for a JSON-LD consumer: that is what it reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

AS2_TERMS: Final = frozenset(
    """
    id type Accept Activity IntransitiveActivity Add Announce Application Arrive Article
    Audio Block Collection CollectionPage Relationship Create Delete Dislike Document Event
    Follow Flag Group Ignore Image Invite Join Leave Like Link Mention Note Object Offer
    OrderedCollection OrderedCollectionPage Organization Page Person Place Profile Question
    Reject Remove Service TentativeAccept TentativeReject Tombstone Undo Update Video View
    Listen Read Move Travel IsFollowing IsFollowedBy IsContact IsMember subject relationship
    actor attributedTo attachment bcc bto cc context current first generator icon image
    inReplyTo items instrument orderedItems last location next object oneOf anyOf closed
    origin accuracy prev preview provider replies result audience partOf tag target to url
    altitude content contentMap name nameMap duration endTime height href hreflang latitude
    longitude mediaType published radius rel startIndex startTime summary summaryMap
    totalItems units updated width describes formerType deleted inbox outbox following
    followers streams preferredUsername preferredUsernameMap endpoints uploadMedia proxyUrl
    liked oauthAuthorizationEndpoint oauthTokenEndpoint provideClientKey signClientKey
    sharedInbox Public source likes shares as xsd ldp vcard
    """.split()
)
SECURITY_TERMS: Final = frozenset(
    "id type sec publicKey publicKeyPem owner signature signatureValue created creator".split()
)
KNOWN_CONTEXTS: Final = {
    "https://www.w3.org/ns/activitystreams": AS2_TERMS,
    "https://w3id.org/security/v1": SECURITY_TERMS,
}
# Properties whose object's keys are languages, not terms (AS2's @language containers).
LANGUAGE_MAPS: Final = frozenset({"contentMap", "nameMap", "summaryMap"})
KEYWORDS: Final = frozenset({"@context", "@id", "@type", "@value", "@language", "@list"})


class Context:
    def __init__(self, terms: frozenset[str] = frozenset()) -> None:
        self.terms = set(terms)

    def extended(self, value: Any) -> Context:
        ctx = Context(frozenset(self.terms))
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                if item not in KNOWN_CONTEXTS:
                    raise AssertionError(f"unknown remote context {item!r}")
                ctx.terms |= KNOWN_CONTEXTS[item]
            elif isinstance(item, dict):
                ctx.terms |= {k for k in item if not k.startswith("@")}
            else:
                raise AssertionError(f"not a context: {item!r}")
        return ctx

    def expands(self, term: str) -> bool:
        if term in KEYWORDS or term in self.terms:
            return True
        prefix, colon, _ = term.partition(":")
        return bool(colon) and (prefix in self.terms or prefix in ("http", "https"))


def undefined_terms(doc: Any, ctx: Context | None = None, path: str = "$") -> list[str]:
    """Paths of keys and `type` values that do not expand in `doc`'s contexts."""
    return list(_walk(doc, ctx or Context(), path))


def _walk(node: Any, ctx: Context, path: str) -> Iterator[str]:
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk(item, ctx, f"{path}[{i}]")
        return
    if not isinstance(node, dict):
        return
    if "@context" in node:
        ctx = ctx.extended(node["@context"])
    for key, value in node.items():
        if key == "@context":
            continue
        if not ctx.expands(key):
            yield f"{path}.{key}"
        if key in ("type", "@type"):
            for kind in value if isinstance(value, list) else [value]:
                if not (isinstance(kind, str) and ctx.expands(kind)):
                    yield f"{path}.type={kind!r}"
        elif key not in LANGUAGE_MAPS:
            yield from _walk(value, ctx, f"{path}.{key}")
