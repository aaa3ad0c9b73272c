"""Writes and rules for care reviews: starting one with its figures, the judgement, finishing (signed,
locked, the plan's next review date, a new draft plan from the judgement), addenda, family input."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Optional

from app import clock, db
from app.audit.services import Actor, audit_record
from app.careplans import queries as plans
from app.careplans import services as plan_services
from app.careplans.tables import PlanStatus
from app.errors import FieldError, VersionConflict
from app.i18n import _
from app.mail.services import outbox_enqueue
from app.web.links import absolute_link
from app.web.submissions import created_once
from app.reviews import queries
from app.reviews.tables import Appropriate, FamilyReviewInput, Review, ReviewAddendum, ReviewStatus

SERVICE_CHANGES = ("stop", "retime")


class ReviewError(FieldError):
    """A rule refused the change; `field` names the form field the message belongs next to."""


class ReviewVersionConflict(VersionConflict):
    """Someone saved this review since the edit began; `stored` is how it is now."""


@dataclass(frozen=True)
class Judgement:
    """Section 5 of a review: the coordinator's judgement, as typed and validated (forms.judgement_form)."""

    appropriate: str = ""
    reasons: str = ""
    care_until: Optional[date] = None
    ongoing: bool = True
    days_times: str = ""
    treatment_add: str = ""
    treatment_stop: str = ""
    # ({"lineage": service lineage, "change": "stop" | "retime", "note": ""}, ...)
    service_changes: tuple[dict, ...] = ()
    # ({"what": "", "owner": "", "due": "YYYY-MM-DD"}, ...)
    actions: tuple[dict, ...] = ()
    next_review_due: Optional[date] = None
    change_plan: bool = False
    family_summary: str = ""
    summary_shared: bool = False

    def columns(self) -> dict[Any, Any]:
        return {Review.appropriate: self.appropriate, Review.reasons: self.reasons,
                Review.care_until: None if self.ongoing else self.care_until, Review.ongoing: self.ongoing,
                Review.days_times: self.days_times, Review.treatment_add: self.treatment_add,
                Review.treatment_stop: self.treatment_stop,
                Review.service_changes: json.dumps(list(self.service_changes), ensure_ascii=False),
                Review.actions: json.dumps(list(self.actions), ensure_ascii=False),
                Review.next_review_due: self.next_review_due, Review.change_plan: self.change_plan,
                Review.family_summary: self.family_summary, Review.summary_shared: self.summary_shared}


def finish_problems(judgement: Judgement, *, today: date) -> dict[str, str]:
    """What must be put right before a review can be signed, by the field the message belongs next to."""
    problems: dict[str, str] = {}
    if judgement.appropriate not in {a.value for a in Appropriate}:
        problems["appropriate"] = _("Say whether the care is appropriate.")
    elif judgement.appropriate != Appropriate.yes.value and not judgement.reasons.strip():
        problems["reasons"] = _("Say why the care needs to change.")
    if not judgement.ongoing and judgement.care_until is None:
        problems["care_until"] = _("Give the date care is needed until, or choose “ongoing”.")
    elif not judgement.ongoing and judgement.care_until is not None and judgement.care_until < today:
        problems["care_until"] = _("Care cannot end before today.")
    if judgement.next_review_due is None:
        problems["next_review_due"] = _("Give the date of the next review.")
    elif judgement.next_review_due <= today:
        problems["next_review_due"] = _("The next review must be after today.")
    if judgement.summary_shared and not judgement.family_summary.strip():
        problems["family_summary"] = _("Write the summary the family will read, or do not share one.")
    return problems


# --- starting and saving ----------------------------------------------------------------------------


async def review_start(*, actor: Actor, client_id: int, today: date, tz: str, grace: timedelta, key: str = "") -> int:
    """The client's draft review (the one open, or a new one with its figures); returns its number.

    `key` is the form's idempotency key: the same form sent again answers with the review it started.
    """
    try:
        return await created_once(user_id=actor.user_id, form="review_start", key=key, create=lambda: (
            _review_create(actor=actor, client_id=client_id, today=today, tz=tz, grace=grace)))
    except db.UNIQUE_VIOLATIONS:
        # Two people started a review at the same moment: the one-draft index kept one.
        existing = await queries.review_draft_of(client_id=client_id)
        if existing is None:
            raise
        return existing["number"]


async def _review_create(*, actor: Actor, client_id: int, today: date, tz: str, grace: timedelta) -> int:
    existing = await queries.review_draft_of(client_id=client_id)
    if existing is not None:
        return existing["number"]
    last = await queries.last_finished_review(client_id=client_id)
    plan = await plans.plan_in_status(client_id=client_id, status=PlanStatus.active)
    start, end = queries.review_period(last_period_end=last["period_end"] if last else None,
                                       plan_starts_on=plan["starts_on"] if plan else None, today=today)
    facts = await queries.review_figures(client_id=client_id, period_start=start, period_end=end, tz=tz, grace=grace,
                                         now=clock.utcnow())
    async with db.transaction():
        numbers = await Review.select(Review.number).where(Review.client == client_id).order_by(
            Review.number, ascending=False).first().run()
        number = (numbers["number"] + 1) if numbers else 1
        now = clock.utcnow()
        await Review.insert(Review(
            client=client_id, number=number, status=ReviewStatus.draft.value, period_start=start, period_end=end,
            due_on=plan["review_due"] if plan else None, figures=json.dumps(facts, ensure_ascii=False),
            created_by=actor.user_id, created_at=now, updated_at=now,
        )).run()
        await audit_record(actor=actor, action="review.started", client_id=client_id, object_type="care_review",
                           object_id=f"{client_id}/{number}",
                           detail={"period": [start.isoformat(), end.isoformat()]})
    return number


async def _draft_for_change(review_id: int, version: int) -> dict:
    stored = await queries.review_by_id(review_id=review_id)
    if stored is None or stored["status"] != ReviewStatus.draft.value:
        raise ReviewError("review", _("This review is finished and locked; add an addendum to correct it."))
    if stored["version"] != version:
        raise ReviewVersionConflict(stored)
    return stored


async def review_save(*, actor: Actor, review_id: int, version: int, judgement: Judgement) -> int:
    """Save the judgement of a draft review; refused with ReviewVersionConflict if it moved on. The new version."""
    async with db.transaction():
        stored = await _draft_for_change(review_id, version)
        await db.update_versioned(Review, {**judgement.columns(), Review.updated_at: clock.utcnow()},
                                  where=(Review.id == review_id) & (Review.status == ReviewStatus.draft.value),
                                  version=version, conflict=ReviewVersionConflict(stored))
        await audit_record(actor=actor, action="review.saved", client_id=stored["client"], object_type="care_review",
                           object_id=f"{stored['client']}/{stored['number']}", detail={"version": version + 1})
    return version + 1


@dataclass(frozen=True)
class Finished:
    client_id: int
    number: int
    draft_plan_id: Optional[int] = None
    stopped: list[str] = field(default_factory=list)


async def review_finish(*, actor: Actor, review_id: int, version: int, judgement: Judgement, today: date) -> Finished:
    """Sign and lock the review, set the plan's next review date; with "change the plan", open a draft plan
    version pre-filled from the judgement (services to stop end today; those to re-time are marked)."""
    problems = finish_problems(judgement, today=today)
    if problems:
        name, message = next(iter(problems.items()))
        raise ReviewError(name, message)
    async with db.transaction():
        stored = await _draft_for_change(review_id, version)
        now = clock.utcnow()
        await db.update_versioned(Review, {
            **judgement.columns(), Review.status: ReviewStatus.finished.value, Review.signed_by: actor.user_id,
            Review.signed_at: now, Review.updated_at: now,
        }, where=(Review.id == review_id) & (Review.status == ReviewStatus.draft.value), version=version,
            conflict=ReviewVersionConflict(stored))
        client_id = stored["client"]
        # The family's answers for this review date are now part of it.
        if stored["due_on"] is not None:
            await FamilyReviewInput.update({FamilyReviewInput.review: review_id}).where(
                (FamilyReviewInput.client == client_id) & (FamilyReviewInput.due_on == stored["due_on"])
                & FamilyReviewInput.review.is_null()).run()
        await plan_services.plan_review_due_set(actor=actor, client_id=client_id,
                                                review_due=judgement.next_review_due)
        await audit_record(actor=actor, action="review.finished", client_id=client_id, object_type="care_review",
                           object_id=f"{client_id}/{stored['number']}",
                           detail={"appropriate": judgement.appropriate, "summary_shared": judgement.summary_shared,
                                   "next_review_due": judgement.next_review_due.isoformat(),
                                   "change_plan": judgement.change_plan})
    if not judgement.change_plan:
        return Finished(client_id=client_id, number=stored["number"])
    draft_id, stopped = await plan_draft_from_review(actor=actor, client_id=client_id, number=stored["number"],
                                                     judgement=judgement, today=today)
    return Finished(client_id=client_id, number=stored["number"], draft_plan_id=draft_id, stopped=stopped)


def plan_note(*, number: int, today: date, judgement: Judgement, services: dict[int, dict]) -> str:
    """The lines a review adds to the draft plan's summary, so the plan says why it changes."""
    lines = [_("Review %(number)d (%(day)s): %(judgement)s.") % {
        "number": number, "day": today.isoformat(),
        "judgement": {"yes": _("care appropriate"), "change": _("change needed"), "no": _("care not appropriate")}
        .get(judgement.appropriate, judgement.appropriate)}]
    if judgement.reasons.strip():
        lines.append(judgement.reasons.strip())
    for change in judgement.service_changes:
        service = services.get(change["lineage"])
        if service is None:
            continue
        what = f"{service['kind'].replace('_', ' ')} {service['time_range']}"
        template = _("Stop: %(service)s.") if change["change"] == "stop" else _("Re-time: %(service)s.")
        lines.append((template % {"service": what}) + (f" {change['note']}" if change.get("note") else ""))
    if judgement.days_times.strip():
        lines.append(_("Days and times: %(text)s") % {"text": judgement.days_times.strip()})
    if judgement.treatment_add.strip():
        lines.append(_("Add: %(text)s") % {"text": judgement.treatment_add.strip()})
    if judgement.treatment_stop.strip():
        lines.append(_("Stop: %(text)s") % {"text": judgement.treatment_stop.strip()})
    return "\n".join(lines)


async def plan_draft_from_review(*, actor: Actor, client_id: int, number: int, judgement: Judgement,
                                 today: date) -> tuple[int, list[str]]:
    """A new draft plan version from the judgement, through the care-plan services: how long care is
    needed, the next review date, the review's note in the summary, services to stop ending today."""
    plan_id = await plan_services.plan_draft_start(actor=actor, client_id=client_id, today=today)
    draft = await plans.plan_with_parts(plan_id=plan_id)
    services = {s["lineage"]: s for s in draft["services"]}
    note = plan_note(number=number, today=today, judgement=judgement, services=services)
    summary = f"{draft['summary'].rstrip()}\n\n{note}".strip()
    await plan_services.plan_details_update(
        actor=actor, plan_id=plan_id, revision=draft["revision"],
        details=plan_services.PlanDetails(summary=summary, starts_on=draft["starts_on"],
                                          review_due=judgement.next_review_due,
                                          ends_on=None if judgement.ongoing else judgement.care_until))
    stopped = []
    for change in judgement.service_changes:
        service = services.get(change["lineage"])
        if change["change"] != "stop" or service is None:
            continue
        values = plan_services.service_values(service)
        values["ends_on"] = max(today, values["starts_on"])
        await plan_services.service_update(actor=actor, plan_id=plan_id, service_id=service["id"],
                                           version=service["version"],
                                           details=plan_services.ServiceDetails(**values))
        stopped.append(service["kind"])
    return plan_id, stopped


# --- after signing ------------------------------------------------------------------------------------


async def review_addendum_add(*, actor: Actor, review_id: int, body: str) -> int:
    """A correction or addition to a finished review (the review stays as signed); the addendum's number."""
    if not body.strip():
        raise ReviewError("body", _("Write the correction or addition."))
    async with db.transaction():
        stored = await queries.review_by_id(review_id=review_id)
        if stored is None or stored["status"] != ReviewStatus.finished.value:
            raise ReviewError("body", _("Only a finished review takes addenda; a draft can still be changed."))
        last = await ReviewAddendum.select(ReviewAddendum.number).where(ReviewAddendum.review == review_id).order_by(
            ReviewAddendum.number, ascending=False).first().run()
        number = (last["number"] + 1) if last else 1
        await ReviewAddendum.insert(ReviewAddendum(review=review_id, number=number, body=body.strip(),
                                                   author=actor.user_id, created_at=clock.utcnow())).run()
        await Review.update({Review.version: Review.version + 1, Review.updated_at: clock.utcnow()}).where(
            Review.id == review_id).run()
        await audit_record(actor=actor, action="review.addendum_added", client_id=stored["client"],
                           object_type="care_review", object_id=f"{stored['client']}/{stored['number']}",
                           detail={"addendum": number})
    return number


# --- the family's view --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FamilyAnswers:
    going_well: str = ""
    worries: str = ""
    change: str = ""


async def family_input_save(*, actor: Actor, client_id: int, due_on: date, answers: FamilyAnswers) -> int:
    """A family member's answers before the review of `due_on` (saved again as often as they like until it is done);
    returns the answers' row."""
    async with db.transaction():
        stored = await queries.family_input_of(client_id=client_id, user_id=actor.user_id, due_on=due_on)
        if stored is not None and stored["review"] is not None:
            raise ReviewError("going_well", _("This review has been done; your answers are part of it."))
        now = clock.utcnow()
        values = {FamilyReviewInput.going_well: answers.going_well, FamilyReviewInput.worries: answers.worries,
                  FamilyReviewInput.change: answers.change, FamilyReviewInput.updated_at: now}
        if stored is None:
            rows = await FamilyReviewInput.insert(FamilyReviewInput(
                client=client_id, user=actor.user_id, due_on=due_on, going_well=answers.going_well,
                worries=answers.worries, change=answers.change, created_at=now, updated_at=now,
            )).run()
            input_id = rows[0]["id"]
        else:
            input_id = stored["id"]
            await FamilyReviewInput.update({**values, FamilyReviewInput.version: FamilyReviewInput.version + 1}).where(
                FamilyReviewInput.id == input_id).run()
        await audit_record(actor=actor, action="review.family_input_saved", client_id=client_id,
                           object_type="family_review_input", object_id=f"{client_id}/{due_on.isoformat()}")
    return input_id


async def review_input_invitations_enqueue(*, now: Optional[datetime] = None) -> int:
    """Email each linked family member allowed to see the schedule, once per review date, when its
    family input opens. The row that marks the notice and the email are written in one transaction."""
    now = now or clock.utcnow()
    sent = 0
    for person in await queries.family_input_invitees(now=now):
        try:
            async with db.transaction():
                await FamilyReviewInput.insert(FamilyReviewInput(
                    client=person["client_id"], user=person["user_id"], due_on=person["review_due"],
                    notified_at=now, created_at=now, updated_at=now)).run()
                await outbox_enqueue(
                    kind="review_input", to_address=person["email"],
                    subject=_("Your view before %(name)s's care review") % {"name": person["client_first_name"]},
                    body=_("Hello %(person)s,\n\n%(name)s's care is reviewed on %(day)s. If you would like to, tell "
                           "the care coordinator what is going well, what worries you and what you would change:\n"
                           "%(link)s\n\nIt is optional; the review goes ahead either way.") % {
                        "person": person["display_name"], "name": person["client_first_name"],
                        "day": person["review_due"].strftime("%d %B %Y"), "link": absolute_link("/family/reviews")})
        except db.UNIQUE_VIOLATIONS:
            continue  # another process asked this person already
        sent += 1
    return sent
