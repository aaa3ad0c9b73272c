"""The directory, referrals, providers, disclosures, summaries, FHIR export and the two links for people
without an account (/r/{token} for agencies, /share/{token} for recipients): thin handlers."""

from __future__ import annotations

import json
from typing import Any, Awaitable, Optional

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from app import clock
from app.accounts.queries import facility_by_id
from app.clients import queries as clients
from app.i18n import _
from app.liaison import forms, queries, services
from app.liaison.fhir import fhir_bundle_for
from app.liaison.queries import ReferralFilter
from app.liaison.rules import AGENCY_STEPS, TRANSITIONS, ReferralStatus
from app.liaison.tables import AgencyKind
from app.policy import PUBLIC, ClientRelation, can, can_on
from app.web.auth import actor_of, client_address
from app.web.forms import Form, keyed, submitted_key, whole
from app.web.links import absolute_link
from app.clients.records import record_viewed, relation_for, today, wants_fragment
from app.web.sessions import flash_push
from app.web.submissions import created_once, link_created_once

REFERRAL_STATUSES = tuple(s.value for s in ReferralStatus)


def _clean(q: str) -> str:
    return q.strip()[:100]


# --- the directory ------------------------------------------------------------------------------


class AgencyController(Controller):
    path = "/agencies"

    async def _list(self, request: Request, form: Form, q: str = "", kind: str = "", archived: bool = False,
                    status: int = 200) -> Template:
        facility_id = request.user.facility_id
        context = {"agencies": await queries.agencies_for(facility_id=facility_id, q=q, kind=kind, archived=archived),
                   "filters": Form(values=forms.agency_filter_values(q, kind, archived)), "archived": archived,
                   "form": form, "labels": forms.labels(), "kinds": [k.value for k in AgencyKind],
                   "may_manage": can(request.user, "agencies.manage")}
        if wants_fragment(request) and status == 200:
            return Template("liaison/_agency_rows.html", context=context)
        return Template("liaison/agencies.html", context=context, status_code=status)

    @get("/", opt={"action": "agencies.view"})
    async def agencies_page(self, request: Request, q: FromQuery[str] = "", kind: FromQuery[str] = "",
                            archived: FromQuery[str] = "") -> Template:
        kind = kind if kind in {k.value for k in AgencyKind} else ""
        return await self._list(request, keyed(Form(values={"kind": "gp"})), q=_clean(q), kind=kind,
                                archived=archived == "1")

    @post("/", opt={"action": "agencies.manage"})
    async def agency_create(self, request: Request) -> Template | Redirect:
        data = await request.form()
        form, details = forms.agency_form(data)
        if details is None:
            return await self._list(request, keyed(form, data), status=422)
        actor = actor_of(request)
        agency_id = await created_once(user_id=actor.user_id, form="agency", key=submitted_key(data), create=lambda: (
            services.agency_create(actor=actor, facility_id=request.user.facility_id, details=details)))
        await flash_push(session_id=request.user.session_id, message=_("The agency was added."))
        return Redirect(path=f"/agencies/{agency_id}", status_code=303)

    async def _agency_or_404(self, request: Request, agency_id: int) -> dict:
        agency = await queries.agency_of(facility_id=request.user.facility_id, agency_id=agency_id)
        if agency is None:
            raise NotFoundException()
        return agency

    async def _agency(self, request: Request, agency: dict, form: Form, status: int = 200,
                      conflict: bool = False) -> Template:
        referrals = await queries.referrals_list(
            facility_id=request.user.facility_id, client_ids=await _managed_client_ids(request),
            filters=ReferralFilter(status="all", agency_id=agency["id"]), today=today(request))
        return Template("liaison/agency.html", context={
            "agency": agency, "form": form, "labels": forms.labels(), "referrals": referrals, "may_manage": can(request.user, "agencies.manage"), "conflict": conflict,
        }, status_code=status)

    @get("/{agency_id:int}", opt={"action": "agencies.view"})
    async def agency_page(self, request: Request, agency_id: FromPath[int]) -> Template:
        agency = await self._agency_or_404(request, agency_id)
        values = {k: str(agency[k]) for k in forms.AGENCY_FIELDS}
        return await self._agency(request, agency, Form(values=values))

    @post("/{agency_id:int}", opt={"action": "agencies.manage"})
    async def agency_update(self, request: Request, agency_id: FromPath[int]) -> Template | Redirect:
        agency = await self._agency_or_404(request, agency_id)
        form, details = forms.agency_form(await request.form())
        if details is None:
            return await self._agency(request, agency, form, status=422)
        try:
            await services.agency_update(actor=actor_of(request), facility_id=request.user.facility_id,
                                         agency_id=agency_id, version=forms.form_version(form), details=details)
        except services.AgencyVersionConflict as conflict:
            form.values["version"] = str(conflict.stored.get("version", ""))
            form.error("name", _("Someone changed this agency while you were editing. Check the details shown "
                                 "below, then save again to keep yours."))
            return await self._agency(request, conflict.stored, form, status=409, conflict=True)
        await flash_push(session_id=request.user.session_id, message=_("Changes saved."))
        return Redirect(path=f"/agencies/{agency_id}", status_code=303)

    @post("/{agency_id:int}/archive", opt={"action": "agencies.manage"})
    async def agency_archive(self, request: Request, agency_id: FromPath[int]) -> Redirect:
        agency = await self._agency_or_404(request, agency_id)
        archive = agency["archived_at"] is None
        await services.agency_archive(actor=actor_of(request), facility_id=request.user.facility_id,
                                      agency_id=agency_id, archived=archive)
        await flash_push(session_id=request.user.session_id,
                         message=_("The agency was archived.") if archive else _("The agency is back in the directory."))
        return Redirect(path=f"/agencies/{agency_id}", status_code=303)


async def _managed_client_ids(request: Request) -> Optional[list[int]]:
    """None for an admin (the whole facility); a coordinator's care-team clients otherwise."""
    user = request.user
    if can(user, "client.list_all"):
        return None
    relations = await clients.client_relations_of(user=user, today=today(request))
    return [r.client_id for r in relations if can_on(user, "client.referrals.manage", r)]


# --- referrals ----------------------------------------------------------------------------------


def _next_statuses(referral: dict) -> list[str]:
    return [s.value for s in ReferralStatus if s in TRANSITIONS[ReferralStatus(referral["status"])]]


class ReferralController(Controller):
    path = "/referrals"

    @get("/", opt={"action": "referrals.list"})
    async def referrals_page(self, request: Request, status: FromQuery[str] = "", overdue: FromQuery[str] = "",
                             agency: FromQuery[str] = "", client: FromQuery[str] = "") -> Template:
        filters = ReferralFilter(
            status=status if status in REFERRAL_STATUSES + ("all",) else "", overdue=overdue == "1",
            agency_id=whole(agency), client_id=whole(client))
        client_ids = await _managed_client_ids(request)
        rows = await queries.referrals_list(facility_id=request.user.facility_id, client_ids=client_ids,
                                            filters=filters, today=today(request))
        values = {k: v for k, v in {"status": filters.status, "overdue": "1" if filters.overdue else "",
                                    "agency": agency if filters.agency_id else "",
                                    "client": client if filters.client_id else ""}.items() if v}
        context = {"referrals": rows, "filters": Form(values=values), "labels": forms.labels(),
                   "statuses": REFERRAL_STATUSES,
                   "agencies": await queries.agencies_for(facility_id=request.user.facility_id)}
        if wants_fragment(request):
            return Template("liaison/_referral_rows.html", context=context)
        return Template("liaison/referrals.html", context=context)

    async def _referral(self, request: Request, referral_id: int, action: str) -> tuple[dict, ClientRelation]:
        referral = await queries.referral_of(facility_id=request.user.facility_id, referral_id=referral_id,
                                             today=today(request))
        if referral is None:
            raise NotFoundException()
        relation = await relation_for(request, referral["client"], action)
        return referral, relation

    async def _page(self, request: Request, referral: dict, relation: ClientRelation, form: Form,
                    status: int = 200) -> Template:
        form.values.setdefault("version", str(referral["version"]))
        return Template("liaison/referral.html", context={
            "referral": referral, "events": await queries.referral_events_of(referral_id=referral["id"]),
            "next_statuses": _next_statuses(referral), "form": form, "labels": forms.labels(),
            "may_manage": can_on(request.user, "client.referrals.manage", relation), "now": clock.utcnow(),
        }, status_code=status)

    @get("/{referral_id:int}", opt={"action": "client.referrals.details"})
    async def referral_page(self, request: Request, referral_id: FromPath[int]) -> Template:
        referral, relation = await self._referral(request, referral_id, "client.referrals.details")
        await record_viewed(request, relation, "referral", referral_id=referral_id)
        return await self._page(request, referral, relation, Form())

    @post("/{referral_id:int}/status", opt={"action": "client.referrals.manage"})
    async def referral_status(self, request: Request, referral_id: FromPath[int]) -> Template | Redirect:
        referral, relation = await self._referral(request, referral_id, "client.referrals.manage")
        form, step = forms.step_form(await request.form())
        if step is not None:
            try:
                await services.referral_status_change(actor=actor_of(request), referral_id=referral_id, **step)
            except services.LiaisonError as error:
                form.error(error.field, error.message)
        if not form.ok:
            fresh = await queries.referral_of(facility_id=request.user.facility_id, referral_id=referral_id,
                                              today=today(request))
            return await self._page(request, fresh, relation, form, status=422)
        await flash_push(session_id=request.user.session_id, message=_("The referral was updated."))
        return Redirect(path=f"/referrals/{referral_id}", status_code=303)

    @post("/{referral_id:int}/remind", opt={"action": "client.referrals.manage"})
    async def referral_remind(self, request: Request, referral_id: FromPath[int]) -> Template | Redirect:
        referral, relation = await self._referral(request, referral_id, "client.referrals.manage")
        try:
            await services.referral_remind(actor=actor_of(request), referral_id=referral_id)
        except services.LiaisonError as error:
            form = Form()
            form.error("remind", error.message)
            return await self._page(request, referral, relation, form, status=422)
        await flash_push(session_id=request.user.session_id,
                         message=_("A reminder with a fresh link was emailed to the agency."))
        return Redirect(path=f"/referrals/{referral_id}", status_code=303)

    @post("/{referral_id:int}/link/revoke", opt={"action": "client.referrals.manage"})
    async def referral_link_revoke(self, request: Request, referral_id: FromPath[int]) -> Redirect:
        await self._referral(request, referral_id, "client.referrals.manage")
        await services.referral_link_revoke(actor=actor_of(request), referral_id=referral_id)
        await flash_push(session_id=request.user.session_id, message=_("The agency's link no longer works."))
        return Redirect(path=f"/referrals/{referral_id}", status_code=303)


# --- on the client's record ------------------------------------------------------------------------


def _record_template(request: Request, name: str) -> str:
    """The record loads each liaison section as a fragment; the same URL is also a page of its own."""
    return f"liaison/_{name}.html" if wants_fragment(request) else f"liaison/{name}.html"


async def _record_section(request: Request, client_id: int, name: str, *, manage: bool, status: int,
                          **context: Any) -> Template:
    """A liaison section of the client's record, with what every section shows (the client, the labels, the
    agencies to choose from for those who manage it); re-shown with errors, always as a page of its own."""
    context.update(client=await clients.client_name(client_id=client_id), manage=manage, labels=forms.labels(),
                   agencies=await queries.agencies_for(facility_id=request.user.facility_id) if manage else [])
    template = _record_template(request, name) if status == 200 else f"liaison/{name}.html"
    return Template(template, context=context, status_code=status)


class ClientLiaisonController(Controller):
    path = "/clients"

    # --- providers ---

    async def _providers(self, request: Request, client_id: int, relation: ClientRelation, form: Form,
                         status: int = 200) -> Template:
        return await _record_section(
            request, client_id, "providers", manage=can_on(request.user, "client.providers.manage", relation),
            status=status, form=form, view=queries.providers_view(request.user, relation),
            providers=await queries.providers_for(user=request.user, relation=relation))

    @get("/{client_id:int}/providers", opt={"action": "client.providers.view"})
    async def providers_page(self, request: Request, client_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "client.providers.view")
        await record_viewed(request, relation, "providers")
        return await self._providers(request, client_id, relation, keyed(Form(values={"role": "gp"})))

    @post("/{client_id:int}/providers", opt={"action": "client.providers.manage"})
    async def provider_add(self, request: Request, client_id: FromPath[int]) -> Template | Redirect:
        relation = await relation_for(request, client_id, "client.providers.manage")
        agencies = await queries.agencies_for(facility_id=request.user.facility_id)
        data = await request.form()
        form, provider = forms.provider_form(data, agency_ids={a["id"] for a in agencies})
        if provider is not None:
            actor = actor_of(request)
            try:
                await created_once(user_id=actor.user_id, form="provider", key=submitted_key(data), create=lambda: (
                    services.provider_add(actor=actor, client_id=client_id, **provider)))
            except services.LiaisonError as error:
                form.error(error.field, error.message)
        if not form.ok:
            return await self._providers(request, client_id, relation, keyed(form, data), status=422)
        await flash_push(session_id=request.user.session_id, message=_("The provider was added."))
        return Redirect(path=f"/clients/{client_id}/providers", status_code=303)

    @post("/{client_id:int}/providers/{provider_id:int}/end", opt={"action": "client.providers.manage"})
    async def provider_end(self, request: Request, client_id: FromPath[int], provider_id: FromPath[int]) -> Redirect:
        await relation_for(request, client_id, "client.providers.manage")
        if await queries.provider_of(client_id=client_id, provider_id=provider_id) is None:
            raise NotFoundException()
        await services.provider_end(actor=actor_of(request), client_id=client_id, provider_id=provider_id)
        await flash_push(session_id=request.user.session_id, message=_("The provider was removed from the list."))
        return Redirect(path=f"/clients/{client_id}/providers", status_code=303)

    # --- referrals ---

    async def _referrals(self, request: Request, client_id: int, relation: ClientRelation, form: Form,
                         status: int = 200) -> Template:
        return await _record_section(
            request, client_id, "client_referrals", manage=can_on(request.user, "client.referrals.manage", relation),
            status=status, form=form, details=can_on(request.user, "client.referrals.details", relation),
            referrals=await queries.referrals_for(user=request.user, relation=relation, today=today(request)))

    @get("/{client_id:int}/referrals", opt={"action": "client.referrals.view"})
    async def referrals_page(self, request: Request, client_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "client.referrals.view")
        await record_viewed(request, relation, "referrals")
        return await self._referrals(request, client_id, relation,
                                     keyed(Form(values=forms.referral_defaults(today=today(request)))))

    @post("/{client_id:int}/referrals", opt={"action": "client.referrals.manage"})
    async def referral_create(self, request: Request, client_id: FromPath[int]) -> Template | Redirect:
        relation = await relation_for(request, client_id, "client.referrals.manage")
        agencies = await queries.agencies_for(facility_id=request.user.facility_id)
        data = await request.form()
        form, details, send = forms.referral_form(data, agency_ids={a["id"] for a in agencies}, today=today(request))
        referral_id = None
        if details is not None:
            actor = actor_of(request)
            try:
                referral_id = await created_once(
                    user_id=actor.user_id, form="referral", key=submitted_key(data),
                    create=lambda: services.referral_create(actor=actor, client_id=client_id, details=details, send=send))
            except services.LiaisonError as error:
                form.error(error.field, error.message)
        if referral_id is None:
            return await self._referrals(request, client_id, relation, keyed(form, data), status=422)
        await flash_push(session_id=request.user.session_id,
                         message=_("The referral was sent: the agency was emailed a link to answer it.") if send
                         else _("The referral was saved as a draft."))
        return Redirect(path=f"/referrals/{referral_id}", status_code=303)

    # --- disclosures ---

    @get("/{client_id:int}/disclosures", opt={"action": "client.disclosures.view"})
    async def disclosures_page(self, request: Request, client_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "client.disclosures.view")
        await record_viewed(request, relation, "disclosures")
        rows = await queries.disclosures_for(user=request.user, relation=relation, tz=request.user.timezone)
        return Template(_record_template(request, "disclosures"), context={
            "client": await clients.client_name(client_id=client_id), "disclosures": rows, "labels": forms.labels(),
            "details": can_on(request.user, "client.disclosures.details", relation)})

    # --- the printable summary and the FHIR export ---

    async def _choose(self, request: Request, client_id: int, template: str, form: Form, status: int = 200) -> Template:
        return Template(template, context={"client": await clients.client_name(client_id=client_id), "form": form,
                                           "labels": forms.labels(), "sections": queries.SECTIONS},
                        status_code=status)

    @get("/{client_id:int}/summary", opt={"action": "client.disclose"})
    async def summary_choose(self, request: Request, client_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "client.disclose")
        await record_viewed(request, relation, "summary")
        return await self._choose(request, client_id, "liaison/summary_choose.html",
                                  Form(values=forms.sections_default()))

    @post("/{client_id:int}/summary", opt={"action": "client.disclose"}, status_code=200)
    async def summary_print(self, request: Request, client_id: FromPath[int]) -> Template:
        await relation_for(request, client_id, "client.disclose")
        form, chosen = forms.disclose_form(await request.form())
        if chosen is None:
            return await self._choose(request, client_id, "liaison/summary_choose.html", form, status=422)
        await services.disclosure_record(actor=actor_of(request), client_id=client_id, kind="print", **chosen)
        summary = await queries.summary_for(client_id=client_id, sections=chosen["sections"], today=today(request),
                                            now=clock.utcnow())
        return Template("liaison/summary.html", context={
            "summary": summary, "labels": forms.labels(), "printed_by": request.user.display_name,
            "printed_at": clock.utcnow(), "tz": request.user.timezone, "recipient": chosen["recipient"]})

    @get("/{client_id:int}/fhir", opt={"action": "client.disclose"})
    async def fhir_choose(self, request: Request, client_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "client.disclose")
        await record_viewed(request, relation, "fhir")
        return await self._choose(request, client_id, "liaison/fhir.html", Form(values=forms.sections_default()))

    @post("/{client_id:int}/fhir", opt={"action": "client.disclose"}, status_code=200)
    async def fhir_export(self, request: Request, client_id: FromPath[int]) -> Template | Response:
        await relation_for(request, client_id, "client.disclose")
        form, chosen = forms.disclose_form(await request.form())
        if chosen is None:
            return await self._choose(request, client_id, "liaison/fhir.html", form, status=422)
        await services.disclosure_record(actor=actor_of(request), client_id=client_id, kind="fhir", **chosen)
        bundle = await fhir_bundle_for(client_id=client_id, sections=chosen["sections"])
        return _fhir_response(bundle, client_id)

    # --- share links ---

    async def _share(self, request: Request, client_id: int, form: Form, status: int = 200,
                     created: Optional[dict] = None) -> Template:
        return Template("liaison/share.html", context={
            "client": await clients.client_name(client_id=client_id), "form": form, "labels": forms.labels(),
            "sections": queries.SECTIONS, "links": await queries.share_links_for(client_id=client_id),
            "agencies": await queries.agencies_for(facility_id=request.user.facility_id), "created": created,
            "expiry_options": forms.expiry_labels(), "now": clock.utcnow(),
        }, status_code=status)

    @get("/{client_id:int}/share", opt={"action": "client.disclose"})
    async def share_page(self, request: Request, client_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "client.disclose")
        await record_viewed(request, relation, "share")
        return await self._share(request, client_id, keyed(Form(values={**forms.sections_default(), "expires": "72"})))

    @post("/{client_id:int}/share", opt={"action": "client.disclose"})
    async def share_create(self, request: Request, client_id: FromPath[int]) -> Template:
        await relation_for(request, client_id, "client.disclose")
        agencies = {a["id"]: a for a in await queries.agencies_for(facility_id=request.user.facility_id)}
        data = await request.form()
        form, details = forms.share_form(data, agencies=agencies)
        created = None
        if details is not None:
            actor = actor_of(request)
            try:
                token = await link_created_once(
                    secret=request.app.state.settings.secret_key, user_id=actor.user_id, form="share_link",
                    key=submitted_key(data), create=lambda token: _link_id(services.share_link_create(
                        actor=actor, client_id=client_id, details=details, token=token)))
            except services.LiaisonError as error:
                form.error(error.field, error.message)
            else:
                created = {"name": details.recipient_name, "email": details.recipient_email,
                           "url": absolute_link(f"/share/{token}")}
        if created is None:
            return await self._share(request, client_id, keyed(form, data), status=422)
        return await self._share(request, client_id,
                                 keyed(Form(values={**forms.sections_default(), "expires": "72"})),
                                 status=201, created=created)

    @post("/{client_id:int}/share/{link_id:int}/revoke", opt={"action": "client.disclose"})
    async def share_revoke(self, request: Request, client_id: FromPath[int], link_id: FromPath[int]) -> Redirect:
        await relation_for(request, client_id, "client.disclose")
        if await queries.share_link_of(client_id=client_id, link_id=link_id) is None:
            raise NotFoundException()
        await services.share_link_revoke(actor=actor_of(request), client_id=client_id, link_id=link_id)
        await flash_push(session_id=request.user.session_id, message=_("The share link no longer works."))
        return Redirect(path=f"/clients/{client_id}/share", status_code=303)


async def _link_id(created: Awaitable[services.ShareCreated]) -> int:
    return (await created).link_id


def _fhir_response(bundle: dict, client_id: int) -> Response:
    # FHIR's own way to say which version a body is (http.html#version-parameter): R4 is "4.0".
    return Response(content=json.dumps(bundle, ensure_ascii=False).encode(),
                    media_type="application/fhir+json; fhirVersion=4.0",
                    headers={"Content-Disposition": f'attachment; filename="kinward-client-{client_id}.fhir.json"'})


@get("/caseload/referrals", opt={"action": "caseload.referral_alerts"})
async def caseload_referrals(request: Request) -> Template:
    """Referrals of the coordinator's clients past their expected answer date; the caseload loads it."""
    client_ids = await _managed_client_ids(request)
    if client_ids is None:
        rows = await queries.referrals_list(facility_id=request.user.facility_id, client_ids=None,
                                            filters=ReferralFilter(overdue=True), today=today(request))
    else:
        rows = await queries.overdue_referrals_for(client_ids=client_ids, today=today(request))
    context = {"referrals": rows, "labels": forms.labels()}
    if wants_fragment(request):
        return Template("liaison/_caseload_referrals.html", context=context)
    return Template("liaison/caseload_referrals.html", context=context)


# --- without an account ------------------------------------------------------------------------------


def _link_gone() -> Template:
    return Template("liaison/link_expired.html", status_code=404)


class AgencyLinkController(Controller):
    """The agency's answer page: one referral, minimum necessary details, nothing else of Kinward."""

    path = "/r"

    async def _page(self, token: str, referral_id: int, form: Form, status: int = 200,
                    done: str = "") -> Template:
        referral = await queries.referral_by_token(token=token)
        facility = await facility_by_id(facility_id=referral["facility_id"])
        steps = [s.value for s in ReferralStatus
                 if s in AGENCY_STEPS.get(ReferralStatus(referral["status"]), frozenset())]
        return Template("liaison/agency_link.html", context={
            "referral": referral, "facility": facility["name"], "steps": steps, "form": form, "token": token,
            "labels": forms.labels(), "done": done}, status_code=status)

    @get("/{token:str}", opt={"action": PUBLIC})
    async def link_page(self, request: Request, token: FromPath[str]) -> Template:
        row = await services.referral_link_use(token=token, address=client_address(request))
        if row is None:
            return _link_gone()
        return await self._page(token, row["id"], Form())

    @post("/{token:str}", opt={"action": PUBLIC}, status_code=200)
    async def link_answer(self, request: Request, token: FromPath[str]) -> Template:
        form, step = forms.link_step_form(await request.form())
        address = client_address(request)
        if step is None:
            row = await services.referral_link_use(token=token, address=address)
            return _link_gone() if row is None else await self._page(token, row["id"], form, status=422)
        try:
            row = await services.referral_link_use(token=token, address=address, **step)
        except services.LiaisonError as error:
            form.error(error.field, error.message)
            row = await services.referral_link_use(token=token, address=address)
            return _link_gone() if row is None else await self._page(token, row["id"], form, status=422)
        if row is None:
            return _link_gone()
        if row["status"] in ("completed", "declined"):
            # The referral is closed, and with it the link: this answer is the last page it shows.
            return Template("liaison/agency_link_done.html", context={"status": row["status"],
                                                                      "labels": forms.labels()})
        return await self._page(token, row["id"], Form(), done=row["status"])


class ShareLinkController(Controller):
    """What a share link's recipient sees: the chosen sections of one client's summary."""

    path = "/share"

    @get("/{token:str}", opt={"action": PUBLIC})
    async def shared_summary(self, request: Request, token: FromPath[str]) -> Template:
        link = await services.share_link_open(token=token, address=client_address(request))
        if link is None:
            return _link_gone()
        facility = await facility_by_id(facility_id=link["facility_id"])
        now = clock.utcnow()
        summary = await queries.summary_for(client_id=link["client"], sections=link["section_list"],
                                            today=clock.today_in(facility["timezone"]), now=now)
        return Template("liaison/shared_summary.html", context={
            "summary": summary, "link": link, "labels": forms.labels(), "token": token, "tz": facility["timezone"],
            "facility": facility["name"], "printed_at": now})

    @get("/{token:str}/fhir", opt={"action": PUBLIC})
    async def shared_fhir(self, request: Request, token: FromPath[str]) -> Template | Response:
        link = await services.share_link_open(token=token, address=client_address(request), fhir=True)
        if link is None:
            return _link_gone()
        bundle = await fhir_bundle_for(client_id=link["client"], sections=link["section_list"])
        return _fhir_response(bundle, link["client"])
