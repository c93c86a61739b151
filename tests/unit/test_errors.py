"""The one error tree (kizuna.errors) and its HTTP statuses (kizuna.server.errors)."""

from __future__ import annotations

import inspect
import re
from types import ModuleType

import pytest

from kizuna import errors
from kizuna.activitypub import errors as protocol
from kizuna.federation import errors as transport
from kizuna.server.errors import http_status
from kizuna.services.reactions import ReactionLimitError
from kizuna.webfinger.codec import ForeignResourceError, MalformedResourceError

MODULES = (errors, protocol, transport)


def _classes(module: ModuleType) -> list[type[BaseException]]:
    return [
        cls
        for _name, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, BaseException) and cls.__module__ == module.__name__
    ]


# Errors that live with the code that raises them, drawn in the tree too.
ELSEWHERE = [ReactionLimitError, ForeignResourceError, MalformedResourceError]
ALL = [cls for module in MODULES for cls in _classes(module)] + ELSEWHERE


@pytest.mark.parametrize("cls", ALL, ids=lambda cls: cls.__name__)
def test_every_error__is_a_kizuna_error(cls: type[BaseException]) -> None:
    assert issubclass(cls, errors.KizunaError)


@pytest.mark.parametrize("cls", ALL, ids=lambda cls: cls.__name__)
def test_tree_docstring__draws_every_class(cls: type[BaseException]) -> None:
    node = re.compile(rf"^[│ ]*(?:[├└]── )?{cls.__name__}\b", re.MULTILINE)
    assert node.search(errors.__doc__ or "")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.KizunaError("x"), 500),
        (errors.ConfigError("x"), 500),
        (errors.ValidationError("x"), 422),
        (errors.UploadTooLargeError("x"), 413),
        (errors.ConflictError("x"), 409),
        (errors.NotFoundError("x"), 404),
        (errors.PermissionDeniedError("x"), 403),
        (protocol.InvalidActivityError("x"), 400),
        (protocol.InvalidJsonError("x"), 400),
        (protocol.SignatureError("x"), 401),
        (transport.ForbiddenError("x"), 403),
        (transport.DomainRefusedError("x", reason="suspended"), 403),
        (transport.FetchError("x"), 502),
        (transport.ObjectGoneError("x"), 410),
        (transport.ObjectNotFoundError("x"), 404),
        (transport.PeerUnavailableError("x"), 502),
        (transport.ResponseTooLargeError("x"), 502),
        (transport.NotJsonError("x"), 502),
        (transport.NotAnImageError("x"), 502),
        (transport.TooManyRedirectsError("x"), 502),
        (transport.DomainPolicyFetchError("x"), 403),
        (transport.UnsafeAddressError("x"), 400),
        (transport.IdentityMismatchError("x"), 403),
        (ReactionLimitError("x"), 422),
        (ForeignResourceError("x"), 404),
        (MalformedResourceError("x"), 400),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value),
)
def test_http_status__per_class(error: errors.KizunaError, status: int) -> None:
    assert http_status(error) == status


@pytest.mark.parametrize(
    "cls", [c for c in ALL if issubclass(c, transport.FetchError)], ids=lambda c: c.__name__
)
def test_fetch_family__keeps_the_url(cls: type[transport.FetchError]) -> None:
    error = cls("boom", url="https://b.test/users/bob")

    assert isinstance(error, transport.FetchError)
    assert error.url == "https://b.test/users/bob"
    assert str(error) == "boom"
