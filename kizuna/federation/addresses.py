"""Which addresses outbound federation may reach (SSRF guard), checked at connect time."""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from kizuna.activitypub.errors import UnsafeAddressError


def is_public_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
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
