"""Reads for shared tablets: registered devices and who may unlock one."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from app.accounts.tables import Device, Session, User
from app.policy import roles_for


async def devices_for(*, facility_id: int) -> list[dict]:
    return await Device.select().where(Device.facility == facility_id).order_by(Device.created_at).run()


async def device_in_facility(*, facility_id: int, device_id: int) -> Optional[dict]:
    return await Device.select().where((Device.id == device_id) & (Device.facility == facility_id)).first().run()


async def tablet_roster(*, device_id: int, facility_id: int, now: datetime) -> list[dict]:
    """Staff who signed in with their full password on this device during their current shift.

    Each with the end of that shift: a PIN session never outlasts the password sign-in it rests on.
    """
    rows = await Session.select(
        Session.user.id.as_alias("id"),
        Session.user.display_name.as_alias("display_name"),
        Session.user.role.as_alias("role"),
        Session.expires_at,
    ).where(
        (Session.device == device_id)
        & (Session.auth_method == "password")
        & (Session.expires_at > now)
        & (Session.user.active == True)  # noqa: E712 - Piccolo builds SQL from the comparison
        & (Session.user.facility == facility_id)
        # Who may hold a tablet PIN (staff: family members use their own devices) may unlock one.
        & Session.user.role.is_in(sorted(role.value for role in roles_for("account.set_pin")))
    ).order_by(Session.expires_at, ascending=False).run()
    roster: dict[int, dict] = {}
    for row in rows:
        roster.setdefault(row["id"], row)
    return sorted(roster.values(), key=lambda r: r["display_name"].lower())


async def pin_state(*, user_id: int) -> Optional[dict]:
    return await User.select(User.id, User.email, User.role, User.facility, User.pin_hash,
                             User.failed_pin_attempts, User.active).where(User.id == user_id).first().run()
