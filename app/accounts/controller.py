"""Sign-in, sign-out, one's own password, and the admin's user pages."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from app.accounts import forms, services
from app.accounts.queries import sign_in_holds_for, user_in_facility, users_for
from app.accounts.tables import Role
from app.accounts.demo import DEMO_EMAILS
from app.i18n import _
from app.policy import PUBLIC, can, home_for
from app.web.auth import actor_of, client_address, device_of, session_cookie, session_end, session_token
from app.web.forms import Form, keyed, submitted_key
from app.web.links import absolute_link
from app.web.sessions import flash_push, session_revoke
from app.web.submissions import link_created_once

LOGIN_TEMPLATE = "accounts/login.html"


def safe_next(target: str) -> str:
    """Only a path on this site: never an absolute or scheme-relative URL (open redirect)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return ""


def link_url(token: str) -> str:
    return absolute_link(f"/set-password/{token}")


def demo_accounts(request: Request) -> list[str]:
    if request.app.state.settings.env != "development":
        return []
    return list(DEMO_EMAILS)


class LoginController(Controller):
    path = "/"

    @get("/login", opt={"action": PUBLIC})
    async def login_page(self, request: Request, next: FromQuery[str] = "",
                         signed_out: FromQuery[bool] = False) -> Response:
        user = request.scope.get("user")
        if user is not None:
            return Redirect(path=safe_next(next) or home_for(user.role), status_code=303)
        form = Form(values={"email": "", "next": safe_next(next)})
        return Template(LOGIN_TEMPLATE, context={"form": form, "signed_out": signed_out,
                                                 "demo_accounts": demo_accounts(request)})

    @post("/login", opt={"action": PUBLIC})
    async def login(self, request: Request) -> Response:
        form = forms.login_form(await request.form())
        context = {"form": form, "demo_accounts": demo_accounts(request)}
        if not form.ok:
            return Template(LOGIN_TEMPLATE, context=context, status_code=422)
        settings = request.app.state.settings
        result = await services.login_attempt(
            email=form.values["email"], password=form.values["password"], address=client_address(request),
            absolute_hours=settings.session_absolute_hours, device=await device_of(request),
        )
        if result.held is not None:
            form.error("email", services.wait_message(result.held, _("Too many sign-in attempts.")))
            return Template(LOGIN_TEMPLATE, context=context, status_code=429,
                            headers=services.retry_after_header(result.held))
        if result.token is None:
            form.error("password", _("That email and password do not match an active account."))
            return Template(LOGIN_TEMPLATE, context=context, status_code=401)
        presented = session_token(request)
        if presented:
            # Whatever session id the browser brought is dead from now on (session fixation).
            await session_revoke(token=presented)
        target = safe_next(form.values["next"]) or home_for(result.user["role"])
        return Redirect(path=target, status_code=303, cookies=[session_cookie(request, result.token)])

    # Open to a session the server has already ended: on a tablet, signing out still ends the person's
    # sign-in there for the shift.
    @post("/logout", opt={"action": PUBLIC, "without_form": True})
    async def logout(self, request: Request) -> Response:
        return await session_end(request, action="logout", elsewhere="/login?signed_out=1", signs_out=True)


def _password_context(request: Request, form: Form) -> dict:
    return {"form": form, "may_set_pin": can(request.user, "account.set_pin")}


class AccountController(Controller):
    path = "/account"

    @get("/password", opt={"action": "account.change_password"})
    async def password_page(self, request: Request) -> Template:
        return Template("accounts/password.html", context=_password_context(request, Form()))

    @post("/password", opt={"action": "account.change_password"})
    async def password_change(self, request: Request) -> Response:
        user = request.user
        form = forms.password_change_form(await request.form(), email=user.email)
        status, headers = 422, {}
        if form.ok:
            try:
                await services.password_change(actor=actor_of(request), session_id=user.session_id,
                                               current=form.values["current_password"],
                                               new=form.values["new_password"])
            except services.AccountError as error:
                form.error(error.field, error.message)
                status, headers = error.status_code, error.headers
        if not form.ok:
            form.values = {}  # passwords are never echoed back into the page
            return Template("accounts/password.html", context=_password_context(request, form), status_code=status,
                            headers=headers)
        await flash_push(session_id=user.session_id,
                         message=_("Your password was changed. Other devices were signed out."))
        return Redirect(path=home_for(user.role), status_code=303)


class PasswordLinkController(Controller):
    path = "/set-password"

    @get("/{token:str}", opt={"action": PUBLIC})
    async def set_password_page(self, request: Request, token: FromPath[str]) -> Template:
        link = await services.one_time_link_user(token=token)
        if link is None:
            return Template("accounts/link_expired.html", status_code=404)
        return Template("accounts/set_password.html", context={"form": Form(), "email": link["email"]})

    @post("/{token:str}", opt={"action": PUBLIC})
    async def set_password(self, request: Request, token: FromPath[str]) -> Response:
        link = await services.one_time_link_user(token=token)
        if link is None:
            return Template("accounts/link_expired.html", status_code=404)
        form = forms.password_set_form(await request.form(), email=link["email"])
        if form.ok:
            try:
                await services.password_set_with_link(token=token, password=form.values["new_password"],
                                                      address=client_address(request))
            except services.AccountError as error:
                form.error("new_password" if error.field == "password" else error.field, error.message)
        if not form.ok:
            form.values = {}
            return Template("accounts/set_password.html", context={"form": form, "email": link["email"]},
                            status_code=422)
        return Redirect(path="/login?password_set=1", status_code=303)


class AdminUsersController(Controller):
    path = "/admin/users"
    opt = {"action": "users.manage"}

    async def _page(self, request: Request, form: Form | None = None, status: int = 200,
                    link: dict | None = None) -> Template:
        user = request.user
        form = form or keyed(Form(values={"role": Role.worker.value}))
        return Template(
            "accounts/users.html",
            context={"users": await users_for(facility_id=user.facility_id), "form": form,
                     "roles": [r.value for r in Role], "link": link,
                     "holds": await sign_in_holds_for(facility_id=user.facility_id),
                     "may_unblock": can(user, "users.unblock_sign_in")},
            status_code=status,
        )

    async def _user_or_404(self, request: Request, user_id: FromPath[int]) -> dict:
        target = await user_in_facility(facility_id=request.user.facility_id, user_id=user_id)
        if target is None:
            raise NotFoundException()
        return target

    @get("/")
    async def users_page(self, request: Request) -> Template:
        return await self._page(request)

    @post("/")
    async def user_create(self, request: Request) -> Template:
        data = await request.form()
        form = forms.user_form(data)
        if form.ok:
            actor = actor_of(request)

            async def create(token: str) -> int:
                user_id = await services.user_create(
                    actor=actor, facility_id=request.user.facility_id, email=form.values["email"],
                    display_name=form.values["display_name"], role=form.values["role"],
                )
                await services.one_time_link_create(actor=actor, user_id=user_id, purpose="set_password", token=token)
                return user_id

            try:
                # A repeat of this sending shows the same set-password link.
                token = await link_created_once(secret=request.app.state.settings.secret_key,
                                                   user_id=actor.user_id, form="user", key=submitted_key(data),
                                                   create=create)
            except services.AccountError as error:
                form.error(error.field, error.message)
        if not form.ok:
            return await self._page(request, keyed(form, data), status=422)
        # The link is shown while it is unused: a repeat after the person chose a password shows none.
        link = {"email": form.values["email"], "url": link_url(token)} \
            if await services.one_time_link_user(token=token) else None
        return await self._page(request, status=201, link=link)

    @post("/{user_id:int}/deactivate")
    async def user_deactivate(self, request: Request, user_id: FromPath[int]) -> Response:
        await self._user_or_404(request, user_id)
        try:
            await services.user_deactivate(actor=actor_of(request), facility_id=request.user.facility_id,
                                           user_id=user_id)
        except services.AccountError as error:
            form = keyed(Form(values={"role": Role.worker.value}))
            form.error("user", error.message)
            return await self._page(request, form, status=409)
        await flash_push(session_id=request.user.session_id, message=_("The account was deactivated and signed out."))
        return Redirect(path="/admin/users", status_code=303)

    @post("/{user_id:int}/reactivate")
    async def user_reactivate(self, request: Request, user_id: FromPath[int]) -> Response:
        await self._user_or_404(request, user_id)
        await services.user_reactivate(actor=actor_of(request), facility_id=request.user.facility_id,
                                       user_id=user_id)
        await flash_push(session_id=request.user.session_id, message=_("The account was reactivated."))
        return Redirect(path="/admin/users", status_code=303)

    @post("/{user_id:int}/reset-link")
    async def user_reset_link(self, request: Request, user_id: FromPath[int]) -> Template:
        target = await self._user_or_404(request, user_id)
        token = await services.one_time_link_create(actor=actor_of(request), user_id=user_id, purpose="reset_password")
        link = {"email": target["email"], "url": link_url(token)}
        return await self._page(request, link=link)

    @post("/{user_id:int}/unblock-sign-in", opt={"action": "users.unblock_sign_in"})
    async def sign_in_unblock(self, request: Request, user_id: FromPath[int]) -> Response:
        await self._user_or_404(request, user_id)
        await services.sign_in_unblock(actor=actor_of(request), facility_id=request.user.facility_id, user_id=user_id)
        await flash_push(session_id=request.user.session_id,
                         message=_("Sign-in is open again for this account. Wrong passwords will count from zero."))
        return Redirect(path="/admin/users", status_code=303)
