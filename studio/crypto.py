"""Encryption at rest for secrets (datastore credentials, TLS material of attached engines).

Fernet (AES-128-CBC + HMAC) keyed by STUDIO_ENCRYPTION_KEY, or derived from SECRET_KEY when that
is unset. Callers store `encrypt(...)` output and never log or return the plaintext.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    key = getattr(settings, "STUDIO_ENCRYPTION_KEY", "") or ""
    if key:
        try:
            return Fernet(key.encode())
        except ValueError:
            raise ImproperlyConfigured(
                "STUDIO_ENCRYPTION_KEY must be a Fernet key (44 url-safe base64 chars)"
            ) from None
    digest = hashlib.sha256(("studio-encryption:" + settings.SECRET_KEY).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted: the encryption key (STUDIO_ENCRYPTION_KEY or SECRET_KEY) changed."
        ) from None


def encrypt_json(value: dict[str, Any]) -> str:
    return encrypt(json.dumps(value, sort_keys=True))


def decrypt_json(token: str) -> dict[str, Any]:
    return json.loads(decrypt(token)) if token else {}
