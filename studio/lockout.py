"""Sign-in rate limiting with django-axes: the backend that watches attempts and the answer a
locked-out client gets (a page for the login form, JSON for the API)."""

from __future__ import annotations

import math

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


class LoginAttemptsBackend(AxesStandaloneBackend):
    """Refuses sign-ins from a locked-out username + address; authenticates nobody itself.

    Axes insists on a request. Every sign-in that comes over the network has one (the login page,
    HTTP Basic on the token endpoint); calls without one are in-process (the test client,
    management commands) and have no address to count, so they pass through to ModelBackend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request: HttpRequest) -> str:
    """The address sign-in attempts are counted against. Behind a proxy (STUDIO_BEHIND_PROXY) it
    is the last X-Forwarded-For entry, the one our proxy appended; earlier entries are the
    client's to invent."""
    if settings.STUDIO_BEHIND_PROXY:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded[-1]:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR", "")


def lockout_message(request: HttpRequest) -> str:
    cool_off = get_cool_off(request)
    if not cool_off:
        return "Too many failed sign-ins. Ask your Studio administrator to unlock the account."
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-ins from here. Try again in {minutes} {unit}."


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: 429 with the reason, in the shape the caller reads."""
    message = lockout_message(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "errors": {}}, status=429)
    return render(request, "registration/locked_out.html", {"message": message}, status=429)
