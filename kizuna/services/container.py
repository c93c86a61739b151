"""The services one app (or CLI command) uses, built from a Config and a Database."""

from __future__ import annotations

from dataclasses import dataclass

from kizuna.config import Config
from kizuna.services.accounts import AccountService
from kizuna.services.follows import FollowService
from kizuna.services.media import MediaStore
from kizuna.services.posts import PostService
from kizuna.services.settings import SettingsService
from kizuna.services.timelines import TimelineService
from kizuna.storage.engine import Database


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    config: Config
    db: Database
    settings: SettingsService
    media: MediaStore
    accounts: AccountService
    posts: PostService
    timelines: TimelineService
    follows: FollowService

    @classmethod
    def build(cls, config: Config, db: Database) -> Services:
        settings = SettingsService(db)
        media = MediaStore(config.media_dir, max_bytes=config.max_upload_bytes)
        return cls(
            config=config,
            db=db,
            settings=settings,
            media=media,
            accounts=AccountService(db, config, settings, media),
            posts=PostService(db, config),
            timelines=TimelineService(db),
            follows=FollowService(db),
        )
