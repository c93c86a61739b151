"""The values of the state-like columns: StrEnums, stored as the same strings as ever (no
migration; kizuna.storage.models.StrEnumType). Pure: codecs use them too. (Which queue state
may follow which: kizuna.storage.lifecycles.)"""

from __future__ import annotations

from enum import StrEnum


class FollowState(StrEnum):
    PENDING = "pending"  # until the target (or its server) accepts
    ACCEPTED = "accepted"  # feeds the home timeline; a Group's accepted followers are members


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # refused for good, given up, or purged
    GONE = "gone"  # the inbox answered 410


class ReportState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Role(StrEnum):
    """A local user's: moderators handle reports and accounts, admins also everything else."""

    USER = "user"
    MODERATOR = "moderator"
    ADMIN = "admin"


class Severity(StrEnum):
    """A domain policy's, harshest first."""

    SUSPEND = "suspend"
    SILENCE = "silence"  # "limit" on the admin pages
    NOOP = "noop"  # only the flags (reject media, reject reports) apply


class CommunityRank(StrEnum):
    OWNER = "owner"
    MODERATOR = "moderator"
