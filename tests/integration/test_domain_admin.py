"""The admin side of domain policy through the web UI, between real lab instances: the dry
run before a suspension, audit rows, CSV import/export, the public list at /about, and
blocklist subscriptions fetched from another instance over loopback."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from kizuna.federation.blocklist_csv import domain_digest, parse_blocklist
from kizuna.services.blocklist_subscriptions import BlocklistSubscriptions
from kizuna.services.communities import NewCommunity
from kizuna.services.domain_policy import PolicyValues
from kizuna.storage import domain_policies
from kizuna.storage.models import Account, AuditLogEntry, BlocklistSubscription, DomainPolicy, Post
from tests.integration.lab import Instance, Network
from tests.integration.web import Client, Person, csrf_token, log_in, make_user, submit

PAGE = "/admin/domains"


async def _admin(instance: Instance, name: str = "hanako") -> tuple[Person, int]:
    person = await make_user(instance.services, name, role="admin")
    await log_in(instance.browser, person)
    return person, await _account_id(instance, name)


async def _account_id(instance: Instance, name: str, domain: str = "") -> int:
    async with instance.services.db.begin() as session:
        found = await session.scalar(
            select(Account.id).where(Account.username == name, Account.domain == domain)
        )
    assert found is not None, (name, domain)
    return found


async def _account(instance: Instance, name: str) -> Account:
    async with instance.services.db.begin() as session:
        found = await session.scalar(
            select(Account).where(Account.username == name, Account.domain == "")
        )
    assert found is not None
    return found


async def _policy(instance: Instance, domain: str) -> DomainPolicy | None:
    async with instance.services.db.begin() as session:
        return await domain_policies.get_policy(session, domain)


async def _audit(instance: Instance, prefix: str = "") -> list[AuditLogEntry]:
    async with instance.services.db.begin() as session:
        stmt = select(AuditLogEntry).order_by(AuditLogEntry.id)
        rows = list((await session.scalars(stmt)).all())
    return [r for r in rows if r.action.startswith(prefix)]


async def _post(client: Client, path: str, data: dict[str, str]) -> aiohttp.ClientResponse:
    return await submit(client, path, data, form_page=PAGE)


def _text(page: str) -> str:
    """The page's visible text, tags dropped and whitespace collapsed (for assertions)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


async def _linked(network: Network) -> tuple[Instance, Instance]:
    """a.test and b.test with every kind of tie a suspension would cut:
    alice@a ⇄ bob@b follow each other; bob is in a's !tokyo, alice in b's !osaka; alice
    replied to a post of bob's."""
    a = await network.start("a.test")
    b = await network.start("b.test")
    alice = (await a.services.accounts.create_user("alice", "password-alice")).account
    bob = (await b.services.accounts.create_user("bob", "password-bob")).account
    await a.services.communities.create(alice, NewCommunity(slug="tokyo", name="Tokyo"))
    await b.services.communities.create(bob, NewCommunity(slug="osaka", name="Osaka"))
    await a.services.remote_accounts.resolve("@bob@b.test")
    await b.services.remote_accounts.resolve("@alice@a.test")
    await a.services.follows.follow(alice, "bob", "b.test")
    await b.services.follows.follow(bob, "alice", "a.test")
    await b.services.communities.find("!tokyo@a.test")
    await b.services.communities.join(bob, "tokyo@a.test")
    await a.services.communities.find("!osaka@b.test")
    await a.services.communities.join(alice, "osaka@b.test")
    await network.drain()  # follows accepted before bob posts
    original = await b.services.posts.create(bob, "たこ焼きの店、どこがいい？")
    await network.drain()
    async with a.services.db.begin() as session:
        copy_id = await session.scalar(select(Post.id).where(Post.uri == original.uri))
    assert copy_id is not None
    await a.services.posts.create(alice, "@bob@b.test 道頓堀のあの店", in_reply_to=copy_id)
    await network.drain()
    return a, b


# -- the dry run, confirm, audit ----------------------------------------------------------


async def test_preview_shows_what_a_suspension_cuts_then_confirm_applies(
    network: Network,
) -> None:
    a, _ = await _linked(network)
    _, admin_id = await _admin(a)

    response = await _post(
        a.browser,
        f"{PAGE}/preview",
        {"domain": "*.B.TEST.", "severity": "suspend", "public_comment": "spam wave"},
    )

    assert response.status == 200
    page = _text(await response.text())
    assert "Suspend b.test?" in page
    assert "Local accounts following accounts there: 1 @alice → @bob@b.test" in page
    assert "Accounts there following local accounts: 1 @bob@b.test → @alice" in page
    assert "Their accounts in our communities: 1 @bob@b.test → @tokyo" in page
    assert "Our accounts in communities hosted there: 1 @alice → @osaka@b.test" in page
    assert "Local posts replying to their posts: 1" in page
    assert "道頓堀のあの店" in page
    # Only a preview: nothing is stored, nothing is refused yet.
    assert await _policy(a, "b.test") is None
    assert not (await a.services.policy.fresh()).decide("b.test").refused
    assert await _audit(a, "domain.") == []

    # The confirm button posts the hidden form back.
    token = await csrf_token(a.browser, PAGE)
    confirm = await a.browser.post(
        PAGE,
        data={
            "csrf_token": token,
            "domain": "b.test",
            "severity": "suspend",
            "public_comment": "spam wave",
            "private_comment": "see report 12",
            "reject_reports": "on",
        },
        allow_redirects=False,
    )
    assert confirm.status == 303
    stored = await _policy(a, "b.test")
    assert stored is not None
    assert (stored.severity, stored.reject_reports, stored.subscription_id) == (
        "suspend",
        True,
        None,
    )
    assert a.services.policy.decide("b.test").refused  # reloaded at once
    (entry,) = await _audit(a, "domain.")
    assert (entry.action, entry.account_id, entry.target) == ("domain.suspend", admin_id, "b.test")
    assert entry.reason == "see report 12"
    assert entry.data is not None
    assert entry.data["before"] is None
    assert entry.data["after"]["severity"] == "suspend"

    listing = _text(await (await a.browser.get(PAGE)).text())
    assert "b.test Suspend" in listing
    assert "set by hand" in listing

    # Lowering it to a silence is an update with before/after, and lifts the suspension.
    lifted: list[str] = []
    original_lift = a.services.domain_purger.lift

    async def spy(domain: str) -> int:
        lifted.append(domain)
        return await original_lift(domain)

    a.services.domain_policy.purger.lift = spy  # type: ignore[method-assign]
    lowered = await _post(a.browser, PAGE, {"domain": "b.test", "severity": "silence"})
    assert lowered.status == 303
    assert lifted == ["b.test"]
    assert not a.services.policy.decide("b.test").refused
    assert a.services.policy.decide("b.test").silenced
    last = (await _audit(a, "domain."))[-1]
    assert last.action == "domain.silence"
    assert last.data is not None
    assert (last.data["before"]["severity"], last.data["after"]["severity"]) == (
        "suspend",
        "silence",
    )

    removed = await _post(a.browser, f"{PAGE}/remove", {"domain": "b.test", "reason": "ok now"})
    assert removed.status == 303
    assert await _policy(a, "b.test") is None
    assert (await _audit(a, "domain."))[-1].action == "domain.remove"
    assert lifted == ["b.test"]  # a silence lifted: nothing to hand to the purger


async def test_preview_and_confirm_refuse_bad_domains_and_change_nothing(network: Network) -> None:
    a = await network.start("a.test")
    await _admin(a)

    for domain, message in [
        ("b.test:8443", "not one port"),
        ("b.test/users/x", "not a path"),
        ("a.test", "this server"),
        ("", "empty"),
    ]:
        response = await _post(
            a.browser, f"{PAGE}/preview", {"domain": domain, "severity": "suspend"}
        )
        assert response.status == 422, domain
        assert message in html.unescape(await response.text()), domain
    bad_severity = await _post(a.browser, PAGE, {"domain": "b.test", "severity": "ban"})
    assert bad_severity.status == 422
    assert "suspend, silence or noop" in await bad_severity.text()
    assert await a.services.domain_policy.policies() == []
    assert await _audit(a) == []


async def test_moderators_and_users_get_403(network: Network) -> None:
    a = await network.start("a.test")
    moderator = await make_user(a.services, "mod", role="moderator")
    await log_in(a.browser, moderator)

    assert (await a.browser.get(PAGE)).status == 403
    assert (await a.browser.get(f"{PAGE}/export.csv")).status == 403
    token = await csrf_token(a.browser, "/")
    for path in (PAGE, f"{PAGE}/preview", f"{PAGE}/mode", f"{PAGE}/import", "/admin/blocklists"):
        response = await a.browser.post(
            path,
            data={"csrf_token": token, "domain": "b.test", "severity": "suspend", "mode": "open"},
            allow_redirects=False,
        )
        assert response.status == 403, path
    assert await a.services.domain_policy.policies() == []


# -- mode and allow-list -------------------------------------------------------------------


async def test_allowlist_mode_needs_a_non_empty_list(network: Network) -> None:
    a = await network.start("a.test")
    _, admin_id = await _admin(a)

    refused = await _post(a.browser, f"{PAGE}/mode", {"mode": "allowlist"})
    assert refused.status == 422
    assert "the allow-list is empty" in await refused.text()
    assert not a.services.policy.decide("c.test").refused

    assert (await _post(a.browser, f"{PAGE}/allow", {"domain": "B.test"})).status == 303
    assert (await _post(a.browser, f"{PAGE}/mode", {"mode": "allowlist"})).status == 303
    assert a.services.policy.allowlist_mode
    assert a.services.policy.decide("c.test").refused
    assert not a.services.policy.decide("b.test").refused

    last = await _post(a.browser, f"{PAGE}/disallow", {"domain": "b.test"})
    assert last.status == 422
    assert "last domain on the allow-list" in await last.text()
    assert [e.action for e in await _audit(a)] == ["domain.allow", "federation.mode"]
    assert all(e.account_id == admin_id for e in await _audit(a))


# -- CSV import and export -----------------------------------------------------------------

IMPORT = """#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate
spam.example,suspend,true,true,"Spam, and lots of it",false
bad port.example:80,suspend,false,false,,false
noisy.example,silence,false,false,Loud,false
kept.example,silence,false,false,,false
odd.example,sometimes,false,false,,false
hidden.example,suspend,false,false,Harassment,true
sub.spam.example,silence,false,false,,false
"""


async def test_import_reports_row_errors_never_lowers_then_export_round_trips(
    network: Network,
) -> None:
    a = await network.start("a.test")
    _, admin_id = await _admin(a)
    await a.services.domain_policy.set_policy(
        admin_id, "kept.example", PolicyValues(severity="suspend", private_comment="by hand")
    )

    form = aiohttp.FormData()
    form.add_field("csrf_token", await csrf_token(a.browser, PAGE))
    form.add_field("file", IMPORT.encode(), filename="blocks.csv", content_type="text/csv")
    form.add_field("text", "")
    response = await a.browser.post(f"{PAGE}/import", data=form)

    assert response.status == 200
    page = _text(await response.text())
    assert "3 added" in page
    assert "2 skipped" in page
    assert "2 rows with errors" in page
    assert "Row 3 ( bad port.example:80 ):" in page
    assert "Row 6 ( odd.example ): unknown severity 'sometimes'" in page
    assert "kept.example : has a stricter policy (suspend), not lowered to silence" in page
    assert "sub.spam.example : already covered by spam.example (suspend)" in page
    kept = await _policy(a, "kept.example")
    assert kept is not None
    assert (kept.severity, kept.private_comment) == ("suspend", "by hand")
    spam = await _policy(a, "spam.example")
    assert spam is not None
    assert spam.private_comment.startswith("Imported from blocks.csv on ")
    assert a.services.policy.decide("www.spam.example").refused
    created = [e for e in await _audit(a, "domain.") if e.data and e.data.get("source")]
    assert sorted(e.target for e in created) == ["hidden.example", "noisy.example", "spam.example"]

    # A pasted list can make a policy stricter (noisy: silence → suspend).
    pasted = await _post(a.browser, f"{PAGE}/import", {"text": "noisy.example,suspend\n"})
    assert "Made stricter: noisy.example" in _text(await pasted.text())
    noisy = await _policy(a, "noisy.example")
    assert noisy is not None
    assert noisy.severity == "suspend"

    export = await a.browser.get(f"{PAGE}/export.csv")
    assert export.status == 200
    assert export.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in export.headers["Content-Disposition"]
    body = await export.text()
    assert body.startswith(
        "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
    )
    rows = {r.domain: r for r in parse_blocklist(body).rows}
    assert sorted(rows) == ["hidden.example", "kept.example", "noisy.example", "spam.example"]
    assert rows["hidden.example"].obfuscate  # obfuscated ones are in the admin export
    assert rows["spam.example"].public_comment == "Spam, and lots of it"

    # Importing the export into a fresh instance gives the same policies.
    b = await network.start("b.test")
    _, b_admin = await _admin(b)
    report = await b.services.domain_policy.import_blocklist(
        b_admin, parse_blocklist(body), source="export"
    )
    assert sorted(report.created) == sorted(rows)
    assert await b.services.domain_policy.export_csv() == body


async def test_import_refuses_a_list_that_is_not_text(network: Network) -> None:
    a = await network.start("a.test")
    await _admin(a)
    form = aiohttp.FormData()
    form.add_field("csrf_token", await csrf_token(a.browser, PAGE))
    form.add_field("file", b"\x89PNG\r\n\x1a\n\x00\x00", filename="x.png", content_type="image/png")
    response = await a.browser.post(f"{PAGE}/import", data=form)

    assert response.status == 422
    assert "not UTF-8" in await response.text() or "not text" in await response.text()
    assert await a.services.domain_policy.policies() == []


# -- the public list -----------------------------------------------------------------------


async def test_about_lists_moderated_servers_per_visibility(network: Network) -> None:
    a = await network.start("a.test")
    _, admin_id = await _admin(a)
    policy = a.services.domain_policy
    await policy.set_policy(admin_id, "spam.example", PolicyValues(public_comment="spam"))
    await policy.set_policy(admin_id, "hidden-harassment.example", PolicyValues(obfuscate=True))
    await policy.set_policy(admin_id, "loud.example", PolicyValues(severity="silence"))
    await policy.set_policy(admin_id, "quiet.example", PolicyValues(severity="noop"))
    visitor: Client = TestClient(a.server)  # a second browser, without cookies
    await visitor.start_server()  # the server runs already: this only opens a session
    try:
        # Default "users": logged-in users see it, visitors do not; no CSV.
        seen = _text(await (await a.browser.get("/about")).text())
        assert "spam.example Suspended spam" in seen
        assert "loud.example Limited" in seen
        assert "quiet.example" not in seen  # noop is not a user-facing limitation
        assert "hidden-harassment.example" not in seen
        digest = domain_digest("hidden-harassment.example")
        assert f"hidden-**********.*xample SHA-256 {digest} Suspended" in seen
        anonymous = _text(await (await visitor.get("/about")).text())
        assert "About a.test" in anonymous
        assert "Moderated servers" not in anonymous
        assert (await visitor.get("/about/domain_blocks.csv")).status == 404

        assert (
            await _post(a.browser, f"{PAGE}/visibility", {"visibility": "everyone"})
        ).status == 303
        assert "spam.example" in await (await visitor.get("/about")).text()
        csv_response = await visitor.get("/about/domain_blocks.csv")
        assert csv_response.status == 200
        public = {r.domain for r in parse_blocklist(await csv_response.read()).rows}
        assert public == {"spam.example", "loud.example"}  # not obfuscated, not plain noop

        await policy.set_visibility(admin_id, "nobody")
        assert "Moderated servers" not in await (await a.browser.get("/about")).text()
        assert (await visitor.get("/about/domain_blocks.csv")).status == 404
        actions = [e.action for e in await _audit(a, "setting.")]
        assert actions == ["setting.domain_blocks_visibility"] * 2
    finally:
        await visitor.session.close()


# -- blocklist subscriptions ---------------------------------------------------------------


async def test_subscribe_to_another_instance_review_apply_then_follow_changes(
    network: Network,
) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    _, a_admin = await _admin(a)
    _, b_admin = await _admin(b)
    b_policy = b.services.domain_policy
    await b_policy.set_policy(b_admin, "spam.example", PolicyValues(public_comment="spam"))
    await b_policy.set_policy(b_admin, "loud.example", PolicyValues(severity="silence"))
    await b_policy.set_policy(b_admin, "mine.example", PolicyValues(severity="silence"))
    await b_policy.set_policy(b_admin, "secret.example", PolicyValues(obfuscate=True))
    # a set mine.example by hand, more leniently: the list never overrides it.
    await a.services.domain_policy.set_policy(
        a_admin, "mine.example", PolicyValues(severity="noop", reject_media=True)
    )
    url = "https://b.test/about/domain_blocks.csv"

    # b does not publish yet: the fetch error is kept and shown.
    subscribed = await _post(a.browser, "/admin/blocklists", {"url": url, "refresh_hours": "6"})
    assert subscribed.status == 303
    page = _text(await (await a.browser.get(PAGE)).text())
    assert "Last fetch failed:" in page
    assert "was not found" in page

    await b_policy.set_visibility(b_admin, "everyone")
    (sub,) = await a.services.blocklists.views()
    sub_id = sub.subscription.id
    assert (await _post(a.browser, f"/admin/blocklists/{sub_id}/refresh", {})).status == 303
    page = _text(await (await a.browser.get(PAGE)).text())
    assert "Changes waiting for review" in page
    assert "add spam.example — Suspend · “spam”" in page
    assert "add loud.example — Limit" in page
    assert "mine.example : kept as set by hand (noop)" in page
    assert "secret.example" not in page  # obfuscated rows are not published
    assert "Last fetch failed" not in page
    assert await _policy(a, "spam.example") is None  # nothing applied before review
    assert not a.services.policy.decide("spam.example").refused

    applied = await _post(a.browser, f"/admin/blocklists/{sub_id}/apply", {})
    assert applied.status == 200
    assert "Applied 2 changes" in _text(await applied.text())
    spam = await _policy(a, "spam.example")
    assert spam is not None
    assert (spam.severity, spam.subscription_id) == ("suspend", sub_id)
    assert a.services.policy.decide("spam.example").refused
    mine = await _policy(a, "mine.example")
    assert mine is not None
    assert (mine.severity, mine.subscription_id) == ("noop", None)
    from_list = [e for e in await _audit(a, "domain.") if e.data and e.data.get("source") == url]
    assert {(e.action, e.target, e.account_id) for e in from_list} == {
        ("domain.suspend", "spam.example", a_admin),
        ("domain.silence", "loud.example", a_admin),
    }
    listing = _text(await (await a.browser.get(PAGE)).text())
    assert f"list {url}" in listing
    assert "Up to date" in listing

    # b changes its list: spam lowered to silence, loud removed, new.example added.
    await b_policy.set_policy(b_admin, "spam.example", PolicyValues(severity="silence"))
    await b_policy.remove(b_admin, "loud.example")
    await b_policy.set_policy(b_admin, "new.example", PolicyValues(reject_reports=True))
    # The worker loop's refresh_due finds it once it is due.
    assert await a.services.blocklists.refresh_due() == 0
    async with a.services.db.begin() as session:
        await session.execute(
            update(BlocklistSubscription).values(
                next_fetch_at=datetime.now(UTC) - timedelta(minutes=1)
            )
        )
    assert await a.services.blocklists.refresh_due() == 1
    page = _text(await (await a.browser.get(PAGE)).text())
    assert "change spam.example Suspend · “spam” Limit" in page
    assert "remove loud.example Limit —" in page
    assert "add new.example — Suspend + reports" in page
    assert a.services.policy.decide("spam.example").refused  # still as before the review

    lifted: list[str] = []

    async def spy(domain: str) -> int:
        lifted.append(domain)
        return 0

    a.services.domain_policy.purger.lift = spy  # type: ignore[method-assign]
    assert (await _post(a.browser, f"/admin/blocklists/{sub_id}/apply", {})).status == 200
    assert lifted == ["spam.example"]
    assert a.services.policy.decide("spam.example").silenced
    assert await _policy(a, "loud.example") is None
    assert a.services.policy.decide("new.example").refused

    # Dismissing drops a proposal; unsubscribing keeps its policies as the admin's own.
    await b_policy.remove(b_admin, "new.example")
    await a.services.blocklists.refresh(sub_id)
    assert [e["op"] for e in (await a.services.blocklists.views())[0].changes] == ["remove"]
    assert (await _post(a.browser, f"/admin/blocklists/{sub_id}/dismiss", {})).status == 303
    assert (await a.services.blocklists.views())[0].changes == []
    assert a.services.policy.decide("new.example").refused
    assert (await _post(a.browser, f"/admin/blocklists/{sub_id}/remove", {})).status == 303
    assert await a.services.blocklists.views() == []
    new = await _policy(a, "new.example")
    assert new is not None
    assert new.subscription_id is None
    assert [e.action for e in await _audit(a, "blocklist.")] == [
        "blocklist.subscribe",
        "blocklist.dismiss",
        "blocklist.unsubscribe",
    ]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://b.test/list.csv", "https://"),
        ("https://user:pw@b.test/list.csv", "user name or password"),
        ("not a url", "https://"),
        ("https://b.test:99999/x.csv", "not a valid URL"),
    ],
)
async def test_subscribe_refuses_bad_urls(network: Network, url: str, message: str) -> None:
    a = await network.start("a.test")
    await _admin(a)

    response = await _post(a.browser, "/admin/blocklists", {"url": url})

    assert response.status == 422
    assert message in html.unescape(await response.text())
    assert await a.services.blocklists.views() == []


async def test_subscription_fetch_of_a_web_page_is_an_error_not_a_diff(network: Network) -> None:
    a = await network.start("a.test")
    await network.start("b.test")
    _, admin_id = await _admin(a)
    await a.services.domain_policy.set_policy(admin_id, "x.example", PolicyValues())

    sub = await a.services.blocklists.subscribe(admin_id, "https://b.test/about")

    assert sub.last_error is not None
    assert "web page" in sub.last_error
    assert sub.pending is None
    assert (await _policy(a, "x.example")) is not None


async def test_worker_cycle_checks_for_due_lists_once_a_period(network: Network) -> None:
    a = await network.start("a.test")
    b = await network.start("b.test")
    _, b_admin = await _admin(b)
    await b.services.domain_policy.set_visibility(b_admin, "everyone")
    await b.services.domain_policy.set_policy(b_admin, "spam.example", PolicyValues())
    clock = [1000.0]
    lists = BlocklistSubscriptions(
        a.services.db,
        a.services.federation,
        a.services.domain_policy,
        period_seconds=600,
        monotonic=lambda: clock[0],
    )
    async with a.services.db.begin() as session:
        session.add(
            BlocklistSubscription(
                url="https://b.test/about/domain_blocks.csv", created_at=datetime.now(UTC)
            )
        )

    assert await lists._cycle() == 1  # never fetched: due at once
    clock[0] += 599
    async with a.services.db.begin() as session:
        await session.execute(update(BlocklistSubscription).values(next_fetch_at=None))
    assert await lists._cycle() == 0  # due, but not looked for before the period is over
    clock[0] += 1
    assert await lists._cycle() == 1
    (view,) = await lists.views()
    assert [(e["op"], e["domain"]) for e in view.changes] == [("add", "spam.example")]
