"""Sign-up, log-in and log-out pages."""

from __future__ import annotations

from aiohttp import web

from kizuna.errors import ConflictError, PermissionDeniedError, ValidationError
from kizuna.server.context import current_user, services
from kizuna.server.errors import http_status
from kizuna.server.rate_limits import take, take_ip
from kizuna.services.accounts import MAX_PASSWORD, MIN_PASSWORD
from kizuna.services.settings import Registrations
from kizuna.web.context import require_user, see_other
from kizuna.web.forms import form_text
from kizuna.web.middleware import SESSION_COOKIE
from kizuna.web.redirects import safe_redirect
from kizuna.web.render import render

routes = web.RouteTableDef()


def _login_response(request: web.Request, token: str, next_path: str) -> web.Response:
    response = see_other(safe_redirect(next_path))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=30 * 86400,
        httponly=True,
        samesite="Lax",
        secure=services(request).config.secure_cookies,
        path="/",
    )
    return response


@routes.get("/signup")
async def get_signup(request: web.Request) -> web.Response:
    mode = await services(request).settings.registrations()
    return render(request, "signup.html", {"mode": mode.value, "error": None, "form": {}})


def _limited(response: web.Response, seconds: int) -> web.Response:
    response.headers["Retry-After"] = str(seconds)
    return response


@routes.post("/signup")
async def post_signup(request: web.Request) -> web.Response:
    svc = services(request)
    form = await request.post()
    username = form_text(form, "username", 64).strip()
    password = form_text(form, "password", 256)
    reason = form_text(form, "reason", 1000).strip()
    mode = await svc.settings.registrations()
    # A refusal brings the form back with what was typed, except the passwords: secrets are
    # never written into a page.
    context = {"mode": mode.value, "form": {"username": username, "reason": reason}}
    if (refused := take_ip(request, "signup")) is not None:
        message, seconds = refused
        page = render(request, "signup.html", {**context, "error": message}, status=429)
        return _limited(page, seconds)
    try:
        if password != form_text(form, "password_confirm", 256):
            raise ValidationError("the two passwords differ", field="password_confirm")
        result = await svc.accounts.sign_up(username, password, reason=reason)
    except (ValidationError, ConflictError, PermissionDeniedError) as exc:
        error = {**context, "error": str(exc)}
        return render(request, "signup.html", error, status=http_status(exc))
    if not result.approved:
        return render(request, "signup_pending.html", {"username": username})
    token = await svc.accounts.start_session(
        result.user, user_agent=request.headers.get("User-Agent", "")
    )
    return _login_response(request, token, "/")


@routes.get("/login")
async def get_login(request: web.Request) -> web.Response:
    if current_user(request) is not None:
        raise web.HTTPSeeOther("/")
    return await _login_page(request, safe_redirect(request.query.get("next", "/")))


async def _login_page(
    request: web.Request,
    next_path: str,
    *,
    username: str = "",
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    """The log-in form; after a refusal with the user name typed (never the password)."""
    mode = await services(request).settings.registrations()
    context: dict[str, object] = {
        "error": error,
        "next": next_path,
        "form": {"username": username} if username else {},
        "signup_open": mode is not Registrations.CLOSED,
    }
    return render(request, "login.html", context, status=status)


@routes.post("/login")
async def post_login(request: web.Request) -> web.Response:
    svc = services(request)
    form = await request.post()
    username = form_text(form, "username", 64).strip()
    next_path = safe_redirect(form_text(form, "next", 2000))
    # Every attempt counts, failed or not: a guesser who sometimes succeeds is still guessing.
    if (refused := take_ip(request, "login")) is not None:
        message, seconds = refused
        page = await _login_page(request, next_path, username=username, error=message, status=429)
        return _limited(page, seconds)
    try:
        user = await svc.accounts.authenticate(username, form_text(form, "password", 256))
        if user.account.suspended_at is not None:  # sessions were revoked at suspension
            raise PermissionDeniedError(
                f"this account has been suspended by the moderators of {svc.config.domain}"
            )
    except (ValidationError, PermissionDeniedError) as exc:
        return await _login_page(
            request, next_path, username=username, error=str(exc), status=http_status(exc)
        )
    token = await svc.accounts.start_session(user, user_agent=request.headers.get("User-Agent", ""))
    return _login_response(request, token, next_path)


@routes.post("/logout")
async def post_logout(request: web.Request) -> web.Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await services(request).accounts.end_session(token)
    response = see_other("/")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def _password_page(
    request: web.Request, error: str | None = None, *, status: int = 422
) -> web.Response:
    # The same length rule as sign-up; nothing typed is shown again: these are secrets.
    context = {"error": error, "min_password": MIN_PASSWORD, "max_password": MAX_PASSWORD}
    return render(request, "settings_password.html", context, status=status if error else 200)


@routes.get("/settings/password")
async def get_settings_password(request: web.Request) -> web.Response:
    require_user(request)
    return _password_page(request)


@routes.post("/settings/password")
async def post_settings_password(request: web.Request) -> web.Response:
    user = require_user(request)
    # Counted like log-ins, per address and per account: whoever holds a stolen session
    # cookie must not get a faster way to guess the password than the log-in form.
    for refused in (take_ip(request, "login"), take(request, "login", f"user:{user.id}")):
        if refused is not None:
            message, seconds = refused  # the page again, not a page of its own
            return _limited(_password_page(request, message, status=429), seconds)
    form = await request.post()
    new = form_text(form, "new_password", 256)
    try:
        if new != form_text(form, "new_password_confirm", 256):
            raise ValidationError("the two new passwords differ", field="new_password_confirm")
        await services(request).accounts.change_password(
            user.id,
            form_text(form, "current_password", 256),
            new,
            keep_session=request.cookies.get(SESSION_COOKIE, ""),
        )
    except ValidationError as exc:
        return _password_page(request, str(exc))
    raise web.HTTPSeeOther("/settings/password?saved=1")
