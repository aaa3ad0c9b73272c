"""Server-side sessions stored in the database, keyed by the hash of an opaque token.

Every login (and later every PIN unlock) issues a brand-new token; a token the browser
presented before is revoked, never reused, so a planted session id cannot be fixated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from piccolo.querystring import QueryString

from app.accounts.tables import Device, Facility, Session
from app import clock, db
from app.web.tokens import token_hash, token_new

# last_seen_at is refreshed at most this often: a write per request would serialise all
# traffic on SQLite's single writer for no gain in idle-timeout precision.
LAST_SEEN_GRANULARITY = timedelta(seconds=30)


@dataclass(frozen=True)
class CurrentUser:
    id: int
    facility_id: int
    email: str
    display_name: str
    role: str
    session_id: int
    device_id: Optional[int]
    timezone: str
    flash: str = ""
    # Set for a session on a registered shared tablet: it locks after this many idle minutes, and its
    # page locks itself in this many seconds unless the person is active before then.
    idle_lock_minutes: Optional[int] = None
    lock_in_seconds: Optional[int] = None
    # The facility's grace before a visit not begun counts as late, read with the session (a user built by
    # hand gets the facility's default).
    visit_grace_minutes: int = Facility.visit_grace_minutes.default

    @property
    def visit_grace(self) -> timedelta:
        return timedelta(minutes=self.visit_grace_minutes)


def cookie_name(*, production: bool) -> str:
    # __Host- binds the cookie to this exact origin over HTTPS (no Domain, Path=/, Secure).
    return "__Host-kinward_session" if production else "kinward_session"


def device_cookie_name(*, production: bool) -> str:
    return "__Host-kinward_device" if production else "kinward_device"


async def session_create(*, user_id: int, absolute_hours: int, device_id: Optional[int] = None,
                         auth_method: str = "password", expires_at: Optional[datetime] = None) -> str:
    """Start a session for the user; returns the token for the cookie (never stored).

    `expires_at` caps a PIN session at the end of the shift its password sign-in began.
    """
    token = token_new()
    now = clock.utcnow()
    shift_end = now + timedelta(hours=absolute_hours)
    await Session.insert(
        Session(
            token_hash=token_hash(token),
            user=user_id,
            device=device_id,
            created_at=now,
            last_seen_at=now,
            expires_at=min(shift_end, expires_at) if expires_at else shift_end,
            auth_method=auth_method,
        )
    ).run()
    return token


async def session_revoke(*, token: str) -> None:
    await Session.update({Session.revoked_at: clock.utcnow()}).where(
        (Session.token_hash == token_hash(token)) & Session.revoked_at.is_null()
    ).run()


async def tablet_sign_in_end(*, token: str, device_id: int) -> Optional[int]:
    """Sign out on a shared tablet: the person's sign-ins on it end with this shift, so their PIN no
    longer unlocks it and their next use needs the password. Returns who signed out, if the token
    was a session on this tablet (live or not: a session the server already ended still signs out)."""
    owner = await Session.select(Session.user).where(
        (Session.token_hash == token_hash(token)) & (Session.device == device_id)).first().run()
    if owner is None:
        return None
    now = clock.utcnow()
    theirs = (Session.user == owner["user"]) & (Session.device == device_id)
    async with db.transaction():
        await Session.update({Session.revoked_at: now}).where(theirs & Session.revoked_at.is_null()).run()
        # The lock screen lists password sign-ins whose shift has not ended; this one's has.
        await Session.update({Session.expires_at: now}).where(theirs & (Session.expires_at > now)).run()
    return owner["user"]


async def sessions_revoke_for_user(*, user_id: int, keep_session_id: Optional[int] = None) -> None:
    query = Session.update({Session.revoked_at: clock.utcnow()}).where(
        (Session.user == user_id) & Session.revoked_at.is_null()
    )
    if keep_session_id is not None:
        query = query.where(Session.id != keep_session_id)
    await query.run()


# Every request runs this: the SQL is written once, not built by the ORM per request (measured:
# building the query with joins cost more than running it). Session, user and facility in one read.
SESSION_SQL = (
    "SELECT s.id, s.created_at, s.last_seen_at, s.expires_at, s.device, s.flash, u.id AS user_id, u.email, "
    "u.display_name, u.role, u.active, f.id AS facility_id, f.timezone, f.idle_lock_minutes, f.visit_grace_minutes "
    "FROM kinward_session s JOIN kinward_user u ON u.id = s.\"user\" JOIN facility f ON f.id = u.facility "
    "WHERE s.token_hash = {} AND s.revoked_at IS NULL LIMIT 1"
)


# A tablet's page locks itself this much before the server would end its session (a sixth of the idle
# time on a short one), so that its lock request, which changes the cookie and clears the screen's
# cached pages, still finds the session alive after a slow network and a late timer.
TABLET_LOCK_MARGIN = timedelta(seconds=15)


def tablet_lock_in(*, last_seen_at: datetime, expires_at: datetime, idle: timedelta, now: datetime) -> int:
    """Seconds until a tablet's page locks itself: before the server's idle limit (or the end of the
    shift, if sooner), by the margin."""
    margin = min(TABLET_LOCK_MARGIN, idle / 6)
    return max(0, int((min(last_seen_at + idle, expires_at) - margin - now).total_seconds()))


def session_is_live(*, created_at: datetime, last_seen_at: datetime, expires_at: datetime,
                    idle: timedelta, now: datetime) -> bool:
    """The idle and absolute (shift-length) limits, enforced on the server."""
    return now < expires_at and now - last_seen_at < idle


async def session_resolve(*, token: str, idle_minutes: int, touch: bool = True) -> Optional[CurrentUser]:
    """The signed-in user behind a cookie token, or None when unknown, revoked or expired."""
    rows = await db.fetch(QueryString(SESSION_SQL, token_hash(token)))
    row = rows[0] if rows else None
    if row is None:
        return None
    now = clock.utcnow()
    on_tablet = row["device"] is not None
    # On a shared tablet the facility's (shorter) lock time applies, on the server as on the screen.
    idle = timedelta(minutes=row["idle_lock_minutes"] if on_tablet else idle_minutes)
    if not row["active"] or not session_is_live(
        created_at=row["created_at"], last_seen_at=row["last_seen_at"], expires_at=row["expires_at"],
        idle=idle, now=now,
    ):
        await Session.update({Session.revoked_at: now}).where(Session.id == row["id"]).run()
        return None
    seen = row["last_seen_at"]
    if touch and now - seen >= min(LAST_SEEN_GRANULARITY, idle / 10):
        # Stored with the request's other writes (its audit events), in one shared commit.
        await db.write_soon(Session.update({Session.last_seen_at: now}).where(Session.id == row["id"]).querystrings[0])
        seen = now
    return CurrentUser(
        id=row["user_id"],
        facility_id=row["facility_id"],
        email=row["email"],
        display_name=row["display_name"],
        role=row["role"],
        session_id=row["id"],
        device_id=row["device"],
        timezone=row["timezone"],
        flash=row["flash"],
        idle_lock_minutes=row["idle_lock_minutes"] if on_tablet else None,
        lock_in_seconds=(tablet_lock_in(last_seen_at=seen, expires_at=row["expires_at"], idle=idle, now=now)
                         if on_tablet else None),
        visit_grace_minutes=row["visit_grace_minutes"],
    )


async def flash_push(*, session_id: int, message: str, kind: str = "info") -> None:
    row = await Session.select(Session.flash).where(Session.id == session_id).first().run()
    messages = json.loads(row["flash"]) if row and row["flash"] else []
    messages.append({"kind": kind, "message": message})
    await Session.update({Session.flash: json.dumps(messages)}).where(Session.id == session_id).run()


async def flash_clear(*, session_id: int, shown: str) -> None:
    """The messages a page showed are gone, stored with the request's other writes (one commit per page
    view); messages pushed meanwhile by another request stay for the next page."""
    await db.write_soon(QueryString(FLASH_CLEAR_SQL, session_id, shown))


FLASH_CLEAR_SQL = "UPDATE kinward_session SET flash = '' WHERE id = {} AND flash = {}"


async def device_by_token(*, token: str) -> Optional[dict]:
    """The registered, unrevoked device behind a device cookie."""
    return await Device.select(Device.id, Device.name, Device.facility).where(
        (Device.token_hash == token_hash(token)) & Device.revoked_at.is_null()
    ).first().run()
