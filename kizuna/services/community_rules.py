"""Who may post in a community: one rule for local authors and for remote ones."""

from __future__ import annotations

from kizuna.storage import communities, repo
from kizuna.storage.engine import Session
from kizuna.storage.models import Account


def restricted_to_mods(group: Account, posting_restricted: bool | None) -> bool:
    if posting_restricted is not None:
        return posting_restricted
    return (group.raw or {}).get("postingRestrictedToMods") is True


async def posting_refusal(
    session: Session, group: Account, author: Account, *, top_level: bool
) -> str | None:
    """Why `author` may not post in `group` (None when they may). Bans and membership are
    ours to know for our communities; for a remote one we know our side of it (our
    members' follows, bans its Block told us of) and its server decides the rest."""
    if await communities.get_ban(session, group.id, author.id) is not None:
        return f"you are banned from !{group.acct}"
    role = await communities.role_of(session, group.id, author.id) if group.is_local else None
    if role is None and not await repo.follows_accepted(session, author.id, group.id):
        return f"join !{group.acct} before posting in it"
    if top_level and role is None:
        community = await communities.get_community(session, group.id)
        restricted = community.posting_restricted if community is not None else None
        if restricted_to_mods(group, restricted):
            return f"only moderators start threads in !{group.acct}"
    return None
