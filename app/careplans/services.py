"""Writes and rules for care plans: drafts, goals, services, activation with its changes, closing."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Optional

from app import clock, db
from app.audit.services import Actor, audit_record
from app.careplans import queries
from app.careplans.queries import effective_rule, weekdays_text
from app.careplans.tables import CarePlan, Goal, GoalNote, PlanStatus, Service
from app.clients.services import client_review_due_set, schedule_update
from app.errors import FieldError, VersionConflict
from app.i18n import _
from app.careplans.schedule import rules_overlap


class PlanError(FieldError):
    """A rule refused the change; `field` names the form field the message belongs next to."""


class PlanVersionConflict(VersionConflict):
    """Someone saved this plan, goal or service since the edit began; `stored` is how it is now."""


@dataclass(frozen=True)
class PlanDetails:
    summary: str
    starts_on: date
    review_due: Optional[date] = None
    ends_on: Optional[date] = None


@dataclass(frozen=True)
class GoalDetails:
    description: str
    target_date: Optional[date] = None
    status: str = "not_started"


@dataclass(frozen=True)
class ServiceDetails:
    kind: str
    weekdays: frozenset[int]
    start_time: time
    duration_minutes: int
    starts_on: date
    worker_id: Optional[int] = None
    provider_name: str = ""
    ends_on: Optional[date] = None
    instructions: str = ""
    tasks: tuple[str, ...] = ()

    def columns(self) -> dict[Any, Any]:
        return {Service.kind: self.kind, Service.worker: self.worker_id, Service.provider_name: self.provider_name,
                Service.weekdays: weekdays_text(self.weekdays), Service.start_time: self.start_time,
                Service.duration_minutes: self.duration_minutes, Service.starts_on: self.starts_on,
                Service.ends_on: self.ends_on, Service.instructions: self.instructions,
                Service.tasks: json.dumps(list(self.tasks), ensure_ascii=False)}


# --- the draft --------------------------------------------------------------------------------


async def _draft(plan_id: int) -> dict:
    plan = await CarePlan.select(CarePlan.id, CarePlan.client, CarePlan.status, CarePlan.revision,
                                 CarePlan.starts_on, CarePlan.ends_on, CarePlan.client.facility.as_alias("facility_id"),
                                 ).where(CarePlan.id == plan_id).first().run()
    if plan is None or plan["status"] != PlanStatus.draft.value:
        raise PlanError("plan", _("Only a draft can be changed. Start a new version of the plan first."))
    return plan


async def _touch(plan_id: int) -> None:
    """Every change to a draft moves its revision on, so an activation confirms exactly what was shown."""
    await CarePlan.update({CarePlan.revision: CarePlan.revision + 1, CarePlan.updated_at: clock.utcnow()}).where(
        CarePlan.id == plan_id).run()


async def plan_draft_start(*, actor: Actor, client_id: int, today: date) -> int:
    """The client's draft plan: the existing one, or a new version copied from the latest plan."""
    try:
        return await _draft_create(actor=actor, client_id=client_id, today=today)
    except db.UNIQUE_VIOLATIONS:
        # Two people started a draft at the same moment: the one-draft-per-client index kept one.
        existing = await queries.plan_in_status(client_id=client_id, status=PlanStatus.draft)
        if existing is None:
            raise
        return existing["id"]


async def _draft_create(*, actor: Actor, client_id: int, today: date) -> int:
    async with db.transaction():
        existing = await CarePlan.select(CarePlan.id).where(
            (CarePlan.client == client_id) & (CarePlan.status == PlanStatus.draft.value)
        ).first().run()
        if existing is not None:
            return existing["id"]
        base = await queries.latest_plan_of(client_id=client_id)
        last = await CarePlan.select(CarePlan.version).where(CarePlan.client == client_id).order_by(
            CarePlan.version, ascending=False).first().run()
        version = (last["version"] + 1) if last else 1
        now = clock.utcnow()
        rows = await CarePlan.insert(CarePlan(
            client=client_id, version=version, status=PlanStatus.draft.value,
            summary=base["summary"] if base else "", starts_on=base["starts_on"] if base else today,
            review_due=base["review_due"] if base else None, ends_on=base["ends_on"] if base else None,
            created_by=actor.user_id, created_at=now, updated_at=now,
        )).run()
        plan_id = rows[0]["id"]
        if base is not None:
            for goal in await queries.goals_of(plan_id=base["id"]):
                await Goal.insert(Goal(plan=plan_id, lineage=goal["lineage"], description=goal["description"],
                                       target_date=goal["target_date"], status=goal["status"])).run()
            for service in await queries.services_of(plan_id=base["id"]):
                await Service.insert(Service(
                    plan=plan_id, lineage=service["lineage"], kind=service["kind"], worker=service["worker_id"],
                    provider_name=service["provider_name"], weekdays=service["weekdays"],
                    start_time=service["start_time"], duration_minutes=service["duration_minutes"],
                    starts_on=service["starts_on"], ends_on=service["ends_on"],
                    instructions=service["instructions"], tasks=service["tasks"],
                )).run()
        await audit_record(actor=actor, action="careplan.draft_started", client_id=client_id,
                           object_type="care_plan", object_id=plan_id,
                           detail={"version": version, "from_version": base["version"] if base else None})
    return plan_id


async def plan_details_update(*, actor: Actor, plan_id: int, revision: int, details: PlanDetails) -> list[str]:
    """Save the draft's summary and dates; refused with PlanVersionConflict if the draft moved on."""
    async with db.transaction():
        plan = await _draft(plan_id)
        stored = await CarePlan.select(CarePlan.revision, *[getattr(CarePlan, f) for f in queries.PLAN_FIELDS]).where(
            CarePlan.id == plan_id).first().run()
        if stored["revision"] != revision:
            raise PlanVersionConflict(stored)
        changed = [f for f in queries.PLAN_FIELDS if getattr(details, f) != stored[f]]
        if not changed:
            return []
        await db.update_versioned(CarePlan, {
            **{getattr(CarePlan, f): getattr(details, f) for f in changed}, CarePlan.updated_at: clock.utcnow(),
        }, where=CarePlan.id == plan_id, version=revision, column=CarePlan.revision,
            conflict=PlanVersionConflict(stored))
        await audit_record(actor=actor, action="careplan.updated", facility_id=plan["facility_id"],
                           client_id=plan["client"], object_type="care_plan", object_id=plan_id,
                           detail={"fields": changed})
    return changed


async def plan_draft_discard(*, actor: Actor, plan_id: int) -> None:
    """Throw a draft away: nothing was ever scheduled from it."""
    async with db.transaction():
        plan = await _draft(plan_id)
        await Goal.delete().where(Goal.plan == plan_id).run()
        await Service.delete().where(Service.plan == plan_id).run()
        # Only while still a draft: of two discards at once, the second finds nothing and says so.
        gone = await CarePlan.delete().where((CarePlan.id == plan_id)
                                             & (CarePlan.status == PlanStatus.draft.value)).returning(CarePlan.id).run()
        if not gone:
            raise PlanError("plan", _("This draft was already discarded or activated."))
        await audit_record(actor=actor, action="careplan.draft_discarded", facility_id=plan["facility_id"],
                           client_id=plan["client"], object_type="care_plan", object_id=plan_id)


# --- goals ------------------------------------------------------------------------------------


async def goal_add(*, actor: Actor, plan_id: int, details: GoalDetails) -> int:
    async with db.transaction():
        plan = await _draft(plan_id)
        rows = await Goal.insert(Goal(plan=plan_id, description=details.description,
                                      target_date=details.target_date, status=details.status)).run()
        goal_id = rows[0]["id"]
        await Goal.update({Goal.lineage: goal_id}).where(Goal.id == goal_id).run()
        await _touch(plan_id)
        await audit_record(actor=actor, action="careplan.goal_added", facility_id=plan["facility_id"],
                           client_id=plan["client"], object_type="care_goal", object_id=goal_id)
    return goal_id


async def goal_update(*, actor: Actor, plan_id: int, goal_id: int, version: int, details: GoalDetails) -> list[str]:
    async with db.transaction():
        plan = await _draft(plan_id)
        stored = await Goal.select().where((Goal.id == goal_id) & (Goal.plan == plan_id)).first().run()
        if stored is None:
            raise PlanError("goal", _("This goal is not part of the draft."))
        if stored["version"] != version:
            raise PlanVersionConflict(stored)
        changed = [f for f in queries.GOAL_FIELDS if getattr(details, f) != stored[f]]
        if not changed:
            return []
        await db.update_versioned(Goal, {getattr(Goal, f): getattr(details, f) for f in changed},
                                  where=Goal.id == goal_id, version=version, conflict=PlanVersionConflict(stored))
        await _touch(plan_id)
        await audit_record(actor=actor, action="careplan.goal_updated", facility_id=plan["facility_id"],
                           client_id=plan["client"], object_type="care_goal", object_id=goal_id,
                           detail={"fields": changed})
    return changed


async def goal_remove(*, actor: Actor, plan_id: int, goal_id: int) -> None:
    async with db.transaction():
        plan = await _draft(plan_id)
        await Goal.delete().where((Goal.id == goal_id) & (Goal.plan == plan_id)).run()
        await _touch(plan_id)
        await audit_record(actor=actor, action="careplan.goal_removed", facility_id=plan["facility_id"],
                           client_id=plan["client"], object_type="care_goal", object_id=goal_id)


# --- goal notes -------------------------------------------------------------------------------


class GoalNoteVersionConflict(VersionConflict):
    """The note was corrected since this correction began; `stored` is the note as it is now."""


def _note_body(body: str) -> str:
    body = body.strip()
    if not body:
        raise PlanError("body", _("Write the note: what happened towards this goal."))
    return body


async def goal_note_add(*, actor: Actor, facility_id: int, client_id: int, goal: dict, body: str) -> int:
    """Write a note against a goal (kept by the goal's lineage)."""
    body = _note_body(body)
    async with db.transaction():
        rows = await GoalNote.insert(GoalNote(client=client_id, goal_lineage=goal["lineage"], author=actor.user_id,
                                              body=body, created_at=clock.utcnow())).run()
        note_id = rows[0]["id"]
        await audit_record(actor=actor, action="careplan.goal_note_added", facility_id=facility_id,
                           client_id=client_id, object_type="care_goal_note", object_id=note_id,
                           detail={"goal": goal["lineage"], "length": len(body)})
    return note_id


async def goal_note_correct(*, actor: Actor, facility_id: int, client_id: int, note_id: int, version: int,
                            body: str) -> bool:
    """The author corrects their note; refused if it was corrected since `version`. False if nothing changed."""
    body = _note_body(body)
    async with db.transaction():
        stored = await queries.goal_note_of(client_id=client_id, note_id=note_id)
        if stored is None or stored["author_id"] != actor.user_id:
            raise PlanError("body", _("Only the person who wrote a note can correct it."))
        if stored["version"] != version:
            raise GoalNoteVersionConflict(stored)
        if stored["body"] == body:
            return False
        updated = await GoalNote.update({GoalNote.body: body, GoalNote.version: version + 1,
                                         GoalNote.corrected_at: clock.utcnow()}).where(
            (GoalNote.id == note_id) & (GoalNote.version == version)).returning(GoalNote.id).run()
        if not updated:
            raise GoalNoteVersionConflict(stored)
        await audit_record(actor=actor, action="careplan.goal_note_corrected", facility_id=facility_id,
                           client_id=client_id, object_type="care_goal_note", object_id=note_id,
                           detail={"version": version + 1, "length": len(body)})
    return True


# --- services ---------------------------------------------------------------------------------


def clash_message(other: dict, *, same_plan: bool) -> str:
    when = other["start_time"].strftime("%H:%M")
    if same_plan:
        return _("This worker already has another service of this plan at {time} on some of the same days. "
                 "Choose another time, other days or another worker.").format(time=when)
    # Only that the worker is busy then: the other client may be another team's, whom this coordinator may not see.
    return _("This worker is busy at {time} on some of the same days. Choose another time, other days or another "
             "worker.").format(time=when)


async def worker_clash(*, plan: dict, details: ServiceDetails, service_id: Optional[int] = None) -> Optional[str]:
    """Why the worker cannot take this service (another of theirs at the same time), or None."""
    if details.worker_id is None:
        return None
    rule = effective_rule({"weekdays": details.weekdays, "start_time": details.start_time,
                           "duration_minutes": details.duration_minutes, "starts_on": details.starts_on,
                           "ends_on": details.ends_on}, plan)
    for other in await queries.services_of(plan_id=plan["id"]):
        if other["id"] != service_id and other["worker_id"] == details.worker_id and \
                rules_overlap(rule, effective_rule(other, plan)):
            return clash_message(other, same_plan=True)
    for other in await queries.worker_services_elsewhere(worker_id=details.worker_id, client_id=plan["client"]):
        if rules_overlap(rule, effective_rule(other, queries.plan_dates(other))):
            return clash_message(other, same_plan=False)
    return None


async def service_add(*, actor: Actor, plan_id: int, details: ServiceDetails) -> int:
    async with db.transaction():
        plan = await _draft(plan_id)
        clash = await worker_clash(plan=plan, details=details)
        if clash:
            raise PlanError("worker_id", clash)
        values = {column._meta.name: value for column, value in details.columns().items()}
        rows = await Service.insert(Service(plan=plan_id, **values)).run()
        service_id = rows[0]["id"]
        await Service.update({Service.lineage: service_id}).where(Service.id == service_id).run()
        await _touch(plan_id)
        await audit_record(actor=actor, action="careplan.service_added", facility_id=plan["facility_id"],
                           client_id=plan["client"], object_type="care_service", object_id=service_id,
                           detail={"kind": details.kind})
    return service_id


async def service_update(*, actor: Actor, plan_id: int, service_id: int, version: int,
                         details: ServiceDetails) -> list[str]:
    async with db.transaction():
        plan = await _draft(plan_id)
        stored = await queries.service_of(plan_id=plan_id, service_id=service_id)
        if stored is None:
            raise PlanError("service", _("This service is not part of the draft."))
        if stored["version"] != version:
            raise PlanVersionConflict(stored)
        clash = await worker_clash(plan=plan, details=details, service_id=service_id)
        if clash:
            raise PlanError("worker_id", clash)
        changed = service_changed_fields(stored, details)
        if not changed:
            return []
        await db.update_versioned(Service, details.columns(), where=Service.id == service_id, version=version,
                                  conflict=PlanVersionConflict(stored))
        await _touch(plan_id)
        await audit_record(actor=actor, action="careplan.service_updated", facility_id=plan["facility_id"],
                           client_id=plan["client"], object_type="care_service", object_id=service_id,
                           detail={"fields": changed})
    return changed


async def service_remove(*, actor: Actor, plan_id: int, service_id: int) -> None:
    async with db.transaction():
        plan = await _draft(plan_id)
        await Service.delete().where((Service.id == service_id) & (Service.plan == plan_id)).run()
        await _touch(plan_id)
        await audit_record(actor=actor, action="careplan.service_removed", facility_id=plan["facility_id"],
                           client_id=plan["client"], object_type="care_service", object_id=service_id)


def service_values(service: dict) -> dict[str, Any]:
    """A stored service in the shape of ServiceDetails' fields, for comparing versions."""
    return {"kind": service["kind"], "worker_id": service["worker_id"], "provider_name": service["provider_name"],
            "weekdays": frozenset(service["weekday_set"]), "start_time": service["start_time"],
            "duration_minutes": service["duration_minutes"], "starts_on": service["starts_on"],
            "ends_on": service["ends_on"], "instructions": service["instructions"],
            "tasks": tuple(service["task_list"])}


def service_changed_fields(stored: dict, details: ServiceDetails) -> list[str]:
    values = service_values(stored)
    return [name for name in queries.SERVICE_FIELDS if getattr(details, name) != values[name]]


# --- what changes between versions ----------------------------------------------------------------


@dataclass
class PartChange:
    """One goal or service: added, removed or changed (with the fields that changed, old and new)."""

    kind: str  # "added" | "removed" | "changed"
    old: Optional[dict]
    new: Optional[dict]
    fields: list[tuple[str, Any, Any]] = field(default_factory=list)


@dataclass
class PlanChanges:
    plan_fields: list[tuple[str, Any, Any]]
    goals: list[PartChange]
    services: list[PartChange]

    def __bool__(self) -> bool:
        return bool(self.plan_fields or self.goals or self.services)


def _part_changes(old: list[dict], new: list[dict], compare: tuple[str, ...]) -> list[PartChange]:
    old_by = {part["lineage"]: part for part in old}
    new_by = {part["lineage"]: part for part in new}
    changes = []
    for lineage, part in new_by.items():
        before = old_by.get(lineage)
        if before is None:
            changes.append(PartChange("added", None, part))
            continue
        fields = [(name, before[name], part[name]) for name in compare if before[name] != part[name]]
        if fields:
            changes.append(PartChange("changed", before, part, fields))
    changes.extend(PartChange("removed", part, None) for lineage, part in old_by.items() if lineage not in new_by)
    return changes


SERVICE_COMPARED = ("kind", "worker_id", "provider_name", "weekday_set", "start_time", "duration_minutes",
                    "starts_on", "ends_on", "instructions", "task_list")


def plan_changes(old: Optional[dict], new: dict) -> PlanChanges:
    """What a new plan version changes compared with the previous one (None: everything is new)."""
    old = old or {"summary": "", "starts_on": None, "review_due": None, "ends_on": None, "goals": [],
                  "services": []}
    plan_fields = [(name, old[name], new[name]) for name in queries.PLAN_FIELDS if old[name] != new[name]]
    return PlanChanges(plan_fields=plan_fields,
                       goals=_part_changes(old["goals"], new["goals"], queries.GOAL_FIELDS),
                       services=_part_changes(old["services"], new["services"], SERVICE_COMPARED))


# --- activation and closing -------------------------------------------------------------------


async def activation_problems(*, plan: dict) -> list[str]:
    """What would stop the draft from becoming the active plan (checked again at activation)."""
    problems = []
    if plan["ends_on"] is not None and plan["ends_on"] < plan["starts_on"]:
        problems.append(_("The plan ends before it starts."))
    # An unchanged draft would make a version identical to the one in force.
    active = await queries.plan_in_status(client_id=plan["client"], status=PlanStatus.active)
    if active is not None and active["id"] != plan["id"] \
            and not plan_changes(await queries.plan_with_parts(plan_id=active["id"]), plan):
        problems.append(_("Nothing differs from the active version: change something first, or discard the draft."))
    for service in plan["services"]:
        if service["worker_id"] is None:
            continue
        rule = effective_rule(service, plan)
        for other in await queries.worker_services_elsewhere(worker_id=service["worker_id"], client_id=plan["client"]):
            if rules_overlap(rule, effective_rule(other, queries.plan_dates(other))):
                problems.append(_("{worker}: {message}").format(worker=service["worker_name"],
                                                                 message=clash_message(other, same_plan=False)))
                break
    return problems


async def plan_activate(*, actor: Actor, plan_id: int, revision: int) -> dict:
    """Make the draft the active plan; the previous active version is superseded.

    The client's visits still to come are planned again in the same transaction. Returns the
    changes against the previous version (also summarised in the audit trail) and what the
    schedule changed.
    """
    async with db.transaction():
        draft = await _draft(plan_id)
        if draft["revision"] != revision:
            raise PlanVersionConflict(draft)
        plan = await queries.plan_with_parts(plan_id=plan_id)
        problems = await activation_problems(plan=plan)
        if problems:
            raise PlanError("plan", " ".join(problems))
        previous = await queries.plan_in_status(client_id=draft["client"], status=PlanStatus.active)
        if previous is not None:
            previous = await queries.plan_with_parts(plan_id=previous["id"])
            await CarePlan.update({CarePlan.status: PlanStatus.superseded.value, CarePlan.updated_at: clock.utcnow()}
                                  ).where(CarePlan.id == previous["id"]).run()
        now = clock.utcnow()
        await db.update_versioned(CarePlan, {
            CarePlan.status: PlanStatus.active.value, CarePlan.activated_at: now, CarePlan.activated_by: actor.user_id,
            CarePlan.updated_at: now,
        }, where=(CarePlan.id == plan_id) & (CarePlan.status == PlanStatus.draft.value), version=revision,
            column=CarePlan.revision, conflict=PlanVersionConflict(draft))
        changes = plan_changes(previous, plan)
        await client_review_due_set(actor=actor, client_id=draft["client"], review_due=plan["review_due"])
        await audit_record(actor=actor, action="careplan.activated", facility_id=draft["facility_id"],
                           client_id=draft["client"], object_type="care_plan", object_id=plan_id,
                           detail={"version": plan["version"],
                                   "superseded": previous["version"] if previous else None,
                                   "fields": [name for name, _old, _new in changes.plan_fields],
                                   "goals": dict(Counter(c.kind for c in changes.goals)),
                                   "services": dict(Counter(c.kind for c in changes.services))})
        schedule = await schedule_update(client_id=draft["client"])
    return {"client_id": draft["client"], "changes": changes, "schedule": schedule}


async def plan_close(*, actor: Actor, plan_id: int, reason: str) -> Any:
    """Care has ended: the active plan is closed and its visits still to come are removed, in one transaction.

    Returns what the schedule changed.
    """
    async with db.transaction():
        plan = await CarePlan.select(CarePlan.client, CarePlan.status, CarePlan.version,
                                     CarePlan.client.facility.as_alias("facility_id")).where(
            CarePlan.id == plan_id).first().run()
        if plan is None or plan["status"] != PlanStatus.active.value:
            raise PlanError("plan", _("Only the active plan can be closed."))
        now = clock.utcnow()
        # Only while still active: of two closings at once, the second changes nothing and says so.
        closed = await CarePlan.update({CarePlan.status: PlanStatus.closed.value, CarePlan.closed_at: now,
                                        CarePlan.closed_by: actor.user_id, CarePlan.close_reason: reason,
                                        CarePlan.updated_at: now}).where(
            (CarePlan.id == plan_id) & (CarePlan.status == PlanStatus.active.value)).returning(CarePlan.id).run()
        if not closed:
            raise PlanError("plan", _("This plan was already closed."))
        await audit_record(actor=actor, action="careplan.closed", facility_id=plan["facility_id"],
                           client_id=plan["client"], object_type="care_plan", object_id=plan_id,
                           detail={"version": plan["version"]})
        return await schedule_update(client_id=plan["client"])


async def plan_review_due_set(*, actor: Actor, client_id: int, review_due: date) -> Optional[int]:
    """The next review date of the client's active plan, set when a review is finished; the plan's id, or None."""
    async with db.transaction():
        plan = await CarePlan.select(CarePlan.id, CarePlan.review_due, CarePlan.client.facility.as_alias("facility_id"),
                                     ).where((CarePlan.client == client_id)
                                             & (CarePlan.status == PlanStatus.active.value)).first().run()
        if plan is None:
            return None
        if plan["review_due"] != review_due:
            await CarePlan.update({CarePlan.review_due: review_due, CarePlan.updated_at: clock.utcnow()}).where(
                CarePlan.id == plan["id"]).run()
            await audit_record(actor=actor, action="careplan.review_due_set", facility_id=plan["facility_id"],
                               client_id=client_id, object_type="care_plan", object_id=plan["id"],
                               detail={"review_due": review_due.isoformat()})
        await client_review_due_set(actor=actor, client_id=client_id, review_due=review_due)
    return plan["id"]
