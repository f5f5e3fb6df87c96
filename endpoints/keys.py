"""Endpoint keys: two random keys (primary, secondary), encrypted at rest so the owner can read
them again (Azure's get-credentials), compared in constant time."""

from __future__ import annotations

import hmac
import secrets

from studio import crypto

KEY_TYPES = ("primary", "secondary")


def new_key() -> str:
    return secrets.token_urlsafe(32)


def new_keys() -> str:
    return crypto.encrypt_json({kind: new_key() for kind in KEY_TYPES})


def read(endpoint) -> dict[str, str]:
    return crypto.decrypt_json(endpoint.keys_encrypted)


def matches(endpoint, presented: str) -> bool:
    if not presented:
        return False
    found = False
    for key in read(endpoint).values():
        # Both compared every time, so the timing says nothing about which one matched.
        found |= hmac.compare_digest(key.encode(), presented.encode())
    return found
