"""Configuration: defaults < TOML file (--config) < KIZUNA_* environment variables."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kizuna import __version__
from kizuna.errors import ConfigError
from kizuna.keys import KeySource, generate_rsa_keypair
from kizuna.passwords import PasswordHasher, hash_password

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
    # Federation lab: host name -> (address, port) reached over plain HTTP, e.g. a.test on
    # 127.0.0.1:8081. Ids and URLs keep https:// and never contain the port.
    federation_hosts: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    # Outbound requests to loopback/private/link-local addresses are refused (SSRF) unless set.
    allow_private_addresses: bool = False
    # Seconds a remote fetch may take in all (connect, redirects, body).
    fetch_timeout: float = 10.0
    # Run delivery and inbox workers inside `kizuna serve` (0 when `kizuna worker`s do it).
    workers: bool = True
    # Different emoji reactions one person may give one post (a plain like aside).
    reactions_per_post: int = 3
    # A suspended local account's data is kept this long (reversible), then purged.
    suspension_grace_days: int = 30
    # Rate limits per process (0 turns one off): sign-up attempts per IP per hour, log-in
    # attempts per IP per 5 minutes, posts per user per minute, inbox requests per sender
    # domain per minute. Each allows a burst of its whole count.
    rate_signup: int = 25
    rate_login: int = 25
    rate_post: int = 30
    rate_inbox: int = 3000
    # Live pages (Server-Sent Events): open streams per client IP and in all (over: 429/503),
    # seconds between heartbeats, and how long one write may wait on a reader that stopped
    # reading before its stream is closed (the reader resumes from Last-Event-ID).
    live_per_ip: int = 50
    live_connections: int = 5000
    live_heartbeat: float = 20.0
    live_write_timeout: float = 10.0
    # Behind a reverse proxy: the client IP is X-Forwarded-For's last hop, not the peer address.
    trusted_proxy: bool = False
    # A file served as /robots.txt instead of the default (webfinger/robots.py).
    robots_txt: Path | None = None
    # Slowloris bounds (kizuna.server.connections): seconds to send a complete request head
    # (from opening, or from the previous response: also the keep-alive idle limit), seconds
    # to send a whole request body, and connections without a request one client address may
    # keep open (0: no limit; not applied behind a trusted proxy, whose address all share).
    header_timeout: float = 20.0
    body_timeout: float = 60.0
    idle_connections_per_ip: int = 32
    # Not settings (no file key or variable reads them): where new local actors get their
    # key pairs and how passwords are hashed. Tests hand out pre-generated key pairs and hash
    # cheaply; each costs ~0.1 s of CPU here, and the suite makes thousands.
    key_source: KeySource = field(
        default=generate_rsa_keypair, repr=False, compare=False, metadata={"setting": False}
    )
    password_hasher: PasswordHasher = field(
        default=hash_password, repr=False, compare=False, metadata={"setting": False}
    )

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
    def own_hosts(self) -> frozenset[str]:
        """Names this instance answers to; domain policies never apply to them."""
        parts = urlsplit(self.base_url)
        return frozenset({self.domain, parts.netloc.lower(), (parts.hostname or "").lower()})

    @property
    def secure_cookies(self) -> bool:
        # A lab instance is https:// by id but browsed over plain http on its mapped port.
        return self.base_url.startswith("https://") and self.domain not in self.federation_hosts

    @property
    def user_agent(self) -> str:
        return f"Kizuna/{__version__} (+{self.base_url}/)"


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    raise ConfigError(f"{name} must be 1/0, true/false, yes/no or on/off, got {value!r}")


def _address(name: str, host: str, target: Any) -> tuple[str, int]:
    address, sep, port = str(target).strip().rpartition(":")
    address = address.strip("[]")
    if not sep or not address or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{name}: {host} must map to ADDRESS:PORT, got {target!r}")
    return address, int(port)


def _host_map(name: str, value: Any) -> dict[str, tuple[str, int]]:
    """`a.test=127.0.0.1:8081,b.test=127.0.0.1:8082`, or a TOML table of the same."""
    if isinstance(value, Mapping):
        pairs = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, str):
        pairs = []
        for item in filter(None, (part.strip() for part in value.split(","))):
            host, sep, target = item.partition("=")
            if not sep:
                raise ConfigError(f"{name}: expected HOST=ADDRESS:PORT, got {item!r}")
            pairs.append((host, target))
    else:
        raise ConfigError(f"{name} must be a string or a table, got {value!r}")
    return {host.strip().lower(): _address(name, host, target) for host, target in pairs}


def _coerce(name: str, value: Any) -> Any:
    if name == "federation_hosts":
        return _host_map(name, value)
    if name in ("allow_private_addresses", "workers", "trusted_proxy"):
        return _bool(name, value)
    if name in (
        "fetch_timeout",
        "live_heartbeat",
        "live_write_timeout",
        "header_timeout",
        "body_timeout",
    ):
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be a number of seconds, got {value!r}") from None
        if not 0 < seconds <= 300:
            raise ConfigError(f"{name} out of range: {seconds}")
        return seconds
    if name in (
        "port",
        "max_upload_bytes",
        "reactions_per_post",
        "suspension_grace_days",
        "live_per_ip",
        "live_connections",
    ):
        if isinstance(value, bool | float):
            raise ConfigError(f"{name} must be an integer, got {value!r}")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be an integer, got {value!r}") from None
        if number <= 0 or (name == "port" and number > 65535) or number > 2**31:
            raise ConfigError(f"{name} out of range: {number}")
        return number
    if name.startswith("rate_") or name == "idle_connections_per_ip":
        if isinstance(value, bool | float) or not str(value).strip().isdigit():
            raise ConfigError(f"{name} must be a whole number (0 turns it off), got {value!r}")
        if int(value) > 10**7:
            raise ConfigError(f"{name} out of range: {value}")
        return int(value)
    if name in ("media_dir", "robots_txt"):
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
    names = {f.name for f in fields(Config) if f.metadata.get("setting", True)}
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
