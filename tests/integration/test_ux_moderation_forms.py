"""Refused moderation forms come back to their page with what was typed and why (issue 14):
account actions (warn/limit/suspend), report resolutions and notes, community bans,
removals and moderator appointments. Each through the real web app, as a browser sends it."""

from __future__ import annotations

from aiohttp import ClientResponse

from kizuna.container import Services
from kizuna.services.communities import NewCommunity
from kizuna.storage.models import Account, Report, User
from tests.integration.conftest import ClientFactory
from tests.integration.web import (
    Client,
    input_value,
    log_in,
    make_user,
    stored_account,
    submit,
    textarea_text,
)

REASON = "招待スパムを繰り返した <3"  # escaped on the way out, kept as typed


async def _user(services: Services, username: str) -> User:
    (user,) = [u for u in await services.accounts.list_users() if u.account.username == username]
    return user


async def _browser(
    make_client: ClientFactory, services: Services, name: str, **kw: object
) -> Client:
    client = await make_client()
    await log_in(client, await make_user(services, name, **kw))
    return client


async def _page(response: ClientResponse, status: int, form_action: str) -> str:
    page = await response.text()
    assert response.status == status, page
    assert response.content_type == "text/html"
    assert f'action="{form_action}"' in page  # the page the form was on, not an error page
    return page


# -- account actions ----------------------------------------------------------------------


async def test_limit_refused_as_already_limited__the_explanation_comes_back(
    make_client: ClientFactory, services: Services
) -> None:
    mod = await _browser(make_client, services, "carol", role="moderator")
    await make_user(services, "bob")
    bob = await stored_account(services, "bob")
    path = f"/admin/accounts/{bob.id}"
    form_page = await (await mod.get(path)).text()  # the limit form, before…
    assert f'action="{path}/limit"' in form_page
    # …another moderator limits bob first.
    await services.account_moderation.act(await _user(services, "carol"), bob.id, "limit")

    response = await submit(mod, f"{path}/limit", {"text": REASON}, form_page=path)

    page = await _page(response, 422, f"{path}/limit")
    assert "@bob is limited already" in page
    assert input_value(page, "text-limit") == REASON


async def test_warning_too_long__the_explanation_comes_back_with_the_limit(
    make_client: ClientFactory, services: Services
) -> None:
    mod = await _browser(make_client, services, "carol", role="moderator")
    await make_user(services, "bob")
    bob = await stored_account(services, "bob")
    path = f"/admin/accounts/{bob.id}"
    text = "言" * 1200

    response = await submit(mod, f"{path}/warn", {"text": text}, form_page=path)

    page = await _page(response, 422, f"{path}/warn")
    assert "the explanation is at most 1000 characters" in page
    assert input_value(page, "text-warn") == text


async def test_role_refused__the_account_page_says_why(
    make_client: ClientFactory, services: Services
) -> None:
    admin = await _browser(make_client, services, "dana", role="admin")
    await make_user(services, "bob")
    bob = await stored_account(services, "bob")
    path = f"/admin/accounts/{bob.id}"

    response = await submit(admin, f"{path}/role", {"role": "owner"}, form_page=path)

    page = await _page(response, 422, f"{path}/role")
    assert "the role must be admin, moderator or user" in page


# -- reports ------------------------------------------------------------------------------


async def _report(services: Services) -> Report:
    await make_user(services, "alice")
    await make_user(services, "bob")
    bob = await stored_account(services, "bob")
    return await services.reports.create(await stored_account(services, "alice"), bob.id)


async def test_resolve_refused_as_already_resolved__choice_and_text_come_back(
    make_client: ClientFactory, services: Services
) -> None:
    report = await _report(services)
    mod = await _browser(make_client, services, "carol", role="moderator")
    path = f"/admin/reports/{report.id}"
    assert f'action="{path}/resolve"' in await (await mod.get(path)).text()
    await services.reports.resolve(await _user(services, "carol"), report.id)  # elsewhere

    response = await submit(
        mod, f"{path}/resolve", {"account_action": "limit", "text": REASON}, form_page=path
    )

    page = await _page(response, 422, f"{path}/resolve")
    assert "this report is resolved already" in page
    assert textarea_text(page, "action-text") == REASON
    assert '<option value="limit" selected>' in page


async def test_note_too_long__the_note_comes_back(
    make_client: ClientFactory, services: Services
) -> None:
    report = await _report(services)
    mod = await _browser(make_client, services, "carol", role="moderator")
    path = f"/admin/reports/{report.id}"
    note = "メモ" * 600

    response = await submit(mod, f"{path}/note", {"note": note}, form_page=path)

    page = await _page(response, 422, f"{path}/note")
    assert "a note is 1 to 1000 characters" in page
    assert textarea_text(page, "note-text") == note


# -- community moderation -----------------------------------------------------------------


async def _cats(make_client: ClientFactory, services: Services) -> tuple[Account, Client, int]:
    """!cats owned by alice (logged in), bob a member: (group, alice's browser, bob's id)."""
    alice = await _browser(make_client, services, "alice")
    group = await services.communities.create(
        await stored_account(services, "alice"), NewCommunity(slug="cats", name="Cats")
    )
    bob = await _browser(make_client, services, "bob")
    assert (await submit(bob, "/c/cats/join", {}, form_page="/c/cats")).status == 303
    return group, alice, (await stored_account(services, "bob")).id


async def test_ban_of_a_moderator_refused__the_reason_comes_back(
    make_client: ClientFactory, services: Services
) -> None:
    group, alice, bob_id = await _cats(make_client, services)
    action = f"/c/cats/members/{bob_id}/ban"
    assert action in await (await alice.get("/c/cats/moderation")).text()
    # Meanwhile bob became a moderator (another tab of the owner's).
    await services.moderation.appoint(
        group.id, await stored_account(services, "alice"), bob_id, moderator=True
    )

    response = await submit(alice, action, {"reason": REASON}, form_page="/c/cats")

    page = await _page(response, 422, action)
    assert "a moderator cannot be banned; remove the role first" in page
    assert input_value(page, f"ban-reason-{bob_id}") == REASON


async def test_ban_reason_too_long__the_reason_comes_back(
    make_client: ClientFactory, services: Services
) -> None:
    _, alice, bob_id = await _cats(make_client, services)
    action = f"/c/cats/members/{bob_id}/ban"
    reason = "理由" * 1200  # past the 2,000-character field cap too

    response = await submit(alice, action, {"reason": reason}, form_page="/c/cats")

    page = await _page(response, 422, action)
    assert "a reason holds at most 500 characters" in page
    assert input_value(page, f"ban-reason-{bob_id}") == reason


async def test_removal_reason_too_long__the_reason_comes_back_under_the_post(
    make_client: ClientFactory, services: Services
) -> None:
    _, alice, _ = await _cats(make_client, services)
    post = await services.communities.post(await stored_account(services, "bob"), "cats", "にゃー")
    action = f"/c/cats/posts/{post.id}/remove"
    reason = "r" * 600

    response = await submit(alice, action, {"reason": reason}, form_page="/c/cats")

    page = await _page(response, 422, action)
    assert "a reason holds at most 500 characters" in page
    assert input_value(page, f"remove-reason-{post.id}") == reason


async def test_report_comment_past_the_field_cap__the_comment_comes_back(
    make_client: ClientFactory, services: Services
) -> None:
    alice = await _browser(make_client, services, "alice")
    await make_user(services, "bob")
    bob = await stored_account(services, "bob")
    comment = "詳しく" * 2000  # 6,000 characters: past the old 5,000 field cap (a bare 400)

    response = await submit(
        alice, "/report", {"account": str(bob.id), "comment": comment}, form_page="/"
    )

    page = await _page(response, 422, "/report")
    assert "a comment is at most 1000 characters" in page
    assert textarea_text(page, "report-comment") == comment[:5000]  # the echo's cap


async def test_appointment_and_unban_refused__the_moderation_page_says_why(
    make_client: ClientFactory, services: Services
) -> None:
    _, alice, bob_id = await _cats(make_client, services)
    await make_user(services, "carol")  # not a member of !cats
    carol_id = (await stored_account(services, "carol")).id

    appoint = await submit(
        alice, f"/c/cats/members/{carol_id}/moderator", {"on": "1"}, form_page="/c/cats"
    )
    unban = await submit(alice, f"/c/cats/members/{bob_id}/unban", {}, form_page="/c/cats")

    page = await _page(appoint, 422, f"/c/cats/members/{bob_id}/ban")
    assert "only a member can be a moderator" in page
    page = await _page(unban, 404, f"/c/cats/members/{bob_id}/ban")
    assert "this account is not banned here" in page
