"""Every API error is JSON: {"detail": "...", "errors": {field: [...]}}."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from studio.errors import Conflict, InsufficientStorage


def _as_lists(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out = {}
        for key, value in detail.items():
            if isinstance(value, (list, tuple)):
                out[str(key)] = [str(v) if not isinstance(v, dict) else str(v) for v in value]
            elif isinstance(value, dict):
                for sub, msgs in _as_lists(value).items():
                    out[f"{key}.{sub}"] = msgs
            else:
                out[str(key)] = [str(value)]
        return out
    if isinstance(detail, (list, tuple)):
        return {"non_field_errors": [str(v) for v in detail]}
    return {"non_field_errors": [str(detail)]}


def _body(errors: dict[str, list[str]], fallback: str) -> dict:
    general = errors.pop("non_field_errors", None) or errors.pop("detail", None) or errors.pop("__all__", None)
    if general:
        detail = " ".join(general)
    elif errors:
        field, msgs = next(iter(errors.items()))
        detail = f"{field}: {msgs[0]}" if msgs else fallback
    else:
        detail = fallback
    return {"detail": detail, "errors": errors}


def exception_handler(exc, context):
    if isinstance(exc, Conflict):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(_body(dict(errors), "Conflict."), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, InsufficientStorage):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(_body(dict(errors), "Not enough free disk space."), status=status.HTTP_507_INSUFFICIENT_STORAGE)
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(_body(dict(errors), "Invalid input."), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or "You do not have permission to do this.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _body(_as_lists(exc.detail), "Invalid input.")
    else:
        detail = response.data.get("detail", "Error.") if isinstance(response.data, dict) else str(response.data)
        response.data = {"detail": str(detail), "errors": {}}
    return response
