"""Password hashing (argon2id) and the password policy.

Parameters: argon2-cffi's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4). Measured on the
2-core reference machine: about 120 ms per hash or verification. Each hash in flight holds 64 MiB, so hashing
runs in worker threads behind a semaphore (KINWARD_PASSWORD_HASH_CONCURRENCY, default 2): a
burst of 100 logins queues instead of asking for 6 GiB at once.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Optional

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from app.i18n import _

MIN_LENGTH = 15  # NIST SP 800-63B rev. 4, single-factor passwords
MAX_LENGTH = 128

STANDARD_HASHER = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, hash_len=32, salt_len=16,
                                 type=Type.ID)
# argon2id with its cheapest parameters, for the tests and the demo server the browser tests drive
# (KINWARD_PASSWORD_HASHING=test: refused in production and on a database with any facility but the demo's;
# app.cli): the browser tests sign in some 200 times, at about 120 ms a hash with the standard parameters.
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, hash_len=16, salt_len=8, type=Type.ID)
HASHER = STANDARD_HASHER

_semaphores: dict[int, asyncio.Semaphore] = {}
_concurrency = 2


def configure_concurrency(limit: int) -> None:
    global _concurrency
    _concurrency = limit
    _semaphores.clear()


def configure_hashing(hashing: str) -> None:
    """Settings.password_hashing (which refuses `test` in production): `test` hashes with TEST_HASHER from now
    on, for the rest of the process (the tests under tests/ set it per test instead); `standard` changes nothing."""
    global HASHER
    if hashing == "test":
        HASHER = TEST_HASHER


def _semaphore() -> asyncio.Semaphore:
    loop_id = id(asyncio.get_running_loop())
    sem = _semaphores.get(loop_id)
    if sem is None:
        sem = _semaphores[loop_id] = asyncio.Semaphore(_concurrency)
    return sem


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # zxcvbn's list of the 30,000 most common passwords from breach corpora.
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, email: str = "") -> Optional[str]:
    """Why this password may not be used, or None. No composition rules, by design."""
    if len(password) < MIN_LENGTH:
        return _("Use at least 15 characters. A few unrelated words make a long password easy to remember.")
    if len(password) > MAX_LENGTH:
        return _("Use at most 128 characters.")
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(lowered)) < 4:
        return _("This password is too common or too easy to guess. Choose another.")
    if email and lowered == email.lower():
        return _("Your password must not be your email address.")
    return None


async def password_hash(password: str) -> str:
    async with _semaphore():
        return await asyncio.to_thread(HASHER.hash, password)


_DUMMY_HASH: Optional[str] = None


async def password_verify(stored_hash: Optional[str], password: str) -> bool:
    """Check a password; an unknown account is checked against a dummy hash so timing says nothing."""
    global _DUMMY_HASH
    if not stored_hash:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = await password_hash("kinward-dummy-password-for-timing")
        stored_hash = _DUMMY_HASH
        known = False
    else:
        known = True
    async with _semaphore():
        try:
            ok = await asyncio.to_thread(HASHER.verify, stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
    return ok and known


def password_needs_rehash(stored_hash: str) -> bool:
    """Only ever towards the standard parameters: a process hashing with the tests' never rewrites a hash."""
    return HASHER is STANDARD_HASHER and HASHER.check_needs_rehash(stored_hash)
