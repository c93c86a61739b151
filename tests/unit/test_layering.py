"""Guards on the package shape: pure modules stay pure; `python -m kizuna` works."""

from __future__ import annotations

import re
import subprocess
import sys

PURE_MODULES = (
    "kizuna.activitypub.text",
    "kizuna.activitypub.emoji",
    "kizuna.activitypub.actors",
    "kizuna.activitypub.notes",
    "kizuna.activitypub.collections",
    "kizuna.activitypub.nodeinfo",
    "kizuna.activitypub.html",
    "kizuna.webfinger.codec",
    "kizuna.activitypub.ids",
    "kizuna.federation.signatures",
    "kizuna.keys",
    "kizuna.federation.domains",
    "kizuna.federation.blocklist_csv",
    "kizuna.activitypub.jsonload",
    "kizuna.passwords",
    "kizuna.web.emoji_search",
    "kizuna.config",
    "kizuna.realtime.events",
    "kizuna.realtime.sse",
    "kizuna.realtime.broker",
)
IO_PACKAGES = ("aiohttp", "sqlalchemy")

# Runs in a fresh interpreter: this test process has already imported everything (conftest).
PROBE = f"""
import sys
for name in {PURE_MODULES!r}:
    __import__(name)
    assert name in sys.modules, name
loaded = sorted(
    m for m in sys.modules if m.split(".")[0] in {IO_PACKAGES!r}
)
print(",".join(loaded))
"""


def test_pure_modules__do_not_import_io_packages() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"pure modules pulled in: {result.stdout.strip()}"


def test_python_m_kizuna__help_lists_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kizuna", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: kizuna")
    for command in ("serve", "migrate", "setup", "user"):
        # Listed as a sub-command: indented name followed by its help text.
        assert re.search(rf"^\s+{command}\s+\S", result.stdout, re.MULTILINE), command
