"""Reads about facilities and people."""

from __future__ import annotations

from typing import Optional

from app import db
from app.accounts.tables import Facility, LoginThrottle, User
from app.accounts.throttle import ACCOUNT_FAILURE_LIMIT, ACCOUNT_HARD_STOP, ACCOUNT_KEY_PREFIX, account_key

USER_COLUMNS = (User.id, User.email, User.display_name, User.role, User.active, User.last_login_at, User.created_at)


async def user_by_email(*, email: str) -> Optional[dict]:
    return await User.select().where(User.email == email.strip().lower()).first().run()


async def user_in_facility(*, facility_id: int, user_id: int) -> Optional[dict]:
    return await User.select(*USER_COLUMNS, User.facility).where(
        (User.id == user_id) & (User.facility == facility_id)
    ).first().run()


async def users_for(*, facility_id: int) -> list[dict]:
    return await User.select(*USER_COLUMNS).where(User.facility == facility_id).order_by(
        User.active, ascending=False
    ).order_by(User.display_name).run()


_FACILITY = db.Prebuilt(lambda facility_id: Facility.select().where(Facility.id == facility_id).first())


async def facility_by_id(*, facility_id: int) -> Optional[dict]:
    return await _FACILITY.first(facility_id=facility_id)


async def facility_count() -> int:
    return await Facility.count().run()


async def sign_in_failures(*, email: str) -> int:
    """Consecutive failed sign-ins of an account (and wrong current passwords), 0 when none."""
    row = await LoginThrottle.select(LoginThrottle.failures).where(LoginThrottle.key == account_key(email)).first().run()
    return row["failures"] if row else 0


async def sign_in_holds_for(*, facility_id: int) -> dict[int, dict]:
    """The facility's people whose sign-in is delayed or stopped: user id -> failures and `stopped`."""
    rows = await LoginThrottle.raw(
        "SELECT u.id AS user_id, t.failures FROM login_throttle t "
        f"JOIN kinward_user u ON t.key = '{ACCOUNT_KEY_PREFIX}' || u.email "
        "WHERE u.facility = {} AND t.failures >= {}",
        facility_id, ACCOUNT_FAILURE_LIMIT,
    ).run()
    return {row["user_id"]: {"failures": row["failures"], "stopped": row["failures"] >= ACCOUNT_HARD_STOP}
            for row in rows}
