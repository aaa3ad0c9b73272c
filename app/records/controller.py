"""Backups and retention for admins; a client's records on request (subject access)."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from app import clock
from app.audit.services import audit_record
from app.clients.queries import client_name
from app.i18n import _
from app.liaison.queries import SECTIONS
from app.liaison.services import disclosure_record
from app.records import forms, queries, services
from app.records.export import client_export_files, export_zip
from app.web.auth import actor_of
from app.web.forms import Form
from app.clients.records import record_viewed, relation_for
from app.web.sessions import flash_push


class RecordsAdminController(Controller):
    path = "/admin/records"
    opt = {"action": "records.manage"}

    async def _page(self, request: Request, *, form: Form | None = None, status: int = 200) -> Template:
        facility_id = request.user.facility_id
        years = await queries.retention_years_for(facility_id=facility_id)
        return Template("records/admin.html", status_code=status, context={
            "backup": await queries.backup_health(now=clock.utcnow()),
            "runs": await queries.backup_runs_recent(),
            "scheduled": bool(request.app.state.settings.backup_dir),
            "due": await queries.retention_due_for(today=clock.utcnow().date(), facility_id=facility_id),
            "purges": await queries.purges_for(facility_id=facility_id),
            "form": form or Form(values={"retention_years": str(years)}),
        })

    @get("/")
    async def records_page(self, request: Request) -> Template:
        return await self._page(request)

    @post("/retention")
    async def retention_set(self, request: Request) -> Response:
        form, years = forms.retention_form(await request.form())
        if years is None:
            return await self._page(request, form=form, status=422)
        await services.retention_years_set(actor=actor_of(request), facility_id=request.user.facility_id,
                                           years=years)
        await flash_push(session_id=request.user.session_id, message=_(
            "Saved. Records are kept %(years)s years after care ends.") % {"years": years})
        return Redirect(path="/admin/records", status_code=303)


class ClientExportController(Controller):
    path = "/clients/{client_id:int}/export"
    opt = {"action": "client.export"}

    @get("/")
    async def export_page(self, request: Request, client_id: FromPath[int]) -> Template:
        relation = await relation_for(request, client_id, "client.export")
        await record_viewed(request, relation, "export")
        return Template("records/export.html", context={"client": await client_name(client_id=client_id)})

    @post("/", status_code=200)
    async def export_download(self, request: Request, client_id: FromPath[int]) -> Response:
        await request.form()
        relation = await relation_for(request, client_id, "client.export")
        actor = actor_of(request)
        now = clock.utcnow()
        files = await client_export_files(client_id=client_id, exported_by=request.user.display_name, now=now)
        await audit_record(actor=actor, action="client.exported", client_id=relation.client_id, object_type="client",
                           object_id=client_id, detail={"files": sorted(files)})
        # Information left Kinward: the disclosure log says so, as it does for a print or a FHIR export.
        await disclosure_record(actor=actor, client_id=client_id, kind="subject_access", sections=SECTIONS,
                                recipient=_("The client or their representative (subject access request)"),
                                reason=_("Subject access request (UK GDPR articles 15 and 20)"))
        return Response(content=export_zip(files), media_type="application/zip", headers={
            "Content-Disposition": f'attachment; filename="kinward-client-{client_id}-{now:%Y%m%d}.zip"'})
