"""Writes and rules for shared tablets: registering devices, PINs, unlocking and locking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from app import clock, db
from app.accounts.passwords import password_hash, password_verify
from app.accounts.services import AccountError, current_password_check
from app.accounts.tables import Device, Facility, Session, User
from app.audit.services import Actor, audit_record
from app.i18n import _
from app.tablets.queries import pin_state, tablet_roster
from app.web.sessions import session_create
from app.web.tokens import token_hash

PIN_FAILURE_LIMIT = 5
IDLE_LOCK_RANGE = (1, 60)
ANSWER_HOURS_RANGE = (1, 168)


def pin_problem(pin: str) -> Optional[str]:
    """Six digits, not one digit repeated nor a straight run (the first PINs anyone tries)."""
    if len(pin) != 6 or not (pin.isascii() and pin.isdigit()):
        return _("Your PIN must be exactly 6 digits.")
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:])}
    if len(set(pin)) == 1 or steps in ({1}, {-1}):
        return _("This PIN is too easy to guess. Choose another.")
    return None


async def device_register(*, actor: Actor, facility_id: int, name: str, token: str) -> int:
    """Register the browser the admin is using as a shared tablet, known by the device cookie's `token`
    (`tokens.token_for_form`); returns the device."""
    async with db.transaction():
        rows = await Device.insert(Device(facility=facility_id, name=name.strip(), token_hash=token_hash(token))).run()
        await audit_record(actor=actor, action="device.registered", object_type="device", object_id=rows[0]["id"],
                           detail={"name": name.strip()})
    return rows[0]["id"]


async def device_revoke(*, actor: Actor, facility_id: int, device_id: int) -> None:
    """Revoke a tablet: its cookie stops working and every session on it ends."""
    now = clock.utcnow()
    async with db.transaction():
        await Device.update({Device.revoked_at: now}).where(
            (Device.id == device_id) & (Device.facility == facility_id) & Device.revoked_at.is_null()
        ).run()
        await Session.update({Session.revoked_at: now}).where(
            (Session.device == device_id) & Session.revoked_at.is_null()
        ).run()
        await audit_record(actor=actor, action="device.revoked", object_type="device", object_id=device_id)


async def facility_settings_set(*, actor: Actor, facility_id: int, values: dict[str, int]) -> None:
    """Idle lock, late-visit grace, the answer limit for family messages and the concern escalation; audited."""
    async with db.transaction():
        before = await Facility.select(*(getattr(Facility, name) for name in values)).where(
            Facility.id == facility_id).first().run()
        changed = {name: value for name, value in values.items() if before and before[name] != value}
        if not changed:
            return
        await Facility.update({getattr(Facility, name): value for name, value in changed.items()}).where(
            Facility.id == facility_id).run()
        await audit_record(actor=actor, action="facility.settings_changed", object_type="facility",
                           object_id=facility_id, detail=changed)


async def pin_set(*, actor: Actor, current_password: str, pin: str) -> None:
    """Set one's tablet PIN; the full password confirms it is really the person."""
    await current_password_check(user_id=actor.user_id, password=current_password)
    problem = pin_problem(pin)
    if problem:
        raise AccountError("pin", problem)
    hashed = await password_hash(pin)
    async with db.transaction():
        await User.update({User.pin_hash: hashed, User.failed_pin_attempts: 0}).where(User.id == actor.user_id).run()
        await audit_record(actor=actor, action="user.pin_set", object_type="user", object_id=actor.user_id)


@dataclass(frozen=True)
class UnlockResult:
    token: Optional[str] = None
    role: str = ""
    error: str = ""
    needs_password: bool = False


async def tablet_unlock(*, device: dict, user_id: int, pin: str, address: str,
                        absolute_hours: int) -> UnlockResult:
    """Unlock a registered tablet with a PIN: only for staff on its roster, five tries, a fresh session."""
    now = clock.utcnow()
    roster = {r["id"]: r for r in await tablet_roster(device_id=device["id"], facility_id=device["facility"], now=now)}
    entry = roster.get(user_id)
    person = await pin_state(user_id=user_id) if entry else None
    if entry is None or person is None:
        return UnlockResult(error=_("Sign in with your full password on this tablet first."), needs_password=True)
    actor = Actor(user_id=user_id, label=person["email"], role=person["role"], facility_id=person["facility"],
                  device_id=device["id"], address=address)
    too_many = _("Too many wrong PINs. Sign in with your full password.")
    if not person["pin_hash"]:
        return UnlockResult(error=_("You have no PIN yet. Sign in with your password and set one under Account."),
                            needs_password=True)
    # The attempt takes its place in the count before the PIN is checked, in one statement: of any
    # number of guesses sent at once, only the first PIN_FAILURE_LIMIT are ever checked.
    taken = await User.update({User.failed_pin_attempts: User.failed_pin_attempts + 1}).where(
        (User.id == user_id) & (User.failed_pin_attempts < PIN_FAILURE_LIMIT)
    ).returning(User.failed_pin_attempts).run()
    if not taken:
        return UnlockResult(error=too_many, needs_password=True)
    if not await password_verify(person["pin_hash"], pin):
        failures = taken[0]["failed_pin_attempts"]
        await audit_record(actor=actor, action="tablet.unlock_failed", detail={"failures": failures})
        if failures >= PIN_FAILURE_LIMIT:
            return UnlockResult(error=too_many, needs_password=True)
        return UnlockResult(error=_("That PIN is not correct."))
    await User.update({User.failed_pin_attempts: 0}).where(User.id == user_id).run()
    token = await session_create(user_id=user_id, absolute_hours=absolute_hours, device_id=device["id"],
                                 auth_method="pin", expires_at=entry["expires_at"])
    await audit_record(actor=actor, action="tablet.unlocked")
    return UnlockResult(token=token, role=person["role"])
