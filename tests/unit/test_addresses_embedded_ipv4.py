"""IPv6 addresses that carry an IPv4 address are judged by the IPv4 address they lead to.

SSRF refusal: every address here is only classified, never connected to.
"""

from __future__ import annotations

import ipaddress

import pytest

from kizuna.federation.addresses import check_literal, is_public_address
from kizuna.federation.errors import UnsafeAddressError

PRIVATE_TARGETS = ("127.0.0.1", "10.0.0.1", "169.254.169.254", "192.168.0.1")  # each refused (SSRF)
PUBLIC_TARGET = "8.8.8.8"
TEREDO_SERVER = "65.54.227.120"  # a public Teredo server; the client address is embedded


def _low32(prefix: str, v4: str) -> str:
    return str(ipaddress.IPv6Address(int(ipaddress.IPv6Address(prefix)) | _int(v4)))


def _int(v4: str) -> int:
    return int(ipaddress.IPv4Address(v4))


def _sixtofour(v4: str) -> str:
    return str(ipaddress.IPv6Address((0x2002 << 112) | (_int(v4) << 80) | 1))


def _teredo(client: str) -> str:
    # 2001:0:SERVER:flags:port:~CLIENT (RFC 4380: the client address is stored inverted)
    value = (0x20010000 << 96) | (_int(TEREDO_SERVER) << 64) | (0x8000 << 48) | (0x63BF << 32)
    return str(ipaddress.IPv6Address(value | (~_int(client) & 0xFFFFFFFF)))


FORMS = {
    "compatible ::a.b.c.d": lambda v4: f"::{v4}",
    "mapped ::ffff:a.b.c.d": lambda v4: f"::ffff:{v4}",
    "translated ::ffff:0:a.b.c.d": lambda v4: f"::ffff:0:{v4}",
    "NAT64 64:ff9b::/96": lambda v4: _low32("64:ff9b::", v4),
    "6to4 2002::/16": _sixtofour,
    "Teredo 2001::/32": _teredo,
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("v4", PRIVATE_TARGETS)
def test_is_public_address__embedded_private_ipv4_refused(form: str, v4: str) -> None:
    address = FORMS[form](v4)
    assert not is_public_address(address), address
    with pytest.raises(UnsafeAddressError):
        check_literal(f"[{address}]", allow_private=False)


@pytest.mark.parametrize("form", FORMS)
def test_is_public_address__embedded_public_ipv4_allowed(form: str) -> None:
    address = FORMS[form](PUBLIC_TARGET)
    assert is_public_address(address), address
    check_literal(f"[{address}]", allow_private=False)


def test_is_public_address__teredo_client_is_read_deobfuscated() -> None:
    # The stored bits of 127.0.0.1 inverted are 128.255.255.254, a public address: reading
    # them as they stand would wrongly allow a Teredo address leading to loopback.
    assert ipaddress.IPv4Address(~_int("127.0.0.1") & 0xFFFFFFFF).is_global
    assert not is_public_address(_teredo("127.0.0.1"))


@pytest.mark.parametrize(
    "address", ["64:ff9b:1::7f00:1", "64:ff9b:1:0:0:0:808:808", "64:ff9b:1:808:8:8::"]
)
def test_is_public_address__local_use_nat64_refused_whole(address: str) -> None:
    """RFC 8215's local-use prefix may place the IPv4 address anywhere: refused."""
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["::", "::1", "::0.0.0.1", "fe80::1%eth0", "ff02::1"])
def test_is_public_address__special_ipv6_still_refused(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["2606:4700:4700::1111", "2a00:1450:4001::200e", "8.8.8.8"])
def test_is_public_address__ordinary_public_addresses_allowed(address: str) -> None:
    assert is_public_address(address)
