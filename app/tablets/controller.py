"""Shared tablets: the lock screen, PIN unlock and lock, the admin's device list, one's own PIN."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from app import clock
from app.accounts.services import AccountError
from app.accounts.queries import facility_by_id
from app.i18n import _
from app.policy import PUBLIC, home_for
from app.tablets import forms, queries, services
from app.web.auth import actor_of, client_address, device_of, session_cookie, session_end, session_token
from app.web.forms import Form, keyed, submitted_key
from app.web.sessions import device_cookie_name, flash_push, session_revoke
from app.web.submissions import link_created_once

DEVICE_COOKIE_MAX_AGE = 400 * 24 * 3600  # Chrome caps cookie lifetimes at 400 days


class TabletController(Controller):
    path = "/tablet"

    async def _device_or_404(self, request: Request) -> dict:
        device = await device_of(request)
        if device is None:
            raise NotFoundException()  # PINs never work on an unregistered device
        return device

    async def _roster(self, device: dict) -> list[dict]:
        return await queries.tablet_roster(device_id=device["id"], facility_id=device["facility"],
                                           now=clock.utcnow())

    @get("/", opt={"action": PUBLIC})
    async def lock_screen(self, request: Request) -> Template:
        device = await self._device_or_404(request)
        return Template("tablets/lock.html", context={"device": device, "roster": await self._roster(device)})

    async def _unlock_page(self, request: Request, device: dict, user_id: int, form: Form, status: int = 200,
                           needs_password: bool = False) -> Template:
        person = next((p for p in await self._roster(device) if p["id"] == user_id), None)
        if person is None:
            raise NotFoundException()
        return Template("tablets/unlock.html", context={"device": device, "person": person, "form": form,
                                                        "needs_password": needs_password}, status_code=status)

    @get("/unlock/{user_id:int}", opt={"action": PUBLIC})
    async def unlock_page(self, request: Request, user_id: FromPath[int]) -> Template:
        device = await self._device_or_404(request)
        return await self._unlock_page(request, device, user_id, Form())

    @post("/unlock/{user_id:int}", opt={"action": PUBLIC})
    async def unlock(self, request: Request, user_id: FromPath[int]) -> Response:
        device = await self._device_or_404(request)
        form = forms.unlock_form(await request.form())
        if not form.ok:
            return await self._unlock_page(request, device, user_id, form, status=422)
        result = await services.tablet_unlock(
            device=device, user_id=user_id, pin=form.values["pin"].strip(), address=client_address(request),
            absolute_hours=request.app.state.settings.session_absolute_hours,
        )
        if result.token is None:
            form = Form()
            form.error("pin", result.error)
            return await self._unlock_page(request, device, user_id, form, status=401,
                                           needs_password=result.needs_password)
        presented = session_token(request)
        if presented:
            await session_revoke(token=presented)  # switching user ends the previous person's session
        return Redirect(path=home_for(result.role), status_code=303, cookies=[session_cookie(request, result.token)])

    @post("/lock", opt={"action": "signed_in", "without_form": True})
    async def lock(self, request: Request) -> Response:
        return await session_end(request, action="tablet.locked", elsewhere="/login")

    @get("/still-here", opt={"action": "signed_in"})
    async def still_here(self) -> Response:
        """The screen saw the person working; resolving the session already refreshed it, and the answer
        says when the page must lock (the Kinward-Lock-In header, app.web.auth)."""
        return Response(content=b"", status_code=204)


class DevicesController(Controller):
    path = "/admin/devices"
    opt = {"action": "devices.manage"}

    async def _page(self, request: Request, *, form: Form | None = None, settings_form: Form | None = None,
                    status: int = 200) -> Template:
        user = request.user
        facility = await facility_by_id(facility_id=user.facility_id)
        return Template("tablets/devices.html", status_code=status, context={
            "devices": await queries.devices_for(facility_id=user.facility_id),
            "this_device": await device_of(request),
            "form": form or keyed(Form()),
            "settings_form": settings_form or Form(values={name: str(facility[name]) for name in forms.FACILITY_SETTINGS}),
        })

    @get("/")
    async def devices_page(self, request: Request) -> Template:
        return await self._page(request)

    @post("/")
    async def device_register(self, request: Request) -> Response:
        data = await request.form()
        form = forms.device_form(data)
        if not form.ok:
            return await self._page(request, form=keyed(form, data), status=422)
        settings = request.app.state.settings
        actor = actor_of(request)
        # A repeat of this sending sets the same cookie.
        token = await link_created_once(
            secret=settings.secret_key, user_id=actor.user_id, form="device", key=submitted_key(data),
            create=lambda token: services.device_register(actor=actor, facility_id=request.user.facility_id,
                                                          name=form.values["name"], token=token))
        cookie = Cookie(key=device_cookie_name(production=settings.is_production), value=token, path="/",
                        httponly=True, secure=settings.is_production, samesite="lax", max_age=DEVICE_COOKIE_MAX_AGE)
        await flash_push(session_id=request.user.session_id,
                         message=_("This browser is now a registered tablet. Staff who sign in here can unlock it with their PIN."))
        return Redirect(path="/admin/devices", status_code=303, cookies=[cookie])

    @post("/{device_id:int}/revoke")
    async def device_revoke(self, request: Request, device_id: FromPath[int]) -> Redirect:
        if await queries.device_in_facility(facility_id=request.user.facility_id, device_id=device_id) is None:
            raise NotFoundException()
        await services.device_revoke(actor=actor_of(request), facility_id=request.user.facility_id,
                                     device_id=device_id)
        await flash_push(session_id=request.user.session_id, message=_("The tablet was revoked and its sessions ended."))
        return Redirect(path="/admin/devices", status_code=303)

    @post("/settings")
    async def facility_settings(self, request: Request) -> Response:
        form, values = forms.facility_settings_form(await request.form())
        if values is None:
            return await self._page(request, settings_form=form, status=422)
        await services.facility_settings_set(actor=actor_of(request), facility_id=request.user.facility_id,
                                             values=values)
        await flash_push(session_id=request.user.session_id, message=_(
            "Saved. Tablets lock after %(idle)s idle minutes; a visit is late %(grace)s minutes after its start; "
            "an unanswered family message is flagged after %(answer)s hours; a high concern nobody acknowledged "
            "goes to the admins after %(escalation)s minutes.") % {
                "idle": values["idle_lock_minutes"], "grace": values["visit_grace_minutes"],
                "answer": values["message_answer_hours"], "escalation": values["concern_escalation_minutes"]})
        return Redirect(path="/admin/devices", status_code=303)


class PinController(Controller):
    path = "/account/pin"
    opt = {"action": "account.set_pin"}

    @get("/")
    async def pin_page(self) -> Template:
        return Template("tablets/pin.html", context={"form": Form()})

    @post("/")
    async def pin_set(self, request: Request) -> Response:
        form = forms.pin_set_form(await request.form())
        status, headers = 422, {}
        if form.ok:
            try:
                await services.pin_set(actor=actor_of(request), current_password=form.values["current_password"],
                                       pin=form.values["pin"].strip())
            except AccountError as error:
                form.error(error.field, error.message)
                status, headers = error.status_code, error.headers
        if not form.ok:
            form.values = {}  # secrets are never echoed back
            return Template("tablets/pin.html", context={"form": form}, status_code=status, headers=headers)
        await flash_push(session_id=request.user.session_id, message=_("Your tablet PIN is set."))
        return Redirect(path=home_for(request.user.role), status_code=303)
