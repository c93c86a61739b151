"""Configuration: defaults < TOML file (--config) < KIZUNA_* environment variables."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from kizuna.errors import ConfigError

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    domain: str = "localhost"
    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = "sqlite+aiosqlite:///kizuna.db"
    # None: generated on first run and kept in the database (instance_settings).
    secret: str | None = None
    media_dir: Path = Path("media")
    # Overrides the URL derived from domain (https://DOMAIN), e.g. behind a proxy on a sub-path.
    public_url: str | None = None
    max_upload_bytes: int = 2 * 1024 * 1024

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        if self.domain in LOCAL_HOSTS:
            # A trial instance: links must point where the browser already is (cookies are
            # per host), i.e. the bound address when it is a concrete one.
            host = self.domain if self.host in ("", "0.0.0.0", "::") else self.host
            return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"
        return f"https://{self.domain}"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")


def _coerce(name: str, value: Any) -> Any:
    if name == "port" or name == "max_upload_bytes":
        if isinstance(value, bool | float):
            raise ConfigError(f"{name} must be an integer, got {value!r}")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be an integer, got {value!r}") from None
        if number <= 0 or (name == "port" and number > 65535):
            raise ConfigError(f"{name} out of range: {number}")
        return number
    if name == "media_dir":
        return Path(str(value))
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string, got {value!r}")
    if name == "domain":
        value = value.strip().lower()
        if not value or "/" in value or " " in value:
            raise ConfigError(f"domain must be a bare host name, got {value!r}")
    return value


def load_config(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    names = {f.name for f in fields(Config)}
    values: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
        for key, value in data.items():
            name = key.lower().removeprefix("kizuna_")
            if name not in names:
                raise ConfigError(f"unknown key {key!r} in {path}")
            values[name] = value
    for name in names:
        env_value = env.get(f"KIZUNA_{name.upper()}")
        if env_value is not None and env_value != "":
            values[name] = env_value
    return replace(Config(), **{k: _coerce(k, v) for k, v in values.items()})
