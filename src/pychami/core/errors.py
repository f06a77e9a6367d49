"""The one exception tree of pychami, free of any transport.

Each error maps in exactly one place to an HTTP problem document (``core.web``) and in exactly one place
to ``Error: ...`` plus an exit code (the CLIs). Services raise these; they never raise HTTP errors.
"""

from __future__ import annotations


class PychamiError(Exception):
    """Base of every expected failure. ``status`` is the HTTP status it maps to."""

    status: int = 500
    exit_code: int = 1

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ConfigError(PychamiError):
    """Settings or a config file are invalid."""

    status = 500
    exit_code = 2


class BadRequest(PychamiError):
    """The request is malformed or fails validation; nothing was changed."""

    status = 400


class Unauthorized(PychamiError):
    """No valid bearer token."""

    status = 401


class Forbidden(PychamiError):
    """A valid token without the scope the operation needs."""

    status = 403


class NotFound(PychamiError):
    """The addressed resource does not exist."""

    status = 404


class MethodNotAllowed(PychamiError):
    """The resource exists but does not take that method."""

    status = 405


class Conflict(PychamiError):
    """The write would conflict with existing data; nothing was changed."""

    status = 409


class PayloadTooLarge(PychamiError):
    """The request body exceeds the configured limit."""

    status = 413


class Unprocessable(PychamiError):
    """Well-formed but cannot be served (e.g. cloud-init request from an unknown address)."""

    status = 422


class Unavailable(PychamiError):
    """A dependency (database, object store) is down."""

    status = 503
