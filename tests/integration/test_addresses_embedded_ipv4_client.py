"""The outbound client refuses IPv6 literals that lead to a private IPv4 address, before any
connection (SSRF refusal: these addresses are checked, never connected to)."""

from __future__ import annotations

import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from kizuna.federation.addresses import PublicOnlyResolver
from kizuna.federation.errors import UnsafeAddressError
from tests.integration.lab import Network

# Refused: 127.0.0.1, 10.0.0.1 and 169.254.169.254 inside IPv6 addresses (never connected to).
HIDDEN_PRIVATE = (
    "::127.0.0.1",  # IPv4-compatible
    "::ffff:0:10.0.0.1",  # IPv4-translated (refused)
    "64:ff9b::169.254.169.254",  # NAT64 well-known prefix: refused (SSRF)
    "64:ff9b:1::a00:1",  # NAT64 local-use prefix
    "2002:7f00:1::1",  # 6to4
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1 (stored inverted)
)


@pytest.mark.parametrize("address", HIDDEN_PRIVATE)
async def test_fetch__ipv6_literal_hiding_a_private_ipv4_refused(
    network: Network, address: str
) -> None:
    a = await network.start("a.test", allow_private_addresses=False)
    with pytest.raises(UnsafeAddressError, match="refusing to contact"):
        await a.services.remote_accounts.resolve(f"https://[{address}]/users/x")
    with pytest.raises(UnsafeAddressError, match="refusing to contact"):
        await a.services.federation.get_json(f"https://[{address}]:8443/users/x")


class _Answers(AbstractResolver):
    """A DNS answer given by the test (what a hostile name server could return)."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host, host=address, port=port, family=socket.AF_INET6, proto=0, flags=0
            )
            for address in self.addresses
        ]

    async def close(self) -> None:
        return None


@pytest.mark.parametrize("address", HIDDEN_PRIVATE)
async def test_resolver__name_answering_only_hidden_private_addresses_refused(
    address: str,
) -> None:
    resolver = PublicOnlyResolver(_Answers([address]))
    with pytest.raises(UnsafeAddressError):
        await resolver.resolve("rebind.example", 443, socket.AF_INET6)


async def test_resolver__hidden_private_answers_dropped_public_ones_kept() -> None:
    resolver = PublicOnlyResolver(_Answers(["64:ff9b::7f00:1", "64:ff9b::808:808"]))
    answers = await resolver.resolve("mixed.example", 443, socket.AF_INET6)
    assert [answer["host"] for answer in answers] == ["64:ff9b::808:808"]
