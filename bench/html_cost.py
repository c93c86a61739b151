"""What one hostile remote post costs to parse, next to a typical one, before and after the bound.

Remote HTML (note content and content warning, actor bio and fields) is sanitised with
bleach/html5lib, whose tree builder is quadratic in nesting depth, and content warnings were
read with the standard library's HTMLParser, quadratic on some malformed input. `sanitize`
now refuses HTML past `MAX_HTML_TAGS` tags or `MAX_HTML_DEPTH` levels after one linear scan.
For each case this prints the CPU time (`time.process_time`) of `parse_note` (`parse_actor`
for a bio) as it is now, what it decided, the CPU time of the same parse without the bound
(bleach alone, or HTMLParser on the raw warning: the code before), and both as a ratio of the
ceiling: parsing a typical 500-character Mastodon post, measured in the same run. Nothing
asserts; results go to bench/results/html_cost.json.

    python bench/html_cost.py [--rounds 200] [--skip-before]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from kizuna.activitypub import html as sanitiser
from kizuna.activitypub.actors import parse_actor
from kizuna.activitypub.errors import InvalidActivityError
from kizuna.activitypub.objects import parse_note

RESULTS = Path(__file__).parent / "results"
TYPICAL = (
    '<p><span class="h-card"><a href="https://m.test/@pat" class="u-url mention">@<span>pat'
    "</span></a></span> " + "A post of the usual length, with a few words in it. " * 8 + "</p>"
    '<p><a href="https://m.test/tags/bench" class="mention hashtag" rel="tag">#<span>bench'
    "</span></a></p>"
)

NESTED_SPANS = "<span>" * 50_000 + "</span>" * 50_000  # fits a 1 MiB inbox body


def _note(content: str, summary: str | None = None) -> dict[str, Any]:
    doc = {
        "id": "https://m.test/users/pat/statuses/1",
        "type": "Note",
        "attributedTo": "https://m.test/users/pat",
        "content": content,
    }
    if summary is not None:
        doc["summary"] = summary
    return doc


def _long_post() -> str:
    link = '<a href="https://ak.test/notice/1">a link</a>'
    return f"<p>{'A sentence of a long Akkoma post, written at length. ' * 8}{link}</p>" * 40


def cpu(work: Callable[[], object], rounds: int = 1) -> float:
    """CPU seconds for one run of `work` (the mean of `rounds`)."""
    began = time.process_time()
    for _ in range(rounds):
        work()
    return (time.process_time() - began) / rounds


def now(doc: dict[str, Any]) -> str:
    try:
        parse_actor(doc) if doc["type"] == "Person" else parse_note(doc)
    except InvalidActivityError as exc:
        return f"refused: {exc}"
    return "kept"


def old_content(content: str) -> Callable[[], object]:
    return lambda: sanitiser._cleaner().clean(content)  # bleach without the bound


def old_summary(summary: str) -> Callable[[], object]:
    """What the content warning went through before: the standard library's parser."""

    def work() -> None:
        reader = HTMLParser(convert_charrefs=True)
        reader.feed(summary)
        reader.close()

    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200, help="runs of the typical post")
    parser.add_argument("--skip-before", action="store_true", help="do not time the old code")
    args = parser.parse_args()
    ceiling = cpu(lambda: parse_note(_note(TYPICAL)), args.rounds)
    depth, tags = sanitiser.MAX_HTML_DEPTH, sanitiser.MAX_HTML_TAGS
    worst_kept = "<span>" * (depth - 1) + "<br>:x" * ((tags - depth) // 2)
    cases: list[tuple[str, dict[str, Any], Callable[[], object]]] = [
        ("typical 500-char post", _note(TYPICAL), old_content(TYPICAL)),
        ("long post, 20 kB", _note(_long_post()), old_content(_long_post())),
        ("worst kept: depth 99, 10k tags", _note(worst_kept), old_content(worst_kept)),
        ("33,000 nested <b> (99 kB)", _note("<b>" * 33_000), old_content("<b>" * 33_000)),
        ("3,000 nested <span> + text", _note("<span>x" * 3_000), old_content("<span>x" * 3_000)),
        (
            "bio: 50,000 nested <span> (650 kB)",
            {
                "id": "https://m.test/users/pat",
                "type": "Person",
                "preferredUsername": "pat",
                "inbox": "https://m.test/users/pat/inbox",
                "summary": NESTED_SPANS,
            },
            old_content(NESTED_SPANS),
        ),
        (
            "warning: 5,000 unclosed <a x",
            _note("<p>hi</p>", "<a x" * 5_000),
            old_summary("<a x" * 5_000),
        ),
    ]
    rows: list[dict[str, Any]] = []
    for name, doc, before in cases:
        after_s = cpu(partial(now, doc))
        before_s = None if args.skip_before else cpu(before)
        rows.append(
            {
                "case": name,
                "outcome": now(doc),
                "after_cpu_s": after_s,
                "before_cpu_s": before_s,
                "after_ratio": after_s / ceiling,
                "before_ratio": None if before_s is None else before_s / ceiling,
            }
        )
    print(f"ceiling: parse_note of a typical 500-char post = {ceiling * 1000:.2f} ms CPU")
    print(f"{'case':34} {'now ms':>9} {'× typical':>10} {'before ms':>10} {'× typical':>10}  now")
    for row in rows:
        before = row["before_cpu_s"]
        before_ms = "-" if before is None else f"{before * 1000:,.1f}"
        before_x = "-" if before is None else f"{row['before_ratio']:,.0f}"
        print(
            f"{row['case']:34} {row['after_cpu_s'] * 1000:>9,.1f} {row['after_ratio']:>10,.1f} "
            f"{before_ms:>10} {before_x:>10}  {row['outcome'][:60]}"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "html_cost.json").write_text(
        json.dumps({"ceiling_cpu_s": ceiling, "runs": rows}, indent=2)
    )


if __name__ == "__main__":
    main()
