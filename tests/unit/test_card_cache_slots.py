"""Where a cached card takes the viewer's CSRF token: only inside its CSRF fields."""

from __future__ import annotations

from kizuna.web.card_cache import TOKEN_MARKER, token_slots


def test_token_slots__marker_only_inside_csrf_fields() -> None:
    field = f'<input type="hidden" name="csrf_token" value="{TOKEN_MARKER}">'
    assert token_slots(f"<p>{field}{field}</p>", TOKEN_MARKER) == (
        '<p><input type="hidden" name="csrf_token" value="',
        '"><input type="hidden" name="csrf_token" value="',
        '"></p>',
    )
    assert token_slots(f'<a href="https://m.test/{TOKEN_MARKER}">{field}', TOKEN_MARKER) is None
    assert token_slots(f"{field}<p>{TOKEN_MARKER}</p>", TOKEN_MARKER) is None
