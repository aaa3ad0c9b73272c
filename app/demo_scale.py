"""A large demo facility, for measuring Kinward as it will be after years of use.

`kinward demo --scale N` adds to the demo facility N times: 320 clients, 20 coordinators, 40
care workers and 100 family members, each client with an active plan of three daily services and
three years of visit history (about 1,050,000 visits), a weekly family message and its answer, and audit rows
for the visits logged. The demo accounts keep their own caseloads, so their pages can be
compared before and after. Rows are written in bulk (COPY on PostgreSQL), not one by one.
"""

from __future__ import annotations

import random
import time as timer
from datetime import date, datetime, time, timedelta
from typing import Optional
from zoneinfo import ZoneInfo

from app import clock, db
from app.accounts.tables import Facility, User
from app.audit.services import AUDIT_COLUMNS, audit_seal, row_hash
from app.audit.tables import AuditChain
from app.clients.queries import search_key
from app.clients.tables import CareTeamMember, Client
from app.demo import DEMO_FACILITY

CLIENTS, COORDINATORS, WORKERS, FAMILY = 320, 20, 40, 100
YEARS = 3
# Each client's services: (kind, start, minutes). Every day, each by the client's worker.
SERVICES = (("personal_care", time(8, 0), 30), ("meals", time(12, 30), 20), ("medication_prompt", time(17, 0), 20))
# One visit in this many writes an audit row (the worker's check-out); one in 40 was missed.
AUDIT_EVERY = 4
FIRST_NAMES = ("Alma", "Basil", "Cora", "Dennis", "Elsie", "Fergus", "Greta", "Horace", "Ida", "Jasper", "Kitty",
               "Lionel", "Maud", "Neville", "Opal", "Quentin", "Rosa", "Sidney", "Thea", "Ulric", "Vera", "Wilfred")
LAST_NAMES = ("Ainsworth", "Bellamy", "Crowther", "Darby", "Entwistle", "Fairclough", "Gillespie", "Hargreaves",
              "Ibbotson", "Jessop", "Kershaw", "Lomax", "Midgley", "Nuttall", "Ormerod", "Pilling", "Quayle")


def _columns(table) -> tuple[str, ...]:
    return tuple(c._meta.db_column_name for c in table._meta.columns if c._meta.name != "id")


async def _next_ids(table, count: int) -> range:
    """Ids for rows written in bulk with their ids given (so later rows can refer to them)."""
    row = await table.select(table.id).order_by(table.id, ascending=False).first().run()
    start = (row["id"] if row else 0) + 1
    return range(start, start + count)


async def _reset_sequence(table) -> None:
    if db.is_postgres():
        name = table._meta.tablename
        await db.engine().run_ddl(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")


async def _bulk(table, rows: list[dict]) -> None:
    """Rows (dicts with every column, id included) in chunks, then the id sequence moved past them."""
    columns = ("id",) + _columns(table)
    for start in range(0, len(rows), 50_000):
        await db.bulk_insert(table._meta.tablename, columns,
                             [tuple(r[c] for c in columns) for r in rows[start:start + 50_000]])
    await _reset_sequence(table)




async def demo_scale(scale: int, *, log=print) -> dict[str, int]:
    """Add `scale` times the large facility's people, clients and history to the demo facility."""
    from app.careplans.tables import CarePlan, Service
    from app.messages.tables import Message
    from app.visits.tables import Visit

    started = timer.monotonic()
    rng = random.Random(scale)
    facility = await Facility.select(Facility.id, Facility.timezone).where(Facility.name == DEMO_FACILITY).first().run()
    if facility is None:
        raise RuntimeError("run `kinward demo` first: the scale data joins the demo facility")
    facility_id, zone = facility["id"], ZoneInfo(facility["timezone"])
    now = clock.utcnow()
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=365 * YEARS)
    # History ends a week ago: the demo's own recent visits and the planned horizon follow it.
    last_day = today - timedelta(days=7)
    counts: dict[str, int] = {}

    people = {"coordinator": COORDINATORS * scale, "worker": WORKERS * scale, "family": FAMILY * scale}
    user_ids = await _next_ids(User, sum(people.values()))
    users, by_role, offset = [], {}, 0
    tag = f"s{user_ids.start}"
    for role, count in people.items():
        ids = user_ids[offset:offset + count]
        offset += count
        by_role[role] = list(ids)
        for n, uid in enumerate(ids):
            users.append(db.row_defaults(User, id=uid, facility=facility_id, email=f"{role}{n + 1}.{tag}@scale.kinward.example",
                                   display_name=f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {role.title()} {n + 1}",
                                   role=role, password_hash="", active=True, created_at=now))
    await _bulk(User, users)
    counts["people"] = len(users)

    client_ids = list(await _next_ids(Client, CLIENTS * scale))
    clients, team = [], []
    team_ids = iter(await _next_ids(CareTeamMember, 2 * len(client_ids)))
    for n, cid in enumerate(client_ids):
        first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]
        clients.append(db.row_defaults(Client, id=cid, facility=facility_id, first_name=first, last_name=f"{last} {n + 1}",
                                 search_name=search_key(first, f"{last} {n + 1}", ""), status="active",
                                 status_since=first_day, date_of_birth=date(1930 + n % 25, 1 + n % 12, 1 + n % 28),
                                 address=f"{n + 1} Mill Lane", allergies="None known", care_instructions="Ring twice",
                                 created_at=now, updated_at=now))
        coordinator = by_role["coordinator"][n % len(by_role["coordinator"])]
        worker = by_role["worker"][n % len(by_role["worker"])]
        for user, role in ((coordinator, "coordinator"), (worker, "worker")):
            team.append(db.row_defaults(CareTeamMember, id=next(team_ids), client=cid, user=user, role=role, since=first_day,
                                  created_at=now))
    await _bulk(Client, clients)
    await _bulk(CareTeamMember, team)
    counts["clients"] = len(clients)

    plan_ids = await _next_ids(CarePlan, len(client_ids))
    service_ids = iter(await _next_ids(Service, len(client_ids) * len(SERVICES)))
    plans, services = [], []
    client_services: list[tuple[int, int, Optional[int], tuple]] = []
    for n, (cid, pid) in enumerate(zip(client_ids, plan_ids)):
        coordinator = by_role["coordinator"][n % len(by_role["coordinator"])]
        worker = by_role["worker"][n % len(by_role["worker"])]
        plans.append(db.row_defaults(CarePlan, id=pid, client=cid, version=1, status="active", summary="Support at home",
                               starts_on=first_day, created_by=coordinator, created_at=now, updated_at=now,
                               activated_at=now, activated_by=coordinator))
        for kind, start, minutes in SERVICES:
            sid = next(service_ids)
            services.append(db.row_defaults(Service, id=sid, plan=pid, lineage=sid, kind=kind, worker=worker,
                                      weekdays="1,2,3,4,5,6,7", start_time=start, duration_minutes=minutes,
                                      starts_on=first_day, instructions="As in the plan", created_at=now))
            client_services.append((cid, sid, worker, (kind, start, minutes)))
    await _bulk(CarePlan, plans)
    await _bulk(Service, services)

    visit_columns = ("id",) + _columns(Visit)
    next_visit = (await _next_ids(Visit, 1)).start
    audit: list[tuple] = []
    batch: list[tuple] = []
    visits = 0
    day = first_day
    while day <= last_day:
        for cid, sid, worker, (_kind, start, minutes) in client_services:
            begins = datetime.combine(day, start, tzinfo=zone)
            missed = rng.randrange(40) == 0
            arrived = None if missed else begins + timedelta(minutes=rng.randrange(-5, 20))
            row = db.row_defaults(Visit, id=next_visit, client=cid, service=sid, worker=worker, scheduled_start=begins,
                            scheduled_end=begins + timedelta(minutes=minutes),
                            status="missed" if missed else "completed", check_in_at=arrived,
                            check_in_by=None if missed else worker,
                            check_out_at=None if missed else arrived + timedelta(minutes=minutes),
                            check_out_by=None if missed else worker, location="" if missed else "home",
                            internal_note="" if missed else "All well.", created_at=begins, updated_at=begins)
            batch.append(tuple(row[c] for c in visit_columns))
            if not missed and next_visit % AUDIT_EVERY == 0:
                audit.append((facility_id, arrived + timedelta(minutes=minutes), worker, f"{worker}@scale", "worker",
                              "visit.checked_out", "visit", str(next_visit), cid, None, "", ""))
            next_visit += 1
            visits += 1
        if len(batch) >= 50_000:
            await db.bulk_insert("visit", visit_columns, batch)
            batch = []
            log(f"  visits up to {day}: {visits:,} ({timer.monotonic() - started:.0f} s)")
        day += timedelta(days=1)
    await db.bulk_insert("visit", visit_columns, batch)
    await _reset_sequence(Visit)
    counts["visits"] = visits

    message_columns = ("id",) + _columns(Message)
    next_message = (await _next_ids(Message, 1)).start
    messages = []
    families = by_role["family"]
    for n, cid in enumerate(client_ids):
        author = families[n % len(families)]
        # The client's coordinator answers the next morning, as a team does: a history of unanswered
        # messages would have the first server to start escalate every one of them, for minutes.
        coordinator = by_role["coordinator"][n % len(by_role["coordinator"])]
        week = first_day + timedelta(days=n % 7)
        while week <= last_day:
            sent = datetime.combine(week, time(18, 0), tzinfo=zone)
            for who, role, body, at in ((author, "family", "How was Mum this week?", sent),
                                        (coordinator, "coordinator", "She has had a good week.",
                                         sent + timedelta(hours=15))):
                messages.append(tuple(db.row_defaults(Message, id=next_message, client=cid, author=who, author_role=role,
                                                      body=body, created_at=at)[c] for c in message_columns))
                next_message += 1
            week += timedelta(days=7)
    for start in range(0, len(messages), 50_000):
        await db.bulk_insert("message", message_columns, messages[start:start + 50_000])
    await _reset_sequence(Message)
    counts["messages"] = len(messages)

    counts["audit rows"] = await _append_sealed(facility_id, sorted(audit, key=lambda r: r[1]))
    log(f"  history written ({timer.monotonic() - started:.0f} s); planning the next two weeks")
    from app.visits.services import schedule_sync

    await schedule_sync(now=now, client_ids=client_ids)
    counts["seconds"] = round(timer.monotonic() - started)
    return counts


async def _append_sealed(facility_id: int, rows: list[tuple]) -> int:
    """Audit rows already chained (the sealer would do the same, a million times slower)."""
    from app.audit.tables import AuditEvent

    await audit_seal()
    head = await AuditChain.select().where(AuditChain.chain_key == facility_id).first().run()
    seq, prev = (head["seq"], head["head_hash"]) if head else (0, "0" * 64)
    if head is None:
        await AuditChain.insert(AuditChain(chain_key=facility_id, seq=0, head_hash=prev)).run()
    ids = await _next_ids(AuditEvent, len(rows))
    columns = ("id",) + AUDIT_COLUMNS + ("seq", "prev_hash", "hash")
    sealed = []
    for aid, values in zip(ids, rows):
        seq += 1
        digest = row_hash(dict(zip(AUDIT_COLUMNS, values)), prev_hash=prev, seq=seq)
        sealed.append((aid, *values, seq, prev, digest))
        prev = digest
    for start in range(0, len(sealed), 50_000):
        await db.bulk_insert("audit_event", columns, sealed[start:start + 50_000])
    await _reset_sequence(AuditEvent)
    await AuditChain.update({AuditChain.seq: seq, AuditChain.head_hash: prev}).where(
        AuditChain.chain_key == facility_id).run()
    return len(rows)
