"""Typed domain exceptions; the HTTP layer maps each to an RFC 9457 problem in one place."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One validation failure; `field` is dot-joined with list indexes as numbers (CONTRACT §1a)."""

    field: str
    message: str


class TriglyError(Exception):
    """Base of every error the product raises on purpose. `title` is safe to show a caller."""

    status = 500
    title = "Internal error"
    slug = "internal"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title


class Unauthorized(TriglyError):
    status = 401
    title = "Unauthorized"
    slug = "unauthorized"


class Forbidden(TriglyError):
    """A valid API key whose scopes do not cover the call (nothing is changed)."""

    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotFound(TriglyError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Gone(TriglyError):
    status = 410
    title = "Gone"
    slug = "gone"


class Conflict(TriglyError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class PayloadTooLarge(TriglyError):
    status = 413
    title = "Payload too large"
    slug = "payload-too-large"


class MalformedRequest(TriglyError):
    status = 400
    title = "Malformed request"
    slug = "malformed"


class UnsupportedMediaType(TriglyError):
    """A body the API does not read: it takes JSON (`application/json`) and nothing else."""

    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


@dataclass
class ValidationFailed(TriglyError):
    """A well-formed body that breaks the schema (422) with every failing field listed."""

    errors: list[FieldError] = field(default_factory=list)
    status = 422
    title = "Validation failed"
    slug = "validation"

    def __post_init__(self) -> None:
        super().__init__("The request does not match the schema; see `errors`.")


class UpstreamUnavailable(TriglyError):
    """A dependency we need failed; the caller may retry (the work was not done)."""

    status = 503
    title = "Service unavailable"
    slug = "unavailable"
