"""Which addresses outbound federation may reach (SSRF guard), checked at connect time."""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from kizuna.federation.errors import UnsafeAddressError

# IPv6 prefixes whose addresses carry an IPv4 address in their last 32 bits: a connection to
# one reaches (through a translator or tunnel) that IPv4 address, so it is judged instead.
# ::/96 IPv4-compatible (RFC 4291, deprecated), ::ffff:0:0/96 IPv4-mapped, ::ffff:0:0:0/96
# IPv4-translated (SIIT, RFC 2765), 64:ff9b::/96 the NAT64 well-known prefix (RFC 6052).
_LOW_32_PREFIXES = tuple(
    ipaddress.IPv6Network(prefix)
    for prefix in ("::/96", "::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96")
)
# 64:ff9b:1::/48 is NAT64 for a network's own use (RFC 8215): the operator chooses the prefix
# length, so where the IPv4 address sits cannot be known here. Refused whole.
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address] | None:
    """The IPv4 addresses an IPv6 address leads to, or None when it embeds none."""
    if any(ip in prefix for prefix in _LOW_32_PREFIXES):
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip.sixtofour is not None:  # 2002::/16, 6to4 (RFC 3056): bits 16-48
        return [ip.sixtofour]
    if ip.teredo is not None:  # 2001::/32: the Teredo server and the (obfuscated) client
        return list(ip.teredo)
    return None


def is_public_address(address: str) -> bool:
    """True only for an address on the public Internet; an IPv6 address that embeds an IPv4
    one (mapped, compatible, NAT64, 6to4, Teredo) is judged by the IPv4 address it leads to."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _LOCAL_NAT64:
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return all(_is_public_ipv4(v4) for v4 in embedded)
    return ip.is_global and not ip.is_multicast


def _is_public_ipv4(ip: ipaddress.IPv4Address) -> bool:
    return ip.is_global and not ip.is_multicast


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class PublicOnlyResolver(AbstractResolver):
    """Resolves normally, then drops every non-public address.

    Checking the addresses the connection actually uses (not a pre-flight lookup) is what stops
    DNS rebinding: a name that answered public once cannot connect to 127.0.0.1 later.
    """

    def __init__(self, inner: AbstractResolver | None = None, *, allow_private: bool = False):
        self.inner = inner or DefaultResolver()
        self.allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        if self.allow_private:
            return results
        public = [r for r in results if is_public_address(r["host"])]
        if not public:
            raise UnsafeAddressError(f"{host} resolves only to private or local addresses")
        return public

    async def close(self) -> None:
        await self.inner.close()


def check_literal(host: str, *, allow_private: bool) -> None:
    if not allow_private and is_ip_literal(host) and not is_public_address(host.strip("[]")):
        raise UnsafeAddressError(f"refusing to contact the private or local address {host}")


__all__ = ["PublicOnlyResolver", "check_literal", "is_public_address"]
