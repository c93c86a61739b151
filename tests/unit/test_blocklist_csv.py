"""Mastodon's domain-block CSV: real-shaped lists in, our export out, bad rows reported."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from kizuna.federation.blocklist_csv import (
    HEADER,
    BlocklistError,
    BlockRow,
    blocklist_csv,
    domain_digest,
    obfuscated,
    parse_blocklist,
)
from kizuna.storage.states import Severity

LISTS = Path(__file__).resolve().parents[1] / "data" / "blocklists"


def _read(name: str) -> bytes:
    return (LISTS / name).read_bytes()


def test_parse_blocklist__mastodon_export() -> None:
    parsed = parse_blocklist(_read("mastodon-export.csv"))

    assert parsed.errors == ()
    assert parsed.headered
    assert parsed.rows == (
        BlockRow(
            domain="spam.example",
            severity=Severity.SUSPEND,
            reject_media=True,
            reject_reports=True,
            public_comment="Spam, and lots of it",
        ),
        BlockRow(
            domain="noisy.example", severity=Severity.SILENCE, public_comment="Unmoderated firehose"
        ),
        BlockRow(
            domain="media.example",
            severity=Severity.NOOP,
            reject_media=True,
            public_comment="reject media",
        ),
        BlockRow(
            domain="hidden-harassment.example",
            severity=Severity.SUSPEND,
            reject_reports=True,
            public_comment="Harassment",
            obfuscate=True,
        ),
        BlockRow(domain="xn--r8jz45g.example", severity=Severity.SILENCE),
    )


def test_blocklist_csv__round_trip_is_byte_identical_to_mastodon_export() -> None:
    original = _read("mastodon-export.csv")
    parsed = parse_blocklist(original)

    written = blocklist_csv(parsed.rows)

    assert written.encode() == original
    assert parse_blocklist(written).rows == parsed.rows


def test_blocklist_csv__awkward_comments_survive() -> None:
    rows = (
        BlockRow(domain="a.example", public_comment='says "hi", then\nleaves'),
        BlockRow(
            domain="b.example", severity=Severity.NOOP, public_comment="=HYPERLINK(1) 絵文字 🎌"
        ),
    )

    text = blocklist_csv(rows)

    assert text.splitlines()[0] == ",".join(HEADER)
    assert parse_blocklist(text).rows == rows


def test_parse_blocklist__extra_columns_are_ignored() -> None:
    parsed = parse_blocklist(_read("mastodon-reject-follows.csv"))

    assert parsed.errors == ()
    assert [(r.domain, r.severity, r.obfuscate) for r in parsed.rows] == [
        ("bad.domain", "silence", False),
        ("worse.domain", "suspend", True),
        ("reject.media", "noop", False),
    ]


def test_parse_blocklist__quoted_uppercase_crlf() -> None:
    parsed = parse_blocklist(_read("quoted-uppercase.csv"))

    assert parsed.errors == ()
    assert [(r.domain, r.severity, r.reject_media, r.obfuscate) for r in parsed.rows] == [
        ("spam.example", "suspend", False, True),
        ("dni.invalid", "suspend", False, True),
    ]


def test_parse_blocklist__headerless_domain_list() -> None:
    parsed = parse_blocklist(_read("domains-only.txt"))

    assert not parsed.headered
    assert parsed.errors == ()
    assert parsed.rows == (
        BlockRow(domain="spam.example"),  # Mastodon's default severity: suspend
        BlockRow(domain="noisy.example"),
        BlockRow(domain="example.org"),
    )


def test_parse_blocklist__header_without_hash_and_missing_columns() -> None:
    text = "domain,severity,public_comment\nOne.Example,SILENCE,  loud  \ntwo.example,,\n"

    parsed = parse_blocklist(text)

    assert parsed.errors == ()
    assert parsed.rows == (
        BlockRow(domain="one.example", severity=Severity.SILENCE, public_comment="loud"),
        BlockRow(domain="two.example", severity=Severity.SUSPEND),
    )


def test_parse_blocklist__utf8_bom_and_unicode_domain() -> None:
    data = "\ufeff#domain,#severity\n例え.テスト,noop\n".encode()

    parsed = parse_blocklist(data)

    assert parsed.rows == (BlockRow(domain="xn--r8jz45g.xn--zckzah", severity=Severity.NOOP),)


def test_parse_blocklist__bad_rows_reported_with_number_rest_parsed() -> None:
    text = "\n".join(
        [
            ",".join(HEADER),  # row 1
            "good.example,suspend,false,false,,false",  # 2
            "bad.example:8080,suspend,false,false,,false",  # 3: a port
            "https://x.example/path,silence,false,false,,false",  # 4: a URL: its host is fine
            "path.example/users,silence,false,false,,false",  # 5: a path
            "sev.example,ban,false,false,,false",  # 6: unknown severity
            "bool.example,silence,maybe,false,,false",  # 7: bad boolean
            "*.wild.example,silence,false,false,,false",  # 8: wildcard → wild.example
            "GOOD.example.,noop,false,false,,false",  # 9: duplicate of row 2
            ",suspend,false,false,,false",  # 10: empty domain
            "com,suspend,false,false,,false",  # 11: not a full domain
            "",
        ]
    )

    parsed = parse_blocklist(text)

    assert [r.domain for r in parsed.rows] == ["good.example", "x.example", "wild.example"]
    errors = {e.row: e for e in parsed.errors}
    assert sorted(errors) == [3, 5, 6, 7, 9, 10, 11]
    assert "port" in errors[3].reason
    assert errors[3].text == "bad.example:8080"
    assert "path" in errors[5].reason
    assert "unknown severity 'ban'" in errors[6].reason
    assert "reject_media must be true or false, not 'maybe'" == errors[7].reason
    assert "already on row 2" in errors[9].reason
    assert "empty" in errors[10].reason
    assert "full domain" in errors[11].reason


def test_parse_blocklist__row_numbers_without_header_start_at_one() -> None:
    parsed = parse_blocklist("ok.example\nnot a domain\n")

    assert [(e.row, e.text) for e in parsed.errors] == [(2, "not a domain")]


def test_parse_blocklist__blank_lines_skipped_but_counted_as_rows_seen() -> None:
    parsed = parse_blocklist("#domain\n\n,\nok.example\n")

    assert [r.domain for r in parsed.rows] == ["ok.example"]
    assert parsed.errors == ()


def test_parse_blocklist__empty_input() -> None:
    parsed = parse_blocklist(b"")

    assert parsed.rows == ()
    assert parsed.errors == ()


def test_parse_blocklist__too_large_refused_whole() -> None:
    with pytest.raises(BlocklistError, match="at most 100 are read"):
        parse_blocklist(b"a.example\n" * 20, max_bytes=100)


def test_parse_blocklist__too_many_rows_refused_whole() -> None:
    with pytest.raises(BlocklistError, match="3 rows; at most 2"):
        parse_blocklist("#domain\na.example\nb.example\nc.example\n", max_rows=2)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe#\x00d\x00", "not UTF-8"),
        (b"a.example\x00\n", "NUL"),
    ],
)
def test_parse_blocklist__not_text_refused(data: bytes, message: str) -> None:
    with pytest.raises(BlocklistError, match=message):
        parse_blocklist(data)


def test_parse_blocklist__overlong_comment_is_a_row_error() -> None:
    parsed = parse_blocklist(f"#domain,#public_comment\nlong.example,{'x' * 2001}\n")

    assert parsed.rows == ()
    assert "longer than 2000" in parsed.errors[0].reason


@pytest.mark.parametrize(
    ("domain", "shown"),
    [
        # Mastodon's DomainBlock#public_domain: the first and last quarter and the dots stay.
        ("example.com", "exa****.*om"),
        ("mastodon.social", "mast****.***ial"),
        ("abcd.ef", "ab**.*f"),
        ("a.b", "a.*"),  # a quarter of 3 is 0: only the first character stays
    ],
)
def test_obfuscated__like_mastodon(domain: str, shown: str) -> None:
    assert obfuscated(domain) == shown
    assert len(obfuscated(domain)) == len(domain)


def test_domain_digest__sha256_of_the_domain() -> None:
    assert domain_digest("example.com") == hashlib.sha256(b"example.com").hexdigest()
    assert domain_digest("example.com") == (
        "a379a6f6eeafb9a55e378c118034e2751e682fab9f2d30ab13d2125586ce1947"
    )


def test_blocklist_csv__module_is_pure() -> None:
    probe = (
        "import sys, kizuna.federation.blocklist_csv\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] in ('aiohttp', 'sqlalchemy')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
