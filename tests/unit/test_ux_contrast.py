"""Colour contrast of kizuna.css in the light and the dark scheme (WCAG 2.1: 4.5:1 for text,
3:1 for the borders that show where a control is and for the focus ring). The colours come
from the stylesheet's custom properties; which of them are text and which are surfaces
comes from the rules that use them, so a colour added to a rule is checked too."""

from __future__ import annotations

import re
from importlib import resources

import pytest

CSS = (resources.files("kizuna") / "static" / "kizuna.css").read_text()

TEXT_MIN = 4.5
UI_MIN = 3.0
# Text on the two surfaces that carry only one colour of text: buttons and badges
# (--accent-fg, drawn nowhere else) and the avatar placeholder's letter.
PAIRS = {("accent-fg", "accent"), ("muted", "line")}
SPECIAL_SURFACES = {"accent", "line"}

VAR_RE = re.compile(r"--([\w-]+):\s*([^;]+);")
MIX_RE = re.compile(r"color-mix\(in srgb, var\(--([\w-]+)\) (\d+)%, var\(--([\w-]+)\)\)")


def _block(text: str, start: int) -> str:
    """The text between the `{` at or after `start` and its matching `}`."""
    opening = text.index("{", start)
    depth = 0
    for i in range(opening, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[opening + 1 : i]
    raise AssertionError("unbalanced braces")


def _schemes() -> dict[str, dict[str, str]]:
    light = dict(VAR_RE.findall(_block(CSS, CSS.index(":root"))))
    media = CSS.index("@media (prefers-color-scheme: dark)")
    dark_root = _block(_block(CSS, media), 0)
    return {"light": light, "dark": {**light, **dict(VAR_RE.findall(dark_root))}}


def _rgb(variables: dict[str, str], name: str) -> tuple[float, float, float]:
    value = variables[name].strip()
    if mix := MIX_RE.fullmatch(value):
        first, share, second = mix.group(1), int(mix.group(2)) / 100, mix.group(3)
        a, b = _rgb(variables, first), _rgb(variables, second)
        return tuple(x * share + y * (1 - share) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]
    if ref := re.fullmatch(r"var\(--([\w-]+)\)", value):
        return _rgb(variables, ref.group(1))
    assert re.fullmatch(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}", value), f"--{name}: {value}"
    digits = value[1:] if len(value) == 7 else "".join(c * 2 for c in value[1:])
    return tuple(int(digits[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(variables: dict[str, str], front: str, back: str) -> float:
    light, dark = sorted(
        (_luminance(_rgb(variables, front)), _luminance(_rgb(variables, back))), reverse=True
    )
    return (light + 0.05) / (dark + 0.05)


def _used(prop: str) -> set[str]:
    return set(re.findall(rf"(?<![-\w]){prop}:\s*var\(--([\w-]+)\)", CSS))


TEXT = _used("color") - {"accent-fg"}
SURFACES = (_used("background") | _used("background-color")) - SPECIAL_SURFACES


def test_contrast__the_rules_use_only_colours_this_test_knows() -> None:
    assert {"fg", "muted", "accent", "danger", "ok"} <= TEXT
    assert {"bg", "card", "pressed"} <= SURFACES
    assert {front for front, _ in PAIRS} <= _used("color")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_contrast__text_on_every_surface_is_4_5_to_1(scheme: str) -> None:
    variables = _schemes()[scheme]
    low = {
        f"--{front} on --{back}": round(contrast(variables, front, back), 2)
        for front in sorted(TEXT)
        for back in sorted(SURFACES)
        if contrast(variables, front, back) < TEXT_MIN
    }
    low.update(
        {
            f"--{front} on --{back}": round(contrast(variables, front, back), 2)
            for front, back in sorted(PAIRS)
            if contrast(variables, front, back) < TEXT_MIN
        }
    )
    assert low == {}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_contrast__control_borders_and_focus_ring_are_3_to_1(scheme: str) -> None:
    variables = _schemes()[scheme]
    assert "field" in _used("border") | set(re.findall(r"solid var\(--([\w-]+)\)", CSS))
    low = {
        f"--{front} on --{back}": round(contrast(variables, front, back), 2)
        for front in ("accent", "field")
        for back in sorted(SURFACES)
        if contrast(variables, front, back) < UI_MIN
    }
    assert low == {}
