"""`Authorization: Bearer <token>` for the REST API and the CLI, and HTTP Basic for bootstrapping
a token (counted by the sign-in rate limiter like the login page)."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions

from studio.models import AccessToken, hash_token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer <token>'.")
        raw = header[1].decode(errors="replace")
        token = AccessToken.objects.select_related("user").filter(key_hash=hash_token(raw)).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token. Log in again to get a new one.")
        if token.state != "active":
            raise exceptions.AuthenticationFailed(f"This token is {token.state}. Log in again to get a new one.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("This account is disabled.")
        now = timezone.now()
        # Writing on every request would serialise API traffic on one row; a minute is precise enough.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword


class CountedBasicAuthentication(authentication.BasicAuthentication):
    """HTTP Basic whose attempts the sign-in rate limiter (django-axes) sees.

    DRF hands its own Request to `authenticate()`; axes marks a lockout on the request it is
    given, and its middleware reads that mark on Django's request, so pass that one.
    """

    def authenticate_credentials(self, userid, password, request=None):
        return super().authenticate_credentials(userid, password, getattr(request, "_request", request))
