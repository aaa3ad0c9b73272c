"""The mail worker every app process runs: it writes what is due, sends the outbox, and stops cleanly."""

from __future__ import annotations

import asyncio

from app.mail.sender import mail_worker_start, mail_worker_stop
from app.mail.services import outbox_enqueue
from app.mail.tables import Outbox
from tests.conftest import settings_for_tests


async def test_the_worker_runs_its_jobs_sends_the_outbox_and_stops():
    ran = []

    async def job() -> None:
        ran.append(True)
        if len(ran) == 1:
            await outbox_enqueue(kind="test", to_address="a@example.org", subject="Hi", body="Written by a job")

    worker = mail_worker_start(settings_for_tests(env="development"), jobs=(job,))
    for _ in range(100):
        if await Outbox.exists().where(Outbox.status == "sent").run():
            break
        await asyncio.sleep(0.05)
    await mail_worker_stop(worker)
    assert ran and worker.task.done()
    assert (await Outbox.select(Outbox.status).first().run())["status"] == "sent"


async def test_a_failing_round_does_not_end_the_worker():
    rounds = []

    async def flaky() -> None:
        rounds.append(True)
        if len(rounds) == 1:
            raise RuntimeError("database went away for a moment")

    from app.mail import sender

    worker = sender.MailWorker(stop=asyncio.Event(), task=None)  # type: ignore[arg-type]
    worker.task = asyncio.create_task(sender.mail_worker(settings_for_tests(env="development"), worker.stop,
                                                         (flaky,), interval=0.01))
    for _ in range(100):
        if len(rounds) >= 3:
            break
        await asyncio.sleep(0.02)
    await mail_worker_stop(worker)
    assert len(rounds) >= 3
