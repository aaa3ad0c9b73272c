"""Sending the outbox: over SMTP (aiosmtplib), or into the log in development without a server.

`mail_worker` runs in every app process as a lifespan task; `kinward mail send` does one pass.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Awaitable, Callable, Optional, Sequence

import aiosmtplib

from app.mail import services
from app.settings import Settings

log = logging.getLogger("kinward.mail")

WORKER_INTERVAL_SECONDS = 5.0
SMTP_TIMEOUT_SECONDS = 30.0
# Set-password, referral and share links are secrets: once delivered, the outbox keeps only who, when and
# what about. Emails holding a link that opens something without an account: the link is not kept once sent.
REDACT_AFTER_SENDING = frozenset({"family_invitation", "referral_link", "referral_reminder", "share_link"})

Job = Callable[[], Awaitable[object]]


class PermanentFailure(Exception):
    """The server refused this message for good; sending it again would fail the same way."""


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def delivery_mode(settings: Settings) -> str:
    """smtp; log (development and tests without a server); hold (production without a server: kept)."""
    if settings.smtp_host:
        return "smtp"
    return "hold" if settings.is_production else "log"


def email_message(settings: Settings, row: dict) -> EmailMessage:
    """The email of one outbox row: every attempt to send it is the same message, headers included."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = row["to_address"]
    message["Subject"] = row["subject"]
    # RFC 5322: when it was written (queued with its change), not when this attempt was made.
    message["Date"] = format_datetime(row["created_at"])
    domain = parseaddr(settings.smtp_from)[1].rpartition("@")[2] or "localhost"
    # Derived from the row, so a retry after an unclear failure is recognisably the same message; its
    # creation time keeps ids of another database (a restored or reset one) from meeting this one's.
    message["Message-ID"] = f"<kinward.outbox.{row['id']}.{row['created_at']:%Y%m%d%H%M%S%f}@{domain}>"
    # RFC 3834: written by a program, so out-of-office replies and other robots do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row["body"])
    return message


def _is_permanent(error: aiosmtplib.SMTPException) -> bool:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= refused.code < 600 for refused in error.recipients)
    code = getattr(error, "code", None)
    # Authentication failures are a configuration problem, not this message's: keep retrying.
    return (isinstance(error, aiosmtplib.SMTPResponseException) and code is not None and 500 <= code < 600
            and not isinstance(error, aiosmtplib.SMTPAuthenticationError))


async def smtp_deliver(settings: Settings, message: EmailMessage) -> None:
    starttls = {"auto": None, "yes": True, "no": False}[settings.smtp_starttls]
    try:
        await aiosmtplib.send(message, hostname=settings.smtp_host, port=settings.smtp_port,
                              username=settings.smtp_user or None, password=settings.smtp_password or None,
                              start_tls=starttls, timeout=SMTP_TIMEOUT_SECONDS)
    except aiosmtplib.SMTPException as error:
        if _is_permanent(error):
            raise PermanentFailure(str(error)) from error
        raise


async def outbox_send_due(settings: Settings) -> SendReport:
    """Claim what is due and send it; failures wait for their next attempt, nothing is dropped."""
    report = SendReport()
    mode = delivery_mode(settings)
    if mode == "hold":
        return report
    while True:
        token, rows = await services.outbox_claim()
        if not rows:
            return report
        server_down: Optional[str] = None
        for row in rows:
            if server_down is not None:
                # The server did not answer for the previous message of this batch: it is down.
                await services.outbox_retry_later(outbox_id=row["id"], claim_token=token,
                                                  attempts=row["attempts"], error=server_down)
                report.retrying += 1
                continue
            message = email_message(settings, row)
            try:
                if mode == "smtp":
                    await smtp_deliver(settings, message)
                else:
                    log.info("email (no SMTP server configured) to %s: %s\n%s", row["to_address"],
                             row["subject"], row["body"])
            except PermanentFailure as error:
                log.warning("email %s to %s refused: %s", row["id"], row["to_address"], error)
                await services.outbox_failed(outbox_id=row["id"], claim_token=token, attempts=row["attempts"],
                                             error=str(error))
                report.failed += 1
            except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as error:
                reason = f"{type(error).__name__}: {error}"
                log.warning("email %s not sent, will retry: %s", row["id"], reason)
                await services.outbox_retry_later(outbox_id=row["id"], claim_token=token, attempts=row["attempts"],
                                                  error=reason)
                report.retrying += 1
                if isinstance(error, (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected,
                                      aiosmtplib.SMTPTimeoutError, OSError, asyncio.TimeoutError)):
                    server_down = reason
            else:
                await services.outbox_sent(outbox_id=row["id"], claim_token=token,
                                           redact=row["kind"] in REDACT_AFTER_SENDING)
                report.sent += 1
        if server_down is not None:
            return report


async def mail_pass(settings: Settings, jobs: Sequence[Job] = ()) -> SendReport:
    """One round: the jobs that write mail (escalations, digests), then the outbox."""
    for job in jobs:
        await job()
    return await outbox_send_due(settings)


async def mail_worker(settings: Settings, stop: asyncio.Event, jobs: Sequence[Job] = (),
                      interval: float = WORKER_INTERVAL_SECONDS) -> None:
    """Every few seconds until `stop` is set; an error is logged and the next round tries again."""
    if delivery_mode(settings) == "hold":
        log.warning("KINWARD_SMTP_HOST is not set: emails are kept in the outbox until it is")
    while not stop.is_set():
        try:
            await mail_pass(settings, jobs)
        except Exception:  # a database hiccup must not end the worker for the life of the process
            log.exception("mail round failed; trying again shortly")
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except asyncio.TimeoutError:
            pass


@dataclass
class MailWorker:
    stop: asyncio.Event
    task: asyncio.Task


def mail_worker_start(settings: Settings, jobs: Sequence[Job] = ()) -> MailWorker:
    stop = asyncio.Event()
    task = asyncio.create_task(mail_worker(settings, stop, jobs), name="kinward-mail-worker")
    return MailWorker(stop=stop, task=task)


async def mail_worker_stop(worker: MailWorker) -> None:
    """Let the current round finish (a claimed row is never left half-done by a clean shutdown)."""
    worker.stop.set()
    try:
        await asyncio.wait_for(worker.task, timeout=SMTP_TIMEOUT_SECONDS + 5)
    except asyncio.TimeoutError:
        worker.task.cancel()
