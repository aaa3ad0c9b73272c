"""Sign-in throttling: counters that bound guesses at a password, shared by every process.

An attempt takes its slot first, in one statement that counts it only if the key may be tried
now, and only a taken slot is checked against the password. Read-check-write would let a burst
of parallel guesses all be checked against the same old count.

The schedule follows NIST SP 800-63B rev. 4 (rate limiting, not lockout): an account gets
ACCOUNT_FAILURE_LIMIT failures free, then waits a delay that doubles with each further failure
up to THROTTLE_MAX_DELAY, and after ACCOUNT_HARD_STOP consecutive failures it stops until an
administrator clears it or a password link is used. Growing delays make the hard stop a matter
of days for a guesser, so nobody can lock a colleague out with five wrong passwords. A sign-in
that succeeds forgets the account's failures.

Where the attempt comes from is counted too (a guesser spreading tries over many accounts):
per address, or per registered tablet (see `origin_key`), with a larger allowance, the same
delays, no hard stop, and forgotten after a quiet hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from app import clock
from app.accounts.tables import LoginThrottle

ACCOUNT_FAILURE_LIMIT = 5  # failures before the first delay
ACCOUNT_HARD_STOP = 100  # NIST SP 800-63B rev. 4: at most 100 consecutive failures
ADDRESS_FAILURE_LIMIT = 20
THROTTLE_BASE_DELAY = timedelta(seconds=30)
THROTTLE_MAX_DELAY = timedelta(minutes=30)
# An address or tablet with no failure for this long starts again (addresses change hands). An
# account does not: its failures stay consecutive until a sign-in succeeds.
THROTTLE_QUIET_RESET = timedelta(hours=1)
ACCOUNT_KEY_PREFIX = "account:"


def throttle_delay(*, failures: int, limit: int) -> timedelta:
    """How long a key waits after `failures` consecutive failures: doubling from the limit on, capped."""
    if failures < limit:
        return timedelta(0)
    doublings = failures - limit
    if THROTTLE_BASE_DELAY * 2 ** min(doublings, 32) >= THROTTLE_MAX_DELAY:
        return THROTTLE_MAX_DELAY
    return THROTTLE_BASE_DELAY * 2 ** doublings


def account_key(email: str) -> str:
    return f"{ACCOUNT_KEY_PREFIX}{email.strip().lower()}"


def origin_key(*, address: str, device_id: Optional[int]) -> str:
    """Where an attempt comes from: its address, or the registered tablet it was made on.

    A facility's staff often share one public address, so counting a tablet's attempts by address
    would let one person's typos (or a stranger's guesses from the same network) hold back every
    tablet and office computer there. A registered tablet proves itself with a secret cookie only
    an administrator's registration gave it, so its attempts are counted on their own, whoever
    signs in on it; every account's own limit still applies.
    """
    return f"device:{device_id}" if device_id is not None else f"address:{address}"


@dataclass(frozen=True)
class ThrottleSlot:
    """One attempt's place in a key's count, or why the key may not be tried now."""

    key: str
    taken: bool
    failures: int = 0  # with this attempt, when taken
    at: Optional[datetime] = None
    retry_after: int = 0  # seconds, when refused by a delay
    stopped: bool = False  # refused until an administrator or a password link clears it
    limit: int = 0


def _blocked_until_sql(count: str, *, limit: int, at: datetime) -> tuple[str, list[datetime]]:
    """SQL for when a key whose failures are `count` may be tried again (NULL: at once), from `at`."""
    whens, args = [], []
    failures = limit
    while (delay := throttle_delay(failures=failures, limit=limit)) < THROTTLE_MAX_DELAY:
        whens.append(f"WHEN {count} = {failures} THEN {{}}")
        args.append(at + delay)
        failures += 1
    # The typed NULL makes PostgreSQL read the other branches' parameters as timestamps too.
    return (f"CASE WHEN {count} < {limit} THEN CAST(NULL AS TIMESTAMPTZ) {' '.join(whens)} ELSE {{}} END",
            [*args, at + THROTTLE_MAX_DELAY])


async def throttle_take(*, key: str, limit: int, hard_stop: Optional[int] = None,
                        quiet: Optional[timedelta] = None) -> ThrottleSlot:
    """Count an attempt before its secret is checked, in one statement, if the key may be tried now.

    The slot is counted as a failure from the start: a check that fails keeps it, one that
    succeeds resets the key (`throttle_reset`), an attempt that ends unchecked gives it back.
    """
    at = clock.utcnow()
    if quiet is not None:
        # A key quiet this long cannot be in use by a parallel attempt: forgetting it races with nothing.
        await LoginThrottle.delete().where((LoginThrottle.key == key) & (LoginThrottle.updated_at < at - quiet)).run()
    blocked_until, blocked_args = _blocked_until_sql("login_throttle.failures + 1", limit=limit, at=at)
    first_delay = throttle_delay(failures=1, limit=limit)
    stop_sql, stop_args = ("AND login_throttle.failures < {}", [hard_stop]) if hard_stop is not None else ("", [])
    rows = await LoginThrottle.raw(
        "INSERT INTO login_throttle (key, failures, blocked_until, updated_at) VALUES ({}, 1, {}, {}) "
        f"ON CONFLICT (key) DO UPDATE SET failures = login_throttle.failures + 1, blocked_until = {blocked_until}, "
        "updated_at = excluded.updated_at "
        "WHERE (login_throttle.blocked_until IS NULL OR login_throttle.blocked_until <= {}) "
        f"{stop_sql} RETURNING failures",
        key, at + first_delay if first_delay else None, at, *blocked_args, at, *stop_args,
    ).run()
    if rows:
        return ThrottleSlot(key=key, taken=True, failures=rows[0]["failures"], at=at, limit=limit)
    return await _refusal(key=key, limit=limit, hard_stop=hard_stop, at=at)


async def _refusal(*, key: str, limit: int, hard_stop: Optional[int], at: datetime) -> ThrottleSlot:
    row = await LoginThrottle.select(LoginThrottle.failures, LoginThrottle.blocked_until).where(
        LoginThrottle.key == key).first().run()
    failures = row["failures"] if row else 0
    if hard_stop is not None and failures >= hard_stop:
        return ThrottleSlot(key=key, taken=False, failures=failures, stopped=True, limit=limit)
    wait = (row["blocked_until"] - at).total_seconds() if row and row["blocked_until"] else 0
    # At least a second: the delay may have ended between the refusal and this read.
    return ThrottleSlot(key=key, taken=False, failures=failures, retry_after=max(1, int(wait + 0.999)), limit=limit)


async def throttle_give_back(*, slot: ThrottleSlot) -> None:
    """An attempt that was not a failure (refused by another counter, or it succeeded) frees its slot.

    The delay its slot started goes too: no other attempt could take a slot behind it while it
    lasted, so the one before had already ended. If another did (ours started no delay, or it
    ran out meanwhile), that attempt's delay stays unless the count no longer calls for one.
    """
    if not slot.taken:
        return
    await LoginThrottle.raw(
        "UPDATE login_throttle SET failures = failures - 1, blocked_until = CASE "
        "WHEN failures - 1 < {} OR updated_at = {} THEN NULL ELSE blocked_until END "
        "WHERE key = {} AND failures > 0",
        slot.limit, slot.at, slot.key,
    ).run()


async def throttle_reset(*, key: str) -> None:
    """The secret was right (or an administrator or a password link vouched for the person)."""
    await LoginThrottle.delete().where(LoginThrottle.key == key).run()
