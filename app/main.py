"""create_app(settings): the one place where Kinward is assembled."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Optional

from litestar import Litestar, Request, get
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.logging.config import LoggingConfig
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from app import db
from app.accounts.controller import AccountController, AdminUsersController, LoginController, PasswordLinkController
from app.audit.services import audit_sealer
from app.tablets.controller import DevicesController, PinController, TabletController
from app.clients.controller import BreakGlassReviewController, ClientController
from app.liaison.controller import (AgencyController, AgencyLinkController, ClientLiaisonController,
                                    ReferralController, ShareLinkController, caseload_referrals)
from app.mail.sender import mail_worker_start, mail_worker_stop
from app.messages.controller import MessagesController, NotificationsController, unanswered_page
from app.messages.services import digests_enqueue, escalations_enqueue
from app.reports.controller import DashboardController, StaffReportController, agencies_report
from app.reviews.controller import ClientReviewsController, FamilyReviewsController, reviews_count, reviews_page
from app.reviews.services import review_input_invitations_enqueue
from app.policy import home_for
from app.records.controller import ClientExportController, RecordsAdminController
from app.records.schedule import backup_worker
from app.settings import Settings
from app.careplans.controller import PlanController
from app.visits.controller import (CalendarController, ClientVisitsController, VisitController, calendar_feed,
                                   caseload_visits, my_day_page, team_week_page)
from app.visits.services import concern_escalations_enqueue, schedule_keeper
from app.pages.audit import AuditController
from app.pages.caseload import caseload_page
from app.pages.family import family_home
from app.web.auth import SessionMiddleware, csrf_cookie_name, policy_guard, submitted_form_guard
from app.web.errors import EXCEPTION_HANDLERS
from app.health import healthz
from app.web.security import RequestTimerMiddleware, security_headers
from app.web.writes import DeferredWritesMiddleware
from app.web.templating import template_config
from app.wiring import configure, wire

STATIC = Path(__file__).resolve().parent.parent / "static"
COMPRESS_MIN_BYTES = 500


def compression() -> CompressionConfig:
    """Pages and static files shrink by two thirds or more (htmx 37 KB -> 13 KB); tiny answers are not worth it."""
    return CompressionConfig(backend="gzip", minimum_size=COMPRESS_MIN_BYTES, gzip_compress_level=6)


@get("/", opt={"action": "signed_in"})
async def root(request: Request) -> Redirect:
    return Redirect(path=home_for(request.user.role), status_code=303)


wire()


def create_app(settings: Optional[Settings] = None) -> Litestar:
    settings = settings or Settings.from_env()
    configure(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await db.start()
        # Keeps the visit horizon filled; safe in every process (unique visit slots).
        keeper = asyncio.create_task(schedule_keeper(), name="kinward-schedule-keeper")
        # Every process runs one: outbox rows are claimed, so each email goes out once.
        mail = mail_worker_start(settings, jobs=(escalations_enqueue, concern_escalations_enqueue, digests_enqueue, review_input_invitations_enqueue))
        # Chains the audit rows requests stored; every process runs one, each chain is claimed.
        sealer = asyncio.create_task(audit_sealer(), name="kinward-audit-sealer")
        # Every process runs one when backups are configured: each interval's backup is claimed once.
        backups_stop = asyncio.Event()
        backups = (asyncio.create_task(backup_worker(settings, backups_stop), name="kinward-backups")
                   if settings.backup_dir else None)
        try:
            yield
        finally:
            backups_stop.set()
            if backups is not None:
                await asyncio.gather(backups, return_exceptions=True)
            keeper.cancel()
            sealer.cancel()
            await asyncio.gather(keeper, sealer, return_exceptions=True)
            await mail_worker_stop(mail)
            await db.stop()

    handlers = dict(EXCEPTION_HANDLERS)
    debug = settings.env == "development"

    app = Litestar(
        route_handlers=[
            root,
            healthz,
            LoginController,
            AccountController,
            PasswordLinkController,
            AdminUsersController,
            AuditController,
            TabletController,
            DevicesController,
            PinController,
            caseload_page,
            ClientController,
            BreakGlassReviewController,
            my_day_page,
            PlanController,
            ClientVisitsController,
            VisitController,
            caseload_visits,
            team_week_page,
            CalendarController,
            calendar_feed,
            family_home,
            MessagesController,
            unanswered_page,
            NotificationsController,
            RecordsAdminController,
            ClientExportController,
            AgencyController,
            ReferralController,
            ClientLiaisonController,
            caseload_referrals,
            AgencyLinkController,
            ShareLinkController,
            reviews_page,
            reviews_count,
            ClientReviewsController,
            FamilyReviewsController,
            StaffReportController,
            DashboardController,
            agencies_report,
            create_static_files_router(path="/static", directories=[STATIC], opt={"action": "public"},
                                       include_in_schema=False),
        ],
        guards=[policy_guard, submitted_form_guard],
        # The largest form (a client record) is a few tens of kilobytes; anything far past it is refused unread.
        request_max_body_size=1024 * 1024,
        middleware=[RequestTimerMiddleware(), DeferredWritesMiddleware(), SessionMiddleware()],
        before_send=[security_headers],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name=csrf_cookie_name(production=settings.is_production),
            cookie_secure=settings.is_production,
            cookie_httponly=True,
            cookie_samesite="lax",
        ),
        template_config=template_config(development=debug),
        compression_config=compression(),
        exception_handlers=handlers,
        lifespan=[lifespan],
        logging_config=LoggingConfig(
            root={"level": "INFO", "handlers": ["queue_listener"]},
            formatters={"standard": {"format": "%(message)s"}},
            # The request lines are written straight to stderr, as uvicorn writes its access log: through the
            # queue each line woke the listener thread, which then competed with the event loop for the
            # interpreter (measured: about 115 us of CPU a line that way, 40 us written directly).
            loggers={"kinward.request": {"level": "INFO", "handlers": ["console"], "propagate": False}},
            # Unhandled errors are logged with their trace by app.web.errors; a 404 is not an error.
            log_exceptions="never",
        ),
        openapi_config=None,
        debug=debug,
    )
    app.state.settings = settings
    return app


