"""The outbox and its sender, against a real SMTP server that goes down and comes back."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from app import db
from app.mail.sender import outbox_send_due
from app.mail.services import CLAIM_LEASE, outbox_claim, outbox_enqueue, retry_delay
from app.mail.tables import Outbox
from tests.conftest import settings_for_tests
from tests.mail.smtp import SMTPServer


@pytest.fixture
def smtp():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


def smtp_settings(server: SMTPServer, **overrides):
    return settings_for_tests(smtp_host="127.0.0.1", smtp_port=server.port,
                              smtp_from="Riverside Care <care@riverside.example>", **overrides)


async def queue(n: int, prefix: str = "person") -> list[int]:
    return [await outbox_enqueue(kind="test", to_address=f"{prefix}{i}@example.org", subject=f"Subject {i}",
                                 body=f"Body {i}") for i in range(n)]


def test_retries_wait_longer_each_time_up_to_an_hour():
    assert retry_delay(attempts=1) == timedelta(seconds=30)
    assert retry_delay(attempts=2) == timedelta(minutes=1)
    assert retry_delay(attempts=3) == timedelta(minutes=2)
    assert retry_delay(attempts=8) == timedelta(hours=1)
    assert retry_delay(attempts=500) == timedelta(hours=1)


async def test_queued_mail_is_delivered_by_smtp(smtp):
    await queue(2)
    report = await outbox_send_due(smtp_settings(smtp))
    assert (report.sent, report.retrying, report.failed) == (2, 0, 0)
    assert sorted(m["To"] for m in smtp.inbox.messages) == ["person0@example.org", "person1@example.org"]
    message = smtp.inbox.to("person0@example.org")[0]
    assert message["Subject"] == "Subject 0" and message["From"] == "Riverside Care <care@riverside.example>"
    assert message.get_payload(decode=True).decode().strip() == "Body 0"
    rows = await Outbox.select().run()
    assert {r["status"] for r in rows} == {"sent"} and all(r["attempts"] == 1 for r in rows)


async def test_mail_queued_while_the_server_is_down_goes_out_when_it_is_back(smtp, fake_clock):
    settings = smtp_settings(smtp)
    await queue(1, prefix="before")
    assert (await outbox_send_due(settings)).sent == 1

    smtp.stop()
    await queue(3, prefix="during")
    report = await outbox_send_due(settings)
    assert (report.sent, report.retrying) == (0, 3)
    waiting = await Outbox.select().where(Outbox.status == "pending").run()
    assert len(waiting) == 3
    assert all(r["attempts"] == 1 and r["last_error"] and r["next_attempt_at"] > fake_clock.now for r in waiting)

    fake_clock.advance(seconds=30)
    report = await outbox_send_due(settings)  # still down: the second attempt fails too, and waits longer
    assert report.retrying == 3
    assert {r["attempts"] for r in await Outbox.select().where(Outbox.status == "pending").run()} == {2}

    smtp.start()
    assert (await outbox_send_due(settings)).sent == 0  # not due yet: a minute after the second failure
    fake_clock.advance(minutes=1)
    assert (await outbox_send_due(settings)).sent == 3
    assert sorted(m["To"] for m in smtp.inbox.messages) == [
        "before0@example.org", "during0@example.org", "during1@example.org", "during2@example.org"]
    assert await Outbox.count().where(Outbox.status != "sent").run() == 0


async def test_a_server_failing_in_the_middle_of_a_batch_loses_nothing(smtp, fake_clock):
    settings = smtp_settings(smtp)
    smtp.inbox.refuse["flaky1@example.org"] = "451 Try again later"
    await queue(3, prefix="flaky")
    report = await outbox_send_due(settings)
    assert (report.sent, report.retrying) == (2, 1)
    del smtp.inbox.refuse["flaky1@example.org"]
    fake_clock.advance(seconds=31)
    assert (await outbox_send_due(settings)).sent == 1
    assert sorted(m["To"] for m in smtp.inbox.messages) == [f"flaky{i}@example.org" for i in range(3)]


async def test_a_recipient_refused_for_good_is_kept_as_failed_and_not_retried(smtp, fake_clock):
    settings = smtp_settings(smtp)
    smtp.inbox.refuse["nobody@example.org"] = "550 No such user here"
    await outbox_enqueue(kind="test", to_address="nobody@example.org", subject="Hi", body="Hello")
    report = await outbox_send_due(settings)
    assert report.failed == 1
    row = await Outbox.select().first().run()
    assert row["status"] == "failed" and "550" in row["last_error"]
    fake_clock.advance(hours=2)
    assert (await outbox_send_due(settings)).failed == 0


async def test_two_senders_at_once_send_each_email_once(smtp):
    settings = smtp_settings(smtp)
    await queue(30)
    reports = await asyncio.gather(outbox_send_due(settings), outbox_send_due(settings))
    assert sum(r.sent for r in reports) == 30
    assert len(smtp.inbox.messages) == 30
    assert len({m["To"] for m in smtp.inbox.messages}) == 30


async def test_a_claim_whose_sender_died_is_taken_over_after_the_lease(smtp, fake_clock):
    settings = smtp_settings(smtp)
    await queue(1)
    token, rows = await outbox_claim()  # a sender that crashed before sending
    assert len(rows) == 1
    assert (await outbox_send_due(settings)).sent == 0
    fake_clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)
    assert (await outbox_send_due(settings)).sent == 1
    assert len(smtp.inbox.messages) == 1


async def test_without_a_server_development_mail_is_written_to_the_log(caplog):
    await queue(1)
    with caplog.at_level(logging.INFO, logger="kinward.mail"):
        report = await outbox_send_due(settings_for_tests(env="development"))
    assert report.sent == 1
    assert "person0@example.org" in caplog.text and "Body 0" in caplog.text


async def test_without_a_server_production_keeps_mail_in_the_outbox():
    await queue(1)
    report = await outbox_send_due(settings_for_tests(env="production"))
    assert report.sent == 0
    assert (await Outbox.select(Outbox.status).first().run())["status"] == "pending"


async def test_subjects_cannot_carry_extra_headers():
    await outbox_enqueue(kind="test", to_address="a@example.org", subject="Hi\r\nBcc: evil@example.org", body="x")
    assert (await Outbox.select(Outbox.subject).first().run())["subject"] == "Hi Bcc: evil@example.org"


async def test_every_email_has_a_date_a_message_id_and_says_it_was_sent_automatically(smtp):
    """Read back by the standard library's parser as the server received them: no header defects."""
    await queue(2)
    assert (await outbox_send_due(smtp_settings(smtp))).sent == 2
    rows = {row["to_address"]: row for row in await Outbox.select().run()}
    ids = set()
    for message in smtp.inbox.parsed():
        assert all(not message[name].defects for name in ("Date", "Message-ID", "Auto-Submitted", "From", "To"))
        written = db.as_utc(rows[message["To"]]["created_at"])
        assert message["Date"].datetime == written.replace(microsecond=0)
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Message-ID"].endswith("@riverside.example>")
        ids.add(message["Message-ID"])
    assert len(ids) == 2


async def test_a_retried_email_is_the_same_message_with_the_same_id_and_date(smtp, fake_clock):
    """The server took the message and then answered "try again": the retry can be recognised as a duplicate."""
    settings = smtp_settings(smtp)
    await queue(1)
    smtp.inbox.defer = 1
    assert (await outbox_send_due(settings)).retrying == 1
    fake_clock.advance(minutes=1)
    assert (await outbox_send_due(settings)).sent == 1
    [first], [retry] = smtp.inbox.parsed(smtp.inbox.deferred), smtp.inbox.parsed()
    assert retry["Message-ID"] == first["Message-ID"] and retry["Date"] == first["Date"]
