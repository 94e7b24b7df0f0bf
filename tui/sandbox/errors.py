"""The VoIPBIN error envelope with the exact reasons and messages of the real API."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from typing import Any

# Canonical status -> HTTP code, as the server maps them.
HTTP_FOR_STATUS = {
    "INVALID_ARGUMENT": 400,
    "UNAUTHENTICATED": 401,
    "PAYMENT_REQUIRED": 402,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "FAILED_PRECONDITION": 409,
    "RESOURCE_EXHAUSTED": 429,
    "UNAVAILABLE": 503,
    "INTERNAL": 500,
}


@dataclass
class ApiError(Exception):
    status: str
    reason: str
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)
    # For the sandbox's own limits (413, 408), which have no canonical status of their own.
    http_override: int | None = None

    @property
    def http_status(self) -> int:
        return self.http_override or HTTP_FOR_STATUS[self.status]

    def envelope(self, request_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "request_id": request_id,
        }
        if self.details:
            body["details"] = self.details
        return {"error": body}


def authentication_required() -> ApiError:
    return ApiError("UNAUTHENTICATED", "AUTHENTICATION_REQUIRED", "Authentication is required.")


def invalid_credentials() -> ApiError:
    return ApiError("UNAUTHENTICATED", "INVALID_CREDENTIALS", "The provided credentials are invalid.")


def permission_denied() -> ApiError:
    return ApiError("PERMISSION_DENIED", "PERMISSION_DENIED", "You do not have permission to access this resource.")


def identity_verification_required() -> ApiError:
    return ApiError(
        "PERMISSION_DENIED",
        "IDENTITY_VERIFICATION_REQUIRED",
        "Customer identity verification is required for this operation.",
    )


def invalid_json_body() -> ApiError:
    return ApiError("INVALID_ARGUMENT", "INVALID_JSON_BODY", "The request body is not valid JSON.")


def invalid_id() -> ApiError:
    return ApiError("INVALID_ARGUMENT", "INVALID_ID", "The provided id is not a valid UUID.")


def invalid_parameter(name: str) -> ApiError:
    return ApiError("INVALID_ARGUMENT", "INVALID_REQUEST_PARAMETER", f'The parameter "{name}" has an invalid format.')


def missing_parameter(name: str) -> ApiError:
    return ApiError("INVALID_ARGUMENT", "MISSING_REQUEST_PARAMETER", f'The parameter "{name}" is required.')


def invalid_argument(message: str) -> ApiError:
    return ApiError("INVALID_ARGUMENT", "INVALID_ARGUMENT", message)


def invalid_action_type(action_type: str) -> ApiError:
    return ApiError("INVALID_ARGUMENT", "INVALID_ACTION_TYPE", f"not supported action type: {action_type}")


def invalid_variables(message: str) -> ApiError:
    return ApiError("INVALID_ARGUMENT", "INVALID_VARIABLES", message)


def invalid_reference_filter() -> ApiError:
    return ApiError(
        "INVALID_ARGUMENT",
        "INVALID_REFERENCE_FILTER",
        "reference_type and reference_id must be supplied together.",
    )


def call_not_found() -> ApiError:
    return ApiError("NOT_FOUND", "CALL_NOT_FOUND", "The call was not found.")


def groupcall_not_found() -> ApiError:
    return ApiError("NOT_FOUND", "GROUPCALL_NOT_FOUND", "The group call was not found.")


def transcribe_not_found() -> ApiError:
    return ApiError("NOT_FOUND", "TRANSCRIBE_NOT_FOUND", "The transcribe was not found.")


def flow_not_found() -> ApiError:
    return ApiError("NOT_FOUND", "FLOW_NOT_FOUND", "The flow was not found.")


def resource_not_found() -> ApiError:
    return ApiError("NOT_FOUND", "RESOURCE_NOT_FOUND", "The requested resource was not found.")


def route_not_found() -> ApiError:
    return ApiError("NOT_FOUND", "ROUTE_NOT_FOUND", "The requested endpoint does not exist.")


def state_invalid() -> ApiError:
    return ApiError("FAILED_PRECONDITION", "STATE_INVALID", "The operation is invalid for the current resource state.")


def transcribe_already_progressing() -> ApiError:
    return ApiError(
        "ALREADY_EXISTS",
        "TRANSCRIBE_ALREADY_PROGRESSING",
        "A live transcribe is already progressing for this reference and language. "
        "Stop the existing transcribe first, or start with a different language.",
    )


def internal() -> ApiError:
    return ApiError("INTERNAL", "INTERNAL", "An internal error occurred.")


def request_timeout() -> ApiError:
    return ApiError("UNAVAILABLE", "REQUEST_TIMEOUT", "The request timed out.")


def new_request_id() -> str:
    """``req_`` + 26 base32 characters from 16 random bytes, as the server makes them."""
    return "req_" + base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=")


def safe_request_id(candidate: str | None) -> str | None:
    """A client-sent X-Request-Id is echoed only when short and made of [A-Za-z0-9_-]."""
    if not candidate or len(candidate) > 64:
        return None
    for ch in candidate:
        if not (ch.isascii() and (ch.isalnum() or ch in "_-")):
            return None
    return candidate
