"""The caseload: the clients a person looks after, each with its next visit and unread messages."""

from __future__ import annotations

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from app import clock
from app.accounts.tables import Role
from app.clients import queries as clients
from app.clients.queries import CASELOAD_SORTS, CASELOAD_STATUSES, CaseloadFilter
from app.clients.records import today, wants_fragment
from app.messages.queries import unread_count_sql
from app.policy import can, route_allows
from app.visits.queries import next_visit_sql
from app.web.forms import Form, query_text


@get("/caseload", opt={"action": "caseload.view"})
async def caseload_page(request: Request, q: FromQuery[str] = "", status: FromQuery[str] = "",
                        review: FromQuery[str] = "", flagged: FromQuery[str] = "", sort: FromQuery[str] = "name",
                        page: FromQuery[int] = 1) -> Template:
    user = request.user
    filters = CaseloadFilter(
        q=query_text(q, 100), status=status if status in CASELOAD_STATUSES else "", review_overdue=review == "overdue",
        flagged=flagged == "1", sort=sort if sort in CASELOAD_SORTS else "name", page=page,
    )
    caseload = await clients.caseload_for(
        user=user, all_clients=can(user, "client.list_all"), filters=filters, today=today(request),
        # Columns of the page query, so the next visit and the unread count cost no query of their own.
        next_visit=next_visit_sql(after=clock.utcnow()),
        unread_messages=unread_count_sql(user_id=user.id) if Role(user.role) == Role.coordinator else None,
    )
    query = {k: v for k, v in {"q": filters.q, "status": filters.status, "review": "overdue" if filters.review_overdue else "",
                               "flagged": "1" if filters.flagged else "", "sort": filters.sort}.items() if v}
    context = {"caseload": caseload, "filters": filters, "query": query, "filter_form": Form(values=query),
               "all_clients": can(user, "client.list_all"), "may_create": can(user, "client.create"),
               "may_break_glass": route_allows(user, "client.break_glass"),
               "show_unanswered": can(user, "messages.unanswered"),
               "show_visit_alerts": can(user, "caseload.visit_alerts"),
               "show_referral_alerts": can(user, "caseload.referral_alerts"),
               "show_review_count": can(user, "reviews.list")}
    if wants_fragment(request):
        return Template("clients/_caseload_rows.html", context=context)
    return Template("clients/caseload.html", context=context)
