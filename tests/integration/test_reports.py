"""Reports through the web UI: a user reports an account (with or without posts they can see),
a moderator works the queue (notes, assignment, resolution with an action), every action is in
the audit log."""

from __future__ import annotations

from sqlalchemy import func, select

from kizuna.container import Services
from kizuna.storage.models import Account, AccountWarning, AuditLogEntry, Post, Report
from tests.integration.conftest import ClientFactory
from tests.integration.web import Client, log_in, make_user, stored_account, submit


async def _browser(
    make_client: ClientFactory, services: Services, name: str, **kw: object
) -> Client:
    client = await make_client()
    await log_in(client, await make_user(services, name, **kw))
    return client


async def _reports(services: Services) -> list[Report]:
    async with services.db.begin() as session:
        return list((await session.scalars(select(Report).order_by(Report.id))).all())


async def _audit(services: Services) -> list[tuple[str, int | None]]:
    async with services.db.begin() as session:
        rows = (await session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id))).all()
    return [(r.action, r.account_id) for r in rows]


async def _setup(
    make_client: ClientFactory, services: Services
) -> tuple[Client, Account, Post, Post]:
    """alice (logged in) and bob, who has a public post and a followers-only one."""
    alice_browser = await _browser(make_client, services, "alice")
    await make_user(services, "bob")
    bob = await stored_account(services, "bob")
    public = await services.posts.create(bob, "buy cheap watches")
    private = await services.posts.create(bob, "for my followers", visibility="private")
    return alice_browser, bob, public, private


async def test_report_with_and_without_posts(
    make_client: ClientFactory, services: Services
) -> None:
    browser, bob, public, _ = await _setup(make_client, services)
    form = await browser.get(f"/report?account={bob.id}&post={public.id}")
    assert form.status == 200
    page = await form.text()
    assert "buy cheap watches" in page
    assert "Forward to" not in page  # bob is local

    sent = await submit(
        browser,
        "/report",
        {"account": str(bob.id), "post": str(public.id), "category": "spam", "comment": "spam!"},
        form_page="/",
    )
    assert sent.status == 200
    assert "Thank you" in await sent.text()
    sent = await submit(
        browser, "/report", {"account": str(bob.id), "category": "other"}, form_page="/"
    )
    assert sent.status == 200

    with_posts, without = await _reports(services)
    alice = await stored_account(services, "alice")
    assert (with_posts.reporter_id, with_posts.target_account_id) == (alice.id, bob.id)
    assert (with_posts.post_ids, with_posts.category, with_posts.comment) == (
        [public.id],
        "spam",
        "spam!",
    )
    assert (with_posts.state, with_posts.origin_domain, with_posts.uri) == ("open", "", None)
    assert (without.post_ids, without.category) == ([], "other")

    # The links that lead there: on the post and on the profile.
    assert (
        f"/report?account={bob.id}&amp;post={public.id}"
        in await (await browser.get("/@bob")).text()
    )


async def test_report_of_a_post_not_visible_is_refused_and_nothing_stored(
    make_client: ClientFactory, services: Services
) -> None:
    browser, bob, public, private = await _setup(make_client, services)
    page = await browser.get(f"/report?account={bob.id}&post={private.id}")
    assert page.status == 404
    refused = await submit(
        browser,
        "/report",
        {"account": str(bob.id), "post": str(private.id), "category": "spam"},
        form_page="/",
    )
    assert refused.status == 404
    assert "not visible to you" in await refused.text()
    # Bad input: a clear error, nothing stored.
    for data in (
        {"category": "rude"},
        {"category": "spam", "comment": "x" * 1001},
    ):
        bad = await submit(
            browser,
            "/report",
            {"account": str(bob.id), "post": str(public.id), **data},
            form_page="/",
        )
        assert bad.status == 422
    alice = await stored_account(services, "alice")
    yourself = await submit(browser, "/report", {"account": str(alice.id)}, form_page="/")
    assert yourself.status == 422
    assert "yourself" in await yourself.text()
    assert await _reports(services) == []


async def test_moderator_resolves_with_action_and_everything_is_audited(
    make_client: ClientFactory, services: Services
) -> None:
    browser, bob, public, _ = await _setup(make_client, services)
    await submit(
        browser,
        "/report",
        {"account": str(bob.id), "post": str(public.id), "category": "spam", "comment": "ads"},
        form_page="/",
    )
    (report,) = await _reports(services)
    carol_browser = await _browser(make_client, services, "carol", role="moderator")
    carol = await stored_account(services, "carol")

    queue = await (await carol_browser.get("/admin/reports")).text()
    assert f'href="/admin/reports/{report.id}"' in queue
    assert "@bob" in queue
    detail = await (await carol_browser.get(f"/admin/reports/{report.id}")).text()
    assert "buy cheap watches" in detail
    assert "ads" in detail
    assert "@alice" in detail

    path = f"/admin/reports/{report.id}"
    for action, data in (
        ("note", {"note": "looks like a bot"}),
        ("assign", {}),
        ("resolve", {"account_action": "limit", "text": "no advertising"}),
    ):
        response = await submit(carol_browser, f"{path}/{action}", data, form_page=path)
        assert response.status == 303, await response.text()

    (report,) = await _reports(services)
    assert (report.state, report.action_taken, report.resolved_by_id, report.assigned_id) == (
        "resolved",
        "limit",
        carol.id,
        carol.id,
    )
    assert (await stored_account(services, "bob")).silenced_at is not None
    detail = await (await carol_browser.get(path)).text()
    assert "looks like a bot" in detail
    assert "@carol" in detail
    async with services.db.begin() as session:
        (warning,) = (await session.scalars(select(AccountWarning))).all()
    assert (warning.account_id, warning.action, warning.text, warning.report_id) == (
        bob.id,
        "silence",
        "no advertising",
        report.id,
    )
    assert await _audit(services) == [
        ("report.note", carol.id),
        ("report.assign", carol.id),
        ("account.silence", carol.id),
        ("report.resolve", carol.id),
    ]
    # Resolving twice is refused and changes nothing.
    again = await submit(carol_browser, f"{path}/resolve", {}, form_page=path)
    assert again.status == 422
    assert len(await _audit(services)) == 4

    # The audit log is for administrators: newest first, filterable by prefix.
    assert (await carol_browser.get("/admin/audit")).status == 403
    admin_browser = await _browser(make_client, services, "dana", role="admin")
    log = await (await admin_browser.get("/admin/audit?action=account.")).text()
    assert "account.silence" in log
    assert "report.note" not in log
    assert "no advertising" in log
    log = await (await admin_browser.get("/admin/audit")).text()
    assert log.index("report.resolve") < log.index("report.note")


async def test_refused_action_leaves_the_report_open(
    make_client: ClientFactory, services: Services
) -> None:
    browser, _, _, _ = await _setup(make_client, services)
    carol_browser = await _browser(make_client, services, "carol", role="moderator")
    admin = await make_user(services, "dana", role="admin")
    root = await stored_account(services, admin.username)
    await submit(browser, "/report", {"account": str(root.id)}, form_page="/")
    (report,) = await _reports(services)
    path = f"/admin/reports/{report.id}"
    refused = await submit(
        carol_browser, f"{path}/resolve", {"account_action": "suspend"}, form_page=path
    )
    assert refused.status == 403
    assert "administrators cannot" in await refused.text()
    (report,) = await _reports(services)
    assert report.state == "open"
    assert (await stored_account(services, "dana")).suspended_at is None
    assert await _audit(services) == []
    async with services.db.begin() as session:
        assert await session.scalar(select(func.count()).select_from(AccountWarning)) == 0
