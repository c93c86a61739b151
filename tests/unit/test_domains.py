"""Domain names as policy keys: one spelling per domain, and which policy covers a host."""

from __future__ import annotations

import pytest

from kizuna.federation.domains import DomainError, covering, normalize_domain, suffixes


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example.com", "example.com"),
        ("Example.COM", "example.com"),
        ("  example.com\n", "example.com"),
        ("example.com.", "example.com"),  # the root's trailing dot
        ("*.example.com", "example.com"),  # a wildcard is the same rule: subdomains are covered
        ("*.Sub.Example.com.", "sub.example.com"),
        ("https://Example.com/@alice", "example.com"),  # a pasted URL: its host
        ("https://user@example.com/", "example.com"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),  # Unicode → punycode
        ("xn--r8jz45g.xn--zckzah", "xn--r8jz45g.xn--zckzah"),  # punycode stays as it is
        ("XN--R8JZ45G.xn--ZCKZAH", "xn--r8jz45g.xn--zckzah"),
        ("ÉCOLE.fr", "xn--cole-9oa.fr"),  # case folded before encoding
        ("mañana.com", "xn--maana-pta.com"),
        ("localhost", "localhost"),
    ],
)
def test_normalize_domain__one_spelling(text: str, expected: str) -> None:
    assert normalize_domain(text) == expected


def test_normalize_domain__unicode_and_punycode_spellings_are_one_key() -> None:
    assert normalize_domain("例え.テスト") == normalize_domain("*.XN--R8JZ45G.xn--zckzah.")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("example.com:443", "port"),
        ("https://example.com:8443/", "port"),
        ("example.com/path", "path"),
        ("example.com?q=1", "path"),
        ("example.com#top", "path"),
        ("com", "full domain"),
        ("*.", "full domain"),
        ("a..b", "valid"),
        ("-bad.example", "valid"),
        ("bad-.example", "valid"),
        ("under_score.example", "valid"),
        ("sp ace.example", "valid"),
        ("a" * 64 + ".example", "valid"),  # a label is at most 63
        (".".join(["abcdefghij"] * 26), "full domain"),  # over 253 characters
    ],
)
def test_normalize_domain__refuses_with_reason(text: str, reason: str) -> None:
    with pytest.raises(DomainError, match=reason):
        normalize_domain(text)


def test_normalize_domain__error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="port"):
        normalize_domain("example.com:80")


def test_suffixes__most_specific_first() -> None:
    assert list(suffixes("A.b.Example.com.")) == [
        "a.b.example.com",
        "b.example.com",
        "example.com",
        "com",
    ]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("example.com", "example.com"),
        ("media.example.com", "example.com"),
        ("deep.media.example.com", "example.com"),
        ("MEDIA.Example.COM.", "example.com"),
        ("badexample.com", None),  # a suffix of the text, not a subdomain
        ("example.com.evil.test", None),
        ("other.test", None),
    ],
)
def test_covering__domain_and_subdomains_only(host: str, expected: str | None) -> None:
    assert covering(host, {"example.com", "unrelated.test"}) == expected


def test_covering__the_most_specific_policy_wins() -> None:
    rules = ["example.com", "media.example.com"]  # any iterable
    assert covering("cdn.media.example.com", rules) == "media.example.com"
    assert covering("www.example.com", rules) == "example.com"
    assert covering("example.com", frozenset(rules)) == "example.com"


def test_covering__punycode_host_matches_its_normalised_rule() -> None:
    rule = normalize_domain("例え.テスト")
    assert covering("sub.xn--r8jz45g.xn--zckzah", {rule}) == rule
