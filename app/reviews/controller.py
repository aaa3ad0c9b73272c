"""Care reviews: the list of reviews due, a client's reviews, the guided review form, printing, and the
family's view before a review."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Optional

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app.careplans import forms as plan_forms
from app.careplans import queries as plans
from app.careplans.tables import PlanStatus
from app.clients import queries as clients
from app.i18n import _
from app.liaison.forms import disclose_form
from app.liaison.services import disclosure_record
from app.policy import ClientRelation, can, can_on
from app.reviews import forms, queries, services
from app.reviews.tables import ReviewStatus
from app.web.auth import actor_of
from app.web.forms import Form, keyed, submitted_key
from app.clients.records import record_viewed, relation_for, today, wants_fragment
from app.web.sessions import flash_push
from app.web.submissions import created_once

# The next review is suggested this many days after the one being finished.
NEXT_REVIEW_DAYS = 182
# What of the client's record a printed review carries, in the disclosure log's terms.
REVIEW_SECTIONS = ("plan", "visits")


@get("/reviews", opt={"action": "reviews.list"})
async def reviews_page(request: Request, sort: FromQuery[str] = "due", page: FromQuery[int] = 1) -> Template:
    """The reviews due within two weeks and every overdue one: a coordinator's care teams, an admin's facility."""
    user = request.user
    sort = sort if sort in clients.REVIEW_SORTS else "due"
    rows, total, page = await clients.reviews_due_for(
        user=user, all_clients=can(user, "client.list_all"), today=today(request),
        until=today(request) + timedelta(days=queries.DUE_SOON_DAYS), sort=sort, page=page,
        page_size=queries.REVIEWS_PAGE_SIZE)
    waiting = await queries.family_input_waiting_counts(client_ids=[r["id"] for r in rows])
    for row in rows:
        row["family_input"] = waiting.get(row["id"], 0)
    pages = max(1, -(-total // queries.REVIEWS_PAGE_SIZE))
    context = {"rows": rows, "total": total, "page": page, "pages": pages, "sort": sort,
               "filter_form": Form(values={"sort": sort}),
               "all_clients": can(user, "client.list_all")}
    if wants_fragment(request):
        return Template("reviews/_review_rows.html", context=context)
    return Template("reviews/reviews.html", context=context)


@get("/reviews/count", opt={"action": "reviews.list", "background": True})
async def reviews_count(request: Request) -> Template:
    """How many reviews are overdue and due soon, for the caseload's "needs attention"."""
    user = request.user
    counts = await clients.review_due_counts(user=user, all_clients=can(user, "client.list_all"),
                                             today=today(request),
                                             soon=today(request) + timedelta(days=queries.DUE_SOON_DAYS))
    return Template("reviews/_review_count.html", context={"counts": counts})


class ClientReviewsController(Controller):
    path = "/clients/{client_id:int}/reviews"

    @get("/", opt={"action": "client.reviews.view"})
    async def reviews_of_client(self, request: Request, client_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "client.reviews.view")
        await record_viewed(request, relation, "reviews")
        plan = await plans.plan_in_status(client_id=client_id, status=PlanStatus.active)
        return Template("reviews/client_reviews.html", context={
            "client": await clients.client_name(client_id=client_id),
            "reviews": await queries.reviews_of(client_id=client_id), "plan": plan,
            "may_edit": can_on(request.user, "client.reviews.edit", relation), "labels": forms.labels(),
            "review_state": plans.review_state(plan["review_due"] if plan else None, today(request)),
            "start_form": keyed(Form()),
        })

    @post("/", opt={"action": "client.reviews.edit"})
    async def review_start(self, request: Request, client_id: FromPath[int]) -> Redirect:
        await relation_for(request, client_id, "client.reviews.edit")
        data = await request.form()
        number = await services.review_start(actor=actor_of(request), client_id=client_id, today=today(request),
                                             tz=request.user.timezone, grace=request.user.visit_grace,
                                             key=submitted_key(data))
        return Redirect(path=f"/clients/{client_id}/reviews/{number}", status_code=303)

    async def _review(self, client_id: int, number: int) -> dict:
        review = await queries.review_of(client_id=client_id, number=number)
        if review is None:
            raise NotFoundException()
        return review

    async def _page(self, request: Request, relation: ClientRelation, review: dict, *, form: Optional[Form] = None,
                    addendum_form: Optional[Form] = None, disclose_form: Optional[Form] = None, status: int = 200, conflict: bool = False,
                    template: str = "reviews/review.html") -> Template:
        client_id = relation.client_id
        plan = await plans.plan_in_status(client_id=client_id, status=PlanStatus.active)
        services_now = await plans.services_of(plan_id=plan["id"]) if plan else []
        suggested = today(request) + timedelta(days=NEXT_REVIEW_DAYS)
        form = form or Form(values=forms.review_values(review, suggested_next=suggested))
        return Template(template, status_code=status, context={
            "client": await clients.client_name(client_id=client_id), "review": review, "facts": review["figures"],
            "plan": plan, "services_now": services_now, "form": form,
            "services_by_lineage": {s["lineage"]: f"{forms.labels()['kinds'].get(s['kind'], s['kind'])} {s['time_range']}"
                                    for s in services_now}, "addendum_form": addendum_form or keyed(Form()),
            "disclose_form": disclose_form or Form(), "may_disclose": can_on(request.user, "client.disclose", relation),
            "action_rows": forms.action_rows(len(review["actions"])), "labels": forms.labels(),
            "family_inputs": await queries.family_inputs_for_review(client_id=client_id, due_on=review["due_on"],
                                                                     review_id=review["id"]),
            "addenda": await queries.addenda_of(review_id=review["id"]),
            "may_edit": can_on(request.user, "client.reviews.edit", relation),
            "locked": review["status"] == ReviewStatus.finished.value, "conflict": conflict,
        })

    @get("/{number:int}", opt={"action": "client.reviews.view"})
    async def review_page(self, request: Request, client_id: FromPath[int], number: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "client.reviews.view")
        review = await self._review(client_id, number)
        await record_viewed(request, relation, "review", review=number)
        return await self._page(request, relation, review)

    @get("/{number:int}/print", opt={"action": "client.reviews.view"})
    async def review_print(self, request: Request, client_id: FromPath[int], number: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "client.reviews.view")
        review = await self._review(client_id, number)
        await record_viewed(request, relation, "review_print", review=number)
        return await self._page(request, relation, review, template="reviews/print.html")

    @post("/{number:int}/print", opt={"action": "client.disclose"})
    async def review_disclose(self, request: Request, client_id: FromPath[int], number: FromPath[int]) -> Template | Redirect:
        """Giving the printed review to someone outside the team is recorded as a disclosure."""
        relation = await relation_for(request, client_id, "client.disclose")
        review = await self._review(client_id, number)
        form, chosen = disclose_form(await request.form())
        if chosen is None:
            return await self._page(request, relation, review, disclose_form=form, status=422,
                                    template="reviews/print.html")
        await disclosure_record(actor=actor_of(request), client_id=client_id, kind="print",
                                sections=REVIEW_SECTIONS, recipient=chosen["recipient"],
                                reason=_("Care review %(n)d: %(reason)s") % {"n": number, "reason": chosen["reason"]})
        await flash_push(session_id=request.user.session_id,
                         message=_("Recorded: this review was given to %(recipient)s.") % {
                             "recipient": chosen["recipient"]})
        return Redirect(path=f"/clients/{client_id}/reviews/{number}/print", status_code=303)

    @post("/{number:int}", opt={"action": "client.reviews.edit"})
    async def review_save(self, request: Request, client_id: FromPath[int], number: FromPath[int]) -> Template | Redirect:
        relation = await relation_for(request, client_id, "client.reviews.edit")
        review = await self._review(client_id, number)
        data = await request.form()
        lineages = [s["lineage"] for s in await self._services(client_id)]
        form, judgement = forms.judgement_form(data, lineages=lineages, action_count=len(review["actions"]))
        version = forms.version_of(form)
        finishing = data.get("finish") is not None
        if finishing:
            for name, message in services.finish_problems(judgement, today=today(request)).items():
                form.error(name, message)
        if not form.ok or version is None:
            return await self._page(request, relation, review, form=form, status=422)
        try:
            if finishing:
                finished = await services.review_finish(actor=actor_of(request), review_id=review["id"],
                                                        version=version, judgement=judgement, today=today(request))
            else:
                await services.review_save(actor=actor_of(request), review_id=review["id"], version=version,
                                           judgement=judgement)
        except services.ReviewVersionConflict as conflict:
            stored = conflict.stored
            form.values["version"] = str(stored["version"])
            return await self._page(request, relation, await self._review(client_id, number), form=form,
                                    status=409, conflict=True)
        except services.ReviewError as error:
            form.error(error.field, error.message)
            return await self._page(request, relation, review, form=form, status=422)
        if not finishing:
            await flash_push(session_id=request.user.session_id, message=_("The review was saved."))
            return Redirect(path=f"/clients/{client_id}/reviews/{number}", status_code=303)
        if finished.draft_plan_id is not None:
            await flash_push(session_id=request.user.session_id, message=_(
                "The review is signed and locked. A new draft of the plan is ready from your judgement: check it, "
                "then activate it."))
            return Redirect(path=f"/clients/{client_id}/plan", status_code=303)
        await flash_push(session_id=request.user.session_id, message=_("The review is signed and locked."))
        return Redirect(path=f"/clients/{client_id}/reviews/{number}", status_code=303)

    async def _services(self, client_id: int) -> list[dict]:
        plan = await plans.plan_in_status(client_id=client_id, status=PlanStatus.active)
        return await plans.services_of(plan_id=plan["id"]) if plan else []

    @post("/{number:int}/addenda", opt={"action": "client.reviews.edit"})
    async def addendum_add(self, request: Request, client_id: FromPath[int], number: FromPath[int]) -> Template | Redirect:
        relation = await relation_for(request, client_id, "client.reviews.edit")
        review = await self._review(client_id, number)
        data = await request.form()
        form, body = forms.addendum_form(data)
        keyed(form, data)
        if body is None:
            return await self._page(request, relation, review, addendum_form=form, status=422)
        actor = actor_of(request)
        try:
            await created_once(user_id=actor.user_id, form="review_addendum", key=submitted_key(data), create=lambda: (
                services.review_addendum_add(actor=actor, review_id=review["id"], body=body)))
        except services.ReviewError as error:
            form.error(error.field, error.message)
            return await self._page(request, relation, review, addendum_form=form, status=422)
        await flash_push(session_id=request.user.session_id, message=_("The addendum was added to the review."))
        return Redirect(path=f"/clients/{client_id}/reviews/{number}", status_code=303)

    @get("/{number:int}/summary", opt={"action": "client.review.summary"})
    async def review_summary(self, request: Request, client_id: FromPath[int], number: FromPath[int]) -> Template:
        """The summary of a finished review, for the family, when the coordinator shared it."""
        relation = await clients.client_relation(user=request.user, client_id=client_id, today=today(request))
        if relation is None:
            raise NotFoundException()
        # Whether the family may read it depends on the review itself (finished and shared): the selector asks.
        review = await queries.review_summary_for(user=request.user, relation=relation, number=number)
        if review is None:
            raise NotFoundException()
        await record_viewed(request, relation, "review_summary", review=number)
        return Template("reviews/summary.html", context={
            "client": await clients.client_name(client_id=client_id), "review": review})


class FamilyReviewsController(Controller):
    """Before a review, the family's view; after it, the summaries the coordinator shared."""

    path = "/family/reviews"

    async def _page(self, request: Request, *, forms_by_client: Optional[dict[int, Form]] = None,
                    status: int = 200) -> Template:
        user = request.user
        day = today(request)
        items = []
        for relation in await clients.client_relations_of(user=user, today=day):
            client = await clients.client_record(client_id=relation.client_id, confidential=True)
            due = client["review_due"]
            may_answer = can_on(user, "client.review.family_input", relation) and queries.family_input_open(
                review_due=due, today=day)
            stored = await queries.family_input_of(client_id=relation.client_id, user_id=user.id,
                                                   due_on=due) if may_answer else None
            form = (forms_by_client or {}).get(relation.client_id) or keyed(Form(values={
                name: (stored or {}).get(name, "") for name in forms.FAMILY_FIELDS}))
            items.append({"client_id": relation.client_id, "name": clients.display_name(client),
                          "review_due": due if may_answer else None, "form": form,
                          "answered": bool(stored and any(stored[n] for n in forms.FAMILY_FIELDS)),
                          "summaries": await queries.shared_review_summaries(client_id=relation.client_id)})
        context = {"items": items}
        if wants_fragment(request) and forms_by_client is None:
            return Template("reviews/_family_reviews.html", context=context, status_code=status)
        return Template("reviews/family.html", context=context, status_code=status)

    @get("/", opt={"action": "family.reviews"})
    async def family_reviews(self, request: Request) -> Template:
        return await self._page(request)

    @post("/{client_id:int}", opt={"action": "client.review.family_input"})
    async def family_input(self, request: Request, client_id: FromPath[int]) -> Template | Redirect:
        await relation_for(request, client_id, "client.review.family_input")
        client = await clients.client_record(client_id=client_id, confidential=True)
        data = await request.form()
        form, answers = forms.family_form(data)
        keyed(form, data)
        due: Optional[date] = client["review_due"]
        if not queries.family_input_open(review_due=due, today=today(request)):
            form.error("going_well", _("There is no review coming up to give your view for."))
        if answers is None or not form.ok:
            return await self._page(request, forms_by_client={client_id: form}, status=422)
        actor = actor_of(request)
        try:
            await created_once(user_id=actor.user_id, form="review_family_input", key=submitted_key(data),
                               create=lambda: services.family_input_save(actor=actor, client_id=client_id, due_on=due,
                                                                         answers=answers))
        except services.ReviewError as error:
            form.error(error.field, error.message)
            return await self._page(request, forms_by_client={client_id: form}, status=422)
        await flash_push(session_id=request.user.session_id,
                         message=_("Thank you: the care coordinator will read your answers at the review."))
        return Redirect(path="/family/reviews", status_code=303)
