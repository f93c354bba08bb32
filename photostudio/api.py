"""The API's one translation of failures into HTTP: {"error": {"code", "message", "details"}}."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from photostudio import errors

_DOMAIN_STATUS = (
    (errors.NotFound, status.HTTP_404_NOT_FOUND),
    (errors.PermissionDenied, status.HTTP_403_FORBIDDEN),
    (errors.Conflict, status.HTTP_409_CONFLICT),
)

_DRF_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def error_body(code: str, message: str, details: dict | list | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def domain_error_status(exc: errors.DomainError) -> int:
    for error_class, http_status in _DOMAIN_STATUS:
        if isinstance(exc, error_class):
            return http_status
    return getattr(exc, "http_status", status.HTTP_400_BAD_REQUEST)


def exception_handler(exc, context):
    if isinstance(exc, errors.DomainError):
        return Response(error_body(exc.code, exc.message, exc.details), status=domain_error_status(exc))
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body("validation_failed", "Some of the values are not valid.", details)
        return response
    code = next((code for cls, code in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    message = str(exc.detail) if isinstance(exc.detail, str) else str(getattr(exc, "default_detail", "Error"))
    details = {"wait_seconds": exc.wait} if isinstance(exc, exceptions.Throttled) and exc.wait else {}
    response.data = error_body(code, message, details)
    return response
