"""Unit tests for kizuna.config: defaults < TOML file < KIZUNA_* environment, and derived URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from kizuna.config import Config, load_config
from kizuna.errors import ConfigError


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kizuna.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- defaults and precedence ---------------------------------------------------------------


def test_load_config__no_file_no_env_gives_defaults() -> None:
    config = load_config(None, environ={})

    assert config == Config()
    assert config.domain == "localhost"
    assert config.host == "127.0.0.1"
    assert config.port == 8080
    assert config.database_url == "sqlite+aiosqlite:///kizuna.db"
    assert config.secret is None
    assert config.media_dir == Path("media")
    assert config.public_url is None
    assert config.max_upload_bytes == 2 * 1024 * 1024


def test_load_config__toml_overrides_defaults(tmp_path: Path) -> None:
    path = write_toml(
        tmp_path,
        'domain = "kizuna.example"\nport = 9000\nmedia_dir = "/srv/media"\nsecret = "s"\n',
    )

    config = load_config(path, environ={})

    assert config.domain == "kizuna.example"
    assert config.port == 9000
    assert config.media_dir == Path("/srv/media")
    assert config.secret == "s"
    assert config.host == "127.0.0.1"  # untouched keys keep their defaults


def test_load_config__env_overrides_toml(tmp_path: Path) -> None:
    path = write_toml(tmp_path, 'port = 9000\ndomain = "file.example"\n')

    config = load_config(path, environ={"KIZUNA_PORT": "9100", "KIZUNA_MAX_UPLOAD_BYTES": "1024"})

    assert config.port == 9100
    assert config.max_upload_bytes == 1024
    assert config.domain == "file.example"  # not in the environment: the file wins


def test_load_config__env_overrides_defaults_without_file() -> None:
    config = load_config(
        None,
        environ={
            "KIZUNA_DATABASE_URL": "postgresql+asyncpg://db/kizuna",
            "KIZUNA_MEDIA_DIR": "/var/media",
            "KIZUNA_DOMAIN": "Kizuna.Example",
        },
    )

    assert config.database_url == "postgresql+asyncpg://db/kizuna"
    assert config.media_dir == Path("/var/media")
    assert config.domain == "kizuna.example"


def test_load_config__empty_env_value_is_ignored(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "port = 9000\n")

    config = load_config(path, environ={"KIZUNA_PORT": "", "KIZUNA_SECRET": ""})

    assert config.port == 9000
    assert config.secret is None


def test_load_config__unprefixed_env_names_are_ignored() -> None:
    config = load_config(None, environ={"PORT": "1234", "DOMAIN": "other.example"})

    assert config.port == 8080
    assert config.domain == "localhost"


@pytest.mark.parametrize("key", ["port", "KIZUNA_PORT", "kizuna_port"])
def test_load_config__toml_key_bare_or_prefixed(tmp_path: Path, key: str) -> None:
    path = write_toml(tmp_path, f"{key} = 9000\n")

    assert load_config(path, environ={}).port == 9000


# --- rejected values -----------------------------------------------------------------------


def test_load_config__unknown_toml_key_raises(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "prot = 9000\n")

    with pytest.raises(ConfigError, match="prot"):
        load_config(path, environ={})


@pytest.mark.parametrize("name", ["key_source", "password_hasher"])
def test_load_config__injected_functions_are_no_settings(tmp_path: Path, name: str) -> None:
    path = write_toml(tmp_path, f'{name} = "os.system"\n')

    with pytest.raises(ConfigError, match=name):
        load_config(path, environ={})
    from_env = load_config(None, environ={f"KIZUNA_{name.upper()}": "os.system"})
    assert getattr(from_env, name) is getattr(Config(), name)


@pytest.mark.parametrize("value", ["abc", "0", "70000", "-1", "65536"])
def test_load_config__bad_env_port_raises(value: str) -> None:
    with pytest.raises(ConfigError, match="port"):
        load_config(None, environ={"KIZUNA_PORT": value})


@pytest.mark.parametrize("value", ['"abc"', "0", "70000"])
def test_load_config__bad_toml_port_raises(tmp_path: Path, value: str) -> None:
    path = write_toml(tmp_path, f"port = {value}\n")

    with pytest.raises(ConfigError, match="port"):
        load_config(path, environ={})


@pytest.mark.parametrize("value", ["1", "65535"])
def test_load_config__port_range_edges_accepted(value: str) -> None:
    assert load_config(None, environ={"KIZUNA_PORT": value}).port == int(value)


def test_load_config__zero_upload_limit_raises() -> None:
    with pytest.raises(ConfigError, match="max_upload_bytes"):
        load_config(None, environ={"KIZUNA_MAX_UPLOAD_BYTES": "0"})


@pytest.mark.parametrize("value", ["https://kizuna.example", "two words", " "])
def test_load_config__domain_not_a_bare_host_raises(value: str) -> None:
    with pytest.raises(ConfigError, match="domain"):
        load_config(None, environ={"KIZUNA_DOMAIN": value})


def test_load_config__non_string_toml_value_raises(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "secret = 5\n")

    with pytest.raises(ConfigError, match="secret"):
        load_config(path, environ={})


def test_load_config__missing_file_raises_one_line(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"

    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})

    message = str(info.value)
    assert "absent.toml" in message
    assert "\n" not in message


def test_load_config__directory_as_file_raises_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, environ={})

    assert str(tmp_path) in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text", ["port = \n", "[server\n", 'domain = "unterminated\n'])
def test_load_config__invalid_toml_raises_one_line(tmp_path: Path, text: str) -> None:
    path = write_toml(tmp_path, text)

    with pytest.raises(ConfigError, match="not valid TOML") as info:
        load_config(path, environ={})

    assert "\n" not in str(info.value)


# --- derived values ------------------------------------------------------------------------


@pytest.mark.parametrize("domain", ["localhost", "127.0.0.1"])
def test_config_base_url__local_host_is_the_bound_address_with_port(domain: str) -> None:
    config = load_config(None, environ={"KIZUNA_DOMAIN": domain, "KIZUNA_PORT": "8123"})

    assert config.base_url == "http://127.0.0.1:8123"
    assert config.secure_cookies is False


def test_config_base_url__local_domain_on_wildcard_bind_uses_the_domain() -> None:
    config = load_config(None, environ={"KIZUNA_HOST": "0.0.0.0", "KIZUNA_PORT": "8123"})

    assert config.base_url == "http://localhost:8123"


def test_config_base_url__real_domain_is_https_without_port() -> None:
    config = load_config(None, environ={"KIZUNA_DOMAIN": "kizuna.example", "KIZUNA_PORT": "8123"})

    assert config.base_url == "https://kizuna.example"
    assert config.secure_cookies is True


@pytest.mark.parametrize(
    ("public_url", "expected"),
    [
        ("https://example.org/kizuna/", "https://example.org/kizuna"),
        ("https://example.org/", "https://example.org"),
        ("https://example.org", "https://example.org"),
    ],
)
def test_config_base_url__public_url_wins_and_loses_trailing_slash(
    public_url: str, expected: str
) -> None:
    config = Config(domain="kizuna.example", public_url=public_url)

    assert config.base_url == expected
    assert config.secure_cookies is True


def test_config_secure_cookies__http_public_url_is_not_secure() -> None:
    config = load_config(
        None, environ={"KIZUNA_DOMAIN": "kizuna.example", "KIZUNA_PUBLIC_URL": "http://proxy.lan/"}
    )

    assert config.base_url == "http://proxy.lan"
    assert config.secure_cookies is False


def test_reactions_per_post_from_the_environment() -> None:
    assert load_config(None, environ={"KIZUNA_REACTIONS_PER_POST": "5"}).reactions_per_post == 5
    with pytest.raises(ConfigError):
        load_config(None, environ={"KIZUNA_REACTIONS_PER_POST": "0"})
