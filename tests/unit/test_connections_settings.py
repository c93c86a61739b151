"""The slowloris settings as the configuration reads them, and whose connections count as
one client's."""

from __future__ import annotations

import pytest

from kizuna.config import load_config
from kizuna.errors import ConfigError
from kizuna.server.rate_limits import address_key


def test_connection_settings__defaults_and_environment() -> None:
    default = load_config(environ={})
    assert (default.header_timeout, default.body_timeout) == (20.0, 60.0)
    assert default.idle_connections_per_ip == 32
    env = {
        "KIZUNA_HEADER_TIMEOUT": "0.5",
        "KIZUNA_BODY_TIMEOUT": "45",
        "KIZUNA_IDLE_CONNECTIONS_PER_IP": "0",
    }
    config = load_config(environ=env)
    assert (config.header_timeout, config.body_timeout) == (0.5, 45.0)
    assert config.idle_connections_per_ip == 0  # no limit


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HEADER_TIMEOUT", "0"),
        ("HEADER_TIMEOUT", "soon"),
        ("BODY_TIMEOUT", "-1"),
        ("BODY_TIMEOUT", "3600"),
        ("IDLE_CONNECTIONS_PER_IP", "-1"),
        ("IDLE_CONNECTIONS_PER_IP", "2.5"),
    ],
)
def test_connection_settings__bad_values_refused(name: str, value: str) -> None:
    with pytest.raises(ConfigError):
        load_config(environ={f"KIZUNA_{name}": value})


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("::ffff:192.0.2.7", "192.0.2.7"),  # an IPv4 client of a socket bound to ::
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::"),
        ("fe80::1%eth0", "fe80::"),
    ],
)
def test_address_key__one_key_per_client(address: str, key: str) -> None:
    assert address_key(address) == key
