"""Test data files: golden outputs (tests/data/golden) and peer payloads (tests/data/peers).

Regenerate golden files after an intended change of output with
`KIZUNA_UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit`, then review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
GOLDEN_DIR = DATA_DIR / "golden"
PEERS_DIR = DATA_DIR / "peers"
UPDATE_ENV = "KIZUNA_UPDATE_GOLDEN"


def peer_payload(name: str) -> dict[str, Any]:
    """A peer document from tests/data/peers, freshly loaded (tests may mutate it)."""
    doc = json.loads((PEERS_DIR / name).read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def assert_golden(name: str, actual: dict[str, Any]) -> None:
    """`actual` equals tests/data/golden/<name> (JSON); with KIZUNA_UPDATE_GOLDEN=1 the file
    is (re)written first."""
    path = GOLDEN_DIR / name
    if os.environ.get(UPDATE_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(actual, indent=2, ensure_ascii=False) + "\n"
        path.write_text(text, encoding="utf-8")
    if not path.exists():
        pytest.fail(f"missing golden file {path}; create it with {UPDATE_ENV}=1")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert actual == expected
