"""Opaque secrets handed to browsers: 32 random bytes, only their SHA-256 is stored."""

import hashlib
import secrets


def token_new() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
