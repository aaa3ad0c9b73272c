"""The demo facility: fictional people to try Kinward with. Later features add their own demo data here."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from app import clock, db

from app.accounts.demo import DEMO_FACILITY, DEMO_PEOPLE, demo_password
from app.accounts.queries import user_by_email
from app.accounts.services import facility_create, user_create
from app.accounts.tables import Facility
from app.audit.services import Actor
from app.careplans.demo import demo_care_plans
from app.clients.demo import demo_clients
from app.liaison.demo import demo_liaison
from app.messages.demo import demo_conversations
from app.visits.demo import demo_visit_logs
from app.reports.demo import demo_supervision_notes
from app.reviews.demo import demo_reviews, demo_visit_history
from app.visits.services import schedule_sync

DEMO_TIMEZONE = "Europe/London"

async def demo_seed() -> bool:
    """Create the demo facility and accounts unless they exist; True when something was created."""
    if await Facility.exists().where(Facility.name == DEMO_FACILITY).run():
        return False
    facility_id = await facility_create(name=DEMO_FACILITY, timezone=DEMO_TIMEZONE)
    actor = Actor(label="kinward demo", facility_id=facility_id)
    for email, (name, role) in DEMO_PEOPLE.items():
        if await user_by_email(email=email) is None:
            await user_create(actor=actor, facility_id=facility_id, email=email, display_name=name, role=role,
                              password=demo_password(email))
    await demo_clients(facility_id=facility_id)
    await demo_care_plans(facility_id=facility_id)
    # From this morning, not from now: the demo's workers have a whole day of visits, whenever it is seeded.
    midnight = datetime.combine(clock.today_in(DEMO_TIMEZONE), time(0), tzinfo=ZoneInfo(DEMO_TIMEZONE))
    await schedule_sync(now=midnight)
    await demo_visit_logs(facility_id=facility_id)
    await demo_conversations(facility_id=facility_id)
    await demo_liaison(facility_id=facility_id)
    await demo_visit_history(facility_id=facility_id)
    await demo_reviews(facility_id=facility_id)
    await demo_supervision_notes(facility_id=facility_id)
    return True


async def holds_other_facilities() -> bool:
    """Whether the database holds a facility other than the demo's: real people's records, which nothing
    meant only for trying Kinward (a reset, the tests' password hashing) may touch."""
    return await Facility.exists().where(Facility.name != DEMO_FACILITY).run()


class DemoResetRefused(Exception):
    pass


async def demo_reset() -> None:
    """Empty every table (the migrations stay) and seed the demo afresh: for trying Kinward, never for care records."""
    from app.piccolo_app import APP_CONFIG

    if await holds_other_facilities():
        raise DemoResetRefused("the database holds a facility other than the demo's; nothing was removed")
    tables = [table._meta.tablename for table in reversed(APP_CONFIG.table_classes)]
    if db.is_postgres():
        await db.engine().run_ddl(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    else:
        async with db.transaction():
            for table in tables:
                await db.engine().run_ddl(f"DELETE FROM {table}")
            if await db.engine().run_ddl("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"):
                await db.engine().run_ddl("DELETE FROM sqlite_sequence")  # ids start again from 1
    await demo_seed()
