"""Domain errors raised by services and mapped to HTTP by the web layer.

KizunaError
├── ConfigError            bad configuration (CLI: one line, exit 2)
├── ValidationError        user input rejected (HTTP 400/422, shown on the form)
│   └── UploadTooLargeError  (HTTP 413)
├── ConflictError          unique value taken, e.g. a user name (HTTP 409)
├── NotFoundError          no such thing, or not visible to the viewer (HTTP 404)
└── PermissionDeniedError  authenticated but not allowed (HTTP 403)
"""


class KizunaError(Exception):
    status = 500


class ConfigError(KizunaError):
    pass


class ValidationError(KizunaError):
    status = 422

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UploadTooLargeError(ValidationError):
    status = 413


class ConflictError(KizunaError):
    status = 409


class NotFoundError(KizunaError):
    status = 404


class PermissionDeniedError(KizunaError):
    status = 403
