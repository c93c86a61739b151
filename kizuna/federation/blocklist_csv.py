"""Mastodon's domain-block CSV, read and written. Pure.

The export (Mastodon admin/export_domain_blocks_controller.rb) is a CSV with the header
`#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate` and booleans
written `true`/`false`. Its importer (app/models/admin/import.rb) also reads lists that
start with no header at all, one domain a line (the older "domain only" lists shared
between admins); we also take the header spelt without `#` (`domain,severity,…`), which
other tools write. Unknown columns are ignored, a missing column takes Mastodon's default
(severity `suspend`, flags false).

One bad row never sinks the list: it is reported with its row number (the header is row 1
where there is one) and the rest is parsed. Only a list too big, not UTF-8 or not CSV at
all is refused whole (BlocklistError).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass

from kizuna.federation.domains import DomainError, normalize_domain
from kizuna.storage.states import Severity

__all__ = [
    "HEADER",
    "MAX_CSV_BYTES",
    "MAX_ROWS",
    "SEVERITIES",
    "BlockRow",
    "BlocklistError",
    "ParsedBlocklist",
    "RowError",
    "blocklist_csv",
    "domain_digest",
    "obfuscated",
    "parse_blocklist",
]

SEVERITIES = tuple(Severity)
HEADER = (
    "#domain",
    "#severity",
    "#reject_media",
    "#reject_reports",
    "#public_comment",
    "#obfuscate",
)
MAX_CSV_BYTES = 4 * 1024 * 1024
MAX_ROWS = 20_000  # Mastodon's Admin::Import::ROWS_PROCESSING_LIMIT
MAX_COMMENT = 2000

_TRUE = frozenset({"true", "t", "1", "yes", "y", "on"})
_FALSE = frozenset({"false", "f", "0", "no", "n", "off", ""})


class BlocklistError(ValueError):
    """The whole list is unusable (too large, not text, not CSV); says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockRow:
    domain: str  # normalised: lowercase punycode, no wildcard
    severity: Severity = Severity.SUSPEND
    reject_media: bool = False
    reject_reports: bool = False
    public_comment: str = ""
    obfuscate: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RowError:
    row: int
    text: str  # the row's domain cell as written (cut short)
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedBlocklist:
    rows: tuple[BlockRow, ...]
    errors: tuple[RowError, ...]
    headered: bool  # False: a header-less, domain-only list


def parse_blocklist(
    data: bytes | str, *, max_bytes: int = MAX_CSV_BYTES, max_rows: int = MAX_ROWS
) -> ParsedBlocklist:
    size = len(data.encode() if isinstance(data, str) else data)
    if size > max_bytes:
        raise BlocklistError(f"the list is {size} bytes; at most {max_bytes} are read")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BlocklistError("the list is not UTF-8 text") from None
    else:
        text = data.removeprefix("\ufeff")
    if "\x00" in text:
        raise BlocklistError("the list is not text (it contains NUL bytes)")
    try:
        records = [
            r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)
        ]
    except csv.Error as exc:
        raise BlocklistError(f"the list is not valid CSV: {exc}") from None
    if not records:
        return ParsedBlocklist(rows=(), errors=(), headered=False)
    columns = _header(records[0])
    body = records[1:] if columns is not None else records
    if len(body) > max_rows:
        raise BlocklistError(f"the list has {len(body)} rows; at most {max_rows} are read")
    first_row = 2 if columns is not None else 1
    rows: list[BlockRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for number, record in enumerate(body, start=first_row):
        cells = _cells(record, columns)
        try:
            row = _row(cells)
        except ValueError as exc:
            errors.append(RowError(row=number, text=cells.get("domain", "")[:100], reason=str(exc)))
            continue
        if row.domain in seen:
            errors.append(
                RowError(
                    row=number,
                    text=cells.get("domain", "")[:100],
                    reason=f"{row.domain} is already on row {seen[row.domain]}",
                )
            )
            continue
        seen[row.domain] = number
        rows.append(row)
    return ParsedBlocklist(rows=tuple(rows), errors=tuple(errors), headered=columns is not None)


def _header(record: list[str]) -> list[str] | None:
    """Column names (without `#`, lowercased) if `record` is a header, else None."""
    names = [cell.strip().lower().removeprefix("#") for cell in record]
    return names if names and names[0] == "domain" else None


def _cells(record: list[str], columns: list[str] | None) -> dict[str, str]:
    if columns is None:
        return {"domain": record[0] if record else ""}  # domain-only list: the rest ignored
    return {name: value for name, value in zip(columns, record, strict=False) if name}


def _row(cells: dict[str, str]) -> BlockRow:
    raw_domain = cells.get("domain", "")
    try:
        domain = normalize_domain(raw_domain)
    except DomainError as exc:
        raise ValueError(str(exc)) from None
    severity = cells.get("severity", "").strip().lower() or Severity.SUSPEND
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity[:40]!r} (suspend, silence or noop)")
    comment = cells.get("public_comment", "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValueError(f"the public comment is longer than {MAX_COMMENT} characters")
    return BlockRow(
        domain=domain,
        severity=Severity(severity),
        reject_media=_flag(cells, "reject_media"),
        reject_reports=_flag(cells, "reject_reports"),
        public_comment=comment,
        obfuscate=_flag(cells, "obfuscate"),
    )


def _flag(cells: dict[str, str], name: str) -> bool:
    value = cells.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name} must be true or false, not {value[:40]!r}")


def blocklist_csv(rows: Iterable[BlockRow]) -> str:
    """Mastodon's export format, byte for byte: its header, `true`/`false`, `\\n` lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(
            [
                row.domain,
                row.severity,
                _bool(row.reject_media),
                _bool(row.reject_reports),
                row.public_comment,
                _bool(row.obfuscate),
            ]
        )
    return out.getvalue()


def _bool(value: bool) -> str:
    return "true" if value else "false"


def obfuscated(domain: str) -> str:
    """The domain as a public list shows an obfuscated block: Mastodon's
    DomainBlock#public_domain keeps the first and last quarter and every dot, and stars the
    rest (`example.com` → `exa****.*om`); the SHA-256 digest lets a reader check a guess."""
    length = len(domain)
    keep = length // 4
    return "".join(
        char if i <= keep or i >= length - keep or char == "." else "*"
        for i, char in enumerate(domain)
    )


def domain_digest(domain: str) -> str:
    """Mastodon's DomainBlock#domain_digest: hex SHA-256 of the (normalised) domain."""
    return hashlib.sha256(domain.encode()).hexdigest()
