"""Writes and rules for accounts: sign-in with throttling, users, passwords, one-time links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from app import clock
from app import db
from app.accounts.passwords import password_hash, password_needs_rehash, password_problem, password_verify
from app.accounts.queries import user_by_email
from app.accounts.tables import Facility, LoginThrottle, OneTimeToken, Role, User
from app.audit.services import Actor, audit_record
from app.errors import FieldError
from app.i18n import _
from app.web.sessions import session_create, sessions_revoke_for_user
from app.web.tokens import token_hash, token_new

ACCOUNT_FAILURE_LIMIT = 5
ADDRESS_FAILURE_LIMIT = 20
THROTTLE_BASE_DELAY = timedelta(seconds=30)
THROTTLE_MAX_DELAY = timedelta(minutes=30)
# Failures further apart than this are not "consecutive": the count starts again.
THROTTLE_QUIET_RESET = timedelta(hours=1)
ONE_TIME_LINK_LIFETIME = timedelta(hours=24)


class AccountError(FieldError):
    """A rule refused the change; `field` names the form field the message belongs next to."""


def throttle_delay(*, failures: int, limit: int) -> timedelta:
    """How long a key is blocked after `failures` consecutive failures: doubling from the limit on."""
    if failures < limit:
        return timedelta(0)
    return min(THROTTLE_BASE_DELAY * (2 ** (failures - limit)), THROTTLE_MAX_DELAY)


def account_key(email: str) -> str:
    return f"account:{email.strip().lower()}"


def address_key(address: str) -> str:
    return f"address:{address}"


async def throttle_retry_after(*, keys: list[str], now: Optional[datetime] = None) -> int:
    """Seconds until any of these keys may try again (0: not blocked)."""
    now = now or clock.utcnow()
    rows = await LoginThrottle.select(LoginThrottle.blocked_until).where(LoginThrottle.key.is_in(keys)).run()
    waits = [(r["blocked_until"] - now).total_seconds() for r in rows if r["blocked_until"] and r["blocked_until"] > now]
    return int(max(waits) + 0.999) if waits else 0


async def throttle_fail(*, key: str, limit: int) -> None:
    now = clock.utcnow()
    # One upsert, atomic in every process on both engines.
    rows = await LoginThrottle.raw(
        "INSERT INTO login_throttle (key, failures, blocked_until, updated_at) VALUES ({}, 1, NULL, {}) "
        "ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN login_throttle.updated_at < {} THEN 1 "
        "ELSE login_throttle.failures + 1 END, updated_at = excluded.updated_at RETURNING failures",
        key, now, now - THROTTLE_QUIET_RESET,
    ).run()
    failures = rows[0]["failures"]
    delay = throttle_delay(failures=failures, limit=limit)
    if delay:
        await LoginThrottle.update({LoginThrottle.blocked_until: now + delay}).where(LoginThrottle.key == key).run()


async def throttle_reset(*, key: str) -> None:
    await LoginThrottle.delete().where(LoginThrottle.key == key).run()


@dataclass(frozen=True)
class LoginResult:
    token: Optional[str] = None
    user: Optional[dict] = None
    retry_after: int = 0


async def login_attempt(*, email: str, password: str, address: str, absolute_hours: int,
                        device: Optional[dict] = None) -> LoginResult:
    """Check credentials under throttling; on success a new session token (never a reused one).

    On a registered tablet of the person's own facility the session is tied to the device, which
    puts the person on its lock screen for the rest of the shift.
    """
    email = email.strip().lower()
    keys = [account_key(email), address_key(address)]
    user = await user_by_email(email=email)
    device_id = device["id"] if device and user and device["facility"] == user["facility"] else None
    actor = Actor(
        user_id=user["id"] if user else None, label=email, role=user["role"] if user else "",
        facility_id=user["facility"] if user else None, device_id=device_id, address=address,
    )
    retry_after = await throttle_retry_after(keys=keys)
    if retry_after:
        await audit_record(actor=actor, action="login.throttled", detail={"retry_after": retry_after})
        return LoginResult(retry_after=retry_after)

    ok = await password_verify(user["password_hash"] if user else None, password)
    if not ok or not user["active"]:
        await throttle_fail(key=keys[0], limit=ACCOUNT_FAILURE_LIMIT)
        await throttle_fail(key=keys[1], limit=ADDRESS_FAILURE_LIMIT)
        reason = "unknown_account" if user is None else ("inactive" if ok else "wrong_password")
        await audit_record(actor=actor, action="login.failed", detail={"reason": reason})
        return LoginResult()

    await throttle_reset(key=keys[0])
    changes: dict = {User.last_login_at: clock.utcnow(), User.failed_pin_attempts: 0}
    if password_needs_rehash(user["password_hash"]):
        changes[User.password_hash] = await password_hash(password)
    await User.update(changes).where(User.id == user["id"]).run()
    token = await session_create(user_id=user["id"], absolute_hours=absolute_hours, device_id=device_id)
    await audit_record(actor=actor, action="login.succeeded")
    return LoginResult(token=token, user=user)


async def facility_create(*, name: str, timezone: str = "Europe/London") -> int:
    rows = await Facility.insert(Facility(name=name, timezone=timezone)).run()
    return rows[0]["id"]


async def user_create(*, actor: Actor, facility_id: int, email: str, display_name: str, role: Role | str,
                      password: Optional[str] = None) -> int:
    """Create an account; without a password it can only be entered through a one-time link."""
    email = email.strip().lower()
    existing = await user_by_email(email=email)
    if existing is not None:
        raise email_taken(account=existing, facility_id=facility_id)
    hashed = ""
    if password is not None:
        problem = password_problem(password, email=email)
        if problem:
            raise AccountError("password", problem)
        hashed = await password_hash(password)
    role = Role(role)
    try:
        async with db.transaction():
            rows = await User.insert(
                User(facility=facility_id, email=email, display_name=display_name.strip(), role=role.value,
                     password_hash=hashed)
            ).run()
            user_id = rows[0]["id"]
            await audit_record(actor=actor, action="user.created", facility_id=facility_id, object_type="user",
                               object_id=user_id, detail={"role": role.value})
    except db.UNIQUE_VIOLATIONS:
        # The same address added twice at once: the unique index kept the first. Inside a caller's
        # transaction (a family invitation) nothing more can be read: then it only "cannot be used".
        existing = None if db.in_transaction() else await user_by_email(email=email)
        raise email_taken(account=existing or {"facility": None}, facility_id=facility_id) from None
    return user_id


def email_taken(*, account: dict, facility_id: int) -> AccountError:
    """The refusal of an address that has an account. An address signs in to one account across all
    facilities; one of another facility only "cannot be used": no facility learns who is in another."""
    if account["facility"] == facility_id:
        return AccountError("email", _("An account with this email already exists."))
    return AccountError("email", _("This email address cannot be used. Use another one."))


async def user_deactivate(*, actor: Actor, facility_id: int, user_id: int) -> None:
    """Deactivate an account and end every session it has, on every device."""
    if user_id == actor.user_id:
        raise AccountError("user", _("You cannot deactivate your own account."))
    async with db.transaction():
        await User.update({User.active: False}).where((User.id == user_id) & (User.facility == facility_id)).run()
        await sessions_revoke_for_user(user_id=user_id)
        await audit_record(actor=actor, action="user.deactivated", object_type="user", object_id=user_id)


async def user_reactivate(*, actor: Actor, facility_id: int, user_id: int) -> None:
    async with db.transaction():
        await User.update({User.active: True}).where((User.id == user_id) & (User.facility == facility_id)).run()
        await audit_record(actor=actor, action="user.reactivated", object_type="user", object_id=user_id)


async def one_time_link_create(*, actor: Actor, user_id: int, purpose: str) -> str:
    """A single-use token to set a password, valid for a day; earlier unused ones for the user die."""
    token = token_new()
    now = clock.utcnow()
    async with db.transaction():
        await OneTimeToken.update({OneTimeToken.used_at: now}).where(
            (OneTimeToken.user == user_id) & OneTimeToken.used_at.is_null()
        ).run()
        await OneTimeToken.insert(
            OneTimeToken(token_hash=token_hash(token), user=user_id, purpose=purpose, created_by=actor.user_id,
                         created_at=now, expires_at=now + ONE_TIME_LINK_LIFETIME)
        ).run()
        await audit_record(actor=actor, action=f"user.{purpose}_link", object_type="user", object_id=user_id)
    return token


async def one_time_link_user(*, token: str) -> Optional[dict]:
    """The account a live one-time link belongs to, or None when unknown, used or expired."""
    row = await OneTimeToken.select(
        OneTimeToken.id, OneTimeToken.expires_at, OneTimeToken.user.id.as_alias("user_id"),
        OneTimeToken.user.email.as_alias("email"), OneTimeToken.user.active.as_alias("active"),
        OneTimeToken.user.facility.id.as_alias("facility_id"), OneTimeToken.user.role.as_alias("role"),
    ).where((OneTimeToken.token_hash == token_hash(token)) & OneTimeToken.used_at.is_null()).first().run()
    if row is None or row["expires_at"] <= clock.utcnow() or not row["active"]:
        return None
    return row


async def password_set_with_link(*, token: str, password: str, address: str) -> dict:
    link = await one_time_link_user(token=token)
    if link is None:
        raise AccountError("token", _("This link has expired or was already used. Ask your administrator for a new one."))
    problem = password_problem(password, email=link["email"])
    if problem:
        raise AccountError("password", problem)
    hashed = await password_hash(password)
    actor = Actor(user_id=link["user_id"], label=link["email"], role=link["role"], facility_id=link["facility_id"],
                  address=address)
    async with db.transaction():
        used = await OneTimeToken.update({OneTimeToken.used_at: clock.utcnow()}).where(
            (OneTimeToken.id == link["id"]) & OneTimeToken.used_at.is_null()
        ).returning(OneTimeToken.id).run()
        if not used:
            raise AccountError("token", _("This link has expired or was already used. Ask your administrator for a new one."))
        await User.update({User.password_hash: hashed}).where(User.id == link["user_id"]).run()
        await sessions_revoke_for_user(user_id=link["user_id"])
        await audit_record(actor=actor, action="user.password_set")
    return link


async def password_change(*, actor: Actor, session_id: int, current: str, new: str) -> None:
    """Change one's own password; every other session of the account ends."""
    user = await User.select(User.password_hash, User.email).where(User.id == actor.user_id).first().run()
    if user is None or not await password_verify(user["password_hash"], current):
        raise AccountError("current_password", _("Your current password is not correct."))
    problem = password_problem(new, email=user["email"])
    if problem:
        raise AccountError("new_password", problem)
    hashed = await password_hash(new)
    async with db.transaction():
        await User.update({User.password_hash: hashed}).where(User.id == actor.user_id).run()
        await sessions_revoke_for_user(user_id=actor.user_id, keep_session_id=session_id)
        await audit_record(actor=actor, action="user.password_changed", object_type="user", object_id=actor.user_id)
