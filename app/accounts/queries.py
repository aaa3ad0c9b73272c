"""Reads about facilities and people."""

from __future__ import annotations

from typing import Optional

from app.accounts.tables import Facility, User

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


async def facility_by_id(*, facility_id: int) -> Optional[dict]:
    return await Facility.select().where(Facility.id == facility_id).first().run()


async def facility_count() -> int:
    return await Facility.count().run()
