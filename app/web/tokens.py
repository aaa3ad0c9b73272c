"""Opaque secrets handed to browsers: 32 random bytes, only their SHA-256 is stored."""

import base64
import hashlib
import hmac
import secrets


def token_new() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_for_form(*, secret: str, user_id: int, form: str, key: str) -> str:
    """The token a creating form hands out, the same again for a repeat of that sending (its idempotency key),
    so a double click still shows the link that works; unguessable without the server's secret."""
    if not key:
        return token_new()
    digest = hmac.new(secret.encode(), f"{user_id}:{form}:{key}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
