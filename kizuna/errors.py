"""Every error Kizuna raises on purpose: one tree, rooted here.

Catch `KizunaError` for "anything we refuse or that failed as we know it can". The HTTP
status each class answers with is not the errors' business: one table does that
(kizuna.server.errors.STATUSES), applied by the web pages' error middleware and the JSON
faces' one; the CLI prints one line.

KizunaError
├── ConfigError                bad configuration (CLI: one line, exit 2)
├── ValidationError            user input rejected (shown on the form)
│   ├── UploadTooLargeError
│   └── ReactionLimitError     (kizuna.services.reactions) one reaction too many on a post
├── ConflictError              unique value taken, e.g. a user name
├── NotFoundError              no such thing, or not visible to the viewer
│   └── ForeignResourceError   (kizuna.webfinger.codec) a WebFinger resource of another
│                              server; also a LookupError
├── PermissionDeniedError      authenticated but not allowed
│   └── ForbiddenError         between servers: a peer refused us, or we refuse a peer's
│       │                      request (signer is not the actor, its reports are rejected)
│       └── DomainRefusedError our domain policy refuses the sender's server (suspended, or
│                              not allow-listed); `reason` says which
├── ProtocolError              (kizuna.activitypub.errors) what a peer sent breaks the rules
│   ├── InvalidActivityError   a document we were sent or fetched is malformed
│   │   └── InvalidJsonError   not JSON at all, or nested deeper than we parse
│   ├── SignatureError         missing / invalid / unverifiable HTTP signature
│   └── MalformedResourceError (kizuna.webfinger.codec) not a handle or URL we can read;
│                              also a ValueError
└── FetchError                 (kizuna.federation.errors) transport: talking to a peer failed;
    │                          `url` is kept for logs
    ├── ObjectGoneError        the peer answered 410 Gone (deleted object/actor)
    ├── ObjectNotFoundError    the peer answered 404
    ├── PeerUnavailableError   timeout, connection error, 5xx, 429: may work later
    ├── ResponseTooLargeError  body over our size cap
    ├── NotJsonError           body or Content-Type is not (activity+)JSON
    ├── NotAnImageError        a fetched image (custom emoji) is no PNG/GIF/WebP/JPEG
    ├── TooManyRedirectsError  redirect chain longer than we follow
    ├── DomainPolicyFetchError our own policy forbids contacting that server
    ├── UnsafeAddressError     SSRF refusal: the URL resolves to a private, loopback or
    │                          otherwise non-public address
    └── IdentityMismatchError  the document is not who it claims to be: actor id host ≠
                               fetched host, keyId owner ≠ actor, WebFinger subject on
                               another domain (a fetch error: a key fetch that meets one
                               fails the signature, a refresh keeps the cached copy)

ForbiddenError and DomainRefusedError live in kizuna.federation.errors too (the domain
policy is federation's).
"""


class KizunaError(Exception):
    pass


class ConfigError(KizunaError):
    pass


class ValidationError(KizunaError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UploadTooLargeError(ValidationError):
    pass


class ConflictError(KizunaError):
    pass


class NotFoundError(KizunaError):
    pass


class PermissionDeniedError(KizunaError):
    pass
