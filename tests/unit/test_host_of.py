"""kizuna.activitypub.vocab.host_of: the one reading of "which server is this URL on"."""

from __future__ import annotations

import pytest

from kizuna.activitypub.vocab import host_of


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://a.test/users/alice", "a.test"),
        ("https://A.Test/users/alice", "a.test"),
        ("https://a.test:8443/users/alice", "a.test"),  # the port is not part of it
        ("https://eve:secret@a.test/x", "a.test"),  # nor userinfo
        ("https://eve@b.test@a.test/x", "a.test"),  # the last @ ends the userinfo
        ("http://[2001:DB8::1]:8080/x", "2001:db8::1"),  # IPv6 without brackets
        ("https://Bücher.Example/x", "bücher.example"),  # an IDN stays Unicode, lower-cased
        ("https://xn--bcher-kva.example/x", "xn--bcher-kva.example"),  # punycode as written
        ("//a.test/x", "a.test"),  # scheme-relative
        ("https://a.test", "a.test"),
        ("https://a.test#main-key", "a.test"),
    ],
)
def test_host_of__lower_case_host_alone(url: str, host: str) -> None:
    assert host_of(url) == host


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "a.test/users/alice",  # no scheme: a path, not a host
        "acct:alice@a.test",
        "/users/alice",
        "https://",
        "https://[oops/x",  # unbalanced IPv6 bracket: urlsplit raises
        "https://a\u2100b/x",  # normalises (NFKC) into another host: urlsplit raises
    ],
)
def test_host_of__empty_when_there_is_no_host(url: str | None) -> None:
    assert host_of(url) == ""


def test_host_of__port_out_of_range_still_names_the_host() -> None:
    """Only the host is read, never the port (which would raise)."""
    assert host_of("https://a.test:99999/x") == "a.test"
