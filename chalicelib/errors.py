"""Typed errors, turned into the contract's error body by one middleware (chalicelib.http).

They derive from ChaliceUnhandledError because only those reach Chalice middleware.
"""

from __future__ import annotations

from typing import Any

from chalice.app import ChaliceUnhandledError


class AppError(ChaliceUnhandledError):
    status = 500
    default_code = "INTERNAL"

    def __init__(self, code: str | None = None, message: str = "", details: dict[str, Any] | None = None):
        self.code = code or self.default_code
        self.message = message or self.code.replace("_", " ").capitalize()
        self.details = details
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


class BadRequest(AppError):
    status = 400
    default_code = "BAD_REQUEST"


class Unauthorized(AppError):
    status = 401
    default_code = "UNAUTHORIZED"


class Forbidden(AppError):
    status = 403
    default_code = "FORBIDDEN"


class NotFound(AppError):
    status = 404
    default_code = "NOT_FOUND"


class Conflict(AppError):
    status = 409
    default_code = "CONFLICT"


class Gone(AppError):
    status = 410
    default_code = "GONE"


class PayloadTooLarge(AppError):
    status = 413
    default_code = "REQUEST_TOO_LARGE"


class Unprocessable(AppError):
    status = 422
    default_code = "UNPROCESSABLE"
