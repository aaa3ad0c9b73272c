"""Writes and rules for accounts: sign-in with throttling, users, passwords, one-time links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Optional

from app import clock
from app import db
from app.accounts.passwords import password_hash, password_needs_rehash, password_problem, password_verify
from app.accounts.queries import sign_in_failures, user_by_email
from app.accounts.tables import Facility, OneTimeToken, Role, User
from app.accounts.throttle import (ACCOUNT_FAILURE_LIMIT, ACCOUNT_HARD_STOP, ADDRESS_FAILURE_LIMIT, THROTTLE_QUIET_RESET,
                                     ThrottleSlot, account_key, origin_key, throttle_give_back, throttle_reset,
                                     throttle_take)
from app.audit.services import Actor, audit_record
from app.errors import FieldError
from app.i18n import _, ngettext
from app.web.sessions import session_create, sessions_revoke_for_user
from app.web.tokens import token_hash, token_new

ONE_TIME_LINK_LIFETIME = timedelta(hours=24)


class AccountError(FieldError):
    """A rule refused the change; `field` names the form field the message belongs next to."""

    status_code = 422
    headers: dict[str, str] = {}


class AccountThrottled(AccountError):
    """Too many wrong passwords: this one was not even checked."""

    status_code = 429

    def __init__(self, field: str, slot: ThrottleSlot) -> None:
        super().__init__(field, wait_message(slot, _("Too many wrong passwords.")))
        self.headers = retry_after_header(slot)


def retry_after_header(slot: ThrottleSlot) -> dict[str, str]:
    """Retry-After of a 429: none when only an administrator or a password link lets the person in."""
    return {"Retry-After": str(slot.retry_after)} if slot.retry_after else {}


def wait_message(slot: ThrottleSlot, opening: str) -> str:
    """What a person held back by the throttle reads: how long to wait, or who can let them in."""
    if slot.stopped:
        return opening + " " + _("This account is paused after too many failed attempts. Ask your administrator "
                                 "to clear it, or to send you a link to set a new password.")
    minutes = -(-slot.retry_after // 60)
    return opening + " " + ngettext("Try again in %(num)d minute.", "Try again in %(num)d minutes.",
                                    minutes) % {"num": minutes}


@dataclass(frozen=True)
class LoginResult:
    token: Optional[str] = None
    user: Optional[dict] = None
    held: Optional[ThrottleSlot] = None  # refused by the throttle, without checking the password


async def login_attempt(*, email: str, password: str, address: str, absolute_hours: int,
                        device: Optional[dict] = None) -> LoginResult:
    """Check credentials under throttling; on success a new session token (never a reused one).

    On a registered tablet of the person's own facility the session is tied to the device, which
    puts the person on its lock screen for the rest of the shift.
    """
    email = email.strip().lower()
    user = await user_by_email(email=email)
    device_id = device["id"] if device and user and device["facility"] == user["facility"] else None
    actor = Actor(
        user_id=user["id"] if user else None, label=email, role=user["role"] if user else "",
        facility_id=user["facility"] if user else None, device_id=device_id, address=address,
    )
    account = await throttle_take(key=account_key(email), limit=ACCOUNT_FAILURE_LIMIT, hard_stop=ACCOUNT_HARD_STOP)
    held = None if account.taken else account
    origin = None
    if account.taken:
        origin = await throttle_take(key=origin_key(address=address, device_id=device["id"] if device else None),
                                     limit=ADDRESS_FAILURE_LIMIT, quiet=THROTTLE_QUIET_RESET)
        if not origin.taken:
            held = origin
            await throttle_give_back(slot=account)  # never checked: the account is not charged for it
    if held is not None:
        detail = {"stopped": True} if held.stopped else {"retry_after": held.retry_after}
        await audit_record(actor=actor, action="login.throttled", detail=detail)
        return LoginResult(held=held)

    ok = await password_verify(user["password_hash"] if user else None, password)
    if not ok or not user["active"]:
        reason = "unknown_account" if user is None else ("inactive" if ok else "wrong_password")
        await audit_record(actor=actor, action="login.failed", detail={"reason": reason})
        return LoginResult()

    await throttle_reset(key=account.key)
    await throttle_give_back(slot=origin)
    changes: dict = {User.last_login_at: clock.utcnow(), User.failed_pin_attempts: 0}
    if password_needs_rehash(user["password_hash"]):
        changes[User.password_hash] = await password_hash(password)
    await User.update(changes).where(User.id == user["id"]).run()
    token = await session_create(user_id=user["id"], absolute_hours=absolute_hours, device_id=device_id)
    await audit_record(actor=actor, action="login.succeeded")
    return LoginResult(token=token, user=user)


async def current_password_check(*, user_id: int, password: str) -> dict:
    """The password a signed-in person types to confirm a change, under their account's sign-in throttle.

    The same counter as signing in: a guesser at an unlocked screen gets no more tries than at the
    sign-in page. Returns the person's email and password hash.
    """
    user = await User.select(User.email, User.password_hash).where(User.id == user_id).first().run()
    if user is None:
        raise AccountError("current_password", _("Your current password is not correct."))
    slot = await throttle_take(key=account_key(user["email"]), limit=ACCOUNT_FAILURE_LIMIT,
                               hard_stop=ACCOUNT_HARD_STOP)
    if not slot.taken:
        raise AccountThrottled("current_password", slot)
    if not await password_verify(user["password_hash"], password):
        raise AccountError("current_password", _("Your current password is not correct."))
    await throttle_reset(key=slot.key)
    return user


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


async def one_time_link_create(*, actor: Actor, user_id: int, purpose: str, token: str = "") -> str:
    """A single-use token to set a password, valid for a day; earlier unused ones for the user die.

    `token` is the link's secret when a form chose it (`tokens.token_for_form`), else a fresh one.
    """
    token = token or token_new()
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
        # The link proved the person: a paused sign-in opens again with the new password.
        await throttle_reset(key=account_key(link["email"]))
        await audit_record(actor=actor, action="user.password_set")
    return link


async def password_change(*, actor: Actor, session_id: int, current: str, new: str) -> None:
    """Change one's own password; every other session of the account ends."""
    user = await current_password_check(user_id=actor.user_id, password=current)
    problem = password_problem(new, email=user["email"])
    if problem:
        raise AccountError("new_password", problem)
    hashed = await password_hash(new)
    async with db.transaction():
        await User.update({User.password_hash: hashed}).where(User.id == actor.user_id).run()
        await sessions_revoke_for_user(user_id=actor.user_id, keep_session_id=session_id)
        await audit_record(actor=actor, action="user.password_changed", object_type="user", object_id=actor.user_id)


async def sign_in_unblock(*, actor: Actor, facility_id: int, user_id: int) -> None:
    """An administrator lets a person of their facility try to sign in again at once (delays and hard stop)."""
    user = await User.select(User.email).where((User.id == user_id) & (User.facility == facility_id)).first().run()
    if user is None:
        raise AccountError("user", _("This account does not exist."))
    async with db.transaction():
        failures = await sign_in_failures(email=user["email"])
        await throttle_reset(key=account_key(user["email"]))
        await audit_record(actor=actor, action="user.sign_in_unblocked", object_type="user", object_id=user_id,
                           detail={"failures": failures})
