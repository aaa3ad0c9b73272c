"""The caseload: the clients a person looks after, each with its next visit and what needs attention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Mapping

from litestar import Request, get
from litestar.response import Template
from piccolo.querystring import QueryString

from app import clock
from app.clients import queries as clients
from app.clients.queries import CASELOAD_REVIEW_FILTERS, CASELOAD_SORTS, CASELOAD_STATUSES, CaseloadFilter
from app.clients.records import today, wants_fragment
from app.i18n import _
from app.liaison.queries import overdue_referrals_count_sql
from app.messages.queries import unread_count_sql
from app.policy import can, route_allows
from app.reviews.queries import DUE_SOON_DAYS
from app.visits.queries import day_bounds, missed_count_sql, next_visit_sql, open_concerns_count_sql
from app.web.forms import Form, whole

# What the caseload counts for each client, in column order; each shown to those who may see it.
COUNTS = ("unread", "concerns", "missed", "referrals")
FLAGS = COUNTS + ("flagged",)  # checkboxes: "1" or absent
FILTER_FIELDS = ("q", "status", "review", "sort", "page") + FLAGS
SEARCH_MAX = 100
PAGE_MAX = 10_000


def caseload_counts(request: Request) -> dict[str, QueryString]:
    """The per-client counts this person may see, as SQL columns of the caseload's page query."""
    user = request.user
    counts: dict[str, QueryString] = {}
    if can(user, "caseload.unread_messages"):
        counts["unread"] = unread_count_sql(user_id=user.id)
    if can(user, "caseload.visit_alerts"):
        counts["concerns"] = open_concerns_count_sql()
        start, end = day_bounds(today(request), user.timezone)
        counts["missed"] = missed_count_sql(start=start, end=end, now=clock.utcnow())
    if can(user, "caseload.referral_alerts"):
        counts["referrals"] = overdue_referrals_count_sql(today=today(request))
    return counts


def caseload_form(params: Any, *, counts: Mapping[str, object]) -> tuple[Form, CaseloadFilter]:
    """The filters as asked for in the address; a value the page does not offer is dropped with a message."""
    form = Form.from_data(params, FILTER_FIELDS, limits={"q": SEARCH_MAX})
    values = form.values
    values["q"] = values["q"].strip()[:SEARCH_MAX]

    def offered(name: str, choices: tuple[str, ...], message: str) -> str:
        if values[name] not in choices:
            form.error(name, message)
            values[name] = ""
        return values[name]

    status = offered("status", CASELOAD_STATUSES, _("Choose one of the statuses offered."))
    review = offered("review", CASELOAD_REVIEW_FILTERS, _("Choose one of the care review filters offered."))
    sort = offered("sort", ("",) + CASELOAD_SORTS + tuple(counts), _("Choose one of the orders offered.")) or "name"
    for name in FLAGS:
        if name in COUNTS and name not in counts:
            offered(name, ("",), _("This filter is not offered to you."))
        else:
            offered(name, ("", "1"), _("Tick the box or leave it empty."))
    page = whole(values["page"], low=1, high=PAGE_MAX) if values["page"] else 1
    if page is None:
        form.error("page", _("Give a page number from 1 to {most}.").format(most=PAGE_MAX))
        values["page"], page = "", 1
    filters = CaseloadFilter(q=values["q"], status=status, review=review, flagged=values["flagged"] == "1",
                             needs=tuple(name for name in COUNTS if values[name] == "1"), sort=sort,
                             page=page)
    return form, filters


@get("/caseload", opt={"action": "caseload.view"})
async def caseload_page(request: Request) -> Template:
    user = request.user
    counts = caseload_counts(request)
    form, filters = caseload_form(request.query_params, counts=counts)
    caseload = await clients.caseload_for(
        user=user, all_clients=can(user, "client.list_all"), filters=filters, today=today(request),
        review_soon=today(request) + timedelta(days=DUE_SOON_DAYS),
        # Columns of the page query, so the next visit and the counts cost no query of their own.
        next_visit=next_visit_sql(after=clock.utcnow()), counts=counts,
    )
    query = {name: value for name, value in form.values.items() if value and name != "page"}
    if query.get("sort") == "name":
        del query["sort"]
    context = {"caseload": caseload, "filters": filters, "query": query, "filter_form": form,
               "counts": tuple(counts), "sorts": CASELOAD_SORTS + tuple(counts),
               # The filters above the table, each with how many clients it would show.
               "needs": tuple(counts) + ("overdue" if filters.review == "overdue" else "review", "flagged"),
               "all_clients": can(user, "client.list_all"), "may_create": can(user, "client.create"),
               "may_break_glass": route_allows(user, "client.break_glass"),
               "show_unanswered": can(user, "messages.unanswered"),
               "show_visit_alerts": can(user, "caseload.visit_alerts"),
               "show_referral_alerts": can(user, "caseload.referral_alerts"),
               "show_review_count": can(user, "reviews.list"), "fragment": wants_fragment(request)}
    status = 400 if form.errors else 200
    if context["fragment"]:
        return Template("clients/_caseload_rows.html", context=context, status_code=status)
    return Template("clients/caseload.html", context=context, status_code=status)
